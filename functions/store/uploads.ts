/**
 * One summary email per upload. EventBridge may deliver one upload's event many times,
 * each delivery its own intake execution, and each reads the file and writes the same
 * report; the officer should get one email, not one per delivery. The email is sent
 * under a lease on `UPLOAD#<uploadId>` / `SUMMARY`: the run that takes the lease sends
 * and records `mailedAt`; the others wait for that record. A run that dies holding the
 * lease lets it lapse, and the next run takes it, so the email goes out at least once
 * (twice only if a run dies between sending and recording).
 */
import { randomUUID } from 'node:crypto';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { TransientError } from '#domain/errors';
import { dynamo } from '#lib/clients/dynamodb';
import { conditionally, tableName as table } from '#lib/table';

/** Longer than sending an email takes (SES answers in well under a second), short enough that a dead run's lease lapses soon. */
export const SUMMARY_LEASE_MS = 60_000;
/** How often a waiting run looks again; jittered, so many waiting runs spread out. */
const POLL_MS = 500;

const summaryKey = (uploadId: string) => ({ pk: `UPLOAD#${uploadId}`, sk: 'SUMMARY' });

interface Summary {
  mailedAt?: string;
  leaseUntil?: number;
}

async function readSummary(uploadId: string): Promise<Summary> {
  const out = await dynamo.send(new GetCommand({ TableName: table(), Key: summaryKey(uploadId), ConsistentRead: true }));
  return { mailedAt: out.Item?.mailedAt as string | undefined, leaseUntil: out.Item?.leaseUntil as number | undefined };
}

const update = (input: Omit<ConstructorParameters<typeof UpdateCommand>[0], 'TableName'>): Promise<boolean> =>
  conditionally(() => dynamo.send(new UpdateCommand({ TableName: table(), ...input })));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `send` once for the upload, whichever of its runs calls first. Returns when the
 * email has gone out (from this run or another), or throws: `send`'s own error, or a
 * TransientError when another run held the lease for longer than a lease should last.
 */
export async function sendSummaryOnce(uploadId: string, send: () => Promise<void>): Promise<'sent' | 'sent-by-another-run'> {
  const holder = randomUUID();
  const giveUpAt = Date.now() + 2 * SUMMARY_LEASE_MS + 10_000;
  while (Date.now() < giveUpAt) {
    const summary = await readSummary(uploadId);
    if (summary.mailedAt) return 'sent-by-another-run';
    const now = Date.now();
    if (summary.leaseUntil !== undefined && summary.leaseUntil > now) {
      await sleep(POLL_MS / 2 + Math.random() * POLL_MS);
      continue;
    }
    const leased = await update({
      Key: summaryKey(uploadId),
      UpdateExpression: 'SET leaseUntil = :until, holder = :holder',
      ConditionExpression: 'attribute_not_exists(mailedAt) AND (attribute_not_exists(leaseUntil) OR leaseUntil <= :now)',
      ExpressionAttributeValues: { ':until': now + SUMMARY_LEASE_MS, ':holder': holder, ':now': now },
    });
    if (!leased) continue;
    try {
      await send();
    } catch (e) {
      // Let the next run (this one's retry, or another delivery) send without waiting out the lease.
      await update({
        Key: summaryKey(uploadId),
        UpdateExpression: 'REMOVE leaseUntil, holder',
        ConditionExpression: 'holder = :holder',
        ExpressionAttributeValues: { ':holder': holder },
      }).catch(() => false);
      throw e;
    }
    // Unconditional: it went out, whoever holds the lease now.
    await update({
      Key: summaryKey(uploadId),
      UpdateExpression: 'SET mailedAt = if_not_exists(mailedAt, :at) REMOVE leaseUntil, holder',
      ExpressionAttributeValues: { ':at': new Date().toISOString() },
    });
    return 'sent';
  }
  throw new TransientError('the summary email of this upload is held by another run');
}
