/**
 * Bench part: the demo at benchmark size, the whole journey of every family on the
 * embedded runtime in this process. Usage: node --import tsx bench/demo.ts [--families N]
 */
import { demoExitCode, runDemo } from '../cli/demo.ts';
import { type BenchResult, intArg, ownPeakRssMiB, reportResults, seconds } from './common.ts';

const families = intArg('families', 1000);
console.log(`demo: the whole journey of ${families} families (embedded runtime, one process)`);
const started = process.hrtime.bigint();
const result = await runDemo({ families, timeoutMs: 30 * 60_000, progress: (line) => console.error(line) });
const wall = seconds(started);
const o = result.outcomes;
const summary: BenchResult = {
  name: 'demo: whole journey',
  size: families,
  unit: 'families',
  seconds: wall,
  perSecond: families / wall,
  peakRssMiB: ownPeakRssMiB(),
  rssFrom: 'process.resourceUsage()',
  ok: demoExitCode(result) === 0,
  notes: `${o.graduated} graduated, ${o.ineligible} ineligible, ${o.rejected} rejected, ${o.failed} failed; ${result.privacy.checked.emails} emails, ${result.privacy.checked.historyEvents} history events`,
  marks: {},
};
console.log(`  ${summary.notes}`);
await reportResults([summary]);
process.exitCode = summary.ok ? 0 : 1;
