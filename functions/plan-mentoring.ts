/**
 * PlanMentoring: the milestones of the program's plan still to come for this case —
 * neither reported nor missed — in plan order. A restarted journey therefore resumes
 * mentoring at the first open milestone.
 */
import { programFor } from '#domain/program';
import * as z from '#domain/zod';
import { taskHandler } from '#lib/handler';
import { getCase } from '#store/cases';

const Input = z.object({ caseId: z.string().check(z.minLength(1)) });

export const handler = taskHandler('plan-mentoring', Input, async ({ caseId }) => {
  const c = await getCase(caseId);
  const pending = programFor(c.programYear)
    .milestones.filter((m) => !c.milestones[m.id])
    .map((m) => ({ milestoneId: m.id }));
  return { pending };
});
