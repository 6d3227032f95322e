/**
 * One grant per family card, ever (domain.md). The intake already refuses a family whose
 * earlier case was granted or has not ended (domain/claim.ts); this is the guarantee
 * under concurrency: two cases of one family card in two program years, proposed at the
 * same moment, both approved. `KK#<kkHash>` / `GRANT` names the one case the family's
 * grant is held for, taken with a conditional UpdateItem when a grant is reserved
 * (store/quota.ts reserveGrant), before the district quota.
 *
 * A hold is never given back by a write. A case that holds it and then ends without a
 * grant (its quota used up, or a crash between the hold and the quota) has ended: the
 * next case of the family takes the hold over, conditionally on it being unchanged.
 */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Case } from '#domain/case';
import { TransientError } from '#domain/errors';
import * as z from '#domain/zod';
import { dynamo } from '#lib/clients/dynamodb';
import { conditionally, tableName as table } from '#lib/table';
import { caseStanding } from './cases.ts';

const Hold = z.object({ caseId: z.string(), programYear: z.number(), heldAt: z.string() });
export type GrantHold = z.infer<typeof Hold>;

const holdKey = (kkHash: string) => ({ pk: `KK#${kkHash}`, sk: 'GRANT' });

const HOLD_ATTEMPTS = 5;

/** A conditional write of the whole hold (an UpdateItem, so the internet-facing Pages function needs no PutItem). */
async function put(c: Pick<Case, 'caseId' | 'kkHash' | 'programYear'>, condition: string, values: Record<string, unknown>) {
  return conditionally(() =>
    dynamo.send(
      new UpdateCommand({
        TableName: table(),
        Key: holdKey(c.kkHash),
        UpdateExpression: 'SET caseId = :caseId, programYear = :year, heldAt = :at',
        ConditionExpression: condition,
        ExpressionAttributeValues: {
          ':caseId': c.caseId,
          ':year': c.programYear,
          ':at': new Date().toISOString(),
          ...values,
        },
      }),
    ),
  );
}

/**
 * Holds the family's one grant for this case: `held` when the case holds it (now or from
 * an earlier pass), else the hold of the other case that has the family's grant
 * (granted, or on its way to it).
 */
export async function holdFamilyGrant(
  c: Pick<Case, 'caseId' | 'kkHash' | 'programYear'>,
): Promise<{ held: true } | { held: false; by: GrantHold }> {
  for (let attempt = 1; attempt <= HOLD_ATTEMPTS; attempt++) {
    if (await put(c, 'attribute_not_exists(pk) OR caseId = :caseId', {})) return { held: true };
    const out = await dynamo.send(new GetCommand({ TableName: table(), Key: holdKey(c.kkHash), ConsistentRead: true }));
    if (!out.Item) continue;
    const other = z.parse(Hold, out.Item);
    const standing = await caseStanding(other.caseId);
    const ended = standing === undefined || (standing.stage === 'closed' && !standing.granted);
    if (!ended) return { held: false, by: other };
    if (await put(c, 'caseId = :other AND heldAt = :heldAt', { ':other': other.caseId, ':heldAt': other.heldAt })) {
      return { held: true };
    }
  }
  throw new TransientError('the family grant hold kept changing');
}
