/** Identity claims under races: the put and the read of a lost claim are two calls, and another run may act between them. */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Claim } from '#domain/claim';
import { claimIdentity } from '#store/claims';
import { setTestEnv } from '../helpers/lambda.ts';

const ddb = mockClient(DynamoDBDocumentClient);
setTestEnv();

const claim: Claim = {
  caseId: '3210-2020-abc',
  district: '3210',
  programYear: 2020,
  proposedAt: '2026-01-10T00:00:00Z',
  uploadId: 'u-1',
};
const taken = () => new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

beforeEach(() => ddb.reset());

describe('claimIdentity', () => {
  it('wins an unclaimed identity with one conditional put', async () => {
    ddb.on(PutCommand).resolves({});
    await expect(claimIdentity('NIK', 'h1', claim)).resolves.toEqual({ won: true });
    expect(ddb).toHaveReceivedCommandWith(PutCommand, { ConditionExpression: 'attribute_not_exists(pk)' });
  });

  it('returns the claim that got there first', async () => {
    const earlier = { ...claim, caseId: '3210-2020-other', uploadId: 'u-0' };
    ddb.on(PutCommand).rejects(taken());
    ddb.on(GetCommand).resolves({ Item: { pk: 'NIK#h1', sk: 'CLAIM', ...earlier } });
    await expect(claimIdentity('NIK', 'h1', claim)).resolves.toEqual({ won: false, existing: earlier });
  });

  it('tries again when the claim it lost to was released before it could read it', async () => {
    ddb.on(PutCommand).rejectsOnce(taken()).resolves({});
    ddb.on(GetCommand).resolves({});
    await expect(claimIdentity('NIK', 'h1', claim)).resolves.toEqual({ won: true });
    expect(ddb.commandCalls(PutCommand)).toHaveLength(2);
  });

  it('ends in a TransientError, to be retried, when the claim keeps changing', async () => {
    ddb.on(PutCommand).rejects(taken());
    ddb.on(GetCommand).resolves({});
    await expect(claimIdentity('NIK', 'h1', claim)).rejects.toMatchObject({ name: 'TransientError' });
    expect(ddb.commandCalls(PutCommand)).toHaveLength(5);
  });
});
