/**
 * A spreadsheet as district officers export it, read as a stream of rows: a header row
 * and then records numbered the way a person sees them (header = row 1). CSV here, with
 * the separator detected from the header (`,` `;` or tab: Indonesian Excel writes `;`)
 * and a UTF-8 BOM dropped. Other sources (XLSX, other encodings) plug in by producing the
 * same `Sheet`, so the checks and reports built on top never change.
 */
import { pipeline, Readable } from 'node:stream';
import { CsvError, parse } from 'csv-parse';
import type { Bilingual } from './errors.ts';

export interface FileProblem {
  code: string;
  /** The column concerned, when there is one. */
  field?: string;
  message: Bilingual;
}

/** A file (or a row of it) that cannot be read; the caller turns it into its own named error. */
export class SheetError extends Error {
  override readonly name = 'SheetError';
  constructor(readonly problem: FileProblem) {
    super(`${problem.code}: ${problem.message.en}`);
  }
}

export type Separator = ',' | ';' | '\t';

export interface SheetRow {
  /** Row number in the spreadsheet: the header is row 1. */
  row: number;
  cells: string[];
}

export interface Sheet {
  header: string[];
  separator: Separator;
  /** Data rows in order; wholly blank rows are skipped but still counted. Single use. */
  rows: AsyncIterable<SheetRow>;
  /** Stops reading (and releases the source) when the rows will not be read to the end. */
  close(): void;
}

export type SheetInput = NodeJS.ReadableStream | string | Uint8Array;

const HEAD_LIMIT = 64 * 1024;

const problems = {
  empty: {
    code: 'FILE_EMPTY',
    message: { id: 'Berkas kosong.', en: 'The file is empty.' },
  },
  xlsx: {
    code: 'FILE_NOT_CSV',
    message: {
      id: 'Berkas ini adalah buku kerja Excel, bukan CSV. Simpan sebagai "CSV (dipisahkan koma)" lalu unggah lagi.',
      en: 'This file is an Excel workbook, not CSV. Save it as "CSV (comma delimited)" and upload it again.',
    },
  },
  binary: {
    code: 'FILE_NOT_CSV',
    message: {
      id: 'Berkas ini bukan berkas teks CSV. Simpan usulan sebagai CSV lalu unggah lagi.',
      en: 'This file is not a CSV text file. Save the proposal as CSV and upload it again.',
    },
  },
  utf16: {
    code: 'FILE_ENCODING_UNSUPPORTED',
    message: {
      id: 'Berkas disimpan sebagai "Unicode text" (UTF-16). Simpan sebagai "CSV UTF-8" lalu unggah lagi.',
      en: 'The file was saved as "Unicode text" (UTF-16). Save it as "CSV UTF-8" and upload it again.',
    },
  },
  noSeparator: {
    code: 'FILE_NOT_CSV',
    message: {
      id: 'Baris pertama tidak memuat pemisah kolom (koma atau titik koma). Simpan usulan sebagai CSV dengan baris judul kolom.',
      en: 'The first row has no column separator (comma or semicolon). Save the proposal as CSV with a header row.',
    },
  },
} satisfies Record<string, FileProblem>;

function malformed(row: number): FileProblem {
  return {
    code: 'FILE_MALFORMED',
    message: {
      id: `Berkas CSV rusak di sekitar baris ${row} (misalnya tanda kutip yang tidak ditutup). Buka di Excel, simpan ulang sebagai CSV, lalu unggah lagi.`,
      en: `The CSV file is damaged around row ${row} (for example an unclosed quote). Open it in Excel, save it again as CSV and upload it again.`,
    },
  };
}

async function* chunksOf(input: SheetInput): AsyncGenerator<Buffer> {
  if (typeof input === 'string') {
    yield Buffer.from(input, 'utf8');
    return;
  }
  if (input instanceof Uint8Array) {
    yield Buffer.from(input);
    return;
  }
  for await (const chunk of input as AsyncIterable<Buffer | string>) {
    yield typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
  }
}

function startsWith(buf: Buffer, bytes: number[]): boolean {
  return bytes.every((b, i) => buf[i] === b);
}

/** Counts each candidate outside quotes in the first line; the most frequent wins. */
export function detectSeparator(firstLine: string): Separator | undefined {
  const counts: Record<Separator, number> = { ',': 0, ';': 0, '\t': 0 };
  let quoted = false;
  for (const ch of firstLine) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && (ch === ',' || ch === ';' || ch === '\t')) counts[ch] += 1;
  }
  const best = (Object.entries(counts) as [Separator, number][]).sort((a, b) => b[1] - a[1])[0];
  return best && best[1] > 0 ? best[0] : undefined;
}

function isBlank(cells: string[]): boolean {
  return cells.every((c) => c.trim() === '');
}

/**
 * Opens a CSV source: reads just enough to recognise the format and the header, then
 * streams the rest. Throws SheetError when the file cannot be a CSV proposal at all;
 * iterating `rows` throws SheetError when the CSV breaks further down.
 */
export async function openCsv(input: SheetInput): Promise<Sheet> {
  const source = chunksOf(input);
  let head = Buffer.alloc(0);
  while (!head.includes(0x0a) && head.length < HEAD_LIMIT) {
    const next = await source.next();
    if (next.done) break;
    head = Buffer.concat([head, next.value]);
  }
  const fail = async (problem: FileProblem): Promise<never> => {
    await source.return(undefined);
    throw new SheetError(problem);
  };
  if (startsWith(head, [0x50, 0x4b, 0x03, 0x04])) return fail(problems.xlsx);
  if (startsWith(head, [0xd0, 0xcf, 0x11, 0xe0])) return fail(problems.xlsx);
  if (startsWith(head, [0xff, 0xfe]) || startsWith(head, [0xfe, 0xff])) return fail(problems.utf16);
  if (head.includes(0x00)) return fail(problems.binary);
  const text = head.toString('utf8').replace(/^\uFEFF/, '');
  if (text.trim() === '') return fail(problems.empty);
  const separator = detectSeparator(text.split(/\r?\n/, 1)[0] ?? '');
  if (!separator) return fail(problems.noSeparator);

  const parser = parse({
    delimiter: separator,
    bom: true,
    relax_column_count: true,
    relax_quotes: true,
    // Blank lines are rows a person sees; they are skipped below, after counting.
    skip_empty_lines: false,
  });
  // pipeline, not pipe: a read error of the source (a dropped S3 connection) must reach
  // the reader as that error, so the caller retries instead of judging a half file.
  pipeline(
    Readable.from(
      (async function* () {
        yield head;
        yield* source;
      })(),
    ),
    parser,
    () => {},
  );
  const records = parser[Symbol.asyncIterator]() as AsyncIterator<string[]>;
  let row = 0;
  const nextRecord = async (): Promise<string[] | undefined> => {
    try {
      const r = await records.next();
      if (r.done) return undefined;
      row += 1;
      return r.value;
    } catch (e) {
      // The parser's own count: records it had parsed before this one broke (this stream
      // may already have dropped them when it failed).
      if (e instanceof CsvError) throw new SheetError(malformed(typeof e.records === 'number' ? e.records + 1 : row + 1));
      throw e;
    }
  };

  let header = await nextRecord();
  while (header && isBlank(header)) header = await nextRecord();
  if (!header) {
    parser.destroy();
    throw new SheetError(problems.empty);
  }
  const headerCells = header;

  async function* rows(): AsyncGenerator<SheetRow> {
    try {
      for (let cells = await nextRecord(); cells; cells = await nextRecord()) {
        if (!isBlank(cells)) yield { row, cells };
      }
    } finally {
      parser.destroy();
    }
  }
  return { header: headerCells, separator, rows: rows(), close: () => parser.destroy() };
}

/** Header matching ignores case, spaces, dots and underscores: `No. KK` is `no_kk`. */
export function normalizeHeader(name: string): string {
  return name
    .replace(/^\uFEFF/, '')
    .toLowerCase()
    .replace(/[\s._]/g, '');
}

export interface ColumnSpec<N extends string = string> {
  name: N;
  required: boolean;
  /** Other spellings officers use; matched after normalising like the name. */
  aliases?: readonly string[];
}

export type HeaderMatch<N extends string> =
  | { ok: true; index: Partial<Record<N, number>>; unknown: { column: number; name: string }[] }
  | { ok: false; problem: FileProblem };

export function matchHeader<N extends string>(header: string[], columns: readonly ColumnSpec<N>[]): HeaderMatch<N> {
  const byKey = new Map<string, N>();
  for (const c of columns) {
    byKey.set(normalizeHeader(c.name), c.name);
    for (const alias of c.aliases ?? []) byKey.set(normalizeHeader(alias), c.name);
  }
  const index: Partial<Record<N, number>> = {};
  const unknown: { column: number; name: string }[] = [];
  for (const [i, raw] of header.entries()) {
    const name = byKey.get(normalizeHeader(raw));
    if (name === undefined) {
      if (raw.trim() !== '') unknown.push({ column: i, name: raw.trim() });
      continue;
    }
    if (index[name] !== undefined) {
      return {
        ok: false,
        problem: {
          code: 'HEADER_DUPLICATE_COLUMN',
          field: name,
          message: {
            id: `Kolom "${name}" muncul lebih dari sekali di baris judul. Hapus salah satunya.`,
            en: `Column "${name}" appears more than once in the header row. Remove one of them.`,
          },
        },
      };
    }
    index[name] = i;
  }
  const missing = columns.filter((c) => c.required && index[c.name] === undefined).map((c) => c.name);
  if (missing.length > 0) {
    const list = missing.join(', ');
    return {
      ok: false,
      problem: {
        code: 'HEADER_MISSING_COLUMN',
        field: missing.join(' '),
        message: {
          id: `Kolom wajib tidak ditemukan di baris judul: ${list}. Gunakan templat usulan.`,
          en: `Required columns missing from the header row: ${list}. Use the proposal template.`,
        },
      },
    };
  }
  return { ok: true, index, unknown };
}

/** Cells of a row by column name; a short row reads as empty cells. */
export function cellsByName<N extends string>(cells: string[], index: Partial<Record<N, number>>): Record<N, string> {
  const out = {} as Record<N, string>;
  for (const [name, i] of Object.entries(index) as [N, number][]) out[name] = cells[i] ?? '';
  return out;
}

function isoDate(year: number, month: number, day: number): string | undefined {
  const d = new Date(Date.UTC(year, month - 1, day));
  if (year < 1000 || d.getUTCFullYear() !== year || d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) {
    return undefined;
  }
  return d.toISOString().slice(0, 10);
}

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
