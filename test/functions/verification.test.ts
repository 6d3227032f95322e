import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../../functions/verification.ts';
import { answerCaseWrites, caseWrites } from '../helpers/case-writes.ts';
import { caseItem, makeCase } from '../helpers/fixtures.ts';
import { invoke, setTestEnv } from '../helpers/lambda.ts';

const ddb = mockClient(DynamoDBDocumentClient);
setTestEnv();

const c = makeCase();
const registry = {
  pk: `REGISTRY#${c.nikHash}`,
  sk: 'PKH',
  nikHash: c.nikHash,
  graduatedOn: '2019-06-30',
  decile: 2,
  importedAt: '2026-01-01T00:00:00Z',
};

beforeEach(() => {
  ddb.reset();
  ddb.on(GetCommand, { Key: { pk: `CASE#${c.caseId}`, sk: 'CASE' } }).resolves({ Item: caseItem(c) });
  answerCaseWrites(ddb, c.caseId);
});

describe('Verification', () => {
  it('records an eligible verification and moves the case to grant approval', async () => {
    ddb.on(GetCommand, { Key: { pk: `REGISTRY#${c.nikHash}`, sk: 'PKH' } }).resolves({ Item: registry });
    await expect(invoke(handler, { caseId: c.caseId })).resolves.toEqual({ eligible: true });
    const update = caseWrites(ddb)[0]!;
    const values = Object.values(update.ExpressionAttributeValues ?? {});
    expect(update.ExpressionAttributeValues?.[':newStage']).toBe('grant-approval');
    expect(values).toContainEqual(expect.objectContaining({ eligible: true, ruleVersion: '2020.1', reasons: [] }));
    // Conditional on the case still standing at verification, as read.
    expect(update.ConditionExpression).toContain('#stage = :was');
    expect(update.ExpressionAttributeValues?.[':was']).toBe('verification');
  });

  it('records the reasons and throws IneligibleError for a family missing from the registry', async () => {
    ddb.on(GetCommand, { Key: { pk: `REGISTRY#${c.nikHash}`, sk: 'PKH' } }).resolves({});
    await expect(invoke(handler, { caseId: c.caseId })).rejects.toMatchObject({
      name: 'IneligibleError',
      reasons: ['NOT_IN_PKH_REGISTRY'],
    });
    const update = caseWrites(ddb)[0]!;
    expect(update.ExpressionAttributeValues?.[':newStage']).toBeUndefined();
    expect(Object.values(update.ExpressionAttributeValues ?? {})).toContainEqual(
      expect.objectContaining({ eligible: false, reasons: ['NOT_IN_PKH_REGISTRY'] }),
    );
  });

  it('refuses an event without a case id before touching DynamoDB', async () => {
    await expect(invoke(handler, {})).rejects.toMatchObject({ name: 'ZodError' });
    expect(ddb.calls()).toHaveLength(0);
  });
});
