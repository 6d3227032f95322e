/**
 * The table's key schema and its index, named once for the three places that need
 * them: the CDK app creates the table (infra/constructs/prokus-data.ts), the embedded
 * runtime creates it in dynalite, and the store queries it. Plain data: infra imports it
 * without loading the AWS SDK.
 */

export const TABLE_KEY = { partitionKey: 'pk', sortKey: 'sk' } as const;

/** Cases of a district and program year, by stage: `DISTRICT#<district>#<year>` / `<stage>#<caseId>`. */
export const BY_DISTRICT_STAGE = { indexName: 'byDistrictStage', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' } as const;

/** Every attribute a key of the table or of an index uses; all are strings. */
export const KEY_ATTRIBUTES = [
  TABLE_KEY.partitionKey,
  TABLE_KEY.sortKey,
  BY_DISTRICT_STAGE.partitionKey,
  BY_DISTRICT_STAGE.sortKey,
] as const;
