/**
 * The embedded engine's Step Functions semantics, on small definitions: execution names
 * and idempotent starts, the context object, Lambda results and errors, task tokens,
 * timeouts, stops, child executions, history and paging, and that nothing dangles.
 * Over 400 lines on purpose: one engine's API contract, read top to bottom over one set of
 * small definitions.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Engine, type LambdaHandler } from '../../../embedded/stepfunctions/engine.ts';

let engine: Engine;

beforeEach(() => {
  engine = new Engine({ retryIntervalMs: 1 });
});

afterEach(async () => {
  await engine.close();
});

type States = Record<string, Record<string, unknown>>;
const LAMBDA = 'arn:aws:states:::lambda:invoke';
const WAIT = 'arn:aws:states:::lambda:invoke.waitForTaskToken';

function register(states: States, startAt = Object.keys(states)[0] as string, name = 'm'): string {
  return engine.registerStateMachine(name, JSON.stringify({ StartAt: startAt, States: states }), {});
}

function lambda(fn: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { Type: 'Task', Resource: LAMBDA, Parameters: { FunctionName: fn, 'Payload.$': '$' }, TimeoutSeconds: 30, ...extra };
}

function waitTask(fn: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    Type: 'Task',
    Resource: WAIT,
    Parameters: { FunctionName: fn, Payload: { 'caseId.$': '$.caseId', 'taskToken.$': '$$.Task.Token' } },
    TimeoutSeconds: 3600,
    ...extra,
  };
}

/** A function that hands its task token to the test. */
function tokenCatcher(): { handler: LambdaHandler; next: () => Promise<string> } {
  const waiting: ((t: string) => void)[] = [];
  const tokens: string[] = [];
  return {
    handler: async (event) => {
      const token = String((event as { taskToken: string }).taskToken);
      const w = waiting.shift();
      if (w) w(token);
      else tokens.push(token);
      return { sent: true };
    },
    next: () => {
      const t = tokens.shift();
      return t ? Promise.resolve(t) : new Promise((resolve) => waiting.push(resolve));
    },
  };
}

async function run(stateMachineArn: string, input: unknown = {}, name?: string) {
  const { executionArn } = await engine.startExecution({ stateMachineArn, name, input: JSON.stringify(input) });
  return engine.waitForExecution(executionArn);
}

const named = (name: string) => expect.objectContaining({ name });

function history(executionArn: string) {
  return engine.getExecutionHistory({ executionArn, maxResults: 1000 }).events;
}

describe('StartExecution', () => {
  it('names an unnamed execution with a UUID and refuses names AWS refuses', async () => {
    const arn = register({ P: { Type: 'Pass', End: true } });

    const { executionArn } = await engine.startExecution({ stateMachineArn: arn });
    expect(executionArn).toMatch(/:execution:m:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    await expect(engine.startExecution({ stateMachineArn: arn, name: 'x'.repeat(80) })).resolves.toBeDefined();
    for (const name of ['', 'x'.repeat(81), 'has space', '3210/2020', 'ümlaut']) {
      await expect(engine.startExecution({ stateMachineArn: arn, name })).rejects.toThrow(named('InvalidName'));
    }
    await expect(engine.startExecution({ stateMachineArn: `${arn}-nope` })).rejects.toThrow(named('StateMachineDoesNotExist'));
    await expect(engine.startExecution({ stateMachineArn: arn, input: '{oops' })).rejects.toThrow(named('InvalidExecutionInput'));
  });

  it('returns the same execution for the same name and input while it runs, and refuses anything else', async () => {
    const catcher = tokenCatcher();
    engine.registerLambda('await', catcher.handler);
    const arn = register({ W: waitTask('await', { End: true }) });

    const first = await engine.startExecution({ stateMachineArn: arn, name: 'case-1', input: '{"caseId":"c1"}' });
    const again = await engine.startExecution({ stateMachineArn: arn, name: 'case-1', input: '{ "caseId": "c1" }' });
    expect(again).toEqual(first);
    await expect(engine.startExecution({ stateMachineArn: arn, name: 'case-1', input: '{"caseId":"c2"}' })).rejects.toThrow(
      named('ExecutionAlreadyExists'),
    );

    engine.sendTaskSuccess({ taskToken: await catcher.next(), output: '{}' });
    await engine.waitForExecution(first.executionArn);
    await expect(engine.startExecution({ stateMachineArn: arn, name: 'case-1', input: '{"caseId":"c1"}' })).rejects.toThrow(
      named('ExecutionAlreadyExists'),
    );
    expect(engine.listExecutions({ stateMachineArn: arn }).executions).toHaveLength(1);
  });
});

describe('context object and Map', () => {
  it('resolves $$.Execution, $$.StateMachine and $$.Map.Item in ItemSelector', async () => {
    const arn = register({
      Ctx: {
        Type: 'Pass',
        Parameters: {
          'id.$': '$$.Execution.Id',
          'name.$': '$$.Execution.Name',
          'input.$': '$$.Execution.Input',
          'start.$': '$$.Execution.StartTime',
          'machine.$': '$$.StateMachine.Id',
          'items.$': '$.items',
        },
        Next: 'Each',
      },
      Each: {
        Type: 'Map',
        ItemsPath: '$.items',
        ItemSelector: { 'value.$': '$$.Map.Item.Value.v', 'index.$': '$$.Map.Item.Index', 'name.$': '$.name' },
        ItemProcessor: { ProcessorConfig: { Mode: 'INLINE' }, StartAt: 'Echo', States: { Echo: { Type: 'Pass', End: true } } },
        ResultPath: '$.each',
        End: true,
      },
    });

    const record = await run(arn, { items: [{ v: 'a' }, { v: 'b' }] }, 'ctx-1');

    const output = JSON.parse(record.output ?? 'null');
    expect(output).toMatchObject({
      id: record.executionArn,
      name: 'ctx-1',
      input: { items: [{ v: 'a' }, { v: 'b' }] },
      machine: arn,
      each: [
        { value: 'a', index: 0, name: 'ctx-1' },
        { value: 'b', index: 1, name: 'ctx-1' },
      ],
    });
    expect(Date.parse(output.start)).toBeGreaterThanOrEqual(record.startDate.getTime() - 1000);
  });
});

describe('lambda:invoke tasks', () => {
  it('calls the registered function with a copy of the Payload and wraps its result like Lambda does', async () => {
    const received: unknown[] = [];
    engine.registerLambda('arn:aws:lambda:ap-southeast-3:000000000000:function:echo', async (event, ctx) => {
      received.push({ event, fn: ctx.functionName, remaining: ctx.getRemainingTimeInMillis() });
      return { echoed: event };
    });
    const arn = register({
      Call: {
        ...lambda('arn:aws:lambda:ap-southeast-3:000000000000:function:echo'),
        ResultSelector: { 'status.$': '$.StatusCode', 'echoed.$': '$.Payload.echoed' },
        End: true,
      },
    });

    const record = await run(arn, { caseId: 'c1' });

    expect(JSON.parse(record.output ?? '')).toEqual({ status: 200, echoed: { caseId: 'c1' } });
    expect(received).toEqual([{ event: { caseId: 'c1' }, fn: 'echo', remaining: expect.any(Number) }]);
    expect((received[0] as { remaining: number }).remaining).toBeLessThanOrEqual(30_000);
  });

  it('fails the task with the error name the function threw, so Retry and Catch match it', async () => {
    class QuotaExhaustedError extends Error {
      override readonly name = 'QuotaExhaustedError';
    }
    let calls = 0;
    engine.registerLambda('flaky', async () => {
      calls++;
      if (calls === 1) throw Object.assign(new Error('throttled'), { name: 'TransientError' });
      throw new QuotaExhaustedError('quota of 3210 used up');
    });
    const arn = register({
      Call: {
        ...lambda('flaky'),
        Retry: [{ ErrorEquals: ['TransientError'], MaxAttempts: 3 }],
        Catch: [{ ErrorEquals: ['QuotaExhaustedError'], ResultPath: '$.error', Next: 'Caught' }],
        Next: 'Done',
      },
      Caught: { Type: 'Pass', End: true },
      Done: { Type: 'Succeed' },
    });

    const record = await run(arn, {});

    expect(calls).toBe(2);
    const { error } = JSON.parse(record.output ?? '');
    expect(error.Error).toBe('QuotaExhaustedError');
    // The cause is what Lambda reports for a function error.
    expect(JSON.parse(error.Cause)).toMatchObject({ errorType: 'QuotaExhaustedError', errorMessage: 'quota of 3210 used up' });
  });

  it('fails with Lambda.ResourceNotFoundException when no function is registered under the name', async () => {
    const arn = register({ Call: { ...lambda('nobody'), End: true } });

    const record = await run(arn);

    expect(record).toMatchObject({ status: 'FAILED', error: 'Lambda.ResourceNotFoundException' });
  });
});

describe('waitForTaskToken tasks', () => {
  it('gives the function a fresh token and continues with the SendTaskSuccess output, unwrapped', async () => {
    const catcher = tokenCatcher();
    engine.registerLambda('await', catcher.handler);
    const arn = register({ W: waitTask('await', { ResultPath: '$.decision', End: true }) });

    const { executionArn } = await engine.startExecution({ stateMachineArn: arn, input: '{"caseId":"c1"}' });
    const token = await catcher.next();
    expect(token).not.toContain('Task.Token');
    expect(token.length).toBeGreaterThanOrEqual(64);
    expect(engine.activity()).toEqual({ running: 1, waitingForTask: 1 });
    engine.sendTaskHeartbeat({ taskToken: token });
    engine.sendTaskSuccess({ taskToken: token, output: '{"decision":"approved"}' });
    const record = await engine.waitForExecution(executionArn);

    expect(JSON.parse(record.output ?? '')).toEqual({ caseId: 'c1', decision: { decision: 'approved' } });
    expect(engine.activity()).toEqual({ running: 0, waitingForTask: 0 });
    expect(history(executionArn).map((e) => e.type)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSubmitted',
      'TaskSucceeded',
      'TaskStateExited',
      'ExecutionSucceeded',
    ]);
    // A used token is dead; a token this engine never issued does not exist; garbage is not a token.
    expect(() => engine.sendTaskSuccess({ taskToken: token, output: '{}' })).toThrow(named('TaskTimedOut'));
    expect(() => engine.sendTaskHeartbeat({ taskToken: token })).toThrow(named('TaskTimedOut'));
    expect(() => engine.sendTaskSuccess({ taskToken: 'A'.repeat(86), output: '{}' })).toThrow(named('TaskDoesNotExist'));
    expect(() => engine.sendTaskFailure({ taskToken: 'not a token' })).toThrow(named('InvalidToken'));
  });

  it('accepts SendTaskSuccess from inside the function that received the token', async () => {
    engine.registerLambda('self-approving', async (event) => {
      engine.sendTaskSuccess({ taskToken: String((event as { taskToken: string }).taskToken), output: '"ok"' });
      return {};
    });
    const arn = register({ W: waitTask('self-approving', { ResultPath: '$.answer', End: true }) });

    const record = await run(arn, { caseId: 'c1' });

    expect(JSON.parse(record.output ?? '')).toEqual({ caseId: 'c1', answer: 'ok' });
  });

  it('fails the task with the SendTaskFailure error (States.TaskFailed when none) and refuses output that is not JSON', async () => {
    const catcher = tokenCatcher();
    engine.registerLambda('await', catcher.handler);
    const arn = register({
      W: waitTask('await', { Catch: [{ ErrorEquals: ['GrantRejected'], ResultPath: '$.error', Next: 'Rejected' }], End: true }),
      Rejected: { Type: 'Pass', End: true },
    });

    const rejected = await engine.startExecution({ stateMachineArn: arn, input: '{"caseId":"c1"}' });
    const token = await catcher.next();
    expect(() => engine.sendTaskSuccess({ taskToken: token, output: 'approved' })).toThrow(named('InvalidOutput'));
    engine.sendTaskFailure({ taskToken: token, error: 'GrantRejected', cause: 'usaha belum berjalan' });
    const r1 = await engine.waitForExecution(rejected.executionArn);
    expect(JSON.parse(r1.output ?? '').error).toEqual({ Error: 'GrantRejected', Cause: 'usaha belum berjalan' });

    const failed = await engine.startExecution({ stateMachineArn: arn, input: '{"caseId":"c2"}' });
    engine.sendTaskFailure({ taskToken: await catcher.next() });
    expect(await engine.waitForExecution(failed.executionArn)).toMatchObject({ status: 'FAILED', error: 'States.TaskFailed' });
  });

  it('times out after TimeoutSecondsPath seconds, read from the state input, and kills the token', async () => {
    const catcher = tokenCatcher();
    engine.registerLambda('await', catcher.handler);
    const arn = register({
      W: {
        ...waitTask('await'),
        TimeoutSeconds: undefined,
        TimeoutSecondsPath: '$.wait.seconds',
        Catch: [{ ErrorEquals: ['States.Timeout'], ResultPath: '$.error', Next: 'TimedOut' }],
        End: true,
      },
      TimedOut: { Type: 'Pass', End: true },
    });

    const started = Date.now();
    const { executionArn } = await engine.startExecution({ stateMachineArn: arn, input: '{"caseId":"c1","wait":{"seconds":1}}' });
    const token = await catcher.next();
    const record = await engine.waitForExecution(executionArn);

    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(JSON.parse(record.output ?? '').error.Error).toBe('States.Timeout');
    expect(history(executionArn).map((e) => e.type)).toContain('TaskTimedOut');
    expect(() => engine.sendTaskSuccess({ taskToken: token, output: '{}' })).toThrow(named('TaskTimedOut'));
  });

  it('fails the execution when TimeoutSecondsPath gives more than setTimeout can wait, without calling the function', async () => {
    let called = false;
    engine.registerLambda('await', async () => {
      called = true;
      return {};
    });
    const arn = register({ W: { ...waitTask('await'), TimeoutSeconds: undefined, TimeoutSecondsPath: '$.seconds', End: true } });

    const record = await run(arn, { caseId: 'c1', seconds: 30 * 24 * 3600 });

    expect(record.status).toBe('FAILED');
    expect(record.error).toBe('States.Runtime');
    expect(record.cause).toMatch(/TimeoutSecondsPath gave 2592000; expected an integer from 1 to 2147483/);
    expect(called).toBe(false);
  });

  it('fails the task at once when the function itself fails, and kills its token', async () => {
    let token = '';
    engine.registerLambda('await', async (event) => {
      token = String((event as { taskToken: string }).taskToken);
      throw Object.assign(new Error('mail server down'), { name: 'TransientError' });
    });
    const arn = register({ W: waitTask('await', { End: true }) });

    const record = await run(arn, { caseId: 'c1' });

    expect(record).toMatchObject({ status: 'FAILED', error: 'TransientError' });
    expect(() => engine.sendTaskSuccess({ taskToken: token, output: '{}' })).toThrow(named('TaskTimedOut'));
  });
});

describe('StopExecution', () => {
  it('aborts a waiting execution: ABORTED, token dead, nothing waits any more', async () => {
    const catcher = tokenCatcher();
    engine.registerLambda('await', catcher.handler);
    const arn = register({ W: waitTask('await', { End: true }) });
    const { executionArn } = await engine.startExecution({ stateMachineArn: arn, input: '{"caseId":"c1"}' });
    const token = await catcher.next();
    const done = engine.waitForExecution(executionArn);

    const { stopDate } = engine.stopExecution({ executionArn, error: 'Operator', cause: 'duplicate proposal' });

    expect(await done).toMatchObject({ status: 'ABORTED', error: 'Operator', cause: 'duplicate proposal', stopDate });
    expect(engine.activity()).toEqual({ running: 0, waitingForTask: 0 });
    expect(() => engine.sendTaskSuccess({ taskToken: token, output: '{}' })).toThrow(named('TaskTimedOut'));
    expect(history(executionArn).at(-1)).toMatchObject({
      type: 'ExecutionAborted',
      executionAbortedEventDetails: { error: 'Operator', cause: 'duplicate proposal' },
    });
    // Stopping again changes nothing.
    expect(engine.stopExecution({ executionArn }).stopDate).toEqual(stopDate);
    expect(() => engine.stopExecution({ executionArn: `${executionArn}-x` })).toThrow(named('ExecutionDoesNotExist'));
  });

  it('ignores the result of a function still running when the execution was stopped', async () => {
    let finish: () => void = () => undefined;
    const nextCalled: unknown[] = [];
    engine.registerLambda('slow', () => new Promise((resolve) => (finish = () => resolve({ done: true }))));
    engine.registerLambda('after', async (e) => nextCalled.push(e));
    const arn = register({ Slow: { ...lambda('slow'), Next: 'After' }, After: { ...lambda('after'), End: true } });
    const { executionArn } = await engine.startExecution({ stateMachineArn: arn });
    await new Promise((r) => setTimeout(r, 20));

    engine.stopExecution({ executionArn });
    finish();
    await new Promise((r) => setTimeout(r, 20));

    expect(nextCalled).toEqual([]);
    expect(engine.describeExecution(executionArn).status).toBe('ABORTED');
    expect(history(executionArn).map((e) => e.type)).not.toContain('TaskSucceeded');
  });
});

describe('states:startExecution tasks', () => {
  it('starts a child execution on this engine, and names its errors like the service integration', async () => {
    const child = register({ P: { Type: 'Pass', End: true } }, 'P', 'child');
    const parent = register(
      {
        Start: {
          Type: 'Task',
          Resource: 'arn:aws:states:::states:startExecution',
          Parameters: { StateMachineArn: child, 'Name.$': '$.name', Input: { 'caseId.$': '$.caseId' } },
          Catch: [{ ErrorEquals: ['StepFunctions.ExecutionAlreadyExistsException'], ResultPath: null, Next: 'AlreadyStarted' }],
          ResultPath: '$.started',
          End: true,
        },
        AlreadyStarted: { Type: 'Succeed' },
      },
      'Start',
      'parent',
    );

    const first = await run(parent, { name: 'kid-1', caseId: 'c1' });
    const started = JSON.parse(first.output ?? '').started;
    expect(started).toEqual({ ExecutionArn: expect.stringContaining(':execution:child:kid-1'), StartDate: expect.any(Number) });
    const kid = await engine.waitForExecution(started.ExecutionArn);
    expect(kid).toMatchObject({ status: 'SUCCEEDED', input: '{"caseId":"c1"}' });

    const second = await engine.startExecution({ stateMachineArn: parent, input: '{"name":"kid-1","caseId":"c1"}' });
    await engine.waitForExecution(second.executionArn);
    expect(
      engine
        .getExecutionHistory({ executionArn: second.executionArn })
        .events.flatMap((e) => (e.stateEnteredEventDetails ? [e.stateEnteredEventDetails.name] : [])),
    ).toEqual(['Start', 'AlreadyStarted']);
    expect(engine.listExecutions({ stateMachineArn: child }).executions).toHaveLength(1);
  });
});

describe('history and listings', () => {
  it('numbers events in order and pages them forwards and backwards', async () => {
    engine.registerLambda('ok', async () => ({}));
    const arn = register({
      Route: { Type: 'Choice', Choices: [{ Variable: '$.go', BooleanEquals: true, Next: 'Work' }], Default: 'Stop' },
      Work: { ...lambda('ok'), Next: 'Stop' },
      Stop: { Type: 'Succeed' },
    });
    const record = await run(arn, { go: true });
    const all = history(record.executionArn);

    expect(all.map((e) => e.type)).toEqual([
      'ExecutionStarted',
      'ChoiceStateEntered',
      'ChoiceStateExited',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSucceeded',
      'TaskStateExited',
      'SucceedStateEntered',
      'SucceedStateExited',
      'ExecutionSucceeded',
    ]);
    all.forEach((e, i) => {
      expect(e.id).toBe(i + 1);
      expect(e.previousEventId).toBe(i);
      expect(e.timestamp).toBeInstanceOf(Date);
    });
    const times = all.map((e) => e.timestamp?.getTime() ?? 0);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(all[1]?.stateEnteredEventDetails).toEqual({ name: 'Route', input: '{"go":true}', inputDetails: { truncated: false } });
    expect(all[4]?.taskScheduledEventDetails).toMatchObject({
      resourceType: 'lambda',
      resource: 'invoke',
      region: 'ap-southeast-3',
    });

    const pages: number[][] = [];
    let nextToken: string | undefined;
    do {
      const page = engine.getExecutionHistory({
        executionArn: record.executionArn,
        maxResults: 4,
        nextToken,
        reverseOrder: true,
      });
      pages.push(page.events.map((e) => e.id as number));
      nextToken = page.nextToken;
    } while (nextToken);
    expect(pages).toEqual([
      [11, 10, 9, 8],
      [7, 6, 5, 4],
      [3, 2, 1],
    ]);
    expect(() => engine.getExecutionHistory({ executionArn: record.executionArn, nextToken: '%%%' })).toThrow(
      named('InvalidToken'),
    );
  });

  it('lists executions newest first, by status, a page at a time', async () => {
    const catcher = tokenCatcher();
    engine.registerLambda('await', catcher.handler);
    const arn = register({
      Route: { Type: 'Choice', Choices: [{ Variable: '$.wait', BooleanEquals: true, Next: 'W' }], Default: 'Done' },
      W: waitTask('await', { End: true }),
      Done: { Type: 'Succeed' },
    });
    for (let i = 1; i <= 5; i++) await run(arn, { wait: false }, `done-${i}`);
    await engine.startExecution({ stateMachineArn: arn, name: 'waiting-1', input: '{"wait":true,"caseId":"c"}' });

    const names: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = engine.listExecutions({ stateMachineArn: arn, maxResults: 2, nextToken });
      names.push(...page.executions.map((e) => e.name));
      nextToken = page.nextToken;
    } while (nextToken);

    expect(names).toEqual(['waiting-1', 'done-5', 'done-4', 'done-3', 'done-2', 'done-1']);
    expect(engine.listExecutions({ stateMachineArn: arn, statusFilter: 'RUNNING' }).executions.map((e) => e.name)).toEqual([
      'waiting-1',
    ]);
    expect(() => engine.listExecutions({ stateMachineArn: `${arn}x` })).toThrow(named('StateMachineDoesNotExist'));
    expect(() => engine.describeExecution(`${arn}x`)).toThrow(named('ExecutionDoesNotExist'));
  });
});

describe('registration', () => {
  it('refuses what the embedded engine cannot run faithfully, naming the state', () => {
    const refuse = (states: States, why: RegExp) => expect(() => register(states)).toThrow(why);

    refuse({ T: { ...lambda('f'), TimeoutSeconds: 3_000_000, End: true } }, /T: TimeoutSeconds 3000000 .*24\.8 days/);
    refuse(
      { T: { Type: 'Task', Resource: 'arn:aws:states:::dynamodb:putItem', Parameters: {}, End: true } },
      /T: resource arn:aws:states:::dynamodb:putItem is not supported/,
    );
    refuse({ T: { Type: 'Pass', Assign: { x: 1 }, End: true } }, /T: Assign is not supported/);
    refuse({ T: { Type: 'Pass', Next: 'Nowhere' } }, /Nowhere/);
    expect(() =>
      engine.registerStateMachine(
        'm',
        JSON.stringify({ StartAt: 'T', States: { T: { Type: 'Task', Resource: '\u0024{FnArn}', End: true } } }),
        {},
      ),
    ).toThrow(/no substitution for \$\{FnArn\}/);
  });
});

describe('resources', () => {
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

  it('leaves no timer behind when an execution fails while tasks with long timeouts run', async () => {
    const baseline = timers();
    engine.registerLambda('boom', async () => {
      throw new Error('boom');
    });
    engine.registerLambda('never', () => new Promise(() => undefined));
    const arn = register({
      Both: {
        Type: 'Parallel',
        Branches: [
          { StartAt: 'Boom', States: { Boom: { ...lambda('boom'), TimeoutSeconds: 3600, End: true } } },
          { StartAt: 'Never', States: { Never: { ...lambda('never'), TimeoutSeconds: 3600, End: true } } },
        ],
        End: true,
      },
    });

    const record = await run(arn);

    expect(record.status).toBe('FAILED');
    await new Promise((r) => setImmediate(r));
    expect(timers()).toBeLessThanOrEqual(baseline);
  });

  it('close() stops running executions and leaves no timer behind', async () => {
    const baseline = timers();
    const catcher = tokenCatcher();
    engine.registerLambda('await', catcher.handler);
    const arn = register({ W: waitTask('await', { End: true }) });
    const { executionArn } = await engine.startExecution({ stateMachineArn: arn, input: '{"caseId":"c1"}' });
    await catcher.next();
    expect(timers()).toBeGreaterThan(baseline);

    await engine.close();

    expect(timers()).toBeLessThanOrEqual(baseline);
    await expect(engine.waitForExecution(executionArn)).resolves.toMatchObject({ status: 'RUNNING' });
  });
});
