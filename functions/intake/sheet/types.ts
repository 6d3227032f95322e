/**
 * The shapes every spreadsheet format shares (a Sheet of SheetRows), the options and
 * the limits. Apart from index.ts so the format readers can use them without importing
 * the entry point that imports them.
 */

export type Separator = ',' | ';' | '\t';

/**
 * What a cell held in the spreadsheet. CSV cells are all text; XLSX cells say what Excel
 * stored, because a number, a date and text that looks like either are not the same
 * thing to an officer's data.
 */
export type CellKind = 'text' | 'number' | 'date' | 'boolean' | 'error';

export interface SheetRow {
  /** Row number in the spreadsheet, as a person sees it (CSV: line of the record, header included). */
  row: number;
  /**
   * Cell text by column (0 = A). Dates from date cells are `YYYY-MM-DD`, numbers are
   * written out in full (`3210014508950010`, never `3.21E+15`), formula cells give their
   * computed value, error cells their code (`#N/A`).
   */
  cells: string[];
  /** Per cell, what the spreadsheet stored; absent when every cell is text (CSV). */
  kinds?: CellKind[];
}

export type SheetFormat = 'csv' | 'xlsx';

export interface Sheet {
  format: SheetFormat;
  header: string[];
  /** Row number of the header (1 unless title or blank rows come first). */
  headerRow: number;
  /** CSV: the file's separator. XLSX: `,`. What a CSV report about this file should use. */
  separator: Separator;
  /** XLSX: the name of the sheet read. */
  sheetName?: string;
  /** Data rows in order; wholly blank rows are skipped but still counted. Single use. */
  rows: AsyncIterable<SheetRow>;
  /** Stops reading (and releases the source) when the rows will not be read to the end. */
  close(): void;
}

export type SheetInput = NodeJS.ReadableStream | string | Uint8Array;

/**
 * Proposal files: a national upload day is about 500 districts, files of up to 100,000
 * families. 100 MiB leaves room for 100,000 rows saved as UTF-16 "Unicode text" (about
 * 60 MB with long addresses); the same rows are 15-20 MB as UTF-8 CSV and about 10 MB as
 * XLSX. Reading is streamed, so these bound time and the officer's mistakes (a whole
 * column of formulas dragged to row 1,048,576), not memory.
 */
export const SHEET_LIMITS = { maxRows: 100_000, maxBytes: 100 * 1024 * 1024 } as const;

export interface SheetOptions {
  /**
   * The file's name, when known. The format is decided from the bytes, never the name
   * (officers rename files); the name only words messages (a web page named `.xls`).
   */
  fileName?: string;
  /** The file's size in bytes when known (S3 ContentLength, fs.stat): too big is refused before reading. */
  size?: number;
  /** Data rows allowed (blank rows not counted); default SHEET_LIMITS.maxRows. `Infinity` for none. */
  maxRows?: number;
  /** Bytes allowed; default SHEET_LIMITS.maxBytes. `Infinity` for none. */
  maxBytes?: number;
  /** XLSX: the sheet to read when the workbook has one of this name (any case); default `usulan`. */
  sheetName?: string;
  /**
   * Recognises the header among the first non-blank rows (officers put a title above the
   * table); rows above it are skipped. Without it, or when no row is recognised, the
   * first non-blank row is the header.
   */
  isHeader?: (cells: string[]) => boolean;
}

export interface ResolvedSheetOptions {
  maxRows: number;
  maxBytes: number;
  sheetName: string;
  isHeader?: (cells: string[]) => boolean;
}
