/**
 * The crash test (issue 7): `prokus dev` in a child process, killed with SIGKILL again and
 * again at seeded random moments — while an intake reads the proposals, while a person's
 * decision is being POSTed, right as an email lands in the outbox, at any time — and started
 * again on the same data folder each time, while the demo's people (cli/people.ts) keep
 * answering the emailed links and the district officers' CLI commands are retried.
 *
 * At the end, read through the running dev's own endpoints (runningDev → the environment
 * the CLI sets → the functions' SDK clients) and its outbox:
 * - every family has a case, and every case is closed or waits on an open request whose
 *   email is in the outbox; no request of any kind exists whose first email never went out;
 * - no request was decided twice, and each recorded decision is the one the person POSTed
 *   (a second POST with the opposite decision always lost), and the case holds it too;
 * - the cases with a disbursement are exactly the grants in the district quota items;
 * - no case is left without a running journey unless it is closed (a journey that failed is
 *   restarted as the README's operating section says, and counted).
 *
 * Run with `npm run test:crash` (its own vitest config: it takes minutes). PROKUS_CRASH_SEED
 * reproduces a run's choices (the seed is printed); PROKUS_CRASH_KILLS and
 * PROKUS_CRASH_FAMILIES change its size.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { watch } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListExecutionsCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { type Page, SignInError } from '../../cli/browser.ts';
import { type RunningDev, runningDev } from '../../cli/cli.ts';
import {
  answerRequest,
  Browsers,
  fraction,
  PageStatusError,
  type RequestEmail,
  readRequestEmail,
  writeInputs,
} from '../../cli/people.ts';
import { generateFamilies, random } from '../../cli/synthetic.ts';
import { dataPaths, setEnvironment } from '../../embedded/runtime/index.ts';
import { cliEnv, repo, runCommand, shim } from '../helpers/cli.ts';

const SEED = Number(process.env.PROKUS_CRASH_SEED ?? 20_201);
const KILLS = Number(process.env.PROKUS_CRASH_KILLS ?? 12);
const FAMILIES = Number(process.env.PROKUS_CRASH_FAMILIES ?? 60);
/** The whole run, kills and the run to the end included; the assertions come after. */
const BUDGET_MS = 4 * 60_000;
/** How many people answer at the same time. */
const PEOPLE_AT_ONCE = 8;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rnd = random(SEED);
const started = Date.now();
const deadline = started + BUDGET_MS;
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;

let dir: string;

// ---- the `prokus dev` child, killed and started again ----

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as { port: number };
  await new Promise<void>((ok) => server.close(() => ok()));
  return port;
}

class Dev {
  child?: ChildProcess;
  exited?: Promise<unknown>;
  starts = 0;
  /** The pages port stays the same across restarts: the emailed links point there. */
  constructor(readonly pagesPort: number) {}

  async start(): Promise<RunningDev> {
    // Its own process group, so the SIGKILL takes tsx's esbuild service down with it.
    const child = spawn(process.execPath, [shim, 'dev', '--data', dir, '--port', String(this.pagesPort)], {
      cwd: repo,
      env: cliEnv(),
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.child = child;
    this.starts += 1;
    // Detached, it would outlive a test worker that dies before afterAll: take it along.
    const reap = () => {
      if (child.exitCode === null && child.signalCode === null && child.pid) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // Gone already.
        }
      }
    };
    process.once('exit', reap);
    child.once('exit', () => process.off('exit', reap));
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    let gone = false;
    this.exited = new Promise((ok) => child.once('exit', ok)).then(() => {
      gone = true;
    });
    const until = Date.now() + 90_000;
    while (Date.now() < until) {
      if (gone) throw new Error(`prokus dev exited during start-up (start ${this.starts}): ${stderr}`);
      const found = await runningDev(dir);
      if (found && found.pid === child.pid) return found;
      await sleep(50);
    }
    throw new Error(`prokus dev did not start in 90 s (start ${this.starts}): ${stderr}`);
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
    }
    // Reaped before the next start: a zombie would still look alive to runningDev.
    await this.exited;
  }
}

// ---- the district officers: CLI commands, tried again while dev is down ----

async function cli(args: string[]): Promise<void> {
  while (Date.now() < deadline) {
    const done = await runCommand(process.execPath, [shim, ...args, '--data', dir], repo);
    if (done.code === 0) return;
    await sleep(300);
  }
  throw new Error(`prokus ${args.join(' ')} did not succeed before the deadline`);
}

// ---- the people: every emailed link answered, whatever dev is doing ----

interface Posted {
  kind: string;
  caseId: string;
  /** The form sent (the same each try: a person decides the same way). */
  body: URLSearchParams;
  /** A POST answered 200: the decision was recorded by it. */
  confirmed: boolean;
  /** Status of the second POST with the opposite decision, when one was sent. */
  secondClick?: number;
}

const isNetworkError = (e: unknown) => e instanceof TypeError;
/** A sign-in cut short by a kill (the provider keeps sign-ins under way in memory) starts again, as a person would. */
const isRetryable = (e: unknown) =>
  isNetworkError(e) || (e instanceof PageStatusError && e.status >= 500) || e instanceof SignInError;

class People {
  readonly seen = new Set<string>();
  /** Request id → how many first emails (not reminders) were sent for it. */
  readonly firstEmails = new Map<string, number>();
  readonly reminders = new Map<string, number>();
  readonly posted = new Map<string, Posted>();
  readonly errors: string[] = [];
  readonly queue: RequestEmail[] = [];
  private inFlight = 0;
  postsStarted = 0;
  /** The killer's hook: called just before a decision is POSTed. */
  onPost?: () => void;

  /** Each person's browser, signed in with a one-time code on their first link. */
  readonly browsers: Browsers;

  constructor(
    private readonly outbox: string,
    pagesUrl: string,
  ) {
    this.browsers = new Browsers({ pagesUrl, outboxDir: outbox });
  }

  idle(): boolean {
    return this.queue.length === 0 && this.inFlight === 0;
  }

  async poll(): Promise<void> {
    const files = (await readdir(this.outbox)).filter((f) => f.endsWith('.eml') && !this.seen.has(f)).sort();
    for (const f of files) {
      this.seen.add(f);
      const email = await readRequestEmail(join(this.outbox, f));
      if (!email) continue;
      const counts = email.reminder ? this.reminders : this.firstEmails;
      counts.set(email.requestId, (counts.get(email.requestId) ?? 0) + 1);
      // A second copy of an email (sent again after a crash) is answered again: the page says it is used.
      if (!email.reminder) this.queue.push(email);
    }
    while (this.inFlight < PEOPLE_AT_ONCE && this.queue.length > 0) {
      const email = this.queue.shift()!;
      this.inFlight += 1;
      void this.answer(email).finally(() => {
        this.inFlight -= 1;
      });
    }
  }

  private async answer(email: RequestEmail): Promise<void> {
    while (Date.now() < deadline) {
      try {
        const answer = await answerRequest(this.browsers, email, (body) => {
          const known = this.posted.get(email.requestId);
          if (known && known.body.toString() !== body.toString()) {
            this.errors.push(`${email.requestId}: a person decided two different ways (${known.body} / ${body})`);
          }
          if (!known) this.posted.set(email.requestId, { kind: email.kind, caseId: email.caseId, body, confirmed: false });
          this.postsStarted += 1;
          this.onPost?.();
        });
        if (answer.outcome === 'decided') {
          const posted = this.posted.get(email.requestId)!;
          posted.confirmed = true;
          if (email.kind === 'grant-approval' && fraction(email.caseId, 'second-click') < 0.3) {
            posted.secondClick = await this.oppositeDecision(email, posted.body, answer.page);
          }
        }
        return;
      } catch (e) {
        if (!isRetryable(e)) {
          this.errors.push(`${email.kind} ${email.requestId}: ${(e as Error).message}`);
          return;
        }
        await sleep(150 + Math.floor(Math.random() * 200));
      }
    }
    this.errors.push(`${email.kind} ${email.requestId}: not answered before the deadline`);
  }

  /** A second tab, the other button: the first decision must stand (409). */
  private async oppositeDecision(email: RequestEmail, first: URLSearchParams, page: Page): Promise<number> {
    const other = new URLSearchParams();
    if (first.get('decision') === 'approved') {
      other.set('decision', 'rejected');
      other.set('reasonCode', 'USAHA_TIDAK_ADA');
      other.set('reason', 'Klik kedua / second click');
    } else {
      other.set('decision', 'approved');
    }
    while (Date.now() < deadline) {
      try {
        const { status } = await this.browsers.post(email.recipient, page, other);
        if (status < 500) return status;
      } catch (e) {
        if (!isNetworkError(e)) throw e;
      }
      await sleep(200);
    }
    return 0;
  }
}

// ---- the killer ----

type Moment = 'intake' | 'post' | 'mail' | 'any';

interface Kill {
  n: number;
  moment: Moment;
  /** Whether the moment it waited for came, or it fell back to a random time. */
  hit: boolean;
  at: string;
}

/** Resolves when `happened` says so, or after `maxMs`; true when it happened. */
async function waitFor(happened: () => boolean, maxMs: number, pollMs = 5): Promise<boolean> {
  const until = Date.now() + maxMs;
  while (Date.now() < until) {
    if (happened()) return true;
    await sleep(pollMs);
  }
  return false;
}

/** Waits until an email lands in the outbox, or `maxMs`. */
function nextEmail(outbox: string, maxMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const watcher = watch(outbox, (_event, name) => {
      if (name?.endsWith('.eml')) done(true);
    });
    const timer = setTimeout(() => done(false), maxMs);
    function done(hit: boolean) {
      clearTimeout(timer);
      watcher.close();
      resolve(hit);
    }
  });
}

/** The moments, seeded: the first during the intake, then decisions, emails and any time, shuffled. */
function moments(count: number): Moment[] {
  const rest: Moment[] = [];
  for (let i = 1; i < count; i += 1) rest.push((['post', 'mail', 'any'] as const)[i % 3]!);
  for (let i = rest.length - 1; i > 0; i -= 1) {
    const j = Math.floor(rnd() * (i + 1));
    [rest[i], rest[j]] = [rest[j]!, rest[i]!];
  }
  return ['intake', ...rest];
}

// ---- reading the end state through the dev's endpoints ----

interface Item {
  pk: string;
  sk: string;
  [k: string]: unknown;
}

async function scanTable(table: string): Promise<Item[]> {
  const { dynamo } = await import('#lib/clients/dynamodb');
  const items: Item[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await dynamo.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start, ConsistentRead: true }));
    items.push(...((out.Items ?? []) as Item[]));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}

/** The executions of a state machine, through the dev's Step Functions endpoint; `caseId` is the name less its `-r<n>`. */
async function executionsOf(stateMachineArn: string) {
  const { sfn } = await import('#lib/clients/sfn');
  const all: { name: string; status: string; caseId: string }[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(new ListExecutionsCommand({ stateMachineArn, maxResults: 1000, nextToken }));
    for (const e of page.executions ?? []) all.push({ name: e.name!, status: e.status!, caseId: e.name!.replace(/-r\d+$/, '') });
    nextToken = page.nextToken;
  } while (nextToken);
  return all;
}

afterAll(async () => {
  await dev?.kill();
  if (dir && !process.env.PROKUS_CRASH_KEEP) await rm(dir, { recursive: true, force: true });
});

let dev: Dev | undefined;

describe('prokus dev killed with SIGKILL under a running program', () => {
  it(`loses no family, sends every first email, decides nothing twice (${FAMILIES} families, ${KILLS} kills)`, async () => {
    dir = await mkdtemp(join(tmpdir(), 'prokus-crash-'));
    console.log(`crash test: seed ${SEED} (PROKUS_CRASH_SEED=${SEED} reproduces the choices), data ${dir}`);
    const families = generateFamilies(FAMILIES, SEED);
    const inputs = await writeInputs(join(dir, 'input'), families, SEED);
    const outbox = dataPaths(dir).outbox;
    dev = new Dev(await freePort());
    const running = dev;
    await running.start();

    const people = new People(outbox, `http://127.0.0.1:${running.pagesPort}`);
    let stopDriving = false;
    const driving = (async () => {
      while (!stopDriving) {
        await people.poll().catch((e: unknown) => people.errors.push(`outbox: ${(e as Error).message}`));
        await sleep(50);
      }
    })();

    await cli(['registry', 'import', inputs.registry]);
    let uploaded = 0;
    const uploading = (async () => {
      for (const { district, file } of inputs.proposals) {
        await cli([
          'upload',
          file,
          '--district',
          district,
          '--year',
          '2020',
          '--uploader',
          `operator.${district}@dinsos.example`,
        ]);
        uploaded += 1;
      }
    })();

    const kills: Kill[] = [];
    for (const [n, moment] of moments(KILLS).entries()) {
      // Some progress between kills, so each restart has work to resume.
      await sleep(200 + rnd() * 800);
      let hit = true;
      if (moment === 'intake') {
        hit = await waitFor(() => uploaded >= 1, 60_000, 20);
        await sleep(rnd() * 1200);
      } else if (moment === 'post') {
        let posted = false;
        people.onPost = () => {
          posted = true;
        };
        hit = await waitFor(() => posted, 15_000);
        people.onPost = undefined;
        // Inside the POST: the page is reading, recording or settling.
        await sleep(rnd() * 40);
      } else if (moment === 'mail') {
        hit = await nextEmail(outbox, 15_000);
        // Inside a burst: other journeys are between storing their request and mailing it.
        await sleep(rnd() * 15);
      } else {
        await sleep(rnd() * 3000);
      }
      await running.kill();
      kills.push({ n: n + 1, moment, hit, at: elapsed() });
      await sleep(rnd() * 500);
      await running.start();
    }
    await uploading;
    console.log(
      `crash test: ${kills.length} kills: ${kills.map((k) => `${k.at} ${k.moment}${k.hit ? '' : '(time)'}`).join(', ')}`,
    );

    // The last dev runs to the end; its endpoints are the ones the CLI would use.
    const last = (await runningDev(dir))!;
    setEnvironment({ endpoints: last.endpoints, credentials: last.credentials, log: dataPaths(dir).log });
    const { sfn } = await import('#lib/clients/sfn');
    const operatorRestarts: string[] = [];
    let items: Item[] = [];
    while (Date.now() < deadline) {
      // Executions first: a case still open after them had no journey running when they were listed.
      const executions = await executionsOf(last.journeyArn);
      items = await scanTable(last.table);
      const cases = items.filter((i) => i.sk === 'CASE');
      const open = cases.filter((c) => c.stage !== 'closed');
      // A second write of a file (an upload retried after a kill) is still read after its families closed.
      const reading = (await executionsOf(last.intakeArn)).some((e) => e.status === 'RUNNING');
      if (cases.length === FAMILIES && open.length === 0 && people.idle() && !reading) break;
      // README, operating: a case with no journey running gets a new one, `<caseId>-r<n>`.
      const running = new Set(executions.filter((e) => e.status === 'RUNNING').map((e) => e.caseId));
      const names = new Set(executions.map((e) => e.name));
      for (const c of open) {
        const caseId = String(c.caseId);
        if (running.has(caseId) || !names.has(caseId)) continue;
        let run = 2;
        while (names.has(`${caseId}-r${run}`)) run += 1;
        operatorRestarts.push(`${caseId}-r${run}`);
        await sfn.send(
          new StartExecutionCommand({
            stateMachineArn: last.journeyArn,
            name: `${caseId}-r${run}`,
            input: JSON.stringify({ caseId }),
          }),
        );
      }
      await sleep(1000);
    }
    stopDriving = true;
    await driving;
    await people.poll();

    // ---- the verdict ----
    const cases = new Map(items.filter((i) => i.sk === 'CASE').map((c) => [String(c.caseId), c]));
    const requests = items.filter((i) => i.sk === 'REQUEST');
    const quotas = items.filter((i) => i.sk === 'QUOTA');
    const executions = await executionsOf(last.journeyArn);
    const failed = executions.filter((e) => e.status === 'FAILED');
    const duplicates = [...people.firstEmails.values()].filter((n) => n > 1).length;
    const outcomes: Record<string, number> = {};
    for (const c of cases.values()) outcomes[String(c.outcome ?? c.stage)] = (outcomes[String(c.outcome ?? c.stage)] ?? 0) + 1;
    console.log(
      `crash test: ${elapsed()}, ${running.starts} starts; cases ${JSON.stringify(outcomes)}; ${requests.length} requests, ` +
        `${duplicates} emailed twice or more, ${[...people.reminders.values()].reduce((a, b) => a + b, 0)} reminders; ` +
        `${people.postsStarted} POSTs; ${failed.length} failed executions; operator restarts: ${operatorRestarts.length}`,
    );

    expect(people.errors).toEqual([]);
    // Every upload was read to its end: the last run of each file's intake succeeded.
    const intakes = await executionsOf(last.intakeArn);
    const runOf = (name: string) => Number(/-r(\d+)$/.exec(name)?.[1] ?? 1);
    const latest = new Map<string, { name: string; status: string }>();
    for (const e of intakes) {
      const seen = latest.get(e.caseId);
      if (!seen || runOf(e.name) > runOf(seen.name)) latest.set(e.caseId, e);
    }
    const unread = [...latest.values()].filter((e) => e.status !== 'SUCCEEDED');
    expect(unread, JSON.stringify(intakes)).toEqual([]);
    // One case per family: by district, and any family (NIK hash) with more than one.
    const byDistrict: Record<string, number> = {};
    const byNik = new Map<string, string[]>();
    for (const c of cases.values()) {
      byDistrict[String(c.district)] = (byDistrict[String(c.district)] ?? 0) + 1;
      byNik.set(String(c.nikHash), [
        ...(byNik.get(String(c.nikHash)) ?? []),
        `${c.caseId} ${c.programYear} ${c.outcome ?? c.stage}`,
      ]);
    }
    const twice = [...byNik.values()].filter((ids) => ids.length > 1);
    expect(cases.size, JSON.stringify({ byDistrict, twice, intakes })).toBe(FAMILIES);

    // Every first email went out: for every request, whatever became of it.
    const neverMailed = requests.filter((r) => !people.firstEmails.get(String(r.requestId)));
    expect(neverMailed.map((r) => `${r.kind} ${r.caseId} ${r.status}`)).toEqual([]);
    const openUnmarked = requests.filter((r) => r.status === 'open' && !r.mailedAt);
    expect(openUnmarked.map((r) => `${r.kind} ${r.caseId}`)).toEqual([]);

    // Every case is closed or waits on an open request whose email is in the outbox.
    const waiting = [...cases.values()].filter((c) => c.stage !== 'closed');
    const stuck = waiting.filter(
      (c) => !requests.some((r) => r.caseId === c.caseId && r.status === 'open' && people.firstEmails.get(String(r.requestId))),
    );
    expect(stuck.map((c) => `${c.caseId} at ${c.stage}`)).toEqual([]);
    // The people answer every email: a run that ends with families waiting did not finish.
    expect(waiting.map((c) => `${c.caseId} at ${c.stage}`)).toEqual([]);

    // One decision per request, the one the person POSTed; the other button lost; the case holds it.
    const wrong: string[] = [];
    for (const r of requests.filter((x) => x.status === 'decided')) {
      const posted = people.posted.get(String(r.requestId));
      const decision = r.decision as Record<string, unknown>;
      const c = cases.get(String(r.caseId));
      if (!posted) {
        wrong.push(`${r.requestId}: decided but nobody POSTed to it`);
        continue;
      }
      if (r.kind === 'grant-approval') {
        if (decision.decision !== posted.body.get('decision')) wrong.push(`${r.requestId}: recorded ${decision.decision}`);
        const onCase = (c?.grantApproval as { decision?: string } | undefined)?.decision;
        if (onCase !== decision.decision) wrong.push(`${r.caseId}: the case holds ${onCase}, the request ${decision.decision}`);
      } else if (r.kind === 'financing-outcome') {
        if (decision.status !== posted.body.get('status')) wrong.push(`${r.requestId}: recorded ${decision.status}`);
        const onCase = (c?.referral as { outcome?: { status?: string } } | undefined)?.outcome?.status;
        if (onCase !== decision.status) wrong.push(`${r.caseId}: the case holds ${onCase}, the request ${decision.status}`);
      } else {
        const practices = [...new Set(posted.body.getAll('practices'))].sort().join(',');
        if ([...(decision.practices as string[])].sort().join(',') !== practices) wrong.push(`${r.requestId}: other practices`);
        const milestones = (c?.milestones ?? {}) as Record<string, { status?: string }>;
        if (milestones[String(r.milestoneId)]?.status !== 'reported')
          wrong.push(`${r.caseId}: milestone ${r.milestoneId} not reported`);
      }
      if (posted.secondClick !== undefined && posted.secondClick !== 409) {
        wrong.push(`${r.requestId}: the opposite decision answered ${posted.secondClick}`);
      }
    }
    for (const [requestId, posted] of people.posted) {
      if (!requests.some((r) => r.requestId === requestId && r.status === 'decided')) {
        wrong.push(`${requestId} (${posted.kind}): POSTed${posted.confirmed ? ' and confirmed' : ''} but not decided`);
      }
    }
    expect(wrong).toEqual([]);
    expect([...people.posted.values()].filter((p) => p.secondClick !== undefined).length).toBeGreaterThan(0);

    // Grants equal disbursements.
    const granted = quotas.flatMap((q) => [...((q.cases as Set<string> | undefined) ?? [])]).sort();
    const disbursed = [...cases.values()]
      .filter((c) => c.disbursement)
      .map((c) => String(c.caseId))
      .sort();
    expect(granted).toEqual(disbursed);
    expect(disbursed.length).toBeGreaterThan(0);

    // No case left without a journey: closed, or a journey runs for it.
    const runningCases = new Set(executions.filter((e) => e.status === 'RUNNING').map((e) => e.caseId));
    expect(waiting.filter((c) => !runningCases.has(String(c.caseId))).map((c) => c.caseId)).toEqual([]);
    if (failed.length > 0) console.log(`crash test: failed executions: ${failed.map((e) => e.name).join(', ')}`);

    // The console's funnel counters, written in the same transaction as each case write,
    // equal a recount of the cases after every kill: nothing counted twice, nothing lost.
    const { Case } = await import('#domain/case');
    const { recount, withoutDwell } = await import('#domain/funnel');
    const z = await import('#domain/zod');
    const expected = recount([...cases.values()].map((c) => z.parse(Case, c)));
    const stored = new Map(
      items
        .filter((i) => String(i.pk).startsWith('FUNNEL#'))
        .map((i) => [
          String(i.sk).replace('DISTRICT#', ''),
          withoutDwell(Object.fromEntries(Object.entries(i).filter(([, v]) => typeof v === 'number')) as Record<string, number>),
        ]),
    );
    expect(Object.fromEntries(stored)).toEqual(Object.fromEntries(expected));

    // The run did what it says: enough kills, each kind of moment met at least once.
    expect(kills.length).toBeGreaterThanOrEqual(10);
    for (const moment of ['intake', 'post', 'mail'] as const) expect(kills.some((k) => k.moment === moment && k.hit)).toBe(true);
  });
});
