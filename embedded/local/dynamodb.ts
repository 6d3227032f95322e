/**
 * The local DynamoDB: dynalite on disk, speaking the real wire protocol, and the table as
 * the CDK stack defines it. dynalite ships no types; the interface below is the part we use.
 */
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { BY_DISTRICT_STAGE, BY_UPLOAD_STAGE, KEY_ATTRIBUTES, TABLE_KEY } from '#lib/table-schema';
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
function guarded(dynalite: RequestListener, keyring: Keyring): RequestListener {
  return (req, res) => {
    void (async () => {
      try {
        checkHost(req);
        checkAuthorization(req, keyring);
        const body = await readLimited(req, MAX_REQUEST_BYTES, () => new Error('too large'));
        await verifySignature(req, { keyring, body });
        withoutCors(res);
        dynalite(replay(req, body), res);
      } catch (e) {
        if (res.headersSent) return void res.destroy();
        if (e instanceof LocalAuthError) return refuse(res, 403, AUTH_ERRORS[e.code], e.message);
        refuse(res, 413, 'ValidationException', 'Request body over 16 MB');
      }
    })();
  };
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

export async function startDynamo(opts: { dir: string; port?: number; keyring: Keyring }): Promise<LocalService> {
  // Tables and indexes go ACTIVE after these delays; the real service takes seconds,
  // which a local start-up has no reason to imitate.
  // Required when used: the CLI's light commands load this module and need neither server.
  const dynalite = require('dynalite') as Dynalite;
  const server = dynalite({ path: opts.dir, createTableMs: 5, updateTableMs: 5, deleteTableMs: 5 });
  const [handler] = server.listeners('request') as RequestListener[];
  if (!handler) throw new Error('dynalite did not install a request handler');
  server.removeAllListeners('request');
  server.on('request', guarded(handler, opts.keyring));
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
