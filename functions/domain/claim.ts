/**
 * Identity claims: which case proposed a family (by NIK or by family card) for a program
 * year, from which upload and district. The rule they keep (domain.md, "one family, one
 * grant"):
 * - a family is proposed at most once per program year, whichever district proposes it;
 * - a family that received a grant is never proposed again, in any year;
 * - a family whose proposal ended without a grant (ineligible, rejected, approval
 *   expired, quota used up) may be proposed again in a later program year, once the
 *   earlier proposal has ended.
 *
 * A claim is written before its case. A claim whose case was never written (the intake
 * that wrote it died between the two) must not lock the family out for good: once it is
 * older than any intake run can be, it counts for nothing and the next upload takes it over.
 */
import type { Stage } from './case.ts';
import * as z from './zod.ts';

export const Claim = z.object({
  caseId: z.string(),
  district: z.string(),
  programYear: z.number(),
  proposedAt: z.string(),
  uploadId: z.string(),
  /** When this upload last wrote the claim: how a claim without its case is known to be abandoned. */
  claimedAt: z.string(),
});
export type Claim = z.infer<typeof Claim>;

/**
 * How old a claim without its case must be before it is taken as abandoned. A claim and
 * its case are written by one run of ReadProposal, which Lambda stops after 900 s; every
 * later run of the same upload writes its claims again before its cases. 20 minutes is
 * past any run that could still write the case.
 */
export const ABANDONED_CLAIM_MS = 20 * 60 * 1000;

/** What the rule needs to know of the case a claim names; absent when there is no such case. */
export interface ClaimedCase {
  stage: Stage;
  /** The grant was disbursed to this family. */
  granted: boolean;
}

/** Why a family cannot be proposed: the claim that stands in the way and what it means. */
export type Blocker =
  | { reason: 'granted'; claim: Claim }
  /** Proposed for this program year already, or for another year whose proposal has not ended. */
  | { reason: 'proposed'; claim: Claim; inProgress: boolean };

export function isAbandoned(claim: Claim, c: ClaimedCase | undefined, now: number): boolean {
  return c === undefined && now - Date.parse(claim.claimedAt) > ABANDONED_CLAIM_MS;
}

export const isOurs = (claim: Claim, mine: Pick<Claim, 'caseId' | 'uploadId' | 'programYear'>): boolean =>
  claim.caseId === mine.caseId && claim.uploadId === mine.uploadId && claim.programYear === mine.programYear;

/**
 * The claim that stops `mine` from being proposed, if any: a grant first (the strongest
 * reason, and the one the officer must hear), then a proposal of the same year, then an
 * unfinished proposal of another year.
 */
export function blockerOf(
  claims: readonly Claim[],
  cases: ReadonlyMap<string, ClaimedCase>,
  mine: Pick<Claim, 'caseId' | 'uploadId' | 'programYear'>,
  now: number,
): Blocker | undefined {
  let proposed: Blocker | undefined;
  for (const claim of claims) {
    if (isOurs(claim, mine)) continue;
    const c = cases.get(claim.caseId);
    if (c?.granted) return { reason: 'granted', claim };
    if (isAbandoned(claim, c, now)) continue;
    if (claim.programYear === mine.programYear) {
      proposed = { reason: 'proposed', claim, inProgress: false };
      continue;
    }
    // Another year: in the way until that proposal has ended (without a grant, as checked above).
    if (c?.stage !== 'closed' && proposed === undefined) proposed = { reason: 'proposed', claim, inProgress: true };
  }
  return proposed;
}
