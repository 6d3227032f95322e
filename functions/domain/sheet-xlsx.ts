/**
 * XLSX workbooks, streamed with exceljs's WorkbookReader (never loaded whole): the sheet
 * named `usulan` (any case) if there is one, else the first visible sheet in tab order.
 * Cells keep what Excel stored (text, number, date, boolean, error) so the checks can
 * tell a NIK typed as text from one Excel has already rounded.
 *
 * Two things exceljs 4.4 gets wrong, worked around here through its reader's internal
 * hooks (`_parseSharedStrings`, `_parseWorksheet`; the version is pinned by the lock file
 * and a test reads names back through both):
 *   - it decodes each inflated chunk of XML on its own, so a character whose bytes are
 *     split between two chunks becomes two `�`: `Sutéjo` would arrive damaged about once
 *     every few thousand names. The XML is decoded here, as one stream, before exceljs
 *     parses it.
 *   - in its `cache` mode the shared-string table keeps rich text as objects with fonts;
 *     here it is plain strings, the smallest table that answers every cell.
 * Excel writes worksheets before the shared strings, so exceljs parks each worksheet in a
 * temporary file until the strings are read; reading to the end (also after an early
 * stop, in the background) lets it delete them.
 */
import { Readable } from 'node:stream';
import ExcelJS from 'exceljs';
import type { CellKind, ResolvedSheetOptions, Sheet, SheetRow } from './sheet.ts';
import { excelDateToSerial, isDateFormat, serialToIsoDate } from './sheet-dates.ts';
import { SheetError, sheetProblems } from './sheet-problems.ts';
import { frame } from './sheet-rows.ts';
import type { ByteSource } from './sheet-source.ts';

interface SheetEntry {
  id: number;
  name: string;
  state?: string;
}

/** The parts of exceljs's stream reader used beyond its typed API (exceljs 4.4). */
interface ReaderInternals {
  model?: { sheets?: SheetEntry[] };
  properties?: { model?: { date1904?: boolean } };
  sharedStrings?: string[];
  _parseSharedStrings(entry: NodeJS.ReadableStream): AsyncGenerator<{ index: number; text: unknown }>;
  _parseWorksheet(iterator: AsyncIterable<Buffer | string>, sheetNo: string): Generator<{ eventType: string; value: unknown }>;
  [Symbol.asyncIterator](): AsyncGenerator<WorksheetReader>;
}

interface WorksheetReader {
  id: number | string;
  name: string;
  [Symbol.asyncIterator](): AsyncGenerator<ExcelJS.Row>;
}

const Base = ExcelJS.stream.xlsx.WorkbookReader as unknown as new (
  input: Readable,
  options: Partial<ExcelJS.stream.xlsx.WorkbookStreamReaderOptions>,
) => ReaderInternals;

/** UTF-8 XML as strings, decoded as one stream (exceljs passes strings through as they are). */
async function* utf8Strings(chunks: AsyncIterable<Buffer | string>): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8');
  for await (const chunk of chunks) {
    const text = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    if (text) yield text;
  }
  const tail = decoder.decode();
  if (tail) yield tail;
}

function plainText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && 'richText' in value && Array.isArray(value.richText)) {
    return value.richText.map((run: { text?: unknown }) => (typeof run.text === 'string' ? run.text : '')).join('');
  }
  return '';
}

class Reader extends Base {
  readonly #sources = new Map<unknown, AsyncIterable<Buffer | string>>();

  // biome-ignore lint/correctness/useYield: exceljs's parse() delegates here with yield*; the strings go to the table, not to its readers.
  override async *_parseSharedStrings(entry: NodeJS.ReadableStream): AsyncGenerator<{ index: number; text: unknown }> {
    const table: string[] = [];
    for await (const s of super._parseSharedStrings(Readable.from(utf8Strings(entry as AsyncIterable<Buffer>)))) {
      table.push(plainText(s.text));
    }
    // Set once complete: exceljs then reads the worksheets that follow directly, and
    // resolves their shared-string cells from this table.
    this.sharedStrings = table;
  }

  override *_parseWorksheet(iterator: AsyncIterable<Buffer | string>, sheetNo: string) {
    for (const event of super._parseWorksheet(utf8Strings(iterator), sheetNo)) {
      if (event.eventType === 'worksheet') this.#sources.set(event.value, iterator);
      yield event;
    }
  }

  /** Lets go of a worksheet that will not be read (a parked one holds an open file). */
  skip(worksheet: WorksheetReader): void {
    const source = this.#sources.get(worksheet) as { destroy?: () => void; return?: () => unknown } | undefined;
    this.#sources.delete(worksheet);
    if (typeof source?.destroy === 'function') source.destroy();
    else source?.return?.();
  }

  forget(worksheet: WorksheetReader): void {
    this.#sources.delete(worksheet);
  }
}

/** The sheet officers mean: `usulan` by name, else the first one they can see. */
function targetSheet(sheets: readonly SheetEntry[], preferred: string): SheetEntry | undefined {
  const wanted = preferred.trim().toLowerCase();
  return (
    sheets.find((s) => s.name.trim().toLowerCase() === wanted) ??
    sheets.find((s) => s.state !== 'hidden' && s.state !== 'veryHidden') ??
    sheets[0]
  );
}

/** Numbers written out in full: `3210014508950010`, never `3.21E+15`. */
function numberText(n: number): string {
  return Number.isInteger(n) && Math.abs(n) < 1e21 ? n.toFixed(0) : String(n);
}

/** A cell's text and kind from what exceljs read. */
export function cellOf(value: unknown, numFmt: string | undefined, date1904: boolean): [string, CellKind] {
  if (value === null || value === undefined) return ['', 'text'];
  if (typeof value === 'string') return [value, 'text'];
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return ['#NUM!', 'error'];
    if (isDateFormat(numFmt)) return [serialToIsoDate(value, date1904) ?? numberText(value), 'date'];
    return [numberText(value), 'number'];
  }
  if (typeof value === 'boolean') return [value ? 'TRUE' : 'FALSE', 'boolean'];
  if (value instanceof Date) {
    const iso = serialToIsoDate(excelDateToSerial(value, date1904), date1904);
    return iso ? [iso, 'date'] : ['', 'error'];
  }
  if (typeof value === 'object') {
    if ('richText' in value) return [plainText(value), 'text'];
    if ('error' in value) return [String(value.error), 'error'];
    // A formula gives its computed value; a formula never computed (a file written by a
    // program and not opened in Excel since) has none, and reads as empty.
    if ('formula' in value || 'sharedFormula' in value) {
      const result = 'result' in value ? value.result : undefined;
      // exceljs reads an error result as a number it cannot parse.
      if (typeof result === 'number' && Number.isNaN(result)) return ['#VALUE!', 'error'];
      return cellOf(result, numFmt, date1904);
    }
    if ('text' in value) return cellOf(value.text, numFmt, date1904);
  }
  return [String(value), 'text'];
}

function rowOf(row: ExcelJS.Row, date1904: boolean): SheetRow {
  const cells: string[] = [];
  const kinds: CellKind[] = [];
  row.eachCell((cell, col) => {
    const [text, kind] = cellOf(cell.value, cell.numFmt, date1904);
    cells[col - 1] = text;
    kinds[col - 1] = kind;
  });
  // Holes (columns without a cell) read as empty text.
  for (let i = 0; i < cells.length; i += 1) {
    if (cells[i] === undefined) {
      cells[i] = '';
      kinds[i] = 'text';
    }
  }
  return { row: row.number, cells, kinds };
}

/** Runs `step` unless the source fails first: exceljs pipes its input and would wait forever. */
function raceWith<T>(failure: Promise<never>, step: Promise<T>): Promise<T> {
  return Promise.race([step, failure]);
}

export async function openXlsx(source: ByteSource, opts: ResolvedSheetOptions): Promise<Sheet> {
  const input = Readable.from(source.chunks, { objectMode: false });
  let failed: unknown;
  const failure = new Promise<never>((_, reject) => {
    input.once('error', (e) => {
      failed = e;
      reject(e);
    });
  });
  failure.catch(() => undefined);
  // Anything exceljs throws that is not the source failing is a file it cannot read.
  const damaged = (e: unknown): unknown => {
    if (e === failed || e instanceof SheetError) return e;
    return new SheetError(sheetProblems.xlsxDamaged, { cause: e });
  };

  const reader = new Reader(input, {
    worksheets: 'emit',
    sharedStrings: 'emit',
    styles: 'cache',
    hyperlinks: 'ignore',
    entries: 'ignore',
  });
  const worksheets = reader[Symbol.asyncIterator]();
  let target: WorksheetReader | undefined;
  try {
    for (let next = await raceWith(failure, worksheets.next()); !next.done; next = await raceWith(failure, worksheets.next())) {
      const ws = next.value;
      const wanted = targetSheet(reader.model?.sheets ?? [], opts.sheetName);
      if (!wanted || wanted.name === ws.name) {
        target = ws;
        reader.forget(ws);
        break;
      }
      reader.skip(ws);
    }
  } catch (e) {
    input.destroy();
    throw damaged(e);
  }
  if (!target) {
    input.destroy();
    throw new SheetError(reader.model ? sheetProblems.noSheet : sheetProblems.notWorkbook);
  }

  const date1904 = reader.properties?.model?.date1904 === true;
  const rowsOfTarget = target[Symbol.asyncIterator]();
  let finished = false;
  const raw: AsyncIterator<SheetRow> = {
    async next() {
      try {
        const r = await raceWith(failure, rowsOfTarget.next());
        if (r.done) return { done: true, value: undefined };
        return { done: false, value: rowOf(r.value, date1904) };
      } catch (e) {
        throw damaged(e);
      }
    },
  };
  // The rest of the workbook is read through (not parsed) so exceljs removes its
  // temporary files; when the source has failed there is nothing left to read.
  const release = () => {
    if (finished) return;
    finished = true;
    if (failed !== undefined) return;
    void (async () => {
      await rowsOfTarget.return?.(undefined);
      for (let next = await raceWith(failure, worksheets.next()); !next.done; next = await raceWith(failure, worksheets.next())) {
        reader.skip(next.value);
      }
    })().catch(() => input.destroy());
  };
  let framed: Awaited<ReturnType<typeof frame>>;
  try {
    framed = await frame(raw, opts, release);
  } catch (e) {
    input.destroy();
    throw e;
  }
  if (!framed) throw new SheetError(sheetProblems.empty);
  return {
    format: 'xlsx',
    header: framed.header.cells,
    headerRow: framed.header.row,
    separator: ',',
    sheetName: target.name,
    rows: framed.rows,
    close: release,
  };
}
