/**
 * Text spreadsheets: CSV and Excel's "Unicode text". The separator is read from the
 * first rows, not only the first line: a title line above the header (`Usulan Prokus,
 * Kab. Majalengka`) or a blank line must not decide it. Excel writes every row of a
 * sheet with the same number of separators, so the separator is the one that occurs
 * the same number of times on the most rows.
 */
import { pipeline, Readable } from 'node:stream';
import { CsvError, parse } from 'csv-parse';
import { headText, utf8OrWindows1252, utf16 } from './encoding.ts';
import { SheetError, sheetProblems } from './problems.ts';
import { frame } from './rows.ts';
import type { ByteSource } from './source.ts';
import type { ResolvedSheetOptions, Separator, Sheet, SheetRow } from './types.ts';

const CANDIDATES: readonly Separator[] = [';', ',', '\t'];

/** Records looked at to choose the separator. */
const SAMPLE_RECORDS = 50;

/** One cell longer than this is a damaged file (an unclosed quote swallowing the rest), not data. */
const MAX_RECORD_BYTES = 1024 * 1024;

/**
 * The separator of a CSV from its first lines: for each candidate, how many separators
 * each record has (outside quotes); the candidate whose commonest count is shared by the
 * most records wins, then the one with more columns.
 */
export function detectSeparator(text: string): Separator | undefined {
  const counts: Record<Separator, number>[] = [];
  let current: Record<Separator, number> = { ',': 0, ';': 0, '\t': 0 };
  let quoted = false;
  let blank = true;
  const end = () => {
    if (!blank) counts.push(current);
    current = { ',': 0, ';': 0, '\t': 0 };
    blank = true;
  };
  for (const ch of text) {
    if (ch === '"') {
      quoted = !quoted;
      blank = false;
    } else if (!quoted && ch === '\n') {
      end();
      if (counts.length >= SAMPLE_RECORDS) break;
    } else if (!quoted && (ch === ',' || ch === ';' || ch === '\t')) {
      current[ch] += 1;
      blank = false;
    } else if (ch !== '\r' && ch !== ' ') {
      blank = false;
    }
  }
  end();
  let best: { sep: Separator; rows: number; width: number } | undefined;
  for (const sep of CANDIDATES) {
    const freq = new Map<number, number>();
    for (const c of counts) if (c[sep] > 0) freq.set(c[sep], (freq.get(c[sep]) ?? 0) + 1);
    for (const [width, rows] of freq) {
      if (!best || rows > best.rows || (rows === best.rows && width > best.width)) best = { sep, rows, width };
    }
  }
  return best?.sep;
}

/** Opens a text spreadsheet whose head has been recognised as text. */
export async function openCsv(
  source: ByteSource,
  encoding: 'auto' | 'utf-16le' | 'utf-16be',
  opts: ResolvedSheetOptions,
): Promise<Sheet> {
  const text = headText(source.head, encoding);
  if (text.trim() === '') throw new SheetError(sheetProblems.empty);
  // Excel's own hint line, `sep=;`, names the separator; it is row 1, not the header.
  const hint = /^sep=([,;\t])\r?\n/i.exec(text)?.[1] as Separator | undefined;
  const separator = hint ?? detectSeparator(text);
  if (!separator) throw new SheetError(sheetProblems.noSeparator);

  const parser = parse({
    delimiter: separator,
    relax_column_count: true,
    relax_quotes: true,
    // Empty lines are rows a person sees: the parser skips them and counts them
    // (info.empty_lines), and each record's row is the records and empty lines so far.
    // Not handed over as records: with relax_column_count, the parser builds an error
    // object for every record shorter than the first, which made a file of empty lines
    // take a minute per 300,000 of them.
    skip_empty_lines: true,
    info: true,
    max_record_size: MAX_RECORD_BYTES,
  });
  const { maxBlankRows } = opts.limits;
  const blankLines = (emptyLines: number) => {
    if (emptyLines > maxBlankRows) throw new SheetError(sheetProblems.tooManyBlankRows(maxBlankRows));
  };
  const utf8 = encoding === 'auto' ? utf8OrWindows1252(source.chunks) : utf16(source.chunks, encoding);
  // The parser skips empty lines without a record to show for them: checked as its input
  // goes in too, so a file of nothing but empty lines stops at the limit, not at its end.
  async function* watched(): AsyncGenerator<Buffer> {
    for await (const chunk of utf8) {
      blankLines(parser.info.empty_lines);
      yield chunk;
    }
  }
  // pipeline, not pipe: a read error of the source (a dropped S3 connection, the size
  // limit) must reach the reader as that error, so the caller retries or reports it
  // instead of judging half a file.
  pipeline(Readable.from(watched()), parser, () => {});
  const records = parser[Symbol.asyncIterator]() as AsyncIterator<{
    record: string[];
    info: { records: number; empty_lines: number };
  }>;
  let row = 0;
  const raw: AsyncIterator<SheetRow> = {
    async next() {
      try {
        let r = await records.next();
        if (hint && row === 0 && !r.done) {
          row = 1;
          r = await records.next();
        }
        if (r.done) return { done: true, value: undefined };
        // The record's own count (the parser may have read further, and counts a file's
        // last line break as one more empty line).
        blankLines(r.value.info.empty_lines);
        row = r.value.info.records + r.value.info.empty_lines;
        return { done: false, value: { row, cells: r.value.record } };
      } catch (e) {
        // The parser's own count: records it had parsed before this one broke (this stream
        // may already have dropped them when it failed).
        if (e instanceof CsvError) {
          const at = typeof e.records === 'number' ? e.records + (typeof e.empty_lines === 'number' ? e.empty_lines : 0) : row;
          throw new SheetError(sheetProblems.malformed(at + 1), { cause: e });
        }
        throw e;
      }
    },
  };
  const release = () => parser.destroy();
  const framed = await frame(raw, opts, release);
  if (!framed) throw new SheetError(sheetProblems.empty);
  return {
    format: 'csv',
    header: framed.header.cells,
    headerRow: framed.header.row,
    separator,
    rows: framed.rows,
    close: () => {
      release();
      source.cancel();
    },
  };
}
