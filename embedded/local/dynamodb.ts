/**
 * The local DynamoDB: dynalite on disk, speaking the real wire protocol, and the table as
 * the CDK stack defines it. dynalite ships no types; the interface below is the part we use.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { BY_DISTRICT_STAGE, BY_UPLOAD_STAGE, KEY_ATTRIBUTES, TABLE_KEY } from '#lib/table-schema';
import {
  type DynamoCall,
  isShadowTable,
  journalPath,
  type Reply,
  SHADOW_PREFIX,
  shadowNamed,
  type TransactionHooks,
  Transactions,
  WriteGate,
} from './dynamodb-transactions.ts';
import {
  checkAuthorization,
  checkHost,
  type Keyring,
  LocalAuthError,
  type LocalCredentials,
  readLimited,
  verifySignature,
  withoutCors,
} from './local-auth.ts';
import { closeServer, endpointOf, LOCAL_REGION, type LocalService, listen } from './ports.ts';

const require = createRequire(import.meta.url);

interface DynaliteOptions {
  path?: string;
  createTableMs?: number;
  updateTableMs?: number;
  deleteTableMs?: number;
}
type Dynalite = (options: DynaliteOptions) => Server;

/** dynalite's own limit on a request body. */
const MAX_REQUEST_BYTES = 16 * 1024 * 1024;

const AUTH_ERRORS = {
  InvalidHost: 'AccessDeniedException',
  MissingAuthenticationToken: 'MissingAuthenticationTokenException',
  IncompleteSignature: 'IncompleteSignatureException',
  UnrecognizedClient: 'UnrecognizedClientException',
  InvalidSignature: 'InvalidSignatureException',
  SignatureExpired: 'InvalidSignatureException',
} as const;

class TooLarge extends Error {}

function refuse(res: ServerResponse, status: number, type: string, message: string): void {
  const body = JSON.stringify({ __type: `com.amazon.coral.service#${type}`, message });
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.0',
    'content-length': Buffer.byteLength(body),
    connection: 'close',
  });
  res.end(body);
}

/**
 * dynalite checks only that a signature is there. In front of its handler: the Host, then
 * the signature over the whole body; then dynalite gets the body it would have read, and
 * its `Access-Control-Allow-Origin: *` is taken off every answer.
 */
function guarded(dynalite: RequestListener, keyring: Keyring, local: Local): RequestListener {
  return (req, res) => {
    void (async () => {
      try {
        checkHost(req);
        checkAuthorization(req, keyring);
        const body = await readLimited(req, MAX_REQUEST_BYTES, () => new TooLarge());
        await verifySignature(req, { keyring, body });
        withoutCors(res);
        await route(req, res, body, dynalite, local);
      } catch (e) {
        if (res.headersSent) return void res.destroy();
        if (e instanceof LocalAuthError) return refuse(res, 403, AUTH_ERRORS[e.code], e.message);
        if (e instanceof TooLarge) return refuse(res, 413, 'ValidationException', 'Request body over 16 MB');
        refuse(res, 500, 'InternalServerError', e instanceof Error ? e.message : String(e));
      }
    })();
  };
}

interface Local {
  call: DynamoCall;
  gate: WriteGate;
  transactions: Transactions;
}

/** The single-item writes that must not interleave with a transaction; GetItem too, serializable as on AWS. */
const GATED = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'GetItem']);

/** What dynalite lacks (transactions, the hidden shadow tables) is answered here; the rest is dynalite's. */
async function route(req: IncomingMessage, res: ServerResponse, body: Buffer, dynalite: RequestListener, local: Local) {
  const [api, operation = ''] = String(req.headers['x-amz-target'] ?? '').split('.');
  if (api !== 'DynamoDB_20120810') return dynalite(replay(req, body), res);
  // Most bodies never mention the prefix: only those are parsed here.
  if (body.includes(SHADOW_PREFIX) && namesShadow(jsonOf(body))) return answer(res, shadowNamed());
  switch (operation) {
    case 'TransactWriteItems':
    case 'TransactGetItems': {
      const input = jsonOf(body);
      if (input === undefined)
        return answer(res, { status: 400, body: { __type: 'com.amazon.coral.service#SerializationException' } });
      const { transactions } = local;
      const work =
        operation === 'TransactWriteItems' ? () => transactions.transactWrite(input) : () => transactions.transactGet(input);
      return answer(res, await local.gate.exclusive(work));
    }
    case 'ListTables': {
      const input = jsonOf(body);
      if (input !== undefined) return answer(res, await listTables(local.call, input));
      break;
    }
  }
  if (GATED.has(operation)) return local.gate.shared(() => passOn(dynalite, replay(req, body), res));
  dynalite(replay(req, body), res);
}

/** dynalite's answer on the client's own response; settled when it is sent (or the client went away). */
function passOn(dynalite: RequestListener, req: IncomingMessage, res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    res.once('finish', resolve);
    res.once('close', resolve);
    dynalite(req, res);
  });
}

function answer(res: ServerResponse, reply: Reply): void {
  const body = JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    'content-type': 'application/x-amz-json-1.0',
    'content-length': Buffer.byteLength(body),
    'x-amz-crc32': String(crc32(body)),
    'x-amzn-requestid': randomUUID(),
  });
  res.end(body);
}

function jsonOf(body: Buffer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(body.toString('utf8'));
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a request names a shadow table: as its table, in a batch, in a transaction or in an ARN. */
function namesShadow(input: Record<string, unknown> | undefined): boolean {
  if (!input) return false;
  const arn = input.ResourceArn;
  if (typeof arn === 'string' && isShadowTable(arn.split(':table/')[1])) return true;
  const batch = input.RequestItems;
  if (batch && typeof batch === 'object' && Object.keys(batch).some(isShadowTable)) return true;
  const actions = Array.isArray(input.TransactItems) ? (input.TransactItems as unknown[]) : [];
  const inTransaction = actions.some(
    (a) =>
      a &&
      typeof a === 'object' &&
      Object.values(a).some((x) => x && typeof x === 'object' && isShadowTable((x as { TableName?: unknown }).TableName)),
  );
  return inTransaction || isShadowTable(input.TableName);
}

/** ListTables without the shadows; a page they alone filled is followed to the next one. */
async function listTables(call: DynamoCall, input: Record<string, unknown>): Promise<Reply> {
  let request = input;
  for (;;) {
    const reply = await call('ListTables', request);
    if (reply.status !== 200) return reply;
    const all = Array.isArray(reply.body.TableNames) ? (reply.body.TableNames as unknown[]) : [];
    const names = all.filter((n) => !isShadowTable(n));
    const last = reply.body.LastEvaluatedTableName;
    if (names.length === 0 && typeof last === 'string') {
      request = { ...input, ExclusiveStartTableName: last };
      continue;
    }
    const body: Record<string, unknown> = { TableNames: names };
    // Paging on from the last name shown skips the shadows after it just the same.
    if (typeof last === 'string') body.LastEvaluatedTableName = isShadowTable(last) ? names.at(-1) : last;
    return { status: 200, body };
  }
}

/**
 * A call to dynalite that never leaves the process: the transactions' reads and writes, past
 * the gate (their caller holds it) and the guard (dynalite only looks for these headers).
 */
function inProcess(dynalite: RequestListener): DynamoCall {
  return (operation, input) =>
    new Promise((resolve, reject) => {
      const body = Buffer.from(JSON.stringify(input));
      const req = Object.assign(Readable.from([body]), {
        method: 'POST',
        url: '/',
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': `DynamoDB_20120810.${operation}`,
          'x-amz-date': '20260101T000000Z',
          authorization:
            'AWS4-HMAC-SHA256 Credential=in-process/20260101/local/dynamodb/aws4_request, SignedHeaders=host, Signature=none',
        },
      });
      const res = {
        statusCode: 200,
        setHeader: () => res,
        end: (chunk?: string) => {
          try {
            resolve({ status: res.statusCode, body: chunk ? (JSON.parse(chunk) as Record<string, unknown>) : {} });
          } catch (e) {
            reject(e);
          }
        },
      };
      dynalite(req as unknown as IncomingMessage, res as unknown as ServerResponse);
    });
}

/** The request again, with the body already read: dynalite reads it from `data` and `end` events. */
function replay(req: IncomingMessage, body: Buffer): IncomingMessage {
  const again = Readable.from(body.length > 0 ? [body] : [], { objectMode: false });
  return Object.assign(again, {
    headers: req.headers,
    method: req.method,
    url: req.url,
    socket: req.socket,
  }) as unknown as IncomingMessage;
}

export async function startDynamo(opts: {
  dir: string;
  port?: number;
  keyring: Keyring;
  /** Tests only: where to kill the process in the middle of a transaction. */
  transactionHooks?: TransactionHooks;
}): Promise<LocalService> {
  // Tables and indexes go ACTIVE after these delays; the real service takes seconds,
  // which a local start-up has no reason to imitate.
  // Required when used: the CLI's light commands load this module and need neither server.
  const dynalite = require('dynalite') as Dynalite;
  const server = dynalite({ path: opts.dir, createTableMs: 5, updateTableMs: 5, deleteTableMs: 5 });
  const [handler] = server.listeners('request') as RequestListener[];
  if (!handler) throw new Error('dynalite did not install a request handler');
  server.removeAllListeners('request');
  const call = inProcess(handler);
  const transactions = new Transactions({ call, journal: journalPath(opts.dir), hooks: opts.transactionHooks });
  // Before any client: a transaction a crash cut short is completed first.
  await transactions.replay();
  server.on('request', guarded(handler, opts.keyring, { call, gate: new WriteGate(), transactions }));
  await listen(server, opts.port);
  const endpoint = endpointOf(server.address());
  return { endpoint, close: () => closeServer(server, (cb) => server.close(cb)) };
}

/** The table as the CDK stack defines it (functions/lib/table-schema.ts): on demand, with the district-stage index. */
const UPLOAD_INDEX = {
  IndexName: BY_UPLOAD_STAGE.indexName,
  KeySchema: [
    { AttributeName: BY_UPLOAD_STAGE.partitionKey, KeyType: 'HASH' as const },
    { AttributeName: BY_UPLOAD_STAGE.sortKey, KeyType: 'RANGE' as const },
  ],
  Projection: { ProjectionType: 'INCLUDE' as const, NonKeyAttributes: [...BY_UPLOAD_STAGE.projected] },
};

export async function ensureTable(endpoint: string, tableName: string, credentials: LocalCredentials): Promise<void> {
  const client = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials });
  try {
    try {
      await client.send(
        new CreateTableCommand({
          TableName: tableName,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: KEY_ATTRIBUTES.map((name) => ({ AttributeName: name, AttributeType: 'S' })),
          KeySchema: [
            { AttributeName: TABLE_KEY.partitionKey, KeyType: 'HASH' },
            { AttributeName: TABLE_KEY.sortKey, KeyType: 'RANGE' },
          ],
          GlobalSecondaryIndexes: [
            {
              IndexName: BY_DISTRICT_STAGE.indexName,
              KeySchema: [
                { AttributeName: BY_DISTRICT_STAGE.partitionKey, KeyType: 'HASH' },
                { AttributeName: BY_DISTRICT_STAGE.sortKey, KeyType: 'RANGE' },
              ],
              Projection: { ProjectionType: 'ALL' },
            },
            UPLOAD_INDEX,
          ],
        }),
      );
    } catch (e) {
      // A table from before the upload index stays without it: dynalite cannot add an index
      // to a table (UpdateTable's Create is not implemented); the upload page then shows no
      // family progress (functions/officers/routes.ts), and a fresh data folder has it.
      if ((e as { name?: string }).name !== 'ResourceInUseException') throw e;
    }
    await waitActive(client, tableName);
  } finally {
    client.destroy();
  }
}

async function waitActive(client: DynamoDBClient, tableName: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
      const indexesActive = (Table?.GlobalSecondaryIndexes ?? []).every((i) => i.IndexStatus === 'ACTIVE');
      if (Table?.TableStatus === 'ACTIVE' && indexesActive) return;
    } catch (e) {
      if (!(e instanceof ResourceNotFoundException)) throw e;
    }
    if (Date.now() > deadline) throw new Error(`table ${tableName} did not become ACTIVE`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
