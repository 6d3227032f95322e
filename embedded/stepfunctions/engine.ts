/**
 * The embedded Step Functions engine: the ASL files in workflows/ run unchanged on
 * aws-local-stepfunctions, with AWS execution semantics around them (names, idempotent
 * StartExecution, task tokens, history, stop, persistence). It is the one piece of the
 * embedded runtime that stands in for a managed service, so it keeps to the service's
 * behaviour wherever our workflows can observe it; asl-rewrite.ts lists the adaptations
 * made to the definitions, history.ts how the history is built, redrive.ts how
 * RedriveExecution resumes an execution.
 *
 * This file is the API the service answers (what aws-endpoint/ and the runtime call);
 * run-loop.ts drives the library runs, tasks.ts the Task states: each gets a local
 * handler (keyed by state name) that calls the LambdaHandler registered for the
 * FunctionName, starts a child execution on this engine, or reads Distributed Map items
 * through `readItems`. Task states never reach AWS.
 */
import { randomUUID } from 'node:crypto';
import { StateMachine } from 'aws-local-stepfunctions';
import { type Json, prepareStateMachine } from './asl-rewrite.ts';
import { type ExecutionRecord, type ExecutionStore, FileStore, MemoryStore, redriven } from './execution-store.ts';
import { type HistoryEvent, HistoryRecorder } from './history.ts';
import { decodeToken, encodeToken, pageSize } from './pagination.ts';
import { CLIENT_TOKEN_MS, CLIENT_TOKENS_KEPT, redrivePoint, redriveStatus } from './redrive.ts';
import type { Entry, Machine } from './run.ts';
import { RunLoop } from './run-loop.ts';
import { awsError, TaskTokens } from './task-tokens.ts';
import { type LambdaHandler, TaskRunner } from './tasks.ts';

export type { ExecutionRecord, ExecutionStatus } from './execution-store.ts';
export type { HistoryEvent } from './history.ts';
export { type RedriveStatus, redriveStatus } from './redrive.ts';
export { DEFAULT_CONCURRENT_INVOCATIONS, type LambdaHandler, TASK_TOKEN_PLACEHOLDER } from './tasks.ts';

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

const NAME = /^[A-Za-z0-9_-]{1,80}$/;

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
  private readonly tokens = new TaskTokens();
  private readonly tasks: TaskRunner;
  private readonly runLoop: RunLoop;
  private nextNumber = 1;
  private opened = false;
  private closed = false;

  constructor(private readonly opts: EngineOptions = {}) {
    this.region = opts.region ?? 'ap-southeast-3';
    this.accountId = opts.accountId ?? '000000000000';
    this.tasks = new TaskRunner({
      region: this.region,
      options: opts,
      lambdas: this.lambdas,
      tokens: this.tokens,
      startExecution: (req) => this.start(req),
    });
    this.runLoop = new RunLoop({
      accountId: this.accountId,
      options: opts,
      tasks: this.tasks,
      store: () => this.store,
      closed: () => this.closed,
    });
  }

  /** Loads persisted executions; those a previous process left RUNNING become ABORTED. */
  async open(): Promise<void> {
    if (this.opened) return;
    this.opened = true;
    if (this.opts.stateDir) this.store = new FileStore(this.opts.stateDir);
    for (const stored of this.store.load()) {
      const entry: Entry = { n: stored.n, record: stored.record, redrives: stored.redrives };
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

  listExecutions(req: {
    stateMachineArn: string;
    statusFilter?: string;
    redriveFilter?: 'REDRIVEN' | 'NOT_REDRIVEN';
    maxResults?: number;
    nextToken?: string;
  }): {
    executions: ExecutionRecord[];
    nextToken?: string;
  } {
    if (req.statusFilter === 'PENDING_REDRIVE') {
      // As the service answers: that status belongs to the child executions of a Map Run.
      throw awsError('ValidationException', 'The PENDING_REDRIVE statusFilter requires a mapRunArn, not a stateMachineArn');
    }
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
      if (req.redriveFilter && (req.redriveFilter === 'REDRIVEN') !== (entry.record.redriveCount ?? 0) > 0) continue;
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
    this.runLoop.stop(run, req);
    return { stopDate: entry.record.stopDate as Date };
  }

  /**
   * RedriveExecution: the same execution runs again from the state that did not finish
   * (redrive.ts), if it may (`redriveStatus`); else ExecutionNotRedrivable. The same
   * clientToken within 15 minutes gets the first answer again and redrives nothing.
   */
  redriveExecution(req: { executionArn: string; clientToken?: string }): { redriveDate: Date } {
    if (this.closed) throw awsError('ServiceUnavailable', 'the embedded engine is closed');
    const entry = this.entry(req.executionArn);
    const now = new Date();
    const redrives = entry.redrives;
    if (req.clientToken !== undefined) {
      const same = redrives
        .slice(-CLIENT_TOKENS_KEPT)
        .find((r) => r.token === req.clientToken && now.getTime() - r.redriveDate.getTime() < CLIENT_TOKEN_MS);
      if (same) return { redriveDate: same.redriveDate };
    }
    const status = redriveStatus(entry.record, now);
    if (status.redriveStatus !== 'REDRIVABLE') {
      throw awsError('ExecutionNotRedrivable', `Execution Not Redrivable: '${req.executionArn}': ${status.redriveStatusReason}`);
    }
    const machine = this.machine(entry.record.stateMachineArn);
    const input = JSON.parse(entry.record.input) as Json;
    const point = redrivePoint(
      machine.prepared,
      { count: this.store.eventCount(entry.n), read: (from, to) => this.store.readEvents(entry.n, from, to) },
      input,
    );
    redriven(entry.record, (entry.record.redriveCount ?? 0) + 1, now);
    redrives.push({ token: req.clientToken, redriveDate: now });
    this.store.appendRedrive(entry.n, entry.record, req.clientToken);
    this.runLoop.redrive(entry, machine, input, point);
    return { redriveDate: now };
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
    return this.runLoop.activity();
  }

  /** Stops every run without recording an outcome (RUNNING stays on disk, so a restart sees the interruption). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.runLoop.stopAll();
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
      redrives: [],
    };
    this.index(entry);
    this.store.appendStart(entry.n, entry.record);
    this.runLoop.launch(entry, machine, parsed);
    return { executionArn, startDate: entry.record.startDate };
  }

  // --- lookups ---------------------------------------------------------------------

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

function sameJson(text: string, parsed: Json): boolean {
  try {
    return JSON.stringify(JSON.parse(text)) === JSON.stringify(parsed);
  } catch {
    return false;
  }
}
