/**
 * Bench part: the embedded intake of one big district file, up to the grant approval
 * emails. A runtime in a temporary folder, a PKH registry for the families, one
 * proposal CSV (one district) uploaded the way `prokus upload` does; then the clock runs
 * until the intake execution has ended, the first approval email is in the outbox, and
 * every journey has reached its approval wait (or ended at verification). Bounded by a
 * timeout; the runtime is polled, never waited on blindly.
 *
 * Usage: node --import tsx bench/intake.ts [--rows N] [--timeout-minutes M]
 */
import { createHash } from 'node:crypto';
import { mkdtemp, open, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { proposalRows, ROW_DAMAGES, registryCsv, synthesizeFamilies, writeProposalCsv } from '../cli/synthetic.ts';
import { listAllExecutions, startRuntime } from '../embedded/runtime/index.ts';
import { type BenchResult, intArg, ownPeakRssMiB, reportResults, seconds } from './common.ts';

const DISTRICT = '3210';
const rows = intArg('rows', 10_000);
const timeoutMs = intArg('timeout-minutes', 30) * 60_000;

/** The kind header sits in the first lines of an .eml: no need to parse the whole mail. */
async function kindOf(file: string): Promise<string | undefined> {
  const handle = await open(file);
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(4096), 0, 4096, 0);
    return /^X-Prokus-Kind:\s*(\S+)/im.exec(buffer.subarray(0, bytesRead).toString('utf8'))?.[1];
  } finally {
    await handle.close();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

console.log(`intake: ${rows.toLocaleString('en')} rows of one district (${DISTRICT}) up to the grant approval emails`);
const dataDir = await mkdtemp(join(tmpdir(), 'prokus-bench-intake-'));
// A secret from a constant, as in the demo: a throw-away run that can be repeated.
await writeFile(join(dataDir, 'secret'), `${createHash('sha256').update('prokus-bench-intake').digest('hex')}\n`, {
  mode: 0o600,
});
const runtime = await startRuntime({ dataDir, port: 0, quiet: true });
let result: BenchResult | undefined;
try {
  const families = [...synthesizeFamilies(rows, { districts: [DISTRICT], ineligibleShare: 0.1, seed: 2020 })];
  const { loadKeys } = await import('#lib/secrets');
  const { importRegistry } = await import('#intake/registry-import');
  await loadKeys();
  const imported = await importRegistry(registryCsv(families));
  const file = join(dataDir, `usulan-${DISTRICT}-${rows}.csv`);
  const written = await writeProposalCsv(file, proposalRows(families, { format: 'csv', damagedShare: 0.02, warningShare: 0.01 }));
  const rejected = ROW_DAMAGES.reduce((n, d) => n + (written.damages[d] ?? 0), 0);
  console.log(`  registry: ${imported.imported} records; file: ${written.rows} rows, ${rejected} of them damaged`);

  const started = process.hrtime.bigint();
  await runtime.upload(file, { district: DISTRICT, programYear: 2020, uploader: 'operator@dinsos.example' });

  const marks: Record<string, number> = {};
  const seen = new Set<string>();
  let approvals = 0;
  let intakeStatus = 'RUNNING';
  let accepted = 0;
  let lastReport = Date.now();
  let quiet = 0;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const f of (await readdir(runtime.outboxDir)).filter((f) => f.endsWith('.eml') && !seen.has(f))) {
      seen.add(f);
      if ((await kindOf(join(runtime.outboxDir, f))) !== 'grant-approval') continue;
      approvals += 1;
      marks['first approval email'] ??= seconds(started);
    }
    const intake = listAllExecutions(runtime.engine, runtime.intakeArn)[0];
    if (intake && intake.status !== 'RUNNING' && intakeStatus === 'RUNNING') {
      intakeStatus = intake.status;
      marks['intake done'] = seconds(started);
      const out = intake.output ? (JSON.parse(intake.output) as { intake?: { accepted?: number } }) : {};
      accepted = out.intake?.accepted ?? 0;
    }
    const { running, waitingForTask } = runtime.engine.activity();
    // Done when the intake has ended and every journey still running waits for its approver.
    quiet = intakeStatus !== 'RUNNING' && running === waitingForTask ? quiet + 1 : 0;
    if (quiet >= 3) break;
    if (Date.now() - lastReport > 10_000) {
      const failed = listAllExecutions(runtime.engine, runtime.journeyArn, 'FAILED').length;
      console.error(
        `  ${seconds(started).toFixed(0)} s: intake ${intakeStatus}, ${running} executions running, ${approvals} approval emails, ${failed} journeys failed`,
      );
      lastReport = Date.now();
    }
    await sleep(200);
  }
  const wall = seconds(started);
  const finished = quiet >= 3;
  marks['all approval emails'] = wall;
  const byStatus: Record<string, number> = {};
  for (const e of listAllExecutions(runtime.engine, runtime.journeyArn)) byStatus[e.status] = (byStatus[e.status] ?? 0) + 1;
  const journeys = Object.values(byStatus).reduce((a, b) => a + b, 0);
  const failed = byStatus.FAILED ?? 0;
  result = {
    name: 'intake to approval emails',
    size: rows,
    unit: 'rows',
    seconds: wall,
    perSecond: rows / wall,
    peakRssMiB: ownPeakRssMiB(),
    rssFrom: 'process.resourceUsage()',
    // A journey that failed (a task timing out under load) is a failed benchmark, whatever the speed.
    ok: finished && intakeStatus === 'SUCCEEDED' && approvals > 0 && failed === 0,
    notes: `${finished ? '' : 'TIMED OUT; '}intake ${intakeStatus}, ${accepted} accepted, ${journeys} journeys (${Object.entries(
      byStatus,
    )
      .map(([k, v]) => `${v} ${k.toLowerCase()}`)
      .join(', ')}), ${approvals} approval emails`,
    marks,
  };
  const at = Object.entries(marks).map(([k, v]) => `${k} ${v.toFixed(1)} s`);
  console.log(
    `  ${at.join(', ')}; ${result.perSecond.toFixed(0)} rows/s, peak RSS ${result.peakRssMiB.toFixed(0)} MiB; ${result.notes}`,
  );
} finally {
  await runtime.stop();
  await rm(dataDir, { recursive: true, force: true });
}
if (result) await reportResults([result]);
process.exitCode = result?.ok ? 0 : 1;
