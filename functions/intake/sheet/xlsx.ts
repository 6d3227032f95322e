/**
 * XLSX workbooks, streamed (never loaded whole): the sheet named `usulan` (any case) if
 * there is one, else the first visible sheet in tab order. Cells keep what Excel stored
 * (text, number, date, boolean, error) so the checks can tell a NIK typed as text from
 * one Excel has already rounded; rows keep the sheet's own numbers.
 *
 * exceljs's WorkbookReader does the workbook: the zip, the sheet list, styles (which
 * number formats are dates), shared strings, and parking worksheets in temporary files
 * until the rest of the workbook is known. Three of its internal
 * hooks (`_parseSharedStrings`, `_parseWorksheet`, exceljs 4.4, pinned by the lock file;
 * the tests read names and dates back through them) are overridden, because:
 *   - it decodes each inflated chunk of XML on its own, so a character whose bytes are
 *     split between two chunks becomes two `�`: `Sutéjo` would arrive damaged about once
 *     every few thousand names. Here the XML is decoded as one stream before parsing.
 *   - its shared-string table keeps rich text as objects with fonts; here plain strings.
 *   - its worksheet reader builds a Row, Cells and a merged style per cell: for 100,000
 *     rows that is most of the time and memory. Worksheet XML is read here with exceljs's
 *     own SAX parser into plain rows; dates are computed from the stored serial.
 * Reading to the end (also after an early stop, in the background) lets exceljs delete
 * its temporary files.
 */
import { Readable } from 'node:stream';
import type ExcelJS from 'exceljs';
// The stream reader alone, not exceljs's index: that one also loads the workbook model and
// writers, archiver, jszip and fast-csv, half a megabyte of the Lambda bundle never used here.
import WorkbookReader from 'exceljs/lib/stream/xlsx/workbook-reader.js';
import parseSax from 'exceljs/lib/utils/parse-sax.js';
import { isDateFormat, serialToIsoDate } from './dates.ts';
import { SheetError, sheetProblems } from './problems.ts';
import { frame } from './rows.ts';
import type { ByteSource } from './source.ts';
import type { CellKind, ResolvedSheetOptions, Sheet, SheetRow } from './types.ts';

interface SheetEntry {
  id: number;
  name: string;
  state?: string;
}

/** A worksheet found in the workbook: its name and its XML, not yet read. */
interface WorksheetSource {
  name: string;
  xml: AsyncIterable<Buffer | string>;
}

/** The parts of exceljs's stream reader used beyond its typed API (exceljs 4.4). */
interface ReaderInternals {
  model?: { sheets?: SheetEntry[] };
  properties?: { model?: { date1904?: boolean } };
  styles: { getStyleModel(id: number): { numFmt?: string } | null };
  _parseSharedStrings(entry: NodeJS.ReadableStream): AsyncGenerator<{ index: number; text: unknown }>;
  _parseWorksheet(iterator: AsyncIterable<Buffer | string>, sheetNo: string): Generator<{ eventType: string; value: unknown }>;
  [Symbol.asyncIterator](): AsyncGenerator<WorksheetSource>;
}

const Base = WorkbookReader as unknown as new (
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
  /**
   * The shared strings. Not exceljs's `sharedStrings`: while that is unset, exceljs parks
   * every worksheet and reads it after the whole zip, when the sheet names, the styles
   * and the strings are all known, whatever order the program that wrote the file put
   * them in (Excel writes worksheets first anyway).
   */
  readonly strings: string[] = [];

  // biome-ignore lint/correctness/useYield: exceljs's parse() delegates here with yield*; the strings go to the table, not to its readers.
  override async *_parseSharedStrings(entry: NodeJS.ReadableStream): AsyncGenerator<{ index: number; text: unknown }> {
    for await (const s of super._parseSharedStrings(Readable.from(utf8Strings(entry as AsyncIterable<Buffer>)))) {
      this.strings.push(plainText(s.text));
    }
  }

  /** The worksheet's name as exceljs resolves it, and its XML for `sheetRows` instead of exceljs's reader. */
  override *_parseWorksheet(iterator: AsyncIterable<Buffer | string>, sheetNo: string) {
    // A parked worksheet arrives as a file stream that opens its temporary file lazily.
    // Stopped early (close(), or a sheet skipped), the stream is destroyed and exceljs
    // deletes the file at once; the open still pending then fails with ENOENT on a stream
    // nobody listens to any more, which would crash the process. While it is read, its
    // reader's own listener still gets every error: this one only catches the orphan.
    const emitter = iterator as Partial<Pick<NodeJS.EventEmitter, 'on'>>;
    if (typeof emitter.on === 'function') emitter.on('error', () => undefined);
    for (const event of super._parseWorksheet(iterator, sheetNo)) {
      if (event.eventType !== 'worksheet') continue;
      const { name } = event.value as { name: string };
      yield { eventType: 'worksheet', value: { name, xml: iterator } satisfies WorksheetSource };
    }
  }
}

/** Lets go of a worksheet's XML that will not be read (a parked one holds an open file). */
function skip(ws: WorksheetSource): void {
  const source = ws.xml as { destroy?: () => void; return?: () => unknown };
  if (typeof source.destroy === 'function') source.destroy();
  else source.return?.();
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

/**
 * Numbers written out in full: `3210014508950010`, never `3.21E+15` (JavaScript writes
 * every number below 10^21 in full; a spreadsheet number above that is no NIK, amount or date).
 */
const numberText = (n: number): string => String(n);

/** 0-based column of a cell reference (`C7` → 2); -1 without one. */
function columnOf(ref: string | undefined): number {
  if (!ref) return -1;
  let n = 0;
  for (let i = 0; i < ref.length; i += 1) {
    const c = ref.charCodeAt(i);
    if (c >= 65 && c <= 90) n = n * 26 + (c - 64);
    else if (c >= 97 && c <= 122) n = n * 26 + (c - 96);
    else break;
  }
  return n - 1;
}

/** What the workbook says about every sheet: shared strings, and which styles show dates. */
export interface Book {
  sharedStrings: readonly string[];
  date1904: boolean;
  isDateStyle(style: number): boolean;
}

/**
 * A cell's text and kind from its XML: type `t`, stored value `<v>`, inline text, style.
 * A formula cell gives its cached result; one never computed (a file written by a
 * program and not opened in Excel since) has none, and reads as empty.
 */
export function cellText(
  t: string | undefined,
  v: string | undefined,
  inline: string,
  style: number,
  book: Book,
): [string, CellKind] {
  switch (t) {
    case 's':
      return [book.sharedStrings[Number(v)] ?? '', 'text'];
    case 'inlineStr':
      return [inline, 'text'];
    case 'str':
      return [v ?? '', 'text'];
    case 'b':
      return [v?.trim() === '1' ? 'TRUE' : 'FALSE', 'boolean'];
    case 'e':
      return [v ?? '#VALUE!', 'error'];
    case 'd': {
      // ISO 8601 date cells, written by some programs (not Excel).
      const day = /^\d{4}-\d{2}-\d{2}/.exec(v ?? '')?.[0];
      return day ? [day, 'date'] : [v ?? '', 'text'];
    }
    default: {
      if (v === undefined || v.trim() === '') return ['', 'text'];
      const n = Number(v);
      if (!Number.isFinite(n)) return [v, 'text'];
      if (book.isDateStyle(style)) return [serialToIsoDate(n, book.date1904) ?? numberText(n), 'date'];
      return [numberText(n), 'number'];
    }
  }
}

/** The rows of one worksheet's XML, as the sheet numbers them. */
export async function* sheetRows(xml: AsyncIterable<Buffer | string>, book: Book): AsyncGenerator<SheetRow> {
  let current: { row: number; cells: string[]; kinds: CellKind[] } | undefined;
  let lastRow = 0;
  let col = -1;
  let lastCol = -1;
  let type: string | undefined;
  let style = 0;
  let value: string | undefined;
  let inline = '';
  let capture: 'v' | 't' | undefined;
  let phonetic = false;
  for await (const events of parseSax(utf8Strings(xml))) {
    for (const event of events) {
      if (event.eventType === 'text') {
        if (capture === 'v') value = (value ?? '') + event.value;
        else if (capture === 't' && !phonetic) inline += event.value;
        continue;
      }
      // `x:row` → `row`: some programs write the spreadsheet namespace with a prefix.
      let name = event.value.name;
      const colon = name.indexOf(':');
      if (colon >= 0) name = name.slice(colon + 1);
      if (event.eventType === 'opentag') {
        const a = event.value.attributes;
        switch (name) {
          case 'row': {
            const r = Number.parseInt(a.r ?? '', 10);
            lastRow = r > 0 ? r : lastRow + 1;
            current = { row: lastRow, cells: [], kinds: [] };
            lastCol = -1;
            break;
          }
          case 'c': {
            const c = columnOf(a.r);
            col = c >= 0 ? c : lastCol + 1;
            type = a.t;
            style = a.s ? Number.parseInt(a.s, 10) : 0;
            value = undefined;
            inline = '';
            break;
          }
          case 'v':
            capture = 'v';
            value = '';
            break;
          case 't':
            if (type === 'inlineStr') capture = 't';
            break;
          case 'rPh':
            phonetic = true;
            break;
        }
        continue;
      }
      switch (name) {
        case 'v':
        case 't':
          capture = undefined;
          break;
        case 'rPh':
          phonetic = false;
          break;
        case 'c':
          if (current && col >= 0) {
            const [text, kind] = cellText(type, value, inline, style, book);
            current.cells[col] = text;
            current.kinds[col] = kind;
            lastCol = col;
          }
          break;
        case 'row':
          if (current) {
            const { cells, kinds } = current;
            // Columns without a cell read as empty text.
            for (let i = 0; i < cells.length; i += 1) {
              if (cells[i] === undefined) {
                cells[i] = '';
                kinds[i] = 'text';
              }
            }
            yield current;
            current = undefined;
          }
          break;
      }
    }
  }
}

function bookOf(reader: Reader): Book {
  const dateStyles = new Map<number, boolean>();
  return {
    sharedStrings: reader.strings,
    date1904: reader.properties?.model?.date1904 === true,
    isDateStyle(style: number) {
      let isDate = dateStyles.get(style);
      if (isDate === undefined) {
        isDate = style > 0 && isDateFormat(reader.styles.getStyleModel(style)?.numFmt);
        dateStyles.set(style, isDate);
      }
      return isDate;
    },
  };
}

export async function openXlsx(source: ByteSource, opts: ResolvedSheetOptions): Promise<Sheet> {
  const input = Readable.from(source.chunks, { objectMode: false });
  let failed: unknown;
  let failPending: ((e: unknown) => void) | undefined;
  input.once('error', (e) => {
    failed = e;
    failPending?.(e);
  });
  // exceljs pipes its input, so a failing source (a dropped connection, the size limit)
  // would leave it waiting forever: each step also ends when the source fails. (One
  // pending step at a time, not Promise.race against a shared promise, which would keep
  // every row ever read reachable from that promise.)
  const guarded = <T>(step: Promise<T>): Promise<T> => {
    if (failed !== undefined) return Promise.reject(failed);
    return new Promise<T>((resolve, reject) => {
      failPending = reject;
      step.then(
        (v) => {
          failPending = undefined;
          resolve(v);
        },
        (e: unknown) => {
          failPending = undefined;
          reject(e);
        },
      );
    });
  };
  // Anything the reading throws that is not the source failing is a file it cannot read.
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
  let target: WorksheetSource | undefined;
  try {
    for (let next = await guarded(worksheets.next()); !next.done; next = await guarded(worksheets.next())) {
      const ws = next.value;
      const wanted = targetSheet(reader.model?.sheets ?? [], opts.sheetName);
      if (!wanted || wanted.name === ws.name) {
        target = ws;
        break;
      }
      skip(ws);
    }
  } catch (e) {
    input.destroy();
    throw damaged(e);
  }
  if (!target) {
    input.destroy();
    throw new SheetError(reader.model ? sheetProblems.noSheet : sheetProblems.notWorkbook);
  }

  const rowsOfTarget = sheetRows(target.xml, bookOf(reader));
  const raw: AsyncIterator<SheetRow> = {
    next: () => guarded(rowsOfTarget.next()).catch((e: unknown) => Promise.reject(damaged(e))),
  };
  let finished = false;
  // The rest of the workbook is read through (not parsed) so exceljs removes its
  // temporary files; when the source has failed there is nothing left to read.
  const release = () => {
    if (finished) return;
    finished = true;
    if (failed !== undefined) return;
    void (async () => {
      await rowsOfTarget.return(undefined);
      for (let next = await guarded(worksheets.next()); !next.done; next = await guarded(worksheets.next())) {
        skip(next.value);
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
