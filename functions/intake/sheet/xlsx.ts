/**
 * XLSX workbooks: the sheet named `usulan` (any case) if there is one, else the first
 * visible sheet in tab order. Cells keep what Excel stored (text, number, date, boolean,
 * error) so the checks can tell a NIK typed as text from one Excel has already rounded;
 * rows keep the sheet's own numbers.
 *
 * The zip is read from memory (xlsx-zip.ts): the file is at most SHEET_LIMITS.maxBytes,
 * its directory is at its end, and reading it from memory means no part of a proposal
 * is ever written to disk (exceljs's stream reader parked worksheets in temporary files
 * until the shared strings came, and left them there) and the parts are read in the
 * order they are needed: the sheet list, the styles (which number formats are dates),
 * the shared strings, then the one sheet, streamed, never the others.
 * exceljs's own XML readers do the sheet list, the relationships and the styles; the
 * shared strings (xlsx-strings.ts) and the worksheet are read here with exceljs's SAX
 * parser into plain text and rows: exceljs builds a Row, Cells and a merged style per
 * cell, which for 100,000 rows is most of the time and memory. Every limit of
 * SHEET_LIMITS that a workbook can pass is checked as it is read.
 */

import parseSax from 'exceljs/lib/utils/parse-sax.js';
import WorkbookXform from 'exceljs/lib/xlsx/xform/book/workbook-xform.js';
import RelationshipsXform from 'exceljs/lib/xlsx/xform/core/relationships-xform.js';
import StylesXform from 'exceljs/lib/xlsx/xform/style/styles-xform.js';
import { isDateFormat, serialToIsoDate } from './dates.ts';
import { SheetError, sheetProblems } from './problems.ts';
import { frame } from './rows.ts';
import type { ByteSource } from './source.ts';
import type { CellKind, ResolvedSheetOptions, Sheet, SheetLimits, SheetRow } from './types.ts';
import { readSharedStrings } from './xlsx-strings.ts';
import { openWorkbookZip, relsOf, resolveTarget, type Workbook, wholeFile } from './xlsx-zip.ts';

interface SheetEntry {
  name: string;
  state?: string;
  rId?: string;
}

interface Relationship {
  Id?: string;
  Type?: string;
  Target?: string;
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
  sharedString(index: number): string | undefined;
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
      return [book.sharedString(Number(v)) ?? '', 'text'];
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
export async function* sheetRows(
  xml: AsyncIterable<string>,
  book: Book,
  limits: Pick<SheetLimits, 'maxColumns' | 'maxCellChars'>,
): AsyncGenerator<SheetRow> {
  const { maxColumns, maxCellChars } = limits;
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
  for await (const events of parseSax(xml)) {
    for (const event of events) {
      if (event.eventType === 'text') {
        if (capture === 'v') value = (value ?? '') + event.value;
        else if (capture === 't' && !phonetic) inline += event.value;
        else continue;
        if ((value?.length ?? 0) > maxCellChars || inline.length > maxCellChars) {
          throw new SheetError(sheetProblems.cellTooLong(maxCellChars, lastRow));
        }
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
            // Before the cell is stored: a column a million letters out would be a row of a million cells.
            if (col >= maxColumns) throw new SheetError(sheetProblems.tooManyColumns(maxColumns, lastRow));
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

function bookOf(strings: { get(index: number): string | undefined }, styles: StylesXform, date1904: boolean): Book {
  const dateStyles = new Map<number, boolean>();
  return {
    sharedString: (index) => strings.get(index),
    date1904,
    isDateStyle(style: number) {
      let isDate = dateStyles.get(style);
      if (isDate === undefined) {
        isDate = style > 0 && isDateFormat(styles.getStyleModel(style)?.numFmt);
        dateStyles.set(style, isDate);
      }
      return isDate;
    },
  };
}

/** The workbook part (the officeDocument of `_rels/.rels`; `xl/workbook.xml` as Excel writes it). */
async function workbookPath(zip: Workbook): Promise<string> {
  const rels = zip.part('_rels/.rels');
  const main = rels && (await relationships(zip, rels)).find((r) => r.Type?.endsWith('/officeDocument') && r.Target);
  return main?.Target ? resolveTarget('', main.Target) : 'xl/workbook.xml';
}

async function relationships(zip: Workbook, entry: NonNullable<ReturnType<Workbook['part']>>): Promise<Relationship[]> {
  return (await new RelationshipsXform().parseStream(zip.xml(entry))) ?? [];
}

/** What the workbook needs read before its sheet: the sheet list, the sheet's part, the styles, the strings. */
async function readBook(zip: Workbook, opts: ResolvedSheetOptions) {
  const bookPath = await workbookPath(zip);
  const bookEntry = zip.part(bookPath);
  if (!bookEntry) throw new SheetError(sheetProblems.notWorkbook);
  const relsEntry = zip.part(relsOf(bookPath));
  const rels = relsEntry ? await relationships(zip, relsEntry) : [];
  const xform = new WorkbookXform();
  await xform.parseStream(zip.xml(bookEntry));
  const sheets = (xform.model?.sheets ?? []).filter((s): s is SheetEntry => typeof s?.name === 'string');
  const wanted = targetSheet(sheets, opts.sheetName);
  if (!wanted) throw new SheetError(sheetProblems.noSheet);
  const target = (r?: Relationship) => (r?.Target ? resolveTarget(bookPath, r.Target) : undefined);
  const byType = (type: string) => target(rels.find((r) => r.Type?.endsWith(`/${type}`)));
  // Without relationships, the sheets are numbered in tab order, as Excel names their parts.
  const sheetPath = target(rels.find((r) => r.Id === wanted.rId)) ?? `xl/worksheets/sheet${sheets.indexOf(wanted) + 1}.xml`;
  const sheetEntry = zip.part(sheetPath);
  if (!sheetEntry) throw new SheetError(sheetProblems.noSheet);

  const styles = new StylesXform();
  const stylesEntry = zip.part(byType('styles') ?? 'xl/styles.xml');
  if (stylesEntry) await styles.parseStream(zip.xml(stylesEntry));
  else styles.init();
  const stringsEntry = zip.part(byType('sharedStrings') ?? 'xl/sharedStrings.xml');
  const strings = stringsEntry ? await readSharedStrings(zip.xml(stringsEntry), opts.limits) : { get: () => undefined };
  return {
    name: wanted.name,
    sheetEntry,
    book: bookOf(strings, styles, xform.map.workbookPr.model?.date1904 === true),
  };
}

export async function openXlsx(source: ByteSource, opts: ResolvedSheetOptions): Promise<Sheet> {
  // A failure of the source (a dropped connection, the size limit) passes through unchanged.
  const zip = await openWorkbookZip(await wholeFile(source.chunks), opts.limits);
  // Anything else that breaks while reading is a file that cannot be read.
  const damaged = (e: unknown): unknown =>
    e instanceof SheetError ? e : new SheetError(sheetProblems.xlsxDamaged, { cause: e });
  let read: Awaited<ReturnType<typeof readBook>>;
  try {
    read = await readBook(zip, opts);
  } catch (e) {
    zip.close();
    throw damaged(e);
  }
  const rowsOfTarget = sheetRows(zip.xml(read.sheetEntry), read.book, opts.limits);
  const raw: AsyncIterator<SheetRow> = {
    next: () => rowsOfTarget.next().catch((e: unknown) => Promise.reject(damaged(e))),
  };
  let finished = false;
  const release = () => {
    if (finished) return;
    finished = true;
    // Ends the sheet's inflater (the generator's finally), then the zip.
    rowsOfTarget.return(undefined).then(
      () => zip.close(),
      () => zip.close(),
    );
  };
  const framed = await frame(raw, opts, release);
  if (!framed) throw new SheetError(sheetProblems.empty);
  return {
    format: 'xlsx',
    header: framed.header.cells,
    headerRow: framed.header.row,
    separator: ',',
    sheetName: read.name,
    rows: framed.rows,
    close: release,
  };
}
