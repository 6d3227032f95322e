/**
 * Bench part: `prokus validate --json` on a generated proposal file of 100,000 rows, as
 * CSV and as XLSX, with realistic damaged rows. The validator runs as the real command
 * in a child process, so the peak RSS is the validator's own: GNU time's figure when
 * /usr/bin/time is there, else the one the command reports itself (PROKUS_REPORT_RSS).
 * Its JSON goes to a file, which is then checked against what the generator damaged.
 *
 * Usage: node --import tsx bench/validate.ts [--rows N] [--formats csv,xlsx]
 */
import { spawn } from 'node:child_process';
import { constants, openSync } from 'node:fs';
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import {
  type ProposalFormat,
  proposalRows,
  ROW_DAMAGES,
  ROW_WARNINGS,
  synthesizeFamilies,
  type WrittenProposal,
  writeProposalCsv,
  writeProposalXlsx,
} from '../cli/synthetic.ts';
import { type BenchResult, intArg, mib, reportResults, seconds } from './common.ts';

const shim = new URL('../cli/prokus.js', import.meta.url).pathname;
const DISTRICT = '3210';

const Output = z.union([
  z.object({
    rows: z.array(z.object({ row: z.number(), status: z.string() })),
    summary: z.object({ accepted: z.number(), warning: z.number(), rejected: z.number() }),
  }),
  z.object({ error: z.object({ code: z.string(), message: z.object({ en: z.string() }) }) }),
]);

async function gnuTime(): Promise<boolean> {
  try {
    await access('/usr/bin/time', constants.X_OK);
  } catch {
    return false;
  }
  const probe = spawn('/usr/bin/time', ['-v', 'true'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  probe.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const code = await new Promise<number | null>((r) => probe.once('exit', r));
  return code === 0 && err.includes('Maximum resident set size');
}

interface Run {
  code: number | null;
  seconds: number;
  peakRssMiB: number;
  stderr: string;
}

async function runValidator(file: string, out: string, useTime: boolean): Promise<Run> {
  const args = [shim, 'validate', file, '--district', DISTRICT, '--year', '2020', '--json'];
  const [exe, argv] = useTime ? ['/usr/bin/time', ['-v', process.execPath, ...args]] : [process.execPath, args];
  const started = process.hrtime.bigint();
  const child = spawn(exe as string, argv as string[], {
    stdio: ['ignore', openSync(out, 'w'), 'pipe'],
    env: { ...process.env, PROKUS_REPORT_RSS: '1', NODE_OPTIONS: '' },
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  const wall = seconds(started);
  const gnu = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)?.[1];
  const own = /prokus: peak RSS (\d+) KiB/.exec(stderr)?.[1];
  const kib = Number(gnu ?? own ?? Number.NaN);
  return { code, seconds: wall, peakRssMiB: kib / 1024, stderr };
}

const rows = intArg('rows', 100_000);
const formatsArg = process.argv.indexOf('--formats');
const formats = (formatsArg >= 0 ? (process.argv[formatsArg + 1] ?? '') : 'csv,xlsx').split(',') as ProposalFormat[];
const useTime = await gnuTime();
const dir = await mkdtemp(join(tmpdir(), 'prokus-bench-validate-'));
const results: BenchResult[] = [];
try {
  for (const format of formats) {
    const file = join(dir, `usulan-${rows}.${format}`);
    const generating = process.hrtime.bigint();
    const generated = proposalRows(synthesizeFamilies(rows, { districts: [DISTRICT], ineligibleShare: 0 }), { format });
    const written: WrittenProposal =
      format === 'csv' ? await writeProposalCsv(file, generated) : await writeProposalXlsx(file, generated);
    console.log(
      `validate ${format}: generated ${rows.toLocaleString('en')} rows, ${mib(written.bytes).toFixed(1)} MiB in ${seconds(generating).toFixed(1)} s`,
    );
    const expectedRejected = ROW_DAMAGES.reduce((n, d) => n + (written.damages[d] ?? 0), 0);
    const expectedWarning = ROW_WARNINGS.reduce((n, d) => n + (written.damages[d] ?? 0), 0);

    const out = join(dir, `validate-${format}.json`);
    const run = await runValidator(file, out, useTime);
    const parsed = Output.safeParse(JSON.parse((await readFile(out, 'utf8')) || 'null'));
    let ok = false;
    let notes: string;
    if (!parsed.success) {
      notes = `no JSON report (exit ${run.code}): ${run.stderr.split('\n').slice(0, 3).join(' ')}`;
    } else if ('error' in parsed.data) {
      notes = `file refused (exit ${run.code}): ${parsed.data.error.code}`;
    } else {
      const s = parsed.data.summary;
      ok = run.code === 0 && parsed.data.rows.length === rows && s.rejected === expectedRejected && s.warning === expectedWarning;
      notes = `${mib(written.bytes).toFixed(1)} MiB file; ${s.accepted} accepted, ${s.warning} warning, ${s.rejected} rejected (expected ${expectedRejected} rejected, ${expectedWarning} warning)`;
    }
    const result: BenchResult = {
      name: `validate ${format.toUpperCase()}`,
      size: rows,
      unit: 'rows',
      seconds: run.seconds,
      perSecond: rows / run.seconds,
      peakRssMiB: run.peakRssMiB,
      rssFrom: useTime ? '/usr/bin/time -v' : 'the command (PROKUS_REPORT_RSS)',
      ok,
      notes,
      marks: {},
    };
    console.log(
      `  ${run.seconds.toFixed(1)} s, ${Math.round(result.perSecond).toLocaleString('en')} rows/s, peak RSS ${run.peakRssMiB.toFixed(0)} MiB (${result.rssFrom}); ${notes}`,
    );
    results.push(result);
    await rm(file, { force: true });
    await rm(out, { force: true });
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
await reportResults(results);
process.exitCode = results.every((r) => r.ok) ? 0 : 1;
