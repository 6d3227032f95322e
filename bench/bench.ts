/**
 * `npm run bench`: the figures that matter for a national upload day on one machine,
 * with the machine they ran on.
 *
 *   bundles   every Lambda bundle `cdk synth` makes: bytes and fresh-process import time against budget
 *   validate  `prokus validate --json` on a 100,000-row CSV and XLSX (rows/s, peak RSS)
 *   intake    embedded intake of 10,000 rows up to the grant approval emails
 *   demo      the whole journey of 1,000 families end to end
 *   console   the operators' console's server time with 10,000 cases in the store
 *
 * Each part runs in a process of its own (bench/<part>.ts): one runtime per
 * process, and a peak RSS that belongs to that part alone.
 *
 * Usage: npm run bench [-- --only bundles,validate,intake] [--rows N] [--intake-rows N] [--families N] [--cases N]
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Table from 'cli-table3';
import { type BenchResult, BenchResults, intArg, machine } from './common.ts';

const PARTS = ['bundles', 'validate', 'intake', 'demo', 'console'] as const;
type Part = (typeof PARTS)[number];

function parts(argv: string[]): Part[] {
  const i = argv.indexOf('--only');
  if (i < 0) return [...PARTS];
  const chosen = (argv[i + 1] ?? '').split(',').filter(Boolean);
  const unknown = chosen.filter((p) => !(PARTS as readonly string[]).includes(p));
  if (chosen.length === 0 || unknown.length > 0) throw new Error(`--only takes ${PARTS.join(', ')} (comma-separated)`);
  return chosen as Part[];
}

function partArgs(part: Part, argv: string[]): string[] {
  switch (part) {
    case 'bundles':
      return [];
    case 'validate':
      return ['--rows', String(intArg('rows', 100_000, argv))];
    case 'intake':
      return ['--rows', String(intArg('intake-rows', 10_000, argv))];
    case 'demo':
      return ['--families', String(intArg('families', 1000, argv))];
    case 'console':
      return ['--cases', String(intArg('cases', 10_000, argv))];
  }
}

async function runPart(part: Part, args: string[], dir: string): Promise<BenchResult[]> {
  const resultFile = join(dir, `${part}.json`);
  const script = new URL(`${part}.ts`, import.meta.url).pathname;
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    stdio: 'inherit',
    env: { ...process.env, PROKUS_BENCH_RESULT: resultFile },
  });
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  try {
    return BenchResults.parse(JSON.parse(await readFile(resultFile, 'utf8')));
  } catch {
    return [
      {
        name: part,
        size: 0,
        unit: 'rows',
        seconds: 0,
        perSecond: 0,
        peakRssMiB: 0,
        rssFrom: '-',
        ok: false,
        notes: `the part exited ${code} without results`,
        marks: {},
      },
    ];
  }
}

const argv = process.argv.slice(2);
const chosen = parts(argv);
console.log(`Machine: ${machine()}`);
console.log(`Date: ${new Date().toISOString().slice(0, 10)}; parts: ${chosen.join(', ')}\n`);
const dir = await mkdtemp(join(tmpdir(), 'prokus-bench-'));
const results: BenchResult[] = [];
try {
  for (const part of chosen) {
    results.push(...(await runPart(part, partArgs(part, argv), dir)));
    console.log('');
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}

const table = new Table({
  head: ['benchmark', 'size', 'wall time', 'throughput', 'peak RSS', 'ok'],
  style: { head: [], border: [] },
});
for (const r of results) {
  table.push([
    r.name,
    `${r.size.toLocaleString('en')} ${r.unit}`,
    `${r.seconds.toFixed(1)} s`,
    `${r.perSecond >= 100 ? Math.round(r.perSecond).toLocaleString('en') : r.perSecond.toFixed(1)} ${r.unit}/s`,
    `${r.peakRssMiB.toFixed(0)} MiB`,
    r.ok ? 'yes' : 'NO',
  ]);
}
console.log(`Machine: ${machine()}`);
console.log(table.toString());
for (const r of results) {
  const marks = Object.entries(r.marks).map(([k, v]) => `${k} ${v.toFixed(1)} s`);
  console.log(`${r.name}: ${r.notes}${marks.length ? `; ${marks.join(', ')}` : ''} (peak RSS from ${r.rssFrom})`);
}
process.exitCode = results.every((r) => r.ok) ? 0 : 1;
