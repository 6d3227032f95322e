/** Identity claims: one family, one grant, across districts and years. */

import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { Claim } from '#domain/claim';
import { TransientError } from '#domain/errors';
import * as z from '#domain/zod';
import { dynamo } from '#lib/clients/dynamodb';
import { isConditionFailed, tableName as table } from '#lib/table';

/**
 * A claim released between this run's failed put and its read (another run of the same
 * upload gave it back) is tried again; it cannot keep flipping for long, as a claim is only
 * ever released by the upload that took it, once.
 */
const CLAIM_ATTEMPTS = 5;

/** Claims an identity for a case; returns the existing claim when someone got there first. */
export async function claimIdentity(
  kind: 'NIK' | 'KK',
  hash: string,
  claim: Claim,
): Promise<{ won: true } | { won: false; existing: Claim }> {
  const Key = { pk: `${kind}#${hash}`, sk: 'CLAIM' };
  for (let attempt = 1; ; attempt++) {
    try {
      await dynamo.send(
        new PutCommand({ TableName: table(), Item: { ...Key, ...claim }, ConditionExpression: 'attribute_not_exists(pk)' }),
      );
      return { won: true };
    } catch (e) {
      if (!isConditionFailed(e)) throw e;
    }
    const out = await dynamo.send(new GetCommand({ TableName: table(), Key, ConsistentRead: true }));
    if (out.Item) return { won: false, existing: z.parse(Claim, out.Item) };
    if (attempt >= CLAIM_ATTEMPTS) throw new TransientError(`identity claim ${kind} kept changing`);
  }
}

/**
 * Gives up a claim this case took in this upload, when the family's other identity
 * turned out to be proposed already: otherwise the number would stay claimed by a case
 * that was never created. Conditional, so a claim anyone else holds is never touched.
 */
export async function releaseClaim(kind: 'NIK' | 'KK', hash: string, claim: Pick<Claim, 'caseId' | 'uploadId'>): Promise<void> {
  try {
    await dynamo.send(
      new DeleteCommand({
        TableName: table(),
        Key: { pk: `${kind}#${hash}`, sk: 'CLAIM' },
        ConditionExpression: 'caseId = :caseId AND uploadId = :uploadId',
        ExpressionAttributeValues: { ':caseId': claim.caseId, ':uploadId': claim.uploadId },
      }),
    );
  } catch (e) {
    if (!isConditionFailed(e)) throw e;
  }
}
