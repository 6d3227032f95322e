/**
 * Step Functions, AWS JSON 1.0 (`X-Amz-Target: AWSStepFunctions.<Op>`), on the Engine: schemas,
 * calls, answers in the service's wire shape. Its own file, one per service the endpoint speaks.
 */
import aslValidator from 'asl-validator';
import { z } from 'zod';
import { type Engine, type ExecutionRecord, type HistoryEvent, redriveStatus } from '../stepfunctions/engine.ts';
import { ApiError, validate } from './api-error.ts';

/** Errors the Step Functions API defines; anything else from the engine is a server fault. */
const SFN_ERRORS = new Set([
  'ExecutionAlreadyExists',
  'ExecutionDoesNotExist',
  'ExecutionLimitExceeded',
  'ExecutionNotRedrivable',
  'InvalidArn',
  'InvalidDefinition',
  'InvalidExecutionInput',
  'InvalidName',
  'InvalidOutput',
  'InvalidToken',
  'ResourceNotFound',
  'StateMachineDoesNotExist',
  'TaskDoesNotExist',
  'TaskTimedOut',
  'ValidationException',
]);

const arn = (kind: 'stateMachine' | 'execution') =>
  z.string().refine((s) => new RegExp(`^arn:aws[\\w-]*:states:[\\w-]+:\\d{12}:${kind}:`).test(s), {
    message: `not a Step Functions ${kind} ARN`,
    params: { invalidArn: true },
  });
const token = z.string().min(1).max(2048);
const maxResults = z.number().int().min(0).max(1000).optional();
const nextToken = z.string().min(1).max(1024).optional();

const sfnRequests = {
  StartExecution: z.object({
    stateMachineArn: arn('stateMachine'),
    name: z.string().optional(),
    input: z.string().max(262_144).optional(),
    traceHeader: z.string().optional(),
  }),
  DescribeExecution: z.object({ executionArn: arn('execution') }),
  ListExecutions: z.object({
    stateMachineArn: arn('stateMachine'),
    statusFilter: z.enum(['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE']).optional(),
    redriveFilter: z.enum(['REDRIVEN', 'NOT_REDRIVEN']).optional(),
    maxResults,
    nextToken,
  }),
  GetExecutionHistory: z.object({
    executionArn: arn('execution'),
    maxResults,
    nextToken,
    reverseOrder: z.boolean().optional(),
    includeExecutionData: z.boolean().optional(),
  }),
  StopExecution: z.object({
    executionArn: arn('execution'),
    error: z.string().max(256).optional(),
    cause: z.string().max(32_768).optional(),
  }),
  RedriveExecution: z.object({
    executionArn: arn('execution'),
    // The SDKs and the CLI always send one (an idempotency token they generate if not given).
    clientToken: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[!-~]+$/)
      .optional(),
  }),
  SendTaskSuccess: z.object({ taskToken: token, output: z.string().max(262_144) }),
  SendTaskFailure: z.object({
    taskToken: token,
    error: z.string().max(256).optional(),
    cause: z.string().max(32_768).optional(),
  }),
  SendTaskHeartbeat: z.object({ taskToken: token }),
  ListStateMachines: z.object({ maxResults, nextToken }),
  DescribeStateMachine: z.object({ stateMachineArn: arn('stateMachine') }),
  DescribeStateMachineForExecution: z.object({ executionArn: arn('execution') }),
  ListTagsForResource: z.object({ resourceArn: z.string().min(1).max(256) }),
  ValidateStateMachineDefinition: z.object({
    definition: z.string().min(1).max(1_048_576),
    type: z.enum(['STANDARD', 'EXPRESS']).optional(),
    severity: z.enum(['ERROR', 'WARNING']).optional(),
    maxResults: z.number().int().min(0).max(100).optional(),
  }),
  ListMapRuns: z.object({ executionArn: arn('execution'), maxResults, nextToken }),
  DescribeMapRun: z.object({ mapRunArn: z.string().min(1).max(2000) }),
};
export type SfnOperation = keyof typeof sfnRequests;

export function isSfnOperation(operation: string): operation is SfnOperation {
  return operation in sfnRequests;
}

export async function stepFunctions(engine: Engine, operation: SfnOperation, body: unknown): Promise<unknown> {
  const parsed = validate(sfnRequests[operation], body);
  try {
    return await sfnOperation(engine, operation, parsed as never);
  } catch (e) {
    if (e instanceof ApiError) throw e;
    const error = e as Error;
    if (SFN_ERRORS.has(error.name)) throw new ApiError(error.name, error.message);
    throw new ApiError('InternalFailure', error.message, 500);
  }
}

type Req<O extends SfnOperation> = z.infer<(typeof sfnRequests)[O]>;

function sfnOperation<O extends SfnOperation>(engine: Engine, operation: O, r: Req<O>): unknown | Promise<unknown> {
  switch (operation) {
    case 'StartExecution':
      return startExecution(engine, r as Req<'StartExecution'>);
    case 'DescribeExecution': {
      const rec = engine.describeExecution((r as Req<'DescribeExecution'>).executionArn);
      return describeExecution(rec);
    }
    case 'ListExecutions': {
      const q = r as Req<'ListExecutions'>;
      const page = engine.listExecutions({
        stateMachineArn: q.stateMachineArn,
        statusFilter: q.statusFilter,
        redriveFilter: q.redriveFilter,
        maxResults: q.maxResults,
        nextToken: q.nextToken,
      });
      return {
        executions: page.executions.map((e) => ({
          executionArn: e.executionArn,
          stateMachineArn: e.stateMachineArn,
          name: e.name,
          status: e.status,
          startDate: seconds(e.startDate),
          stopDate: e.stopDate ? seconds(e.stopDate) : undefined,
          redriveCount: e.redriveCount ?? 0,
          redriveDate: e.redriveDate ? seconds(e.redriveDate) : undefined,
        })),
        nextToken: page.nextToken,
      };
    }
    case 'GetExecutionHistory': {
      const q = r as Req<'GetExecutionHistory'>;
      const page = engine.getExecutionHistory({
        executionArn: q.executionArn,
        maxResults: q.maxResults,
        nextToken: q.nextToken,
        reverseOrder: q.reverseOrder,
      });
      return { events: page.events.map((e) => wireEvent(e, q.includeExecutionData ?? true)), nextToken: page.nextToken };
    }
    case 'StopExecution': {
      const q = r as Req<'StopExecution'>;
      return { stopDate: seconds(engine.stopExecution(q).stopDate) };
    }
    case 'RedriveExecution': {
      const q = r as Req<'RedriveExecution'>;
      return { redriveDate: seconds(engine.redriveExecution(q).redriveDate) };
    }
    case 'SendTaskSuccess':
      engine.sendTaskSuccess(r as Req<'SendTaskSuccess'>);
      return {};
    case 'SendTaskFailure':
      engine.sendTaskFailure(r as Req<'SendTaskFailure'>);
      return {};
    case 'SendTaskHeartbeat':
      engine.sendTaskHeartbeat(r as Req<'SendTaskHeartbeat'>);
      return {};
    case 'ListStateMachines':
      return {
        stateMachines: engine.listStateMachines().map((m) => ({
          stateMachineArn: m.stateMachineArn,
          name: m.name,
          type: 'STANDARD',
          creationDate: seconds(engine.describeStateMachine(m.stateMachineArn).creationDate),
        })),
      };
    case 'DescribeStateMachine':
      return describeStateMachine(engine, (r as Req<'DescribeStateMachine'>).stateMachineArn);
    case 'DescribeStateMachineForExecution': {
      // The machine an execution ran (the console's graph of an execution starts here).
      const rec = engine.describeExecution((r as Req<'DescribeStateMachineForExecution'>).executionArn);
      const { creationDate, ...m } = describeStateMachine(engine, rec.stateMachineArn);
      return { ...m, updateDate: creationDate };
    }
    case 'ListTagsForResource': {
      // Nothing here is tagged; a resource that does not exist is refused as AWS refuses it.
      const { resourceArn } = r as Req<'ListTagsForResource'>;
      if (!engine.listStateMachines().some((m) => m.stateMachineArn === resourceArn)) {
        throw new ApiError('ResourceNotFound', `Resource not found: '${resourceArn}'`);
      }
      return { tags: [] };
    }
    case 'ValidateStateMachineDefinition':
      return validateDefinition(r as Req<'ValidateStateMachineDefinition'>);
    case 'ListMapRuns':
      // The embedded engine runs a Distributed Map inline (stepfunctions/asl-rewrite.ts): its
      // executions have no Map Runs, which is what AWS answers for an execution without one.
      engine.describeExecution((r as Req<'ListMapRuns'>).executionArn);
      return { mapRuns: [] };
    case 'DescribeMapRun':
      throw new ApiError(
        'ResourceNotFound',
        `Map Run not found: '${(r as Req<'DescribeMapRun'>).mapRunArn}' (the embedded engine runs Distributed Maps inline, without Map Runs)`,
      );
  }
  throw new ApiError('UnknownOperationException', `Unsupported operation ${operation}`);
}

function describeStateMachine(engine: Engine, stateMachineArn: string) {
  const m = engine.describeStateMachine(stateMachineArn);
  return {
    stateMachineArn: m.stateMachineArn,
    name: m.name,
    status: 'ACTIVE',
    definition: m.definition,
    roleArn: `arn:aws:iam::${engine.accountId}:role/prokus-embedded`,
    type: 'STANDARD',
    creationDate: seconds(m.creationDate),
  };
}

const ValidatorResult = z.object({
  isValid: z.boolean(),
  errors: z.array(z.object({ 'Error code': z.string(), Message: z.string() }).partial()),
});

/**
 * ValidateStateMachineDefinition with `asl-validator` (the checker aws-local-stepfunctions
 * itself uses): the Amazon States Language schema, transitions, terminal states. AWS's own
 * validator knows more (resource ARNs, JSONata); a definition it would refuse may pass here.
 */
function validateDefinition(r: Req<'ValidateStateMachineDefinition'>): unknown {
  let definition: unknown;
  try {
    definition = JSON.parse(r.definition);
  } catch (e) {
    return {
      result: 'FAIL',
      diagnostics: [{ severity: 'ERROR', code: 'INVALID_JSON_DESCRIPTION', message: (e as Error).message }],
      truncated: false,
    };
  }
  const checked = ValidatorResult.parse(aslValidator(definition));
  const diagnostics = checked.errors.slice(0, r.maxResults || 100).map((e) => ({
    severity: 'ERROR',
    code: e['Error code'] ?? 'SCHEMA_VALIDATION_FAILED',
    message: e.Message ?? '',
  }));
  return {
    result: checked.isValid ? 'OK' : 'FAIL',
    diagnostics,
    truncated: checked.errors.length > diagnostics.length,
  };
}

function startExecution(engine: Engine, r: Req<'StartExecution'>): Promise<unknown> {
  return engine
    .startExecution({ stateMachineArn: r.stateMachineArn, name: r.name, input: r.input })
    .then((s) => ({ executionArn: s.executionArn, startDate: seconds(s.startDate) }));
}

function describeExecution(rec: ExecutionRecord): unknown {
  return {
    executionArn: rec.executionArn,
    stateMachineArn: rec.stateMachineArn,
    name: rec.name,
    status: rec.status,
    startDate: seconds(rec.startDate),
    stopDate: rec.stopDate ? seconds(rec.stopDate) : undefined,
    input: rec.input,
    inputDetails: { included: true },
    output: rec.output,
    outputDetails: rec.output === undefined ? undefined : { included: true },
    error: rec.error,
    cause: rec.cause,
    redriveCount: rec.redriveCount ?? 0,
    redriveDate: rec.redriveDate ? seconds(rec.redriveDate) : undefined,
    ...redriveStatus(rec, new Date()),
  };
}

/** A HistoryEvent on the wire: epoch-second timestamp; inputs/outputs left out unless asked for. */
function wireEvent(event: HistoryEvent, includeData: boolean): unknown {
  const wire: Record<string, unknown> = { ...event, timestamp: seconds(event.timestamp ?? new Date(0)) };
  if (includeData) return wire;
  for (const [key, details] of Object.entries(wire)) {
    if (!key.endsWith('EventDetails') || typeof details !== 'object' || details === null) continue;
    const { input: _input, output: _output, parameters: _parameters, ...rest } = details as Record<string, unknown>;
    wire[key] = rest;
  }
  return wire;
}

function seconds(date: Date): number {
  return date.getTime() / 1000;
}
