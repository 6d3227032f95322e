/**
 * The local stand-in for the HTTP API in front of the pages Lambda: each request becomes
 * an API Gateway HTTP API event (payload format 2.0) and the handler's result becomes
 * the response, so `functions/pages.ts` runs unchanged here and on AWS. Routes that act
 * for a person pass the same session authorizer first (`functions/authorize.ts`), with
 * API Gateway's answers: 401 without a Cookie header, 403 when it says no.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayRequestAuthorizerEventV2, Context } from 'aws-lambda';
import { z } from 'zod';
import { httpErrorPage } from '#requests/pages/flow';
import { SECURITY_HEADERS } from '#web/layout';
import { PAGE_ROUTES, type PageRoute } from '#web/routes';
import { isLoopbackHost } from './local-auth.ts';

export type PagesHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<unknown>;
/** A Lambda REQUEST authorizer with simple responses, as the CDK stack puts in front of the person routes. */
export type PagesAuthorizer = (event: APIGatewayRequestAuthorizerEventV2, context: Context) => Promise<unknown>;

/** The stack's authorizer, loaded on first use (after the runtime has set the handlers' environment). */
let sessionAuthorizer: Promise<PagesAuthorizer> | undefined;
const theSessionAuthorizer: PagesAuthorizer = async (event, context) => {
  sessionAuthorizer ??= import('../../functions/authorize.ts').then((m) => m.handler);
  return (await sessionAuthorizer)(event, context);
};

/** The routes the CDK stack gives the HTTP API (functions/web/routes.ts); anything else never reaches the Lambda there either. */
const ROUTES: readonly PageRoute[] = PAGE_ROUTES;

/** Forms are small; this keeps a stray upload from filling memory. */
const MAX_BODY_BYTES = 1024 * 1024;

/** API Gateway passes these bodies as text; everything else arrives base64-encoded. */
const TEXT_TYPES = /^(text\/|application\/(json|x-www-form-urlencoded|xml|javascript)|[^;]*\+(json|xml))/i;

export interface MatchedRoute {
  routeKey: string;
  pathParameters?: Record<string, string>;
  /** The route acts for a signed-in person: the authorizer runs first. */
  person: boolean;
  /** The function that answers it. */
  fn: PageRoute['fn'];
}

export function matchRoute(method: string, path: string): MatchedRoute | undefined {
  const segments = path.split('/');
  for (const route of ROUTES) {
    if (route.method !== method) continue;
    const pattern = route.path.split('/');
    if (pattern.length !== segments.length) continue;
    const params: Record<string, string> = {};
    const matches = pattern.every((part, i) => {
      const actual = segments[i] ?? '';
      const param = /^\{(\w+)\}$/.exec(part)?.[1];
      if (!param) return part === actual;
      if (!actual) return false;
      params[param] = safeDecode(actual);
      return true;
    });
    if (matches) {
      const routeKey = `${route.method} ${route.path}`;
      const { person, fn } = route;
      return Object.keys(params).length > 0 ? { routeKey, pathParameters: params, person, fn } : { routeKey, person, fn };
    }
  }
  return undefined;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** A Lambda context as the runtime gives one to a function invocation. */
export function lambdaContext(functionName: string, timeoutMs = 30_000, awsRequestId: string = randomUUID()): Context {
  const deadline = Date.now() + timeoutMs;
  const unsupported = () => {
    throw new Error('callback-style Lambda completion is not supported');
  };
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:ap-southeast-3:000000000000:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'embedded',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}

function headersOf(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  // API Gateway joins repeated headers with commas, and lower-cases every name.
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  return headers;
}

export function toEvent(
  req: IncomingMessage,
  body: Buffer,
  route: { routeKey: string; pathParameters?: Record<string, string> },
): APIGatewayProxyEventV2 {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const headers = headersOf(req);
  const method = req.method ?? 'GET';
  const isText = body.length === 0 || TEXT_TYPES.test(headers['content-type'] ?? 'text/plain');
  const now = new Date();
  const queryStringParameters: Record<string, string> = {};
  for (const [k, v] of url.searchParams)
    queryStringParameters[k] = k in queryStringParameters ? `${queryStringParameters[k]},${v}` : v;
  const cookies = headers.cookie?.split(/;\s*/).filter(Boolean);
  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey: route.routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ''),
    headers,
    requestContext: {
      accountId: '000000000000',
      apiId: 'embedded',
      domainName: headers.host ?? '127.0.0.1',
      domainPrefix: (headers.host ?? '127').split('.')[0] ?? '',
      http: {
        method,
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''),
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: route.routeKey,
      stage: '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
    isBase64Encoded: !isText,
  };
  if (cookies?.length) event.cookies = cookies;
  if (Object.keys(queryStringParameters).length > 0) event.queryStringParameters = queryStringParameters;
  if (route.pathParameters) event.pathParameters = route.pathParameters;
  if (body.length > 0) event.body = isText ? body.toString('utf8') : body.toString('base64');
  return event;
}

/**
 * What API Gateway passes a payload 2.0 REQUEST authorizer: the request as the
 * integration would get it, plus the route's ARN and the identity source's values.
 */
export function toAuthorizerEvent(event: APIGatewayProxyEventV2, cookieHeader: string): APIGatewayRequestAuthorizerEventV2 {
  const { body: _body, isBase64Encoded: _encoded, version: _version, ...request } = event;
  const [method, path] = event.routeKey.split(' ');
  return {
    ...request,
    version: '2.0',
    type: 'REQUEST',
    routeArn: `arn:aws:execute-api:ap-southeast-3:000000000000:embedded/$default/${method}${path}`,
    identitySource: [cookieHeader],
    cookies: event.cookies ?? [],
  };
}

/** A simple response; anything else is the authorizer failing, which API Gateway answers with a 500. */
const SimpleAuthorizerResult = z.object({ isAuthorized: z.boolean() });

const StructuredResult = z.object({
  statusCode: z.number().int().min(100).max(599),
  headers: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  cookies: z.array(z.string()).optional(),
  body: z.string().optional(),
  isBase64Encoded: z.boolean().optional(),
});

interface HttpResult {
  statusCode: number;
  headers: Record<string, string>;
  cookies: string[];
  body: Buffer;
}

/**
 * HTTP API's rules for payload 2.0: a result with a statusCode is the response; any
 * other value is a 200 JSON body (a string is passed through as is).
 */
export function fromResult(result: unknown): HttpResult {
  const structured = StructuredResult.safeParse(result);
  if (structured.success) {
    const r = structured.data;
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(r.headers ?? {})) headers[k.toLowerCase()] = String(v);
    const body = r.body === undefined ? Buffer.alloc(0) : Buffer.from(r.body, r.isBase64Encoded ? 'base64' : 'utf8');
    return { statusCode: r.statusCode, headers, cookies: r.cookies ?? [], body };
  }
  const body = typeof result === 'string' ? result : JSON.stringify(result ?? null);
  return { statusCode: 200, headers: { 'content-type': 'application/json' }, cookies: [], body: Buffer.from(body, 'utf8') };
}

class BodyTooLarge extends Error {}

/**
 * What is read past the limit before the connection is cut: enough that an ordinary
 * oversized form gets its 413 (a socket closed while the client still writes is a reset,
 * not an answer), bounded so an endless body cannot keep the server reading.
 */
const DRAIN_BYTES = 16 * MAX_BODY_BYTES;

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES + DRAIN_BYTES) {
        req.destroy();
        return;
      }
      if (size > MAX_BODY_BYTES) {
        // Over the limit: keep nothing, keep reading to the end, then refuse.
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => (size > MAX_BODY_BYTES ? reject(new BodyTooLarge()) : resolve(Buffer.concat(chunks))));
    req.on('error', reject);
  });
}

/**
 * A page that rebinds its own name to 127.0.0.1 (DNS rebinding) would read these pages as
 * its own origin and could post decisions with a link it got; its Host gives it away.
 */
function foreignHost(): HttpResult {
  const page = httpErrorPage(403);
  return {
    statusCode: page.status,
    headers: { 'content-type': 'text/html; charset=utf-8', connection: 'close', ...SECURITY_HEADERS },
    cookies: [],
    body: Buffer.from(page.html, 'utf8'),
  };
}

/** API Gateway's refusal of a body over its limit, as the bilingual page the visitor can read; nothing of the body is echoed. */
function tooLarge(): HttpResult {
  const page = httpErrorPage(413);
  return {
    statusCode: page.status,
    headers: { 'content-type': 'text/html; charset=utf-8', connection: 'close', ...SECURITY_HEADERS },
    cookies: [],
    body: Buffer.from(page.html, 'utf8'),
  };
}

function send(res: ServerResponse, r: HttpResult): void {
  res.statusCode = r.statusCode;
  for (const [k, v] of Object.entries(r.headers)) res.setHeader(k, v);
  if (r.cookies.length > 0) res.setHeader('set-cookie', r.cookies);
  res.setHeader('content-length', r.body.length);
  res.end(r.body);
}

function plain(statusCode: number, message: string): HttpResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json' },
    cookies: [],
    body: Buffer.from(JSON.stringify({ message })),
  };
}

export interface PagesServer {
  url: string;
  port: number;
  /** Requests being answered now; the runtime is not idle while a decision is being posted. */
  inFlight(): number;
  close(): Promise<void>;
}

export async function startPagesServer(opts: {
  /** The Pages function's handler, for the routes of `fn: 'Pages'`. */
  handler: PagesHandler;
  /** The Console function's, for the routes of `fn: 'Console'` (absent: those routes answer 404). */
  console?: PagesHandler;
  /** Default: functions/authorize.ts, the stack's own. */
  authorizer?: PagesAuthorizer;
  port?: number;
  /** Where a handler crash is reported; the visitor only sees a 500, as on API Gateway. */
  onError?: (error: unknown) => void;
}): Promise<PagesServer> {
  const onError = opts.onError ?? ((e: unknown) => process.stderr.write(`pages: ${(e as Error)?.stack ?? String(e)}\n`));
  const authorizer = opts.authorizer ?? theSessionAuthorizer;
  /** API Gateway's gate on a person route: undefined lets the request through, otherwise its refusal. */
  const refusal = async (event: APIGatewayProxyEventV2): Promise<HttpResult | undefined> => {
    // The identity source, $request.header.Cookie: missing or empty, the authorizer is not even called.
    const cookieHeader = event.headers.cookie;
    if (!cookieHeader) return plain(401, 'Unauthorized');
    let answer: unknown;
    try {
      answer = await authorizer(toAuthorizerEvent(event, cookieHeader), lambdaContext('prokus-authorize', 10_000));
    } catch (e) {
      onError(e);
      return plain(500, 'Internal Server Error');
    }
    const parsed = SimpleAuthorizerResult.safeParse(answer);
    if (!parsed.success) {
      onError(new Error(`authorizer: not a simple response: ${JSON.stringify(answer)}`));
      return plain(500, 'Internal Server Error');
    }
    return parsed.data.isAuthorized ? undefined : plain(403, 'Forbidden');
  };
  let inFlight = 0;
  const server = createServer((req, res) => {
    inFlight += 1;
    res.once('close', () => {
      inFlight -= 1;
    });
    void (async () => {
      if (!isLoopbackHost(req.headers.host, req.socket.localPort ?? -1)) {
        req.resume();
        return send(res, foreignHost());
      }
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      const route = matchRoute(req.method ?? 'GET', path);
      if (!route) {
        req.resume();
        return send(res, plain(404, 'Not Found'));
      }
      let body: Buffer;
      try {
        body = await readBody(req);
      } catch (e) {
        return send(res, e instanceof BodyTooLarge ? tooLarge() : plain(400, 'Bad Request'));
      }
      const event = toEvent(req, body, route);
      if (route.person) {
        const refused = await refusal(event);
        if (refused) return send(res, refused);
      }
      const handler = route.fn === 'Console' ? opts.console : opts.handler;
      if (!handler) return send(res, plain(404, 'Not Found'));
      try {
        const result = await handler(event, lambdaContext(route.fn === 'Console' ? 'prokus-console' : 'prokus-pages'));
        send(res, fromResult(result));
      } catch (e) {
        onError(e);
        send(res, plain(500, 'Internal Server Error'));
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    inFlight: () => inFlight,
    close: () =>
      new Promise<void>((resolve, reject) => {
        if (!server.listening) return resolve();
        const timer = setTimeout(() => server.closeAllConnections(), 2_000);
        server.close((err) => {
          clearTimeout(timer);
          if (err) reject(err);
          else resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
