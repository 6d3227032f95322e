/**
 * Dates as officers write them, and as spreadsheets store them. Everything is a calendar
 * day (`YYYY-MM-DD`) computed in UTC: a birth date has no time zone, and a date read
 * through local time would move by a day on a machine west or east of UTC.
 */

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

const isLeapYear = (y: number) => y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);

export function daysInMonth(year: number, month: number): number {
  return month === 2 && isLeapYear(year) ? 29 : (MONTH_DAYS[month - 1] ?? 0);
}

const pad2 = (n: number) => (n < 10 ? `0${n}` : String(n));

/**
 * `YYYY-MM-DD` of a day that exists (years 1000-9999), else undefined. Arithmetic, not
 * `Date`: it runs for every row of every file, several times.
 */
export function isoDate(year: number, month: number, day: number): string | undefined {
  if (!Number.isInteger(year) || year < 1000 || year > 9999 || month < 1 || month > 12 || day < 1) return undefined;
  if (day > daysInMonth(year, month)) return undefined;
  return `${year}-${pad2(month)}-${pad2(day)}`;
}

/** `YYYY-MM-DD` of `days` since 1970-01-01 (proleptic Gregorian; Hinnant's civil_from_days). */
function isoOfEpochDays(days: number): string {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return `${String(year).padStart(4, '0')}-${pad2(month)}-${pad2(day)}`;
}

let todayKey = Number.NaN;
let todayIso = '';

/** The UTC calendar day of `today` (remembered: every row asks). */
export function isoDay(today: Date): string {
  const t = today.getTime();
  if (t !== todayKey) {
    todayKey = t;
    todayIso = today.toISOString().slice(0, 10);
  }
  return todayIso;
}

/**
 * Dates as officers type them: `YYYY-MM-DD`, `DD/MM/YYYY` or `DD-MM-YYYY` (day first,
 * as in Indonesia; one-digit day and month too). Returns `YYYY-MM-DD`, or undefined.
 */
export function parseDate(raw: string): string | undefined {
  const s = raw.trim();
  const iso = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(s);
  if (iso) return isoDate(Number(iso[1]), Number(iso[2]), Number(iso[3]));
  const dmy = /^(\d{1,2})([/-])(\d{1,2})\2(\d{4})$/.exec(s);
  if (dmy) return isoDate(Number(dmy[4]), Number(dmy[3]), Number(dmy[1]));
  return undefined;
}

const DAY_MS = 86_400_000;

/**
 * The calendar day of a spreadsheet date serial. The 1900 system counts 1900-02-29,
 * a day that never was (Lotus 1-2-3's bug, kept by Excel): serials before it are one
 * day off if counted naively, and serial 60 itself is no date (returned as the
 * impossible `1900-02-29`, which parseDate refuses). The 1904 system (old Mac Excel)
 * starts on 1904-01-01. A time of day does not move the date.
 */
export function serialToIsoDate(serial: number, date1904 = false): string | undefined {
  if (!Number.isFinite(serial)) return undefined;
  const days = Math.floor(serial);
  if (!date1904 && days === 60) return '1900-02-29';
  const epochOffset = date1904 ? 24_107 : days < 60 ? 25_568 : 25_569;
  // Excel's own range (1900-01-01 to 9999-12-31) and a little either side.
  if (days < -1 || days > 2_958_465 + 1462) return undefined;
  return isoOfEpochDays(days - epochOffset);
}

/**
 * The serial exceljs read for a date cell it returned as a Date (it counts from
 * 1899-12-30 for every serial, and from 1904-01-01 in the 1904 system).
 */
export function excelDateToSerial(date: Date, date1904 = false): number {
  return date.getTime() / DAY_MS + (date1904 ? 24_107 : 25_569);
}

/**
 * Number formats that show a date (Excel stores dates as numbers; only the format says
 * so): day, month or year codes outside quoted text and `[...]` sections.
 */
export function isDateFormat(format: string | undefined): boolean {
  if (!format) return false;
  const codes = format
    .replace(/\[[^\]]*]/g, '')
    .replace(/"[^"]*"/g, '')
    .replace(/\\./g, '');
  return /[dmy]/i.test(codes);
}
