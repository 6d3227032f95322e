/**
 * The one DynamoDB table. Writes are single-item and conditional, so each is idempotent
 * on its own, except one: a case write that changes the funnel adds to its district's
 * counter item in the same TransactWriteItems (store/cases.ts), so the counts are exact
 * (the embedded DynamoDB answers TransactWriteItems too: embedded/local/dynamodb-transactions.ts).
 * Here: its name from the environment, and how a conditional write tells "the
 * condition failed" from a real failure.
 *
 * Items (pk / sk):
 *   CASE#<caseId>        / CASE          the case record (functions/store/cases.ts)
 *   NIK#<nikHash>        / CLAIM#<year>  which case proposed this NIK for that program year (store/claims.ts)
 *   KK#<kkHash>          / CLAIM#<year>  same for the family card
 *   REGISTRY#<nikHash>   / PKH           PKH graduation registry entry
 *   REQUEST#<requestId>  / REQUEST       a link sent by email (approval, milestone report, financing outcome)
 *   QUOTA#<district>#<year> / QUOTA      grants reserved against the district quota, and the blocks of the national ceiling it drew
 *   QUOTA#NATIONAL#<year> / QUOTA        the blocks of the national ceiling given to districts (store/quota.ts)
 *   UPLOAD#<uploadId>    / SUMMARY       whether the upload's summary email went out (store/uploads.ts)
 *   SESSION#<cookie hash> / SESSION      a signed-in person's session (store/sessions.ts)
 *   SIGNIN#<state>       / SIGNIN        a sign-in under way (store/sessions.ts)
 *   CHECK#<checkId>      / CHECK         a file the upload page checks before the officer submits it (store/checks.ts)
 *   FUNNEL#<year>        / DISTRICT#<district>  the district's funnel counters (domain/funnel.ts, store/funnel.ts)
 * GSI `byDistrictStage`: gsi1pk = DISTRICT#<district>#<year>, gsi1sk = <stage>#<caseId>.
 * GSI `byUploadStage`: gsi2pk = UPLOAD#<uploadId> (on cases), the same gsi1sk; keys and `outcome` only.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { requiredEnv } from './env.ts';

export const tableName = () => requiredEnv('TABLE_NAME');

export function isConditionFailed(e: unknown): boolean {
  return e instanceof ConditionalCheckFailedException || (e as { name?: string })?.name === 'ConditionalCheckFailedException';
}

/** Runs a conditional write; false when its condition did not hold, any other failure thrown. */
export async function conditionally(write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (e) {
    if (isConditionFailed(e)) return false;
    throw e;
  }
}

/**
 * DynamoDB refused this one item for what it holds (over the 400 KB item size, an
 * attribute it cannot store): writing it again can never succeed, unlike throttling or
 * a timeout, and other items are not affected.
 */
export function isItemRefused(e: unknown): boolean {
  return (e as { name?: string })?.name === 'ValidationException';
}
