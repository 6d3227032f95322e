/**
 * A spreadsheet as district officers produce it, read as a stream of rows: a header row
 * and then records numbered the way a person sees them. One entry point, `openSheet`,
 * recognises the file from its bytes (never from its name, which officers and other
 * systems get wrong) and gives every format the same `Sheet`:
 *   - XLSX (zip): the sheet named `usulan`, else the first visible sheet, streamed with
 *     exceljs (sheet-xlsx.ts); rows keep the sheet's own numbers;
 *   - text: CSV with `,` `;` or tab (detected), UTF-8 with or without BOM, UTF-16 LE/BE
 *     (Excel's "Unicode text"), Windows-1252 when the text is not UTF-8 (sheet-csv.ts,
 *     sheet-encoding.ts); rows numbered from the first line, blank lines counted;
 *   - anything else (old .xls, PDF, images, web pages, other binaries) is a FileProblem
 *     that says what the file is and how to save it instead (sheet-source.ts).
 * The checks and reports built on top never ask which format a row came from, except
 * through `kinds`: a 16-digit number that sat in a numeric cell has lost its last digit.
 */
import { openCsv } from './sheet-csv.ts';
import { SheetError, sheetProblems } from './sheet-problems.ts';
import { openSource, recognise } from './sheet-source.ts';

export { detectSeparator } from './sheet-csv.ts';
export { parseDate, serialToIsoDate } from './sheet-dates.ts';
export {
  type ColumnSpec,
  cellsByName,
  columnLetter,
  type HeaderMatch,
  matchColumns,
  matchHeader,
  normalizeHeader,
} from './sheet-header.ts';
export { type FileProblem, SheetError, sheetProblems } from './sheet-problems.ts';

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

/**
 * Opens a spreadsheet: reads just enough to recognise the format and the header, then
 * streams the rest. Throws SheetError when the file cannot be a spreadsheet at all;
 * iterating `rows` throws SheetError when it breaks further down (a damaged CSV, a
 * limit passed) and passes failures of the source itself (a dropped connection) through
 * unchanged, so they can be retried.
 */
export async function openSheet(input: SheetInput, opts: SheetOptions = {}): Promise<Sheet> {
  const resolved: ResolvedSheetOptions = {
    maxRows: opts.maxRows ?? SHEET_LIMITS.maxRows,
    maxBytes: opts.maxBytes ?? SHEET_LIMITS.maxBytes,
    sheetName: opts.sheetName ?? 'usulan',
    ...(opts.isHeader ? { isHeader: opts.isHeader } : {}),
  };
  if (opts.size !== undefined && opts.size > resolved.maxBytes) {
    // Not one byte read: a stream (an S3 body) is let go at once.
    const stream = input as { destroy?: () => void };
    if (typeof stream.destroy === 'function') stream.destroy();
    throw new SheetError(sheetProblems.tooLarge(resolved.maxBytes));
  }
  const source = await openSource(input, resolved.maxBytes);
  try {
    const kind = recognise(source.head, opts.fileName);
    if ('problem' in kind) throw new SheetError(kind.problem);
    if (kind.format === 'xlsx') {
      // Loaded on first use: exceljs is large, and most uploads are CSV.
      const { openXlsx } = await import('./sheet-xlsx.ts');
      return await openXlsx(source, resolved);
    }
    return await openCsv(source, kind.encoding, resolved);
  } catch (e) {
    source.cancel();
    throw e;
  }
}
