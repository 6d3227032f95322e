/**
 * Verification: match the family against the PKH graduation registry and the program
 * rules. The result and its explanation are recorded on the case either way; an
 * ineligible family then throws IneligibleError so the journey closes it.
 */
import { Personal } from '#domain/case';
import { assessEligibility } from '#domain/eligibility';
import { IneligibleError } from '#domain/errors';
import { programFor } from '#domain/program';
import * as z from '#domain/zod';
import { taskHandler } from '#lib/handler';
import { unseal } from '#lib/secrets';
import { getCase, updateCase } from '#store/cases';
import { getRegistryEntry } from '#store/registry';

export const handler = taskHandler('verification', z.object({ caseId: z.string().check(z.minLength(1)) }), async ({ caseId }) => {
  const c = await getCase(caseId);
  const config = programFor(c.programYear);
  const personal = z.parse(Personal, unseal(c.personal));
  const now = new Date();
  const assessment = assessEligibility(
    {
      registry: await getRegistryEntry(c.nikHash),
      birthDate: personal.tanggalLahir,
      businessMonths: c.business.months,
      programYear: c.programYear,
      today: now,
    },
    config,
  );
  const verification = { ...assessment, ruleVersion: config.version, at: now.toISOString() };
  await updateCase(caseId, {
    expectStage: 'verification',
    set: { verification },
    stage: assessment.eligible ? 'grant-approval' : undefined,
  });
  if (!assessment.eligible) throw new IneligibleError(assessment.reasons);
  return { eligible: true };
});
