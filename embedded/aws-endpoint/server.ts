/**
 * One local HTTP endpoint that speaks just enough of three AWS APIs for the handlers'
 * own SDK clients (pointed here with AWS_ENDPOINT_URL_SFN / _SECRETS_MANAGER / _SESV2)
 * and for the AWS CLI (`--endpoint-url`):
 *
 * - Step Functions, AWS JSON 1.0 (`X-Amz-Target: AWSStepFunctions.<Op>`), on the Engine;
 * - Secrets Manager, AWS JSON 1.1 (`X-Amz-Target: secretsmanager.GetSecretValue`);
 * - SES v2, REST JSON (`POST /v2/email/outbound-emails`): raw MIME messages land in the
 *   outbox folder as `.eml` files.
 *
 * Signatures are not checked (any credentials work: this listens on 127.0.0.1 only).
 * Bodies are parsed with zod; a malformed request gets ValidationException, like the
 * service. Dates are epoch seconds, as the service sends them.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { z } from 'zod';
import type { Engine, ExecutionRecord, HistoryEvent } from '../stepfunctions/engine.ts';

export interface AwsEndpointOptions {
  engine: Engine;
  outboxDir: string;
  /** Secret id → SecretString. */
  secrets: Record<string, string>;
  /** 0 or omitted = a free port. */
  port?: number;
}

export interface AwsEndpoint {
  url: string;
  close(): Promise<void>;
}

/** The largest request body accepted (SES allows 40 MB messages). */
const MAX_BODY = 40 * 1024 * 1024;

/** Errors the Step Functions API defines; anything else from the engine is a server fault. */
const SFN_ERRORS = new Set([
  'ExecutionAlreadyExists',
  'ExecutionDoesNotExist',
  'ExecutionLimitExceeded',
  'InvalidArn',
  'InvalidDefinition',
  'InvalidExecutionInput',
  'InvalidName',
  'InvalidOutput',
  'InvalidToken',
  'StateMachineDoesNotExist',
  'TaskDoesNotExist',
  'TaskTimedOut',
  'ValidationException',
]);

class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

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
  SendTaskSuccess: z.object({ taskToken: token, output: z.string().max(262_144) }),
  SendTaskFailure: z.object({
    taskToken: token,
    error: z.string().max(256).optional(),
    cause: z.string().max(32_768).optional(),
  }),
  SendTaskHeartbeat: z.object({ taskToken: token }),
  ListStateMachines: z.object({ maxResults, nextToken }),
  DescribeStateMachine: z.object({ stateMachineArn: arn('stateMachine') }),
};
type SfnOperation = keyof typeof sfnRequests;

const GetSecretValue = z.object({
  SecretId: z.string().min(1).max(2048),
  VersionId: z.string().optional(),
  VersionStage: z.string().optional(),
});

const SendEmail = z.object({
  FromEmailAddress: z.string().optional(),
  Destination: z.unknown().optional(),
  Content: z.object({
    Raw: z.object({ Data: z.string().min(1).base64() }).optional(),
    Simple: z.unknown().optional(),
    Template: z.unknown().optional(),
  }),
});

export async function startAwsEndpoint(opts: AwsEndpointOptions): Promise<AwsEndpoint> {
  await mkdir(opts.outboxDir, { recursive: true });
  const server = createServer((req, res) => {
    handle(opts, req, res).catch((e: unknown) => {
      const error = e instanceof ApiError ? e : new ApiError('InternalFailure', (e as Error).message ?? 'internal error', 500);
      if (!res.headersSent) sendError(res, protocolOf(req), error);
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

type Protocol = 'json1.0' | 'json1.1' | 'rest';

function protocolOf(req: IncomingMessage): Protocol {
  const target = String(req.headers['x-amz-target'] ?? '');
  if (target.startsWith('AWSStepFunctions.')) return 'json1.0';
  if (target.startsWith('secretsmanager.')) return 'json1.1';
  return 'rest';
}

async function handle(opts: AwsEndpointOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const target = String(req.headers['x-amz-target'] ?? '');
  const body = await readBody(req);
  if (target.startsWith('AWSStepFunctions.')) {
    const operation = target.slice('AWSStepFunctions.'.length);
    if (!(operation in sfnRequests)) throw new ApiError('UnknownOperationException', `Unsupported operation ${operation}`);
    const result = await stepFunctions(opts.engine, operation as SfnOperation, parseJson(body));
    return sendJson(res, 'json1.0', result);
  }
  if (target === 'secretsmanager.GetSecretValue') {
    return sendJson(res, 'json1.1', getSecretValue(opts, parseJson(body)));
  }
  if (target) throw new ApiError('UnknownOperationException', `Unsupported operation ${target}`);
  const path = (req.url ?? '/').split('?')[0];
  if (req.method === 'POST' && path === '/v2/email/outbound-emails') {
    return sendJson(res, 'rest', await sendEmail(opts.outboxDir, parseJson(body)));
  }
  throw new ApiError('NotFoundException', `No API at ${req.method} ${path}`, 404);
}

// --- Step Functions ----------------------------------------------------------------

async function stepFunctions(engine: Engine, operation: SfnOperation, body: unknown): Promise<unknown> {
  const parsed = validate(sfnRequests[operation], body);
  try {
    return await sfnOperation(engine, operation, parsed as never);
  } catch (e) {
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
    case 'DescribeStateMachine': {
      const m = engine.describeStateMachine((r as Req<'DescribeStateMachine'>).stateMachineArn);
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
  }
  throw new ApiError('UnknownOperationException', `Unsupported operation ${operation}`);
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

// --- Secrets Manager -----------------------------------------------------------------

function getSecretValue(opts: AwsEndpointOptions, body: unknown): unknown {
  const { SecretId } = validate(GetSecretValue, body);
  const name = /^arn:aws[\w-]*:secretsmanager:[\w-]+:\d{12}:secret:(.+)-[A-Za-z0-9]{6}$/.exec(SecretId)?.[1] ?? SecretId;
  const value = opts.secrets[name];
  if (value === undefined) {
    throw new ApiError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
  }
  const { region, accountId } = opts.engine;
  return {
    ARN: `arn:aws:secretsmanager:${region}:${accountId}:secret:${name}-local0`,
    Name: name,
    VersionId: '00000000-0000-4000-8000-000000000001',
    SecretString: value,
    VersionStages: ['AWSCURRENT'],
    CreatedDate: 0,
  };
}

// --- SES v2 ---------------------------------------------------------------------------

async function sendEmail(outboxDir: string, body: unknown): Promise<unknown> {
  const request = validate(SendEmail, body);
  const raw = request.Content.Raw;
  if (!raw) {
    throw new ApiError(
      'BadRequestException',
      'The embedded outbox accepts raw MIME messages only (Content.Raw); build the message and send it raw.',
    );
  }
  const messageId = `0100${Date.now().toString(16)}-${randomUUID()}-000000`;
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const file = join(outboxDir, `${stamp}-${messageId}.eml`);
  // Written aside and renamed, so whoever watches the outbox never reads half a message.
  await writeFile(`${file}.part`, Buffer.from(raw.Data, 'base64'));
  await rename(`${file}.part`, file);
  return { MessageId: messageId };
}

// --- wire helpers ----------------------------------------------------------------------

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new ApiError('ValidationException', `Request body over ${MAX_BODY} bytes`, 413));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseJson(body: string): unknown {
  if (body.trim() === '') return {};
  try {
    return JSON.parse(body);
  } catch {
    throw new ApiError('ValidationException', 'The request body is not valid JSON');
  }
}

function validate<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue?.path.join('.') || 'body';
  const invalidArn = issue?.code === 'custom' && (issue.params as { invalidArn?: boolean } | undefined)?.invalidArn;
  throw new ApiError(invalidArn ? 'InvalidArn' : 'ValidationException', `${where}: ${issue?.message ?? 'invalid request'}`);
}

function seconds(date: Date): number {
  return date.getTime() / 1000;
}

function sendJson(res: ServerResponse, protocol: Protocol, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(200, {
    'content-type': contentType(protocol),
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
  });
  res.end(text);
}

function sendError(res: ServerResponse, protocol: Protocol, error: ApiError): void {
  const text = JSON.stringify({ __type: error.code, message: error.message });
  res.writeHead(error.status, {
    'content-type': contentType(protocol),
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
    'x-amzn-errortype': error.code,
  });
  res.end(text);
}

function contentType(protocol: Protocol): string {
  if (protocol === 'json1.0') return 'application/x-amz-json-1.0';
  if (protocol === 'json1.1') return 'application/x-amz-json-1.1';
  return 'application/json';
}
