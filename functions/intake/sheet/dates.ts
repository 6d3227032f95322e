/**
 * Dates as officers write them, and as spreadsheets store them (serial numbers, date
 * formats). The calendar arithmetic underneath is the domain's (calendar.ts).
 */
import { isoDate, isoOfEpochDays } from '#domain/calendar';

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
