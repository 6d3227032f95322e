/**
 * The funnel's rule (domain/funnel.ts): what each write of a case adds to its district's
 * counters, and that the counters a journey's writes add up to are the counters a recount
 * of the cases gives.
 */
import { describe, expect, it } from 'vitest';
import { type Case, Outcome } from '#domain/case';
import {
  bucketBounds,
  DWELL_BUCKETS,
  dwellBucket,
  dwellHistogram,
  type FunnelCounters,
  funnelDelta,
  medianBucket,
  recount,
  sumCounters,
  withoutDwell,
} from '#domain/funnel';
import { makeCase } from '../helpers/fixtures.ts';
import { decidedByOf } from '../helpers/people.ts';

const T0 = Date.parse('2026-01-05T00:00:00.000Z');
const HOUR = 3600;
const DAY = 86_400;
/** The time `seconds` after the case was proposed. */
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

/** The case as the store writes it: the changes, its time, and when it entered its stage. */
function write(before: Case, changes: Partial<Case>, seconds: number): Case {
  const after: Case = { ...before, ...changes, updatedAt: at(seconds), rev: (before.rev ?? 0) + 1 };
  if (after.stage !== before.stage) after.stageSince = at(seconds);
  return after;
}

const proposed = () => makeCase({ stageSince: at(0), rev: 1 });
const approver = decidedByOf('direktorat.majalengka@kemensos.example');
const verification = (eligible: boolean) => ({
  eligible,
  reasons: eligible ? [] : ['OVER_AGE_LIMIT'],
  explanation: [],
  ruleVersion: '2020.1',
  at: at(0),
});
const approval = (quota?: 'reserved' | 'exhausted' | 'national-ceiling' | 'already-granted') => ({
  decision: 'approved' as const,
  level: 'directorate',
  decidedBy: approver,
  at: at(0),
  ...(quota ? { quota } : {}),
});
const referral = {
  scheme: 'kur-mikro',
  schemeName: 'KUR Mikro',
  ceilingRupiah: 50_000_000,
  reason: { id: 'x', en: 'x' },
  ruleVersion: '2020.1',
  at: at(0),
};

/** A case standing at `stage`, which entered it at `since`. */
const standing = (stage: Case['stage'], since: number, overrides: Partial<Case> = {}) =>
  makeCase({ stage, stageSince: at(since), updatedAt: at(since), rev: 3, ...overrides });

describe('funnelDelta: the steps of the journey', () => {
  it('a proposal is reached#proposed and stands at verification', () => {
    expect(funnelDelta(undefined, proposed())).toEqual({ 'reached#proposed': 1, 'now#verification': 1 });
  });

  it('an eligible verification reaches eligible and moves the family to grant approval, with the 2 hours it took', () => {
    const before = proposed();
    const after = write(before, { verification: verification(true), stage: 'grant-approval' }, 2 * HOUR);
    expect(funnelDelta(before, after)).toEqual({
      'reached#eligible': 1,
      'now#verification': -1,
      'now#grant-approval': 1,
      // 2 hours: in the bucket [1 hour, 6 hours).
      'dwell#verification#3': 1,
    });
  });

  it('an ineligible verification reaches nothing and exits ineligible', () => {
    const before = proposed();
    const after = write(
      before,
      { verification: verification(false), stage: 'closed', outcome: 'ineligible', closedAt: at(30) },
      30,
    );
    expect(funnelDelta(before, after)).toEqual({ 'now#verification': -1, 'dwell#verification#0': 1, 'exit#ineligible': 1 });
  });

  it('an approval that reserved a grant reaches approved', () => {
    const before = standing('grant-approval', 0, { verification: verification(true) });
    const after = write(before, { grantApproval: approval('reserved'), stage: 'disbursement' }, 3 * DAY);
    expect(funnelDelta(before, after)).toEqual({
      'reached#approved': 1,
      'now#grant-approval': -1,
      'now#disbursement': 1,
      // Exactly 3 days: the bucket [3 days, 7 days).
      'dwell#grant-approval#6': 1,
    });
  });

  it('an approval recorded before reservations moved to approval time (no quota answer) reaches approved', () => {
    const before = standing('grant-approval', 0);
    expect(funnelDelta(before, write(before, { grantApproval: approval() }, 10))).toEqual({ 'reached#approved': 1 });
  });

  it.each(['exhausted', 'national-ceiling', 'already-granted'] as const)(
    'an approval the quota answered %s is not a grant: approved is not reached',
    (quota) => {
      const before = standing('grant-approval', 0);
      expect(funnelDelta(before, write(before, { grantApproval: approval(quota) }, 10))).toEqual({});
    },
  );

  it('a rejection reaches nothing and exits rejected', () => {
    const before = standing('grant-approval', 0);
    const rejected = { decision: 'rejected' as const, reasonCode: 'USAHA_TIDAK_ADA', decidedBy: approver, at: at(DAY) };
    const after = write(before, { grantApproval: rejected, stage: 'closed', outcome: 'rejected' }, DAY);
    expect(funnelDelta(before, after)).toEqual({
      'now#grant-approval': -1,
      'dwell#grant-approval#5': 1,
      'exit#rejected': 1,
    });
  });

  it("one level's approval before the last changes no counter", () => {
    const before = standing('grant-approval', 0);
    const approvals = [{ level: 'district', decision: 'approved' as const, decidedBy: approver, at: at(HOUR) }];
    expect(funnelDelta(before, write(before, { approvals }, HOUR))).toEqual({});
  });

  it('a disbursement reaches disbursed and starts mentoring', () => {
    const before = standing('disbursement', 0, { grantApproval: approval('reserved') });
    const disbursement = { amountRupiah: 3_500_000, reference: 'BSIMU-1', ruleVersion: '2020.1', at: at(30) };
    const after = write(before, { disbursement, mentoringStartedAt: at(30), stage: 'mentoring' }, 30);
    expect(funnelDelta(before, after)).toEqual({
      'reached#disbursed': 1,
      'now#disbursement': -1,
      'now#mentoring': 1,
      'dwell#disbursement#0': 1,
    });
  });

  it.each(['pemisahan-keuangan', 'kemasan-merek', 'pemasaran-daring'])(
    'a reported milestone %s is reached; a missed one is not; the stage stays',
    (id) => {
      const before = standing('mentoring', 0);
      const report = { businessRunning: true, monthlyRevenue: 1_600_000, practices: [], notes: '' };
      const reported = write(before, { milestones: { [id]: { status: 'reported', at: at(DAY), report } } }, DAY);
      expect(funnelDelta(before, reported)).toEqual({ [`reached#milestone:${id}`]: 1 });
      const missed = write(before, { milestones: { [id]: { status: 'missed', at: at(DAY) } } }, DAY);
      expect(funnelDelta(before, missed)).toEqual({});
    },
  );

  it('a grade reaches graded and a referral reaches referred, moving to financing referral after 95 days of mentoring', () => {
    const before = standing('mentoring', 0);
    const grade = { grade: 'berkembang' as const, reason: { id: 'x', en: 'x' }, ruleVersion: '2020.1', at: at(95 * DAY) };
    const after = write(before, { grade, referral, stage: 'financing-referral' }, 95 * DAY);
    expect(funnelDelta(before, after)).toEqual({
      'reached#graded': 1,
      'reached#referred': 1,
      'now#mentoring': -1,
      'now#financing-referral': 1,
      // 95 days: [90 days, 180 days).
      'dwell#mentoring#11': 1,
    });
  });

  it('a financed outcome reaches financed; a declined one does not', () => {
    const before = standing('financing-referral', 0, { referral });
    const outcome = (status: 'financed' | 'declined') => ({ referral: { ...referral, outcome: { status, at: at(DAY) } } });
    expect(funnelDelta(before, write(before, outcome('financed'), DAY))).toEqual({ 'reached#financed': 1 });
    expect(funnelDelta(before, write(before, outcome('declined'), DAY))).toEqual({});
  });

  it.each(Outcome.options)('closing with %s counts that exit and leaves the stage', (outcome) => {
    const before = standing('financing-referral', 0);
    const after = write(before, { stage: 'closed', outcome, closedAt: at(400 * DAY) }, 400 * DAY);
    expect(funnelDelta(before, after)).toEqual({
      'now#financing-referral': -1,
      // Over a year: the open last bucket.
      [`dwell#financing-referral#${DWELL_BUCKETS.length}`]: 1,
      [`exit#${outcome}`]: 1,
    });
  });

  it('a write that neither reaches a step nor moves the case changes nothing', () => {
    const before = standing('grant-approval', 0);
    expect(funnelDelta(before, write(before, { journeyRuns: 2 }, DAY))).toEqual({});
  });

  it('a write that reaches a step already reached does not count it again', () => {
    const before = standing('grant-approval', 0, { verification: verification(true), grantApproval: approval('reserved') });
    expect(funnelDelta(before, write(before, { grantApproval: { ...approval('reserved'), at: at(5) } }, 5))).toEqual({});
  });
});

describe('funnelDelta: failed journeys', () => {
  const failure = { error: 'States.TaskFailed', cause: '', at: at(HOUR) };

  it('a recorded failure counts the journey failed; the next run clearing it uncounts it', () => {
    const before = standing('mentoring', 0);
    const failed = write(before, { failure }, HOUR);
    expect(funnelDelta(before, failed)).toEqual({ failed: 1 });
    const { failure: _, ...cleared } = failed;
    expect(funnelDelta(failed, write(cleared, { journeyRuns: 2 }, 2 * HOUR))).toEqual({ failed: -1 });
  });

  it('a second failure of a failed journey counts nothing more', () => {
    const before = standing('mentoring', 0, { failure });
    expect(funnelDelta(before, write(before, { failure: { ...failure, at: at(2 * HOUR) } }, 2 * HOUR))).toEqual({});
  });

  it('a failed journey that closes is no longer failed', () => {
    const before = standing('grant-approval', 0, { failure });
    const after = write(before, { stage: 'closed', outcome: 'approval-expired' }, 14 * DAY);
    expect(funnelDelta(before, after)).toEqual({
      failed: -1,
      'now#grant-approval': -1,
      'dwell#grant-approval#8': 1,
      'exit#approval-expired': 1,
    });
  });
});

describe('funnelDelta: time in stage', () => {
  it('a case from before stageSince spent its verification since it was created', () => {
    const before = makeCase({ updatedAt: at(5 * DAY) }); // no stageSince, written again later at verification
    const after = write(before, { verification: verification(true), stage: 'grant-approval' }, 6 * DAY);
    expect(after.stageSince).toBe(at(6 * DAY));
    expect(funnelDelta(before, after)).toMatchObject({ 'dwell#verification#6': 1 }); // 6 days since createdAt
  });

  it('a case from before stageSince at a later stage spent it since its last write', () => {
    const before = makeCase({ stage: 'disbursement', updatedAt: at(10 * DAY) });
    const after = write(before, { stage: 'mentoring' }, 10 * DAY + 30);
    expect(funnelDelta(before, after)).toMatchObject({ 'dwell#disbursement#0': 1 });
  });

  it('a clock behind the stage start counts no time, not negative time', () => {
    const before = standing('disbursement', DAY);
    expect(funnelDelta(before, write(before, { stage: 'mentoring' }, 0))).toMatchObject({ 'dwell#disbursement#0': 1 });
  });

  it('puts a time in the bucket whose upper bound it is below, the last one open', () => {
    expect(dwellBucket(0)).toBe(0);
    expect(dwellBucket(59.9)).toBe(0);
    expect(dwellBucket(60)).toBe(1);
    expect(dwellBucket(DAY - 1)).toBe(4);
    expect(dwellBucket(DAY)).toBe(5);
    expect(dwellBucket(365 * DAY)).toBe(DWELL_BUCKETS.length);
    for (let b = 0; b <= DWELL_BUCKETS.length; b++) {
      const { lower, upper } = bucketBounds(b);
      expect(dwellBucket(lower)).toBe(b);
      if (upper !== undefined) expect(dwellBucket(upper - 1)).toBe(b);
    }
    expect(bucketBounds(DWELL_BUCKETS.length).upper).toBeUndefined();
  });
});

/** Every write of one family's journey, from proposal to graduation, as the handlers make them. */
function wholeJourney(c0: Case): Case[] {
  const report = { businessRunning: true, monthlyRevenue: 1_600_000, practices: [], notes: '' };
  const failure = { error: 'States.TaskFailed', cause: '', at: at(40 * DAY) };
  const steps: Case[] = [c0];
  const next = (changes: Partial<Case>, seconds: number, remove?: keyof Case) => {
    const after = write(steps.at(-1)!, changes, seconds);
    if (remove) delete after[remove];
    steps.push(after);
  };
  next({ journeyRuns: 1 }, 10);
  next({ verification: verification(true), stage: 'grant-approval' }, 60);
  next({ approvals: [{ level: 'district', decision: 'approved', decidedBy: approver, at: at(DAY) }] }, DAY);
  next({ grantApproval: approval('reserved'), stage: 'disbursement' }, 4 * DAY);
  const disbursement = { amountRupiah: 3_500_000, reference: 'BSIMU-1', ruleVersion: '2020.1', at: at(4 * DAY + 5) };
  next({ disbursement, mentoringStartedAt: at(4 * DAY + 5), stage: 'mentoring' }, 4 * DAY + 5);
  next({ milestones: { 'pemisahan-keuangan': { status: 'reported', at: at(34 * DAY), report } } }, 34 * DAY);
  next({ failure }, 40 * DAY);
  next({ journeyRuns: 2 }, 41 * DAY, 'failure');
  const m = steps.at(-1)!.milestones;
  next({ milestones: { ...m, 'kemasan-merek': { status: 'missed', at: at(64 * DAY) } } }, 64 * DAY);
  const m2 = steps.at(-1)!.milestones;
  next({ milestones: { ...m2, 'pemasaran-daring': { status: 'reported', at: at(94 * DAY), report } } }, 94 * DAY);
  const grade = { grade: 'berkembang' as const, reason: { id: 'x', en: 'x' }, ruleVersion: '2020.1', at: at(95 * DAY) };
  next({ grade, referral, stage: 'financing-referral' }, 95 * DAY);
  next({ referral: { ...referral, outcome: { status: 'financed', amountRupiah: 20_000_000, at: at(110 * DAY) } } }, 110 * DAY);
  next({ stage: 'closed', outcome: 'graduated', closedAt: at(110 * DAY + 1) }, 110 * DAY + 1);
  return steps;
}

describe('recount', () => {
  it('equals the sum of the deltas after every write of a whole journey', () => {
    const steps = wholeJourney(proposed());
    let stored: FunnelCounters = funnelDelta(undefined, steps[0]!);
    expect(withoutDwell(stored)).toEqual(recount([steps[0]!]).get('3210'));
    for (let i = 1; i < steps.length; i++) {
      stored = sumCounters([stored, funnelDelta(steps[i - 1]!, steps[i]!)]);
      expect(withoutDwell(stored), `after write ${i}`).toEqual(recount([steps[i]!]).get('3210'));
    }
    expect(withoutDwell(stored)).toEqual({
      'reached#proposed': 1,
      'reached#eligible': 1,
      'reached#approved': 1,
      'reached#disbursed': 1,
      'reached#milestone:pemisahan-keuangan': 1,
      'reached#milestone:pemasaran-daring': 1,
      'reached#graded': 1,
      'reached#referred': 1,
      'reached#financed': 1,
      'exit#graduated': 1,
    });
    // One stay in each of the five open stages, each in its bucket.
    expect(dwellHistogram(stored, 'verification')[1]).toBe(1); // 60 s
    expect(dwellHistogram(stored, 'grant-approval')[6]).toBe(1); // 4 days less a minute
    expect(dwellHistogram(stored, 'disbursement')[0]).toBe(1); // 5 s
    expect(dwellHistogram(stored, 'mentoring')[11]).toBe(1); // 91 days
    expect(dwellHistogram(stored, 'financing-referral')[8]).toBe(1); // 15 days
    expect(Object.entries(stored).filter(([name]) => name.startsWith('dwell#'))).toHaveLength(5);
  });

  it('counts each district on its own, and districts sum into the nation', () => {
    const majalengka = wholeJourney(proposed()).at(-1)!;
    const waiting = standing('grant-approval', 0, { caseId: '3210-2020-other', verification: verification(true) });
    const bandungBarat = standing('mentoring', 0, {
      caseId: '3217-2020-x',
      district: '3217',
      failure: { error: 'E', cause: '', at: at(1) },
    });
    const byDistrict = recount([majalengka, waiting, bandungBarat]);
    expect(byDistrict.get('3210')).toMatchObject({ 'reached#proposed': 2, 'reached#eligible': 2, 'now#grant-approval': 1 });
    expect(byDistrict.get('3217')).toEqual({ 'reached#proposed': 1, 'now#mentoring': 1, failed: 1 });
    expect(sumCounters(byDistrict.values())).toMatchObject({ 'reached#proposed': 3, 'now#mentoring': 1, failed: 1 });
  });
});

describe('sumCounters and medianBucket', () => {
  it('sums counter sets and leaves out counters that sum to zero', () => {
    expect(sumCounters([{ a: 1, b: 2 }, { a: -1, c: 5 }, {}])).toEqual({ b: 2, c: 5 });
    expect(sumCounters([])).toEqual({});
  });

  it('withoutDwell keeps the other counters, without zeros', () => {
    expect(withoutDwell({ 'dwell#mentoring#3': 4, 'now#mentoring': 2, failed: 0 })).toEqual({ 'now#mentoring': 2 });
  });

  it('finds the bucket holding the median, or none for an empty histogram', () => {
    expect(medianBucket([])).toBeUndefined();
    expect(medianBucket([0, 0, 0])).toBeUndefined();
    expect(medianBucket([0, 0, 5])).toBe(2);
    expect(medianBucket([1, 0, 0])).toBe(0);
    // Four families: the median lies between the 2nd and the 3rd, the 2nd in bucket 1.
    expect(medianBucket([1, 1, 1, 1])).toBe(1);
    expect(medianBucket([3, 0, 0, 4])).toBe(3);
    expect(medianBucket([4, 0, 0, 3])).toBe(0);
  });

  it('reads a stage histogram from the counters, a bucket per DWELL_BUCKETS and one more', () => {
    const h = dwellHistogram({ 'dwell#mentoring#0': 2, 'dwell#mentoring#13': 1, 'dwell#verification#0': 9 }, 'mentoring');
    expect(h).toHaveLength(DWELL_BUCKETS.length + 1);
    expect(h[0]).toBe(2);
    expect(h[13]).toBe(1);
    expect(h.reduce((a, b) => a + b, 0)).toBe(3);
  });
});
