/**
 * The national ceiling under a crowd of approvers, on real dynalite: three districts with
 * a quota of 100 each under a national ceiling of 150 for the year, 320 last-level
 * approvals at once (Kab. Majalengka has 120 families for its 100, so its own quota is in
 * play too) and 32 double clicks. Exactly 150 grants are reserved, no district holds more
 * than its quota, and every approver is told what the case records: disbursed, the
 * district's quota used up, or the national ceiling reached. The national item holds the
 * blocks the districts drew, never more than the ceiling, and each district reserved no
 * more than the blocks it holds. Step Functions is mocked: it only records how each task
 * was settled.
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
import { caseItem, makeCase, TEST_SECRET } from '../helpers/fixtures.ts';
import { invoke, setTestEnv } from '../helpers/lambda.ts';
import { sessionOf } from '../helpers/people.ts';

const CEILING = 150;
const QUOTA = 100;
/** Families per district: Majalengka proposes more than its quota. */
const FAMILIES: Record<string, number> = { '3210': 120, '3217': 100, '3171': 100 };
const DOUBLE_CLICK_EVERY = 10;

const sfn = mockClient(SFNClient);
const keyring: Keyring = {
  operator: { accessKeyId: 'LOCALOPERATORKEY0002', secretAccessKey: 'operator-secret-for-the-ceiling-test' },
  runtime: { accessKeyId: 'LOCALRUNTIMEKEY00002', secretAccessKey: 'runtime-secret-for-the-ceiling-test' },
};
let dir: string;
let dynamo: LocalService;
let program: {
  districts: Record<string, { quota: number; approvers: Record<string, { primary: string }> }>;
  grant: { nationalCeiling: number };
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prokus-national-ceiling-'));
  dynamo = await startDynamo({ dir: join(dir, 'dynamodb'), keyring });
  setTestEnv();
  useSecretForTests(TEST_SECRET);
  await ensureTable(dynamo.endpoint, 'prokus-test', keyring.runtime);
  process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamo.endpoint;
  process.env.AWS_ACCESS_KEY_ID = keyring.runtime.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = keyring.runtime.secretAccessKey;
  program = JSON.parse(await readFile(new URL('../../programs/2020.json', import.meta.url), 'utf8'));
  for (const code of Object.keys(FAMILIES)) program.districts[code]!.quota = QUOTA;
  program.grant.nationalCeiling = CEILING;
  await writeFile(join(dir, '2020.json'), JSON.stringify(program));
  process.env.PROKUS_PROGRAMS_DIR = dir;
  const { resetProgramCache } = await import('#domain/program');
  resetProgramCache();
  sfn.on(SendTaskSuccessCommand).resolves({});
  sfn.on(SendTaskFailureCommand).resolves({});
});

afterAll(async () => {
  await dynamo?.close();
  await rm(dir, { recursive: true, force: true });
});

interface Family {
  district: string;
  caseId: string;
  requestId: string;
  token: string;
  recipient: string;
}

describe('the national ceiling at approval, under concurrency', () => {
  it('320 last-level approvals in three districts of 100 under a ceiling of 150: exactly 150 grants, every approver told the truth', {
    timeout: 300_000,
  }, async () => {
    const { BatchWriteCommand, GetCommand } = await import('@aws-sdk/lib-dynamodb');
    const { dynamo: client } = await import('#lib/clients/dynamodb');
    const { signLink } = await import('#lib/secrets');
    const { requestIdFor } = await import('#requests/requests');
    const { submitDecision } = await import('#requests/pages/flow');
    const { getCase } = await import('#store/cases');
    const awaitRequest = (await import('../../functions/await-request.ts')).handler;
    const item = async (pk: string) =>
      (await client.send(new GetCommand({ TableName: 'prokus-test', Key: { pk, sk: 'QUOTA' }, ConsistentRead: true }))).Item ??
      {};

    const families: Family[] = Object.entries(FAMILIES).flatMap(([district, n]) =>
      Array.from({ length: n }, (_, i) => {
        const caseId = `${district}-2020-ceiling${String(i).padStart(4, '0')}zzzzzz`;
        // The directorate is the last level: its approval reserves the grant.
        const requestId = requestIdFor(caseId, 'grant-approval', { level: 'directorate' });
        return {
          district,
          caseId,
          requestId,
          token: `ceiling-token-${caseId}`,
          recipient: program.districts[district]!.approvers.directorate!.primary,
        };
      }),
    );
    const items = families.flatMap((f, i) => {
      const request: Request = {
        requestId: f.requestId,
        kind: 'grant-approval',
        caseId: f.caseId,
        level: 'directorate',
        assignee: 'primary',
        recipient: f.recipient,
        status: 'open',
        openedAt: '2026-01-05T00:00:00.000Z',
        deadline: '2099-01-01T00:00:00.000Z',
        reminders: 0,
        taskToken: f.token,
      };
      const kkHash = `ceil${String(i).padStart(28, '0')}`;
      return [
        caseItem(makeCase({ caseId: f.caseId, district: f.district, stage: 'grant-approval', kkHash })),
        { pk: `REQUEST#${f.requestId}`, sk: 'REQUEST', ...request },
      ];
    });
    for (let from = 0; from < items.length; from += 25) {
      const batch = items.slice(from, from + 25).map((Item) => ({ PutRequest: { Item } }));
      await client.send(new BatchWriteCommand({ RequestItems: { 'prokus-test': batch } }));
    }

    // Every approver at once (each signed in as the request's recipient); every tenth clicks twice.
    const posts = [...families, ...families.filter((_, i) => i % DOUBLE_CLICK_EVERY === 0)].map(async (f) => ({
      f,
      page: await submitDecision(
        `${f.requestId}.${signLink(f.requestId)}`,
        { decision: 'approved' },
        { session: sessionOf(f.recipient), pageRequestId: `page-${f.caseId}` },
      ),
    }));
    const t0 = performance.now();
    const pages = await Promise.all(posts);
    console.info(
      `${posts.length} approval POSTs under a national ceiling on dynalite in ${Math.round(performance.now() - t0)} ms`,
    );

    const told = new Map<string, 'reserved' | 'exhausted' | 'national-ceiling'>();
    let refusedAsUsed = 0;
    for (const { f, page } of pages) {
      if (page.status === 409) {
        refusedAsUsed += 1;
        continue;
      }
      expect(page.status, f.caseId).toBe(200);
      const says = {
        reserved: page.html.includes('will be disbursed to this family'),
        exhausted: page.html.includes('The grant quota of') && page.html.includes('so this family will not receive the grant'),
        'national-ceiling': page.html.includes('The national grant ceiling for program year 2020 is already used up'),
      };
      const answers = Object.entries(says).filter(([, yes]) => yes);
      expect(
        answers.map(([a]) => a),
        `page of ${f.caseId} says exactly one thing`,
      ).toHaveLength(1);
      expect(told.has(f.caseId), `approver of ${f.caseId} told twice`).toBe(false);
      told.set(f.caseId, answers[0]![0] as 'reserved' | 'exhausted' | 'national-ceiling');
    }
    expect(refusedAsUsed).toBe(Math.ceil(families.length / DOUBLE_CLICK_EVERY));
    expect(told.size).toBe(families.length);

    // Exactly the ceiling, and exactly the families whose approvers were told so.
    const toldReserved = families.filter((f) => told.get(f.caseId) === 'reserved');
    expect(toldReserved).toHaveLength(CEILING);
    const reserved: string[] = [];
    for (const district of Object.keys(FAMILIES)) {
      const quota = await item(`QUOTA#${district}#2020`);
      const cases = [...((quota.cases as Set<string> | undefined) ?? [])];
      expect(cases.length, `district ${district}`).toBeLessThanOrEqual(QUOTA);
      expect(cases.length, `district ${district} within the blocks it drew`).toBeLessThanOrEqual(Number(quota.capacity ?? 0));
      reserved.push(...cases);
    }
    expect(reserved.sort()).toEqual(toldReserved.map((f) => f.caseId).sort());
    const national = await item('QUOTA#NATIONAL#2020');
    const blocks = [...(national.blocks as Set<string>)];
    const sizes = blocks.map((b) => Number(b.split('#')[2]));
    expect(national.committed).toBe(CEILING);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(CEILING);
    // Blocks of 25, up to 200 for approvals that lost the race for their district's places.
    expect(sizes.every((s) => s >= 1 && s <= 200)).toBe(true);

    // What each case records is what its approver read, and the journey was told the same.
    const settled = new Map<string, string>();
    for (const call of sfn.commandCalls(SendTaskSuccessCommand)) settled.set(String(call.args[0].input.taskToken), 'success');
    for (const call of sfn.commandCalls(SendTaskFailureCommand)) {
      settled.set(String(call.args[0].input.taskToken), `${call.args[0].input.error}: ${call.args[0].input.cause}`);
    }
    expect(sfn.calls()).toHaveLength(families.length);
    const cases = await Promise.all(families.map((f) => getCase(f.caseId)));
    for (const [i, f] of families.entries()) {
      const answer = told.get(f.caseId);
      expect(cases[i]?.grantApproval, f.caseId).toMatchObject({ decision: 'approved', level: 'directorate', quota: answer });
      expect(cases[i]?.approvals).toEqual([
        expect.objectContaining({
          level: 'directorate',
          decision: 'approved',
          decidedBy: expect.objectContaining({ email: f.recipient }),
        }),
      ]);
      if (answer === 'reserved') {
        expect(cases[i]?.stage).toBe('disbursement');
        expect(settled.get(f.token)).toBe('success');
      } else {
        expect(cases[i]?.stage).toBe('grant-approval');
        expect(settled.get(f.token)).toMatch(
          answer === 'exhausted' ? /^QuotaExhaustedError: QUOTA_EXHAUSTED/ : /^QuotaExhaustedError: NATIONAL_CEILING_REACHED/,
        );
      }
    }
    // Only Majalengka, with more families than its quota, can have been told its own quota is used up.
    for (const f of families.filter((f) => told.get(f.caseId) === 'exhausted')) expect(f.district).toBe('3210');

    // A restart: every journey's AwaitRequest replays its decision; nothing more is reserved.
    await Promise.all(
      families.map((f) =>
        invoke(awaitRequest, { caseId: f.caseId, kind: 'grant-approval', level: 'directorate', taskToken: `${f.token}-again` }),
      ),
    );
    expect((await item('QUOTA#NATIONAL#2020')).committed).toBe(CEILING);
    const again: string[] = [];
    for (const district of Object.keys(FAMILIES)) {
      again.push(...((await item(`QUOTA#${district}#2020`)).cases as Set<string>));
    }
    expect(again.sort()).toEqual(reserved);
  });

  it('a crash between the national and the district write is repaired by the next approval: the block is recorded, not drawn again', async () => {
    const { GetCommand, PutCommand } = await import('@aws-sdk/lib-dynamodb');
    const { dynamo: client } = await import('#lib/clients/dynamodb');
    const { reserveGrant } = await import('#store/quota');
    const item = async (pk: string) =>
      (await client.send(new GetCommand({ TableName: 'prokus-test', Key: { pk, sk: 'QUOTA' }, ConsistentRead: true }))).Item ??
      {};
    // Kab. Bantul's first block of 2024 was given by the national item; the pass died before the district recorded it.
    await client.send(
      new PutCommand({
        TableName: 'prokus-test',
        Item: { pk: 'QUOTA#NATIONAL#2024', sk: 'QUOTA', blocks: new Set(['3402#1#25']), committed: 25, 'last#3402': 1 },
      }),
    );
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        reserveGrant({
          caseId: `3402-2024-repair${String(i).padStart(4, '0')}zzzzzzzz`,
          district: '3402',
          programYear: 2024,
          kkHash: `repair${i}`,
        }),
      ),
    );
    expect(answers.filter((a) => a === 'reserved')).toHaveLength(30);
    const district = await item('QUOTA#3402#2024');
    // Block 1 as the national item gave it, then block 2 drawn for the last five.
    expect(district).toMatchObject({ blocks: 2 });
    expect((district.cases as Set<string>).size).toBe(30);
    const national = await item('QUOTA#NATIONAL#2024');
    expect([...(national.blocks as Set<string>)].filter((b) => b.startsWith('3402#1#'))).toEqual(['3402#1#25']);
    expect(national['last#3402']).toBe(2);
    expect(national.committed).toBe(Number(district.capacity));
  });
});
