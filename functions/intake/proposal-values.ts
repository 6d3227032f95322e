/**
 * Values as officers type them: phone numbers, rupiah amounts, sex, months. Each parser
 * returns the normalised value, or undefined for the row check to name the problem.
 */
import type { Sex } from '#domain/nik';
import { isScientificNotation } from '#domain/nik';

/** `08…`, `62…`, `+62…` (and `8…`, which is what Excel leaves of `08…`) → `+628…`; spaces, dashes, dots and brackets ignored. */
export function normalizePhone(raw: string): string | undefined {
  if (isScientificNotation(raw)) return undefined;
  let s = raw
    .trim()
    .replace(/^['\u2018\u2019`]/, '')
    .replace(/[\s().-]/g, '');
  if (s.startsWith('+62')) s = s.slice(3);
  else if (s.startsWith('62')) s = s.slice(2);
  // `+62 (0)812…` writes the trunk zero too.
  s = s.replace(/^0/, '');
  return /^8\d{8,11}$/.test(s) ? `+62${s}` : undefined;
}

function rupiah(whole: string, fraction: string | undefined): number | undefined {
  const value = Math.round(Number(whole) + (fraction ? Number(`0.${fraction}`) : 0));
  return Number.isSafeInteger(value) ? value : undefined;
}

/**
 * Rupiah as typed: `1500000`, `1.500.000`, `1,500,000`, `Rp 1.500.000`, `Rp1.500.000,00`,
 * `Rp 1.500.000,-`. A separator followed by exactly three digits groups thousands;
 * one or two digits after the last separator are cents (rounded away).
 */
export function parseRupiah(raw: string): number | undefined {
  const s = raw
    .trim()
    .replace(/^(rp\.?|idr)/i, '')
    .replace(/\s/g, '')
    .replace(/[.,]-$/, '');
  if (/^\d+$/.test(s)) return rupiah(s, undefined);
  const dots = /^(\d{1,3}(?:\.\d{3})+)(?:,(\d{1,2}))?$/.exec(s);
  if (dots?.[1]) return rupiah(dots[1].replace(/\./g, ''), dots[2]);
  const commas = /^(\d{1,3}(?:,\d{3})+)(?:\.(\d{1,2}))?$/.exec(s);
  if (commas?.[1]) return rupiah(commas[1].replace(/,/g, ''), commas[2]);
  const decimal = /^(\d+)[.,](\d{1,2})$/.exec(s);
  if (decimal?.[1]) return rupiah(decimal[1], decimal[2]);
  return undefined;
}

/** An amount from a number cell: whatever its display format, the number is the rupiah. */
export function rupiahOfNumber(raw: string): number | undefined {
  const n = Number(raw);
  return Number.isFinite(n) && n >= 0 && Number.isSafeInteger(Math.round(n)) ? Math.round(n) : undefined;
}

const SEXES = new Map<string, Sex>([
  ['l', 'L'],
  ['lk', 'L'],
  ['laki-laki', 'L'],
  ['laki laki', 'L'],
  ['laki', 'L'],
  ['pria', 'L'],
  ['p', 'P'],
  ['pr', 'P'],
  ['perempuan', 'P'],
  ['wanita', 'P'],
]);

/** `L`/`P` as the template asks, and the words and abbreviations forms use (`Lk`, `Pr`, `Laki-laki`, `Wanita`). */
export function parseSex(raw: string): Sex | undefined {
  return SEXES.get(raw.trim().toLowerCase().replace(/\.$/, ''));
}

/** Whole months, as a number or with the unit written after it (`18`, `18 bulan`, `18 bln`). */
export function parseMonths(raw: string): number | undefined {
  const m = /^(\d{1,4})(?:\s*(?:bulan|bln\.?))?$/i.exec(raw);
  return m ? Number(m[1]) : undefined;
}
