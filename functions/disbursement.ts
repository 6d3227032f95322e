/**
 * Disbursement: the BSiMU grant (amount from the program config) taken from the district
 * quota and recorded on the case; mentoring starts counting from here. Safe to retry:
 * the quota remembers which cases it granted and the record is written once.
 */
import { QuotaExhaustedError } from '#domain/errors';
import { programFor } from '#domain/program';
import * as z from '#domain/zod';
import { taskHandler } from '#lib/handler';
import { getCase, updateCase } from '#store/cases';
import { takeQuota } from '#store/quota';

export const handler = taskHandler('disbursement', z.object({ caseId: z.string().check(z.minLength(1)) }), async ({ caseId }) => {
  const c = await getCase(caseId);
  const config = programFor(c.programYear);
  const district = config.districts[c.district];
  if (!district) throw new Error(`district ${c.district} is not in program ${config.version}`);
  if (!(await takeQuota(c.district, c.programYear, caseId, district.quota))) {
    throw new QuotaExhaustedError(c.district, c.programYear);
  }
  const at = new Date().toISOString();
  const disbursement = c.disbursement ?? {
    amountRupiah: config.grant.amountRupiah,
    reference: `BSIMU-${caseId}`,
    ruleVersion: config.version,
    at,
  };
  await updateCase(caseId, {
    expectStage: 'disbursement',
    set: { disbursement, mentoringStartedAt: c.mentoringStartedAt ?? at },
    stage: 'mentoring',
  });
  return { amountRupiah: disbursement.amountRupiah };
});
