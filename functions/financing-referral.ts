/** FinancingReferral: choose the scheme by the program's rules and record the referral. */
import { Personal } from '#domain/case';
import { chooseScheme } from '#domain/financing';
import { latestReport } from '#domain/grading';
import { programFor } from '#domain/program';
import * as z from '#domain/zod';
import { taskHandler } from '#lib/handler';
import { unseal } from '#lib/secrets';
import { getCase, updateCase } from '#store/cases';

const Input = z.object({ caseId: z.string().check(z.minLength(1)) });

export const handler = taskHandler('financing-referral', Input, async ({ caseId }) => {
  const c = await getCase(caseId);
  if (c.referral) return { scheme: c.referral.scheme };
  if (!c.grade) throw new Error(`case ${caseId} reached financing referral without a grade`);
  const config = programFor(c.programYear);
  const sex = z.parse(Personal, unseal(c.personal)).jenisKelamin;
  const monthlyRevenue = latestReport(c, config)?.monthlyRevenue ?? c.business.monthlyRevenue;
  const { scheme, reason } = chooseScheme({ grade: c.grade.grade, monthlyRevenue, sex }, config);
  const referral = {
    scheme: scheme.id,
    schemeName: scheme.name,
    ceilingRupiah: scheme.ceilingRupiah,
    reason,
    ruleVersion: config.version,
    at: new Date().toISOString(),
  };
  await updateCase(caseId, { expectStage: 'financing-referral', set: { referral } });
  return { scheme: scheme.id };
});
