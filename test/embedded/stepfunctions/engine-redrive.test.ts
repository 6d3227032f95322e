/**
 * RedriveExecution on the embedded engine: the same execution runs again from the state
 * that failed, with that state's input, without running again what succeeded; only
 * FAILED / TIMED_OUT / ABORTED executions within 14 days; one redrive per clientToken;
 * task tokens, StopExecution and persistence across a restart still hold.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Engine, type HistoryEvent, type LambdaHandler, redriveStatus } from '../../../embedded/stepfunctions/engine.ts';

const LAMBDA = 'arn:aws:states:::lambda:invoke';
const WAIT = 'arn:aws:states:::lambda:invoke.waitForTaskToken';
type States = Record<string, Record<string, unknown>>;

let dir: string;
const engines: Engine[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'prokus-redrive-'));
});

afterEach(async () => {
  vi.useRealTimers();
  for (const e of engines.splice(0)) await e.close();
  rmSync(dir, { recursive: true, force: true });
});

function newEngine(stateDir?: string): Engine {
  const engine = new Engine({ retryIntervalMs: 1, stateDir });
  engines.push(engine);
  return engine;
}

function lambda(fn: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { Type: 'Task', Resource: LAMBDA, Parameters: { FunctionName: fn, 'Payload.$': '$' }, TimeoutSeconds: 30, ...extra };
}

function register(engine: Engine, states: States, name = 'm'): string {
  return engine.registerStateMachine(name, JSON.stringify({ StartAt: Object.keys(states)[0], States: states }), {});
}

/** A function that records its calls and throws while `failing` says so. */
function recorder(result: (event: unknown) => unknown = (e) => e) {
  const calls: unknown[] = [];
  const state = { failing: false };
  const handler: LambdaHandler = async (event) => {
    calls.push(event);
    if (state.failing) throw Object.assign(new Error('the registry is down'), { name: 'RegistryDown' });
    return result(event);
  };
  return { calls, state, handler };
}

function history(engine: Engine, executionArn: string): HistoryEvent[] {
  return engine.getExecutionHistory({ executionArn, maxResults: 1000 }).events;
}

const named = (name: string) => expect.objectContaining({ name });

/** Prepare → Register (fails the first time) → Done, which shows the context a redrive sees. */
const PIPELINE: States = {
  Prepare: lambda('prepare', { ResultSelector: { 'prepared.$': '$.Payload' }, ResultPath: '$.prepare', Next: 'Register' }),
  Register: lambda('register', {
    ResultSelector: { 'registered.$': '$.Payload.caseId' },
    ResultPath: '$.register',
    Next: 'Done',
  }),
  Done: {
    Type: 'Pass',
    Parameters: {
      'register.$': '$.register',
      'input.$': '$$.Execution.Input',
      'redriveCount.$': '$$.Execution.RedriveCount',
    },
    End: true,
  },
};

function pipeline(engine: Engine) {
  const prepare = recorder(() => ({ batch: 7 }));
  const register = recorder();
  engine.registerLambda('prepare', prepare.handler);
  engine.registerLambda('register', register.handler);
  return { arn: register_(engine), prepare, register };
}
const register_ = (engine: Engine) => register(engine, PIPELINE, 'pipeline');

async function failOnce(engine: Engine, arn: string, reg: { state: { failing: boolean } }, name = 'case-1') {
  reg.state.failing = true;
  const { executionArn } = await engine.startExecution({ stateMachineArn: arn, name, input: '{"caseId":"c1"}' });
  const failed = await engine.waitForExecution(executionArn);
  expect(failed).toMatchObject({ status: 'FAILED', error: 'RegistryDown' });
  reg.state.failing = false;
  return executionArn;
}

describe('RedriveExecution', () => {
  it('runs the failed state again with its input, not the states before it, and ends with the final output', async () => {
    const engine = newEngine();
    const { arn, prepare, register } = pipeline(engine);
    const executionArn = await failOnce(engine, arn, register);
    const before = history(engine, executionArn);
    expect(redriveStatus(engine.describeExecution(executionArn), new Date())).toEqual({ redriveStatus: 'REDRIVABLE' });

    const { redriveDate } = engine.redriveExecution({ executionArn });

    expect(engine.describeExecution(executionArn)).toMatchObject({ status: 'RUNNING', redriveCount: 1, redriveDate });
    expect(engine.describeExecution(executionArn).error).toBeUndefined();
    const done = await engine.waitForExecution(executionArn);
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output ?? '')).toEqual({
      register: { registered: 'c1' },
      input: { caseId: 'c1' },
      redriveCount: 1,
    });
    expect(prepare.calls).toHaveLength(1);
    expect(register.calls).toHaveLength(2);
    expect(register.calls[1]).toEqual(register.calls[0]);
    expect(register.calls[1]).toEqual({ caseId: 'c1', prepare: { prepared: { batch: 7 } } });

    const events = history(engine, executionArn);
    // The first run's history stays as it was; the redrive goes on after it.
    expect(events.slice(0, before.length)).toEqual(before);
    expect(events.map((e) => e.id)).toEqual(events.map((_, i) => i + 1));
    const redriven = events[before.length] as HistoryEvent;
    expect(redriven).toMatchObject({ type: 'ExecutionRedriven', executionRedrivenEventDetails: { redriveCount: 1 } });
    const after = events.slice(before.length + 1);
    expect(after.flatMap((e) => (e.stateEnteredEventDetails ? [e.stateEnteredEventDetails.name] : []))).toEqual([
      'Register',
      'Done',
    ]);
    expect(after.map((e) => e.type)).toContain('TaskSucceeded');
    expect(after.at(-1)?.type).toBe('ExecutionSucceeded');
    expect(JSON.stringify(events)).not.toContain('Embedded.Redrive');
  });

  it('refuses a SUCCEEDED or RUNNING execution with ExecutionNotRedrivable', async () => {
    const engine = newEngine();
    const { arn } = pipeline(engine);
    const { executionArn: ok } = await engine.startExecution({ stateMachineArn: arn, name: 'ok', input: '{"caseId":"c2"}' });
    await engine.waitForExecution(ok);
    expect(() => engine.redriveExecution({ executionArn: ok })).toThrow(named('ExecutionNotRedrivable'));
    expect(redriveStatus(engine.describeExecution(ok), new Date())).toEqual({
      redriveStatus: 'NOT_REDRIVABLE',
      redriveStatusReason: 'Execution is SUCCEEDED and cannot be redriven',
    });

    engine.registerLambda('await', async () => ({}));
    const waiting = register(engine, {
      Await: {
        Type: 'Task',
        Resource: WAIT,
        Parameters: { FunctionName: 'await', Payload: {} },
        TimeoutSeconds: 3600,
        End: true,
      },
    });
    const { executionArn: running } = await engine.startExecution({ stateMachineArn: waiting, name: 'r' });
    expect(() => engine.redriveExecution({ executionArn: running })).toThrow(named('ExecutionNotRedrivable'));
    expect(engine.describeExecution(running)).toMatchObject({ status: 'RUNNING' });
    expect(() => engine.redriveExecution({ executionArn: `${running}-none` })).toThrow(named('ExecutionDoesNotExist'));
  });

  it('redrives within 14 days of the stop only', async () => {
    const engine = newEngine();
    const { arn, register } = pipeline(engine);
    const executionArn = await failOnce(engine, arn, register);
    const stop = engine.describeExecution(executionArn).stopDate as Date;

    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(stop.getTime() + 14 * 24 * 3600_000 + 1000);
    expect(() => engine.redriveExecution({ executionArn })).toThrow(named('ExecutionNotRedrivable'));
    expect(redriveStatus(engine.describeExecution(executionArn), new Date())).toMatchObject({
      redriveStatus: 'NOT_REDRIVABLE',
      redriveStatusReason: 'Execution redrivable period exceeded',
    });
    vi.setSystemTime(stop.getTime() + 13 * 24 * 3600_000);
    engine.redriveExecution({ executionArn });
    vi.useRealTimers();
    expect((await engine.waitForExecution(executionArn)).status).toBe('SUCCEEDED');
  });

  it('answers the same clientToken with the same redrive, once, for 15 minutes', async () => {
    const engine = newEngine();
    const { arn, register } = pipeline(engine);
    const executionArn = await failOnce(engine, arn, register);
    register.state.failing = true;

    const first = engine.redriveExecution({ executionArn, clientToken: 'tok-1' });
    const again = engine.redriveExecution({ executionArn, clientToken: 'tok-1' });
    expect(again.redriveDate).toEqual(first.redriveDate);
    expect(() => engine.redriveExecution({ executionArn, clientToken: 'tok-2' })).toThrow(named('ExecutionNotRedrivable'));
    expect((await engine.waitForExecution(executionArn)).status).toBe('FAILED');
    // Failed again: the same token still redrives nothing.
    expect(engine.redriveExecution({ executionArn, clientToken: 'tok-1' }).redriveDate).toEqual(first.redriveDate);
    expect(engine.describeExecution(executionArn)).toMatchObject({ status: 'FAILED', redriveCount: 1 });
    expect(history(engine, executionArn).filter((e) => e.type === 'ExecutionRedriven')).toHaveLength(1);
    expect(register.calls).toHaveLength(2);

    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(first.redriveDate.getTime() + 15 * 60_000 + 1);
    register.state.failing = false;
    const later = engine.redriveExecution({ executionArn, clientToken: 'tok-1' });
    vi.useRealTimers();
    expect(later.redriveDate).not.toEqual(first.redriveDate);
    expect(await engine.waitForExecution(executionArn)).toMatchObject({ status: 'SUCCEEDED', redriveCount: 2 });
  });

  it('redrives a stopped execution waiting for a task token: a new token, the old one dead; stops again', async () => {
    const engine = newEngine();
    const tokens: string[] = [];
    engine.registerLambda('await', async (event) => {
      tokens.push((event as { taskToken: string }).taskToken);
      return {};
    });
    const arn = register(engine, {
      Await: {
        Type: 'Task',
        Resource: WAIT,
        Parameters: { FunctionName: 'await', Payload: { 'taskToken.$': '$$.Task.Token' } },
        TimeoutSeconds: 3600,
        ResultPath: '$.decision',
        End: true,
      },
    });
    const until = async (n: number) => {
      while (tokens.length < n) await new Promise((r) => setTimeout(r, 2));
    };
    const { executionArn } = await engine.startExecution({ stateMachineArn: arn, name: 'wait-1', input: '{"caseId":"c3"}' });
    await until(1);
    engine.stopExecution({ executionArn, cause: 'by hand' });

    engine.redriveExecution({ executionArn });
    await until(2);
    expect(() => engine.sendTaskSuccess({ taskToken: tokens[0] as string, output: '{}' })).toThrow(named('TaskTimedOut'));
    engine.stopExecution({ executionArn, cause: 'again' });
    expect(engine.describeExecution(executionArn)).toMatchObject({ status: 'ABORTED', cause: 'again', redriveCount: 1 });
    expect(() => engine.sendTaskSuccess({ taskToken: tokens[1] as string, output: '{}' })).toThrow(named('TaskTimedOut'));

    engine.redriveExecution({ executionArn });
    await until(3);
    engine.sendTaskSuccess({ taskToken: tokens[2] as string, output: '{"approved":true}' });
    const done = await engine.waitForExecution(executionArn);
    expect(done).toMatchObject({ status: 'SUCCEEDED', redriveCount: 2 });
    expect(JSON.parse(done.output ?? '')).toEqual({ caseId: 'c3', decision: { approved: true } });
    expect(engine.activity()).toEqual({ running: 0, waitingForTask: 0 });
  });

  it('redrives a TIMED_OUT execution with its state machine timeout started afresh', async () => {
    const engine = newEngine();
    const tokens: string[] = [];
    engine.registerLambda('await', async (event) => {
      tokens.push((event as { taskToken: string }).taskToken);
      return {};
    });
    const arn = engine.registerStateMachine(
      'timed',
      JSON.stringify({
        StartAt: 'Prepare',
        TimeoutSeconds: 1,
        States: {
          Prepare: { Type: 'Pass', Result: { prepared: true }, ResultPath: '$.prepare', Next: 'Await' },
          Await: {
            Type: 'Task',
            Resource: WAIT,
            Parameters: { FunctionName: 'await', Payload: { 'taskToken.$': '$$.Task.Token' } },
            TimeoutSeconds: 3600,
            ResultPath: '$.decision',
            End: true,
          },
        },
      }),
      {},
    );
    const { executionArn } = await engine.startExecution({ stateMachineArn: arn, name: 't-1', input: '{"caseId":"c4"}' });
    expect(await engine.waitForExecution(executionArn)).toMatchObject({ status: 'TIMED_OUT' });

    engine.redriveExecution({ executionArn });
    while (tokens.length < 2) await new Promise((r) => setTimeout(r, 2));
    engine.sendTaskSuccess({ taskToken: tokens[1] as string, output: '{"ok":true}' });

    const done = await engine.waitForExecution(executionArn);
    expect(JSON.parse(done.output ?? '')).toEqual({ caseId: 'c4', prepare: { prepared: true }, decision: { ok: true } });
    const entered = history(engine, executionArn).flatMap((e) =>
      e.stateEnteredEventDetails ? [e.stateEnteredEventDetails.name] : [],
    );
    expect(entered).toEqual(['Prepare', 'Await', 'Await']);
  });

  it('re-runs the Fail state a Catch led to, not the state that was caught (as the service does)', async () => {
    const engine = newEngine();
    const work = recorder();
    engine.registerLambda('work', work.handler);
    const arn = register(engine, {
      Work: lambda('work', { Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Failed' }], End: true }),
      Failed: { Type: 'Fail', ErrorPath: '$.error.Error', CausePath: '$.error.Cause' },
    });
    const executionArn = await failOnce(engine, arn, work, 'caught');

    engine.redriveExecution({ executionArn });

    expect(await engine.waitForExecution(executionArn)).toMatchObject({ status: 'FAILED', error: 'RegistryDown' });
    expect(work.calls).toHaveLength(1);
  });

  it('runs a failed Map again whole, every iteration (the service re-runs only the failed ones)', async () => {
    const engine = newEngine();
    const calls: number[] = [];
    let failing = true;
    engine.registerLambda('item', async (event) => {
      const { v } = event as { v: number };
      calls.push(v);
      if (v === 2 && failing) throw Object.assign(new Error('item 2 failed'), { name: 'ItemFailed' });
      return event;
    });
    const arn = register(engine, {
      Each: {
        Type: 'Map',
        ItemsPath: '$.items',
        MaxConcurrency: 1,
        ItemProcessor: { ProcessorConfig: { Mode: 'INLINE' }, StartAt: 'Item', States: { Item: lambda('item', { End: true }) } },
        ResultSelector: { 'count.$': 'States.ArrayLength($)' },
        End: true,
      },
    });
    const { executionArn } = await engine.startExecution({
      stateMachineArn: arn,
      name: 'map-1',
      input: JSON.stringify({ items: [{ v: 1 }, { v: 2 }, { v: 3 }] }),
    });
    expect((await engine.waitForExecution(executionArn)).status).toBe('FAILED');
    const firstRun = calls.length;
    expect(calls.slice(0, 2)).toEqual([1, 2]);
    failing = false;

    engine.redriveExecution({ executionArn });

    const done = await engine.waitForExecution(executionArn);
    expect(JSON.parse(done.output ?? '')).toEqual({ count: 3 });
    // Item 1, which had succeeded, ran again with the others.
    expect(calls.slice(firstRun)).toEqual([1, 2, 3]);
  });

  it('lists by redriveFilter, and refuses PENDING_REDRIVE for a state machine as the service does', async () => {
    const engine = newEngine();
    const { arn, register } = pipeline(engine);
    const executionArn = await failOnce(engine, arn, register, 'listed-1');
    await failOnce(engine, arn, register, 'listed-2');
    engine.redriveExecution({ executionArn });
    await engine.waitForExecution(executionArn);

    const names = (filter: 'REDRIVEN' | 'NOT_REDRIVEN') =>
      engine.listExecutions({ stateMachineArn: arn, redriveFilter: filter }).executions.map((e) => e.name);
    expect(names('REDRIVEN')).toEqual(['listed-1']);
    expect(names('NOT_REDRIVEN')).toEqual(['listed-2']);
    expect(() => engine.listExecutions({ stateMachineArn: arn, statusFilter: 'PENDING_REDRIVE' })).toThrow(
      named('ValidationException'),
    );
  });
});

describe('RedriveExecution and persistence', () => {
  it('keeps a redriven execution across a restart: its count, date, history, and clientToken', async () => {
    const first = newEngine(dir);
    const one = pipeline(first);
    await first.open();
    const executionArn = await failOnce(first, one.arn, one.register);
    const { redriveDate } = first.redriveExecution({ executionArn, clientToken: 'tok-1' });
    await first.waitForExecution(executionArn);
    const events = history(first, executionArn);
    await first.close();

    const second = newEngine(dir);
    pipeline(second);
    await second.open();
    expect(second.describeExecution(executionArn)).toMatchObject({ status: 'SUCCEEDED', redriveCount: 1, redriveDate });
    expect(history(second, executionArn)).toEqual(events);
    expect(second.redriveExecution({ executionArn, clientToken: 'tok-1' }).redriveDate).toEqual(redriveDate);
  });

  it('aborts a redriven execution a previous process left running, and redrives it again after', async () => {
    const first = newEngine(dir);
    const one = pipeline(first);
    await first.open();
    const executionArn = await failOnce(first, one.arn, one.register);
    let release: () => void = () => undefined;
    first.registerLambda('register', () => new Promise((resolve) => (release = () => resolve({ caseId: 'late' }))));
    const { redriveDate } = first.redriveExecution({ executionArn, clientToken: 'tok-1' });
    await new Promise((r) => setTimeout(r, 20));
    await first.close();
    release();

    const second = newEngine(dir);
    const two = pipeline(second);
    await second.open();
    expect(second.describeExecution(executionArn)).toMatchObject({
      status: 'ABORTED',
      cause: 'embedded runtime restarted',
      redriveCount: 1,
      redriveDate,
    });
    const types = history(second, executionArn).map((e) => e.type);
    expect(types.filter((t) => t === 'ExecutionRedriven')).toHaveLength(1);
    expect(types.at(-1)).toBe('ExecutionAborted');
    // The same token within 15 minutes is the redrive already made; a new one redrives.
    expect(second.redriveExecution({ executionArn, clientToken: 'tok-1' }).redriveDate).toEqual(redriveDate);
    expect(second.describeExecution(executionArn).status).toBe('ABORTED');
    second.redriveExecution({ executionArn, clientToken: 'tok-2' });
    const done = await second.waitForExecution(executionArn);
    expect(done).toMatchObject({ status: 'SUCCEEDED', redriveCount: 2 });
    expect(two.prepare.calls).toHaveLength(0);
    expect(two.register.calls).toHaveLength(1);
  });
});
