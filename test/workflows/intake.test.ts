/**
 * The real workflows/intake.asl.json on the embedded engine: its Distributed Map runs as
 * a reader task before an inline Map (one iteration per batch of 100 families), and
 * StartJourney starts real journey executions on the same engine (the journey's
 * functions are stubs).
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProposalFileError } from '#domain/errors';
import { isProposalKey } from '#intake/bucket-layout';
import { awsError } from '../../embedded/stepfunctions/task-tokens.ts';
import { caseIdFor, expectInOrder, WorkflowHarness } from './harness.ts';

let h: WorkflowHarness;

beforeEach(() => {
  h = new WorkflowHarness();
});

afterEach(async () => {
  await h.close();
});

const BUCKET = 'prokus-local';
const upload = { bucket: BUCKET, key: 'proposals/3210/usulan-maret.csv' };

/** ReadProposal accepted `n` families; the list of journeys to start is at `key`. */
function proposalRead(n: number, key = 'journeys/upload-1.json') {
  const journeys = Array.from({ length: n }, (_, i) => ({ executionName: caseIdFor(i + 1), caseId: caseIdFor(i + 1) }));
  h.items.set(`${BUCKET}/${key}`, journeys);
  h.on('ReadProposal', () => ({ uploadId: 'upload-1', accepted: n, rejected: 1, journeys: { bucket: BUCKET, key } }));
  return journeys;
}

async function intake(name: string, input: { bucket: string; key: string } = upload) {
  const { executionArn } = await h.engine.startExecution({
    stateMachineArn: h.intakeArn,
    name,
    input: JSON.stringify(input),
  });
  const record = await h.engine.waitForExecution(executionArn);
  return { arn: executionArn, record, entered: h.entered(executionArn) };
}

const journeys = () => h.engine.listExecutions({ stateMachineArn: h.journeyArn, maxResults: 1000 }).executions;
const count = (states: string[], name: string) => states.filter((s) => s === name).length;

async function allJourneysDone(): Promise<void> {
  await Promise.all(journeys().map((e) => h.engine.waitForExecution(e.executionArn)));
}

/** The input each batch's StartBatch state received, in history order. */
function batchesOf(arn: string): { Items: unknown[]; BatchInput: unknown }[] {
  return h
    .history(arn)
    .filter((e) => e.stateEnteredEventDetails?.name === 'StartBatch')
    .map((e) => JSON.parse(e.stateEnteredEventDetails?.input ?? 'null'));
}

const taskErrors = (arn: string) =>
  h.history(arn).flatMap((e) => (e.taskFailedEventDetails ? [e.taskFailedEventDetails.error] : []));

/** The top-level states the execution entered, in order: where it stopped is the last. */
function topLevel(entered: string[]): string[] {
  const states = Object.keys(JSON.parse(h.engine.describeStateMachine(h.intakeArn).definition).States);
  return entered.filter((s, i) => states.includes(s) && s !== entered[i - 1]);
}

/** The error and cause the execution ended with (its ExecutionFailed event). */
const executionFailure = (arn: string) => h.history(arn).find((e) => e.type === 'ExecutionFailed')?.executionFailedEventDetails;

describe('intake', () => {
  it('starts nothing when the file cannot be read at all', async () => {
    h.on('ReadProposal', () => {
      throw new ProposalFileError('HEADER_MISSING', { id: 'Kolom nik tidak ada', en: 'The nik column is missing' });
    });

    const { record, entered } = await intake('upload-1');

    expect(record.status).toBe('SUCCEEDED');
    expect(entered).toEqual(['IsProposalFile', 'ReadProposal', 'FileRejected']);
    expect(journeys()).toEqual([]);
    expect(h.itemReads).toEqual([]);
    expect(h.payloads('ReadProposal')).toEqual([upload]);
  });

  it.each([
    ['the CSV report intake wrote', 'proposals/3210/usulan-maret.csv.report.csv'],
    ['the JSON report intake wrote', 'proposals/3210/usulan-maret.csv.report.json'],
    ['a folder marker', 'proposals/3210/'],
    ['a journeys list', 'intake/abc/journeys.json'],
    ['a file outside proposals/', 'usulan-maret.csv'],
  ])('ends at once for %s, without reading it', async (_what, key) => {
    const { record, entered } = await intake('not-a-proposal', { bucket: BUCKET, key });

    expect(record.status).toBe('SUCCEEDED');
    expect(entered).toEqual(['IsProposalFile', 'NotAProposal']);
    expect(h.payloads('ReadProposal')).toEqual([]);
  });

  it.each([
    'proposals/3210/usulan-maret.csv',
    'proposals/3210/usulan-maret.csv.report.csv',
    'proposals/3210/usulan.report.json',
    'proposals/3210/',
    'proposals/3210/sub/usulan.xlsx',
    'intake/abc/journeys.json',
    'intake/start-journeys/run/manifest.json',
    'usulan-maret.csv',
    'laporan/usulan.csv',
  ])('IsProposalFile reads %s the way the bucket layout does', async (key) => {
    proposalRead(0);
    const { entered } = await intake('layout-check', { bucket: BUCKET, key });

    expect(entered[1] === 'NotAProposal').toBe(!isProposalKey(key));
  });

  it('starts one journey per accepted family, named and fed as the list says', async () => {
    const list = proposalRead(3);

    const { record, entered, arn } = await intake('upload-1');

    expect(record.status).toBe('SUCCEEDED');
    expectInOrder(entered, [
      'IsProposalFile',
      'ReadProposal',
      'StartJourneys.ReadItems',
      'StartJourneys',
      'StartBatch',
      'StartJourney',
      'IntakeDone',
    ]);
    expect(count(entered, 'StartJourney')).toBe(3);
    expect(entered).not.toContain('AlreadyStarted');
    expect(h.itemReads).toEqual([`${BUCKET}/journeys/upload-1.json`]);
    const started = journeys();
    expect(started.map((e) => e.name).sort()).toEqual(list.map((j) => j.executionName).sort());
    for (const e of started) expect(JSON.parse(e.input)).toEqual({ caseId: e.name });
    // The items list is the reader's business: it does not flow on into the intake's output.
    expect(record.output).not.toContain('executionName');
    await allJourneysDone();
    h.expectNoPersonalData([arn, ...started.map((e) => e.executionArn)]);
  });

  it('reads 250 families as 3 batches of at most 100 and starts each family exactly once', async () => {
    const list = proposalRead(250);
    // The journeys stop at their first wait: this test is about starting them.
    h.answer({ 'grant-approval': 'ignore' });
    const names: string[] = [];
    h.beforeStart = (req) => {
      if (req.stateMachineArn === h.journeyArn && req.name) names.push(req.name);
    };

    const { record, entered, arn } = await intake('upload-1');

    expect(record.status).toBe('SUCCEEDED');
    expect(count(entered, 'StartBatch')).toBe(3);
    const batches = batchesOf(arn);
    expect(batches.map((b) => b.Items.length).sort((a, b) => b - a)).toEqual([100, 100, 50]);
    for (const b of batches) expect(b.BatchInput).toEqual({ uploadId: 'upload-1' });
    expect(
      batches
        .flatMap((b) => b.Items)
        .map((i) => (i as { caseId: string }).caseId)
        .sort(),
    ).toEqual(list.map((j) => j.caseId).sort());
    expect(count(entered, 'StartJourney')).toBe(250);
    expect(names.sort()).toEqual(list.map((j) => j.executionName).sort());
    expect(journeys()).toHaveLength(250);
    expect(new Set(journeys().map((e) => e.name)).size).toBe(250);
  });

  it('retries a StartExecution the quota refused, and then starts the family', async () => {
    const list = proposalRead(3);
    let refused = 0;
    h.beforeStart = (req) => {
      if (req.stateMachineArn === h.journeyArn && refused < 4) {
        refused += 1;
        throw awsError('ThrottlingException', 'Rate exceeded');
      }
    };

    const { record, entered, arn } = await intake('upload-1');

    expect(record.status).toBe('SUCCEEDED');
    expect(taskErrors(arn)).toEqual(Array(4).fill('StepFunctions.ThrottlingException'));
    // As on AWS, a retry reads as TaskFailed, then the same task scheduled again: 3 starts + 4 retries.
    const scheduled = h.history(arn).filter((e) => e.taskScheduledEventDetails?.resource === 'startExecution');
    expect(scheduled).toHaveLength(7);
    expect(count(entered, 'StartJourney')).toBe(3);
    expect(entered).not.toContain('AlreadyStarted');
    expect(
      journeys()
        .map((e) => e.name)
        .sort(),
    ).toEqual(list.map((j) => j.executionName).sort());
    await allJourneysDone();
  });

  it('fails the intake when the quota never frees up, after its retries', async () => {
    proposalRead(2);
    h.beforeStart = (req) => {
      if (req.stateMachineArn === h.journeyArn) throw awsError('ThrottlingException', 'Rate exceeded');
    };

    const { record, entered, arn } = await intake('upload-1');

    // It fails in StartJourneys itself, with the refusal: that is where a redrive continues.
    expect(record).toMatchObject({
      status: 'FAILED',
      error: 'StepFunctions.ThrottlingException',
      cause: expect.stringContaining('Rate exceeded'),
    });
    expect(executionFailure(arn)).toEqual({ error: record.error, cause: record.cause });
    expect(h.history(arn).some((e) => e.type === 'MapStateFailed')).toBe(true);
    expect(topLevel(entered)).toEqual(['IsProposalFile', 'ReadProposal', 'StartJourneys']);
    expectInOrder(entered, ['StartJourneys', 'StartJourney']);
    // MaxAttempts 30: the first try and 30 retries for the first family refused.
    expect(taskErrors(arn).length).toBeGreaterThanOrEqual(31);
    expect(journeys()).toEqual([]);
  });

  it('fails the intake in ReadProposal, with the function\u2019s own error and cause, once its retries are spent', async () => {
    h.on('ReadProposal', () => {
      throw Object.assign(new Error('DynamoDB did not answer'), { name: 'TransientError' });
    });

    const { record, entered, arn } = await intake('upload-1');

    expect(record).toMatchObject({
      status: 'FAILED',
      error: 'TransientError',
      cause: expect.stringContaining('DynamoDB did not answer'),
    });
    expect(executionFailure(arn)).toEqual({ error: 'TransientError', cause: record.cause });
    expect(entered).toEqual(['IsProposalFile', 'ReadProposal']);
    // MaxAttempts 5: the first call and 5 retries, all with the same input.
    expect(h.payloads('ReadProposal')).toEqual(Array(6).fill(upload));
    expect(h.itemReads).toEqual([]);
    expect(journeys()).toEqual([]);
  });

  it('started twice with the same list, starts no family twice (AlreadyStarted)', async () => {
    proposalRead(3);
    await intake('upload-1');
    await allJourneysDone();

    const again = await intake('upload-1-r2');

    expect(again.record.status).toBe('SUCCEEDED');
    expect(count(again.entered, 'AlreadyStarted')).toBe(3);
    expect(journeys()).toHaveLength(3);
    expect(taskErrors(again.arn)).toEqual(Array(3).fill('StepFunctions.ExecutionAlreadyExistsException'));
  });

  it('starts the families not started yet and puts the others in AlreadyStarted', async () => {
    const list = proposalRead(5);
    for (const j of list.slice(0, 2)) await h.startJourney(j.caseId, j.executionName);
    await allJourneysDone();

    const { record, entered } = await intake('upload-1');

    expect(record.status).toBe('SUCCEEDED');
    expect(count(entered, 'StartJourney')).toBe(5);
    expect(count(entered, 'AlreadyStarted')).toBe(2);
    expect(journeys()).toHaveLength(5);
    await allJourneysDone();
  });

  it('delivered twice while the journeys still wait for approval, gets the same executions back (idempotent start)', async () => {
    proposalRead(2);
    h.answer({ 'grant-approval': 'ignore' });
    await intake('upload-1');

    const again = await intake('upload-1-r2');

    expect(again.record.status).toBe('SUCCEEDED');
    expect(again.entered).not.toContain('AlreadyStarted');
    expect(journeys()).toHaveLength(2);
    expect(journeys().every((e) => e.status === 'RUNNING')).toBe(true);
  });

  it('fails the intake when the journeys list cannot be read', async () => {
    h.on('ReadProposal', () => ({
      uploadId: 'upload-1',
      accepted: 1,
      rejected: 0,
      journeys: { bucket: BUCKET, key: 'journeys/missing.json' },
    }));

    const { record, entered, arn } = await intake('upload-1');

    expect(record.status).toBe('FAILED');
    expect(record.error).toBe('States.ItemReaderFailed');
    expect(executionFailure(arn)?.error).toBe('States.ItemReaderFailed');
    // The reader is StartJourneys' own first step: the execution stops there.
    expect(entered).toEqual(['IsProposalFile', 'ReadProposal', 'StartJourneys.ReadItems']);
    expect(journeys()).toEqual([]);
  });
});
