/** Grading: pemula / berkembang / maju from the milestone reports, with the reason. */
import { MentoringIncompleteError } from '#domain/errors';
import { gradeBusiness } from '#domain/grading';
import { programFor } from '#domain/program';
import * as z from '#domain/zod';
import { taskHandler } from '#lib/handler';
import { getCase, updateCase } from '#store/cases';

export const handler = taskHandler('grading', z.object({ caseId: z.string().check(z.minLength(1)) }), async ({ caseId }) => {
  const c = await getCase(caseId);
  const config = programFor(c.programYear);
  const result = gradeBusiness(c, config);
  if (!result) throw new MentoringIncompleteError();
  const grade = { grade: result.grade, reason: result.reason, ruleVersion: config.version, at: new Date().toISOString() };
  await updateCase(caseId, { expectStage: 'mentoring', set: { grade }, stage: 'financing-referral' });
  return { grade: result.grade };
});
