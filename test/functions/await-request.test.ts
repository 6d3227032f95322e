import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient, TaskDoesNotExist } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { requestIdFor } from '#requests/requests';
import { handler } from '../../functions/await-request.ts';
import { caseItem, makeCase } from '../helpers/fixtures.ts';
import { invoke, setTestEnv } from '../helpers/lambda.ts';

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
