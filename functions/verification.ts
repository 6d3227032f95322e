/**
 * Verification: match the family against the PKH graduation registry and the program
 * rules. The result and its explanation are recorded on the case either way; an
 * ineligible family then throws IneligibleError so the journey closes it.
 */
import { z } from 'zod';
import { Personal } from '#domain/case';
import { assessEligibility } from '#domain/eligibility';
import { IneligibleError } from '#domain/errors';
import { taskHandler } from '#domain/handler';
import { programFor } from '#domain/program';
import { unseal } from '#domain/secrets';
import { getCase, getRegistryEntry, updateCase } from '#domain/store';

export const handler = taskHandler('verification', z.object({ caseId: z.string().min(1) }), async ({ caseId }) => {
  const c = await getCase(caseId);
  const config = programFor(c.programYear);
  const personal = Personal.parse(unseal(c.personal));
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
