/**
 * The engine runs a bounded number of Lambda handlers at once (Lambda's concurrency
 * limit, for one process): thousands of journeys started together wait their turn
 * instead of all queueing for the SDK's sockets. A task's timeout runs from the moment
 * its function starts, and the earliest-started execution goes first.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Engine } from '../../../embedded/stepfunctions/engine.ts';

let engine: Engine;

afterEach(async () => {
  await engine.close();
});

const LAMBDA = 'arn:aws:states:::lambda:invoke';

function machine(states: Record<string, Record<string, unknown>>, startAt = Object.keys(states)[0] as string): string {
  return engine.registerStateMachine('m', JSON.stringify({ StartAt: startAt, States: states }), {});
}

const task = (fn: string, extra: Record<string, unknown> = {}) => ({
  Type: 'Task',
  Resource: LAMBDA,
  Parameters: { FunctionName: fn, 'Payload.$': '$' },
  TimeoutSeconds: 1,
  ...extra,
});

async function startAll(arn: string, n: number): Promise<string[]> {
  const arns: string[] = [];
  for (let i = 0; i < n; i++) {
    arns.push((await engine.startExecution({ stateMachineArn: arn, name: `e${i}`, input: JSON.stringify({ i }) })).executionArn);
  }
  return arns;
}

describe('concurrent Lambda invocations', () => {
  it('never runs more handlers at once than the limit, and runs them all', async () => {
    engine = new Engine({ maxConcurrentInvocations: 3 });
    let running = 0;
    let most = 0;
    engine.registerLambda('work', async () => {
      running += 1;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 5));
      running -= 1;
      return {};
    });
    const arn = machine({ A: task('work', { Next: 'B' }), B: task('work', { End: true }) });

    const records = await Promise.all((await startAll(arn, 20)).map((a) => engine.waitForExecution(a)));

    expect(records.every((r) => r.status === 'SUCCEEDED')).toBe(true);
    expect(most).toBe(3);
  });

  it('does not time a task out while it waits for a slot: its timeout starts with its function', async () => {
    engine = new Engine({ maxConcurrentInvocations: 1 });
    // Each call takes 0.4 s against a 1 s timeout; the fifth waits 1.6 s before it starts.
    engine.registerLambda('slow', async () => {
      await new Promise((r) => setTimeout(r, 400));
      return { ok: true };
    });
    const arn = machine({ A: task('slow', { End: true }) });

    const arns = await startAll(arn, 5);
    const records = await Promise.all(arns.map((a) => engine.waitForExecution(a)));

    expect(records.map((r) => r.status)).toEqual(Array(5).fill('SUCCEEDED'));
    const last = engine.getExecutionHistory({ executionArn: arns[4] as string, maxResults: 100 }).events;
    const at = (type: string) => new Date(last.find((e) => e.type === type)?.timestamp ?? Number.NaN).getTime();
    // As on AWS, TaskStarted is when the function starts, after the wait for a slot.
    expect(at('TaskStarted') - at('TaskScheduled')).toBeGreaterThanOrEqual(1000);
  });

  it('still times out a function that runs longer than TimeoutSeconds, and Retry/Catch see States.Timeout', async () => {
    engine = new Engine({ maxConcurrentInvocations: 2, retryIntervalMs: 1 });
    let calls = 0;
    engine.registerLambda('stuck', async () => {
      calls += 1;
      await new Promise((r) => setTimeout(r, 1500));
      return {};
    });
    const arn = machine({
      A: task('stuck', {
        Retry: [{ ErrorEquals: ['States.Timeout'], MaxAttempts: 1 }],
        Catch: [{ ErrorEquals: ['States.Timeout'], ResultPath: '$.error', Next: 'TimedOut' }],
        End: true,
      }),
      TimedOut: { Type: 'Pass', End: true },
    });

    const [one] = await startAll(arn, 1);
    const record = await engine.waitForExecution(one as string);

    expect(record.status).toBe('SUCCEEDED');
    expect(JSON.parse(record.output ?? '{}').error.Error).toBe('States.Timeout');
    expect(calls).toBe(2);
    const types = engine.getExecutionHistory({ executionArn: one as string, maxResults: 100 }).events.map((e) => e.type);
    expect(types.filter((t) => t === 'TaskTimedOut')).toHaveLength(2);
  });

  it('gives a free slot to the execution that started first, so started work finishes first', async () => {
    engine = new Engine({ maxConcurrentInvocations: 1 });
    const order: string[] = [];
    const gate = Promise.withResolvers<void>();
    engine.registerLambda('step', async (event) => {
      const { i, step } = event as { i: number; step: string };
      if (i === 0 && step === 'A') await gate.promise;
      order.push(`${step}${i}`);
      return { i };
    });
    const arn = machine({
      A: {
        ...task('step'),
        Parameters: { FunctionName: 'step', Payload: { 'i.$': '$.i', step: 'A' } },
        ResultPath: null,
        Next: 'B',
      },
      B: { ...task('step'), Parameters: { FunctionName: 'step', Payload: { 'i.$': '$.i', step: 'B' } }, End: true },
    });

    const arns = await startAll(arn, 3);
    gate.resolve();
    await Promise.all(arns.map((a) => engine.waitForExecution(a)));

    // e0's second task goes before e1's and e2's first: depth first, not breadth first.
    expect(order).toEqual(['A0', 'B0', 'A1', 'B1', 'A2', 'B2']);
  });
});
