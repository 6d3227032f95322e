/**
 * What every format does the same way once it yields rows: skip blank rows (still
 * counted, so numbers match what the officer sees), find the header (the first
 * non-blank row, or the first one the caller recognises, below a title), and stop at
 * the row limit.
 */

import { SheetError, sheetProblems } from './problems.ts';
import type { ResolvedSheetOptions, SheetRow } from './types.ts';

/** How far down a title may push the header. */
const HEADER_SEARCH_ROWS = 10;

export function isBlank(cells: readonly string[]): boolean {
  for (const c of cells) if (c.trim() !== '') return false;
  return true;
}

export interface Framed {
  header: SheetRow;
  rows: AsyncGenerator<SheetRow>;
}

/**
 * Splits raw rows into the header and the data rows. `undefined` when there is no
 * non-blank row at all. `release` runs when the data rows end, however they end.
 */
export async function frame(
  raw: AsyncIterator<SheetRow>,
  opts: ResolvedSheetOptions,
  release: () => void,
): Promise<Framed | undefined> {
  const { maxBlankRows, maxColumns } = opts.limits;
  let blank = 0;
  /** Whether a row is blank; throws past the blank-row or column limit. */
  const blankRow = (r: SheetRow): boolean => {
    if (r.cells.length > maxColumns) throw new SheetError(sheetProblems.tooManyColumns(maxColumns, r.row));
    if (!isBlank(r.cells)) return false;
    blank += 1;
    if (blank > maxBlankRows) throw new SheetError(sheetProblems.tooManyBlankRows(maxBlankRows));
    return true;
  };
  const leading: SheetRow[] = [];
  let headerAt = -1;
  while (leading.length < (opts.isHeader ? HEADER_SEARCH_ROWS : 1)) {
    let next: IteratorResult<SheetRow>;
    try {
      next = await raw.next();
      if (next.done) break;
      if (blankRow(next.value)) continue;
    } catch (e) {
      release();
      throw e;
    }
    leading.push(next.value);
    if (opts.isHeader?.(next.value.cells)) {
      headerAt = leading.length - 1;
      break;
    }
  }
  if (headerAt < 0) headerAt = 0;
  const header = leading[headerAt];
  if (!header) {
    release();
    return undefined;
  }
  const buffered = leading.slice(headerAt + 1);
  async function* rows(): AsyncGenerator<SheetRow> {
    let count = 0;
    const counted = (r: SheetRow) => {
      count += 1;
      if (count > opts.maxRows) throw new SheetError(sheetProblems.tooManyRows(opts.maxRows));
      return r;
    };
    try {
      for (const r of buffered) yield counted(r);
      buffered.length = 0;
      for (let next = await raw.next(); !next.done; next = await raw.next()) {
        if (!blankRow(next.value)) yield counted(next.value);
      }
    } finally {
      release();
    }
  }
  return { header, rows: rows() };
}
