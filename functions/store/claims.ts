/** Identity claims: one family, one grant, across districts and years. */

import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { Claim } from '#domain/claim';
import * as z from '#domain/zod';
import { dynamo } from '#lib/clients/dynamodb';
import { isConditionFailed, tableName as table } from '#lib/table';

/** Claims an identity for a case; returns the existing claim when someone got there first. */
export async function claimIdentity(
  kind: 'NIK' | 'KK',
  hash: string,
  claim: Claim,
): Promise<{ won: true } | { won: false; existing: Claim }> {
  try {
    await dynamo.send(
      new PutCommand({
        TableName: table(),
        Item: { pk: `${kind}#${hash}`, sk: 'CLAIM', ...claim },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return { won: true };
  } catch (e) {
    if (!isConditionFailed(e)) throw e;
    const out = await dynamo.send(
      new GetCommand({ TableName: table(), Key: { pk: `${kind}#${hash}`, sk: 'CLAIM' }, ConsistentRead: true }),
    );
    return { won: false, existing: z.parse(Claim, out.Item) };
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
