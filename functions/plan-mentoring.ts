/**
 * PlanMentoring: the milestones of the program's plan still to come for this case —
 * neither reported nor missed — in plan order. A restarted journey therefore resumes
 * mentoring at the first open milestone.
 */
import { z } from 'zod';
import { programFor } from '#domain/program';
import { taskHandler } from '#lib/handler';
import { getCase } from '#store/cases';

export const handler = taskHandler('plan-mentoring', z.object({ caseId: z.string().min(1) }), async ({ caseId }) => {
  const c = await getCase(caseId);
  const pending = programFor(c.programYear)
    .milestones.filter((m) => !c.milestones[m.id])
    .map((m) => ({ milestoneId: m.id }));
  return { pending };
});
