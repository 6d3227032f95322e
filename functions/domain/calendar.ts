/**
 * Calendar days (`YYYY-MM-DD`), computed in UTC: a birth date has no time zone, and a
 * date read through local time would move by a day on a machine west or east of UTC.
 * Arithmetic, not `Date`: these run for every row of every file, several times.
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
export function isoOfEpochDays(days: number): string {
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
