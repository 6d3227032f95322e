/**
 * `prokus validate`: the dry run a district officer does before uploading. Every check
 * the upload makes, on a file on this machine, with nothing stored and nothing started.
 * Only "already proposed in an earlier file" is left out: it needs the case store, and
 * the output says so.
 *
 * The rows are checked by intake's dry run (functions/intake/proposal-dry-run.ts, which
 * the upload page's check runs too), one at a time. Each row's result
 * goes to a spool (memory, then a temporary file past a few MiB), and the output is
 * written from the spool once the whole file has been read: a file that turns out to be
 * unreadable at row 90,000 (a broken quote, the size limit) must print one error, not
 * 90,000 rows and then an error. So memory stays flat and stdout gets either a complete
 * report or a file error.
 *
 * This file is the check; validate-report.ts writes its result, validate-command.ts is the command.
 */
import { closeSync, createReadStream, mkdtempSync, openSync, writeSync } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { Transform } from 'node:stream';
import type { RowResult, RowStatus } from '#intake/proposal';
import { dryRunProposal, dryRunTarget, type JsonFinding, type NoteTally, toJsonRow } from '#intake/proposal-dry-run';
import type { FileProblem, SheetFormat } from '#intake/sheet';

export { type JsonFinding, type JsonRow, NOT_CHECKED_OFFLINE, type NoteTally } from '#intake/proposal-dry-run';

/** A file that could not be checked at all: `prokus validate` exits 1 with it. */
export class ValidateError extends Error {
  override readonly name = 'ValidateError';
  constructor(readonly problem: FileProblem) {
    super(`${problem.code}: ${problem.message.en}`);
  }
}

export const validateProblems = {
  notFound: (file: string): FileProblem => ({
    code: 'FILE_NOT_FOUND',
    message: {
      id: `Berkas tidak ditemukan atau tidak dapat dibaca: ${file}`,
      en: `The file does not exist or cannot be read: ${file}`,
    },
  }),
  /** The check stopped waiting on something that would never come (a bug, said as one; never a silent exit 13). */
  unsettled: {
    code: 'CHECK_UNFINISHED',
    message: {
      id: 'Pemeriksaan berhenti sebelum selesai karena kesalahan program, bukan karena berkas Anda. Laporkan ke tim Prokus beserta berkasnya.',
      en: 'The check stopped before it finished because of a fault in the program, not in your file. Report it to the Prokus team with the file.',
    },
  },
} satisfies Record<string, FileProblem | ((...args: never[]) => FileProblem)>;

export interface ValidateRequest {
  /** The path as the officer typed it; reported back as `file`. */
  file: string;
  district: string;
  /** The latest configured program year when omitted, as on upload. */
  programYear?: number;
  today?: Date;
  /** Called every few hundred rows with bytes read so far. */
  onProgress?: (p: { bytes: number; totalBytes: number; rows: number }) => void;
}

export interface Validation {
  file: string;
  district: string;
  districtName: string;
  programYear: number;
  format: SheetFormat;
  /** The XLSX sheet that was read. */
  sheetName?: string;
  totalBytes: number;
  summary: Record<RowStatus, number>;
  fileWarnings: FileProblem[];
  notChecked: FileProblem[];
  notes: NoteTally[];
  /** Every row's JSON (`JsonRow`), one per line, in file order. Single use. */
  rows: LineSpool;
}

/**
 * Lines kept in memory up to `memoryLimit` characters, then in a private temporary
 * file. Replayed once, in order, then removed.
 */
export class LineSpool {
  #memory: string[] = [];
  #memoryChars = 0;
  #pending = '';
  #fd: number | undefined;
  #dir: string | undefined;
  #count = 0;

  constructor(readonly memoryLimit = 4 * 2 ** 20) {}

  get count(): number {
    return this.#count;
  }

  /** The temporary file, once the lines no longer fit in memory. */
  get spillFile(): string | undefined {
    return this.#dir && join(this.#dir, 'rows.ndjson');
  }

  push(line: string): void {
    this.#count += 1;
    if (this.#fd === undefined) {
      this.#memory.push(line);
      this.#memoryChars += line.length + 1;
      if (this.#memoryChars <= this.memoryLimit) return;
      this.#dir = mkdtempSync(join(tmpdir(), 'prokus-validate-'));
      this.#fd = openSync(join(this.#dir, 'rows.ndjson'), 'w', 0o600);
      this.#pending = `${this.#memory.join('\n')}\n`;
      this.#memory = [];
    } else {
      this.#pending += `${line}\n`;
    }
    if (this.#pending.length >= 256 * 1024) this.#flush();
  }

  #flush(): void {
    if (this.#fd === undefined || this.#pending === '') return;
    writeSync(this.#fd, this.#pending);
    this.#pending = '';
  }

  async *lines(): AsyncGenerator<string> {
    if (this.#fd === undefined) {
      yield* this.#memory;
      this.#memory = [];
      return;
    }
    this.#flush();
    closeSync(this.#fd);
    this.#fd = undefined;
    const dir = this.#dir as string;
    const input = createReadStream(join(dir, 'rows.ndjson'), 'utf8');
    try {
      for await (const line of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) if (line) yield line;
    } finally {
      input.destroy();
    }
  }

  async dispose(): Promise<void> {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
    this.#memory = [];
    if (this.#dir) await rm(this.#dir, { recursive: true, force: true });
  }
}

function districtOf(district: string, programYear: number | undefined): { name: string; programYear: number } {
  const target = dryRunTarget(district, programYear);
  if (!target.ok) throw new ValidateError(target.problem);
  return { name: target.districtName, programYear: target.programYear };
}

/** A rejected row as the text report keeps it: findings with their severity. */
export interface TextRow {
  row: number;
  errors: (JsonFinding & { severity: 'error' | 'warning' })[];
}

const toTextRow = (r: RowResult): TextRow => ({
  row: r.row,
  errors: r.errors.map((f) => ({ code: f.code, field: f.field, severity: f.severity, message: f.message })),
});

/**
 * Checks the file. Throws ValidateError when it cannot be checked at all (missing,
 * unknown district or year, or what the sheet reader refuses: empty, header only,
 * missing columns, not a spreadsheet, too large). `report` chooses what the spool keeps:
 * every row in the JSON shape, or for the text report only the rejected rows, with each
 * finding's severity so a note among the errors can be told apart.
 */
export async function validateProposal(req: ValidateRequest, report: 'json' | 'text' = 'json'): Promise<Validation> {
  const { name, programYear } = districtOf(req.district, req.programYear);
  let totalBytes: number;
  try {
    const info = await stat(req.file);
    if (!info.isFile()) throw new Error('not a file');
    totalBytes = info.size;
  } catch {
    throw new ValidateError(validateProblems.notFound(req.file));
  }

  let bytes = 0;
  let rows = 0;
  const counted = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  const source = createReadStream(req.file);
  source.on('error', (e) => counted.destroy(e));
  source.pipe(counted);

  const spool = new LineSpool();
  try {
    const result = await dryRunProposal(
      counted,
      // The size lets the reader refuse a file over its limit before reading a byte of it.
      {
        district: req.district,
        programYear,
        fileName: basename(req.file),
        size: totalBytes,
        ...(req.today ? { today: req.today } : {}),
      },
      (r) => {
        rows += 1;
        if (report === 'json') spool.push(JSON.stringify(toJsonRow(r)));
        else if (r.status === 'rejected') spool.push(JSON.stringify(toTextRow(r)));
        if (req.onProgress && rows % 500 === 0) req.onProgress({ bytes, totalBytes, rows });
      },
    );
    if (!result.ok) throw new ValidateError(result.problem);
    req.onProgress?.({ bytes: totalBytes, totalBytes, rows });
    return {
      file: req.file,
      district: req.district,
      districtName: name,
      programYear,
      format: result.format,
      ...(result.sheetName ? { sheetName: result.sheetName } : {}),
      totalBytes,
      summary: result.summary,
      fileWarnings: result.fileWarnings,
      notChecked: result.notChecked,
      notes: result.notes,
      rows: spool,
    };
  } catch (e) {
    await spool.dispose();
    if ((e as NodeJS.ErrnoException).code === 'EISDIR' || (e as NodeJS.ErrnoException).code === 'EACCES') {
      throw new ValidateError(validateProblems.notFound(req.file));
    }
    throw e;
  } finally {
    source.destroy();
  }
}
