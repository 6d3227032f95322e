/**
 * `prokus demo`: the whole journey, end to end, on the embedded runtime.
 *
 * It generates a synthetic PKH registry and a proposal file for each 2020 pilot
 * district, imports and uploads them like a district officer would, then plays the
 * people: approvers, mentors and lenders read the `.eml` files in the outbox and follow
 * the links in them with real HTTP requests (GET the page, POST the form). Nothing is
 * called behind the pages' back, so the demo exercises what a person would.
 *
 * At the end it counts outcomes per district from the case records, and checks that no
 * NIK or KK appears in any execution name, execution history, log line, link or email.
 *
 * One run read top to bottom (set-up, the people, the tally); the people themselves are in people.ts,
 * which the crash test (test/crash/) plays too.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Table from 'cli-table3';
import { simpleParser } from 'mailparser';
import { Outcome } from '#domain/case';
import { listAllExecutions, type Runtime, startRuntime } from '../embedded/runtime/index.ts';
import { Browser } from './browser.ts';
import { ensureDemoAccounts, officerEmail } from './demo-accounts.ts';
import { uploadOnPage } from './officer.ts';
import { answerRequest, Browsers, noPeople, type PeopleCounts, readRequestEmail, writeInputs } from './people.ts';
import { generateFamilies, PILOT_DISTRICTS, type SyntheticFamily } from './synthetic.ts';

export interface DemoOptions {
  families: number;
  /** Keep the data here (and leave it) instead of a temporary folder. */
  dataDir?: string;
  seed?: number;
  /** Give up on journeys still open after this long (they count as unfinished). */
  timeoutMs?: number;
  /** Progress lines (stderr by default in the CLI). */
  progress?: (line: string) => void;
}

/** The ways a case ends, plus the two the demo must never see: an unexpected error, a journey that never ended. */
export const OUTCOME_KEYS = [...Outcome.options, 'failed', 'unfinished'] as const;
export type DemoOutcome = (typeof OUTCOME_KEYS)[number];

export interface DemoResult {
  families: number;
  outcomes: Record<DemoOutcome, number>;
  byDistrict: Record<string, Record<DemoOutcome, number> & { name: string }>;
  grades: Record<string, number>;
  financing: Record<string, number>;
  intake: { rowsAccepted: number; rowsRejected: number };
  /** Families planned to fail verification, and how many of them did. */
  plannedIneligible: { planned: number; endedIneligible: number };
  people: PeopleCounts;
  privacy: {
    nikLeaks: number;
    kkLeaks: number;
    checked: { executions: number; historyEvents: number; logBytes: number; links: number; emails: number };
  };
  seconds: number;
  dataDir: string;
  /** The Node.js version the demo ran on, e.g. `v24.21.0`. */
  node: string;
  /** The file an officer uploaded on the upload page: the rows its check accepted and rejected before submitting. */
  pageUpload?: { district: string; accepted: number; rejected: number };
  /** The demo's escalation period (the program's is days). */
  escalateAfterSeconds: number;
  /**
   * The console's funnel counters (kept with every case write) against a recount of the
   * cases: the districts where they differ (none, or the counting is wrong).
   */
  funnel: { counted: number; mismatched: string[] };
}

const emptyOutcomes = (): Record<DemoOutcome, number> =>
  Object.fromEntries(OUTCOME_KEYS.map((k) => [k, 0])) as Record<DemoOutcome, number>;

/**
 * The demo's escalation: one district head is on leave and answers no approval email, so
 * after the (shortened) escalation period each of those requests moves to the level's
 * alternate, who gets their own link and decides.
 */
const ON_LEAVE_DISTRICT = '3402';
/** The district whose officer uploads on the upload page, as a newcomer would. */
const PAGE_UPLOAD_DISTRICT = '3210';
/**
 * The demo's escalation period, instead of the program's days, so the escalation is seen
 * in seconds; longer for more families, so that the approvers who are not on leave get
 * through their inbox first (those who do not see "moved to another approver", as they would).
 */
const escalateAfterSeconds = (families: number) => Math.max(8, Math.ceil(families / 20));

/** The 2020 program with the demo's escalation period; everything else as configured. */
async function demoPrograms(dataDir: string, escalateAfter: number): Promise<{ dir: string; onLeave: string }> {
  const program = JSON.parse(await readFile(new URL('../programs/2020.json', import.meta.url), 'utf8'));
  program.deadlines.escalateAfter = `${escalateAfter}s`;
  const dir = join(dataDir, 'demo-programs');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, '2020.json'), `${JSON.stringify(program, null, 2)}\n`);
  return { dir, onLeave: program.districts[ON_LEAVE_DISTRICT].approvers.district.primary };
}

/** Plays the person who received one email. Returns the link followed, if any. */
async function actOnEmail(browsers: Browsers, file: string, counts: PeopleCounts, onLeave: string): Promise<string | undefined> {
  const email = await readRequestEmail(file);
  if (!email) {
    counts.otherEmails += 1;
    return undefined;
  }
  if (email.recipient === onLeave) {
    if (!email.reminder) counts.leftUnanswered += 1;
    return undefined;
  }
  if (email.assignee === 'alternate') counts.escalations += 1;
  if (email.reminder) {
    // The demo answers the first email; a reminder means it has not yet, which the first email's handling will do.
    counts.reminders += 1;
    return undefined;
  }
  const answer = await answerRequest(browsers, email);
  if (answer.outcome === 'decided') counts[answer.counted] += 1;
  if (answer.outcome === 'moved') counts.movedBeforeAnswered += 1;
  return email.link;
}

function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Follows the outbox until every journey has ended, or nothing can move any more
 * (every execution waits for a person and no unanswered email is left), or the timeout.
 */
async function playPeople(
  runtime: Runtime,
  opts: { timeoutMs: number; progress: (l: string) => void; onLeave: string; escalateAfter: number },
  counts: DemoResult['people'],
) {
  const seen = new Set<string>();
  const links: string[] = [];
  // Each person signs in through the real OpenID Connect flow on their first link (a one-time code from the outbox).
  const browsers = new Browsers({ pagesUrl: runtime.endpoints.pages, outboxDir: runtime.outboxDir });
  const started = Date.now();
  let lastReport = 0;
  let quietRounds = 0;
  while (Date.now() - started < opts.timeoutMs) {
    const files = (await readdir(runtime.outboxDir)).filter((f) => f.endsWith('.eml') && !seen.has(f)).sort();
    for (const f of files) seen.add(f);
    // People work in parallel, a few at a time, like a district office would.
    for (let i = 0; i < files.length; i += 8) {
      const batch = files.slice(i, i + 8).map((f) => actOnEmail(browsers, join(runtime.outboxDir, f), counts, opts.onLeave));
      for (const link of await Promise.all(batch)) if (link) links.push(link);
    }
    const intakesRunning = listAllExecutions(runtime.engine, runtime.intakeArn, 'RUNNING').length;
    const journeysRunning = listAllExecutions(runtime.engine, runtime.journeyArn, 'RUNNING').length;
    if (Date.now() - lastReport > 5000) {
      opts.progress(
        `  ${Math.round((Date.now() - started) / 1000)}s: ${journeysRunning} journeys running, ${seen.size} emails handled`,
      );
      lastReport = Date.now();
    }
    if (files.length === 0 && intakesRunning === 0 && journeysRunning === 0) break;
    if (files.length === 0) {
      const { running, waitingForTask } = runtime.engine.activity();
      // Everything waits for a person and no email is left to answer: nothing will move,
      // unless a wait times out first, which the longest, the escalation period, bounds.
      quietRounds = running > 0 && running === waitingForTask ? quietRounds + 1 : 0;
      if (quietRounds * 50 > (opts.escalateAfter + 5) * 1000) break;
      await sleep(50);
    }
  }
  return links;
}

const sorted = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));

async function tally(runtime: Runtime, families: SyntheticFamily[], result: DemoResult) {
  const { listCases } = await import('#store/cases');
  const { programFor } = await import('#domain/program');
  const { hashId } = await import('#lib/secrets');
  const { caseIdFor } = await import('#domain/case');
  const { readFunnel } = await import('#store/funnel');
  const { recount, withoutDwell } = await import('#domain/funnel');
  const stored = new Map((await readFunnel(2020)).districts.map((d) => [d.district, withoutDwell(d.counters)]));
  const config = programFor(2020);
  const planned = new Map(families.map((f) => [caseIdFor(f.district, 2020, hashId('nik', f.nik)), f.planned]));
  const failedCases = new Set(
    listAllExecutions(runtime.engine, runtime.journeyArn, 'FAILED').map(
      (e) => (JSON.parse(e.input) as { caseId: string }).caseId,
    ),
  );
  for (const district of PILOT_DISTRICTS) {
    const row = { name: config.districts[district]?.name ?? district, ...emptyOutcomes() };
    const cases = await listCases(district, 2020);
    const expected = recount(cases).get(district) ?? {};
    if (JSON.stringify(sorted(expected)) !== JSON.stringify(sorted(stored.get(district) ?? {})))
      result.funnel.mismatched.push(district);
    result.funnel.counted += cases.length;
    for (const c of cases) {
      let outcome: DemoOutcome;
      if (c.stage === 'closed' && c.outcome) outcome = c.outcome;
      else if (failedCases.has(c.caseId) || c.failure) outcome = 'failed';
      else outcome = 'unfinished';
      row[outcome] += 1;
      result.outcomes[outcome] += 1;
      if (c.grade && outcome === 'graduated') result.grades[c.grade.grade] = (result.grades[c.grade.grade] ?? 0) + 1;
      if (c.referral && outcome === 'graduated') {
        const key = `${c.referral.scheme}:${c.referral.outcome?.status ?? 'none'}`;
        result.financing[key] = (result.financing[key] ?? 0) + 1;
      }
      if (planned.get(c.caseId) && outcome === 'ineligible') result.plannedIneligible.endedIneligible += 1;
    }
    result.byDistrict[district] = row;
  }
}

/**
 * Counts the NIKs and KKs of these families found in a text, in one pass over it: every
 * 16-digit window of every run of digits is looked up (a number inside a longer one counts
 * too), so the check costs the length of the texts, not texts times families.
 */
export function identityScanner(families: SyntheticFamily[]) {
  const niks = new Set(families.map((f) => f.nik));
  const kks = new Set(families.map((f) => f.kk));
  return (text: string) => {
    let nik = 0;
    let kk = 0;
    for (const run of text.matchAll(/\d{16,}/g)) {
      const digits = run[0];
      for (let i = 0; i + 16 <= digits.length; i++) {
        const window = digits.slice(i, i + 16);
        if (niks.has(window)) nik += 1;
        if (kks.has(window)) kk += 1;
      }
    }
    return { nik, kk };
  };
}

/** Every place a NIK or KK must never be: execution names and histories, the log, the links, the emails. */
async function privacyCheck(runtime: Runtime, families: SyntheticFamily[], links: string[], result: DemoResult) {
  const scan = identityScanner(families);
  const checked = result.privacy.checked;
  let found = 0;
  let foundKk = 0;
  const leaks = (text: string) => {
    const hits = scan(text);
    foundKk += hits.kk;
    return hits.nik;
  };
  for (const arn of [runtime.journeyArn, runtime.intakeArn]) {
    for (const e of listAllExecutions(runtime.engine, arn)) {
      checked.executions += 1;
      let nextToken: string | undefined;
      const parts = [e.name, e.input, e.output ?? '', e.cause ?? ''];
      do {
        const page = runtime.engine.getExecutionHistory({ executionArn: e.executionArn, nextToken, maxResults: 1000 });
        checked.historyEvents += page.events.length;
        parts.push(JSON.stringify(page.events));
        nextToken = page.nextToken;
      } while (nextToken);
      found += leaks(parts.join('\n'));
    }
  }
  const logDir = join(runtime.dataDir, 'logs');
  for (const f of await readdir(logDir).catch(() => [] as string[])) {
    const log = await readFile(join(logDir, f), 'utf8');
    checked.logBytes += log.length;
    found += leaks(log);
  }
  checked.links = links.length;
  found += leaks(links.join('\n'));
  for (const f of await readdir(runtime.outboxDir)) {
    const mail = await simpleParser(await readFile(join(runtime.outboxDir, f)));
    checked.emails += 1;
    // Summary emails to officers attach the intake report, which names rows, not NIKs.
    found += leaks(`${mail.subject}\n${mail.text}\n${mail.attachments.map((a) => a.content.toString('utf8')).join('\n')}`);
  }
  result.privacy.nikLeaks = found;
  result.privacy.kkLeaks = foundKk;
}

export async function runDemo(opts: DemoOptions): Promise<DemoResult> {
  const progress = opts.progress ?? (() => undefined);
  const seed = opts.seed ?? 2020;
  const started = Date.now();
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'prokus-demo-')));
  const result: DemoResult = {
    families: opts.families,
    outcomes: emptyOutcomes(),
    byDistrict: {},
    grades: {},
    financing: {},
    intake: { rowsAccepted: 0, rowsRejected: 0 },
    plannedIneligible: { planned: 0, endedIneligible: 0 },
    people: noPeople(),
    privacy: { nikLeaks: 0, kkLeaks: 0, checked: { executions: 0, historyEvents: 0, logBytes: 0, links: 0, emails: 0 } },
    seconds: 0,
    dataDir,
    node: process.version,
    escalateAfterSeconds: 0,
    funnel: { counted: 0, mismatched: [] },
  };
  progress(`Data: ${dataDir}`);
  if (!opts.dataDir) {
    // Case ids are keyed hashes, and the people decide by case id: a secret from the seed
    // makes a throw-away demo repeatable. A kept data dir keeps its own random secret.
    const secret = createHash('sha256').update(`prokus-demo-${seed}`).digest('hex');
    await writeFile(join(dataDir, 'secret'), `${secret}\n`, { mode: 0o600 });
  }
  result.escalateAfterSeconds = escalateAfterSeconds(opts.families);
  const programs = await demoPrograms(dataDir, result.escalateAfterSeconds);
  const runtime = await startRuntime({ dataDir, port: 0, quiet: true, programsDir: programs.dir });
  const accounts = await ensureDemoAccounts(dataDir, runtime.accountsFile);
  try {
    const families = generateFamilies(opts.families, seed);
    result.plannedIneligible.planned = families.filter((f) => f.planned).length;
    const inputs = await writeInputs(join(dataDir, 'demo-input'), families, seed);

    const { loadKeys } = await import('#lib/secrets');
    const { importRegistry } = await import('#intake/registry-import');
    await loadKeys();
    const imported = await importRegistry(await readFile(inputs.registry, 'utf8'));
    progress(`Registry: ${imported.imported} PKH graduation records imported`);

    // One district's officer uploads on the upload page (signed in, checked, submitted);
    // the others' files go to the bucket as `prokus upload` puts them.
    const officer = accounts.find((a) => a.email === officerEmail(PAGE_UPLOAD_DISTRICT));
    for (const { district, file } of inputs.proposals) {
      if (district === PAGE_UPLOAD_DISTRICT && officer?.password) {
        const { check } = await uploadOnPage(
          new Browser(),
          runtime.endpoints.pages,
          { email: officer.email, password: officer.password },
          { file, district, programYear: 2020 },
        );
        const counts = /(\d+) diterima, (\d+) diterima dengan catatan, (\d+) ditolak/.exec(check.text);
        if (!counts) throw new Error('the upload page showed no verdict counts for the checked file');
        result.pageUpload = { district, accepted: Number(counts[1]) + Number(counts[2]), rejected: Number(counts[3]) };
        continue;
      }
      await runtime.upload(file, { district, programYear: 2020, uploader: `operator.${district}@dinsos.example` });
    }
    progress(
      `Uploaded ${inputs.proposals.length} proposal files for ${opts.families} families (${PAGE_UPLOAD_DISTRICT} on the upload page); playing approvers, mentors and lenders…`,
    );

    const links = await playPeople(
      runtime,
      {
        timeoutMs: opts.timeoutMs ?? 10 * 60_000,
        progress,
        onLeave: programs.onLeave,
        escalateAfter: result.escalateAfterSeconds,
      },
      result.people,
    );
    for (const e of listAllExecutions(runtime.engine, runtime.intakeArn)) {
      const out = e.output ? (JSON.parse(e.output) as { intake?: { accepted?: number; rejected?: number } }) : {};
      result.intake.rowsAccepted += out.intake?.accepted ?? 0;
      result.intake.rowsRejected += out.intake?.rejected ?? 0;
    }
    await tally(runtime, families, result);
    await privacyCheck(runtime, families, links, result);
  } finally {
    await runtime.stop();
    if (!opts.dataDir) await rm(dataDir, { recursive: true, force: true });
  }
  result.seconds = Math.round((Date.now() - started) / 100) / 10;
  return result;
}

/** Exit code: anything that ended in an unexpected error, never ended, or leaked a NIK or KK is a failure. */
export function demoExitCode(r: DemoResult): number {
  return r.outcomes.failed > 0 || r.outcomes.unfinished > 0 || r.privacy.nikLeaks > 0 || r.privacy.kkLeaks > 0 ? 1 : 0;
}

/** The human-readable report: outcomes per district, then what became of the graduates. */
export function formatDemoReport(r: DemoResult): string {
  const shown = OUTCOME_KEYS.filter((k) => r.outcomes[k] > 0 || ['graduated', 'ineligible', 'rejected', 'failed'].includes(k));
  const outcomes = new Table({ head: ['Wilayah / District', ...shown], style: { head: [], border: [] } });
  for (const [code, row] of Object.entries(r.byDistrict)) outcomes.push([`${code} ${row.name}`, ...shown.map((k) => row[k])]);
  outcomes.push(['Total', ...shown.map((k) => r.outcomes[k])]);
  const grades = new Table({ head: ['Tingkat / Grade', 'Keluarga / Families'], style: { head: [], border: [] } });
  for (const g of ['maju', 'berkembang', 'pemula']) grades.push([g, r.grades[g] ?? 0]);
  const financing = new Table({
    head: ['Skema / Scheme : hasil / outcome', 'Keluarga / Families'],
    style: { head: [], border: [] },
  });
  for (const [k, n] of Object.entries(r.financing).sort()) financing.push([k, n]);
  const p = r.people;
  return [
    `Prokus demo: ${r.families} families in ${Object.keys(r.byDistrict).length} pilot districts, ${r.seconds}s`,
    `Node.js ${r.node}`,
    `Intake: ${r.intake.rowsAccepted} rows accepted, ${r.intake.rowsRejected} rejected with reasons (see the reports next to the uploads)`,
    r.pageUpload
      ? `Upload page: the officer of ${r.pageUpload.district} signed in, sent the file, saw the check (${r.pageUpload.accepted} rows accepted, ${r.pageUpload.rejected} rejected) and submitted it`
      : 'Upload page: not used',
    '',
    outcomes.toString(),
    '',
    grades.toString(),
    financing.toString(),
    '',
    `People (each signed in, following emailed links): ${p.approvals} approvals (every family two levels: district head, then directorate), ${p.rejections} rejections, ${p.milestoneReports} milestone reports, ${p.lenderOutcomes} lender outcomes; ${p.reminders} reminders, ${p.otherEmails} other emails (reports, sign-in codes)`,
    `Escalation: the head of ${ON_LEAVE_DISTRICT} is on leave and answered none of ${p.leftUnanswered} approval emails; after ${r.escalateAfterSeconds}s (the demo's escalation period) ${p.escalations} requests moved to an alternate approver, who decided${p.movedBeforeAnswered > 0 ? ` (${p.movedBeforeAnswered} of them had a first approver who opened the link too late)` : ''}`,
    `Planned ineligible families: ${r.plannedIneligible.planned}, ended ineligible: ${r.plannedIneligible.endedIneligible}`,
    r.funnel.mismatched.length === 0
      ? `Console funnel: its counters match the ${r.funnel.counted} cases, district by district (see them: npx prokus dev --data ${r.dataDir}, sign in as the operator in demo-accounts.txt, open /console)`
      : `Console funnel: counters DIFFER from the cases in ${r.funnel.mismatched.join(', ')}`,
    `Privacy check: ${r.privacy.nikLeaks + r.privacy.kkLeaks === 0 ? 'no NIK or KK' : `${r.privacy.nikLeaks} NIK and ${r.privacy.kkLeaks} KK LEAKS`} in ${r.privacy.checked.executions} execution names/inputs, ${r.privacy.checked.historyEvents} history events, ${r.privacy.checked.logBytes} log bytes, ${r.privacy.checked.links} links, ${r.privacy.checked.emails} emails`,
  ].join('\n');
}
