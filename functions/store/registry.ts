/** The PKH graduation registry that verification matches families against. */

import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { RegistryEntry } from '#domain/registry-entry';
import * as z from '#domain/zod';
import { dynamo } from '#lib/clients/dynamodb';
import { tableName as table } from '#lib/table';

export async function getRegistryEntry(nikHash: string): Promise<RegistryEntry | undefined> {
  const out = await dynamo.send(new GetCommand({ TableName: table(), Key: { pk: `REGISTRY#${nikHash}`, sk: 'PKH' } }));
  return out.Item ? z.parse(RegistryEntry, out.Item) : undefined;
}

export async function putRegistryEntry(entry: RegistryEntry): Promise<void> {
  await dynamo.send(new PutCommand({ TableName: table(), Item: { pk: `REGISTRY#${entry.nikHash}`, sk: 'PKH', ...entry } }));
}
