import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient, TaskDoesNotExist } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { requestIdFor } from '#requests/requests';
import { handler } from '../../functions/await-request.ts';
import { answerCaseWrites, caseWrites } from '../helpers/case-writes.ts';
import { caseItem, makeCase } from '../helpers/fixtures.ts';
import { invoke, setTestEnv } from '../helpers/lambda.ts';
import { decidedByOf } from '../helpers/people.ts';

const ddb = mockClient(DynamoDBDocumentClient);
const sfn = mockClient(SFNClient);
setTestEnv();

const c = makeCase({ stage: 'grant-approval' });
/** The last approval level's request (the directorate's, in programs/2020.json): its approval reserves the grant. */
const LEVEL = 'directorate';
const requestId = requestIdFor(c.caseId, 'grant-approval', { level: LEVEL });
const request = {
  requestId,
  kind: 'grant-approval',
  caseId: c.caseId,
  level: LEVEL,
  assignee: 'primary',
  recipient: 'direktorat.majalengka@kemensos.example',
  openedAt: '2026-01-09T00:00:00.000Z',
  deadline: '2026-01-23T00:00:00.000Z',
  reminders: 0,
};

const quotaKey = { pk: 'QUOTA#3210#2020', sk: 'QUOTA' };
const caseKey = { pk: `CASE#${c.caseId}`, sk: 'CASE' };
const conditionFailed = () => new ConditionalCheckFailedException({ message: 'condition', $metadata: {} });
const approved = {
  ...request,
  status: 'decided',
  decision: { decision: 'approved' },
  decidedAt: '2026-01-10T00:00:00.000Z',
  decidedBy: decidedByOf('approver@dinsos.example'),
  taskToken: 'token-4',
};
/** The case write of the replay: its new stage, if any, and the grantApproval it set. */
function caseWrite() {
  const input = caseWrites(ddb)[0];
  const values = input?.ExpressionAttributeValues ?? {};
  const grantApproval = Object.values(values).find((v) => typeof v === 'object' && v !== null && 'decision' in v);
  return { stage: values[':newStage'], grantApproval };
}

beforeEach(() => {
  ddb.reset();
  sfn.reset();
  ddb.on(GetCommand, { Key: { pk: `CASE#${c.caseId}`, sk: 'CASE' } }).resolves({ Item: caseItem(c) });
});

/** Majalengka's 200 grants of 2020 (its whole quota), reserved for other cases. */
const fullQuota = {
  ...quotaKey,
  cases: new Set(Array.from({ length: 200 }, (_, i) => `someone-else-${i}`)),
  blocks: 8,
  capacity: 200,
};

describe('AwaitRequest', () => {
  it('parks the task token on the open request and returns without settling anything', async () => {
    ddb.on(UpdateCommand).resolves({ Attributes: { ...request, status: 'open', taskToken: 'token-2' } });
    await expect(
      invoke(handler, { caseId: c.caseId, kind: 'grant-approval', level: LEVEL, taskToken: 'token-2' }),
    ).resolves.toEqual({
      requestId,
      status: 'open',
    });
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
      Key: { pk: `REQUEST#${requestId}`, sk: 'REQUEST' },
      ExpressionAttributeValues: { ':t': 'token-2', ':escalated': 'escalated' },
    });
    expect(sfn.calls()).toHaveLength(0);
  });

  it('replays an approval decided while the journey was down: case to disbursement, then SendTaskSuccess', async () => {
    const decided = {
      ...request,
      status: 'decided',
      decision: { decision: 'approved' },
      decidedAt: '2026-01-10T00:00:00.000Z',
      decidedBy: decidedByOf('approver@dinsos.example'),
      taskToken: 'token-2',
    };
    ddb.on(UpdateCommand, { Key: { pk: `REQUEST#${requestId}`, sk: 'REQUEST' } }).resolves({ Attributes: decided });
    answerCaseWrites(ddb, c.caseId);
    sfn.on(SendTaskSuccessCommand).resolves({});
    await invoke(handler, { caseId: c.caseId, kind: 'grant-approval', level: LEVEL, taskToken: 'token-2' });
    expect(caseWrites(ddb)).toContainEqual(
      expect.objectContaining({
        Key: { pk: `CASE#${c.caseId}`, sk: 'CASE' },
        ExpressionAttributeValues: expect.objectContaining({ ':newStage': 'disbursement' }),
      }),
    );
    expect(sfn).toHaveReceivedCommandWith(SendTaskSuccessCommand, { taskToken: 'token-2' });
  });

  it('replaying an approval reserved before a crash finds the reservation (no second grant) and moves the case on', async () => {
    ddb.on(UpdateCommand, { Key: { pk: `REQUEST#${requestId}`, sk: 'REQUEST' } }).resolves({ Attributes: approved });
    // The quota is full, and this case is in it: the earlier pass reserved before it crashed.
    ddb.on(UpdateCommand, { Key: quotaKey }).rejects(conditionFailed());
    ddb.on(GetCommand, { Key: quotaKey }).resolves({
      Item: { ...quotaKey, cases: new Set([c.caseId, 'someone-else']), blocks: 1, capacity: 2 },
    });
    answerCaseWrites(ddb, c.caseId);
    sfn.on(SendTaskSuccessCommand).resolves({});

    await invoke(handler, { caseId: c.caseId, kind: 'grant-approval', level: LEVEL, taskToken: 'token-4' });

    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
      Key: quotaKey,
      UpdateExpression: 'ADD cases :case',
      ExpressionAttributeValues: expect.objectContaining({ ':quota': 200, ':id': c.caseId }),
    });
    expect(caseWrite()).toMatchObject({ stage: 'disbursement', grantApproval: { decision: 'approved', quota: 'reserved' } });
    expect(sfn).toHaveReceivedCommandWith(SendTaskSuccessCommand, { taskToken: 'token-4' });
    expect(sfn).not.toHaveReceivedCommand(SendTaskFailureCommand);
  });

  it('replaying an approval the quota has no grant left for: the case stays, the journey gets QuotaExhaustedError', async () => {
    ddb.on(UpdateCommand, { Key: { pk: `REQUEST#${requestId}`, sk: 'REQUEST' } }).resolves({ Attributes: approved });
    ddb.on(UpdateCommand, { Key: quotaKey }).rejects(conditionFailed());
    ddb.on(GetCommand, { Key: quotaKey }).resolves({ Item: fullQuota });
    answerCaseWrites(ddb, c.caseId);
    sfn.on(SendTaskFailureCommand).resolves({});

    await invoke(handler, { caseId: c.caseId, kind: 'grant-approval', level: LEVEL, taskToken: 'token-4' });

    expect(caseWrite()).toMatchObject({ stage: undefined, grantApproval: { decision: 'approved', quota: 'exhausted' } });
    expect(sfn).toHaveReceivedCommandWith(SendTaskFailureCommand, {
      taskToken: 'token-4',
      error: 'QuotaExhaustedError',
      cause: 'QUOTA_EXHAUSTED: The grant quota of 3210 for 2020 is used up',
    });
    expect(sfn).not.toHaveReceivedCommand(SendTaskSuccessCommand);
  });

  it('replaying an approval whose quota answer is on the case keeps that answer and does not ask the quota again', async () => {
    const recorded = makeCase({
      stage: 'grant-approval',
      grantApproval: {
        decision: 'approved',
        decidedBy: decidedByOf('approver@dinsos.example'),
        at: approved.decidedAt,
        quota: 'exhausted',
      },
    });
    ddb.on(GetCommand, { Key: caseKey }).resolves({ Item: caseItem(recorded) });
    ddb.on(UpdateCommand, { Key: { pk: `REQUEST#${requestId}`, sk: 'REQUEST' } }).resolves({ Attributes: approved });
    answerCaseWrites(ddb, c.caseId);
    sfn.on(SendTaskFailureCommand).resolves({});

    await invoke(handler, { caseId: c.caseId, kind: 'grant-approval', level: LEVEL, taskToken: 'token-4' });

    expect(ddb).not.toHaveReceivedCommandWith(UpdateCommand, { Key: quotaKey });
    expect(sfn).toHaveReceivedCommandWith(SendTaskFailureCommand, { taskToken: 'token-4', error: 'QuotaExhaustedError' });
    expect(sfn).not.toHaveReceivedCommand(SendTaskSuccessCommand);
  });

  it('replays a rejection as SendTaskFailure(GrantRejected) with only the reason code as cause', async () => {
    const decided = {
      ...request,
      status: 'decided',
      decision: { decision: 'rejected', reasonCode: 'USAHA_TIDAK_ADA', reason: 'Tidak ada usaha saat kunjungan Bu Siti' },
      decidedAt: '2026-01-10T00:00:00.000Z',
      decidedBy: decidedByOf('approver@dinsos.example'),
      taskToken: 'token-3',
    };
    ddb.on(UpdateCommand, { Key: { pk: `REQUEST#${requestId}`, sk: 'REQUEST' } }).resolves({ Attributes: decided });
    answerCaseWrites(ddb, c.caseId);
    sfn.on(SendTaskFailureCommand).resolves({});
    await invoke(handler, { caseId: c.caseId, kind: 'grant-approval', level: LEVEL, taskToken: 'token-3' });
    // The free-text reason may name people: it stays on the case, out of the execution history.
    expect(sfn).toHaveReceivedCommandWith(SendTaskFailureCommand, {
      taskToken: 'token-3',
      error: 'GrantRejected',
      cause: 'reasonCode=USAHA_TIDAK_ADA',
    });
    // A rejection never takes a grant from the quota.
    expect(ddb).not.toHaveReceivedCommandWith(UpdateCommand, { Key: quotaKey });
  });

  it('treats a task token that no longer exists as settled later, not as a failure', async () => {
    const decided = {
      ...request,
      status: 'decided',
      decision: { decision: 'approved' },
      decidedAt: '2026-01-10T00:00:00.000Z',
      decidedBy: decidedByOf('approver@dinsos.example'),
      taskToken: 'old',
    };
    ddb.on(UpdateCommand, { Key: { pk: `REQUEST#${requestId}`, sk: 'REQUEST' } }).resolves({ Attributes: decided });
    answerCaseWrites(ddb, c.caseId);
    sfn.on(SendTaskSuccessCommand).rejects(new TaskDoesNotExist({ message: 'gone', $metadata: {} }));
    await expect(
      invoke(handler, { caseId: c.caseId, kind: 'grant-approval', level: LEVEL, taskToken: 'old' }),
    ).resolves.toMatchObject({
      status: 'decided',
    });
  });

  it('replays an approval at a level before the last: that level recorded, nothing reserved, the journey told the next level', async () => {
    const firstId = requestIdFor(c.caseId, 'grant-approval', { level: 'district' });
    const first = { ...approved, requestId: firstId, level: 'district', recipient: 'kadinsos.majalengka@dinsos.example' };
    ddb.on(GetCommand, { Key: { pk: `REQUEST#${firstId}` } }).resolves({ Item: first });
    ddb.on(UpdateCommand, { Key: { pk: `REQUEST#${firstId}`, sk: 'REQUEST' } }).resolves({ Attributes: first });
    answerCaseWrites(ddb, c.caseId);
    sfn.on(SendTaskSuccessCommand).resolves({});

    await invoke(handler, { caseId: c.caseId, kind: 'grant-approval', level: 'district', taskToken: 'token-4' });

    const write = caseWrites(ddb)[0]!;
    expect(Object.values(write.ExpressionAttributeValues ?? {})).toContainEqual([
      expect.objectContaining({ level: 'district', decision: 'approved', decidedBy: decidedByOf('approver@dinsos.example') }),
    ]);
    expect(write.ExpressionAttributeValues?.[':newStage']).toBeUndefined();
    // Only the case read: the write is conditional on nobody having written it since.
    expect(write.ConditionExpression).toContain('#rev = :rev');
    expect(ddb).not.toHaveReceivedCommandWith(UpdateCommand, { Key: quotaKey });
    expect(sfn).toHaveReceivedCommandWith(SendTaskSuccessCommand, {
      taskToken: 'token-4',
      output: JSON.stringify({ kind: 'grant-approval', requestId: firstId, nextLevel: 'directorate' }),
    });
  });

  it("waits on the alternate approver's request once the level escalated", async () => {
    const alternateId = requestIdFor(c.caseId, 'grant-approval', { level: LEVEL, alternate: true });
    // The primary's request is escalated: it takes no token (its condition fails), the alternate's does.
    ddb.on(UpdateCommand, { Key: { pk: `REQUEST#${requestId}` } }).rejects(conditionFailed());
    ddb
      .on(UpdateCommand, { Key: { pk: `REQUEST#${alternateId}` } })
      .resolves({ Attributes: { ...request, requestId: alternateId, assignee: 'alternate', status: 'open' } });
    await expect(
      invoke(handler, { caseId: c.caseId, kind: 'grant-approval', level: LEVEL, taskToken: 'token-5' }),
    ).resolves.toEqual({ requestId: alternateId, status: 'open' });
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
      Key: { pk: `REQUEST#${alternateId}`, sk: 'REQUEST' },
      ExpressionAttributeValues: { ':t': 'token-5', ':escalated': 'escalated' },
    });
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
      Key: { pk: `REQUEST#${requestId}`, sk: 'REQUEST' },
      ConditionExpression: 'attribute_exists(pk) AND #status <> :escalated',
    });
    // AwaitRequest reads no request (its role may not): the conditional writes say where the token goes.
    expect(ddb).not.toHaveReceivedCommandWith(GetCommand, { Key: { pk: `REQUEST#${requestId}`, sk: 'REQUEST' } });
  });
});
