/**
 * Hostile files (issue 7, items 7 and 8) through the reader itself: each ends within
 * seconds in its named error, with memory bounded by the limits, and nothing of it is
 * ever written to disk: the temporary directory (TMPDIR, here the test's own) sees no
 * file appear, for refused and good files alike. The same corpus goes through
 * `prokus validate` (test/cli/validate-hostile.test.ts) and an upload
 * (test/embedded/runtime/runtime-intake-hostile.test.ts).
 */
import { createReadStream, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSheet, SHEET_LIMITS, SheetError, type SheetInput, type SheetOptions } from '#intake/sheet';
import { type HostileFile, peakRssGrowth, watchDir, writeHostileCorpus } from '../../helpers/hostile-files.ts';

const MiB = 1024 * 1024;
/** Generous: the slowest file takes about 2 s alone on this machine, 7 s with the other cores busy. */
const MAX_MS = 20_000;
/** The reader keeps at most the workbook and its shared strings; the corpus comes nowhere near the string limit. */
const RSS_MARGIN_MIB = 128;

let dir: string;
let tmp: string;
let corpus: HostileFile[];
const originalTmp = process.env.TMPDIR;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prokus-hostile-'));
  tmp = join(dir, 'tmp');
  await mkdir(tmp, { mode: 0o700 });
  await mkdir(join(dir, 'corpus'));
  corpus = await writeHostileCorpus(join(dir, 'corpus'));
  // Where exceljs's temporary files (the `tmp` package, os.tmpdir()) and anything else would go.
  process.env.TMPDIR = tmp;
}, 60_000);

afterAll(async () => {
  process.env.TMPDIR = originalTmp;
  await rm(dir, { recursive: true, force: true });
});

interface Outcome {
  code?: string;
  rows?: number;
}

async function readAll(input: SheetInput, opts: SheetOptions): Promise<Outcome> {
  try {
    const sheet = await openSheet(input, opts);
    let rows = 0;
    for await (const _ of sheet.rows) rows += 1;
    return { rows };
  } catch (e) {
    if (e instanceof SheetError) return { code: e.problem.code };
    throw e;
  }
}

/** Reads with the temporary directory watched; the outcome, time, memory and what appeared on disk. */
async function measured(input: () => SheetInput, opts: SheetOptions = {}) {
  const watched = watchDir(tmp);
  const { result, ms, peakMiB } = await peakRssGrowth(() => readAll(input(), opts));
  // A file removed a moment after the read would still have been on disk: give it the moment.
  await new Promise((r) => setTimeout(r, 50));
  return { outcome: result, ms, peakMiB, disk: watched.stop() };
}

describe('hostile files, read by the reader', () => {
  it('every file of the corpus ends in its named error, fast, in bounded memory, leaving nothing on disk', async () => {
    const table: string[] = [];
    for (const f of corpus) {
      const bytes = statSync(f.file).size;
      // As the intake reads: a stream, with the size S3 says.
      const { outcome, ms, peakMiB, disk } = await measured(() => createReadStream(f.file), { size: bytes, fileName: f.file });
      table.push(`${f.what}: ${outcome.code ?? `${outcome.rows} rows`} in ${ms} ms, +${peakMiB} MiB`);
      expect(outcome.code, f.what).toBeDefined();
      expect(f.codes, f.what).toContain(outcome.code);
      expect(ms, f.what).toBeLessThan(MAX_MS);
      expect(peakMiB, f.what).toBeLessThan(Math.min(bytes, SHEET_LIMITS.maxBytes) / MiB + RSS_MARGIN_MIB);
      expect(disk, f.what).toEqual({ created: [], left: [] });
    }
    // Two more that never touch the disk, streamed with no size given (the size limit then
    // applies only as bytes arrive): each must end at the one-record limit, long before.
    const streamed: [string, () => AsyncGenerator<Buffer>][] = [
      [
        'a CSV line of 1 GiB, streamed',
        async function* () {
          yield Buffer.from('nik,nama,alamat\n3210014508950012,');
          const chunk = Buffer.alloc(MiB, 'a');
          for (let i = 0; i < 1024; i += 1) yield chunk;
        },
      ],
      [
        'a quote opened and never closed across 200 MB, streamed',
        async function* () {
          yield Buffer.from('nik,nama,alamat\n3210014508950012,"Siti');
          const chunk = Buffer.from('Budi, Jl. Merdeka 1\n'.repeat(50_000));
          for (let i = 0; i < 200; i += 1) yield chunk;
        },
      ],
    ];
    for (const [what, chunks] of streamed) {
      const { outcome, ms, peakMiB, disk } = await measured(() => Readable.from(chunks()));
      table.push(`${what}: ${outcome.code ?? `${outcome.rows} rows`} in ${ms} ms, +${peakMiB} MiB`);
      expect(outcome, what).toEqual({ code: 'FILE_MALFORMED' });
      expect(ms, what).toBeLessThan(MAX_MS);
      expect(peakMiB, what).toBeLessThan(RSS_MARGIN_MIB);
      expect(disk, what).toEqual({ created: [], left: [] });
    }
    console.info(`hostile corpus, read in-process:\n  ${table.join('\n  ')}`);
  }, 240_000);

  it('reads a good workbook, its sheet before its strings as Excel writes it, without writing a byte to disk', async () => {
    const good = join(dir, 'corpus', 'good.xlsx');
    const { outcome, disk } = await measured(() => createReadStream(good), { size: statSync(good).size });
    expect(outcome).toEqual({ rows: 3000 });
    expect(disk).toEqual({ created: [], left: [] });
    // Stopped early, after its header or after some rows, as a caller that has seen enough does.
    const early = watchDir(tmp);
    (await openSheet(createReadStream(good))).close();
    const some = await openSheet(createReadStream(good));
    for await (const r of some.rows) if (r.row > 10) break;
    await new Promise((r) => setTimeout(r, 50));
    expect(early.stop()).toEqual({ created: [], left: [] });
  });

  it('says the limit it met, in both languages, and keeps row numbers across the empty lines it skips', async () => {
    const text = `nik,nama\n${'\n'.repeat(11)}1,Siti\n`;
    await expect(
      openSheet(text, { limits: { maxBlankRows: 10 } }).then((s) => s.rows[Symbol.asyncIterator]().next()),
    ).rejects.toMatchObject({
      problem: {
        code: 'FILE_TOO_MANY_BLANK_ROWS',
        message: { id: expect.stringContaining('10 baris kosong'), en: expect.stringContaining('10 empty rows') },
      },
    });
    const sheet = await openSheet(text, { limits: { maxBlankRows: 11 } });
    const rows = [];
    for await (const r of sheet.rows) rows.push(r);
    expect(rows).toEqual([{ row: 13, cells: ['1', 'Siti'] }]);
    await expect(openSheet('a,b,c\n1,2,3\n', { limits: { maxColumns: 2 } })).rejects.toMatchObject({
      problem: {
        code: 'FILE_TOO_MANY_COLUMNS',
        message: { id: expect.stringContaining('lebih dari 2 kolom'), en: expect.stringContaining('more than 2 columns') },
      },
    });
  });
});
