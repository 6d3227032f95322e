/**
 * The engine's Task states: Lambda calls within the invocation slots, task tokens, child executions,
 * Distributed Map items, and their task events. Its own file: the seam with the code it runs.
 */
import { randomUUID } from 'node:crypto';
import {
  BATCH_INPUT_KEY,
  DEFAULT_TASK_TIMEOUT_SECONDS,
  ITEMS_KEY,
  isObject,
  type Json,
  type JsonObject,
  MAX_TIMEOUT_SECONDS,
  type TaskSpec,
  TIMEOUT_KEY,
} from './asl-rewrite.ts';
import { type EventBody, historyJson, resourceParts } from './history.ts';
import { InvocationSlots } from './invocation-slots.ts';
import type { Attempt, Run } from './run.ts';
import { awsError, type TaskTokens } from './task-tokens.ts';

export type LambdaHandler = (
  event: unknown,
  context: { functionName: string; awsRequestId: string; getRemainingTimeInMillis(): number },
) => Promise<unknown>;

/** What `$$.Task.Token` resolves to; a waitForTaskToken handler swaps it for a fresh token. */
export const TASK_TOKEN_PLACEHOLDER = '$$.Task.Token';

/** The longest a Lambda function may run on AWS; bounds getRemainingTimeInMillis. */
const LAMBDA_MAX_SECONDS = 900;

/** Default for EngineOptions.maxConcurrentInvocations. */
export const DEFAULT_CONCURRENT_INVOCATIONS = 32;

/** The engine's options the tasks read (EngineOptions: readItems, maxConcurrentInvocations). */
export interface TaskOptions {
  readItems?: (bucket: string, key: string) => Promise<unknown[]>;
  maxConcurrentInvocations?: number;
}

/** What the task runner is given by the engine it runs for. */
export interface TaskContext {
  region: string;
  options: TaskOptions;
  /** The functions registered with the engine, by name or ARN. */
  lambdas: ReadonlyMap<string, LambdaHandler>;
  tokens: TaskTokens;
  /** The engine's StartExecution, for `states:startExecution` tasks; throws the service's errors. */
  startExecution(req: { stateMachineArn: string; name?: string; input?: string }): { executionArn: string; startDate: Date };
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

export class TaskRunner {
  private readonly slots: InvocationSlots;

  constructor(private readonly ctx: TaskContext) {
    this.slots = new InvocationSlots(() => ctx.options.maxConcurrentInvocations ?? DEFAULT_CONCURRENT_INVOCATIONS);
  }

  /** Ends every attempt of the run still in flight; their results reject with States.Aborted. */
  abortAttempts(run: Run, why: string): void {
    for (const attempt of [...run.attempts]) {
      this.settle(run, attempt);
      attempt.result.reject(fatal('States.Aborted', `Task aborted: ${why}`));
    }
  }

  /** The local handler of one Task state: what the library calls for each attempt. */
  run(run: Run, spec: TaskSpec, input: Json): Promise<Json> {
    const result = Promise.withResolvers<Json>();
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
        region: this.ctx.region,
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
    const work = runsFunction ? this.slots.run(run.entry.n, () => attempt.settled, start) : start();
    work.catch((e: unknown) => fail(e instanceof Error ? e : functionError(e)));
    return result.promise;
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
        const token = this.ctx.tokens.issue({
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
          const started = this.ctx.startExecution({
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
    const handler = this.ctx.lambdas.get(functionName) ?? this.ctx.lambdas.get(shortFunctionName(functionName));
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
    if (!this.ctx.options.readItems) throw failed('this engine was created without readItems');
    let items: unknown[];
    try {
      items = await this.ctx.options.readItems(String(p.Bucket), String(p.Key));
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
    if (attempt.token) this.ctx.tokens.end(attempt.token);
    run.attempts.delete(attempt);
  }

  private taskEvent(run: Run, attempt: Attempt, body: EventBody): void {
    if (run.ended) return;
    run.history.task(attempt.spec.stateName, attempt.number, body);
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
