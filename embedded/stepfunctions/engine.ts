/**
 * The embedded Step Functions engine: the ASL files in workflows/ run unchanged on
 * aws-local-stepfunctions, with AWS execution semantics around them (names, idempotent
 * StartExecution, task tokens, history, stop, persistence). It is the one piece of the
 * embedded runtime that stands in for a managed service, so it keeps to the service's
 * behaviour wherever our workflows can observe it; asl-rewrite.ts lists the adaptations
 * made to the definitions, history.ts how the history is built.
 *
 * Task states never reach AWS: each gets a local handler (keyed by state name) that
 * calls the LambdaHandler registered for the FunctionName, starts a child execution on
 * this engine, or reads Distributed Map items through `readItems`.
 */
import './polyfills.ts';
import { randomUUID } from 'node:crypto';
import { ExecutionError, ExecutionTimeoutError, type RunOptions, StateMachine } from 'aws-local-stepfunctions';
import {
  BATCH_INPUT_KEY,
  DEFAULT_TASK_TIMEOUT_SECONDS,
  ITEMS_KEY,
  isObject,
  type Json,
  type JsonObject,
  MAX_TIMEOUT_SECONDS,
  type PreparedMachine,
  prepareStateMachine,
  type TaskSpec,
  TIMEOUT_KEY,
} from './asl-rewrite.ts';
import { type ExecutionRecord, type ExecutionStatus, type ExecutionStore, FileStore, MemoryStore } from './execution-store.ts';
import { type EventBody, type HistoryEvent, HistoryRecorder, historyJson, resourceParts } from './history.ts';
import { deferred } from './polyfills.ts';
import { awsError, TaskTokens } from './task-tokens.ts';

export type { ExecutionRecord, ExecutionStatus } from './execution-store.ts';
export type { HistoryEvent } from './history.ts';

export type LambdaHandler = (
  event: unknown,
  context: { functionName: string; awsRequestId: string; getRemainingTimeInMillis(): number },
) => Promise<unknown>;

export interface EngineOptions {
  /** Persist executions and history here (JSON Lines); omitted = memory only. */
  stateDir?: string;
  region?: string;
  accountId?: string;
  /** Items of a Distributed Map's ItemReader (s3:getObject). */
  readItems?: (bucket: string, key: string) => Promise<unknown[]>;
  /** Tests: every Retry waits this many milliseconds instead of IntervalSeconds × BackoffRate (no jitter). */
  retryIntervalMs?: number;
  /**
   * Tests: called before every StartExecution, through the API or a `states:startExecution`
   * task; what it throws (an AWS error name such as `ThrottlingException`) is what the
   * caller gets, the way the service answers when its quota is used up.
   */
  beforeStartExecution?: (req: { stateMachineArn: string; name?: string }) => void;
  /**
   * How many Lambda handlers run at once (Lambda's concurrency limit, scaled to one
   * process). Tasks beyond it wait their turn in order; their timeout starts when their
   * function does. 10,000 journeys started together otherwise all run their first task at
   * once, queue for the SDK's sockets, and time out before any gets through.
   */
  maxConcurrentInvocations?: number;
}

/** Default for EngineOptions.maxConcurrentInvocations. */
export const DEFAULT_CONCURRENT_INVOCATIONS = 32;

/**
 * A Map iteration's events reach the execution's history only by being forwarded, one
 * logger up per level, by a loop the library does not wait for; and a logger drops what
 * arrives after its execution ended. With a Map inside a Map (the intake's batches) the
 * innermost events — StateCaught, AlreadyStarted — often came too late and vanished. So
 * every run the library starts, nested ones included, reports its result only once its
 * events have all been taken by whoever forwards them.
 */
function holdResultUntilEventsForwarded(): void {
  const proto = StateMachine.prototype as unknown as {
    run(this: StateMachine, ...args: unknown[]): ReturnType<StateMachine['run']>;
    __eventsForwarded?: true;
  };
  if (proto.__eventsForwarded) return;
  proto.__eventsForwarded = true;
  const run = proto.run;
  proto.run = function (this: StateMachine, ...args: unknown[]) {
    const execution = run.apply(this, args);
    const drained = deferred<void>();
    const source = execution.eventLogs;
    async function* forwarded() {
      try {
        for await (const event of source) yield event;
      } finally {
        drained.resolve();
      }
    }
    const result = execution.result.then(
      async (value) => {
        await drained.promise;
        return value;
      },
      async (error: unknown) => {
        await drained.promise;
        throw error;
      },
    );
    return { ...execution, eventLogs: forwarded(), result };
  };
}
holdResultUntilEventsForwarded();

/** What `$$.Task.Token` resolves to; a waitForTaskToken handler swaps it for a fresh token. */
export const TASK_TOKEN_PLACEHOLDER = '$$.Task.Token';

const NAME = /^[A-Za-z0-9_-]{1,80}$/;
const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;
/** The longest a Lambda function may run on AWS; bounds getRemainingTimeInMillis. */
const LAMBDA_MAX_SECONDS = 900;

interface Machine {
  arn: string;
  name: string;
  prepared: PreparedMachine;
  library: StateMachine;
  createdAt: Date;
}

interface Entry {
  n: number;
  record: ExecutionRecord;
  run?: Run;
}

interface Run {
  entry: Entry;
  machine: Machine;
  history: HistoryRecorder;
  attempts: Set<Attempt>;
  abort: () => void;
  /** Set once the outcome is decided (or the engine closes): later task results are ignored. */
  ended: boolean;
  /** Settles when the library run and its event log are finished. */
  finished: Promise<void>;
  done: ReturnType<typeof deferred<ExecutionRecord>>;
}

/** One invocation of a Task state's handler (each retry is a new attempt). */
interface Attempt {
  spec: TaskSpec;
  number: number;
  token?: string;
  /** Lambda returned; waiting for SendTaskSuccess / SendTaskFailure. */
  waiting: boolean;
  settled: boolean;
  timer?: NodeJS.Timeout;
  result: ReturnType<typeof deferred<Json>>;
}

/**
 * Errors the library must neither retry nor catch (it reads these two properties):
 * the execution was stopped, or the engine refuses a runtime value.
 */
function fatal(name: string, message: string): Error {
  return Object.assign(awsError(name, message), { isRetryable: false, isCatchable: false });
}

/** The error Step Functions reports for a Lambda function error: its errorType, and the payload as cause. */
function functionError(thrown: unknown): Error {
  const errorType = thrown instanceof Error ? thrown.name : 'Error';
  const errorMessage = thrown instanceof Error ? thrown.message : String(thrown);
  const trace = thrown instanceof Error && thrown.stack ? thrown.stack.split('\n').map((l) => l.trim()) : [];
  return awsError(errorType, JSON.stringify({ errorType, errorMessage, trace }));
}

export class Engine {
  readonly region: string;
  readonly accountId: string;
  /** Memory until open() (no execution starts before), then the files in stateDir if any. */
  private store: ExecutionStore = new MemoryStore();
  private readonly machines = new Map<string, Machine>();
  private readonly lambdas = new Map<string, LambdaHandler>();
  private readonly executions = new Map<string, Entry>();
  /** Per state machine ARN, its executions in start order. */
  private readonly byMachine = new Map<string, Entry[]>();
  private readonly runs = new Set<Run>();
  private readonly tokens = new TaskTokens();
  private nextNumber = 1;
  private opened = false;
  private closed = false;
  /** Lambda handlers running now, and the attempts waiting for one to finish. */
  private invocations = 0;
  private readonly invocationQueue = new SlotQueue();

  constructor(private readonly opts: EngineOptions = {}) {
    this.region = opts.region ?? 'ap-southeast-3';
    this.accountId = opts.accountId ?? '000000000000';
  }

  /** Loads persisted executions; those a previous process left RUNNING become ABORTED. */
  async open(): Promise<void> {
    if (this.opened) return;
    this.opened = true;
    if (this.opts.stateDir) this.store = new FileStore(this.opts.stateDir);
    for (const stored of this.store.load()) {
      const entry: Entry = { n: stored.n, record: stored.record };
      this.index(entry);
      this.nextNumber = Math.max(this.nextNumber, stored.n + 1);
      if (stored.record.status !== 'RUNNING') continue;
      Object.assign(entry.record, { status: 'ABORTED', stopDate: new Date(), cause: 'embedded runtime restarted' });
      const history = new HistoryRecorder((e) => this.store.appendEvent(entry.n, e), stored.eventCount);
      history.record({ type: 'ExecutionAborted', executionAbortedEventDetails: { cause: 'embedded runtime restarted' } });
      this.store.appendEnd(entry.n, entry.record);
    }
    this.store.flush();
  }

  registerStateMachine(name: string, aslText: string, substitutions: Record<string, string>): string {
    if (!NAME.test(name)) throw awsError('InvalidName', `Invalid State Machine Name: '${name}'`);
    const prepared = prepareStateMachine(aslText, substitutions);
    const library = new StateMachine(prepared.runnable, { validationOptions: { noValidate: true } });
    const arn = `arn:aws:states:${this.region}:${this.accountId}:stateMachine:${name}`;
    this.machines.set(arn, { arn, name, prepared, library, createdAt: new Date() });
    return arn;
  }

  registerLambda(functionName: string, handler: LambdaHandler): void {
    this.lambdas.set(functionName, handler);
  }

  listStateMachines(): { stateMachineArn: string; name: string }[] {
    return [...this.machines.values()].map((m) => ({ stateMachineArn: m.arn, name: m.name }));
  }

  describeStateMachine(stateMachineArn: string): {
    stateMachineArn: string;
    name: string;
    definition: string;
    creationDate: Date;
  } {
    const m = this.machine(stateMachineArn);
    return { stateMachineArn: m.arn, name: m.name, definition: JSON.stringify(m.prepared.definition), creationDate: m.createdAt };
  }

  async startExecution(req: { stateMachineArn: string; name?: string; input?: string }): Promise<{
    executionArn: string;
    startDate: Date;
  }> {
    return this.start(req);
  }

  describeExecution(executionArn: string): ExecutionRecord {
    return { ...this.entry(executionArn).record };
  }

  listExecutions(req: { stateMachineArn: string; statusFilter?: string; maxResults?: number; nextToken?: string }): {
    executions: ExecutionRecord[];
    nextToken?: string;
  } {
    const entries = this.byMachine.get(req.stateMachineArn);
    if (!entries && !this.machines.has(req.stateMachineArn)) {
      throw awsError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${req.stateMachineArn}'`);
    }
    const limit = pageSize(req.maxResults);
    const before = req.nextToken === undefined ? Number.POSITIVE_INFINITY : decodeToken(req.nextToken).before;
    const executions: ExecutionRecord[] = [];
    let last: number | undefined;
    const list = entries ?? [];
    // Newest first, like the service; the token names the last execution number returned.
    for (let i = list.length - 1; i >= 0; i--) {
      const entry = list[i] as Entry;
      if (entry.n >= before) continue;
      if (req.statusFilter && entry.record.status !== req.statusFilter) continue;
      if (executions.length === limit) return { executions, nextToken: encodeToken({ before: last as number }) };
      executions.push({ ...entry.record });
      last = entry.n;
    }
    return { executions };
  }

  getExecutionHistory(req: { executionArn: string; maxResults?: number; nextToken?: string; reverseOrder?: boolean }): {
    events: HistoryEvent[];
    nextToken?: string;
  } {
    const entry = this.entry(req.executionArn);
    const total = this.store.eventCount(entry.n);
    const limit = pageSize(req.maxResults);
    const skip = req.nextToken === undefined ? 0 : decodeToken(req.nextToken).skip;
    const from = req.reverseOrder ? Math.max(0, total - skip - limit) : skip;
    const to = req.reverseOrder ? total - skip : Math.min(total, skip + limit);
    const events = this.store.readEvents(entry.n, from, to);
    if (req.reverseOrder) events.reverse();
    const nextToken = skip + limit < total ? encodeToken({ skip: skip + limit }) : undefined;
    return nextToken ? { events, nextToken } : { events };
  }

  stopExecution(req: { executionArn: string; error?: string; cause?: string }): { stopDate: Date } {
    const entry = this.entry(req.executionArn);
    const run = entry.run;
    if (entry.record.status !== 'RUNNING' || !run || run.ended) return { stopDate: entry.record.stopDate ?? new Date() };
    run.abort();
    run.ended = true;
    run.history.flush();
    run.history.record({ type: 'ExecutionAborted', executionAbortedEventDetails: { error: req.error, cause: req.cause } });
    this.end(run, { status: 'ABORTED', error: req.error, cause: req.cause });
    return { stopDate: entry.record.stopDate as Date };
  }

  sendTaskSuccess(req: { taskToken: string; output: string }): void {
    const owner = this.tokens.owner(req.taskToken);
    let output: unknown;
    try {
      output = JSON.parse(req.output);
    } catch {
      throw awsError('InvalidOutput', 'Invalid Output: the output is not valid JSON');
    }
    owner.succeed(output);
  }

  sendTaskFailure(req: { taskToken: string; error?: string; cause?: string }): void {
    this.tokens.owner(req.taskToken).fail(req.error ?? 'States.TaskFailed', req.cause ?? '');
  }

  sendTaskHeartbeat(req: { taskToken: string }): void {
    // HeartbeatSeconds is not enforced; a heartbeat only proves the token is alive.
    this.tokens.owner(req.taskToken);
  }

  /** Resolves when the execution is no longer RUNNING (or the engine closes). */
  waitForExecution(executionArn: string): Promise<ExecutionRecord> {
    const entry = this.entry(executionArn);
    if (entry.record.status !== 'RUNNING' || !entry.run) return Promise.resolve({ ...entry.record });
    return entry.run.done.promise;
  }

  activity(): { running: number; waitingForTask: number } {
    let waitingForTask = 0;
    for (const run of this.runs) for (const a of run.attempts) if (a.waiting) waitingForTask++;
    return { running: this.runs.size, waitingForTask };
  }

  /** Stops every run without recording an outcome (RUNNING stays on disk, so a restart sees the interruption). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const runs = [...this.runs];
    for (const run of runs) {
      run.ended = true;
      run.abort();
      this.abortAttempts(run, 'the embedded runtime is shutting down');
    }
    await Promise.all(runs.map((r) => r.finished));
    for (const run of runs) {
      this.runs.delete(run);
      run.done.resolve({ ...run.entry.record });
    }
    this.store.close();
  }

  // ---------------------------------------------------------------------------------

  private start(req: { stateMachineArn: string; name?: string; input?: string }): { executionArn: string; startDate: Date } {
    if (this.closed) throw awsError('ServiceUnavailable', 'the embedded engine is closed');
    if (this.opts.stateDir && !this.opened) throw new Error('Engine.open() must be called before starting executions');
    this.opts.beforeStartExecution?.({ stateMachineArn: req.stateMachineArn, name: req.name });
    const machine = this.machine(req.stateMachineArn);
    const name = req.name ?? randomUUID();
    if (!NAME.test(name)) {
      throw awsError('InvalidName', `Invalid Name: '${name}' (1-80 characters of A-Z, a-z, 0-9, - and _)`);
    }
    const input = req.input ?? '{}';
    let parsed: Json;
    try {
      parsed = JSON.parse(input) as Json;
    } catch {
      throw awsError('InvalidExecutionInput', 'Invalid Execution Input: the input is not valid JSON');
    }
    const executionArn = `arn:aws:states:${this.region}:${this.accountId}:execution:${machine.name}:${name}`;
    const existing = this.executions.get(executionArn);
    if (existing) {
      if (existing.record.status === 'RUNNING' && sameJson(existing.record.input, parsed)) {
        return { executionArn, startDate: existing.record.startDate };
      }
      throw awsError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    }
    const entry: Entry = {
      n: this.nextNumber++,
      record: { executionArn, stateMachineArn: machine.arn, name, status: 'RUNNING', startDate: new Date(), input },
    };
    this.index(entry);
    this.store.appendStart(entry.n, entry.record);
    this.launch(entry, machine, parsed);
    return { executionArn, startDate: entry.record.startDate };
  }

  private launch(entry: Entry, machine: Machine, input: Json): void {
    const history = new HistoryRecorder((e) => this.append(entry.n, e));
    history.record(
      {
        type: 'ExecutionStarted',
        executionStartedEventDetails: {
          input: entry.record.input,
          inputDetails: { truncated: false },
          roleArn: `arn:aws:iam::${this.accountId}:role/prokus-embedded`,
        },
      },
      entry.record.startDate,
    );
    const run: Run = {
      entry,
      machine,
      history,
      attempts: new Set(),
      abort: () => undefined,
      ended: false,
      finished: Promise.resolve(),
      done: deferred<ExecutionRecord>(),
    };
    entry.run = run;
    this.runs.add(run);

    const handlers: Record<string, (input: Json) => Promise<Json>> = {};
    for (const spec of machine.prepared.tasks.values()) handlers[spec.stateName] = (i) => this.runTask(run, spec, i);
    const options: RunOptions = {
      overrides: {
        taskResourceLocalHandlers: handlers as NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers'],
        retryIntervalOverrides:
          this.opts.retryIntervalMs === undefined
            ? undefined
            : Object.fromEntries(machine.prepared.retryStates.map((s) => [s, this.opts.retryIntervalMs as number])),
      },
      context: {
        Execution: {
          Id: entry.record.executionArn,
          Name: entry.record.name,
          RoleArn: `arn:aws:iam::${this.accountId}:role/prokus-embedded`,
        },
        StateMachine: { Id: machine.arn, Name: machine.name },
        Task: { Token: TASK_TOKEN_PLACEHOLDER },
      },
    };
    const execution = machine.library.run(input as Parameters<StateMachine['run']>[0], options);
    run.abort = execution.abort;
    const logged = (async () => {
      // Events still queued when a stop was recorded would land after ExecutionAborted.
      for await (const event of execution.eventLogs) if (!run.ended) history.fromLibrary(event);
    })();
    const outcome = execution.result.then(
      (output) => ({ ok: true as const, output }),
      (error: unknown) => ({ ok: false as const, error }),
    );
    run.finished = Promise.all([outcome, logged]).then(([result]) => this.finish(run, result));
  }

  private finish(run: Run, result: { ok: true; output: unknown } | { ok: false; error: unknown }): void {
    if (run.ended) {
      this.release(run);
      return;
    }
    run.ended = true;
    run.history.flush();
    if (result.ok) {
      const output = historyJson(result.output);
      run.history.record({
        type: 'ExecutionSucceeded',
        executionSucceededEventDetails: { output, outputDetails: { truncated: false } },
      });
      this.end(run, { status: 'SUCCEEDED', output });
    } else if (result.error instanceof ExecutionTimeoutError) {
      run.history.record({ type: 'ExecutionTimedOut', executionTimedOutEventDetails: { error: 'States.Timeout' } });
      this.end(run, { status: 'TIMED_OUT', error: 'States.Timeout' });
    } else {
      const cause = result.error instanceof ExecutionError ? result.error.cause : result.error;
      const error = cause instanceof Error ? cause.name : 'States.Runtime';
      const message = cause instanceof Error ? cause.message : String(cause);
      run.history.record({ type: 'ExecutionFailed', executionFailedEventDetails: { error, cause: message } });
      this.end(run, { status: 'FAILED', error, cause: message });
    }
    this.release(run);
  }

  /** Records the outcome and wakes waitForExecution. */
  private end(run: Run, outcome: { status: ExecutionStatus; output?: string; error?: string; cause?: string }): void {
    Object.assign(run.entry.record, outcome, { stopDate: new Date() });
    this.store.appendEnd(run.entry.n, run.entry.record);
    this.abortAttempts(run, 'the execution has ended');
    this.runs.delete(run);
    run.done.resolve({ ...run.entry.record });
  }

  /** Forgets a finished run; tasks a stopped or failed Map left in flight are cut loose. */
  private release(run: Run): void {
    this.abortAttempts(run, 'the execution has ended');
    if (!this.closed) this.runs.delete(run);
    if (run.entry.run === run) run.entry.run = undefined;
  }

  private abortAttempts(run: Run, why: string): void {
    for (const attempt of [...run.attempts]) {
      this.settle(run, attempt);
      attempt.result.reject(fatal('States.Aborted', `Task aborted: ${why}`));
    }
  }

  // --- tasks -----------------------------------------------------------------------

  private runTask(run: Run, spec: TaskSpec, input: Json): Promise<Json> {
    const result = deferred<Json>();
    // The library may stop listening (abort, its own timeout) before we settle.
    result.promise.catch(() => undefined);
    if (run.ended) {
      result.reject(fatal('States.Aborted', 'Task aborted: the execution has ended'));
      return result.promise;
    }
    const params: Json = isObject(input) ? { ...input } : input;
    let timeoutSeconds = DEFAULT_TASK_TIMEOUT_SECONDS;
    if (spec.timeout.from === 'literal') timeoutSeconds = spec.timeout.seconds;
    if (spec.timeout.from === 'input' && isObject(params) && isObject(input)) {
      const value = params[TIMEOUT_KEY];
      delete params[TIMEOUT_KEY];
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_TIMEOUT_SECONDS) {
        // The library reads the timeout from this same object right after calling us: a
        // harmless value keeps its timer from overflowing (or its check from throwing
        // outside the task), while the task fails here, before anything runs.
        input[TIMEOUT_KEY] = MAX_TIMEOUT_SECONDS;
        result.reject(
          fatal(
            'States.Runtime',
            `Task ${spec.stateName}: TimeoutSecondsPath gave ${JSON.stringify(value)}; expected an integer from 1 to ${MAX_TIMEOUT_SECONDS}`,
          ),
        );
        return result.promise;
      }
      timeoutSeconds = value;
    }
    if (spec.engineTimed && isObject(input)) input[TIMEOUT_KEY] = MAX_TIMEOUT_SECONDS;

    const attempt: Attempt = {
      spec,
      number: run.history.beginAttempt(spec.stateName),
      waiting: false,
      settled: false,
      result,
    };
    run.attempts.add(attempt);
    const { resourceType, resource } = resourceParts(spec.resource);
    this.taskEvent(run, attempt, {
      type: 'TaskScheduled',
      taskScheduledEventDetails: {
        resourceType,
        resource,
        region: this.region,
        parameters: historyJson(params),
        timeoutInSeconds: timeoutSeconds,
      },
    });

    // The task starts now, or for a Lambda task when its function gets a slot (perform).
    // Otherwise the library enforces the timeout with a timer set right after ours for the
    // same duration, so ours fires first: the token dies before the state fails
    // (States.Timeout comes from the library) and the late rejection only makes sure
    // nothing dangles. For engine-timed tasks the library waits 24.8 days: this rejection
    // is the timeout, matched by Retry and Catch like the library's own.
    const begin = () => {
      this.taskEvent(run, attempt, { type: 'TaskStarted', taskStartedEventDetails: { resourceType, resource } });
      attempt.timer = setTimeout(() => {
        if (attempt.settled) return;
        this.settle(run, attempt);
        this.taskEvent(run, attempt, {
          type: 'TaskTimedOut',
          taskTimedOutEventDetails: { resourceType, resource, error: 'States.Timeout', cause: '' },
        });
        setImmediate(() => result.reject(awsError('States.Timeout', 'States.Timeout')));
      }, timeoutSeconds * 1000);
    };

    const succeed = (value: Json, output: Json = value) => {
      if (attempt.settled) return;
      this.settle(run, attempt);
      this.taskEvent(run, attempt, {
        type: 'TaskSucceeded',
        taskSucceededEventDetails: { resourceType, resource, output: historyJson(output), outputDetails: { truncated: false } },
      });
      result.resolve(value);
    };
    const fail = (error: Error) => {
      if (attempt.settled) return;
      this.settle(run, attempt);
      this.taskEvent(run, attempt, {
        type: 'TaskFailed',
        taskFailedEventDetails: { resourceType, resource, error: error.name, cause: error.message },
      });
      result.reject(error);
    };

    const runsFunction = spec.kind === 'lambda' || spec.kind === 'lambda-arn' || spec.kind === 'lambda-wait';
    const start = () => {
      begin();
      return this.perform(run, attempt, params, timeoutSeconds, succeed, fail);
    };
    const work = runsFunction ? this.withInvocationSlot(run, attempt, start) : start();
    work.catch((e: unknown) => fail(e instanceof Error ? e : functionError(e)));
    return result.promise;
  }

  /**
   * Runs `fn` when fewer than maxConcurrentInvocations functions run; an attempt ended
   * while it waited never runs. Waiting attempts go in the order their executions started,
   * so an execution that got a slot keeps going: with 10,000 journeys, the first approval
   * email goes out after the first journey's few tasks, not after every journey's first
   * task has had its turn.
   */
  private async withInvocationSlot(run: Run, attempt: Attempt, fn: () => Promise<void>): Promise<void> {
    const limit = this.opts.maxConcurrentInvocations ?? DEFAULT_CONCURRENT_INVOCATIONS;
    if (this.invocations >= limit) await new Promise<void>((resolve) => this.invocationQueue.push(run.entry.n, resolve));
    else this.invocations += 1;
    try {
      if (!attempt.settled) await fn();
    } finally {
      // A turn of the event loop first, for the execution to ask for its next task; then
      // the slot passes straight to the first in line, so the count stays right.
      setImmediate(() => {
        const next = this.invocationQueue.shift();
        if (next) next();
        else this.invocations -= 1;
      });
    }
  }

  private async perform(
    run: Run,
    attempt: Attempt,
    params: Json,
    timeoutSeconds: number,
    succeed: (value: Json, output?: Json) => void,
    fail: (error: Error) => void,
  ): Promise<void> {
    const p = isObject(params) ? params : {};
    switch (attempt.spec.kind) {
      case 'lambda': {
        const payload = await this.invoke(String(p.FunctionName), p.Payload ?? {}, timeoutSeconds);
        succeed({ ExecutedVersion: '$LATEST', Payload: payload, StatusCode: 200 });
        return;
      }
      case 'lambda-arn': {
        succeed(await this.invoke(attempt.spec.resource, params, timeoutSeconds));
        return;
      }
      case 'lambda-wait': {
        // The token is registered before the function runs: it may call SendTaskSuccess itself.
        const token = this.tokens.issue({
          succeed: (output) => succeed(output as Json),
          fail: (error, cause) => fail(awsError(error, cause)),
        });
        attempt.token = token;
        const payload = replaceDeep(p.Payload ?? {}, TASK_TOKEN_PLACEHOLDER, token);
        const response = await this.invoke(String(p.FunctionName), payload, timeoutSeconds);
        if (attempt.settled) return;
        attempt.waiting = true;
        const { resourceType, resource } = resourceParts(attempt.spec.resource);
        this.taskEvent(run, attempt, {
          type: 'TaskSubmitted',
          taskSubmittedEventDetails: {
            resourceType,
            resource,
            output: historyJson({ ExecutedVersion: '$LATEST', Payload: response, StatusCode: 200 }),
            outputDetails: { truncated: false },
          },
        });
        return;
      }
      case 'start-execution': {
        const input = p.Input === undefined ? '{}' : typeof p.Input === 'string' ? p.Input : JSON.stringify(p.Input);
        try {
          const started = this.start({
            stateMachineArn: String(p.StateMachineArn),
            name: typeof p.Name === 'string' ? p.Name : undefined,
            input,
          });
          succeed({ ExecutionArn: started.executionArn, StartDate: started.startDate.getTime() });
        } catch (e) {
          const error = e as Error;
          // Service integrations prefix the service and use the SDK exception names
          // (ExecutionAlreadyExists → ExecutionAlreadyExistsException; ThrottlingException stays).
          const exception = error.name.endsWith('Exception') ? error.name : `${error.name}Exception`;
          fail(awsError(`StepFunctions.${exception}`, `${error.message} (Service: Sfn, Error Code: ${error.name})`));
        }
        return;
      }
      case 'item-reader': {
        const items = await this.readItems(attempt.spec, p);
        succeed(items, { ItemCount: items.length });
        return;
      }
      case 'release-items': {
        const rest: JsonObject = { ...p };
        delete rest[ITEMS_KEY];
        succeed(rest);
        return;
      }
    }
    fail(fatal('States.Runtime', `Task ${attempt.spec.stateName}: no handler`));
  }

  private async invoke(functionName: string, payload: Json, timeoutSeconds: number): Promise<Json> {
    const handler = this.lambdas.get(functionName) ?? this.lambdas.get(shortFunctionName(functionName));
    if (!handler) {
      throw awsError(
        'Lambda.ResourceNotFoundException',
        `Function not found: ${functionName} (no handler registered with the engine)`,
      );
    }
    const deadline = Date.now() + Math.min(timeoutSeconds, LAMBDA_MAX_SECONDS) * 1000;
    let result: unknown;
    try {
      // A copy, as if it had crossed the wire: handlers must not share objects with the run.
      result = await handler(JSON.parse(JSON.stringify(payload)), {
        functionName: shortFunctionName(functionName),
        awsRequestId: randomUUID(),
        getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      });
    } catch (e) {
      throw functionError(e);
    }
    return result === undefined ? null : (JSON.parse(JSON.stringify(result)) as Json);
  }

  private async readItems(spec: TaskSpec, p: JsonObject): Promise<Json[]> {
    const failed = (why: string) => awsError('States.ItemReaderFailed', `${spec.stateName}: ${why}`);
    if (!this.opts.readItems) throw failed('this engine was created without readItems');
    let items: unknown[];
    try {
      items = await this.opts.readItems(String(p.Bucket), String(p.Key));
    } catch (e) {
      throw failed((e as Error).message);
    }
    if (!Array.isArray(items)) throw failed('readItems did not return an array');
    let list = JSON.parse(JSON.stringify(items)) as Json[];
    if (spec.maxItems !== undefined && spec.maxItems > 0) list = list.slice(0, spec.maxItems);
    if (spec.maxItemsPerBatch === undefined) return list;
    const size = spec.maxItemsPerBatch > 0 ? spec.maxItemsPerBatch : Math.max(1, list.length);
    const batches: Json[] = [];
    for (let i = 0; i < list.length; i += size) {
      const batch: JsonObject = { Items: list.slice(i, i + size) };
      if (p[BATCH_INPUT_KEY] !== undefined) batch.BatchInput = p[BATCH_INPUT_KEY];
      batches.push(batch);
    }
    return batches;
  }

  /** The attempt is over: stop its timer, kill its token, forget it. */
  private settle(run: Run, attempt: Attempt): void {
    attempt.settled = true;
    attempt.waiting = false;
    if (attempt.timer) clearTimeout(attempt.timer);
    if (attempt.token) this.tokens.end(attempt.token);
    run.attempts.delete(attempt);
  }

  private taskEvent(run: Run, attempt: Attempt, body: EventBody): void {
    if (run.ended) return;
    run.history.task(attempt.spec.stateName, attempt.number, body);
  }

  // --- lookups ---------------------------------------------------------------------

  private append(n: number, event: HistoryEvent): void {
    if (!this.closed) this.store.appendEvent(n, event);
  }

  private machine(arn: string): Machine {
    const m = this.machines.get(arn);
    if (!m) throw awsError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
    return m;
  }

  private entry(executionArn: string): Entry {
    const e = this.executions.get(executionArn);
    if (!e) throw awsError('ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`);
    return e;
  }

  private index(entry: Entry): void {
    this.executions.set(entry.record.executionArn, entry);
    const list = this.byMachine.get(entry.record.stateMachineArn);
    if (list) list.push(entry);
    else this.byMachine.set(entry.record.stateMachineArn, [entry]);
  }
}

/** Waiting invocations, the earliest-started execution first (then first come, first served): a binary heap. */
class SlotQueue {
  private readonly heap: { n: number; seq: number; resolve: () => void }[] = [];
  private seq = 0;

  push(n: number, resolve: () => void): void {
    const heap = this.heap;
    heap.push({ n, seq: this.seq++, resolve });
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  /** Calls the first waiter's resolve; undefined when nobody waits. */
  shift(): (() => void) | undefined {
    const heap = this.heap;
    const top = heap[0];
    if (!top) return undefined;
    const last = heap.pop() as (typeof heap)[number];
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let first = i;
        if (l < heap.length && this.before(l, first)) first = l;
        if (r < heap.length && this.before(r, first)) first = r;
        if (first === i) break;
        this.swap(i, first);
        i = first;
      }
    }
    return top.resolve;
  }

  private before(a: number, b: number): boolean {
    const x = this.heap[a] as { n: number; seq: number };
    const y = this.heap[b] as { n: number; seq: number };
    return x.n < y.n || (x.n === y.n && x.seq < y.seq);
  }

  private swap(a: number, b: number): void {
    const heap = this.heap;
    [heap[a], heap[b]] = [heap[b] as (typeof heap)[number], heap[a] as (typeof heap)[number]];
  }
}

function shortFunctionName(nameOrArn: string): string {
  const m = /:function:([^:]+)/.exec(nameOrArn);
  return m?.[1] ?? nameOrArn;
}

function replaceDeep(value: Json, placeholder: string, replacement: string): Json {
  if (typeof value === 'string') return value.split(placeholder).join(replacement);
  if (Array.isArray(value)) return value.map((v) => replaceDeep(v, placeholder, replacement));
  if (isObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replaceDeep(v, placeholder, replacement)]));
  }
  return value;
}

function sameJson(text: string, parsed: Json): boolean {
  try {
    return JSON.stringify(JSON.parse(text)) === JSON.stringify(parsed);
  } catch {
    return false;
  }
}

function pageSize(maxResults: number | undefined): number {
  if (maxResults === undefined || maxResults === 0) return DEFAULT_PAGE;
  return Math.min(Math.max(1, Math.floor(maxResults)), MAX_PAGE);
}

interface PageToken {
  before: number;
  skip: number;
}

function encodeToken(token: Partial<PageToken>): string {
  return Buffer.from(JSON.stringify(token)).toString('base64url');
}

function decodeToken(text: string): PageToken {
  try {
    const value: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (isObject(value)) {
      const before = typeof value.before === 'number' ? value.before : Number.POSITIVE_INFINITY;
      const skip = typeof value.skip === 'number' ? value.skip : 0;
      return { before, skip };
    }
  } catch {
    // fall through
  }
  throw awsError('InvalidToken', 'Invalid Token: the pagination token is not one this engine issued');
}
