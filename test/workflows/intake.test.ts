/**
 * The real workflows/intake.asl.json on the embedded engine: its Distributed Map runs as
 * a reader task before an inline Map, and StartJourney starts real journey executions
 * on the same engine (the journey's functions are stubs).
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProposalFileError } from '#domain/errors';
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

async function intake(name: string) {
  const { executionArn } = await h.engine.startExecution({
    stateMachineArn: h.intakeArn,
    name,
    input: JSON.stringify(upload),
  });
  const record = await h.engine.waitForExecution(executionArn);
  return { arn: executionArn, record, entered: h.entered(executionArn) };
}

const journeys = () => h.engine.listExecutions({ stateMachineArn: h.journeyArn }).executions;

async function allJourneysDone(): Promise<void> {
  await Promise.all(journeys().map((e) => h.engine.waitForExecution(e.executionArn)));
}

describe('intake', () => {
  it('starts nothing when the file cannot be read at all', async () => {
    h.on('ReadProposal', () => {
      throw new ProposalFileError('HEADER_MISSING', { id: 'Kolom nik tidak ada', en: 'The nik column is missing' });
    });

    const { record, entered } = await intake('upload-1');

    expect(record.status).toBe('SUCCEEDED');
    expect(entered).toEqual(['ReadProposal', 'FileRejected']);
    expect(journeys()).toEqual([]);
    expect(h.itemReads).toEqual([]);
    expect(h.payloads('ReadProposal')).toEqual([upload]);
  });

  it('starts one journey per accepted family, named and fed as the list says', async () => {
    const list = proposalRead(3);

    const { record, entered, arn } = await intake('upload-1');

    expect(record.status).toBe('SUCCEEDED');
    expectInOrder(entered, ['ReadProposal', 'StartJourneys.ReadItems', 'StartJourneys', 'StartJourney', 'IntakeDone']);
    expect(entered.filter((s) => s === 'StartJourney')).toHaveLength(3);
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

  it('started twice with the same list, starts no family twice (AlreadyStarted)', async () => {
    proposalRead(3);
    await intake('upload-1');
    await allJourneysDone();

    const again = await intake('upload-1-r2');

    expect(again.record.status).toBe('SUCCEEDED');
    expect(again.entered.filter((s) => s === 'AlreadyStarted')).toHaveLength(3);
    expect(journeys()).toHaveLength(3);
    const failures = h.history(again.arn).flatMap((e) => (e.taskFailedEventDetails ? [e.taskFailedEventDetails.error] : []));
    expect(failures).toEqual(Array(3).fill('StepFunctions.ExecutionAlreadyExistsException'));
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

    const { record, entered } = await intake('upload-1');

    expect(record.status).toBe('FAILED');
    expect(record.error).toBe('States.ItemReaderFailed');
    expectInOrder(entered, ['ReadProposal', 'StartJourneys.ReadItems', 'IntakeFailed']);
    expect(journeys()).toEqual([]);
  });
});
