/**
 * RedriveExecution of the real workflows/intake.asl.json on the embedded engine, after
 * StartJourneys failed part-way (one family's StartExecution refused until its retries
 * ran out): what runs again, and that no journey is started twice.
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

/** ReadProposal accepted 3 families; the third one's journey cannot be started (throttled for good). */
async function failedIntake(stateMachineArn: string) {
  const key = 'journeys/upload-1.json';
  h.items.set(
    `${BUCKET}/${key}`,
    [1, 2, 3].map((i) => ({ executionName: caseIdFor(i), caseId: caseIdFor(i) })),
  );
  h.on('ReadProposal', () => ({ uploadId: 'upload-1', accepted: 3, rejected: 0, journeys: { bucket: BUCKET, key } }));
  h.beforeStart = (req) => {
    if (req.name === caseIdFor(3)) throw awsError('ThrottlingException', 'Rate exceeded');
  };
  const { executionArn } = await h.engine.startExecution({ stateMachineArn, name: 'upload-1', input: JSON.stringify(upload) });
  expect((await h.engine.waitForExecution(executionArn)).status).toBe('FAILED');
  expect(journeyNames()).toEqual([caseIdFor(1), caseIdFor(2)]);
  h.beforeStart = undefined;
  return executionArn;
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
  it('as written, runs IntakeFailed again: StartJourneys failed into its Catch, so the Fail state is what failed', async () => {
    const executionArn = await failedIntake(h.intakeArn);

    h.engine.redriveExecution({ executionArn });

    expect(await h.engine.waitForExecution(executionArn)).toMatchObject({ status: 'FAILED', redriveCount: 1 });
    expect(enteredAfterRedrive(executionArn)).toEqual(['IntakeFailed']);
    expect(h.payloads('ReadProposal')).toHaveLength(1);
    expect(journeyNames()).toEqual([caseIdFor(1), caseIdFor(2)]);
  });

  it('without the Catch on StartJourneys, runs StartJourneys again from its reader: every journey started once', async () => {
    const definition = JSON.parse(h.engine.describeStateMachine(h.intakeArn).definition);
    delete definition.States.StartJourneys.Catch;
    const arn = h.engine.registerStateMachine('prokus-intake-uncaught', JSON.stringify(definition), {});
    const executionArn = await failedIntake(arn);

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
    await Promise.all(
      h.engine.listExecutions({ stateMachineArn: h.journeyArn }).executions.map((e) => h.engine.waitForExecution(e.executionArn)),
    );
  });
});
