/** FinancingReferral: choose the scheme by the program's rules and record the referral. */
import { z } from 'zod';
import { Personal } from '#domain/case';
import { chooseScheme } from '#domain/financing';
import { latestReport } from '#domain/grading';
import { programFor } from '#domain/program';
import { taskHandler } from '#lib/handler';
import { unseal } from '#lib/secrets';
import { getCase, updateCase } from '#store/cases';

export const handler = taskHandler('financing-referral', z.object({ caseId: z.string().min(1) }), async ({ caseId }) => {
  const c = await getCase(caseId);
  if (c.referral) return { scheme: c.referral.scheme };
  if (!c.grade) throw new Error(`case ${caseId} reached financing referral without a grade`);
  const config = programFor(c.programYear);
  const sex = Personal.parse(unseal(c.personal)).jenisKelamin;
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
