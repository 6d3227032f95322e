/**
 * What the benchmark parts share: the machine they ran on, and the result each part
 * hands back to `npm run bench`. Each part runs in a process of its own, so its peak
 * RSS is its own and not that of the generator or of another part.
 */
import { writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { z } from 'zod';

export const BenchResult = z.object({
  name: z.string(),
  /** Rows, families or bundles processed. */
  size: z.number().int(),
  unit: z.enum(['rows', 'families', 'bundles', 'cases']),
  seconds: z.number(),
  perSecond: z.number(),
  peakRssMiB: z.number(),
  /** How peak RSS was measured. */
  rssFrom: z.string(),
  ok: z.boolean(),
  notes: z.string(),
  /** Further timings, in seconds (intake: first approval email, all approval emails). */
  marks: z.record(z.string(), z.number()).default({}),
});
export type BenchResult = z.infer<typeof BenchResult>;
export const BenchResults = z.array(BenchResult);

/** Figures without the machine mean little. */
export function machine(): string {
  const cpu = cpus();
  return `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${process.platform}/${process.arch}`;
}

/** A part writes its results where the runner asked (PROKUS_BENCH_RESULT), else prints them. */
export async function reportResults(results: BenchResult[]): Promise<void> {
  const target = process.env.PROKUS_BENCH_RESULT;
  if (target) await writeFile(target, JSON.stringify(results));
  else process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
}

export function intArg(name: string, fallback: number, argv = process.argv): number {
  const i = argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(argv[i + 1]) : fallback;
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} must be a positive whole number`);
  return value;
}

export const mib = (bytes: number) => bytes / 2 ** 20;
export const ownPeakRssMiB = () => process.resourceUsage().maxRSS / 1024;
export const seconds = (since: bigint) => Number(process.hrtime.bigint() - since) / 1e9;
