/**
 * The district quota under a crowd of approvers, on real dynalite: 1,000 families of one
 * district approved at once on a quota of 500 (a tenth of the approvers double-click).
 * Exactly 500 approvers are told the grant will be disbursed and exactly those 500 hold
 * a reservation; the other 500 are told plainly that the quota is used up. Then what the
 * journey does next (Disbursement after SendTaskSuccess; QuotaExhausted → Close after
 * SendTaskFailure(QuotaExhaustedError)), run with the real handlers, ends each case the
 * way its approver was told, and an AwaitRequest replay in between (a restart) changes
 * nothing. Step Functions is mocked: it only records how each task was settled.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useSecretForTests } from '#lib/secrets';
import type { Request } from '#requests/requests';
import { ensureTable, startDynamo } from '../../embedded/local/dynamodb.ts';
import type { Keyring } from '../../embedded/local/local-auth.ts';
import type { LocalService } from '../../embedded/local/ports.ts';
import { DEFAULT_CONCURRENT_INVOCATIONS } from '../../embedded/stepfunctions/engine.ts';
import { caseItem, makeCase, TEST_SECRET } from '../helpers/fixtures.ts';
import { recounted, scanCases, seedFunnel, staysIn, storedWithoutDwell } from '../helpers/funnel-check.ts';
import { invoke, setTestEnv } from '../helpers/lambda.ts';
import { sessionOf } from '../helpers/people.ts';

/** The approver every request here is for, signed in. */
const visit = { session: sessionOf('approver@dinsos.example'), pageRequestId: 'test-page-request' };

const FAMILIES = 1_000;
const QUOTA = 500;
const DOUBLE_CLICKS = 100;

const sfn = mockClient(SFNClient);
// The local DynamoDB answers only requests signed with the data folder's key pairs.
const keyring: Keyring = {
  operator: { accessKeyId: 'LOCALOPERATORKEY0001', secretAccessKey: 'operator-secret-for-the-quota-test' },
  runtime: { accessKeyId: 'LOCALRUNTIMEKEY00001', secretAccessKey: 'runtime-secret-for-the-quota-test' },
};
let dir: string;
let dynamo: LocalService;

const caseIdOf = (i: number) => `3210-2020-crowd${String(i).padStart(4, '0')}zzzzzzzzzz`;
const tokenOf = (i: number) => `task-token-${i}`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prokus-approval-quota-'));
  dynamo = await startDynamo({ dir: join(dir, 'dynamodb'), keyring });
  setTestEnv();
  useSecretForTests(TEST_SECRET);
  await ensureTable(dynamo.endpoint, 'prokus-test', keyring.runtime);
  process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamo.endpoint;
  process.env.AWS_ACCESS_KEY_ID = keyring.runtime.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = keyring.runtime.secretAccessKey;
  // The 2020 program with a quota of 500 for Majalengka (3210).
  const program = JSON.parse(await readFile(new URL('../../programs/2020.json', import.meta.url), 'utf8'));
  program.districts['3210'].quota = QUOTA;
  await writeFile(join(dir, '2020.json'), JSON.stringify(program));
  process.env.PROKUS_PROGRAMS_DIR = dir;
  sfn.on(SendTaskSuccessCommand).resolves({});
  sfn.on(SendTaskFailureCommand).resolves({});
});

afterAll(async () => {
  await dynamo?.close();
  await rm(dir, { recursive: true, force: true });
});

/** Modules that create the DynamoDB client, imported once the endpoint is set. */
async function system() {
  const { BatchWriteCommand, GetCommand } = await import('@aws-sdk/lib-dynamodb');
  const { dynamo: client } = await import('#lib/clients/dynamodb');
  const { signLink } = await import('#lib/secrets');
  const { requestIdFor } = await import('#requests/requests');
  const { submitDecision } = await import('#requests/pages/flow');
  const { getCase } = await import('#store/cases');
  const { readFunnel } = await import('#store/funnel');
  const awaitRequest = (await import('../../functions/await-request.ts')).handler;
  const disbursement = (await import('../../functions/disbursement.ts')).handler;
  const close = (await import('../../functions/close.ts')).handler;
  const reservedCases = async () => {
    const out = await client.send(
      new GetCommand({ TableName: 'prokus-test', Key: { pk: 'QUOTA#3210#2020', sk: 'QUOTA' }, ConsistentRead: true }),
    );
    return [...((out.Item?.cases as Set<string> | undefined) ?? [])].sort();
  };
  /** Writes the cases and requests 25 at a time (one call per item would take longer than the approvals). */
  const putAll = async (items: Record<string, unknown>[]) => {
    for (let from = 0; from < items.length; from += 25) {
      const batch = items.slice(from, from + 25).map((Item) => ({ PutRequest: { Item } }));
      const out = await client.send(new BatchWriteCommand({ RequestItems: { 'prokus-test': batch } }));
      expect(out.UnprocessedItems?.['prokus-test'] ?? []).toEqual([]);
    }
  };
  /** The stored counters of a program year (without the histograms) and a recount of its cases: equal when each change counted once. */
  const funnel = async (programYear: number) => {
    const { districts } = await readFunnel(programYear);
    return { stored: districts, recount: recounted(await scanCases(client, 'prokus-test'), programYear) };
  };
  return {
    putAll,
    client,
    signLink,
    requestIdFor,
    submitDecision,
    getCase,
    awaitRequest,
    disbursement,
    close,
    reservedCases,
    funnel,
  };
}

/** The last approval level of programs/2020.json and 2024.json: its approval reserves the grant. */
const LAST_LEVEL = { level: 'directorate' };

/** An open last-level grant-approval request waiting on its journey's task token. */
function openApproval(requestId: string, caseId: string, taskToken: string): Request {
  return {
    requestId,
    kind: 'grant-approval',
    caseId,
    level: LAST_LEVEL.level,
    assignee: 'primary',
    recipient: 'approver@dinsos.example',
    status: 'open',
    openedAt: '2026-01-05T00:00:00.000Z',
    deadline: '2099-01-01T00:00:00.000Z',
    reminders: 0,
    taskToken,
  };
}

/** How each task token was settled, from the mocked Step Functions. */
function settlements(): Map<string, string> {
  const out = new Map<string, string>();
  for (const call of sfn.commandCalls(SendTaskSuccessCommand)) out.set(String(call.args[0].input.taskToken), 'success');
  for (const call of sfn.commandCalls(SendTaskFailureCommand)) {
    out.set(String(call.args[0].input.taskToken), String(call.args[0].input.error));
  }
  return out;
}

describe('the district quota at approval, under concurrency', () => {
  // Two minutes on a shared 2-core machine: 1,100 decisions of ~8 DynamoDB calls each, and
  // the rounds in which the district draws its blocks of the national ceiling (store/quota.ts),
  // client and dynalite in one process, then 1,000 replays and 1,000 next steps.
  it('1,000 approvals at once on a quota of 500: each approver is told the truth, and the cases end that way', {
    timeout: 300_000,
  }, async () => {
    const s = await system();
    const ids = Array.from({ length: FAMILIES }, (_, i) => i);
    const items = ids.flatMap((i) => {
      const caseId = caseIdOf(i);
      const requestId = s.requestIdFor(caseId, 'grant-approval', LAST_LEVEL);
      const request = openApproval(requestId, caseId, tokenOf(i));
      // A thousand families: each its own family card (one grant per card is store/grants.ts, tested below).
      const kkHash = `kk${String(i).padStart(30, '0')}`;
      return [
        caseItem(makeCase({ caseId, stage: 'grant-approval', kkHash })),
        { pk: `REQUEST#${requestId}`, sk: 'REQUEST', ...request },
      ];
    });
    await s.putAll(items);
    await seedFunnel(s.client, 'prokus-test', items);
    const links = ids.map((i) => {
      const requestId = s.requestIdFor(caseIdOf(i), 'grant-approval', LAST_LEVEL);
      return `${requestId}.${s.signLink(requestId)}`;
    });

    // Every approver at once; the first DOUBLE_CLICKS approvers send the form twice.
    const posts = [...ids, ...ids.slice(0, DOUBLE_CLICKS)].map(async (i) => ({
      i,
      page: await s.submitDecision(links[i]!, { decision: 'approved' }, visit),
    }));
    const t0 = performance.now();
    const pages = await Promise.all(posts);
    const elapsedMs = performance.now() - t0;
    console.info(`${posts.length} approval POSTs on dynalite in ${Math.round(elapsedMs)} ms`);

    const told = new Map<number, 'reserved' | 'exhausted'>();
    let refusedAsUsed = 0;
    for (const { i, page } of pages) {
      if (page.status === 409) {
        refusedAsUsed += 1;
        continue;
      }
      expect(page.status).toBe(200);
      const promised = page.html.includes('will be disbursed to this family');
      const usedUp = page.html.includes('this family will not receive the grant');
      expect(promised !== usedUp, `page ${i} says exactly one of the two`).toBe(true);
      expect(told.has(i), `approver ${i} told twice`).toBe(false);
      told.set(i, promised ? 'reserved' : 'exhausted');
    }
    expect(refusedAsUsed).toBe(DOUBLE_CLICKS);
    expect(told.size).toBe(FAMILIES);
    const toldReserved = ids.filter((i) => told.get(i) === 'reserved');
    const toldExhausted = ids.filter((i) => told.get(i) === 'exhausted');
    expect(toldReserved).toHaveLength(QUOTA);
    expect(toldExhausted).toHaveLength(FAMILIES - QUOTA);

    // The promise is backed: exactly the families told "approved" hold a reservation.
    expect(await s.reservedCases()).toEqual(toldReserved.map(caseIdOf).sort());
    // And the journey was told the same, once per approval.
    const settled = settlements();
    expect(settled.size).toBe(FAMILIES);
    for (const i of toldReserved) expect(settled.get(tokenOf(i)), `task ${i}`).toBe('success');
    for (const i of toldExhausted) expect(settled.get(tokenOf(i)), `task ${i}`).toBe('QuotaExhaustedError');
    expect(sfn.calls()).toHaveLength(FAMILIES);

    // A restart: every journey's AwaitRequest finds its request decided and replays it.
    const t1 = performance.now();
    await Promise.all(
      ids.map((i) =>
        invoke(s.awaitRequest, { caseId: caseIdOf(i), kind: 'grant-approval', ...LAST_LEVEL, taskToken: `${tokenOf(i)}-again` }),
      ),
    );
    console.info(`${FAMILIES} AwaitRequest replays in ${Math.round(performance.now() - t1)} ms`);
    expect(await s.reservedCases()).toEqual(toldReserved.map(caseIdOf).sort());
    const replayed = settlements();
    for (const i of ids) expect(replayed.get(`${tokenOf(i)}-again`)).toBe(replayed.get(tokenOf(i)));

    // What the journey does next, with the real handlers: Disbursement after success,
    // Close('quota-exhausted') after QuotaExhaustedError (the QuotaExhausted state). As the
    // embedded engine runs them: at most DEFAULT_CONCURRENT_INVOCATIONS at once, each task's
    // 30 s from its own start (the stand-in runs transactions one at a time: 1,000 started
    // together wait in its queue past a 30 s that began before it).
    const t2 = performance.now();
    const nextSteps = [
      ...toldReserved.map((i) => () => invoke(s.disbursement, { caseId: caseIdOf(i) })),
      ...toldExhausted.map((i) => () => invoke(s.close, { caseId: caseIdOf(i), outcome: 'quota-exhausted' })),
    ];
    await Promise.all(
      Array.from({ length: DEFAULT_CONCURRENT_INVOCATIONS }, async () => {
        for (let step = nextSteps.shift(); step; step = nextSteps.shift()) await step();
      }),
    );
    console.info(`${FAMILIES} Disbursements and Closes in ${Math.round(performance.now() - t2)} ms`);
    expect(await s.reservedCases()).toHaveLength(QUOTA);
    const cases = await Promise.all(ids.map((i) => s.getCase(caseIdOf(i))));
    for (const i of toldReserved) {
      expect(cases[i]).toMatchObject({
        stage: 'mentoring',
        grantApproval: { decision: 'approved', quota: 'reserved' },
        disbursement: { amountRupiah: 3_500_000 },
      });
    }
    for (const i of toldExhausted) {
      expect(cases[i]).toMatchObject({
        stage: 'closed',
        outcome: 'quota-exhausted',
        grantApproval: { decision: 'approved', quota: 'exhausted' },
        outcomeReason: { en: "The district's grant quota for the program year is used up" },
      });
      expect(cases[i]?.disbursement).toBeUndefined();
    }

    // The funnel counters, added beside those 3,100 case writes, 1,100 of them at once on the
    // district's one counter item: each change counted once, exactly what a recount of the cases gives.
    const { stored, recount } = await s.funnel(2020);
    expect(storedWithoutDwell(stored)).toEqual(recount);
    expect(recount['3210']).toEqual({
      'reached#proposed': FAMILIES,
      'reached#approved': QUOTA,
      'reached#disbursed': QUOTA,
      'now#mentoring': QUOTA,
      'exit#quota-exhausted': FAMILIES - QUOTA,
    });
    // Every family left grant approval once and every granted one left disbursement once, each stay counted once.
    const majalengka = stored.find((d) => d.district === '3210')?.counters;
    expect(staysIn(majalengka, 'grant-approval')).toBe(FAMILIES);
    expect(staysIn(majalengka, 'disbursement')).toBe(QUOTA);
  });

  // One grant per family card, ever: the same family proposed for 2020 and for 2024 (the
  // intake refuses that unless both proposals came at once), both approved at the same moment.
  it('100 families with a case in 2020 and one in 2024, all approved at once: one grant per family card', {
    timeout: 300_000,
  }, async () => {
    const s = await system();
    const CARDS = 100;
    const cards = Array.from({ length: CARDS }, (_, i) => i);
    const years = [2020, 2024] as const;
    // Kab. Bandung Barat (3217): a quota of 200 a year, untouched by the test above.
    const caseOf = (card: number, year: number) => `3217-${year}-card${String(card).padStart(4, '0')}zzzzzzzzzzz`;
    const tokenFor = (card: number, year: number) => `card-token-${card}-${year}`;
    const items = cards.flatMap((card) =>
      years.flatMap((programYear) => {
        const caseId = caseOf(card, programYear);
        const requestId = s.requestIdFor(caseId, 'grant-approval', LAST_LEVEL);
        const request = openApproval(requestId, caseId, tokenFor(card, programYear));
        const kkHash = `card${String(card).padStart(28, '0')}`;
        return [
          caseItem(makeCase({ caseId, district: '3217', programYear, stage: 'grant-approval', kkHash })),
          { pk: `REQUEST#${requestId}`, sk: 'REQUEST', ...request },
        ];
      }),
    );
    await s.putAll(items);
    await seedFunnel(s.client, 'prokus-test', items);
    const linkOf = (caseId: string) => {
      const requestId = s.requestIdFor(caseId, 'grant-approval', LAST_LEVEL);
      return `${requestId}.${s.signLink(requestId)}`;
    };
    const pages = await Promise.all(
      cards.flatMap((card) =>
        years.map(async (year) => ({
          card,
          year,
          page: await s.submitDecision(linkOf(caseOf(card, year)), { decision: 'approved' }, visit),
        })),
      ),
    );
    const settled = settlements();
    for (const card of cards) {
      const told = pages.filter((p) => p.card === card);
      const promised = told.filter((p) => p.page.html.includes('will be disbursed to this family'));
      const refused = told.filter((p) => p.page.html.includes('this family already has a grant'));
      expect(promised, `card ${card}`).toHaveLength(1);
      expect(refused, `card ${card}`).toHaveLength(1);
      const winner = promised[0]!;
      const loser = refused[0]!;
      expect(settled.get(tokenFor(card, winner.year))).toBe('success');
      expect(settled.get(tokenFor(card, loser.year))).toBe('AlreadyGrantedError');

      // The next steps, as the journey takes them: the refused case closes, the other is disbursed.
      await invoke(s.close, { caseId: caseOf(card, loser.year), outcome: 'already-granted' });
      await invoke(s.disbursement, { caseId: caseOf(card, winner.year) });
      const [granted, closed] = await Promise.all([s.getCase(caseOf(card, winner.year)), s.getCase(caseOf(card, loser.year))]);
      expect(granted).toMatchObject({ stage: 'mentoring', grantApproval: { quota: 'reserved' } });
      expect(closed).toMatchObject({
        stage: 'closed',
        outcome: 'already-granted',
        grantApproval: { decision: 'approved', quota: 'already-granted' },
      });
      expect(closed.disbursement).toBeUndefined();
    }
    for (const year of years) {
      const { stored, recount } = await s.funnel(year);
      expect(storedWithoutDwell(stored), `funnel of ${year}`).toEqual(recount);
      const granted = pages.filter((p) => p.year === year && p.page.html.includes('will be disbursed to this family')).length;
      expect(recount['3217']).toEqual({
        'reached#proposed': CARDS,
        'reached#approved': granted,
        'reached#disbursed': granted,
        'now#mentoring': granted,
        'exit#already-granted': CARDS - granted,
      });
    }
  });
});
