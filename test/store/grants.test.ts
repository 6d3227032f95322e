/** One grant per family card: the hold on KK#<hash>/GRANT, taken, kept, refused and taken over. */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { holdFamilyGrant } from '#store/grants';
import { setTestEnv } from '../helpers/lambda.ts';

const ddb = mockClient(DynamoDBDocumentClient);
setTestEnv();
const taken = () => new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

const mine = { caseId: '3210-2024-mine', kkHash: 'kk1', programYear: 2024 };
const holdKey = { pk: 'KK#kk1', sk: 'GRANT' };
const other = { ...holdKey, caseId: '3210-2020-other', programYear: 2020, heldAt: '2020-04-01T00:00:00Z' };
const otherCase = { pk: 'CASE#3210-2020-other', sk: 'CASE' };

beforeEach(() => ddb.reset());

describe('holdFamilyGrant', () => {
  it('holds the grant for the first case of the family, or the case that already holds it', async () => {
    ddb.on(UpdateCommand).resolves({});
    await expect(holdFamilyGrant(mine)).resolves.toEqual({ held: true });
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
      Key: holdKey,
      ConditionExpression: 'attribute_not_exists(pk) OR caseId = :caseId',
      ExpressionAttributeValues: expect.objectContaining({ ':caseId': mine.caseId }),
    });
  });

  it("refuses while another of the family's cases holds it and has not ended", async () => {
    ddb.on(UpdateCommand).rejects(taken());
    ddb.on(GetCommand, { Key: holdKey }).resolves({ Item: other });
    ddb.on(GetCommand, { Key: otherCase }).resolves({ Item: { stage: 'disbursement' } });
    await expect(holdFamilyGrant(mine)).resolves.toEqual({
      held: false,
      by: { caseId: other.caseId, programYear: 2020, heldAt: other.heldAt },
    });
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(1);
  });

  it('refuses for good when the other case was granted, even once closed', async () => {
    ddb.on(UpdateCommand).rejects(taken());
    ddb.on(GetCommand, { Key: holdKey }).resolves({ Item: other });
    ddb.on(GetCommand, { Key: otherCase }).resolves({ Item: { stage: 'closed', disbursement: { amountRupiah: 1 } } });
    await expect(holdFamilyGrant(mine)).resolves.toMatchObject({ held: false });
  });

  it('takes over, only if unchanged, a hold whose case ended without a grant', async () => {
    ddb.on(UpdateCommand).rejectsOnce(taken()).resolves({});
    ddb.on(GetCommand, { Key: holdKey }).resolves({ Item: other });
    ddb.on(GetCommand, { Key: otherCase }).resolves({ Item: { stage: 'closed' } });
    await expect(holdFamilyGrant(mine)).resolves.toEqual({ held: true });
    expect(ddb.commandCalls(UpdateCommand)[1]?.args[0].input).toMatchObject({
      ConditionExpression: 'caseId = :other AND heldAt = :heldAt',
      ExpressionAttributeValues: { ':other': other.caseId, ':heldAt': other.heldAt, ':caseId': mine.caseId },
    });
  });
});
