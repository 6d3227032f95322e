/**
 * Execution history in the AWS `HistoryEvent` shape, built from two sources:
 *
 * - the library's `eventLogs` (StateEntered / StateExited / StateFailed / StateRetried /
 *   StateCaught / MapIteration*), which arrive asynchronously, in order;
 * - the engine's task handlers (TaskScheduled, TaskStarted, TaskSubmitted,
 *   TaskSucceeded, TaskFailed, TaskTimedOut), which happen synchronously, often before
 *   the library's StateEntered for the same state has been read from `eventLogs`.
 *
 * A task event therefore waits in a queue until the StateEntered (or, for a retry,
 * StateRetried) that started its attempt has been recorded, so the history reads in
 * the order things happened. Retries look like they do on AWS: TaskFailed, then a new
 * TaskScheduled for the same state. Inputs and outputs are JSON strings, with the
 * engine's reserved keys removed.
 */
import type { HistoryEvent, HistoryEventType } from '@aws-sdk/client-sfn';
import type { StateMachine } from 'aws-local-stepfunctions';
import { BATCH_INPUT_KEY, ITEMS_KEY, REDRIVE_STATE, TIMEOUT_KEY } from './asl-rewrite.ts';

export type { HistoryEvent };

type EventLogs = ReturnType<StateMachine['run']>['eventLogs'];
export type LibraryEvent = EventLogs extends AsyncGenerator<infer E> ? E : never;

/** The details of one event, without id, previousEventId and timestamp. */
export type EventBody = Omit<HistoryEvent, 'id' | 'previousEventId' | 'timestamp'> & { type: HistoryEventType };

const RESERVED = new Set([ITEMS_KEY, TIMEOUT_KEY, BATCH_INPUT_KEY]);

/** JSON text for history and execution output, without the engine's reserved keys. */
export function historyJson(value: unknown): string {
  return JSON.stringify(value ?? null, (key, v) => (RESERVED.has(key) ? undefined : v)) ?? 'null';
}

/** `arn:aws:states:::lambda:invoke.waitForTaskToken` → lambda / invoke.waitForTaskToken, like the console shows. */
export function resourceParts(resource: string): { resourceType: string; resource: string } {
  const m = /^arn:aws[\w-]*:states:::([\w-]+):(.+)$/.exec(resource);
  if (m?.[1] && m[2]) return { resourceType: m[1], resource: m[2] };
  return { resourceType: resource.includes(':lambda:') ? 'lambda' : 'unknown', resource };
}

interface Queued {
  attempt: number;
  body: EventBody;
  at: Date;
}

export class HistoryRecorder {
  private lastId: number;
  /** Per state name: StateEntered + StateRetried events recorded so far. */
  private readonly startedSeen = new Map<string, number>();
  /** Per state name: task attempts the handlers started so far. */
  private readonly attempts = new Map<string, number>();
  private readonly queued = new Map<string, Queued[]>();

  constructor(
    private readonly sink: (event: HistoryEvent) => void,
    lastId = 0,
  ) {
    this.lastId = lastId;
  }

  get count(): number {
    return this.lastId;
  }

  record(body: EventBody, at = new Date()): HistoryEvent {
    const event = { ...body, id: this.lastId + 1, previousEventId: this.lastId, timestamp: at } as HistoryEvent;
    this.lastId += 1;
    this.sink(event);
    return event;
  }

  /** A task handler started an attempt of `stateName`; returns the attempt number for `task()`. */
  beginAttempt(stateName: string): number {
    const n = (this.attempts.get(stateName) ?? 0) + 1;
    this.attempts.set(stateName, n);
    return n;
  }

  /** Records (or queues, see the module comment) an event of one task attempt. */
  task(stateName: string, attempt: number, body: EventBody): void {
    const queue = this.queued.get(stateName);
    if (!queue && (this.startedSeen.get(stateName) ?? 0) >= attempt) {
      this.record(body);
      return;
    }
    const item = { attempt, body, at: new Date() };
    if (queue) queue.push(item);
    else this.queued.set(stateName, [item]);
    this.release(stateName, false);
  }

  fromLibrary(event: LibraryEvent): void {
    // The state a redriven run starts with is the engine's, not the definition's.
    if ('state' in event && event.state.name === REDRIVE_STATE) return;
    // The library stamps events when they happen; they are read from eventLogs later.
    const at = new Date(event.timestamp);
    switch (event.type) {
      case 'StateEntered': {
        const { name, type, input } = event.state;
        this.record(
          {
            type: `${type}StateEntered` as HistoryEventType,
            stateEnteredEventDetails: { name, input: historyJson(input), inputDetails: { truncated: false } },
          },
          at,
        );
        this.started(name);
        return;
      }
      case 'StateRetried':
        this.started(event.state.name);
        return;
      case 'StateExited': {
        const { name, type, output } = event.state;
        this.release(name, true);
        if (type === 'Map') this.record({ type: 'MapStateSucceeded' }, at);
        if (type === 'Parallel') this.record({ type: 'ParallelStateSucceeded' }, at);
        this.record(
          {
            type: `${type}StateExited` as HistoryEventType,
            stateExitedEventDetails: { name, output: historyJson(output), outputDetails: { truncated: false } },
          },
          at,
        );
        return;
      }
      case 'StateFailed': {
        // Task failures are recorded by the task handler itself (TaskFailed / TaskTimedOut);
        // errors of Fail and Choice states show in ExecutionFailed, as on AWS.
        this.release(event.state.name, true);
        if (event.state.type === 'Map') this.record({ type: 'MapStateFailed' }, at);
        if (event.state.type === 'Parallel') this.record({ type: 'ParallelStateFailed' }, at);
        return;
      }
      case 'MapIterationStarted':
      case 'MapIterationSucceeded':
      case 'MapIterationFailed': {
        const details = { name: event.parentState.name, index: event.index };
        if (event.type === 'MapIterationStarted') this.record({ type: event.type, mapIterationStartedEventDetails: details }, at);
        else if (event.type === 'MapIterationSucceeded') {
          this.record({ type: event.type, mapIterationSucceededEventDetails: details }, at);
        } else this.record({ type: event.type, mapIterationFailedEventDetails: details }, at);
        return;
      }
      default:
        // ExecutionStarted / Succeeded / Failed / Aborted are recorded by the engine, which
        // knows the ARN and the final status; StateCaught is implied by the next state.
        return;
    }
  }

  /** Records everything still queued (end of the execution). */
  flush(): void {
    for (const name of [...this.queued.keys()]) this.release(name, true);
  }

  private started(stateName: string): void {
    this.startedSeen.set(stateName, (this.startedSeen.get(stateName) ?? 0) + 1);
    this.release(stateName, false);
  }

  private release(stateName: string, all: boolean): void {
    const queue = this.queued.get(stateName);
    if (!queue) return;
    const seen = this.startedSeen.get(stateName) ?? 0;
    while (queue.length > 0 && (all || (queue[0] as Queued).attempt <= seen)) {
      const item = queue.shift() as Queued;
      this.record(item.body, item.at);
    }
    if (queue.length === 0) this.queued.delete(stateName);
  }
}
