/**
 * Verification: the program rules applied to one family. Pure: the handler gathers the
 * facts (registry entry, birth date, business) and records what this returns. Every
 * rule adds an explanation line, passed or not, so the approver sees why.
 */
import type { Bilingual } from './errors.ts';
import { ageOn } from './nik.ts';
import type { ProgramConfig } from './program.ts';
import type { RegistryEntry } from './registry-entry.ts';

export type IneligibleReason =
  | 'NOT_IN_PKH_REGISTRY'
  | 'NOT_GRADUATED'
  | 'DECILE_NOT_ALLOWED'
  | 'OVER_AGE_LIMIT'
  | 'NO_BUSINESS_STARTUP'
  | 'PREVIOUS_RECIPIENT';

export interface EligibilityFacts {
  registry: RegistryEntry | undefined;
  birthDate: string;
  businessMonths: number;
  programYear: number;
  today: Date;
}

export interface Assessment {
  eligible: boolean;
  reasons: IneligibleReason[];
  explanation: Bilingual[];
}

export function assessEligibility(facts: EligibilityFacts, config: ProgramConfig): Assessment {
  const reasons: IneligibleReason[] = [];
  const explanation: Bilingual[] = [];
  const fail = (reason: IneligibleReason, text: Bilingual) => {
    reasons.push(reason);
    explanation.push({ id: `✗ ${text.id}`, en: `✗ ${text.en}` });
  };
  const pass = (text: Bilingual) => explanation.push({ id: `✓ ${text.id}`, en: `✓ ${text.en}` });

  const r = facts.registry;
  if (!r) {
    fail('NOT_IN_PKH_REGISTRY', {
      id: 'Tidak ditemukan dalam data graduasi PKH',
      en: 'Not found in the PKH graduation registry',
    });
  } else {
    if (r.graduatedOn) {
      pass({ id: `Graduasi PKH pada ${r.graduatedOn}`, en: `Graduated from PKH on ${r.graduatedOn}` });
    } else {
      fail('NOT_GRADUATED', { id: 'Belum graduasi dari PKH', en: 'Has not graduated from PKH' });
    }
    const allowed = config.eligibility.allowedDeciles.join(', ');
    if (config.eligibility.allowedDeciles.includes(r.decile)) {
      pass({ id: `Desil ${r.decile} (yang diizinkan: ${allowed})`, en: `Decile ${r.decile} (allowed: ${allowed})` });
    } else {
      fail('DECILE_NOT_ALLOWED', {
        id: `Desil ${r.decile} di luar desil yang diizinkan (${allowed})`,
        en: `Decile ${r.decile} is outside the allowed deciles (${allowed})`,
      });
    }
    if (r.previousGrantYear !== undefined && r.previousGrantYear !== facts.programYear) {
      fail('PREVIOUS_RECIPIENT', {
        id: `Sudah menerima bantuan Prokus tahun ${r.previousGrantYear}`,
        en: `Already received a Prokus grant in ${r.previousGrantYear}`,
      });
    } else {
      pass({ id: 'Belum pernah menerima bantuan Prokus', en: 'Has not received a Prokus grant before' });
    }
  }

  const age = ageOn(facts.birthDate, facts.today);
  const limit = config.eligibility.ageLimit;
  if (age < limit) {
    pass({ id: `Usia ${age} tahun (batas di bawah ${limit})`, en: `Age ${age} (limit: under ${limit})` });
  } else {
    fail('OVER_AGE_LIMIT', { id: `Usia ${age} tahun, batas di bawah ${limit}`, en: `Age ${age}, the limit is under ${limit}` });
  }

  const minMonths = config.eligibility.minBusinessMonths;
  if (facts.businessMonths >= minMonths) {
    pass({
      id: `Rintisan usaha berjalan ${facts.businessMonths} bulan (minimal ${minMonths})`,
      en: `Business start-up running for ${facts.businessMonths} months (minimum ${minMonths})`,
    });
  } else {
    fail('NO_BUSINESS_STARTUP', {
      id: `Rintisan usaha belum berjalan minimal ${minMonths} bulan`,
      en: `No business start-up running for at least ${minMonths} months`,
    });
  }
  return { eligible: reasons.length === 0, reasons, explanation };
}
