/**
 * TransactWriteItems on the local DynamoDB, as a client of the real service sees it: a
 * case's stage and its funnel counter change together or not at all, under concurrency,
 * across a kill -9, with the service's errors and idempotency; the shadow tables stay hidden.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DescribeTableCommand,
  DynamoDBClient,
  IdempotentParameterMismatchException,
  ListTablesCommand,
  ScanCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactGetCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTable, startDynamo } from '../../../embedded/local/dynamodb.ts';
import { journalPath, SHADOW_PREFIX } from '../../../embedded/local/dynamodb-transactions.ts';
import type { Keyring } from '../../../embedded/local/local-auth.ts';
import { LOCAL_REGION, type LocalService } from '../../../embedded/local/ports.ts';

const TABLE = 'prokus-test';
const keyring: Keyring = {
  operator: { accessKeyId: 'LOCALOPERATORKEY0003', secretAccessKey: 'operator-secret-for-the-transactions-test' },
  runtime: { accessKeyId: 'LOCALRUNTIMEKEY00003', secretAccessKey: 'runtime-secret-for-the-transactions-test' },
};

let dir: string;
let dynamo: LocalService;
let raw: DynamoDBClient;
let doc: DynamoDBDocumentClient;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prokus-transactions-'));
  dynamo = await startDynamo({ dir: join(dir, 'dynamodb'), keyring });
  await ensureTable(dynamo.endpoint, TABLE, keyring.runtime);
  raw = new DynamoDBClient({ endpoint: dynamo.endpoint, region: LOCAL_REGION, credentials: keyring.runtime });
  doc = DynamoDBDocumentClient.from(raw);
});

afterAll(async () => {
  raw?.destroy();
  await dynamo?.close();
  await rm(dir, { recursive: true, force: true });
});

const caseKey = (id: string) => ({ pk: `CASE#${id}`, sk: 'CASE' });
const counterKey = (name: string) => ({ pk: `FUNNEL#3210#2026#${name}`, sk: 'COUNTS' });

async function putCase(id: string, stage: string): Promise<void> {
  await doc.send(
    new PutCommand({
      TableName: TABLE,
      Item: { ...caseKey(id), stage, gsi1pk: `DISTRICT#3210#${id}`, gsi1sk: `${stage}#${id}` },
    }),
  );
}

const get = async (key: Record<string, string>) =>
  (await doc.send(new GetCommand({ TableName: TABLE, Key: key, ConsistentRead: true }))).Item;

/** The transaction the funnel counters need: the case moves only from `from`; the counter counts the move. */
function move(id: string, from: string, to: string, counter: string): TransactWriteCommandInput {
  return {
    TransactItems: [
      {
        Update: {
          TableName: TABLE,
          Key: caseKey(id),
          UpdateExpression: 'SET stage = :to, gsi1sk = :sk',
          ConditionExpression: 'stage = :from',
          ExpressionAttributeValues: { ':to': to, ':from': from, ':sk': `${to}#${id}` },
        },
      },
      {
        Update: {
          TableName: TABLE,
          Key: counterKey(counter),
          UpdateExpression: 'ADD #reached :one, #now :one',
          ExpressionAttributeNames: { '#reached': `reached_${to}`, '#now': `now_${to}` },
          ExpressionAttributeValues: { ':one': 1 },
        },
      },
    ],
  };
}

async function canceled(p: Promise<unknown>): Promise<TransactionCanceledException> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(TransactionCanceledException);
  return e as TransactionCanceledException;
}

describe('TransactWriteItems', () => {
  it('moves a case and counts the move in one transaction, and the index follows the case', async () => {
    await putCase('t1', 'verified');
    await doc.send(new TransactWriteCommand(move('t1', 'verified', 'graded', 'one')));

    expect(await get(caseKey('t1'))).toMatchObject({ stage: 'graded', gsi1sk: 'graded#t1' });
    expect(await get(counterKey('one'))).toMatchObject({ reached_graded: 1, now_graded: 1 });
    const byStage = await doc.send(
      new QueryCommand({
        TableName: TABLE,
        IndexName: 'byDistrictStage',
        KeyConditionExpression: 'gsi1pk = :d',
        ExpressionAttributeValues: { ':d': 'DISTRICT#3210#t1' },
      }),
    );
    expect(byStage.Items?.map((i) => i.gsi1sk)).toEqual(['graded#t1']);
  });

  it('changes nothing when the case has moved on, and names the case as the reason', async () => {
    await putCase('t2', 'graded');
    const e = await canceled(doc.send(new TransactWriteCommand(move('t2', 'verified', 'graded', 'two'))));

    expect(e.message).toBe(
      'Transaction cancelled, please refer cancellation reasons for specific reasons [ConditionalCheckFailed, None]',
    );
    expect(e.CancellationReasons).toEqual([
      { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed' },
      { Code: 'None' },
    ]);
    expect(await get(caseKey('t2'))).toMatchObject({ stage: 'graded' });
    expect(await get(counterKey('two'))).toBeUndefined();
  });

  it('changes nothing when the counter’s condition fails, and gives its old item back when asked', async () => {
    await putCase('t3', 'verified');
    await doc.send(new PutCommand({ TableName: TABLE, Item: { ...counterKey('three'), closed: true } }));
    const input = move('t3', 'verified', 'graded', 'three');
    const counter = input.TransactItems?.[1]?.Update;
    if (!counter) throw new Error('the counter update is missing');
    Object.assign(counter, {
      ConditionExpression: 'attribute_not_exists(closed)',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });

    const e = await canceled(doc.send(new TransactWriteCommand(input)));

    expect(e.CancellationReasons).toEqual([
      { Code: 'None' },
      // The SDK hands the old item over as the service sends it, in DynamoDB's own JSON.
      {
        Code: 'ConditionalCheckFailed',
        Message: 'The conditional request failed',
        Item: { pk: { S: 'FUNNEL#3210#2026#three' }, sk: { S: 'COUNTS' }, closed: { BOOL: true } },
      },
    ]);
    expect(await get(caseKey('t3'))).toMatchObject({ stage: 'verified', gsi1sk: 'verified#t3' });
    expect(await get(counterKey('three'))).toEqual({ ...counterKey('three'), closed: true });
  });

  it('refuses a put whose item exists, a failed check, and an operand of the wrong type, as the service does', async () => {
    await doc.send(new PutCommand({ TableName: TABLE, Item: { pk: 'CLAIM#k1', sk: 'CLAIM#2026', caseId: 'first' } }));
    await putCase('t4', 'verified');
    const e = await canceled(
      doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: TABLE,
                Item: { pk: 'CLAIM#k1', sk: 'CLAIM#2026', caseId: 'second' },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              ConditionCheck: {
                TableName: TABLE,
                Key: caseKey('t4'),
                ConditionExpression: 'stage = :s',
                ExpressionAttributeValues: { ':s': 'graded' },
              },
            },
            {
              Update: {
                TableName: TABLE,
                Key: caseKey('t4x'),
                UpdateExpression: 'ADD stage :one',
                ExpressionAttributeValues: { ':one': 1 },
              },
            },
            {
              Update: {
                TableName: TABLE,
                Key: counterKey('four'),
                UpdateExpression: 'ADD n :one',
                ExpressionAttributeValues: { ':one': 1 },
              },
            },
          ],
        }),
      ),
    );
    expect(e.CancellationReasons?.map((r) => r.Code)).toEqual([
      'ConditionalCheckFailed',
      'ConditionalCheckFailed',
      'None',
      'None',
    ]);
    expect(await get({ pk: 'CLAIM#k1', sk: 'CLAIM#2026' })).toMatchObject({ caseId: 'first' });
    expect(await get(counterKey('four'))).toBeUndefined();

    await putCase('t4s', 'verified');
    const wrongType = await canceled(
      doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: TABLE,
                Key: caseKey('t4s'),
                UpdateExpression: 'ADD stage :one',
                ExpressionAttributeValues: { ':one': 1 },
              },
            },
            {
              Update: {
                TableName: TABLE,
                Key: counterKey('four'),
                UpdateExpression: 'ADD n :one',
                ExpressionAttributeValues: { ':one': 1 },
              },
            },
          ],
        }),
      ),
    );
    expect(wrongType.CancellationReasons).toEqual([
      { Code: 'ValidationError', Message: 'An operand in the update expression has an incorrect data type' },
      { Code: 'None' },
    ]);
    expect(await get(counterKey('four'))).toBeUndefined();
  });

  it('puts and deletes items, and the index rows come and go with them', async () => {
    await putCase('t5old', 'closed');
    await doc.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName: TABLE,
              Item: { ...caseKey('t5new'), stage: 'proposed', gsi1pk: 'DISTRICT#3210#t5', gsi1sk: 'proposed#t5new' },
            },
          },
          {
            Delete: {
              TableName: TABLE,
              Key: caseKey('t5old'),
              ConditionExpression: 'stage = :c',
              ExpressionAttributeValues: { ':c': 'closed' },
            },
          },
        ],
      }),
    );
    expect(await get(caseKey('t5old'))).toBeUndefined();
    const rows = async (district: string) =>
      (
        await doc.send(
          new QueryCommand({
            TableName: TABLE,
            IndexName: 'byDistrictStage',
            KeyConditionExpression: 'gsi1pk = :d',
            ExpressionAttributeValues: { ':d': district },
          }),
        )
      ).Items?.map((i) => i.gsi1sk);
    expect(await rows('DISTRICT#3210#t5')).toEqual(['proposed#t5new']);
    expect(await rows('DISTRICT#3210#t5old')).toEqual([]);
  });

  it('keeps the counter exact under 50 transactions and 50 plain updates racing for the same 50 cases', async () => {
    const ids = Array.from({ length: 50 }, (_, i) => `race-${i}`);
    await Promise.all(ids.map((id) => putCase(id, 'verified')));

    // Each request starts at its own moment within 300 ms, so the two kinds interleave.
    const later = <T>(send: () => Promise<T>) => new Promise((r) => setTimeout(r, Math.random() * 300)).then(send);
    const settled = await Promise.allSettled(
      ids.flatMap((id) => [
        later(() => doc.send(new TransactWriteCommand(move(id, 'verified', 'graded', 'race')))).then(
          () => 'transaction' as const,
        ),
        later(() =>
          doc.send(
            new UpdateCommand({
              TableName: TABLE,
              Key: caseKey(id),
              UpdateExpression: 'SET stage = :to, gsi1sk = :sk',
              ConditionExpression: 'stage = :from',
              ExpressionAttributeValues: { ':to': 'rejected', ':from': 'verified', ':sk': `rejected#${id}` },
            }),
          ),
        ).then(() => 'plain' as const),
      ]),
    );
    const won = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const lost = settled.flatMap((s) => (s.status === 'rejected' ? [(s.reason as Error).name] : []));
    const moved = won.filter((w) => w === 'transaction').length;

    // Each case moved exactly once, by whichever came first; nothing failed for any other reason.
    expect(won).toHaveLength(50);
    expect(lost.filter((n) => n !== 'TransactionCanceledException' && n !== 'ConditionalCheckFailedException')).toEqual([]);
    const counter = await get(counterKey('race'));
    expect(counter?.reached_graded ?? 0).toBe(moved);
    const stages = await Promise.all(ids.map(async (id) => (await get(caseKey(id)))?.stage));
    expect(stages.filter((s) => s === 'graded')).toHaveLength(moved);
    expect(stages.filter((s) => s === 'rejected')).toHaveLength(50 - moved);
  });

  it('refuses two actions on one item, an empty transaction and more than 100 actions', async () => {
    const twice = move('t6', 'verified', 'graded', 'six');
    const first = twice.TransactItems?.[0];
    if (!first) throw new Error('the case update is missing');
    twice.TransactItems = [
      first,
      { ConditionCheck: { TableName: TABLE, Key: caseKey('t6'), ConditionExpression: 'attribute_exists(pk)' } },
    ];
    await expect(doc.send(new TransactWriteCommand(twice))).rejects.toMatchObject({
      name: 'ValidationException',
      message: 'Transaction request cannot include multiple operations on one item',
    });
    await expect(doc.send(new TransactWriteCommand({ TransactItems: [] }))).rejects.toMatchObject({
      name: 'ValidationException',
      message: expect.stringContaining('Member must have length greater than or equal to 1'),
    });
    const many = Array.from({ length: 101 }, (_, i) => ({
      ConditionCheck: { TableName: TABLE, Key: caseKey(`many-${i}`), ConditionExpression: 'attribute_not_exists(pk)' },
    }));
    await expect(doc.send(new TransactWriteCommand({ TransactItems: many }))).rejects.toMatchObject({
      name: 'ValidationException',
      message: expect.stringContaining('Member must have length less than or equal to 100'),
    });
    await expect(doc.send(new TransactWriteCommand({ TransactItems: many.slice(0, 100) }))).resolves.toBeDefined();
  });

  it('fails the whole call on an expression the service cannot parse, or a table that is not there', async () => {
    await putCase('t7', 'verified');
    const bad = move('t7', 'verified', 'graded', 'seven');
    const counter = bad.TransactItems?.[1]?.Update;
    if (!counter) throw new Error('the counter update is missing');
    counter.UpdateExpression = 'ADD #reached :one,, #now :one';
    await expect(doc.send(new TransactWriteCommand(bad))).rejects.toMatchObject({ name: 'ValidationException' });
    expect(await get(caseKey('t7'))).toMatchObject({ stage: 'verified' });

    const elsewhere = move('t7', 'verified', 'graded', 'seven');
    if (!elsewhere.TransactItems?.[1]?.Update) throw new Error('the counter update is missing');
    elsewhere.TransactItems[1].Update.TableName = 'no-such-table';
    await expect(doc.send(new TransactWriteCommand(elsewhere))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    expect(await get(caseKey('t7'))).toMatchObject({ stage: 'verified' });
  });

  it('applies a request once per client token, and refuses the token with another request', async () => {
    await putCase('t8', 'verified');
    const input = { ...move('t8', 'verified', 'graded', 'eight'), ClientRequestToken: 'token-8' };
    // The same request again is answered as the first time; the condition would refuse a second move.
    await doc.send(new TransactWriteCommand(input));
    await doc.send(new TransactWriteCommand(input));
    expect(await get(counterKey('eight'))).toMatchObject({ reached_graded: 1 });

    await expect(
      doc.send(new TransactWriteCommand({ ...move('t8', 'graded', 'mentored', 'eight'), ClientRequestToken: 'token-8' })),
    ).rejects.toBeInstanceOf(IdempotentParameterMismatchException);
    expect(await get(caseKey('t8'))).toMatchObject({ stage: 'graded' });
    // Without a token of its own the SDK makes one for every call: a second call is a second transaction.
    await expect(doc.send(new TransactWriteCommand(move('t8', 'verified', 'graded', 'eight')))).rejects.toBeInstanceOf(
      TransactionCanceledException,
    );
  });

  it('reports the capacity used when asked', async () => {
    await putCase('t9', 'verified');
    const answer = await doc.send(
      new TransactWriteCommand({ ...move('t9', 'verified', 'graded', 'nine'), ReturnConsumedCapacity: 'TOTAL' }),
    );
    expect(answer.ConsumedCapacity).toEqual([{ TableName: TABLE, CapacityUnits: 4, WriteCapacityUnits: 4 }]);
  });
});

describe('TransactGetItems', () => {
  it('reads several items at one moment, and nothing for an item that is not there', async () => {
    await putCase('g1', 'graded');
    const { Responses } = await doc.send(
      new TransactGetCommand({
        TransactItems: [
          { Get: { TableName: TABLE, Key: caseKey('g1'), ProjectionExpression: 'stage' } },
          { Get: { TableName: TABLE, Key: caseKey('g-missing') } },
        ],
      }),
    );
    expect(Responses).toEqual([{ Item: { stage: 'graded' } }, {}]);
  });
});

describe('the shadow tables', () => {
  it('are not listed, and a call naming one is refused', async () => {
    const { TableNames } = await raw.send(new ListTablesCommand({}));
    expect(TableNames).toEqual([TABLE]);
    const paged = await raw.send(new ListTablesCommand({ Limit: 1 }));
    expect(paged.TableNames).toEqual([TABLE]);

    const shadow = `${SHADOW_PREFIX}0123`;
    for (const command of [
      new DescribeTableCommand({ TableName: shadow }),
      new ScanCommand({ TableName: shadow }),
      new TransactWriteItemsCommand({
        TransactItems: [{ Put: { TableName: shadow, Item: { pk: { S: 'x' }, sk: { S: 'y' } } } }],
      }),
    ]) {
      await expect(raw.send(command as DescribeTableCommand)).rejects.toMatchObject({
        name: 'ValidationException',
        message: expect.stringContaining('are kept by the local DynamoDB for transactions'),
      });
    }
  });
});

describe('a crash in the middle of a transaction', () => {
  const childScript = fileURLToPath(new URL('../../helpers/transaction-crash-child.ts', import.meta.url));

  /** A child that makes two cases, moves both in one transaction, and is killed at `point`. */
  async function crashAt(point: string, folder: string): Promise<void> {
    const child = spawn(process.execPath, ['--import', 'tsx', childScript, folder, point, JSON.stringify(keyring)], {
      cwd: fileURLToPath(new URL('../../..', import.meta.url)),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += String(d);
    });
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((r) =>
      child.on('exit', (c, s) => r([c, s])),
    );
    if (signal !== 'SIGKILL') throw new Error(`the child was not killed at ${point} (exit ${code}): ${stderr}`);
  }

  async function stagesAfterRestart(folder: string): Promise<(string | undefined)[]> {
    const again = await startDynamo({ dir: folder, keyring });
    const client = DynamoDBDocumentClient.from(
      new DynamoDBClient({ endpoint: again.endpoint, region: LOCAL_REGION, credentials: keyring.runtime }),
    );
    try {
      return await Promise.all(
        ['a', 'b'].map(async (id) => {
          const { Item } = await client.send(
            new GetCommand({ TableName: TABLE, Key: { pk: `CASE#${id}`, sk: 'CASE' }, ConsistentRead: true }),
          );
          return Item?.stage as string | undefined;
        }),
      );
    } finally {
      client.destroy();
      await again.close();
    }
  }

  it.each([
    ['after the first of its two writes', 'applied-0', ['graded', 'graded']],
    ['after its journal was written', 'journaled', ['graded', 'graded']],
    ['before its journal was written', 'evaluated', ['verified', 'verified']],
  ])('completes it at the next start, or leaves it undone, when killed %s', async (_, point, expected) => {
    const folder = join(dir, `crash-${point}`);
    await crashAt(point, folder);
    expect(existsSync(journalPath(folder))).toBe(point !== 'evaluated');

    expect(await stagesAfterRestart(folder)).toEqual(expected);
    expect(existsSync(journalPath(folder))).toBe(false);
  });
});
