/**
 * Bench part: the operators' console's server time with many cases in the store. A
 * runtime in a temporary folder; cases written the way intake writes them (createCase,
 * each with its funnel counters in the same transaction), spread over the five pilot
 * districts and every stage; then an operator signed in over HTTP asks for the dashboard,
 * a filtered case list and a case's timeline, each several times (median and slowest).
 * The dashboard is measured at a tenth of the cases and at all of them: its reads (items
 * and read units of the one Query) must not grow with the cases.
 *
 * Usage: node --import tsx bench/console.ts [--cases N] [--repeat R]
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Browser, signInWithPassword } from '../cli/browser.ts';
import { ensureDemoAccounts, OPERATOR_EMAIL } from '../cli/demo-accounts.ts';
import { PILOT_DISTRICTS } from '../cli/synthetic.ts';
import { startRuntime } from '../embedded/runtime/index.ts';
import { type BenchResult, intArg, ownPeakRssMiB, reportResults, seconds } from './common.ts';

const total = intArg('cases', 10_000);
const repeat = intArg('repeat', 15);

console.log(`console: ${total.toLocaleString('en')} cases in the store; dashboard, filtered list, timeline × ${repeat}`);
const dataDir = await mkdtemp(join(tmpdir(), 'prokus-bench-console-'));
await writeFile(join(dataDir, 'secret'), `${createHash('sha256').update('prokus-bench-console').digest('hex')}\n`, {
  mode: 0o600,
});
const runtime = await startRuntime({ dataDir, port: 0, quiet: true });
let result: BenchResult | undefined;

const STAGES = ['verification', 'grant-approval', 'disbursement', 'mentoring', 'financing-referral', 'closed'] as const;

async function writeCases(from: number, to: number): Promise<void> {
  const { createCase } = await import('#store/cases');
  const { caseIdFor } = await import('#domain/case');
  const { hashId, seal } = await import('#lib/secrets');
  const sealed = seal({
    nik: '0',
    kk: '0',
    nama: 'x',
    tanggalLahir: '1990-01-01',
    jenisKelamin: 'P',
    alamat: 'x',
    kecamatan: 'x',
    desa: 'x',
    noHp: '0',
  });
  const at = new Date(Date.now() - 40 * 86_400_000).toISOString();
  const one = async (i: number) => {
    const district = PILOT_DISTRICTS[i % PILOT_DISTRICTS.length] as string;
    const nikHash = hashId('nik', `${district}${String(i).padStart(12, '0')}`);
    const stage = STAGES[Math.floor(i / PILOT_DISTRICTS.length) % STAGES.length] ?? 'verification';
    const later = stage !== 'verification';
    await createCase({
      caseId: caseIdFor(district, 2020, nikHash),
      district,
      programYear: 2020,
      stage,
      ...(stage === 'closed' ? { outcome: 'graduated' as const } : {}),
      nikHash,
      kkHash: hashId('kk', `${district}${i}`),
      nikMasked: `${district}********${String(i % 10_000).padStart(4, '0')}`,
      personal: sealed,
      business: { type: 'kuliner', description: 'x', months: 12, monthlyRevenue: 1_500_000 },
      proposal: { uploadId: 'bench', key: `proposals/${district}/bench.csv`, row: i + 2, proposedAt: at },
      intakeWarnings: [],
      journeyRuns: 1,
      ...(later ? { verification: { eligible: true, reasons: [], explanation: [], ruleVersion: '2020.1', at } } : {}),
      milestones: {},
      createdAt: at,
      updatedAt: at,
      stageSince: at,
    });
  };
  const queue = Array.from({ length: to - from }, (_, k) => from + k);
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      for (let i = queue.shift(); i !== undefined; i = queue.shift()) await one(i);
    }),
  );
}

async function timed(browser: Browser, url: string): Promise<{ median: number; max: number }> {
  const times: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const started = process.hrtime.bigint();
    const page = await browser.get(url);
    if (page.status !== 200) throw new Error(`${url}: ${page.status}`);
    times.push(seconds(started) * 1000);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)] ?? 0, max: times.at(-1) ?? 0 };
}

try {
  const { loadKeys } = await import('#lib/secrets');
  await loadKeys();
  const accounts = await ensureDemoAccounts(runtime.dataDir, runtime.accountsFile);
  const operator = accounts.find((a) => a.email === OPERATOR_EMAIL);
  if (!operator?.password) throw new Error('no operator account');
  const browser = new Browser();
  await signInWithPassword(browser, runtime.endpoints.pages, { email: operator.email, password: operator.password }, '/console');
  const { readFunnel } = await import('#store/funnel');
  const pages = runtime.endpoints.pages;

  const tenth = Math.floor(total / 10);
  const writing = process.hrtime.bigint();
  await writeCases(0, tenth);
  const small = await readFunnel(2020);
  const smallDashboard = await timed(browser, `${pages}/console?year=2020`);
  await writeCases(tenth, total);
  const written = seconds(writing);
  const large = await readFunnel(2020);
  const dashboard = await timed(browser, `${pages}/console?year=2020`);
  const list = await timed(browser, `${pages}/console/cases?year=2020&district=3210&stage=mentoring`);
  const waiting = await timed(browser, `${pages}/console/cases?year=2020&district=3210&waiting=30`);
  const { caseIdFor } = await import('#domain/case');
  const { hashId } = await import('#lib/secrets');
  const someCase = caseIdFor('3210', 2020, hashId('nik', `3210${String(0).padStart(12, '0')}`));
  const timeline = await timed(browser, `${pages}/console/cases/${someCase}`);
  const proposed = large.districts.reduce((n, d) => n + (d.counters['reached#proposed'] ?? 0), 0);
  const readsFlat =
    large.readUnits > 0 && small.districts.length === large.districts.length && small.readUnits === large.readUnits;
  const ms = (t: { median: number; max: number }) => `median ${t.median.toFixed(0)} ms, max ${t.max.toFixed(0)} ms`;
  const notes = [
    `dashboard ${ms(dashboard)} (${ms(smallDashboard)} at ${tenth.toLocaleString('en')} cases)`,
    `its Query: ${large.districts.length} counter items, ${large.readUnits} read units at ${total.toLocaleString('en')} cases, ${small.readUnits} at ${tenth.toLocaleString('en')}${readsFlat ? ' (flat)' : ' (GREW)'}`,
    `filtered list (one district, one stage) ${ms(list)}`,
    `waiting > 30 days ${ms(waiting)}`,
    `timeline ${ms(timeline)}`,
    `writing the cases with their counters: ${written.toFixed(1)} s`,
  ].join('; ');
  console.log(`  ${notes}`);
  result = {
    name: 'console',
    size: total,
    unit: 'cases',
    seconds: written,
    perSecond: total / written,
    peakRssMiB: ownPeakRssMiB(),
    rssFrom: 'this process (runtime and client)',
    ok: readsFlat && proposed === total,
    notes,
    marks: {},
  };
} finally {
  await runtime.stop();
  await rm(dataDir, { recursive: true, force: true });
}
await reportResults(result ? [result] : []);
