/**
 * Approval levels, escalation and the final deadline through the real journey ASL and the
 * real handlers: the embedded engine runs workflows/journey.asl.json, every task is the
 * handler module the CDK app deploys, the table is dynalite. SES is mocked to an outbox
 * the test reads links from; Step Functions' SendTaskSuccess/Failure (from the pages'
 * decisions) go to the engine. People decide as the request's signed-in recipient through
 * requests/pages/flow.ts, as the Pages Lambda does after sign-in.
 *
 * Program 2020 as bundled (escalation after 5 days: nothing escalates here) for the level
 * order; a program year 2031 written for this test with seconds for durations (escalation
 * after 3 s, the level's deadline after 8 s) for escalation and expiry.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { simpleParser } from 'mailparser';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Case } from '#domain/case';
import { useSecretForTests } from '#lib/secrets';
import { ensureTable, startDynamo } from '../../embedded/local/dynamodb.ts';
import type { Keyring } from '../../embedded/local/local-auth.ts';
import type { LocalService } from '../../embedded/local/ports.ts';
import { functionArn, invocationScope, loadFunctions, substitutions } from '../../embedded/runtime/handlers.ts';
import { Engine } from '../../embedded/stepfunctions/engine.ts';
import { makeCase, TEST_SECRET } from '../helpers/fixtures.ts';
import { setTestEnv } from '../helpers/lambda.ts';
import { sessionOf } from '../helpers/people.ts';

const ses = mockClient(SESv2Client);
const sfn = mockClient(SFNClient);
const keyring: Keyring = {
  operator: { accessKeyId: 'LOCALOPERATORKEY0003', secretAccessKey: 'operator-secret-for-the-levels-test' },
  runtime: { accessKeyId: 'LOCALRUNTIMEKEY00003', secretAccessKey: 'runtime-secret-for-the-levels-test' },
};
const SHORT_YEAR = 2031;
/** Kab. Majalengka's approvers in programs/2020.json (the short year copies them). */
const DISTRICT_HEAD = 'kadinsos.majalengka@dinsos.example';
const DISTRICT_ALTERNATE = 'sekdinsos.majalengka@dinsos.example';
const DIRECTORATE = 'direktorat.majalengka@kemensos.example';

let dir: string;
let dynamo: LocalService;
let engine: Engine;
let journeyArn: string;

interface Mail {
  to: string;
  kind: string;
  caseId: string;
  text: string;
  token: string;
}
const outbox: Mail[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prokus-approval-levels-'));
  dynamo = await startDynamo({ dir: join(dir, 'dynamodb'), keyring });
  setTestEnv();
  useSecretForTests(TEST_SECRET);
  await ensureTable(dynamo.endpoint, 'prokus-test', keyring.runtime);
  process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamo.endpoint;
  process.env.AWS_ACCESS_KEY_ID = keyring.runtime.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = keyring.runtime.secretAccessKey;
  const short = JSON.parse(await readFile(new URL('../../programs/2020.json', import.meta.url), 'utf8'));
  short.version = `${SHORT_YEAR}.test`;
  short.programYear = SHORT_YEAR;
  short.deadlines = { grantApproval: '8s', escalateAfter: '3s', financingOutcome: '21d', reminderEvery: '1h' };
  await writeFile(join(dir, `${SHORT_YEAR}.json`), JSON.stringify(short));
  process.env.PROKUS_PROGRAMS_DIR = dir;
  (await import('#domain/program')).resetProgramCache();
});

afterAll(async () => {
  await dynamo?.close();
  await rm(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  outbox.length = 0;
  ses.reset();
  sfn.reset();
  ses.on(SendEmailCommand).callsFake(async (input) => {
    const mail = await simpleParser(Buffer.from(input.Content?.Raw?.Data ?? new Uint8Array()));
    const text = mail.text ?? '';
    outbox.push({
      to: mail.to && !Array.isArray(mail.to) ? mail.to.text : '',
      kind: String(mail.headers.get('x-prokus-kind') ?? ''),
      caseId: String(mail.headers.get('x-prokus-case') ?? ''),
      text,
      token: /https:\/\/pages\.example\/r\/([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)/.exec(text)?.[1] ?? '',
    });
    return { MessageId: `m-${outbox.length}` };
  });
  engine = new Engine({ retryIntervalMs: 5 });
  // The pages' decisions reach the waiting journey, as the AWS endpoint passes them on in the runtime.
  sfn.on(SendTaskSuccessCommand).callsFake((input) => {
    engine.sendTaskSuccess({ taskToken: input.taskToken, output: input.output });
    return {};
  });
  sfn.on(SendTaskFailureCommand).callsFake((input) => {
    engine.sendTaskFailure({ taskToken: input.taskToken, error: input.error, cause: input.cause });
    return {};
  });
  const asl = await readFile(new URL('../../workflows/journey.asl.json', import.meta.url), 'utf8');
  journeyArn = engine.registerStateMachine('prokus-journey', asl, substitutions());
  for (const [id, handler] of await loadFunctions(await invocationScope())) engine.registerLambda(functionArn(id), handler);
});

afterEach(async () => {
  await engine.close();
});

async function caseAtApproval(caseId: string, programYear: number): Promise<Case> {
  const { createCase } = await import('#store/cases');
  const c = makeCase({
    caseId,
    programYear,
    stage: 'grant-approval',
    kkHash: `kk-${caseId}`,
    verification: { eligible: true, reasons: [], explanation: [], ruleVersion: `${programYear}.1`, at: new Date().toISOString() },
  });
  await createCase(c);
  return c;
}

async function start(caseId: string, name = caseId): Promise<string> {
  return (await engine.startExecution({ stateMachineArn: journeyArn, name, input: JSON.stringify({ caseId }) })).executionArn;
}

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const found = await probe();
    if (found !== undefined && found !== false) return found;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const mailTo = (to: string, caseId: string) =>
  until(`a link for ${to}`, () => outbox.find((m) => m.to === to && m.caseId === caseId));
const mailsTo = (to: string, caseId: string) => outbox.filter((m) => m.to === to && m.caseId === caseId);

function entered(executionArn: string): string[] {
  return engine
    .getExecutionHistory({ executionArn, maxResults: 1000 })
    .events.flatMap((e) => (e.stateEnteredEventDetails?.name ? [e.stateEnteredEventDetails.name] : []));
}

async function decideAs(email: string, token: string, values: Record<string, string>) {
  const { submitDecision } = await import('#requests/pages/flow');
  return submitDecision(token, values, { session: sessionOf(email), pageRequestId: `page-${email}` });
}

async function show(email: string, token: string) {
  const { showRequest } = await import('#requests/pages/flow');
  return showRequest(token, sessionOf(email));
}

async function caseNow(caseId: string) {
  return (await import('#store/cases')).getCase(caseId);
}

describe('grant approval levels through the real journey', () => {
  it('district head then directorate: two requests in order, the second page shows the first decision, then Disbursement; a restart in between emails nobody again', {
    timeout: 60_000,
  }, async () => {
    const { caseId } = await caseAtApproval('3210-2020-levelstwoapproved00001', 2020);
    const first = await start(caseId);

    const head = await mailTo(DISTRICT_HEAD, caseId);
    expect(head.text).toContain('Approval level: 1 of 2, Head of the district social office');
    const page1 = await show(DISTRICT_HEAD, head.token);
    expect(page1.html).toContain('Level 1 of 2: Head of the district social office');
    const approved1 = await decideAs(DISTRICT_HEAD, head.token, { decision: 'approved' });
    expect(approved1.html).toContain('Approved at level 1 of 2 (Head of the district social office).');
    expect(approved1.html).toContain('The request goes on to the next level (Directorate of Social Empowerment, Kemensos).');
    expect(approved1.html).not.toContain('will be disbursed');

    const directorate = await mailTo(DIRECTORATE, caseId);
    expect(directorate.text).toContain('Approval level: 2 of 2, Directorate of Social Empowerment, Kemensos');
    expect(directorate.token).not.toBe(head.token);
    expect((await caseNow(caseId)).stage).toBe('grant-approval');
    // Nothing is reserved before the last level approves.
    const { GetCommand } = await import('@aws-sdk/lib-dynamodb');
    const { dynamo: client } = await import('#lib/clients/dynamodb');
    const quota = await client.send(new GetCommand({ TableName: 'prokus-test', Key: { pk: 'QUOTA#3210#2020', sk: 'QUOTA' } }));
    expect((quota.Item?.cases as Set<string> | undefined)?.has(caseId) ?? false).toBe(false);

    // The journey dies while level 2 waits; the operator restarts it (README: `<caseId>-r2`).
    await until('the first run waiting on level 2', () => entered(first).filter((s) => s === 'AwaitGrantApproval').length === 2);
    engine.stopExecution({ executionArn: first, error: 'Test.Stopped', cause: 'restart' });
    const second = await start(caseId, `${caseId}-r2`);
    await until('the restarted run waiting', () => entered(second).includes('AwaitGrantApproval'));
    expect(entered(second)).toEqual([
      'LoadCase',
      'RouteByStage',
      'StartGrantApproval',
      'OpenGrantApproval',
      'AwaitGrantApproval',
    ]);
    expect(mailsTo(DIRECTORATE, caseId)).toHaveLength(1);
    expect(mailsTo(DISTRICT_HEAD, caseId)).toHaveLength(1);

    const page2 = await show(DIRECTORATE, directorate.token);
    expect(page2.html).toContain('Level 2 of 2: Directorate of Social Empowerment, Kemensos');
    expect(page2.html).toContain(`Level 1 of 2: Head of the district social office: approved by ${DISTRICT_HEAD}`);
    const approved2 = await decideAs(DIRECTORATE, directorate.token, { decision: 'approved' });
    expect(approved2.html).toContain('The grant of Rp3.500.000 will be disbursed to this family.');
    expect(approved2.html).toContain(`Level 2 of 2: Directorate of Social Empowerment, Kemensos: approved by ${DIRECTORATE}`);

    const done = await until('mentoring', async () => {
      const c = await caseNow(caseId);
      return c.stage === 'mentoring' ? c : undefined;
    });
    expect(done.approvals?.map((a) => [a.level, a.decision, a.decidedBy.email])).toEqual([
      ['district', 'approved', DISTRICT_HEAD],
      ['directorate', 'approved', DIRECTORATE],
    ]);
    expect(done.grantApproval).toMatchObject({ decision: 'approved', level: 'directorate', quota: 'reserved' });
    expect(done.disbursement?.amountRupiah).toBe(3_500_000);
    const states = entered(second);
    expect(states.slice(states.indexOf('AwaitGrantApproval'), states.indexOf('Disbursement') + 1)).toEqual([
      'AwaitGrantApproval',
      'NextApprovalLevel',
      'Disbursement',
    ]);
  });

  it('a rejection at level 2 closes the case Rejected with the reason, and reserves nothing', { timeout: 60_000 }, async () => {
    const { caseId } = await caseAtApproval('3210-2020-levelsrejectedtwo00001', 2020);
    const run = await start(caseId);
    await decideAs(DISTRICT_HEAD, (await mailTo(DISTRICT_HEAD, caseId)).token, { decision: 'approved' });
    const rejected = await decideAs(DIRECTORATE, (await mailTo(DIRECTORATE, caseId)).token, {
      decision: 'rejected',
      reasonCode: 'DATA_TIDAK_SESUAI',
      reason: 'Data usaha tidak sesuai dengan kunjungan',
    });
    expect(rejected.html).toContain('The grant is rejected.');
    expect(rejected.html).toContain(`approved by ${DISTRICT_HEAD}`);
    expect(rejected.html).toContain(`rejected (DATA_TIDAK_SESUAI) by ${DIRECTORATE}`);

    expect((await engine.waitForExecution(run)).status).toBe('SUCCEEDED');
    const states = entered(run);
    expect(states.slice(states.lastIndexOf('AwaitGrantApproval'))).toEqual(['AwaitGrantApproval', 'Rejected', 'Close', 'Closed']);
    const c = await caseNow(caseId);
    expect(c).toMatchObject({
      stage: 'closed',
      outcome: 'rejected',
      grantApproval: { decision: 'rejected', level: 'directorate', reasonCode: 'DATA_TIDAK_SESUAI' },
      outcomeReason: {
        en: 'Rejected by the approver at level directorate (DATA_TIDAK_SESUAI): Data usaha tidak sesuai dengan kunjungan',
      },
    });
    expect(c.disbursement).toBeUndefined();
  });

  it('escalates to the alternate after the escalation period: the first link is refused as moved, the alternate decides, on to the next level', {
    timeout: 60_000,
  }, async () => {
    const { caseId } = await caseAtApproval(`3210-${SHORT_YEAR}-levelsescalated00001`, SHORT_YEAR);
    const run = await start(caseId);
    const head = await mailTo(DISTRICT_HEAD, caseId);
    const t0 = Date.now();

    const alternate = await mailTo(DISTRICT_ALTERNATE, caseId);
    // Moved at the escalation (3 s), not at the first reminder (1 h) nor the deadline (8 s).
    expect(Date.now() - t0).toBeGreaterThan(2_000);
    expect(Date.now() - t0).toBeLessThan(7_000);
    expect(alternate.text).toContain('Moved to you: the first approver did not decide in the time allowed.');
    expect(alternate.token).not.toBe(head.token);

    const moved = await decideAs(DISTRICT_HEAD, head.token, { decision: 'approved' });
    expect(moved.status).toBe(410);
    expect(moved.html).toContain('This request has moved to another approver');
    expect(moved.html).toContain('The request is now for s•••a@dinsos.example');
    // The alternate's own link is theirs only.
    expect((await show(DISTRICT_HEAD, alternate.token)).status).toBe(403);

    const approved = await decideAs(DISTRICT_ALTERNATE, alternate.token, { decision: 'approved' });
    expect(approved.status).toBe(200);
    const directorate = await mailTo(DIRECTORATE, caseId);
    await decideAs(DIRECTORATE, directorate.token, { decision: 'approved' });

    await until('mentoring', async () => ((await caseNow(caseId)).stage === 'mentoring' ? true : undefined));
    const c = await caseNow(caseId);
    expect(c.approvals?.map((a) => [a.level, a.decidedBy.email, a.assignee])).toEqual([
      ['district', DISTRICT_ALTERNATE, 'alternate'],
      ['directorate', DIRECTORATE, 'primary'],
    ]);
    // The alternate was emailed once; the head's one email was the first, never resent.
    expect(mailsTo(DISTRICT_ALTERNATE, caseId)).toHaveLength(1);
    expect(mailsTo(DISTRICT_HEAD, caseId)).toHaveLength(1);
    expectInOrder(entered(run), [
      'OpenGrantApproval',
      'AwaitGrantApproval',
      'OpenGrantApproval',
      'AwaitGrantApproval',
      'NextApprovalLevel',
      'OpenGrantApproval',
      'AwaitGrantApproval',
      'NextApprovalLevel',
      'Disbursement',
    ]);
  });

  it("past the level's final deadline with nobody deciding, closes the case approval-expired with the reason", {
    timeout: 60_000,
  }, async () => {
    const { caseId } = await caseAtApproval(`3210-${SHORT_YEAR}-levelsexpired000001`, SHORT_YEAR);
    const run = await start(caseId);
    const head = await mailTo(DISTRICT_HEAD, caseId);
    const alternate = await mailTo(DISTRICT_ALTERNATE, caseId);

    const record = await engine.waitForExecution(run);
    expect(record.status).toBe('SUCCEEDED');
    const states = entered(run);
    expect(states.slice(states.indexOf('StartGrantApproval'))).toEqual([
      'StartGrantApproval',
      'OpenGrantApproval',
      'AwaitGrantApproval',
      'OpenGrantApproval',
      'AwaitGrantApproval',
      'OpenGrantApproval',
      'ApprovalExpired',
      'Close',
      'Closed',
    ]);
    expect(await caseNow(caseId)).toMatchObject({
      stage: 'closed',
      outcome: 'approval-expired',
      outcomeReason: { en: 'No approval decision before the deadline' },
    });
    expect((await decideAs(DISTRICT_HEAD, head.token, { decision: 'approved' })).html).toContain('moved to another approver');
    const late = await decideAs(DISTRICT_ALTERNATE, alternate.token, { decision: 'approved' });
    expect(late.status).toBe(410);
    expect(late.html).toContain('This link has expired.');
    expect(mailsTo(DIRECTORATE, caseId)).toHaveLength(0);
  });
});

function expectInOrder(actual: string[], expected: string[]): void {
  let from = 0;
  for (const name of expected) {
    const at = actual.indexOf(name, from);
    expect(at, `${name} after position ${from} in ${actual.join(' → ')}`).toBeGreaterThanOrEqual(0);
    from = at + 1;
  }
}
