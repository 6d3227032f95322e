/**
 * Identity claims in the table: one item per identity and program year
 * (`NIK#<hash>` / `KK#<hash>`, `CLAIM#<year>`), so a family's claims of every year are
 * one Query. Who may be proposed is domain/claim.ts; here are the reads and the
 * conditional writes that keep it under any concurrency.
 */

import { DeleteCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { type Blocker, blockerOf, Claim, type ClaimedCase, isAbandoned, isOurs } from '#domain/claim';
import { TransientError } from '#domain/errors';
import * as z from '#domain/zod';
import { dynamo } from '#lib/clients/dynamodb';
import { conditionally, isConditionFailed, tableName as table } from '#lib/table';
import { caseStanding } from './cases.ts';

export type IdentityKind = 'NIK' | 'KK';

const CLAIM_PREFIX = 'CLAIM#';
const claimKey = (kind: IdentityKind, hash: string, programYear: number) => ({
  pk: `${kind}#${hash}`,
  sk: `${CLAIM_PREFIX}${programYear}`,
});

/**
 * Every attempt reads the claims afresh; one that loses a conditional write (another run
 * wrote between the read and the write) tries again. Claims change only when a run takes,
 * gives back or takes over one, so a few attempts settle it.
 */
const CLAIM_ATTEMPTS = 5;

/** A claim this run holds is written again when older than this, so it never looks abandoned while its upload is still at work. */
const REFRESH_AFTER_MS = 5 * 60 * 1000;

/** Every program year's claim on one identity (a handful at most: one per year). */
export async function claimsOf(kind: IdentityKind, hash: string): Promise<Claim[]> {
  const out = await dynamo.send(
    new QueryCommand({
      TableName: table(),
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :claim)',
      ExpressionAttributeValues: { ':pk': `${kind}#${hash}`, ':claim': CLAIM_PREFIX },
      ConsistentRead: true,
    }),
  );
  return (out.Items ?? []).map((item) => z.parse(Claim, item));
}

async function casesOf(claims: readonly Claim[], mine: Claim): Promise<Map<string, ClaimedCase>> {
  const cases = new Map<string, ClaimedCase>();
  for (const claim of claims) {
    if (isOurs(claim, mine) || cases.has(claim.caseId)) continue;
    const c = await caseStanding(claim.caseId);
    if (c) cases.set(claim.caseId, c);
  }
  return cases;
}

/** A conditional write of the claim; false when the condition did not hold. */
async function write(
  kind: IdentityKind,
  hash: string,
  claim: Claim,
  condition: { expression: string; values?: Record<string, unknown> },
): Promise<boolean> {
  return conditionally(() =>
    dynamo.send(
      new PutCommand({
        TableName: table(),
        Item: { ...claimKey(kind, hash, claim.programYear), ...claim },
        ConditionExpression: condition.expression,
        ...(condition.values ? { ExpressionAttributeValues: condition.values } : {}),
      }),
    ),
  );
}

const heldBy = (held: Claim) => ({
  expression: 'caseId = :caseId AND uploadId = :uploadId AND claimedAt = :claimedAt',
  values: { ':caseId': held.caseId, ':uploadId': held.uploadId, ':claimedAt': held.claimedAt },
});

/**
 * Claims an identity for a case and program year, or says which claim stands in the way.
 * A claim this same upload already holds counts as won (the file read again); one that
 * was abandoned without its case is taken over. `claim.claimedAt` is this run's time.
 */
export async function claimIdentity(
  kind: IdentityKind,
  hash: string,
  claim: Claim,
): Promise<{ won: true } | { won: false; blocker: Blocker }> {
  for (let attempt = 1; attempt <= CLAIM_ATTEMPTS; attempt++) {
    const claims = await claimsOf(kind, hash);
    const cases = await casesOf(claims, claim);
    const now = Date.parse(claim.claimedAt);
    const blocker = blockerOf(claims, cases, claim, now);
    if (blocker) return { won: false, blocker };

    const held = claims.find((c) => c.programYear === claim.programYear);
    if (!held) {
      if (await write(kind, hash, claim, { expression: 'attribute_not_exists(pk)' })) return { won: true };
      continue;
    }
    if (isOurs(held, claim)) {
      if (now - Date.parse(held.claimedAt) < REFRESH_AFTER_MS) return { won: true };
      // Same proposal, same first time: only the time this run still holds it moves on.
      if (await write(kind, hash, { ...claim, proposedAt: held.proposedAt }, heldBy(held))) return { won: true };
      continue;
    }
    // Not ours and not in the way: abandoned by an intake that died before the case.
    if (!isAbandoned(held, cases.get(held.caseId), now)) throw new Error('claimIdentity: a live claim was not a blocker');
    if (await write(kind, hash, claim, heldBy(held))) return { won: true };
  }
  throw new TransientError(`identity claim ${kind} kept changing`);
}

/**
 * Gives up a claim this case took in this upload, when the family's other identity
 * turned out to be proposed already: otherwise the number would stay claimed by a case
 * that was never created. Conditional, so a claim anyone else holds is never touched.
 */
export async function releaseClaim(
  kind: IdentityKind,
  hash: string,
  claim: Pick<Claim, 'caseId' | 'uploadId' | 'programYear'>,
): Promise<void> {
  try {
    await dynamo.send(
      new DeleteCommand({
        TableName: table(),
        Key: claimKey(kind, hash, claim.programYear),
        ConditionExpression: 'caseId = :caseId AND uploadId = :uploadId',
        ExpressionAttributeValues: { ':caseId': claim.caseId, ':uploadId': claim.uploadId },
      }),
    );
  } catch (e) {
    if (!isConditionFailed(e)) throw e;
  }
}
