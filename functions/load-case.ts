/**
 * LoadCase: registers this run on the case and returns where the case stands, and the
 * grant approval level it waits on (the first level without a recorded approval), so a
 * restarted journey asks the right level's approver.
 */
import { type Case, summarize } from '#domain/case';
import { StageConflictError } from '#domain/errors';
import { programFor } from '#domain/program';
import * as z from '#domain/zod';
import { taskHandler } from '#lib/handler';
import { getCase, updateCase } from '#store/cases';

/** A decision moves a case at most a few stages while one run reads it; more means something else is wrong. */
const ATTEMPTS = 5;

export const handler = taskHandler(
  'load-case',
  z.object({ caseId: z.string().check(z.minLength(1)), executionName: z.string().check(z.minLength(1)) }),
  async ({ caseId }) => {
    const c = await registerRun(caseId);
    return { ...summarize(c), approvalLevel: approvalLevelOf(c) };
  },
);

/** The first approval level without a recorded approval (the last, for a case that has them all). */
function approvalLevelOf(c: Case): string {
  const levels = programFor(c.programYear).approvalLevels;
  const approved = new Set((c.approvals ?? []).filter((a) => a.decision === 'approved').map((a) => a.level));
  const waiting = levels.find((l) => !approved.has(l.id)) ?? levels.at(-1);
  if (!waiting) throw new Error(`program ${c.programYear} has no approval levels`);
  return waiting.id;
}

/**
 * Counts this run on the case (operators see restarts) at the stage it reads, and clears
 * the failure of the run before it. A decision
 * recorded between the read and the write (a restarted journey and an approver's POST at
 * the same moment) moves the stage: the write then fails its stage condition, and the run
 * reads the case again and counts itself at the new stage, so both succeed in any order.
 */
async function registerRun(caseId: string): Promise<Case> {
  for (let attempt = 1; ; attempt++) {
    const c = await getCase(caseId);
    if (c.stage === 'closed') return c;
    try {
      // A failure the last run left is over once a new run goes on from the stage (the
      // execution that failed keeps it in its history; the funnel stops counting it).
      return await updateCase(caseId, {
        expectStage: c.stage,
        set: (current) => ({ journeyRuns: current.journeyRuns + 1 }),
        remove: c.failure ? ['failure'] : [],
      });
    } catch (e) {
      if (!(e instanceof StageConflictError) || attempt >= ATTEMPTS) throw e;
    }
  }
}
