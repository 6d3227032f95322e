/**
 * Amounts and dates as the people using these pages write and read them. Mentors and
 * lenders type rupiah the way they would on paper ("1.500.000", "Rp 1,500,000",
 * "Rp1.500.000,-", "1,5 juta"); refusing those would only teach them to guess.
 */
import type { Bilingual } from '#domain/errors';

const rupiahFormat = new Intl.NumberFormat('id-ID', { maximumFractionDigits: 0 });

/** "Rp3.500.000": the Indonesian way, shown in both language lines (the amount is the same). */
export function formatRupiah(amount: number): string {
  return `Rp${rupiahFormat.format(amount)}`;
}

const SCALES: Record<string, number> = { juta: 1_000_000, jt: 1_000_000, ribu: 1_000, rb: 1_000, k: 1_000 };

/**
 * Whole rupiah from what a person typed, or undefined when it is not an amount.
 * Accepts thousands grouped with dots or commas (the group separator must be consistent,
 * and an optional ",00"/".00" cents part), plain digits, and "1,5 juta" / "750 ribu".
 * Ambiguous input ("1.50") is refused rather than guessed.
 */
export function parseRupiah(raw: string): number | undefined {
  const text = raw
    .trim()
    .toLowerCase()
    .replace(/^(rp\.?|idr)\s*/, '')
    // "Rp 1.500.000,-": the dash closes an amount on receipts and forms.
    .replace(/[.,]-$/, '')
    .replace(/\s+/g, ' ');
  if (text === '') return undefined;

  const scaled = /^(\d+)(?:[.,](\d{1,2}))? ?(juta|jt|ribu|rb|k)$/.exec(text);
  if (scaled) {
    const [, whole, fraction = '', unit] = scaled;
    const scale = SCALES[unit ?? ''] ?? 1;
    const value = Number(whole) * scale + Math.round((Number(fraction.padEnd(2, '0')) / 100) * scale);
    return safe(value);
  }

  const plain = text.replace(/ /g, '');
  if (/^\d+$/.test(plain)) return safe(Number(plain));
  const grouped = /^(\d{1,3}([.,])\d{3}(?:\2\d{3})*)(?:[.,]00?)?$/.exec(plain);
  if (grouped) {
    const [, digits = '', separator = ''] = grouped;
    // "1.500,00" or "1,500.00": the cents separator must be the other one.
    const cents = plain.slice(digits.length);
    if (cents && cents[0] === separator) return undefined;
    return safe(Number(digits.split(separator).join('')));
  }
  return undefined;
}

function safe(value: number): number | undefined {
  return Number.isSafeInteger(value) ? value : undefined;
}

/*
 * Pages show deadlines in Western Indonesia Time: the 2020 pilot districts are all in
 * WIB. A district in WITA/WIT would need its zone in the program configuration.
 */
const TIME_ZONE = 'Asia/Jakarta';
const idDate = new Intl.DateTimeFormat('id-ID', { dateStyle: 'full', timeStyle: 'short', timeZone: TIME_ZONE });
const enDate = new Intl.DateTimeFormat('en-GB', { dateStyle: 'full', timeStyle: 'short', timeZone: TIME_ZONE });

export function formatDateTime(iso: string): Bilingual {
  const d = new Date(iso);
  return { id: `${idDate.format(d)} WIB`, en: `${enDate.format(d)} WIB` };
}
