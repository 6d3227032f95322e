/**
 * A spreadsheet as district officers produce it, read as a stream of rows: a header row
 * and then records numbered the way a person sees them. One entry point, `openSheet`,
 * recognises the file from its bytes (never from its name, which officers and other
 * systems get wrong) and gives every format the same `Sheet`:
 *   - XLSX (zip): the sheet named `usulan`, else the first visible sheet (xlsx.ts); the
 *     zip is read from memory (at most the size limit; nothing of it goes to disk) and
 *     the sheet's rows are streamed from it; rows keep the sheet's own numbers;
 *   - text: CSV with `,` `;` or tab (detected), UTF-8 with or without BOM, UTF-16 LE/BE
 *     (Excel's "Unicode text"), Windows-1252 when the text is not UTF-8 (csv.ts,
 *     encoding.ts); rows numbered from the first line, blank lines counted;
 *   - anything else (old .xls, PDF, images, web pages, other binaries) is a FileProblem
 *     that says what the file is and how to save it instead (source.ts).
 * The checks and reports built on top never ask which format a row came from, except
 * through `kinds`: a 16-digit number that sat in a numeric cell has lost its last digit.
 * Whatever the file, a read ends: every limit in SHEET_LIMITS (types.ts) bounds its time
 * and memory and, passed, is a SheetError that names it.
 */
import { openCsv } from './csv.ts';
import { SheetError, sheetProblems } from './problems.ts';
import { openSource, recognise } from './source.ts';
import { type ResolvedSheetOptions, SHEET_LIMITS, type Sheet, type SheetInput, type SheetOptions } from './types.ts';

export { detectSeparator } from './csv.ts';
export { parseDate, serialToIsoDate } from './dates.ts';
export {
  type ColumnSpec,
  cellsByName,
  columnLetter,
  type HeaderMatch,
  matchColumns,
  matchHeader,
  normalizeHeader,
} from './header.ts';
export { type FileProblem, SheetError, sheetProblems } from './problems.ts';
export {
  type CellKind,
  type ResolvedSheetOptions,
  type Separator,
  SHEET_LIMITS,
  type Sheet,
  type SheetFormat,
  type SheetInput,
  type SheetLimits,
  type SheetOptions,
  type SheetRow,
} from './types.ts';

/**
 * Opens a spreadsheet: reads just enough to recognise the format and the header, then
 * streams the rest. Throws SheetError when the file cannot be a spreadsheet at all;
 * iterating `rows` throws SheetError when it breaks further down (a damaged CSV, a
 * limit passed) and passes failures of the source itself (a dropped connection) through
 * unchanged, so they can be retried.
 */
export async function openSheet(input: SheetInput, opts: SheetOptions = {}): Promise<Sheet> {
  const limits = {
    ...SHEET_LIMITS,
    ...opts.limits,
    maxRows: opts.maxRows ?? opts.limits?.maxRows ?? SHEET_LIMITS.maxRows,
    maxBytes: opts.maxBytes ?? opts.limits?.maxBytes ?? SHEET_LIMITS.maxBytes,
  };
  const resolved: ResolvedSheetOptions = {
    maxRows: limits.maxRows,
    maxBytes: limits.maxBytes,
    limits,
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
      const { openXlsx } = await import('./xlsx.ts');
      return await openXlsx(source, resolved);
    }
    return await openCsv(source, kind.encoding, resolved);
  } catch (e) {
    source.cancel();
    throw e;
  }
}
