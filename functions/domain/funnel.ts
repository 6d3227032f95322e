/**
 * The funnel: how many families of a district and program year reached each step of the
 * journey, how many left it and why, how many stand at each stage now, and how long they
 * spent in each stage. Operators read it for 300,000 families a year, so it is never
 * counted by reading cases: every case write adds what it changed to one counter item per
 * district and year, in the same transaction (store/cases.ts). This module is the rule for
 * what a write changed: `funnelDelta(before, after)`, pure, so the counters and a recount
 * from the cases themselves (`recount`) cannot disagree.
 */
import type { Case, Outcome, Stage } from './case.ts';

/** The steps a family reaches in order. Milestones come from the program (`milestone:<id>`). */
export const FUNNEL_STEPS = ['proposed', 'eligible', 'approved', 'disbursed', 'graded', 'referred', 'financed'] as const;
export type FunnelStep = (typeof FUNNEL_STEPS)[number];

/** The stages a family can stand at while its journey runs (closed is an exit, counted by outcome). */
export const OPEN_STAGES = [
  'verification',
  'grant-approval',
  'disbursement',
  'mentoring',
  'financing-referral',
] as const satisfies readonly Stage[];
export type OpenStage = (typeof OPEN_STAGES)[number];

/**
 * Upper bounds (seconds) of the time-in-stage histogram's buckets; the last is open. A
 * median from the histogram is known to its bucket: 1–3 days, not 41 hours. Fine enough
 * to see where families wait, and a fixed number of counters per stage.
 */
export const DWELL_BUCKETS = [
  60,
  600,
  3600,
  6 * 3600,
  86_400,
  3 * 86_400,
  7 * 86_400,
  14 * 86_400,
  30 * 86_400,
  60 * 86_400,
  90 * 86_400,
  180 * 86_400,
  365 * 86_400,
] as const;

/** Counter names, one attribute each on the counter item. */
export const counter = {
  reached: (step: FunnelStep) => `reached#${step}`,
  milestone: (id: string) => `reached#milestone:${id}`,
  exit: (outcome: Outcome) => `exit#${outcome}`,
  now: (stage: OpenStage) => `now#${stage}`,
  /** Journeys that failed and were not yet resumed (the case stays at its stage). */
  failed: 'failed',
  dwell: (stage: OpenStage, bucket: number) => `dwell#${stage}#${bucket}`,
} as const;

export type FunnelCounters = Record<string, number>;

const isOpen = (stage: Stage): stage is OpenStage => stage !== 'closed';

/** Every step the case has reached, by the facts recorded on it. */
export function reachedSteps(c: Case): string[] {
  const steps: string[] = [counter.reached('proposed')];
  if (c.verification?.eligible) steps.push(counter.reached('eligible'));
  const approval = c.grantApproval;
  // An approval that found no grant left (quota, ceiling, already granted) is not a grant.
  if (approval?.decision === 'approved' && (approval.quota === undefined || approval.quota === 'reserved')) {
    steps.push(counter.reached('approved'));
  }
  if (c.disbursement) steps.push(counter.reached('disbursed'));
  for (const [id, m] of Object.entries(c.milestones ?? {})) if (m.status === 'reported') steps.push(counter.milestone(id));
  if (c.grade) steps.push(counter.reached('graded'));
  if (c.referral) steps.push(counter.reached('referred'));
  if (c.referral?.outcome?.status === 'financed') steps.push(counter.reached('financed'));
  return steps;
}

const isFailed = (c: Case) => c.failure !== undefined && c.stage !== 'closed';

/** When the case entered the stage it stands at (cases from before `stageSince`: its best guess). */
export function stageSince(c: Case): string {
  if (c.stageSince) return c.stageSince;
  return c.stage === 'verification' ? c.createdAt : c.updatedAt;
}

/** The histogram bucket of a time spent in a stage. */
export function dwellBucket(seconds: number): number {
  const i = DWELL_BUCKETS.findIndex((upper) => seconds < upper);
  return i === -1 ? DWELL_BUCKETS.length : i;
}

function add(delta: FunnelCounters, name: string, by: number): void {
  const value = (delta[name] ?? 0) + by;
  if (value === 0) delete delta[name];
  else delta[name] = value;
}

/**
 * What one write of a case changes in its district's counters: steps newly reached, the
 * exit when it closes, the stage it left and entered (with the time it spent there), and
 * whether its journey is now failed. `before` is undefined when the write creates the case.
 * Steps are facts written once, so a step is never un-reached.
 */
export function funnelDelta(before: Case | undefined, after: Case): FunnelCounters {
  const delta: FunnelCounters = {};
  const had = new Set(before ? reachedSteps(before) : []);
  for (const step of reachedSteps(after)) if (!had.has(step)) add(delta, step, 1);
  if (before?.stage !== after.stage) {
    if (before && isOpen(before.stage)) {
      add(delta, counter.now(before.stage), -1);
      const spent = (Date.parse(after.updatedAt) - Date.parse(stageSince(before))) / 1000;
      add(delta, counter.dwell(before.stage, dwellBucket(Math.max(0, spent))), 1);
    }
    if (isOpen(after.stage)) add(delta, counter.now(after.stage), 1);
    else if (after.outcome) add(delta, counter.exit(after.outcome), 1);
  }
  const wasFailed = before ? isFailed(before) : false;
  if (isFailed(after) !== wasFailed) add(delta, counter.failed, isFailed(after) ? 1 : -1);
  return delta;
}

/**
 * The counters the cases themselves imply, without the time-in-stage histograms (a case
 * keeps only when it entered its current stage). What the stored counters must equal:
 * the tests and `prokus funnel check` compare the two.
 */
export function recount(cases: Iterable<Case>): Map<string, FunnelCounters> {
  const byDistrict = new Map<string, FunnelCounters>();
  for (const c of cases) {
    const counters = byDistrict.get(c.district) ?? {};
    byDistrict.set(c.district, counters);
    for (const step of reachedSteps(c)) add(counters, step, 1);
    if (isOpen(c.stage)) add(counters, counter.now(c.stage), 1);
    else if (c.outcome) add(counters, counter.exit(c.outcome), 1);
    if (isFailed(c)) add(counters, counter.failed, 1);
  }
  return byDistrict;
}

/** The counters without the histograms, for comparing with a recount. */
export function withoutDwell(counters: FunnelCounters): FunnelCounters {
  return Object.fromEntries(Object.entries(counters).filter(([name, value]) => !name.startsWith('dwell#') && value !== 0));
}

/** Sums counter sets (districts into a nation). */
export function sumCounters(all: Iterable<FunnelCounters>): FunnelCounters {
  const total: FunnelCounters = {};
  for (const counters of all) for (const [name, value] of Object.entries(counters)) add(total, name, value);
  return total;
}

/** The time-in-stage histogram of one stage: count per bucket. */
export function dwellHistogram(counters: FunnelCounters, stage: OpenStage): number[] {
  return Array.from({ length: DWELL_BUCKETS.length + 1 }, (_, i) => counters[counter.dwell(stage, i)] ?? 0);
}

/** The bucket holding the median of a histogram, or undefined when it counts nothing. */
export function medianBucket(histogram: readonly number[]): number | undefined {
  const total = histogram.reduce((a, b) => a + b, 0);
  if (total === 0) return undefined;
  let seen = 0;
  for (const [i, n] of histogram.entries()) {
    seen += n;
    if (seen * 2 >= total) return i;
  }
  return histogram.length - 1;
}

/** A bucket's bounds in seconds: [lower, upper), upper undefined for the open last one. */
export function bucketBounds(bucket: number): { lower: number; upper?: number } {
  return { lower: bucket === 0 ? 0 : (DWELL_BUCKETS[bucket - 1] ?? 0), upper: DWELL_BUCKETS[bucket] };
}
