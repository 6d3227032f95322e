/** District grant quotas, per program year. */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo } from '#lib/clients/dynamodb';
import { isConditionFailed, tableName as table } from '#lib/table';

/**
 * Takes one grant from the district quota for this case. The quota item keeps the set
 * of case ids it granted, so the check, the count and the idempotency (a retried
 * Disbursement must not count twice) are one conditional write. A district quota is a
 * few hundred to a few thousand families: the set stays far below the 400 KB item limit.
 */
export async function takeQuota(district: string, programYear: number, caseId: string, quota: number): Promise<boolean> {
  const Key = { pk: `QUOTA#${district}#${programYear}`, sk: 'QUOTA' };
  try {
    await dynamo.send(
      new UpdateCommand({
        TableName: table(),
        Key,
        UpdateExpression: 'ADD cases :case',
        ConditionExpression: 'attribute_not_exists(cases) OR (size(cases) < :quota AND NOT contains(cases, :id))',
        ExpressionAttributeValues: { ':case': new Set([caseId]), ':quota': quota, ':id': caseId },
      }),
    );
    return true;
  } catch (e) {
    if (!isConditionFailed(e)) throw e;
    const out = await dynamo.send(new GetCommand({ TableName: table(), Key, ConsistentRead: true }));
    const granted = out.Item?.cases as Set<string> | undefined;
    return granted?.has(caseId) ?? false;
  }
}
