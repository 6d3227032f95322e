/**
 * Reading the funnel counters (domain/funnel.ts), written by store/cases.ts with every
 * case write that changes them. One Query of `FUNNEL#<year>` returns every district's
 * counter item: the dashboard's reads grow with the number of districts (514 at most,
 * about 1 KB each), never with the number of cases.
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { FunnelCounters } from '#domain/funnel';
import * as z from '#domain/zod';
import { dynamo } from '#lib/clients/dynamodb';
import { tableName as table } from '#lib/table';

export interface DistrictFunnel {
  district: string;
  counters: FunnelCounters;
}

const CounterItem = z.looseObject({ sk: z.string().check(z.regex(/^DISTRICT#/)) });

/** Every district's counters for a program year, in district order. */
export async function readFunnel(programYear: number): Promise<{ districts: DistrictFunnel[]; readUnits: number }> {
  const districts: DistrictFunnel[] = [];
  let readUnits = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const out = await dynamo.send(
      new QueryCommand({
        TableName: table(),
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `FUNNEL#${programYear}` },
        ExclusiveStartKey: start,
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    readUnits += out.ConsumedCapacity?.CapacityUnits ?? 0;
    for (const raw of out.Items ?? []) {
      const item = z.parse(CounterItem, raw);
      const counters: FunnelCounters = {};
      for (const [name, value] of Object.entries(item)) {
        if (name !== 'pk' && name !== 'sk' && typeof value === 'number') counters[name] = value;
      }
      districts.push({ district: item.sk.slice('DISTRICT#'.length), counters });
    }
    start = out.LastEvaluatedKey;
  } while (start);
  return { districts, readUnits };
}
