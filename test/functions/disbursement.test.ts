import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../../functions/disbursement.ts';
import { answerCaseWrites, caseWrites } from '../helpers/case-writes.ts';
import { caseItem, makeCase } from '../helpers/fixtures.ts';
import { invoke, setTestEnv } from '../helpers/lambda.ts';

const ddb = mockClient(DynamoDBDocumentClient);
setTestEnv();
const c = makeCase({ stage: 'disbursement' });
const quotaKey = { pk: 'QUOTA#3210#2020', sk: 'QUOTA' };
const conditionFailed = () => new ConditionalCheckFailedException({ message: 'condition', $metadata: {} });

beforeEach(() => {
  ddb.reset();
  ddb.on(GetCommand, { Key: { pk: `CASE#${c.caseId}`, sk: 'CASE' } }).resolves({ Item: caseItem(c) });
  answerCaseWrites(ddb, c.caseId);
});

describe('Disbursement', () => {
  it('takes the grant from the district quota, records the configured amount and starts mentoring', async () => {
    ddb.on(UpdateCommand, { Key: quotaKey }).resolves({});
    await expect(invoke(handler, { caseId: c.caseId })).resolves.toEqual({ amountRupiah: 3_500_000 });
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
      Key: quotaKey,
      ExpressionAttributeValues: expect.objectContaining({ ':quota': 200, ':id': c.caseId }),
    });
    const caseUpdate = caseWrites(ddb)[0]!;
    expect(caseUpdate.ExpressionAttributeValues?.[':newStage']).toBe('mentoring');
    expect(Object.values(caseUpdate.ExpressionAttributeValues ?? {})).toContainEqual(
      expect.objectContaining({ amountRupiah: 3_500_000, reference: `BSIMU-${c.caseId}`, ruleVersion: '2020.1' }),
    );
  });

  it('counts a retried disbursement once: the quota already holds this case', async () => {
    ddb.on(UpdateCommand, { Key: quotaKey }).rejects(conditionFailed());
    ddb.on(GetCommand, { Key: quotaKey }).resolves({ Item: { ...quotaKey, cases: new Set([c.caseId]) } });
    await expect(invoke(handler, { caseId: c.caseId })).resolves.toEqual({ amountRupiah: 3_500_000 });
  });

  it('a district missing from the program configuration is a named ProgramConfigError, and nothing is reserved', async () => {
    const elsewhere = makeCase({ stage: 'disbursement', district: '9999' });
    ddb.on(GetCommand, { Key: { pk: `CASE#${elsewhere.caseId}`, sk: 'CASE' } }).resolves({ Item: caseItem(elsewhere) });
    await expect(invoke(handler, { caseId: elsewhere.caseId })).rejects.toMatchObject({
      name: 'ProgramConfigError',
      code: 'PROGRAM_CONFIG_INVALID',
      text: { id: expect.stringContaining('9999'), en: expect.stringContaining('district 9999 is not in program 2020.1') },
    });
    expect(ddb).not.toHaveReceivedCommand(UpdateCommand);
    expect(caseWrites(ddb)).toHaveLength(0);
  });

  it('throws QuotaExhaustedError when the district quota is used up by other cases', async () => {
    ddb.on(UpdateCommand, { Key: quotaKey }).rejects(conditionFailed());
    // Majalengka's 200 grants of 2020, all reserved for other cases, in the 8 blocks it drew from the national ceiling.
    const others = new Set(Array.from({ length: 200 }, (_, i) => `someone-else-${i}`));
    ddb.on(GetCommand, { Key: quotaKey }).resolves({ Item: { ...quotaKey, cases: others, blocks: 8, capacity: 200 } });
    await expect(invoke(handler, { caseId: c.caseId })).rejects.toMatchObject({
      name: 'QuotaExhaustedError',
      code: 'QUOTA_EXHAUSTED',
    });
    expect(caseWrites(ddb)).toHaveLength(0);
  });

  it('throws QuotaExhaustedError (NATIONAL_CEILING_REACHED) when the district has quota left but the national ceiling is given out', async () => {
    const nationalKey = { pk: 'QUOTA#NATIONAL#2020', sk: 'QUOTA' };
    // Majalengka used the one block it drew; every other grant of the year's ceiling (1,000) went to other districts.
    ddb.on(UpdateCommand, { Key: quotaKey }).rejects(conditionFailed());
    const used = new Set(Array.from({ length: 25 }, (_, i) => `someone-else-${i}`));
    ddb.on(GetCommand, { Key: quotaKey }).resolves({ Item: { ...quotaKey, cases: used, blocks: 1, capacity: 25 } });
    ddb.on(UpdateCommand, { Key: nationalKey }).rejects(conditionFailed());
    ddb
      .on(GetCommand, { Key: nationalKey })
      .resolves({ Item: { ...nationalKey, blocks: new Set(['3210#1#25']), committed: 1000 } });
    await expect(invoke(handler, { caseId: c.caseId })).rejects.toMatchObject({
      name: 'QuotaExhaustedError',
      code: 'NATIONAL_CEILING_REACHED',
    });
    // The district's block 2 was asked for once, conditionally: not before its block 1, never past the ceiling.
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
      Key: nationalKey,
      ExpressionAttributeValues: { ':ids': new Set(['3210#2#25']), ':size': 25, ':room': 975, ':n': 2 },
    });
    expect(caseWrites(ddb)).toHaveLength(0);
  });
});
