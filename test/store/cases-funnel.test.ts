/**
 * Case writes and the funnel counters they carry (store/cases.ts): a write that changes a
 * counter is one transaction with the counter's ADD, one that does not is a plain
 * UpdateItem, each conditional on the case as read; a case that changed in between is
 * read again and its delta computed afresh, so the counters count each change once.
 */
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Case } from '#domain/case';
import { createCase, updateCase } from '#store/cases';
import {
  answerCaseWrites,
  casePuts,
  caseWrites,
  counterDeltas,
  refuseCaseWrites,
  removesOf,
  setsOf,
  transactionCanceled,
} from '../helpers/case-writes.ts';
import { caseItem, makeCase } from '../helpers/fixtures.ts';
import { setTestEnv } from '../helpers/lambda.ts';

const ddb = mockClient(DynamoDBDocumentClient);
setTestEnv();

const NOW = new Date('2026-01-05T02:00:00.000Z'); // two hours after the fixture case was proposed
const COUNTER = 'FUNNEL#2020/DISTRICT#3210';
const c = makeCase({ stageSince: '2026-01-05T00:00:00.000Z', rev: 1 });
const caseKey = { pk: `CASE#${c.caseId}`, sk: 'CASE' };
const eligible = { eligible: true, reasons: [], explanation: [], ruleVersion: '2020.1', at: NOW.toISOString() };

/** The case as the store reads it, in turn: each read answers the next of `versions`, the last one from then on. */
function reads(...versions: Case[]) {
  let stub = ddb.on(GetCommand, { Key: caseKey });
  for (const v of versions.slice(0, -1)) stub = stub.resolvesOnce({ Item: caseItem(v) });
  stub.resolves({ Item: caseItem(versions.at(-1)!) });
}

beforeEach(() => {
  ddb.reset();
  vi.useFakeTimers({ now: NOW, toFake: ['Date'] });
});
afterEach(() => vi.useRealTimers());

describe('createCase', () => {
  it('puts the case at rev 1 with its stage start, and counts the proposal in the same transaction', async () => {
    answerCaseWrites(ddb, c.caseId);
    const { rev: _, stageSince: __, ...fresh } = c;
    await expect(createCase(fresh)).resolves.toBe(true);
    expect(ddb).not.toHaveReceivedCommand(UpdateCommand);
    const [put] = casePuts(ddb);
    expect(put).toMatchObject({ ConditionExpression: 'attribute_not_exists(pk)', Item: { rev: 1, stageSince: c.createdAt } });
    expect(await counterDeltas(ddb)).toEqual({ [COUNTER]: { 'reached#proposed': 1, 'now#verification': 1 } });
  });

  it('answers false for a case that exists, and counts nothing', async () => {
    ddb.on(TransactWriteCommand).rejects(transactionCanceled('ConditionalCheckFailed', 'None'));
    await expect(createCase(c)).resolves.toBe(false);
    expect(await counterDeltas(ddb)).toEqual({});
  });
});

describe('updateCase', () => {
  it('moves the stage in one transaction: the case conditional on its stage and rev, the counter ADDs what changed', async () => {
    reads(c);
    answerCaseWrites(ddb, c.caseId);
    const updated = await updateCase(c.caseId, {
      expectStage: 'verification',
      set: { verification: eligible },
      stage: 'grant-approval',
    });

    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
    expect(ddb).not.toHaveReceivedCommand(UpdateCommand);
    const [write] = caseWrites(ddb);
    expect(write!.Key).toEqual(caseKey);
    expect(write!.ConditionExpression).toBe('attribute_exists(pk) AND #stage = :was AND #rev = :rev');
    expect(write!.ExpressionAttributeValues).toMatchObject({ ':was': 'verification', ':rev': 1 });
    expect(setsOf(write!)).toEqual({
      updatedAt: NOW.toISOString(),
      rev: 2,
      verification: eligible,
      stage: 'grant-approval',
      gsi1sk: `grant-approval#${c.caseId}`,
      stageSince: NOW.toISOString(),
    });
    expect(await counterDeltas(ddb)).toEqual({
      [COUNTER]: {
        'reached#eligible': 1,
        'now#verification': -1,
        'now#grant-approval': 1,
        'dwell#verification#3': 1, // two hours at verification: [1 h, 6 h)
      },
    });
    // What it returns is the case as written, computed from the read (the write asks for nothing back).
    expect(write).not.toHaveProperty('ReturnValues');
    expect(updated).toMatchObject({ stage: 'grant-approval', rev: 2, stageSince: NOW.toISOString(), verification: eligible });
  });

  it('sends a write that changes no counter as a plain UpdateItem, still conditional on the rev', async () => {
    reads(c);
    answerCaseWrites(ddb, c.caseId);
    const updated = await updateCase(c.caseId, { expectStage: 'verification', set: { journeyRuns: 2 } });
    expect(ddb).not.toHaveReceivedCommand(TransactWriteCommand);
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
      Key: caseKey,
      ConditionExpression: 'attribute_exists(pk) AND #stage = :was AND #rev = :rev',
    });
    expect(setsOf(caseWrites(ddb)[0]!)).toEqual({ updatedAt: NOW.toISOString(), rev: 2, journeyRuns: 2 });
    expect(updated).toMatchObject({ journeyRuns: 2, rev: 2, stageSince: c.stageSince });
  });

  it('tries a transaction that conflicted with another on the counter again, and counts it once', async () => {
    vi.useRealTimers(); // the store waits a few milliseconds between tries
    reads(c);
    ddb
      .on(TransactWriteCommand)
      .rejectsOnce(transactionCanceled('None', 'TransactionConflict'))
      .rejectsOnce(transactionCanceled('TransactionConflict', 'None'))
      .resolves({});
    await expect(
      updateCase(c.caseId, { expectStage: 'verification', set: { verification: eligible }, stage: 'grant-approval' }),
    ).resolves.toMatchObject({ stage: 'grant-approval', rev: 2 });
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 3);
    // The same write each time: the case did not change, so it is not read again.
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 1);
    expect(new Set(caseWrites(ddb).map((w) => JSON.stringify(w))).size).toBe(1);
    expect((await counterDeltas(ddb))[COUNTER]).toMatchObject({ 'reached#eligible': 1, 'now#grant-approval': 1 });
  });

  it('gives up on a counter that stays contended, with the error DynamoDB gave', async () => {
    vi.useRealTimers();
    reads(c);
    ddb.on(TransactWriteCommand).rejects(transactionCanceled('None', 'TransactionConflict'));
    await expect(
      updateCase(c.caseId, { expectStage: 'verification', set: { verification: eligible }, stage: 'grant-approval' }),
    ).rejects.toMatchObject({ name: 'TransactionCanceledException' });
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 8);
    expect(await counterDeltas(ddb)).toEqual({});
  });

  it('reads a case that moved between its read and its write again, and counts the change from what it read then', async () => {
    // Closing from mentoring or financing referral: the store reads mentoring, Grading lands
    // (financing referral, rev 5), the write is refused, the second read finds financing referral.
    const mentoring = makeCase({ stage: 'mentoring', stageSince: '2026-01-01T00:00:00.000Z', rev: 4 });
    const referred = { ...mentoring, stage: 'financing-referral' as const, stageSince: '2026-01-04T00:00:00.000Z', rev: 5 };
    reads(mentoring, referred);
    answerCaseWrites(ddb, c.caseId, 1);
    const closed = await updateCase(c.caseId, {
      expectStage: ['mentoring', 'financing-referral'],
      set: { outcome: 'graduated', closedAt: NOW.toISOString() },
      stage: 'closed',
    });
    expect(closed).toMatchObject({ stage: 'closed', outcome: 'graduated', rev: 6 });
    const writes = caseWrites(ddb);
    expect(writes.map((w) => [w.ExpressionAttributeValues?.[':was'], w.ExpressionAttributeValues?.[':rev']])).toEqual([
      ['mentoring', 4],
      ['financing-referral', 5],
    ]);
    // Only the write that landed counts: it left financing referral after a day and two hours.
    expect(await counterDeltas(ddb)).toEqual({
      [COUNTER]: { 'now#financing-referral': -1, 'dwell#financing-referral#5': 1, 'exit#graduated': 1 },
    });
  });

  it('refuses without writing again when the case it reads again no longer allows the update', async () => {
    const mentoring = makeCase({ stage: 'mentoring', rev: 4 });
    reads(mentoring, { ...mentoring, stage: 'closed', outcome: 'mentoring-incomplete', rev: 5 });
    answerCaseWrites(ddb, c.caseId, 1);
    await expect(
      updateCase(c.caseId, { expectStage: 'mentoring', set: { failure: { error: 'E', cause: '', at: NOW.toISOString() } } }),
    ).rejects.toMatchObject({ name: 'StageConflictError' });
    expect(caseWrites(ddb)).toHaveLength(1);
    expect(await counterDeltas(ddb)).toEqual({});
  });

  it('refuses a set computed from a read when the case was written since (unchangedSince), without writing', async () => {
    reads(makeCase({ stage: 'grant-approval', updatedAt: '2026-01-05T01:00:00.000Z', rev: 3 }));
    await expect(
      updateCase(c.caseId, { expectStage: 'grant-approval', set: { approvals: [] }, unchangedSince: c.updatedAt }),
    ).rejects.toMatchObject({ name: 'StageConflictError' });
    expect(caseWrites(ddb)).toHaveLength(0);
  });

  it('gives up with StageConflictError after 8 writes when the case keeps changing', async () => {
    reads(c);
    refuseCaseWrites(ddb, c.caseId);
    await expect(updateCase(c.caseId, { expectStage: 'verification', set: { journeyRuns: 2 } })).rejects.toMatchObject({
      name: 'StageConflictError',
    });
    expect(caseWrites(ddb)).toHaveLength(8);
  });

  it('writes a case from before rev on the condition that it still has none, and gives it rev 1', async () => {
    const { rev: _, stageSince: __, ...legacy } = makeCase({ stage: 'disbursement', updatedAt: '2026-01-05T01:59:00.000Z' });
    reads(legacy);
    answerCaseWrites(ddb, c.caseId);
    const updated = await updateCase(c.caseId, {
      expectStage: 'disbursement',
      set: { mentoringStartedAt: NOW.toISOString() },
      stage: 'mentoring',
    });
    const [write] = caseWrites(ddb);
    expect(write!.ConditionExpression).toBe(
      'attribute_exists(pk) AND #stage = :was AND (attribute_not_exists(#rev) OR #rev = :rev)',
    );
    expect(write!.ExpressionAttributeValues).toMatchObject({ ':rev': 0, ':next': 1 });
    expect(updated.rev).toBe(1);
    // Without stageSince the stay is counted from its last write: one minute, [1 min, 10 min).
    expect((await counterDeltas(ddb))[COUNTER]).toMatchObject({ 'dwell#disbursement#1': 1 });
  });

  it('removes what it is told to, and the funnel stops counting a failure it removes', async () => {
    const failed = makeCase({ stage: 'mentoring', failure: { error: 'E', cause: 'c', at: '2026-01-05T01:00:00.000Z' }, rev: 4 });
    reads(failed);
    answerCaseWrites(ddb, c.caseId);
    const updated = await updateCase(c.caseId, { expectStage: 'mentoring', set: { journeyRuns: 2 }, remove: ['failure'] });
    const [write] = caseWrites(ddb);
    expect(write!.UpdateExpression).toMatch(/^SET .+ REMOVE #r0$/);
    expect(removesOf(write!)).toEqual(['failure']);
    expect(updated.failure).toBeUndefined();
    expect(await counterDeltas(ddb)).toEqual({ [COUNTER]: { failed: -1 } });
  });

  it('throws any other failure of the write as it is, without trying again', async () => {
    reads(c);
    ddb.on(TransactWriteCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    await expect(
      updateCase(c.caseId, { expectStage: 'verification', set: { verification: eligible }, stage: 'grant-approval' }),
    ).rejects.toMatchObject({ name: 'ThrottlingException' });
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
  });

  it('builds a set given as a function from the case it writes over: a milestone recorded meanwhile is kept, after a race too', async () => {
    const report = { businessRunning: true, monthlyRevenue: 1_600_000, practices: [], notes: '' };
    const read = makeCase({ stage: 'mentoring', milestones: {}, rev: 4 });
    // The mentor's report of the first milestone lands between the store's read and its write.
    const reported = {
      ...read,
      milestones: { 'pemisahan-keuangan': { status: 'reported' as const, at: NOW.toISOString(), report } },
      rev: 5,
    };
    reads(read, reported);
    answerCaseWrites(ddb, c.caseId, 1);
    const missed = { status: 'missed' as const, at: NOW.toISOString() };
    const updated = await updateCase(c.caseId, {
      expectStage: 'mentoring',
      set: (current) => ({ milestones: { ...current.milestones, 'kemasan-merek': missed } }),
    });
    expect(Object.keys(updated.milestones).sort()).toEqual(['kemasan-merek', 'pemisahan-keuangan']);
    const [first, second] = caseWrites(ddb);
    expect(Object.keys(setsOf(first!).milestones as object)).toEqual(['kemasan-merek']);
    expect(Object.keys(setsOf(second!).milestones as object).sort()).toEqual(['kemasan-merek', 'pemisahan-keuangan']);
    // A missed milestone reaches nothing; the report counted its step with its own write.
    expect(await counterDeltas(ddb)).toEqual({});
  });

  it('writes nothing when the function finds the fact there already', async () => {
    const done = makeCase({ stage: 'mentoring', milestones: { 'kemasan-merek': { status: 'missed', at: c.createdAt } }, rev: 4 });
    reads(done);
    answerCaseWrites(ddb, c.caseId);
    const updated = await updateCase(c.caseId, {
      expectStage: 'mentoring',
      set: (current) => (current.milestones['kemasan-merek'] ? undefined : { milestones: {} }),
    });
    expect(updated).toMatchObject({ rev: 4 });
    expect(caseWrites(ddb)).toHaveLength(0);
  });
});
