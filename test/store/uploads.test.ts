/** One summary email per upload, however many runs of its intake there are, and never none. */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { sendSummaryOnce } from '#store/uploads';
import { setTestEnv } from '../helpers/lambda.ts';

const ddb = mockClient(DynamoDBDocumentClient);
setTestEnv();
const taken = () => new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

beforeEach(() => ddb.reset());

describe('sendSummaryOnce', () => {
  it('takes the lease, sends, and records that the email went out', async () => {
    ddb.on(GetCommand).resolves({});
    ddb.on(UpdateCommand).resolves({});
    const send = vi.fn(async () => undefined);
    await expect(sendSummaryOnce('u-1', send)).resolves.toBe('sent');
    expect(send).toHaveBeenCalledOnce();
    const [lease, record] = ddb.commandCalls(UpdateCommand).map((c) => c.args[0].input);
    expect(lease).toMatchObject({
      Key: { pk: 'UPLOAD#u-1', sk: 'SUMMARY' },
      ConditionExpression: expect.stringContaining('attribute_not_exists(mailedAt)'),
    });
    expect(record?.UpdateExpression).toContain('SET mailedAt');
  });

  it('sends nothing when another run already sent it', async () => {
    ddb.on(GetCommand).resolves({ Item: { mailedAt: '2026-12-01T00:00:00Z' } });
    const send = vi.fn(async () => undefined);
    await expect(sendSummaryOnce('u-1', send)).resolves.toBe('sent-by-another-run');
    expect(send).not.toHaveBeenCalled();
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it('waits while another run holds the lease, and returns once that run has sent', async () => {
    ddb
      .on(GetCommand)
      .resolvesOnce({ Item: { leaseUntil: Date.now() + 30_000 } })
      .resolves({ Item: { mailedAt: '2026-12-01T00:00:00Z' } });
    const send = vi.fn(async () => undefined);
    await expect(sendSummaryOnce('u-1', send)).resolves.toBe('sent-by-another-run');
    expect(send).not.toHaveBeenCalled();
  });

  it('sends itself when the run holding the lease died (the lease lapsed)', async () => {
    ddb.on(GetCommand).resolves({ Item: { leaseUntil: Date.now() - 1 } });
    ddb.on(UpdateCommand).resolves({});
    const send = vi.fn(async () => undefined);
    await expect(sendSummaryOnce('u-1', send)).resolves.toBe('sent');
    expect(send).toHaveBeenCalledOnce();
  });

  it('reads again when another run took the lease first', async () => {
    ddb
      .on(GetCommand)
      .resolvesOnce({})
      .resolves({ Item: { mailedAt: '2026-12-01T00:00:00Z' } });
    ddb.on(UpdateCommand).rejectsOnce(taken());
    const send = vi.fn(async () => undefined);
    await expect(sendSummaryOnce('u-1', send)).resolves.toBe('sent-by-another-run');
    expect(send).not.toHaveBeenCalled();
  });

  it('gives the lease back when sending fails, so a retry sends without waiting it out', async () => {
    ddb.on(GetCommand).resolves({});
    ddb.on(UpdateCommand).resolves({});
    const failure = Object.assign(new Error('SES down'), { name: 'ServiceUnavailable' });
    await expect(sendSummaryOnce('u-1', async () => Promise.reject(failure))).rejects.toBe(failure);
    const release = ddb.commandCalls(UpdateCommand)[1]?.args[0].input;
    expect(release).toMatchObject({ UpdateExpression: 'REMOVE leaseUntil, holder', ConditionExpression: 'holder = :holder' });
  });
});
