import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient, TaskDoesNotExist } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { requestIdFor } from '#requests/requests';
import { handler } from '../../functions/await-request.ts';
import { caseItem, makeCase } from '../helpers/fixtures.ts';
import { invoke, setTestEnv } from '../helpers/lambda.ts';
import { decidedByOf } from '../helpers/people.ts';

const ddb = mockClient(DynamoDBDocumentClient);
const sfn = mockClient(SFNClient);
setTestEnv();

const c = makeCase({ stage: 'grant-approval' });
const requestId = requestIdFor(c.caseId, 'grant-approval');
const request = {
  requestId,
  kind: 'grant-approval',
  caseId: c.caseId,
  recipient: 'approver@dinsos.example',
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
  taskToken: 'token-4',
};
/** The case write of the replay: its new stage, if any, and the grantApproval it set. */
function caseWrite() {
  const input = ddb.commandCalls(UpdateCommand, { Key: caseKey })[0]?.args[0].input;
  const values = input?.ExpressionAttributeValues ?? {};
  const grantApproval = Object.values(values).find((v) => typeof v === 'object' && v !== null && 'decision' in v);
  return { stage: values[':newStage'], grantApproval };
}

beforeEach(() => {
  ddb.reset();
  sfn.reset();
  ddb.on(GetCommand, { Key: { pk: `CASE#${c.caseId}`, sk: 'CASE' } }).resolves({ Item: caseItem(c) });
});

describe('AwaitRequest', () => {
  it('parks the task token on the open request and returns without settling anything', async () => {
    ddb.on(UpdateCommand).resolves({ Attributes: { ...request, status: 'open', taskToken: 'token-2' } });
    await expect(invoke(handler, { caseId: c.caseId, kind: 'grant-approval', taskToken: 'token-2' })).resolves.toEqual({
      requestId,
      status: 'open',
    });
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
      Key: { pk: `REQUEST#${requestId}`, sk: 'REQUEST' },
      ExpressionAttributeValues: { ':t': 'token-2' },
    });
    expect(sfn.calls()).toHaveLength(0);
  });

  it('replays an approval decided while the journey was down: case to disbursement, then SendTaskSuccess', async () => {
    const decided = {
      ...request,
      status: 'decided',
      decision: { decision: 'approved' },
      decidedAt: '2026-01-10T00:00:00.000Z',
      taskToken: 'token-2',
    };
    ddb.on(UpdateCommand, { Key: { pk: `REQUEST#${requestId}`, sk: 'REQUEST' } }).resolves({ Attributes: decided });
    ddb
      .on(UpdateCommand, { Key: { pk: `CASE#${c.caseId}`, sk: 'CASE' } })
      .resolves({ Attributes: caseItem({ ...c, stage: 'disbursement' }) });
    sfn.on(SendTaskSuccessCommand).resolves({});
    await invoke(handler, { caseId: c.caseId, kind: 'grant-approval', taskToken: 'token-2' });
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
      Key: { pk: `CASE#${c.caseId}`, sk: 'CASE' },
      ExpressionAttributeValues: expect.objectContaining({ ':newStage': 'disbursement' }),
    });
    expect(sfn).toHaveReceivedCommandWith(SendTaskSuccessCommand, { taskToken: 'token-2' });
  });

  it('replaying an approval reserved before a crash finds the reservation (no second grant) and moves the case on', async () => {
    ddb.on(UpdateCommand, { Key: { pk: `REQUEST#${requestId}`, sk: 'REQUEST' } }).resolves({ Attributes: approved });
    // The quota is full, and this case is in it: the earlier pass reserved before it crashed.
    ddb.on(UpdateCommand, { Key: quotaKey }).rejects(conditionFailed());
    ddb.on(GetCommand, { Key: quotaKey }).resolves({ Item: { ...quotaKey, cases: new Set([c.caseId, 'someone-else']) } });
    ddb.on(UpdateCommand, { Key: caseKey }).resolves({ Attributes: caseItem({ ...c, stage: 'disbursement' }) });
    sfn.on(SendTaskSuccessCommand).resolves({});

    await invoke(handler, { caseId: c.caseId, kind: 'grant-approval', taskToken: 'token-4' });

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
    ddb.on(GetCommand, { Key: quotaKey }).resolves({ Item: { ...quotaKey, cases: new Set(['someone-else']) } });
    ddb.on(UpdateCommand, { Key: caseKey }).resolves({ Attributes: caseItem(c) });
    sfn.on(SendTaskFailureCommand).resolves({});

    await invoke(handler, { caseId: c.caseId, kind: 'grant-approval', taskToken: 'token-4' });

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
    ddb.on(UpdateCommand, { Key: caseKey }).resolves({ Attributes: caseItem(recorded) });
    sfn.on(SendTaskFailureCommand).resolves({});

    await invoke(handler, { caseId: c.caseId, kind: 'grant-approval', taskToken: 'token-4' });

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
      taskToken: 'token-3',
    };
    ddb.on(UpdateCommand, { Key: { pk: `REQUEST#${requestId}`, sk: 'REQUEST' } }).resolves({ Attributes: decided });
    ddb.on(UpdateCommand, { Key: { pk: `CASE#${c.caseId}`, sk: 'CASE' } }).resolves({ Attributes: caseItem(c) });
    sfn.on(SendTaskFailureCommand).resolves({});
    await invoke(handler, { caseId: c.caseId, kind: 'grant-approval', taskToken: 'token-3' });
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
      taskToken: 'old',
    };
    ddb.on(UpdateCommand, { Key: { pk: `REQUEST#${requestId}`, sk: 'REQUEST' } }).resolves({ Attributes: decided });
    ddb
      .on(UpdateCommand, { Key: { pk: `CASE#${c.caseId}`, sk: 'CASE' } })
      .resolves({ Attributes: caseItem({ ...c, stage: 'disbursement' }) });
    sfn.on(SendTaskSuccessCommand).rejects(new TaskDoesNotExist({ message: 'gone', $metadata: {} }));
    await expect(invoke(handler, { caseId: c.caseId, kind: 'grant-approval', taskToken: 'old' })).resolves.toMatchObject({
      status: 'decided',
    });
  });
});
