/**
 * Case records and the operators' index over them. Every stage change is one
 * conditional UpdateItem, so a duplicate or stale run fails instead of overwriting.
 * This is the one place stages change, so it is where the funnel is counted
 * (lib/metrics.ts): a stage entered when the write lands, an outcome when a case closes.
 */

import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { Case, Outcome, Stage } from '#domain/case';
import type { ClaimedCase } from '#domain/claim';
import { CaseNotFoundError, StageConflictError } from '#domain/errors';
import * as z from '#domain/zod';
import { dynamo } from '#lib/clients/dynamodb';
import { countCaseClosed, countCaseEnteredStage } from '#lib/metrics';
import { isConditionFailed, tableName as table } from '#lib/table';
import { BY_DISTRICT_STAGE, BY_UPLOAD_STAGE } from '#lib/table-schema';

const caseKey = (caseId: string) => ({ pk: `CASE#${caseId}`, sk: 'CASE' });

const INDEX = BY_DISTRICT_STAGE;

const districtKey = (district: string, programYear: number) => `DISTRICT#${district}#${programYear}`;

const stageSortKey = (stage: Stage, caseId: string) => `${stage}#${caseId}`;

const uploadKey = (uploadId: string) => `UPLOAD#${uploadId}`;

function indexKeys(c: Pick<Case, 'district' | 'programYear' | 'stage' | 'caseId' | 'proposal'>) {
  return {
    [INDEX.partitionKey]: districtKey(c.district, c.programYear),
    [INDEX.sortKey]: stageSortKey(c.stage, c.caseId),
    // A case's upload never changes, so this key is written once; its sort key is the one above.
    [BY_UPLOAD_STAGE.partitionKey]: uploadKey(c.proposal.uploadId),
  };
}

export async function getCase(caseId: string): Promise<Case> {
  const out = await dynamo.send(new GetCommand({ TableName: table(), Key: caseKey(caseId), ConsistentRead: true }));
  if (!out.Item) throw new CaseNotFoundError(caseId);
  return z.parse(Case, out.Item);
}

const Standing = z.object({ stage: Stage, disbursement: z.optional(z.object({})) });

/** Where a case stands, as identity claims need it (domain/claim.ts); undefined when there is no such case. */
export async function caseStanding(caseId: string): Promise<ClaimedCase | undefined> {
  const out = await dynamo.send(
    new GetCommand({
      TableName: table(),
      Key: caseKey(caseId),
      ConsistentRead: true,
      // Only what the rule needs: the case's personal data stays where it is.
      ProjectionExpression: '#stage, #disbursement',
      ExpressionAttributeNames: { '#stage': 'stage', '#disbursement': 'disbursement' },
    }),
  );
  if (!out.Item) return undefined;
  const c = z.parse(Standing, out.Item);
  return { stage: c.stage, granted: c.disbursement !== undefined };
}

/** Creates the case unless it exists; returns false when it already did. */
export async function createCase(c: Case): Promise<boolean> {
  try {
    await dynamo.send(
      new PutCommand({
        TableName: table(),
        Item: { ...caseKey(c.caseId), ...indexKeys(c), ...c },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    countCaseEnteredStage(c, c.stage);
    return true;
  } catch (e) {
    if (isConditionFailed(e)) return false;
    throw e;
  }
}

export interface CaseUpdate {
  /** The update applies only while the case is at one of these stages. */
  expectStage: Stage | Stage[];
  /** Top-level attributes to set (undefined values are skipped). */
  set: Partial<Omit<Case, 'caseId' | 'stage' | 'updatedAt'>>;
  /** Move the case to this stage in the same write. */
  stage?: Stage;
  /** Extra condition on a top-level attribute being absent, for write-once facts. */
  onlyIfAbsent?: keyof Case;
  /**
   * Applies only if the case was not written since this `updatedAt` (the one read): for a
   * set computed from what was read (a list grown by one), so a slower writer cannot
   * drop what a faster one added. It fails as a StageConflictError; read and try again.
   */
  unchangedSince?: string;
}

/**
 * One conditional UpdateItem: the stage check and the new facts land together or not
 * at all. Throws StageConflictError when the case moved on (a duplicate or stale run).
 */
export async function updateCase(caseId: string, update: CaseUpdate): Promise<Case> {
  const now = new Date().toISOString();
  const names: Record<string, string> = { '#stage': 'stage', '#updatedAt': 'updatedAt' };
  const values: Record<string, unknown> = { ':now': now };
  const sets = ['#updatedAt = :now'];
  let i = 0;
  for (const [key, value] of Object.entries(update.set)) {
    if (value === undefined) continue;
    i += 1;
    names[`#a${i}`] = key;
    values[`:v${i}`] = value;
    sets.push(`#a${i} = :v${i}`);
  }
  if (update.stage) {
    values[':newStage'] = update.stage;
    values[':gsi1sk'] = stageSortKey(update.stage, caseId);
    names['#gsi1sk'] = INDEX.sortKey;
    sets.push('#stage = :newStage', '#gsi1sk = :gsi1sk');
  }
  const expected = Array.isArray(update.expectStage) ? update.expectStage : [update.expectStage];
  const stageConds = expected.map((s, n) => {
    values[`:s${n}`] = s;
    return `#stage = :s${n}`;
  });
  let condition = `attribute_exists(pk) AND (${stageConds.join(' OR ')})`;
  if (update.onlyIfAbsent) {
    names['#absent'] = update.onlyIfAbsent;
    condition += ' AND attribute_not_exists(#absent)';
  }
  if (update.unchangedSince) {
    values[':was'] = update.unchangedSince;
    condition += ' AND #updatedAt = :was';
  }
  try {
    const out = await dynamo.send(
      new UpdateCommand({
        TableName: table(),
        Key: caseKey(caseId),
        UpdateExpression: `SET ${sets.join(', ')}`,
        ConditionExpression: condition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      }),
    );
    const updated = z.parse(Case, out.Attributes);
    if (update.stage) countCaseEnteredStage(updated, update.stage);
    if (update.stage === 'closed' && updated.outcome) countCaseClosed(updated, updated.outcome);
    return updated;
  } catch (e) {
    if (!isConditionFailed(e)) throw e;
    const current = await getCase(caseId);
    throw new StageConflictError(caseId, expected.join('|'), current.stage);
  }
}

/** Cases of a district and year at a stage (or all stages), for operators and the demo. */
export async function listCases(district: string, programYear: number, stage?: Stage): Promise<Case[]> {
  const cases: Case[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await dynamo.send(
      new QueryCommand({
        TableName: table(),
        IndexName: INDEX.indexName,
        KeyConditionExpression: stage
          ? `${INDEX.partitionKey} = :pk AND begins_with(${INDEX.sortKey}, :stage)`
          : `${INDEX.partitionKey} = :pk`,
        ExpressionAttributeValues: { ':pk': districtKey(district, programYear), ...(stage ? { ':stage': `${stage}#` } : {}) },
        ExclusiveStartKey: start,
      }),
    );
    for (const item of out.Items ?? []) cases.push(z.parse(Case, item));
    start = out.LastEvaluatedKey;
  } while (start);
  return cases;
}

/** How many of an upload's families stand at each stage, and how the closed ones ended. */
export interface UploadProgress {
  families: number;
  byStage: Partial<Record<Stage, number>>;
  byOutcome: Partial<Record<Outcome, number>>;
}

const ProgressItem = z.object({ [BY_UPLOAD_STAGE.sortKey]: z.string(), outcome: z.optional(Outcome) });

/**
 * Counts one upload's cases by stage from the upload index, which holds only keys and the
 * outcome (about 150 bytes a case): one Query page per ~6,000 families, so an upload of
 * 100,000 families costs about 1,900 read units (eventually consistent) and 17 pages,
 * whatever else the district holds. Index reads lag writes by a moment, as a progress view may.
 */
export async function uploadProgress(uploadId: string): Promise<UploadProgress> {
  const progress: UploadProgress = { families: 0, byStage: {}, byOutcome: {} };
  let start: Record<string, unknown> | undefined;
  do {
    const out = await dynamo.send(
      new QueryCommand({
        TableName: table(),
        IndexName: BY_UPLOAD_STAGE.indexName,
        KeyConditionExpression: '#pk = :pk',
        ProjectionExpression: '#sk, #outcome',
        ExpressionAttributeNames: { '#pk': BY_UPLOAD_STAGE.partitionKey, '#sk': BY_UPLOAD_STAGE.sortKey, '#outcome': 'outcome' },
        ExpressionAttributeValues: { ':pk': uploadKey(uploadId) },
        ExclusiveStartKey: start,
      }),
    );
    for (const raw of out.Items ?? []) {
      const item = z.parse(ProgressItem, raw);
      const stage = z.parse(Stage, String(item[BY_UPLOAD_STAGE.sortKey]).split('#')[0]);
      progress.families += 1;
      progress.byStage[stage] = (progress.byStage[stage] ?? 0) + 1;
      if (item.outcome) progress.byOutcome[item.outcome] = (progress.byOutcome[item.outcome] ?? 0) + 1;
    }
    start = out.LastEvaluatedKey;
  } while (start);
  return progress;
}
