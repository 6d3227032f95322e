/**
 * Disbursement: the BSiMU grant (amount from the program config) recorded on the case;
 * mentoring starts counting from here. The grant was reserved against the district
 * quota and the national ceiling when the last level's approval was applied; reserveGrant finds that reservation (or, for a
 * case approved before reservations were made at approval, makes it now). Safe to retry:
 * the quota remembers which cases it reserved for and the record is written once.
 */
import { AlreadyGrantedError, QuotaExhaustedError } from '#domain/errors';
import { programFor } from '#domain/program';
import * as z from '#domain/zod';
import { taskHandler } from '#lib/handler';
import { getCase, updateCase } from '#store/cases';
import { reserveGrant } from '#store/quota';

export const handler = taskHandler('disbursement', z.object({ caseId: z.string().check(z.minLength(1)) }), async ({ caseId }) => {
  const c = await getCase(caseId);
  const config = programFor(c.programYear);
  const reservation = await reserveGrant(c);
  if (reservation === 'exhausted') throw new QuotaExhaustedError(c.district, c.programYear);
  if (reservation === 'national-ceiling') throw new QuotaExhaustedError(c.district, c.programYear, 'national');
  if (reservation === 'already-granted') throw new AlreadyGrantedError();
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
