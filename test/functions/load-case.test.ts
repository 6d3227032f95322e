/** LoadCase: a run registers itself on the case and routes by the stage it finds, whatever moves the case meanwhile. */
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../../functions/load-case.ts';
import { answerCaseWrites, caseWrites, counterDeltas, refuseCaseWrites, removesOf, setsOf } from '../helpers/case-writes.ts';
import { caseItem, makeCase } from '../helpers/fixtures.ts';
import { invoke, setTestEnv } from '../helpers/lambda.ts';
import { decidedByOf } from '../helpers/people.ts';

const ddb = mockClient(DynamoDBDocumentClient);
setTestEnv();

/** The stage each case write was conditional on, in the order sent. */
const writtenAt = () => caseWrites(ddb).map((w) => w.ExpressionAttributeValues?.[':was']);

beforeEach(() => ddb.reset());

describe('LoadCase', () => {
  it('counts the run and returns the stage', async () => {
    const c = makeCase({ stage: 'grant-approval', journeyRuns: 1 });
    ddb.on(GetCommand).resolves({ Item: caseItem(c) });
    answerCaseWrites(ddb, c.caseId);
    const out = await invoke(handler, { caseId: c.caseId, executionName: `${c.caseId}-r2` });
    expect(out).toMatchObject({ caseId: c.caseId, stage: 'grant-approval' });
    expect(writtenAt()).toEqual(['grant-approval']);
    expect(setsOf(caseWrites(ddb)[0]!)).toMatchObject({ journeyRuns: 2 });
  });

  it('clears the failure the last run left, so the funnel stops counting the journey as failed', async () => {
    const c = makeCase({
      stage: 'mentoring',
      journeyRuns: 1,
      failure: { error: 'States.Timeout', cause: '', at: '2026-01-06T00:00:00.000Z' },
      rev: 7,
    });
    ddb.on(GetCommand).resolves({ Item: caseItem(c) });
    answerCaseWrites(ddb, c.caseId);
    await invoke(handler, { caseId: c.caseId, executionName: `${c.caseId}-r2` });
    const [write] = caseWrites(ddb);
    expect(removesOf(write!)).toEqual(['failure']);
    expect(setsOf(write!)).toMatchObject({ journeyRuns: 2, rev: 8 });
    expect(await counterDeltas(ddb)).toEqual({ 'FUNNEL#2020/DISTRICT#3210': { failed: -1 } });
  });

  it('writes no counter when the run has no failure to clear', async () => {
    const c = makeCase({ stage: 'mentoring', journeyRuns: 1, rev: 7 });
    ddb.on(GetCommand).resolves({ Item: caseItem(c) });
    answerCaseWrites(ddb, c.caseId);
    await invoke(handler, { caseId: c.caseId, executionName: `${c.caseId}-r2` });
    expect(removesOf(caseWrites(ddb)[0]!)).toEqual([]);
    expect(ddb).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it('succeeds when a decision moves the case between its read and its write, and routes to the new stage', async () => {
    const before = makeCase({ stage: 'grant-approval', journeyRuns: 1 });
    const after = { ...before, stage: 'disbursement' as const };
    // The restarted run (and the store, before its write) reads grant-approval; the approver's POST
    // lands; the run's write finds the case changed, and the store reads it at disbursement.
    ddb
      .on(GetCommand)
      .resolvesOnce({ Item: caseItem(before) })
      .resolvesOnce({ Item: caseItem(before) })
      .resolves({ Item: caseItem(after) });
    answerCaseWrites(ddb, before.caseId, 1);
    const out = await invoke(handler, { caseId: before.caseId, executionName: `${before.caseId}-r2` });
    expect(out).toMatchObject({ stage: 'disbursement' });
    expect(writtenAt()).toEqual(['grant-approval', 'disbursement']);
  });

  it('returns a case that closed meanwhile without writing', async () => {
    const before = makeCase({ stage: 'grant-approval', journeyRuns: 1 });
    ddb
      .on(GetCommand)
      .resolvesOnce({ Item: caseItem(before) })
      .resolvesOnce({ Item: caseItem(before) })
      .resolves({ Item: caseItem({ ...before, stage: 'closed', outcome: 'rejected' }) });
    refuseCaseWrites(ddb, before.caseId);
    const out = await invoke(handler, { caseId: before.caseId, executionName: `${before.caseId}-r2` });
    expect(out).toMatchObject({ stage: 'closed' });
    expect(caseWrites(ddb)).toHaveLength(1);
  });

  it('gives up with StageConflictError when the case keeps moving', async () => {
    const c = makeCase({ stage: 'grant-approval', journeyRuns: 1 });
    ddb.on(GetCommand).resolves({ Item: caseItem(c) });
    refuseCaseWrites(ddb, c.caseId);
    await expect(invoke(handler, { caseId: c.caseId, executionName: `${c.caseId}-r2` })).rejects.toMatchObject({
      name: 'StageConflictError',
    });
    // LoadCase's 5 attempts, each the store's 8 (it reads and writes again itself when the case changed).
    expect(caseWrites(ddb)).toHaveLength(5 * 8);
  });

  it('names the approval level the case waits on: the first, or on a restart the first without a recorded approval', async () => {
    const fresh = makeCase({ stage: 'grant-approval', journeyRuns: 1 });
    ddb.on(GetCommand).resolves({ Item: caseItem(fresh) });
    answerCaseWrites(ddb, fresh.caseId);
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
    answerCaseWrites(ddb, headApproved.caseId);
    expect(await invoke(handler, { caseId: headApproved.caseId, executionName: `${headApproved.caseId}-r2` })).toEqual({
      caseId: headApproved.caseId,
      district: '3210',
      programYear: 2020,
      stage: 'grant-approval',
      approvalLevel: 'directorate',
    });
  });
});
