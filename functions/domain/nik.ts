/**
 * NIK (Nomor Induk Kependudukan) and No. KK rules.
 * NIK layout: PPKKCC DDMMYY SSSS — province, regency/city, sub-district, birth date
 * (day + 40 for women), serial (never 0000). The first four digits are the district's
 * BPS code.
 */
import { isoDate, isoDay } from './calendar.ts';

export type Sex = 'L' | 'P';

export interface NikFacts {
  nik: string;
  district: string;
  birthDate: string; // YYYY-MM-DD
  sex: Sex;
}

export type NikProblem =
  | 'NIK_SCIENTIFIC_NOTATION'
  | 'NIK_NOT_16_DIGITS'
  | 'NIK_DISTRICT_MISMATCH'
  | 'NIK_BIRTH_DATE_INVALID'
  | 'NIK_SERIAL_ZERO';

/**
 * Strips what officers add to keep spreadsheets from damaging the number: a leading
 * apostrophe (word processors turn it into a typographic one), spaces, dots, dashes,
 * and the invisible characters a number copied from a web page or a chat brings along.
 */
export function cleanIdNumber(raw: string): string {
  if (raw.length === 16 && /^\d{16}$/.test(raw)) return raw;
  return raw
    .replace(/[\u200b-\u200d\u2060\ufeff]/g, '')
    .trim()
    .replace(/^['\u2018\u2019`]/, '')
    .replace(/[\s.-]/g, '');
}

/**
 * What a spreadsheet writes when it stored a long number in a numeric cell:
 * `3.21012E+15`, or `3,21012E+15` where the decimal separator is a comma (Indonesian
 * locale). The digits are lost; only the officer can restore them.
 */
export function isScientificNotation(raw: string): boolean {
  return /^['\u2018\u2019`]?\s*\d+([.,]\d+)?\s*e\s*[+-]?\d+$/i.test(raw.trim());
}

/**
 * Two-digit years: the latest century that does not put the birth date in the future
 * (a NIK born "in the future" in the 2000s belongs to someone born in the 1900s).
 * Calendar arithmetic, not `Date`: this runs for every row of every file.
 */
export function parseNik(
  raw: string,
  district: string,
  today: Date = new Date(),
): { ok: true; value: NikFacts } | { ok: false; problem: NikProblem } {
  if (isScientificNotation(raw)) return { ok: false, problem: 'NIK_SCIENTIFIC_NOTATION' };
  const nik = cleanIdNumber(raw);
  if (!/^\d{16}$/.test(nik)) return { ok: false, problem: 'NIK_NOT_16_DIGITS' };
  if (nik.slice(0, 4) !== district) return { ok: false, problem: 'NIK_DISTRICT_MISMATCH' };
  let day = Number(nik.slice(6, 8));
  const month = Number(nik.slice(8, 10));
  const yy = Number(nik.slice(10, 12));
  let sex: Sex = 'L';
  if (day > 40) {
    day -= 40;
    sex = 'P';
  }
  const todayIso = isoDay(today);
  let birthDate = isoDate(2000 + yy, month, day);
  if (birthDate === undefined || birthDate > todayIso) birthDate = isoDate(1900 + yy, month, day);
  if (birthDate === undefined || birthDate > todayIso) return { ok: false, problem: 'NIK_BIRTH_DATE_INVALID' };
  if (nik.slice(12) === '0000') return { ok: false, problem: 'NIK_SERIAL_ZERO' };
  return { ok: true, value: { nik, district, birthDate, sex } };
}

/** `3210********0012`: enough for a person to recognise the record, not to reuse the number. */
export function maskId(id: string): string {
  return `${id.slice(0, 4)}${'*'.repeat(Math.max(0, id.length - 8))}${id.slice(-4)}`;
}

/** Whole years between a birth date and a reference date. */
export function ageOn(birthDate: string, on: Date): number {
  const b = new Date(`${birthDate}T00:00:00Z`);
  let age = on.getUTCFullYear() - b.getUTCFullYear();
  const beforeBirthday =
    on.getUTCMonth() < b.getUTCMonth() || (on.getUTCMonth() === b.getUTCMonth() && on.getUTCDate() < b.getUTCDate());
  if (beforeBirthday) age -= 1;
  return age;
}
