/** LoadCase: a run registers itself on the case and routes by the stage it finds, whatever moves the case meanwhile. */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../../functions/load-case.ts';
import { caseItem, makeCase } from '../helpers/fixtures.ts';
import { invoke, setTestEnv } from '../helpers/lambda.ts';
import { decidedByOf } from '../helpers/people.ts';

const ddb = mockClient(DynamoDBDocumentClient);
setTestEnv();

const conflict = () => new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

beforeEach(() => ddb.reset());

describe('LoadCase', () => {
  it('counts the run and returns the stage', async () => {
    const c = makeCase({ stage: 'grant-approval', journeyRuns: 1 });
    ddb.on(GetCommand).resolves({ Item: caseItem(c) });
    ddb.on(UpdateCommand).resolves({ Attributes: caseItem({ ...c, journeyRuns: 2 }) });
    const out = await invoke(handler, { caseId: c.caseId, executionName: `${c.caseId}-r2` });
    expect(out).toMatchObject({ caseId: c.caseId, stage: 'grant-approval' });
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
      ExpressionAttributeValues: expect.objectContaining({ ':s0': 'grant-approval' }),
    });
  });

  it('succeeds when a decision moves the case between its read and its write, and routes to the new stage', async () => {
    const before = makeCase({ stage: 'grant-approval', journeyRuns: 1 });
    const after = { ...before, stage: 'disbursement' as const };
    // The restarted run reads grant-approval; the approver's POST lands; the run's write finds disbursement.
    ddb
      .on(GetCommand)
      .resolvesOnce({ Item: caseItem(before) })
      .resolves({ Item: caseItem(after) });
    ddb
      .on(UpdateCommand)
      .rejectsOnce(conflict())
      .resolves({ Attributes: caseItem({ ...after, journeyRuns: 2 }) });
    const out = await invoke(handler, { caseId: before.caseId, executionName: `${before.caseId}-r2` });
    expect(out).toMatchObject({ stage: 'disbursement' });
    const updates = ddb.commandCalls(UpdateCommand).map((call) => call.args[0].input.ExpressionAttributeValues?.[':s0']);
    expect(updates).toEqual(['grant-approval', 'disbursement']);
  });

  it('returns a case that closed meanwhile without writing', async () => {
    const before = makeCase({ stage: 'grant-approval', journeyRuns: 1 });
    ddb
      .on(GetCommand)
      .resolvesOnce({ Item: caseItem(before) })
      .resolves({ Item: caseItem({ ...before, stage: 'closed', outcome: 'rejected' }) });
    ddb.on(UpdateCommand).rejects(conflict());
    const out = await invoke(handler, { caseId: before.caseId, executionName: `${before.caseId}-r2` });
    expect(out).toMatchObject({ stage: 'closed' });
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(1);
  });

  it('gives up with StageConflictError when the case keeps moving', async () => {
    const c = makeCase({ stage: 'grant-approval', journeyRuns: 1 });
    ddb.on(GetCommand).resolves({ Item: caseItem(c) });
    ddb.on(UpdateCommand).rejects(conflict());
    await expect(invoke(handler, { caseId: c.caseId, executionName: `${c.caseId}-r2` })).rejects.toMatchObject({
      name: 'StageConflictError',
    });
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(5);
  });

  it('names the approval level the case waits on: the first, or on a restart the first without a recorded approval', async () => {
    const fresh = makeCase({ stage: 'grant-approval', journeyRuns: 1 });
    ddb.on(GetCommand).resolves({ Item: caseItem(fresh) });
    ddb.on(UpdateCommand).resolves({ Attributes: caseItem({ ...fresh, journeyRuns: 2 }) });
    expect(await invoke(handler, { caseId: fresh.caseId, executionName: fresh.caseId })).toMatchObject({
      approvalLevel: 'district',
    });

    const headApproved = makeCase({
      stage: 'grant-approval',
      journeyRuns: 1,
      approvals: [
        {
          level: 'district',
          decision: 'approved',
          decidedBy: decidedByOf('kadinsos.majalengka@dinsos.example'),
          at: '2026-01-06T00:00:00.000Z',
        },
      ],
    });
    ddb.reset();
    ddb.on(GetCommand).resolves({ Item: caseItem(headApproved) });
    ddb.on(UpdateCommand).resolves({ Attributes: caseItem({ ...headApproved, journeyRuns: 2 }) });
    expect(await invoke(handler, { caseId: headApproved.caseId, executionName: `${headApproved.caseId}-r2` })).toEqual({
      caseId: headApproved.caseId,
      district: '3210',
      programYear: 2020,
      stage: 'grant-approval',
      approvalLevel: 'directorate',
    });
  });
});
