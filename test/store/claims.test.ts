/**
 * Identity claims under races: each attempt reads the family's claims of every year and
 * then writes one conditionally; another run may act between the read and the write.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ABANDONED_CLAIM_MS, type Claim } from '#domain/claim';
import { claimIdentity } from '#store/claims';
import { setTestEnv } from '../helpers/lambda.ts';

const ddb = mockClient(DynamoDBDocumentClient);
setTestEnv();

const now = '2026-01-10T08:00:00.000Z';
const claim: Claim = {
  caseId: '3210-2026-abc',
  district: '3210',
  programYear: 2026,
  proposedAt: now,
  uploadId: 'u-1',
  claimedAt: now,
};
const item = (c: Claim) => ({ pk: 'NIK#h1', sk: `CLAIM#${c.programYear}`, ...c });
const taken = () => new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
const ago = (ms: number) => new Date(Date.parse(now) - ms).toISOString();

beforeEach(() => {
  ddb.reset();
  ddb.on(GetCommand).resolves({});
});

describe('claimIdentity', () => {
  it('wins an unclaimed identity with one conditional put, keyed by program year', async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });
    ddb.on(PutCommand).resolves({});
    await expect(claimIdentity('NIK', 'h1', claim)).resolves.toEqual({ won: true });
    expect(ddb).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({ pk: 'NIK#h1', sk: 'CLAIM#2026' }),
      ConditionExpression: 'attribute_not_exists(pk)',
    });
  });

  it('says which claim of the same year stands in the way, and writes nothing', async () => {
    const earlier = { ...claim, caseId: '3217-2026-x', district: '3217', uploadId: 'u-0', claimedAt: ago(60_000) };
    ddb.on(QueryCommand).resolves({ Items: [item(earlier)] });
    ddb.on(GetCommand).resolves({ Item: { stage: 'verification' } });
    await expect(claimIdentity('NIK', 'h1', claim)).resolves.toEqual({
      won: false,
      blocker: { reason: 'proposed', claim: earlier, inProgress: false },
    });
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
  });

  it('reads again when it loses the put to a run that wrote meanwhile', async () => {
    const other = { ...claim, uploadId: 'u-0' };
    ddb
      .on(QueryCommand)
      .resolvesOnce({ Items: [] })
      .resolves({ Items: [item(other)] });
    ddb.on(PutCommand).rejects(taken());
    const out = await claimIdentity('NIK', 'h1', claim);
    expect(out).toMatchObject({ won: false, blocker: { reason: 'proposed', claim: other } });
  });

  it('counts a claim its own upload holds as won, and writes it again only when it is getting old', async () => {
    ddb.on(QueryCommand).resolves({ Items: [item({ ...claim, claimedAt: ago(1000) })] });
    await expect(claimIdentity('NIK', 'h1', claim)).resolves.toEqual({ won: true });
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);

    const held = { ...claim, proposedAt: ago(10 * 60_000), claimedAt: ago(10 * 60_000) };
    ddb.on(QueryCommand).resolves({ Items: [item(held)] });
    ddb.on(PutCommand).resolves({});
    await expect(claimIdentity('NIK', 'h1', claim)).resolves.toEqual({ won: true });
    expect(ddb).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({ claimedAt: now, proposedAt: held.proposedAt }),
      ExpressionAttributeValues: expect.objectContaining({ ':claimedAt': held.claimedAt }),
    });
  });

  it('takes over a claim whose intake died before writing the case, only if nobody wrote it meanwhile', async () => {
    const dead = { ...claim, uploadId: 'u-dead', claimedAt: ago(ABANDONED_CLAIM_MS + 60_000) };
    ddb.on(QueryCommand).resolves({ Items: [item(dead)] });
    ddb.on(PutCommand).resolves({});
    await expect(claimIdentity('NIK', 'h1', claim)).resolves.toEqual({ won: true });
    expect(ddb).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({ uploadId: 'u-1', claimedAt: now }),
      ConditionExpression: 'caseId = :caseId AND uploadId = :uploadId AND claimedAt = :claimedAt',
      ExpressionAttributeValues: { ':caseId': dead.caseId, ':uploadId': 'u-dead', ':claimedAt': dead.claimedAt },
    });
  });

  it('does not take over an old claim whose case exists', async () => {
    const old = { ...claim, uploadId: 'u-old', claimedAt: ago(ABANDONED_CLAIM_MS * 10) };
    ddb.on(QueryCommand).resolves({ Items: [item(old)] });
    ddb.on(GetCommand).resolves({ Item: { stage: 'closed' } });
    await expect(claimIdentity('NIK', 'h1', claim)).resolves.toMatchObject({ won: false });
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
  });

  it('ends in a TransientError, to be retried, when the claim keeps changing', async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });
    ddb.on(PutCommand).rejects(taken());
    await expect(claimIdentity('NIK', 'h1', claim)).rejects.toMatchObject({ name: 'TransientError' });
    expect(ddb.commandCalls(PutCommand)).toHaveLength(5);
  });
});
