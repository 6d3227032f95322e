/**
 * The local DynamoDB: dynalite on disk, speaking the real wire protocol, and the table as
 * the CDK stack defines it. dynalite ships no types; the interface below is the part we use.
 */
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { BY_DISTRICT_STAGE, KEY_ATTRIBUTES, TABLE_KEY } from '#lib/table-schema';
import { closeServer, endpointOf, LOCAL_CREDENTIALS, LOCAL_REGION, type LocalService, listen } from './ports.ts';

const require = createRequire(import.meta.url);

interface DynaliteOptions {
  path?: string;
  createTableMs?: number;
  updateTableMs?: number;
  deleteTableMs?: number;
}
type Dynalite = (options: DynaliteOptions) => Server;

export async function startDynamo(opts: { dir: string; port?: number }): Promise<LocalService> {
  // Tables and indexes go ACTIVE after these delays; the real service takes seconds,
  // which a local start-up has no reason to imitate.
  // Required when used: the CLI's light commands load this module and need neither server.
  const dynalite = require('dynalite') as Dynalite;
  const server = dynalite({ path: opts.dir, createTableMs: 5, updateTableMs: 5, deleteTableMs: 5 });
  await listen(server, opts.port);
  const endpoint = endpointOf(server.address());
  return { endpoint, close: () => closeServer(server, (cb) => server.close(cb)) };
}

/** The table as the CDK stack defines it (functions/lib/table-schema.ts): on demand, with the district-stage index. */
export async function ensureTable(endpoint: string, tableName: string): Promise<void> {
  const client = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
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
          ],
        }),
      );
    } catch (e) {
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
