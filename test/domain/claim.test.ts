/** Who may be proposed again, and when: the rule of domain.md's "one family, one grant". */
import { describe, expect, it } from 'vitest';
import { ABANDONED_CLAIM_MS, blockerOf, type Claim, type ClaimedCase } from '#domain/claim';

const now = Date.parse('2024-03-01T08:00:00Z');
const mine = { caseId: '3210-2024-a', uploadId: 'u-2024', programYear: 2024 };
const claim = (over: Partial<Claim>): Claim => ({
  caseId: '3210-2020-a',
  district: '3210',
  programYear: 2020,
  proposedAt: '2020-03-01T08:00:00Z',
  uploadId: 'u-2020',
  claimedAt: '2020-03-01T08:00:00Z',
  ...over,
});
const cases = (entries: [string, ClaimedCase][]) => new Map(entries);

describe('blockerOf', () => {
  it('lets a family whose earlier proposal ended without a grant be proposed in a later year', () => {
    const earlier = claim({});
    expect(blockerOf([earlier], cases([[earlier.caseId, { stage: 'closed', granted: false }]]), mine, now)).toBeUndefined();
  });

  it('bars for good a family that received a grant, in any year', () => {
    const earlier = claim({});
    const granted = cases([[earlier.caseId, { stage: 'closed', granted: true }]]);
    expect(blockerOf([earlier], granted, mine, now)).toEqual({ reason: 'granted', claim: earlier });
    expect(blockerOf([earlier], granted, { ...mine, programYear: 2019 }, now)?.reason).toBe('granted');
  });

  it('proposes a family once in a program year, even when that proposal has ended', () => {
    const same = claim({ programYear: 2024, caseId: '3217-2024-a', uploadId: 'u-other', district: '3217' });
    const closed = cases([[same.caseId, { stage: 'closed', granted: false }]]);
    expect(blockerOf([same], closed, mine, now)).toEqual({ reason: 'proposed', claim: same, inProgress: false });
  });

  it("waits for another year's proposal to end before the family is proposed again", () => {
    const earlier = claim({ programYear: 2023 });
    const open = cases([[earlier.caseId, { stage: 'grant-approval', granted: false }]]);
    expect(blockerOf([earlier], open, mine, now)).toEqual({ reason: 'proposed', claim: earlier, inProgress: true });
  });

  it('names the grant before any other reason', () => {
    const same = claim({ programYear: 2024, caseId: '3217-2024-a', uploadId: 'u-other' });
    const granted = claim({ programYear: 2021, caseId: '3210-2021-a' });
    const known = cases([
      [same.caseId, { stage: 'verification', granted: false }],
      [granted.caseId, { stage: 'closed', granted: true }],
    ]);
    expect(blockerOf([same, granted], known, mine, now)?.reason).toBe('granted');
  });

  it('ignores its own claim (the same upload read again)', () => {
    const ours = claim({ ...mine, claimedAt: new Date(now).toISOString() });
    expect(blockerOf([ours], cases([]), mine, now)).toBeUndefined();
  });

  it('counts a claim without its case as in the way while its intake may still write the case, and not after', () => {
    const at = (ms: number) => new Date(now - ms).toISOString();
    const fresh = claim({ programYear: 2024, uploadId: 'u-other', claimedAt: at(60_000) });
    expect(blockerOf([fresh], cases([]), mine, now)?.reason).toBe('proposed');
    const abandoned = claim({ programYear: 2024, uploadId: 'u-other', claimedAt: at(ABANDONED_CLAIM_MS + 1) });
    expect(blockerOf([abandoned], cases([]), mine, now)).toBeUndefined();
  });

  it('never takes as abandoned a claim whose case exists, however old', () => {
    const old = claim({ programYear: 2024, uploadId: 'u-other', claimedAt: '2024-01-01T00:00:00Z' });
    const open = cases([[old.caseId, { stage: 'verification', granted: false }]]);
    expect(blockerOf([old], open, mine, now)?.reason).toBe('proposed');
  });
});
