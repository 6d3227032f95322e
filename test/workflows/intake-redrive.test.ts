/**
 * RedriveExecution of the real workflows/intake.asl.json on the embedded engine: after
 * StartJourneys failed part-way (one family's StartExecution refused until its retries
 * ran out), and after ReadProposal failed. Nothing catches those failures, so the
 * execution stops in the state that failed and a redrive continues there: what runs
 * again, and that no journey is started twice.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { awsError } from '../../embedded/stepfunctions/task-tokens.ts';
import { caseIdFor, WorkflowHarness } from './harness.ts';

let h: WorkflowHarness;

beforeEach(() => {
  h = new WorkflowHarness();
});

afterEach(async () => {
  await h.close();
});

const BUCKET = 'prokus-local';
const upload = { bucket: BUCKET, key: 'proposals/3210/usulan-maret.csv' };

const JOURNEYS_KEY = 'journeys/upload-1.json';
const proposalRead = { uploadId: 'upload-1', accepted: 3, rejected: 0, journeys: { bucket: BUCKET, key: JOURNEYS_KEY } };

beforeEach(() => {
  h.items.set(
    `${BUCKET}/${JOURNEYS_KEY}`,
    [1, 2, 3].map((i) => ({ executionName: caseIdFor(i), caseId: caseIdFor(i) })),
  );
});

async function failedIntake() {
  const { executionArn } = await h.engine.startExecution({
    stateMachineArn: h.intakeArn,
    name: 'upload-1',
    input: JSON.stringify(upload),
  });
  return { executionArn, record: await h.engine.waitForExecution(executionArn) };
}

/** ReadProposal accepted 3 families; the third one's journey cannot be started (throttled for good). */
async function failedInStartJourneys() {
  h.on('ReadProposal', () => proposalRead);
  h.beforeStart = (req) => {
    if (req.name === caseIdFor(3)) throw awsError('ThrottlingException', 'Rate exceeded');
  };
  const failed = await failedIntake();
  h.beforeStart = undefined;
  return failed;
}

/** Every journey started, run to its end, so none is left running when the engine closes. */
async function journeysDone(): Promise<void> {
  await Promise.all(
    h.engine.listExecutions({ stateMachineArn: h.journeyArn }).executions.map((e) => h.engine.waitForExecution(e.executionArn)),
  );
}

const journeyNames = () =>
  h.engine
    .listExecutions({ stateMachineArn: h.journeyArn, maxResults: 1000 })
    .executions.map((e) => e.name)
    .sort();

/** The states entered after the execution's last ExecutionRedriven. */
function enteredAfterRedrive(executionArn: string): string[] {
  const events = h.history(executionArn);
  const from = events.findLastIndex((e) => e.type === 'ExecutionRedriven');
  return events.slice(from + 1).flatMap((e) => (e.stateEnteredEventDetails?.name ? [e.stateEnteredEventDetails.name] : []));
}

describe('redriving a failed intake', () => {
  it('after StartJourneys failed, runs StartJourneys again from its reader: the missing journey started, none twice', async () => {
    const { executionArn, record } = await failedInStartJourneys();
    // Failed in StartJourneys itself, with the refusal: no Fail state after it.
    expect(record).toMatchObject({ status: 'FAILED', error: 'StepFunctions.ThrottlingException' });
    expect(h.history(executionArn).some((e) => e.type === 'MapStateFailed')).toBe(true);
    expect(h.entered(executionArn)).not.toContain('IntakeDone');
    expect(journeyNames()).toEqual([caseIdFor(1), caseIdFor(2)]);

    h.engine.redriveExecution({ executionArn });

    const done = await h.engine.waitForExecution(executionArn);
    expect(done).toMatchObject({ status: 'SUCCEEDED', redriveCount: 1 });
    const entered = enteredAfterRedrive(executionArn);
    expect(entered[0]).toBe('StartJourneys.ReadItems');
    expect(entered).not.toContain('ReadProposal');
    expect(entered.filter((s) => s === 'AlreadyStarted')).toHaveLength(2);
    expect(entered.at(-1)).toBe('IntakeDone');
    expect(h.payloads('ReadProposal')).toHaveLength(1);
    expect(journeyNames()).toEqual([caseIdFor(1), caseIdFor(2), caseIdFor(3)]);
    await journeysDone();
  });

  it('after ReadProposal failed, runs ReadProposal again with the same input, then starts every journey once', async () => {
    // As when the summary email is refused after the families were registered.
    h.on('ReadProposal', (_payload, n) => {
      if (n === 1)
        throw Object.assign(new Error('Email sending is disabled for this account.'), { name: 'SendingPausedException' });
      return proposalRead;
    });
    const { executionArn, record } = await failedIntake();
    expect(record).toMatchObject({
      status: 'FAILED',
      error: 'SendingPausedException',
      cause: expect.stringContaining('sending is disabled'),
    });
    expect(h.entered(executionArn)).toEqual(['IsProposalFile', 'ReadProposal']);
    expect(journeyNames()).toEqual([]);

    h.engine.redriveExecution({ executionArn });

    expect(await h.engine.waitForExecution(executionArn)).toMatchObject({ status: 'SUCCEEDED', redriveCount: 1 });
    const entered = enteredAfterRedrive(executionArn);
    expect(entered.slice(0, 2)).toEqual(['ReadProposal', 'StartJourneys.ReadItems']);
    expect(entered).not.toContain('IsProposalFile');
    expect(entered).not.toContain('AlreadyStarted');
    expect(entered.at(-1)).toBe('IntakeDone');
    expect(h.payloads('ReadProposal')).toEqual([upload, upload]);
    expect(journeyNames()).toEqual([caseIdFor(1), caseIdFor(2), caseIdFor(3)]);
    await journeysDone();
  });

  it('failing again in the same state, stays redrivable there', async () => {
    h.on('ReadProposal', (_payload, n) => {
      if (n <= 2)
        throw Object.assign(new Error('Email sending is disabled for this account.'), { name: 'SendingPausedException' });
      return proposalRead;
    });
    const { executionArn } = await failedIntake();

    h.engine.redriveExecution({ executionArn });
    expect(await h.engine.waitForExecution(executionArn)).toMatchObject({
      status: 'FAILED',
      error: 'SendingPausedException',
      redriveCount: 1,
    });
    expect(enteredAfterRedrive(executionArn)).toEqual(['ReadProposal']);

    h.engine.redriveExecution({ executionArn });
    expect(await h.engine.waitForExecution(executionArn)).toMatchObject({ status: 'SUCCEEDED', redriveCount: 2 });
    expect(h.payloads('ReadProposal')).toHaveLength(3);
    expect(journeyNames()).toHaveLength(3);
    await journeysDone();
  });
});
