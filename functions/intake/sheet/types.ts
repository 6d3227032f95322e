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
 * Every limit of the reader, in one place; each one passed is a named SheetError that
 * states it. Together they bound the time and the memory of one read, whatever the file:
 *
 * - `maxBytes`, `maxRows`: a national upload day is about 500 districts, files of up to
 *   100,000 families. 100 MiB leaves room for 100,000 rows saved as UTF-16 "Unicode
 *   text" (about 60 MB with long addresses); the same rows are 15-20 MB as UTF-8 CSV and
 *   about 11 MB as XLSX.
 * - `maxBlankRows`: blank rows are skipped (still counted), but each costs reading; a
 *   sheet formatted down to row 1,048,576 is 1 million of them. More than any officer's
 *   gaps, far less than a file of millions of empty rows takes to read.
 * - `maxColumns`, `maxCellChars`: Excel's own limits (column XFD, 32,767 characters in a
 *   cell). A file past them was not saved by Excel and is no proposal.
 * - XLSX only. The workbook is read from memory (at most `maxBytes`; the zip's directory
 *   is at its end, and nothing of it is written to disk), and only its parts that matter
 *   are inflated, each refused when its size says it is over `maxPartBytes` before a byte
 *   is inflated (the zip reader checks the size said against the bytes inflated).
 *   100,000 proposal rows are about 66 MB of worksheet XML.
 *   `maxSharedStrings` and `maxSharedStringBytes` (UTF-8) bound the shared-string table,
 *   which is kept whole while the sheet is read: of the proposal's columns about seven
 *   hold a text of each family's own (NIK and KK typed as text, name, address, phone,
 *   business), so 100,000 rows hold about 700,000 distinct texts; the limit is twice
 *   that, and reading it takes about 3 s. `maxXmlRun` bounds the characters between two `<` of the XML,
 *   which the XML parser would otherwise gather into one string (1 GiB of whitespace).
 *   `maxZipEntries`: a workbook has a few dozen parts.
 * Peak memory of one XLSX read is about maxBytes + maxSharedStringBytes + 8 bytes per
 * shared string + one row; of a CSV read, one record (at most 1 MiB of text) and one chunk.
 */
export const SHEET_LIMITS = {
  maxRows: 100_000,
  maxBytes: 100 * 1024 * 1024,
  maxBlankRows: 100_000,
  maxColumns: 16_384,
  maxCellChars: 32_767,
  maxPartBytes: 256 * 1024 * 1024,
  maxSharedStrings: 1_500_000,
  maxSharedStringBytes: 128 * 1024 * 1024,
  maxXmlRun: 1024 * 1024,
  maxZipEntries: 10_000,
} as const;

export type SheetLimits = { -readonly [K in keyof typeof SHEET_LIMITS]: number };

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
  /** The other limits (SHEET_LIMITS), each replaceable; tests and tools lower them. */
  limits?: Partial<SheetLimits>;
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
  /** Every limit, maxRows and maxBytes included (the same values as above). */
  limits: SheetLimits;
  sheetName: string;
  isHeader?: (cells: string[]) => boolean;
}
