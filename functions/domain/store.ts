/**
 * DynamoDB access: one table, single-item conditional writes only (no transactions),
 * so every write is idempotent on its own and the embedded DynamoDB can run it.
 *
 * Items (pk / sk):
 *   CASE#<caseId>        / CASE          the case record (see case.ts)
 *   NIK#<nikHash>        / CLAIM         which case first proposed this NIK (any year, any district)
 *   KK#<kkHash>          / CLAIM         same for the family card
 *   REGISTRY#<nikHash>   / PKH           PKH graduation registry entry
 *   REQUEST#<requestId>  / REQUEST       a link sent by email (approval, milestone report, financing outcome)
 *   QUOTA#<district>#<year> / QUOTA      grants disbursed against the district quota
 *   UPLOAD#<uploadId>    / UPLOAD        an intake run over one uploaded file
 * GSI `byDistrictStage`: gsi1pk = DISTRICT#<district>#<year>, gsi1sk = <stage>#<caseId>.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { Case, type Stage } from './case.ts';
import { dynamo, requiredEnv } from './clients.ts';
import { CaseNotFoundError, StageConflictError } from './errors.ts';

const table = () => requiredEnv('TABLE_NAME');

const caseKey = (caseId: string) => ({ pk: `CASE#${caseId}`, sk: 'CASE' });

const stageSortKey = (stage: Stage, caseId: string) => `${stage}#${caseId}`;

function indexKeys(c: Pick<Case, 'district' | 'programYear' | 'stage' | 'caseId'>) {
  return { gsi1pk: `DISTRICT#${c.district}#${c.programYear}`, gsi1sk: stageSortKey(c.stage, c.caseId) };
}

export function isConditionFailed(e: unknown): boolean {
  return e instanceof ConditionalCheckFailedException || (e as { name?: string })?.name === 'ConditionalCheckFailedException';
}

export async function getCase(caseId: string): Promise<Case> {
  const out = await dynamo.send(new GetCommand({ TableName: table(), Key: caseKey(caseId), ConsistentRead: true }));
  if (!out.Item) throw new CaseNotFoundError(caseId);
  return Case.parse(out.Item);
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
    names['#gsi1sk'] = 'gsi1sk';
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
    return Case.parse(out.Attributes);
  } catch (e) {
    if (!isConditionFailed(e)) throw e;
    const current = await getCase(caseId);
    throw new StageConflictError(caseId, expected.join('|'), current.stage);
  }
}

// ---- identity claims: one family, one grant, across districts and years ----

export const Claim = z.object({
  caseId: z.string(),
  district: z.string(),
  programYear: z.number(),
  proposedAt: z.string(),
  uploadId: z.string(),
});
export type Claim = z.infer<typeof Claim>;

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
    return { won: false, existing: Claim.parse(out.Item) };
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

// ---- PKH graduation registry ----

export const RegistryEntry = z.object({
  nikHash: z.string(),
  /** Date the family graduated from PKH, or absent when it has not. */
  graduatedOn: z.string().optional(),
  decile: z.number().int().min(1).max(10),
  /** Program year of an earlier Prokus grant, if any. */
  previousGrantYear: z.number().int().optional(),
  importedAt: z.string(),
});
export type RegistryEntry = z.infer<typeof RegistryEntry>;

export async function getRegistryEntry(nikHash: string): Promise<RegistryEntry | undefined> {
  const out = await dynamo.send(new GetCommand({ TableName: table(), Key: { pk: `REGISTRY#${nikHash}`, sk: 'PKH' } }));
  return out.Item ? RegistryEntry.parse(out.Item) : undefined;
}

export async function putRegistryEntry(entry: RegistryEntry): Promise<void> {
  await dynamo.send(new PutCommand({ TableName: table(), Item: { pk: `REGISTRY#${entry.nikHash}`, sk: 'PKH', ...entry } }));
}

// ---- district quota ----

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

/** Cases of a district and year at a stage (or all stages), for operators and the demo. */
export async function listCases(district: string, programYear: number, stage?: Stage): Promise<Case[]> {
  const cases: Case[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await dynamo.send(
      new QueryCommand({
        TableName: table(),
        IndexName: 'byDistrictStage',
        KeyConditionExpression: stage ? 'gsi1pk = :pk AND begins_with(gsi1sk, :stage)' : 'gsi1pk = :pk',
        ExpressionAttributeValues: { ':pk': `DISTRICT#${district}#${programYear}`, ...(stage ? { ':stage': `${stage}#` } : {}) },
        ExclusiveStartKey: start,
      }),
    );
    for (const item of out.Items ?? []) cases.push(Case.parse(item));
    start = out.LastEvaluatedKey;
  } while (start);
  return cases;
}
