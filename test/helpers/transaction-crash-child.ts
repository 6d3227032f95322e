/**
 * Run as a child process by test/embedded/local/dynamodb-transactions.test.ts: starts the
 * local DynamoDB on a folder, makes two cases, moves both in one transaction, and kills
 * itself (kill -9, no clean-up of any kind) at the commit point the test names.
 * Usage: transaction-crash-child.ts <dynamodb folder> <commit point> <keyring JSON>
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { ensureTable, startDynamo } from '../../embedded/local/dynamodb.ts';
import type { Keyring } from '../../embedded/local/local-auth.ts';
import { LOCAL_REGION } from '../../embedded/local/ports.ts';

const [folder, point, keyringJson] = process.argv.slice(2);
if (!folder || !point || !keyringJson) throw new Error('usage: transaction-crash-child.ts <folder> <point> <keyring JSON>');
const keyring = JSON.parse(keyringJson) as Keyring;
const TABLE = 'prokus-test';

const dynamo = await startDynamo({
  dir: folder,
  keyring,
  transactionHooks: { at: (p) => p === point && process.kill(process.pid, 'SIGKILL') },
});
await ensureTable(dynamo.endpoint, TABLE, keyring.runtime);
const doc = DynamoDBDocumentClient.from(
  new DynamoDBClient({ endpoint: dynamo.endpoint, region: LOCAL_REGION, credentials: keyring.runtime }),
);
for (const id of ['a', 'b'])
  await doc.send(new PutCommand({ TableName: TABLE, Item: { pk: `CASE#${id}`, sk: 'CASE', stage: 'verified' } }));
await doc.send(
  new TransactWriteCommand({
    TransactItems: ['a', 'b'].map((id) => ({
      Update: {
        TableName: TABLE,
        Key: { pk: `CASE#${id}`, sk: 'CASE' },
        UpdateExpression: 'SET stage = :g',
        ConditionExpression: 'stage = :v',
        ExpressionAttributeValues: { ':g': 'graded', ':v': 'verified' },
      },
    })),
  }),
);
// Reaching here means the commit point never came: the test sees a clean exit and fails.
process.exit(0);
