/**
 * When the runtime starts an intake again: a file version delivered twice starts one
 * intake, a re-upload retries one that failed, and a restart re-runs one that was cut off.
 * On the real engine, with a one-state stand-in for the intake machine.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { functionArn, listAllExecutions, RESTART_CAUSE, resumeIntakes, startIntake } from '../../../embedded/runtime/index.ts';
import { Engine } from '../../../embedded/stepfunctions/engine.ts';

const readProposal = (resource: string, payload: Record<string, string>) =>
  JSON.stringify({
    StartAt: 'ReadProposal',
    States: {
      ReadProposal: {
        Type: 'Task',
        Resource: resource,
        Parameters: { FunctionName: functionArn('ReadProposal'), Payload: payload },
        TimeoutSeconds: 30,
        End: true,
      },
    },
  });

const input = { bucket: 'prokus-local', key: 'proposals/3210/usulan.csv' };
let dir: string;
let engine: Engine;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prokus-intake-'));
});

afterEach(async () => {
  await engine.close();
  await rm(dir, { recursive: true, force: true });
});

describe('starting intakes', () => {
  it('starts a file version once, and again only after its intake failed', async () => {
    engine = new Engine();
    await engine.open();
    const arn = engine.registerStateMachine(
      'prokus-intake',
      readProposal('arn:aws:states:::lambda:invoke', { 'key.$': '$.key' }),
      {
        ReadProposalFunctionArn: functionArn('ReadProposal'),
      },
    );
    let calls = 0;
    engine.registerLambda(functionArn('ReadProposal'), async () => {
      calls += 1;
      if (calls === 1) throw new Error('the bucket did not answer');
      return { accepted: 0 };
    });
    const statuses = async () => {
      const all = listAllExecutions(engine, arn);
      await Promise.all(all.map((e) => engine.waitForExecution(e.executionArn)));
      return listAllExecutions(engine, arn)
        .map((e) => `${e.name}:${e.status}`)
        .sort();
    };

    await startIntake(engine, arn, 'intake-abc', input);
    await startIntake(engine, arn, 'intake-abc', input);
    expect(await statuses()).toEqual(['intake-abc:FAILED']);

    await startIntake(engine, arn, 'intake-abc', input);
    expect(await statuses()).toEqual(['intake-abc-r2:SUCCEEDED', 'intake-abc:FAILED']);

    await startIntake(engine, arn, 'intake-abc', input);
    expect(await statuses()).toEqual(['intake-abc-r2:SUCCEEDED', 'intake-abc:FAILED']);
    expect(calls).toBe(2);
  });

  it('runs an intake cut off by a restart again, with the same input, once', async () => {
    const definition = readProposal('arn:aws:states:::lambda:invoke.waitForTaskToken', {
      'key.$': '$.key',
      'taskToken.$': '$$.Task.Token',
    });
    const open = async () => {
      engine = new Engine({ stateDir: join(dir, 'sfn') });
      const arn = engine.registerStateMachine('prokus-intake', definition, {
        ReadProposalFunctionArn: functionArn('ReadProposal'),
      });
      engine.registerLambda(functionArn('ReadProposal'), async () => ({}));
      await engine.open();
      return arn;
    };

    let arn = await open();
    await engine.startExecution({ stateMachineArn: arn, name: 'intake-abc', input: JSON.stringify(input) });
    await engine.startExecution({ stateMachineArn: arn, name: 'intake-done', input: JSON.stringify(input) });
    const done = listAllExecutions(engine, arn).find((e) => e.name === 'intake-done')!;
    await engine.stopExecution({ executionArn: done.executionArn, cause: 'operator stopped it' });
    await engine.close();

    arn = await open();
    expect(listAllExecutions(engine, arn).find((e) => e.name === 'intake-abc')).toMatchObject({
      status: 'ABORTED',
      cause: RESTART_CAUSE,
    });
    expect(await resumeIntakes(engine, arn)).toBe(1);
    const again = listAllExecutions(engine, arn).find((e) => e.name === 'intake-abc-r2');
    expect(again?.status).toBe('RUNNING');
    expect(JSON.parse(again!.input)).toEqual(input);
    // An intake an operator stopped stays stopped; one already resumed is not resumed twice.
    expect(await resumeIntakes(engine, arn)).toBe(0);
  });

  it('runs an intake again after a restart cut off its redrive, like any other cut off', async () => {
    let fail = true;
    const open = async () => {
      engine = new Engine({ stateDir: join(dir, 'sfn') });
      const arn = engine.registerStateMachine(
        'prokus-intake',
        readProposal('arn:aws:states:::lambda:invoke.waitForTaskToken', { 'key.$': '$.key', 'taskToken.$': '$$.Task.Token' }),
        { ReadProposalFunctionArn: functionArn('ReadProposal') },
      );
      engine.registerLambda(functionArn('ReadProposal'), async () => {
        if (fail) throw new Error('the bucket did not answer');
        return {};
      });
      await engine.open();
      return arn;
    };
    let arn = await open();
    await startIntake(engine, arn, 'intake-abc', input);
    const [first] = listAllExecutions(engine, arn);
    expect((await engine.waitForExecution(first!.executionArn)).status).toBe('FAILED');
    fail = false;
    engine.redriveExecution({ executionArn: first!.executionArn });
    await engine.close();

    arn = await open();
    expect(engine.describeExecution(first!.executionArn)).toMatchObject({
      status: 'ABORTED',
      cause: RESTART_CAUSE,
      redriveCount: 1,
    });
    expect(await resumeIntakes(engine, arn)).toBe(1);
    expect(
      listAllExecutions(engine, arn)
        .map((e) => `${e.name}:${e.status}`)
        .sort(),
    ).toEqual(['intake-abc-r2:RUNNING', 'intake-abc:ABORTED']);
  });
});
