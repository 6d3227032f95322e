/** LoadCase: registers this run on the case and returns where the case stands. */
import { summarize } from '#domain/case';
import * as z from '#domain/zod';
import { taskHandler } from '#lib/handler';
import { getCase, updateCase } from '#store/cases';

export const handler = taskHandler(
  'load-case',
  z.object({ caseId: z.string().check(z.minLength(1)), executionName: z.string().check(z.minLength(1)) }),
  async ({ caseId }) => {
    const c = await getCase(caseId);
    if (c.stage === 'closed') return summarize(c);
    // Counting runs lets operators see restarts; the stage condition keeps it a no-op race.
    const updated = await updateCase(caseId, { expectStage: c.stage, set: { journeyRuns: c.journeyRuns + 1 } });
    return summarize(updated);
  },
);
