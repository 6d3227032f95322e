/**
 * Case records and the operators' index over them. Every stage change is one
 * conditional UpdateItem, so a duplicate or stale run fails instead of overwriting.
 * This is the one place stages change, so it is where the funnel is counted
 * (lib/metrics.ts): a stage entered when the write lands, an outcome when a case closes.
 */

import {
  GetCommand,
  PutCommand,
  type PutCommandInput,
  QueryCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { Case, Outcome, Stage } from '#domain/case';
import type { ClaimedCase } from '#domain/claim';
import { CaseNotFoundError, StageConflictError } from '#domain/errors';
import { type FunnelCounters, funnelDelta } from '#domain/funnel';
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

/**
 * The funnel counter item of a district and program year (domain/funnel.ts): one item per
 * district, so the dashboard reads one partition, `FUNNEL#<year>`, whatever the number of
 * cases. Every case write that changes the funnel adds its delta here in the same
 * transaction. A district's writes all touch this item: on AWS, transactions on one item
 * at once conflict and are tried again (TRANSACTION_ATTEMPTS), which bounds one district's
 * case writes to a few hundred a second; the intake of a 100,000-row file runs slower, not wrong.
 */
export const funnelKey = (district: string, programYear: number) => ({ pk: `FUNNEL#${programYear}`, sk: `DISTRICT#${district}` });

function counterUpdate(c: Pick<Case, 'district' | 'programYear'>, delta: FunnelCounters) {
  const names: Record<string, string> = {};
  const values: Record<string, number> = {};
  const adds = Object.entries(delta).map(([name, by], i) => {
    names[`#c${i}`] = name;
    values[`:c${i}`] = by;
    return `#c${i} :c${i}`;
  });
  return {
    TableName: table(),
    Key: funnelKey(c.district, c.programYear),
    UpdateExpression: `ADD ${adds.join(', ')}`,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

/** How often a write whose transaction conflicted with another (the same counter item) is tried. */
const TRANSACTION_ATTEMPTS = 8;

/** Which actions of a cancelled transaction failed, by their cancellation codes; undefined for any other error. */
function cancellationCodes(e: unknown): string[] | undefined {
  if ((e as { name?: string })?.name !== 'TransactionCanceledException') return undefined;
  const reasons = (e as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
  return reasons.map((r) => r.Code ?? 'None');
}

const pause = (attempt: number) => new Promise((r) => setTimeout(r, Math.random() * 10 * 2 ** Math.min(attempt, 6)));

/**
 * Writes the case item and, when the write changes the funnel, the counter item in one
 * transaction. Returns 'written', or 'condition' when the case item's condition failed;
 * conflicts with other transactions are tried again.
 */
async function writeCounted(
  write: { Put: PutCommandInput } | { Update: UpdateCommandInput },
  c: Pick<Case, 'district' | 'programYear'>,
  delta: FunnelCounters,
): Promise<'written' | 'condition'> {
  for (let attempt = 1; ; attempt++) {
    try {
      if (Object.keys(delta).length === 0) {
        if ('Put' in write) await dynamo.send(new PutCommand(write.Put));
        else await dynamo.send(new UpdateCommand(write.Update));
      } else {
        await dynamo.send(
          new TransactWriteCommand({
            TransactItems: [
              'Put' in write ? { Put: write.Put } : { Update: write.Update },
              { Update: counterUpdate(c, delta) },
            ] as NonNullable<TransactWriteCommandInput['TransactItems']>,
          }),
        );
      }
      return 'written';
    } catch (e) {
      if (isConditionFailed(e)) return 'condition';
      const codes = cancellationCodes(e);
      if (!codes) throw e;
      if (codes[0] === 'ConditionalCheckFailed') return 'condition';
      if (!codes.includes('TransactionConflict') || attempt >= TRANSACTION_ATTEMPTS) throw e;
      await pause(attempt);
    }
  }
}

/** Creates the case unless it exists; returns false when it already did. */
export async function createCase(c: Case): Promise<boolean> {
  const created: Case = { ...c, stageSince: c.stageSince ?? c.createdAt, rev: 1 };
  const outcome = await writeCounted(
    {
      Put: {
        TableName: table(),
        Item: { ...caseKey(c.caseId), ...indexKeys(c), ...created },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    },
    c,
    funnelDelta(undefined, created),
  );
  if (outcome === 'condition') return false;
  countCaseEnteredStage(c, c.stage);
  return true;
}

type CaseFacts = Partial<Omit<Case, 'caseId' | 'stage' | 'updatedAt' | 'rev' | 'stageSince'>>;

export interface CaseUpdate {
  /** The update applies only while the case is at one of these stages. */
  expectStage: Stage | Stage[];
  /**
   * Top-level attributes to set (undefined values are skipped). A value built from the case
   * as read (a map or a list grown by one: milestones, resumes, a referral's outcome) is a
   * function of the case: the store calls it with the case it is about to write over, again
   * after each race, so a fact another writer added in between is kept; it returns
   * undefined when there is nothing left to write (the fact is there already).
   */
  set: CaseFacts | ((current: Case) => CaseFacts | undefined);
  /** Top-level attributes to remove (a failure a new run of the journey leaves behind). */
  remove?: (keyof Omit<Case, 'caseId' | 'stage' | 'updatedAt' | 'rev' | 'createdAt'>)[];
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

/** Whether the update's own conditions hold on the case as read. */
function applies(c: Case, update: CaseUpdate, expected: Stage[]): boolean {
  if (!expected.includes(c.stage)) return false;
  if (update.onlyIfAbsent && c[update.onlyIfAbsent] !== undefined) return false;
  return update.unchangedSince === undefined || c.updatedAt === update.unchangedSince;
}

/** How often a write is tried when another write of the same case landed between its read and its write. */
const CASE_ATTEMPTS = 8;

/**
 * One conditional write of the case: the stage check and the new facts land together or
 * not at all, with the funnel counters they change (domain/funnel.ts) in the same
 * transaction. It reads the case first, to know what the write changes, and writes only
 * if the case is still what it read (`rev`); another write landing in between makes it
 * read again. Throws StageConflictError when the case moved on (a duplicate or stale run).
 */
export async function updateCase(caseId: string, update: CaseUpdate): Promise<Case> {
  const expected = Array.isArray(update.expectStage) ? update.expectStage : [update.expectStage];
  for (let attempt = 1; ; attempt++) {
    const before = await getCase(caseId);
    if (!applies(before, update, expected)) throw new StageConflictError(caseId, expected.join('|'), before.stage);
    const facts = typeof update.set === 'function' ? update.set(before) : update.set;
    if (facts === undefined) return before;
    const now = new Date().toISOString();
    const moved = update.stage !== undefined && update.stage !== before.stage;
    const sets = Object.fromEntries(Object.entries(facts).filter(([, v]) => v !== undefined));
    const after: Case = { ...before, ...sets, updatedAt: now, rev: (before.rev ?? 0) + 1 };
    for (const name of update.remove ?? []) delete after[name];
    if (update.stage) after.stage = update.stage;
    if (moved) after.stageSince = now;
    const outcome = await writeCounted(
      { Update: caseWrite(caseId, before, after, { ...update, set: sets }) },
      before,
      funnelDelta(before, after),
    );
    if (outcome === 'condition') {
      if (attempt >= CASE_ATTEMPTS) throw new StageConflictError(caseId, expected.join('|'), before.stage);
      continue;
    }
    const updated = z.parse(Case, after);
    if (moved && update.stage) countCaseEnteredStage(updated, update.stage);
    if (moved && update.stage === 'closed' && updated.outcome) countCaseClosed(updated, updated.outcome);
    return updated;
  }
}

/** The UpdateItem of the case: the update's facts, its stage in both indexes, conditional on the case as read. */
function caseWrite(caseId: string, before: Case, after: Case, update: CaseUpdate & { set: CaseFacts }): UpdateCommandInput {
  const names: Record<string, string> = { '#stage': 'stage', '#updatedAt': 'updatedAt', '#rev': 'rev' };
  const values: Record<string, unknown> = { ':now': after.updatedAt, ':rev': before.rev ?? 0, ':next': after.rev };
  const sets = ['#updatedAt = :now', '#rev = :next'];
  let i = 0;
  for (const [key, value] of Object.entries(update.set)) {
    if (value === undefined) continue;
    i += 1;
    names[`#a${i}`] = key;
    values[`:v${i}`] = value;
    sets.push(`#a${i} = :v${i}`);
  }
  if (update.stage && update.stage !== before.stage) {
    values[':newStage'] = update.stage;
    values[':gsi1sk'] = stageSortKey(update.stage, caseId);
    values[':since'] = after.stageSince;
    names['#gsi1sk'] = INDEX.sortKey;
    names['#since'] = 'stageSince';
    sets.push('#stage = :newStage', '#gsi1sk = :gsi1sk', '#since = :since');
  }
  const removes = (update.remove ?? []).map((name, n) => {
    names[`#r${n}`] = name;
    return `#r${n}`;
  });
  values[':was'] = before.stage;
  // The case as read: its stage (which the update's own conditions were checked against) and
  // its write count; a case from before `rev` has none.
  const unchanged = before.rev === undefined ? '(attribute_not_exists(#rev) OR #rev = :rev)' : '#rev = :rev';
  return {
    TableName: table(),
    Key: caseKey(caseId),
    UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
    ConditionExpression: `attribute_exists(pk) AND #stage = :was AND ${unchanged}`,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
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
