/**
 * The table's key schema and its indexes, named once for the three places that need
 * them: the CDK app creates the table (infra/constructs/prokus-data.ts), the embedded
 * runtime creates it in dynalite, and the store queries it. Plain data: infra imports it
 * without loading the AWS SDK.
 */

export const TABLE_KEY = { partitionKey: 'pk', sortKey: 'sk' } as const;

/** Cases of a district and program year, by stage: `DISTRICT#<district>#<year>` / `<stage>#<caseId>`. */
export const BY_DISTRICT_STAGE = { indexName: 'byDistrictStage', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' } as const;

/**
 * Cases of one upload, by stage: `UPLOAD#<uploadId>` / the same `<stage>#<caseId>` as
 * above (one attribute, so the stage write that moves a case in one index moves it in
 * both). Keys and the outcome only: the upload page counts families per stage and
 * outcome, and a count must not read whole case records.
 */
export const BY_UPLOAD_STAGE = {
  indexName: 'byUploadStage',
  partitionKey: 'gsi2pk',
  sortKey: BY_DISTRICT_STAGE.sortKey,
  projected: ['outcome'],
} as const;

/** Every attribute a key of the table or of an index uses; all are strings. */
export const KEY_ATTRIBUTES = [
  TABLE_KEY.partitionKey,
  TABLE_KEY.sortKey,
  BY_DISTRICT_STAGE.partitionKey,
  BY_DISTRICT_STAGE.sortKey,
  BY_UPLOAD_STAGE.partitionKey,
] as const;
