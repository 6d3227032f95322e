/**
 * The hostile-file corpus (test/helpers/hostile-files.ts) through `prokus validate` as an
 * officer runs it, a process of its own: each file ends within seconds with its named
 * error as JSON on stdout and exit 1 (never exit 13 with nothing said, issue 7.7), its
 * peak memory bounded, and nothing left in (or ever written to) its temporary directory.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHEET_LIMITS } from '#intake/sheet';
import { cliEnv, shim } from '../helpers/cli.ts';
import { type HostileFile, watchDir, writeHostileCorpus } from '../helpers/hostile-files.ts';
import { ValidateErrorJson } from './validate-schema.ts';

const MiB = 1024 * 1024;
/**
 * Generous: Node, tsx and the checks load in 1.5-4 s of it, and the slowest file (10
 * million shared strings, refused at the 1.5 millionth) takes about 3 s more alone, up to
 * three times that while the rest of the suite and other work share the two cores.
 */
const MAX_MS = 30_000;
/**
 * Peak resident memory of the whole process: Node with tsx and the checks is about 150 MiB
 * before it reads a byte; the reader may add at most the file (an XLSX is read from
 * memory) and what the corpus makes of the shared-string table, far below its limit.
 */
const MAX_RSS_MIB = 200 + SHEET_LIMITS.maxBytes / MiB;

let dir: string;
let tmp: string;
let corpus: HostileFile[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prokus-validate-hostile-'));
  tmp = join(dir, 'tmp');
  await mkdir(tmp, { mode: 0o700 });
  await mkdir(join(dir, 'corpus'));
  corpus = await writeHostileCorpus(join(dir, 'corpus'));
}, 60_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
  peakMiB: number;
}

/** The process's high-water mark of resident memory, from /proc while it runs. */
function highWater(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

function validate(file: string): Promise<Run> {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(process.execPath, [shim, 'validate', file, '--district', '3210', '--year', '2020', '--json'], {
      cwd: dir,
      env: { ...cliEnv(), TMPDIR: tmp },
    });
    let stdout = '';
    let stderr = '';
    let peak = 0;
    const timer = setInterval(() => {
      if (child.pid) peak = Math.max(peak, highWater(child.pid));
    }, 20);
    // Past the bound the test has failed already; stop a hung process rather than wait for it.
    const kill = setTimeout(() => child.kill('SIGKILL'), MAX_MS * 2);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('exit', (code) => {
      clearInterval(timer);
      clearTimeout(kill);
      resolve({ code, stdout, stderr, ms: Math.round(performance.now() - started), peakMiB: Math.round(peak) });
    });
  });
}

describe('prokus validate on hostile files', () => {
  it('ends every file of the corpus within seconds, with its named error as JSON, leaving nothing on disk', async () => {
    const table: string[] = [];
    // Two at a time: the machine has two cores, and the bound is generous.
    const queue = [...corpus];
    const results = new Map<HostileFile, Run>();
    const watched = watchDir(tmp);
    await Promise.all(
      [0, 1].map(async () => {
        for (let f = queue.shift(); f; f = queue.shift()) results.set(f, await validate(f.file));
      }),
    );
    await new Promise((r) => setTimeout(r, 50));
    // tsx keeps its compiled copy of our own source there (tsx-<uid>): code, not a proposal.
    const notTsx = (name: string) => !/^tsx-\d+$/.test(name);
    const seen = watched.stop();
    const disk = { created: seen.created.filter((f) => notTsx(f.name)), left: seen.left.filter(notTsx) };
    for (const f of corpus) {
      const r = results.get(f) as Run;
      const error = r.stdout.trim() === '' ? undefined : ValidateErrorJson.safeParse(JSON.parse(r.stdout)).data?.error;
      table.push(`${f.what}: exit ${r.code}, ${error?.code ?? r.stdout.slice(0, 80)} in ${r.ms} ms, peak ${r.peakMiB} MiB`);
      expect(r.code, `${f.what}: ${r.stderr}`).toBe(1);
      expect(f.codes, f.what).toContain(error?.code);
      expect(error?.message.id, f.what).toBeTruthy();
      expect(r.ms, f.what).toBeLessThan(MAX_MS);
      expect(r.peakMiB, f.what).toBeLessThan(MAX_RSS_MIB);
    }
    console.info(`hostile corpus, through prokus validate:\n  ${table.join('\n  ')}`);
    // Nothing read from a proposal stays on disk; here nothing was written at all.
    expect(disk).toEqual({ created: [], left: [] });
  }, 300_000);
});
