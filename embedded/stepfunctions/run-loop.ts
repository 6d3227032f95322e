/**
 * The engine's run loop: one library run per execution, its events into the history, its result
 * into the outcome; stop and close. Its own file: where the library is driven, apart from the API.
 */
import { ExecutionError, ExecutionTimeoutError, type RunOptions, StateMachine } from 'aws-local-stepfunctions';
import type { Json } from './asl-rewrite.ts';
import type { ExecutionRecord, ExecutionStatus, ExecutionStore } from './execution-store.ts';
import { type HistoryEvent, HistoryRecorder, historyJson } from './history.ts';
import { type RedrivePoint, redriveDefinition } from './redrive.ts';
import type { Entry, Machine, Run } from './run.ts';
import { TASK_TOKEN_PLACEHOLDER, type TaskRunner } from './tasks.ts';

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
    const drained = Promise.withResolvers<void>();
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

/** What the run loop is given by the engine it runs for. */
export interface RunLoopContext {
  accountId: string;
  options: { retryIntervalMs?: number };
  tasks: TaskRunner;
  /** The engine's store now: memory until open(), then the files in stateDir if any. */
  store(): ExecutionStore;
  /** Whether the engine is closed: it then records nothing more. */
  closed(): boolean;
}

export class RunLoop {
  /** Executions whose library run is going on. */
  readonly runs = new Set<Run>();

  constructor(private readonly ctx: RunLoopContext) {}

  /** Starts the library run of a new execution, its history begun with ExecutionStarted. */
  launch(entry: Entry, machine: Machine, input: Json): void {
    const history = new HistoryRecorder((e) => this.append(entry.n, e));
    history.record(
      {
        type: 'ExecutionStarted',
        executionStartedEventDetails: {
          input: entry.record.input,
          inputDetails: { truncated: false },
          roleArn: `arn:aws:iam::${this.ctx.accountId}:role/prokus-embedded`,
        },
      },
      entry.record.startDate,
    );
    this.begin(entry, machine, machine.library, input, history);
  }

  /**
   * Runs a stopped execution again (RedriveExecution; the record already says RUNNING): its
   * history goes on after ExecutionRedriven, the run enters `point` (redrive.ts).
   */
  redrive(entry: Entry, machine: Machine, input: Json, point: RedrivePoint): void {
    const history = new HistoryRecorder((e) => this.append(entry.n, e), this.ctx.store().eventCount(entry.n));
    history.record(
      { type: 'ExecutionRedriven', executionRedrivenEventDetails: { redriveCount: entry.record.redriveCount } },
      entry.record.redriveDate,
    );
    const library = new StateMachine(redriveDefinition(machine.prepared, point), { validationOptions: { noValidate: true } });
    this.begin(entry, machine, library, input, history);
  }

  private begin(entry: Entry, machine: Machine, library: StateMachine, input: Json, history: HistoryRecorder): void {
    const run: Run = {
      entry,
      machine,
      history,
      attempts: new Set(),
      abort: () => undefined,
      ended: false,
      finished: Promise.resolve(),
      done: Promise.withResolvers<ExecutionRecord>(),
    };
    entry.run = run;
    this.runs.add(run);

    const handlers: Record<string, (input: Json) => Promise<Json>> = {};
    for (const spec of machine.prepared.tasks.values()) handlers[spec.stateName] = (i) => this.ctx.tasks.run(run, spec, i);
    const options: RunOptions = {
      overrides: {
        taskResourceLocalHandlers: handlers as NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers'],
        retryIntervalOverrides:
          this.ctx.options.retryIntervalMs === undefined
            ? undefined
            : Object.fromEntries(machine.prepared.retryStates.map((s) => [s, this.ctx.options.retryIntervalMs as number])),
      },
      context: {
        Execution: {
          Id: entry.record.executionArn,
          Name: entry.record.name,
          RoleArn: `arn:aws:iam::${this.ctx.accountId}:role/prokus-embedded`,
          RedriveCount: entry.record.redriveCount ?? 0,
          ...(entry.record.redriveDate ? { RedriveTime: entry.record.redriveDate.toISOString() } : {}),
        },
        StateMachine: { Id: machine.arn, Name: machine.name },
        Task: { Token: TASK_TOKEN_PLACEHOLDER },
      },
    };
    const execution = library.run(input as Parameters<StateMachine['run']>[0], options);
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
    this.ctx.store().appendEnd(run.entry.n, run.entry.record);
    this.ctx.tasks.abortAttempts(run, 'the execution has ended');
    this.runs.delete(run);
    run.done.resolve({ ...run.entry.record });
  }

  /** Forgets a finished run; tasks a stopped or failed Map left in flight are cut loose. */
  private release(run: Run): void {
    this.ctx.tasks.abortAttempts(run, 'the execution has ended');
    if (!this.ctx.closed()) this.runs.delete(run);
    if (run.entry.run === run) run.entry.run = undefined;
  }

  /** StopExecution of a running execution: the outcome ABORTED, recorded now. */
  stop(run: Run, req: { error?: string; cause?: string }): void {
    run.abort();
    run.ended = true;
    run.history.flush();
    run.history.record({ type: 'ExecutionAborted', executionAbortedEventDetails: { error: req.error, cause: req.cause } });
    this.end(run, { status: 'ABORTED', error: req.error, cause: req.cause });
  }

  activity(): { running: number; waitingForTask: number } {
    let waitingForTask = 0;
    for (const run of this.runs) for (const a of run.attempts) if (a.waiting) waitingForTask++;
    return { running: this.runs.size, waitingForTask };
  }

  /** Stops every run without recording an outcome (the engine is closing). */
  async stopAll(): Promise<void> {
    const runs = [...this.runs];
    for (const run of runs) {
      run.ended = true;
      run.abort();
      this.ctx.tasks.abortAttempts(run, 'the embedded runtime is shutting down');
    }
    await Promise.all(runs.map((r) => r.finished));
    for (const run of runs) {
      this.runs.delete(run);
      run.done.resolve({ ...run.entry.record });
    }
  }

  private append(n: number, event: HistoryEvent): void {
    if (!this.ctx.closed()) this.ctx.store().appendEvent(n, event);
  }
}
