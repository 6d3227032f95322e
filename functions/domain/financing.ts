/**
 * Financing referral: the first scheme in the program's ordered list whose rule the
 * family meets (grade, latest monthly revenue, women-led for PNM Mekaar). The config
 * guarantees a fallback scheme that accepts everyone.
 */
import type { Bilingual } from './errors.ts';
import type { Sex } from './nik.ts';
import type { Grade, ProgramConfig } from './program.ts';

export interface SchemeChoice {
  scheme: ProgramConfig['financingSchemes'][number];
  reason: Bilingual;
}

export function chooseScheme(facts: { grade: Grade; monthlyRevenue: number; sex: Sex }, config: ProgramConfig): SchemeChoice {
  for (const scheme of config.financingSchemes) {
    if (!scheme.grades.includes(facts.grade)) continue;
    if (facts.monthlyRevenue < scheme.minMonthlyRevenue) continue;
    if (scheme.womenOnly && facts.sex !== 'P') continue;
    const rupiah = scheme.ceilingRupiah.toLocaleString('id-ID');
    return {
      scheme,
      reason: {
        id: `${scheme.name}: tingkat ${facts.grade}, omzet Rp${facts.monthlyRevenue.toLocaleString('id-ID')}/bulan${scheme.womenOnly ? ', usaha dipimpin perempuan' : ''}; plafon Rp${rupiah}`,
        en: `${scheme.name}: grade ${facts.grade}, revenue Rp${facts.monthlyRevenue.toLocaleString('id-ID')}/month${scheme.womenOnly ? ', women-led business' : ''}; ceiling Rp${rupiah}`,
      },
    };
  }
  // ProgramConfig's refine() guarantees a fallback; reaching here means the config changed under us.
  throw new Error(`program ${config.version} has no financing scheme for grade ${facts.grade}`);
}
