/**
 * The funnel check on a real (local) table: the counter items store/cases.ts wrote beside
 * every case write, against a recount of the case items themselves (domain/funnel.ts).
 * What `prokus funnel check` compares, for tests that drive many writes at once.
 */
import { type DynamoDBDocumentClient, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { Case } from '#domain/case';
import { type FunnelCounters, recount, withoutDwell } from '#domain/funnel';
import * as z from '#domain/zod';

/** Puts the counter items that are right for the case items among `items`, written without them (a test's seed, in batches). */
export async function seedFunnel(client: DynamoDBDocumentClient, table: string, items: Record<string, unknown>[]): Promise<void> {
  const cases = items.filter((item) => item.sk === 'CASE').map((item) => z.parse(Case, item));
  for (const programYear of new Set(cases.map((c) => c.programYear))) {
    for (const [district, counters] of recount(cases.filter((c) => c.programYear === programYear))) {
      await client.send(
        new PutCommand({ TableName: table, Item: { pk: `FUNNEL#${programYear}`, sk: `DISTRICT#${district}`, ...counters } }),
      );
    }
  }
}

/** Every case item of the table, parsed. */
export async function scanCases(client: DynamoDBDocumentClient, table: string): Promise<Case[]> {
  const cases: Case[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await client.send(
      new ScanCommand({
        TableName: table,
        FilterExpression: 'sk = :case',
        ExpressionAttributeValues: { ':case': 'CASE' },
        ExclusiveStartKey: start,
        ConsistentRead: true,
      }),
    );
    for (const item of out.Items ?? []) cases.push(z.parse(Case, item));
    start = out.LastEvaluatedKey;
  } while (start);
  return cases;
}

/** Per district: the counters stored for a program year, without the time-in-stage histograms. */
export function storedWithoutDwell(districts: { district: string; counters: FunnelCounters }[]): Record<string, FunnelCounters> {
  return Object.fromEntries(districts.map((d) => [d.district, withoutDwell(d.counters)]));
}

/** Per district: the counters a recount of the program year's cases gives. */
export function recounted(cases: Case[], programYear: number): Record<string, FunnelCounters> {
  return Object.fromEntries(recount(cases.filter((c) => c.programYear === programYear)));
}

/** How many stays in `stage` a district's histogram counts, whatever their length. */
export const staysIn = (counters: FunnelCounters | undefined, stage: string) =>
  Object.entries(counters ?? {})
    .filter(([name]) => name.startsWith(`dwell#${stage}#`))
    .reduce((sum, [, n]) => sum + n, 0);
