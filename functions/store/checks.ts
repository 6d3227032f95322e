/**
 * The upload page's checks: a file an officer put under `checks/<district>/<checkId>/`
 * to see its verdicts before it becomes an upload (functions/officers/). The item names
 * the district and the key, so a check id in a URL is looked up, never trusted: the
 * page compares the item's district with the signed-in officer's every time.
 *
 * Submitting copies the file to `proposals/`, which starts the intake, so it must happen
 * once however often the officer presses the button (double clicks, a retried request,
 * two tabs): the copy runs under a lease on this item, and its result is recorded here.
 * A run that dies holding the lease lets it lapse; the next submit finds out from the
 * copied object's metadata whether the copy landed before copying again.
 */
import { randomUUID } from 'node:crypto';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from '#domain/zod';
import { dynamo } from '#lib/clients/dynamodb';
import { conditionally, tableName as table } from '#lib/table';

/**
 * A check's item outlives its file (a day, the bucket's lifecycle rule) long enough for a late
 * submit or an old tab to find the upload it became; then the table deletes it (`ttl`).
 */
export const CHECK_ITEM_DAYS = 30;

/** Longer than a CopyObject of 100 MiB within S3 takes, short enough for a retry soon after a crash. */
export const SUBMIT_LEASE_MS = 60_000;

const checkItemKey = (checkId: string) => ({ pk: `CHECK#${checkId}`, sk: 'CHECK' });

export const Check = z.object({
  checkId: z.string(),
  district: z.string(),
  fileName: z.string(),
  /** The program year the file proposes for (the upload's `program-year`). */
  programYear: z.int(),
  /** `checks/<district>/<checkId>/<fileName>` */
  key: z.string(),
  /** Who asked for it (the upload's summary email goes to them). */
  sub: z.string(),
  email: z.string(),
  createdAt: z.string(),
  /** Once submitted: the upload it became. */
  upload: z.optional(z.object({ key: z.string(), uploadId: z.string(), at: z.string() })),
  discardedAt: z.optional(z.string()),
  leaseUntil: z.optional(z.number()),
});
export type Check = z.infer<typeof Check>;

export async function createCheck(check: Omit<Check, 'upload' | 'discardedAt' | 'leaseUntil'>): Promise<void> {
  await dynamo.send(
    new PutCommand({
      TableName: table(),
      Item: {
        ...checkItemKey(check.checkId),
        ...check,
        ttl: Math.ceil(Date.parse(check.createdAt) / 1000) + CHECK_ITEM_DAYS * 86_400,
      },
      // Ids are random; a clash would be a bug, and must not overwrite someone's check.
      ConditionExpression: 'attribute_not_exists(pk)',
    }),
  );
}

export async function findCheck(checkId: string): Promise<Check | undefined> {
  const out = await dynamo.send(new GetCommand({ TableName: table(), Key: checkItemKey(checkId), ConsistentRead: true }));
  if (!out.Item) return undefined;
  return z.parse(Check, out.Item);
}

export type SubmitLease = { holder: string } | { held: 'submitted' | 'discarded' | 'in-progress' };

/** Takes the right to copy this check to proposals/: refused once it was submitted or discarded, or while another request holds it. */
export async function takeSubmitLease(checkId: string, now = Date.now()): Promise<SubmitLease> {
  const holder = randomUUID();
  const taken = await conditionally(() =>
    dynamo.send(
      new UpdateCommand({
        TableName: table(),
        Key: checkItemKey(checkId),
        UpdateExpression: 'SET leaseUntil = :until, holder = :holder',
        ConditionExpression:
          'attribute_exists(pk) AND attribute_not_exists(upload) AND attribute_not_exists(discardedAt) AND (attribute_not_exists(leaseUntil) OR leaseUntil <= :now)',
        ExpressionAttributeValues: { ':until': now + SUBMIT_LEASE_MS, ':holder': holder, ':now': now },
      }),
    ),
  );
  if (taken) return { holder };
  const current = await findCheck(checkId);
  return { held: current?.upload ? 'submitted' : current?.discardedAt ? 'discarded' : 'in-progress' };
}

/** The copy landed: recorded whoever holds the lease now (it happened). */
export async function recordSubmitted(checkId: string, upload: NonNullable<Check['upload']>): Promise<void> {
  await dynamo.send(
    new UpdateCommand({
      TableName: table(),
      Key: checkItemKey(checkId),
      UpdateExpression: 'SET #upload = if_not_exists(#upload, :upload) REMOVE leaseUntil, holder',
      ExpressionAttributeNames: { '#upload': 'upload' },
      ExpressionAttributeValues: { ':upload': upload },
    }),
  );
}

/** Gives the lease back after a failed copy, so the officer can try again at once. */
export async function releaseSubmitLease(checkId: string, holder: string): Promise<void> {
  await conditionally(() =>
    dynamo.send(
      new UpdateCommand({
        TableName: table(),
        Key: checkItemKey(checkId),
        UpdateExpression: 'REMOVE leaseUntil, holder',
        ConditionExpression: 'holder = :holder',
        ExpressionAttributeValues: { ':holder': holder },
      }),
    ),
  );
}

/** The officer chose to fix the file instead; false when it was already submitted (or a submit is running). */
export async function recordDiscarded(checkId: string, now = Date.now()): Promise<boolean> {
  return conditionally(() =>
    dynamo.send(
      new UpdateCommand({
        TableName: table(),
        Key: checkItemKey(checkId),
        UpdateExpression: 'SET discardedAt = if_not_exists(discardedAt, :at)',
        ConditionExpression:
          'attribute_exists(pk) AND attribute_not_exists(upload) AND (attribute_not_exists(leaseUntil) OR leaseUntil <= :now)',
        ExpressionAttributeValues: { ':at': new Date(now).toISOString(), ':now': now },
      }),
    ),
  );
}
