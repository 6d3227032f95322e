/**
 * Grant quotas per program year: each district's quota, and the national ceiling over
 * all districts. Both are kept exact under any concurrency with single-item conditional
 * writes only (dynalite has no transactions).
 *
 * District: `QUOTA#<district>#<year>` / `QUOTA` keeps the set of case ids it reserved
 * for, so the check, the count and the idempotency (a replayed approval or a retried
 * Disbursement must not count twice) are one conditional write on one item. A district
 * quota is a few hundred to a few thousand families: the set stays far below the 400 KB
 * item limit.
 *
 * National: the 300,000 case ids of a national year do not fit in one item, so districts
 * draw the ceiling in blocks. `QUOTA#NATIONAL#<year>` / `QUOTA` keeps the set of block
 * ids it gave out, `<district>#<n>#<size>`, their total (`committed`) and, per district,
 * the number of its last block (`last#<district>`); block n of a district is given once
 * (`last#<district>` < n) and only while `committed + size <= ceiling`. The district item
 * counts the blocks it holds (`blocks`, k → k+1 conditionally) and their total
 * (`capacity`), and a case is reserved only while size(cases) < min(quota, capacity). So
 * the grants reserved in a district never exceed what it drew, and what all districts
 * drew never exceeds the ceiling. Block n of a district is one id, whatever its size: a
 * crash between the national write and the district's is repaired by the district's next
 * approval, which finds its block n already given (and its size in the id) and records it.
 *
 * The price: capacity a district drew and does not use stays with it (the rest of its
 * last block), and the national total can stop up to that much short of the ceiling
 * while another district still has approvals waiting. A block is BLOCK_SIZE = 25 grants,
 * which keeps that under 25 families a district (under 4% of a 600-family district,
 * 12,000 over 500 districts in the worst case), while a national year of 300,000 grants
 * is 12,000 block ids (about 150 KB, well inside the item) and the national item is
 * written once per 25 reservations of a district, not once per family. Only an approval
 * that lost the race for a district's places to others draws more (50, 100, then 200):
 * with hundreds of approvals of one district at the same moment, blocks of 25 would make
 * each of them retry once per block (a 1,000-approval burst on a quota of 500 took eight
 * minutes on dynalite that way); the bigger block goes to a district whose approvals are
 * coming faster than its blocks. A district's last block is only what its quota still
 * needs, and the last national block only what the ceiling has left, so neither a quota
 * nor the ceiling needs to be a multiple of anything.
 *
 * Reservations are never given back, so once a quota or the ceiling is used up the
 * answer for a case without a reservation stays no.
 */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Case, GrantQuota } from '#domain/case';
import { ProgramConfigError, TransientError } from '#domain/errors';
import { programFor } from '#domain/program';
import * as z from '#domain/zod';
import { dynamo } from '#lib/clients/dynamodb';
import { conditionally, tableName as table } from '#lib/table';
import { holdFamilyGrant } from './grants.ts';

/** Grants a district draws from the national ceiling at a time (the trade-off is above). */
export const BLOCK_SIZE = 25;
/** An approval that lost this many rounds draws at most BLOCK_SIZE × 2^3 = 200. */
const MOST_DOUBLINGS = 3;

/**
 * Each round reserves, answers no, or loses to another approval that reserved or drew a
 * block (progress for the district); blocks grow with the rounds lost, so a few suffice.
 */
const ROUNDS = 40;

const districtKey = (c: Pick<Case, 'district' | 'programYear'>) => ({ pk: `QUOTA#${c.district}#${c.programYear}`, sk: 'QUOTA' });
const nationalKey = (programYear: number) => ({ pk: `QUOTA#NATIONAL#${programYear}`, sk: 'QUOTA' });

const DistrictItem = z.object({
  cases: z._default(z.set(z.string()), new Set<string>()),
  blocks: z._default(z.int(), 0),
  capacity: z._default(z.int(), 0),
});
const NationalItem = z.object({
  blocks: z._default(z.set(z.string()), new Set<string>()),
  committed: z._default(z.int(), 0),
});
const lastBlockOf = (district: string) => `last#${district}`;

/**
 * Reserves one grant for this case, when the last approval level's approval is applied
 * (requests/decisions.ts), so the approver is told the truth; Disbursement asks again
 * and finds the reservation.
 *
 * Before the quota, the family's one grant is held for this case (store/grants.ts): a
 * family card another case holds it for is `already-granted`, and takes nothing of the
 * district's quota.
 *
 * Returns `reserved` when the case holds a reservation (new or from an earlier pass),
 * `exhausted` when other cases used up the district's quota, `national-ceiling` when the
 * district had quota left but the program year's national ceiling is given out,
 * `already-granted` when the family's grant is another case's.
 */
export async function reserveGrant(c: Pick<Case, 'caseId' | 'district' | 'programYear' | 'kkHash'>): Promise<GrantQuota> {
  // The configuration first: a district it does not know is an error, and nothing is written.
  const limits = limitsOf(c);
  if (!(await holdFamilyGrant(c)).held) return 'already-granted';
  return takeFromQuota(c, limits);
}

async function readItem(Key: { pk: string; sk: string }): Promise<Record<string, unknown>> {
  const out = await dynamo.send(new GetCommand({ TableName: table(), Key, ConsistentRead: true }));
  return out.Item ?? {};
}

async function takeFromQuota(
  c: Pick<Case, 'caseId' | 'district' | 'programYear'>,
  limits: { quota: number; ceiling: number },
): Promise<GrantQuota> {
  const Key = districtKey(c);
  for (let round = 1; round <= ROUNDS; round++) {
    const reserved = await conditionally(() =>
      dynamo.send(
        new UpdateCommand({
          TableName: table(),
          Key,
          UpdateExpression: 'ADD cases :case',
          ConditionExpression:
            '(attribute_not_exists(cases) AND #capacity > :zero) OR (size(cases) < :quota AND size(cases) < #capacity AND NOT contains(cases, :id))',
          ExpressionAttributeNames: { '#capacity': 'capacity' },
          ExpressionAttributeValues: { ':case': new Set([c.caseId]), ':quota': limits.quota, ':id': c.caseId, ':zero': 0 },
        }),
      ),
    );
    if (reserved) return 'reserved';
    const district = z.parse(DistrictItem, await readItem(Key));
    if (district.cases.has(c.caseId)) return 'reserved';
    if (district.cases.size >= limits.quota) return 'exhausted';
    // Another approval drew a block or took the last place between the write and the read.
    if (district.cases.size < district.capacity) continue;
    const wanted = Math.min(
      BLOCK_SIZE * 2 ** Math.min(round - 1, MOST_DOUBLINGS),
      limits.quota - district.capacity,
      limits.ceiling,
    );
    const size = await drawBlock(c, district.blocks + 1, wanted, limits.ceiling);
    if (size === 0) return 'national-ceiling';
    await recordBlock(Key, district.blocks, size);
  }
  throw new TransientError('the district quota kept changing');
}

/**
 * Gives the district its block `n` from the national ceiling; returns its size (smaller
 * than wanted when only that much of the ceiling is left), or 0 when none is left. A
 * block `n` the national item already gave this district (a crash before the district
 * recorded it, or a concurrent approval of the same district) is returned as it was given.
 */
async function drawBlock(c: Pick<Case, 'district' | 'programYear'>, n: number, wanted: number, ceiling: number): Promise<number> {
  const Key = nationalKey(c.programYear);
  const prefix = `${c.district}#${n}#`;
  let size = wanted;
  for (let attempt = 1; attempt <= ROUNDS; attempt++) {
    const id = `${prefix}${size}`;
    const given = await conditionally(() =>
      dynamo.send(
        new UpdateCommand({
          TableName: table(),
          Key,
          UpdateExpression: 'SET #last = :n ADD #blocks :ids, #committed :size',
          ConditionExpression:
            '(attribute_not_exists(#committed) OR #committed <= :room) AND (attribute_not_exists(#last) OR #last < :n)',
          ExpressionAttributeNames: { '#blocks': 'blocks', '#committed': 'committed', '#last': lastBlockOf(c.district) },
          ExpressionAttributeValues: { ':ids': new Set([id]), ':size': size, ':room': ceiling - size, ':n': n },
        }),
      ),
    );
    if (given) return size;
    const national = z.parse(NationalItem, await readItem(Key));
    const mine = [...national.blocks].find((b) => b.startsWith(prefix));
    if (mine) return Number(mine.slice(prefix.length));
    const left = ceiling - national.committed;
    if (left <= 0) return 0;
    size = Math.min(size, left);
  }
  throw new TransientError('the national ceiling kept changing');
}

/** Records on the district that it holds one block more (k → k+1); a concurrent approval that recorded it first is as good. */
async function recordBlock(Key: { pk: string; sk: string }, held: number, size: number): Promise<void> {
  await conditionally(() =>
    dynamo.send(
      new UpdateCommand({
        TableName: table(),
        Key,
        UpdateExpression: 'SET #blocks = :next, #capacity = if_not_exists(#capacity, :zero) + :size',
        ConditionExpression: held === 0 ? 'attribute_not_exists(#blocks)' : '#blocks = :held',
        ExpressionAttributeNames: { '#blocks': 'blocks', '#capacity': 'capacity' },
        ExpressionAttributeValues: { ':next': held + 1, ':size': size, ':zero': 0, ...(held === 0 ? {} : { ':held': held }) },
      }),
    ),
  );
}

function limitsOf(c: Pick<Case, 'district' | 'programYear'>): { quota: number; ceiling: number } {
  const config = programFor(c.programYear);
  const district = config.districts[c.district];
  if (!district) throw new ProgramConfigError(`district ${c.district} is not in program ${config.version}`);
  return { quota: district.quota, ceiling: config.grant.nationalCeiling };
}
