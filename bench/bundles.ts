/**
 * Bundles: what each Lambda carries and what it costs to load.
 *
 * Synthesizes the CDK app (`npx cdk synth -q`, which bundles every function with esbuild
 * exactly as a deployment does), or reads an existing cdk.out, finds each function's
 * asset folder through the synthesized template (AWS::Lambda::Function, Metadata
 * `aws:asset:path`, named by its `aws:cdk:path`), and reports per function:
 *
 *   bytes      the minified bundle, index.mjs (without its .map)
 *   import ms  a fresh Node process importing the bundle, median of N runs, minus the
 *              median for an empty module (so Node's own start-up is not counted); the
 *              runs go round-robin over all bundles, and the CPU time the process used is
 *              shown beside the wall clock, which a busy machine stretches
 *   top        the packages that make up most of the bundle, from its source map
 *
 * Budgets: every state-machine task ≤ 300 KB and ≤ 40 ms over an empty module; the pages'
 * authorizer the same (every person's page waits for its cold start); Pages ≤ 600 KB, and the
 * operators' console (Console, pages behind the same API) the same; ReadProposal ≤ 1.2 MB
 * (KB = 1,000 bytes). Exits 1 when any is over.
 *
 * Self-contained on purpose (node built-ins only; hence a little over 400 lines: the
 * template reading, the source-map tally and the table are here rather than shared), so it can run as a part of
 * `npm run bench` or alone:
 *
 *   npx tsx bench/bundles.ts [--cdk-out DIR] [--runs N] [--top N] [--json]
 *
 * `--cdk-out DIR` reads that folder as it is instead of synthesizing into cdk.out.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repoRoot = fileURLToPath(new URL('../', import.meta.url));

export type BundleKind = 'task' | 'authorizer' | 'pages' | 'console' | 'read-proposal';

export interface Budget {
  bytes: number;
  /** Import time over an empty module; only the state-machine tasks have one. */
  importMs?: number;
}

export const BUDGETS: Record<BundleKind, Budget> = {
  task: { bytes: 300_000, importMs: 40 },
  authorizer: { bytes: 300_000, importMs: 40 },
  pages: { bytes: 600_000 },
  // The operators' pages: Pages' budget (a page behind the same API, answered by its own Lambda).
  console: { bytes: 600_000 },
  'read-proposal': { bytes: 1_200_000 },
};

export interface BundleFigures {
  /** The construct id of the function: LoadCase, Pages, ReadProposal, … */
  name: string;
  kind: BundleKind;
  assetPath: string;
  bytes: number;
  /** Median import time minus the empty module's median, in ms (wall clock: what the budget is on). */
  importMs: number;
  /** The same for the CPU time the importing process used (all its threads): less sensitive to a busy machine. */
  importCpuMs: number;
  /** Every run's raw import time, wall clock, in ms. */
  runsMs: number[];
  budget: Budget;
  ok: boolean;
  /** The largest contributors (npm packages, or `(own code)`), from the source map. */
  top: { name: string; bytes: number }[];
}

export interface Result {
  machine: string;
  date: string;
  cdkOut: string;
  runs: number;
  /** Median import time of an empty module, in ms (wall clock, and CPU). */
  emptyMs: number;
  emptyCpuMs: number;
  /** 1-minute load average when the runs ended: import times on a busy machine are longer. */
  loadAverage: number;
  bundles: BundleFigures[];
  ok: boolean;
}

export interface BenchBundlesOptions {
  /** Read this cdk.out as it is; without it, `npx cdk synth -q` writes ./cdk.out first. */
  cdkOut?: string;
  /** Fresh processes per bundle (default 10). */
  runs?: number;
  /** How many contributors to keep per bundle (default 5). */
  top?: number;
  /** Print progress and the table (default true). */
  print?: boolean;
}

export function machine(): string {
  const cpu = cpus();
  return `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${process.platform}/${process.arch}`;
}

function kindOf(name: string): BundleKind {
  if (name === 'Pages') return 'pages';
  if (name === 'Console') return 'console';
  if (name === 'Authorize') return 'authorizer';
  if (name === 'ReadProposal') return 'read-proposal';
  return 'task';
}

function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((done, fail) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
    });
    child.once('error', fail);
    child.once('close', (code) => done({ code, stdout, stderr }));
  });
}

async function synth(): Promise<string> {
  const out = await run('npx', ['cdk', 'synth', '-q'], { cwd: repoRoot });
  if (out.code !== 0) throw new Error(`npx cdk synth -q exited ${out.code}:\n${out.stderr.slice(-4000)}`);
  return join(repoRoot, 'cdk.out');
}

interface TemplateResource {
  Type?: string;
  Metadata?: Record<string, unknown>;
}

/** Every bundled Lambda function in the synthesized templates: its name and asset folder. */
export async function functionAssets(cdkOut: string): Promise<{ name: string; assetPath: string }[]> {
  const templates = (await readdir(cdkOut)).filter((f) => f.endsWith('.template.json'));
  if (templates.length === 0) throw new Error(`no *.template.json in ${cdkOut}: synthesize first`);
  const found: { name: string; assetPath: string }[] = [];
  for (const file of templates) {
    const template = JSON.parse(await readFile(join(cdkOut, file), 'utf8')) as { Resources?: Record<string, TemplateResource> };
    for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
      if (resource.Type !== 'AWS::Lambda::Function') continue;
      const assetPath = resource.Metadata?.['aws:asset:path'];
      if (typeof assetPath !== 'string') continue; // inline code (CDK's own custom resources)
      const dir = resolve(cdkOut, assetPath);
      if (!(await stat(join(dir, 'index.mjs')).catch(() => undefined))) continue; // not one of our bundles
      const cdkPath = resource.Metadata?.['aws:cdk:path'];
      // `Prokus/LoadCase/Resource` → LoadCase; else the logical id without its hash.
      const name =
        typeof cdkPath === 'string' && cdkPath.split('/').length >= 3
          ? (cdkPath.split('/').at(-2) as string)
          : logicalId.replace(/[0-9A-F]{8}$/, '');
      found.push({ name, assetPath: dir });
    }
  }
  return found.sort((a, b) => a.name.localeCompare(b.name));
}

// One fresh process: import the module, print the wall and CPU milliseconds it took.
const IMPORT_SCRIPT =
  'const c = process.cpuUsage(); const t = performance.now(); const m = await import(process.env.BUNDLE_URL);' +
  ' const ms = performance.now() - t; const cpu = process.cpuUsage(c);' +
  " if (process.env.BUNDLE_EMPTY !== '1' && typeof m.handler !== 'function') throw new Error('no handler export');" +
  ' console.log(ms, (cpu.user + cpu.system) / 1000);';

interface ImportTime {
  ms: number;
  cpuMs: number;
}

async function importOnce(file: string, empty: boolean): Promise<ImportTime> {
  // Only what a module may need at import: Lambda always sets AWS_REGION. And no SDK notice
  // that Node 20 is too old: Lambda runs these bundles on Node 22, where there is none.
  const env = {
    PATH: process.env.PATH ?? '',
    AWS_REGION: 'ap-southeast-3',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    BUNDLE_URL: pathToFileURL(file).href,
    BUNDLE_EMPTY: empty ? '1' : '0',
  };
  const out = await run(process.execPath, ['--input-type=module', '-e', IMPORT_SCRIPT], { env, cwd: tmpdir() });
  const [ms, cpuMs] = (out.stdout.trim().split('\n').at(-1) ?? '').split(' ').map(Number);
  if (out.code !== 0 || !Number.isFinite(ms) || !Number.isFinite(cpuMs))
    throw new Error(`importing ${file} failed (exit ${out.code}):\n${out.stderr.slice(-2000)}`);
  return { ms: ms as number, cpuMs: cpuMs as number };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = new Map([...B64].map((c, i) => [c, i]));

/** Decodes one source-map line's segments: [generated column, source index] pairs, absolute. */
function* segments(mappings: string): Generator<{ line: number; column: number; source: number }> {
  let source = 0;
  let line = 0;
  for (const lineText of mappings.split(';')) {
    let column = 0;
    if (lineText) {
      for (const segment of lineText.split(',')) {
        const fields: number[] = [];
        let value = 0;
        let shift = 0;
        for (const c of segment) {
          const digit = B64_INDEX.get(c) ?? 0;
          value += (digit & 31) << shift;
          if (digit & 32) shift += 5;
          else {
            fields.push(value & 1 ? -(value >>> 1) : value >>> 1);
            value = 0;
            shift = 0;
          }
        }
        column += fields[0] ?? 0;
        if (fields.length >= 4) {
          source += fields[1] ?? 0;
          yield { line, column, source };
        } else yield { line, column, source: -1 };
      }
    }
    line++;
  }
}

/** `../../node_modules/@aws-sdk/client-s3/dist-es/x.js` → `@aws-sdk/client-s3`; our own files → `(own code)`. */
function packageOf(source: string): string {
  const i = source.lastIndexOf('node_modules/');
  if (i < 0) return '(own code)';
  const parts = source.slice(i + 'node_modules/'.length).split('/');
  return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] ?? source);
}

/** Bytes of the bundle per package, from its source map (generated columns between mappings). */
export async function contributors(bundle: string): Promise<Map<string, number>> {
  const code = await readFile(bundle, 'utf8');
  const totals = new Map<string, number>();
  const map = JSON.parse(await readFile(`${bundle}.map`, 'utf8').catch(() => 'null')) as {
    sources: string[];
    mappings: string;
  } | null;
  if (!map) return totals;
  const lines = code.split('\n');
  const add = (name: string, n: number) => totals.set(name, (totals.get(name) ?? 0) + n);
  let previous: { line: number; column: number; source: number } | undefined;
  const close = (until: { line: number; column: number } | undefined) => {
    if (!previous) return;
    const text = lines[previous.line] ?? '';
    const end = until && until.line === previous.line ? until.column : text.length + 1;
    const bytes = Buffer.byteLength(text.slice(previous.column, end));
    add(previous.source >= 0 ? packageOf(map.sources[previous.source] ?? '') : '(unmapped)', bytes);
  };
  for (const s of segments(map.mappings)) {
    close(s);
    previous = s;
  }
  close(undefined);
  return totals;
}

function kb(bytes: number): string {
  return bytes >= 1_000_000 ? `${(bytes / 1_000_000).toFixed(2)} MB` : `${(bytes / 1000).toFixed(1)} KB`;
}

function table(result: Result): string {
  const rows = [
    ['function', 'bytes', 'import ms over empty', 'CPU ms over empty', 'budget', 'verdict'],
    ...result.bundles.map((b) => [
      b.name,
      `${b.bytes.toLocaleString('en-US')} (${kb(b.bytes)})`,
      b.importMs.toFixed(1),
      b.importCpuMs.toFixed(1),
      `≤ ${kb(b.budget.bytes)}${b.budget.importMs !== undefined ? `, ≤ ${b.budget.importMs} ms` : ''}`,
      b.ok ? 'OK' : 'OVER',
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    `| ${r.map((c, i) => (i === 0 || i === 5 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [line(rows[0]!), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}

export async function benchBundles(opts: BenchBundlesOptions = {}): Promise<Result> {
  const runs = opts.runs ?? 10;
  const topN = opts.top ?? 5;
  const print = opts.print ?? true;
  const log = (s: string) => {
    if (print) process.stderr.write(`${s}\n`);
  };
  let cdkOut: string;
  if (opts.cdkOut) cdkOut = resolve(opts.cdkOut);
  else {
    log('bundles: npx cdk synth -q …');
    cdkOut = await synth();
  }
  const assets = await functionAssets(cdkOut);
  if (assets.length === 0) throw new Error(`no bundled Lambda functions found in ${cdkOut}`);

  const dir = await mkdtemp(join(tmpdir(), 'prokus-bundles-'));
  const empty = join(dir, 'empty.mjs');
  await writeFile(empty, '');
  const times = new Map<string, ImportTime[]>([[empty, []]]);
  const files = assets.map((a) => join(a.assetPath, 'index.mjs'));
  for (const f of files) times.set(f, []);
  try {
    // Round-robin, so a burst of load from elsewhere on the machine spreads over every bundle alike.
    for (let i = 0; i < runs; i++) {
      log(`bundles: import run ${i + 1}/${runs}`);
      times.get(empty)!.push(await importOnce(empty, true));
      for (const f of files) times.get(f)!.push(await importOnce(f, false));
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const emptyMs = median(times.get(empty)!.map((t) => t.ms));
  const emptyCpuMs = median(times.get(empty)!.map((t) => t.cpuMs));
  const loadAverage = loadavg()[0] ?? 0;

  const bundles: BundleFigures[] = [];
  for (const [i, a] of assets.entries()) {
    const file = files[i]!;
    const kind = kindOf(a.name);
    const budget = BUDGETS[kind];
    const bytes = (await stat(file)).size;
    const runsMs = times.get(file)!.map((t) => t.ms);
    const importMs = median(runsMs) - emptyMs;
    const importCpuMs = median(times.get(file)!.map((t) => t.cpuMs)) - emptyCpuMs;
    const ok = bytes <= budget.bytes && (budget.importMs === undefined || importMs <= budget.importMs);
    const top = [...(await contributors(file)).entries()]
      .sort((x, y) => y[1] - x[1])
      .slice(0, topN)
      .map(([name, n]) => ({ name, bytes: n }));
    bundles.push({ name: a.name, kind, assetPath: a.assetPath, bytes, importMs, importCpuMs, runsMs, budget, ok, top });
  }
  const result: Result = {
    machine: machine(),
    date: new Date().toISOString().slice(0, 10),
    cdkOut,
    runs,
    emptyMs,
    emptyCpuMs,
    loadAverage,
    bundles,
    ok: bundles.every((b) => b.ok),
  };
  if (print) {
    console.log(`Machine: ${result.machine}`);
    console.log(
      `Date: ${result.date}; ${runs} fresh processes per bundle; empty module ${emptyMs.toFixed(1)} ms ` +
        `(median; CPU ${emptyCpuMs.toFixed(1)} ms); load average ${loadAverage.toFixed(2)}\n`,
    );
    console.log(table(result));
    console.log('\nLargest contributors (bytes of index.mjs, from its source map):');
    for (const b of bundles) console.log(`  ${b.name}: ${b.top.map((t) => `${t.name} ${kb(t.bytes)}`).join(', ')}`);
    const over = bundles.filter((b) => !b.ok).map((b) => b.name);
    console.log(over.length ? `\nOVER budget: ${over.join(', ')}` : '\nEvery bundle within budget.');
  }
  return result;
}

function argValue(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}

function positiveInt(argv: string[], name: string): number | undefined {
  const raw = argValue(argv, name);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive whole number`);
  return n;
}

/** The row `npm run bench` prints for this part (the shape of bench/common.ts' BenchResult, kept here: this file imports nothing of ours). */
function summaryRow(result: Result, seconds: number) {
  const tasks = result.bundles.filter((b) => b.kind === 'task');
  const biggest = Math.max(...tasks.map((b) => b.bytes));
  const slowest = Math.max(...tasks.map((b) => b.importMs));
  const over = result.bundles.filter((b) => !b.ok).map((b) => b.name);
  return {
    name: 'bundles',
    size: result.bundles.length,
    unit: 'bundles',
    seconds,
    perSecond: result.bundles.length / seconds,
    peakRssMiB: 0,
    rssFrom: '-',
    ok: result.ok,
    notes:
      `largest task ${kb(biggest)} (budget ${kb(BUDGETS.task.bytes)}), slowest task import ${slowest.toFixed(0)} ms over an empty module ` +
      `(budget ${BUDGETS.task.importMs} ms); ${over.length ? `over budget: ${over.join(', ')}` : 'every bundle within budget'}`,
    marks: {},
  };
}

const started = performance.now();
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const argv = process.argv.slice(2);
  const json = argv.includes('--json');
  const result = await benchBundles({
    cdkOut: argValue(argv, 'cdk-out'),
    runs: positiveInt(argv, 'runs'),
    top: positiveInt(argv, 'top'),
    print: !json,
  });
  if (json) console.log(JSON.stringify(result, null, 2));
  // As a part of `npm run bench`: one summary row for the runner's table.
  const target = process.env.PROKUS_BENCH_RESULT;
  if (target) await writeFile(target, JSON.stringify([summaryRow(result, (performance.now() - started) / 1000)]));
  process.exitCode = result.ok ? 0 : 1;
}
