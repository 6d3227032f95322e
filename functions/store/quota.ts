/** District grant quotas, per program year. */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Case, GrantQuota } from '#domain/case';
import { ProgramConfigError } from '#domain/errors';
import { programFor } from '#domain/program';
import { dynamo } from '#lib/clients/dynamodb';
import { isConditionFailed, tableName as table } from '#lib/table';
import { holdFamilyGrant } from './grants.ts';

/**
 * Reserves one grant of the district quota for this case, when the approval is applied
 * (requests/decisions.ts), so the approver is told the truth; Disbursement asks again
 * and finds the reservation. The quota item keeps the set of case ids it reserved for,
 * so the check, the count and the idempotency (a replayed approval or a retried
 * Disbursement must not count twice) are one conditional write on one item: under any
 * concurrency exactly `quota` cases get a reservation. Reservations are never given
 * back, so once the quota is used up the answer for a case without one stays false.
 * A district quota is a few hundred to a few thousand families: the set stays far
 * below the 400 KB item limit.
 *
 * Before the quota, the family's one grant is held for this case (store/grants.ts): a
 * family card another case holds it for is `already-granted`, and takes nothing of the
 * district's quota.
 *
 * Returns `reserved` when the case holds a reservation (new or from an earlier pass),
 * `exhausted` when other cases used up the quota (the program configuration of the
 * case's year), `already-granted` when the family's grant is another case's.
 */
export async function reserveGrant(c: Pick<Case, 'caseId' | 'district' | 'programYear' | 'kkHash'>): Promise<GrantQuota> {
  // The configuration first: a district it does not know is an error, and nothing is written.
  const quota = districtQuota(c);
  if (!(await holdFamilyGrant(c)).held) return 'already-granted';
  return (await takeFromQuota(c, quota)) ? 'reserved' : 'exhausted';
}

async function takeFromQuota(c: Pick<Case, 'caseId' | 'district' | 'programYear'>, quota: number): Promise<boolean> {
  const Key = { pk: `QUOTA#${c.district}#${c.programYear}`, sk: 'QUOTA' };
  try {
    await dynamo.send(
      new UpdateCommand({
        TableName: table(),
        Key,
        UpdateExpression: 'ADD cases :case',
        ConditionExpression: 'attribute_not_exists(cases) OR (size(cases) < :quota AND NOT contains(cases, :id))',
        ExpressionAttributeValues: { ':case': new Set([c.caseId]), ':quota': quota, ':id': c.caseId },
      }),
    );
    return true;
  } catch (e) {
    if (!isConditionFailed(e)) throw e;
    const out = await dynamo.send(new GetCommand({ TableName: table(), Key, ConsistentRead: true }));
    const reserved = out.Item?.cases as Set<string> | undefined;
    return reserved?.has(c.caseId) ?? false;
  }
}

function districtQuota(c: Pick<Case, 'district' | 'programYear'>): number {
  const config = programFor(c.programYear);
  const district = config.districts[c.district];
  if (!district) throw new ProgramConfigError(`district ${c.district} is not in program ${config.version}`);
  return district.quota;
}
