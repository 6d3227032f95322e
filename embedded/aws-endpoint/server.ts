/**
 * One local HTTP endpoint that speaks just enough of three AWS APIs for the handlers'
 * own SDK clients (pointed here with AWS_ENDPOINT_URL_SFN / _SECRETS_MANAGER / _SESV2)
 * and for the AWS CLI (`--endpoint-url`). This file is the server: it routes each request
 * by its `X-Amz-Target` or path to the service's file and writes the answer or the error:
 *
 * - sfn.ts: Step Functions, AWS JSON 1.0 (`X-Amz-Target: AWSStepFunctions.<Op>`), on the Engine;
 * - secrets-manager.ts: Secrets Manager, AWS JSON 1.1 (`X-Amz-Target: secretsmanager.GetSecretValue`);
 * - sesv2.ts: SES v2, REST JSON (`POST /v2/email/outbound-emails`): raw MIME messages land
 *   in the outbox folder as `.eml` files.
 *
 * Nothing is done for a request whose Host is not this loopback port or that is not signed
 * (SigV4, recomputed) with the data folder's key pairs (embedded/local/local-auth.ts); the
 * program secret goes to the runtime's own key pair only. Bodies are parsed with zod; a malformed request gets ValidationException, like the
 * service. Dates are epoch seconds, as the service sends them.
 */
import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type AuthFailureCode,
  checkAuthorization,
  checkHost,
  type Keyring,
  LocalAuthError,
  type Principal,
  verifySignature,
} from '../local/local-auth.ts';
import type { Engine } from '../stepfunctions/engine.ts';
import { ApiError } from './api-error.ts';
import { getSecretValue } from './secrets-manager.ts';
import { type SesFault, sendEmail } from './sesv2.ts';
import { isSfnOperation, stepFunctions } from './sfn.ts';

export interface AwsEndpointOptions {
  engine: Engine;
  outboxDir: string;
  /** Secret id → SecretString; served to the `runtime` key pair only. */
  secrets: Record<string, string>;
  /** Who may call: every request is signed with one of these. */
  keyring: Keyring;
  /** 0 or omitted = a free port. */
  port?: number;
  /** Tests only: SES refuses the messages this picks (sesv2.ts). */
  sesFault?: SesFault;
}

export interface AwsEndpoint {
  url: string;
  close(): Promise<void>;
}

/** The largest request body accepted (SES allows 40 MB messages). */
const MAX_BODY = 40 * 1024 * 1024;

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

/** The error each service answers a refused request with, as AWS names it. */
const AUTH_ERRORS: Record<AuthFailureCode, string> = {
  InvalidHost: 'AccessDeniedException',
  MissingAuthenticationToken: 'MissingAuthenticationTokenException',
  IncompleteSignature: 'IncompleteSignatureException',
  UnrecognizedClient: 'UnrecognizedClientException',
  InvalidSignature: 'InvalidSignatureException',
  SignatureExpired: 'InvalidSignatureException',
};

async function authenticate(opts: AwsEndpointOptions, req: IncomingMessage, body: Buffer): Promise<Principal> {
  try {
    return await verifySignature(req, { keyring: opts.keyring, body });
  } catch (e) {
    if (e instanceof LocalAuthError) throw new ApiError(AUTH_ERRORS[e.code], e.message, 403);
    throw e;
  }
}

async function handle(opts: AwsEndpointOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  // The Host and the signature's key first: a page that rebound its name to 127.0.0.1, or
  // an unsigned request, gets nothing read or done.
  try {
    checkHost(req);
    checkAuthorization(req, opts.keyring);
  } catch (e) {
    if (e instanceof LocalAuthError) throw new ApiError(AUTH_ERRORS[e.code], e.message, 403);
    throw e;
  }
  const target = String(req.headers['x-amz-target'] ?? '');
  const raw = await readBody(req);
  const principal = await authenticate(opts, req, raw);
  const body = raw.toString('utf8');
  if (target.startsWith('AWSStepFunctions.')) {
    const operation = target.slice('AWSStepFunctions.'.length);
    if (!isSfnOperation(operation)) throw new ApiError('UnknownOperationException', `Unsupported operation ${operation}`);
    const result = await stepFunctions(opts.engine, operation, parseJson(body));
    return sendJson(res, 'json1.0', result);
  }
  if (target === 'secretsmanager.GetSecretValue') {
    if (principal !== 'runtime') {
      throw new ApiError(
        'AccessDeniedException',
        'Rahasia program hanya untuk handler runtime sendiri / The program secret is for the runtime’s own handlers only',
      );
    }
    return sendJson(res, 'json1.1', getSecretValue(opts, parseJson(body)));
  }
  if (target) throw new ApiError('UnknownOperationException', `Unsupported operation ${target}`);
  const path = (req.url ?? '/').split('?')[0];
  if (req.method === 'POST' && path === '/v2/email/outbound-emails') {
    return sendJson(res, 'rest', await sendEmail(opts.outboxDir, parseJson(body), opts.sesFault));
  }
  throw new ApiError('NotFoundException', `No API at ${req.method} ${path}`, 404);
}

// --- wire helpers ----------------------------------------------------------------------

function readBody(req: IncomingMessage): Promise<Buffer> {
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
    req.on('end', () => resolve(Buffer.concat(chunks)));
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
    // A refused caller's body may still be arriving; it is not read, the connection goes.
    ...(error.status === 403 ? { connection: 'close' } : {}),
  });
  res.end(text);
}

function contentType(protocol: Protocol): string {
  if (protocol === 'json1.0') return 'application/x-amz-json-1.0';
  if (protocol === 'json1.1') return 'application/x-amz-json-1.1';
  return 'application/json';
}
