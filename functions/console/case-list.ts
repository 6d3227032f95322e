/**
 * The console's case list: one district and program year at a time from the
 * district-stage index (a stage narrows the key range; an outcome or "waiting longer
 * than" filters it), or every district of the program in turn. A request reads at most
 * QUERY_BUDGET index pages and answers a page of cases and a cursor to go on, so its time
 * is bounded whatever a district holds. Only what the list shows is read: no sealed data.
 */
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { Outcome, Stage } from '#domain/case';
import * as z from '#domain/zod';
import { dynamo } from '#lib/clients/dynamodb';
import { tableName as table } from '#lib/table';
import { BY_DISTRICT_STAGE } from '#lib/table-schema';
import { claimsOf } from '#store/claims';

export const CaseFilter = z.object({
  programYear: z.int(),
  district: z.optional(z.string().check(z.regex(/^\d{4}$/))),
  stage: z.optional(Stage),
  outcome: z.optional(Outcome),
  /** Open cases that entered their stage more than this many days ago. */
  waitingDays: z.optional(z.int().check(z.positive(), z.maximum(3650))),
});
export type CaseFilter = z.infer<typeof CaseFilter>;

export const CaseRow = z.object({
  caseId: z.string(),
  district: z.string(),
  programYear: z.int(),
  stage: Stage,
  outcome: z.optional(Outcome),
  nikMasked: z.string(),
  stageSince: z.optional(z.string()),
  createdAt: z.string(),
  updatedAt: z.string(),
  journeyRuns: z._default(z.int(), 0),
  failure: z.optional(z.object({ error: z.string(), at: z.string() })),
});
export type CaseRow = z.infer<typeof CaseRow>;

const LIST_FIELDS = [
  'caseId',
  'district',
  'programYear',
  'stage',
  'outcome',
  'nikMasked',
  'stageSince',
  'createdAt',
  'updatedAt',
  'journeyRuns',
  'failure',
];

/** Index pages one request may read (each up to QUERY_LIMIT items). */
const QUERY_BUDGET = 10;
const QUERY_LIMIT = 500;

/** Where a list goes on: the district (index into the filter's districts) and the index key after the last case read. */
const Cursor = z.object({ d: z.int().check(z.nonnegative()), k: z.optional(z.record(z.string(), z.string())) });
type Cursor = z.infer<typeof Cursor>;

export const encodeCursor = (c: Cursor) => Buffer.from(JSON.stringify(c)).toString('base64url');

export function decodeCursor(raw: string | undefined): Cursor | undefined {
  if (!raw) return undefined;
  try {
    const parsed = Cursor.safeParse(JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export interface CasePage {
  cases: CaseRow[];
  cursor?: string;
}

/** `stage#` for a stage filter; an outcome is only ever on a closed case. */
const stagePrefix = (f: CaseFilter) => (f.stage ? `${f.stage}#` : f.outcome ? 'closed#' : undefined);

function filterExpression(f: CaseFilter, now: Date) {
  const parts: string[] = [];
  const names: Record<string, string> = {};
  const values: Record<string, string> = {};
  if (f.outcome) {
    parts.push('#outcome = :outcome');
    names['#outcome'] = 'outcome';
    values[':outcome'] = f.outcome;
  }
  if (f.waitingDays) {
    // A case from before `stageSince` is judged by its last write.
    parts.push('#stage <> :closed AND (#since < :cutoff OR (attribute_not_exists(#since) AND #updatedAt < :cutoff))');
    Object.assign(names, { '#stage': 'stage', '#since': 'stageSince', '#updatedAt': 'updatedAt' });
    values[':closed'] = 'closed';
    values[':cutoff'] = new Date(now.getTime() - f.waitingDays * 86_400_000).toISOString();
  }
  return { parts, names, values };
}

/** One page of the cases the filter selects, in district then stage order. */
export async function listCasePage(
  f: CaseFilter,
  districts: readonly string[],
  opts: { cursor?: string; pageSize?: number; now?: Date } = {},
): Promise<CasePage> {
  const pageSize = opts.pageSize ?? 50;
  const now = opts.now ?? new Date();
  const targets = f.district ? [f.district] : districts;
  let cursor: Cursor = decodeCursor(opts.cursor) ?? { d: 0 };
  const cases: CaseRow[] = [];
  const prefix = stagePrefix(f);
  const filter = filterExpression(f, now);
  const names: Record<string, string> = { ...filter.names, '#pk': BY_DISTRICT_STAGE.partitionKey };
  LIST_FIELDS.forEach((field, i) => {
    names[`#f${i}`] = field;
  });
  for (let budget = QUERY_BUDGET; budget > 0 && cursor.d < targets.length; budget--) {
    const district = targets[cursor.d] as string;
    const values: Record<string, string> = { ...filter.values, ':pk': `DISTRICT#${district}#${f.programYear}` };
    let key = '#pk = :pk';
    if (prefix) {
      names['#sk'] = BY_DISTRICT_STAGE.sortKey;
      values[':prefix'] = prefix;
      key += ' AND begins_with(#sk, :prefix)';
    }
    const out = await dynamo.send(
      new QueryCommand({
        TableName: table(),
        IndexName: BY_DISTRICT_STAGE.indexName,
        KeyConditionExpression: key,
        ...(filter.parts.length ? { FilterExpression: filter.parts.join(' AND ') } : {}),
        ProjectionExpression: LIST_FIELDS.map((_, i) => `#f${i}`).join(', '),
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ExclusiveStartKey: cursor.k,
        Limit: Math.min(QUERY_LIMIT, (pageSize - cases.length) * 4 + 10),
      }),
    );
    for (const item of out.Items ?? []) cases.push(z.parse(CaseRow, item));
    const last = out.LastEvaluatedKey as Record<string, string> | undefined;
    cursor = last ? { d: cursor.d, k: last } : { d: cursor.d + 1 };
    if (cases.length >= pageSize) break;
  }
  return cursor.d < targets.length ? { cases, cursor: encodeCursor(cursor) } : { cases };
}

/** A case by its id, as the list shows it; undefined when there is none. */
export async function findCaseRow(caseId: string): Promise<CaseRow | undefined> {
  const out = await dynamo.send(new GetCommand({ TableName: table(), Key: { pk: `CASE#${caseId}`, sk: 'CASE' } }));
  return out.Item ? z.parse(CaseRow, out.Item) : undefined;
}

/** The cases proposed with a NIK, through its keyed hash (the NIK itself is never stored, logged or put in a URL). */
export async function casesOfNikHash(nikHash: string): Promise<CaseRow[]> {
  const claims = await claimsOf('NIK', nikHash);
  const rows = await Promise.all(claims.map((c) => findCaseRow(c.caseId)));
  return rows.filter((r): r is CaseRow => r !== undefined);
}
