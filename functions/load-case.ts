/** LoadCase: registers this run on the case and returns where the case stands. */
import { type Case, summarize } from '#domain/case';
import { StageConflictError } from '#domain/errors';
import * as z from '#domain/zod';
import { taskHandler } from '#lib/handler';
import { getCase, updateCase } from '#store/cases';

/** A decision moves a case at most a few stages while one run reads it; more means something else is wrong. */
const ATTEMPTS = 5;

export const handler = taskHandler(
  'load-case',
  z.object({ caseId: z.string().check(z.minLength(1)), executionName: z.string().check(z.minLength(1)) }),
  async ({ caseId }) => summarize(await registerRun(caseId)),
);

/**
 * Counts this run on the case (operators see restarts) at the stage it reads. A decision
 * recorded between the read and the write (a restarted journey and an approver's POST at
 * the same moment) moves the stage: the write then fails its stage condition, and the run
 * reads the case again and counts itself at the new stage, so both succeed in any order.
 */
async function registerRun(caseId: string): Promise<Case> {
  for (let attempt = 1; ; attempt++) {
    const c = await getCase(caseId);
    if (c.stage === 'closed') return c;
    try {
      return await updateCase(caseId, { expectStage: c.stage, set: { journeyRuns: c.journeyRuns + 1 } });
    } catch (e) {
      if (!(e instanceof StageConflictError) || attempt >= ATTEMPTS) throw e;
    }
  }
}
