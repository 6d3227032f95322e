/**
 * `npm run bench`: the demo at benchmark size on the embedded runtime, with the figures
 * that matter for a district upload day on one machine: wall time, families per second,
 * peak memory — and the machine they ran on, since figures without it mean little.
 * Usage: npm run bench [-- --families N]
 */
import { cpus, totalmem } from 'node:os';
import { demoExitCode, runDemo } from './demo.ts';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} must be a positive whole number`);
  return value;
}

const families = arg('families', 1000);
const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${process.platform}/${process.arch}`;
console.log(`Machine: ${machine}`);
console.log(`Benchmark: demo journey end to end with ${families} families (embedded runtime, one process)`);

const started = process.hrtime.bigint();
const result = await runDemo({ families, timeoutMs: 30 * 60_000, progress: (line) => console.error(line) });
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const peakRssMiB = process.resourceUsage().maxRSS / 1024;

const rows: [string, string][] = [
  ['families', String(families)],
  ['wall time', `${seconds.toFixed(1)} s`],
  ['throughput', `${(families / seconds).toFixed(1)} families/s`],
  ['peak RSS', `${peakRssMiB.toFixed(0)} MiB`],
  ['outcomes', JSON.stringify(result.outcomes)],
  ['emails handled', String(result.privacy.checked.emails)],
  ['history events', String(result.privacy.checked.historyEvents)],
];
for (const [k, v] of rows) console.log(`${k.padEnd(16)} ${v}`);
process.exitCode = demoExitCode(result);
