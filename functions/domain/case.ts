/**
 * The case record: one family in one program year. It is the truth about where the
 * family stands; the journey execution only orchestrates. Personal fields live sealed
 * (encrypted) in `personal`; everything else here is safe to show an operator.
 */
import { DecidedBy } from './person.ts';
import { Grade, Practice } from './program.ts';
import * as z from './zod.ts';

export const Stage = z.enum(['verification', 'grant-approval', 'disbursement', 'mentoring', 'financing-referral', 'closed']);
export type Stage = z.infer<typeof Stage>;

/** Every way a journey can end. `failed` is not here: a failure leaves the case at its stage for a restart. */
export const Outcome = z.enum([
  'graduated',
  'ineligible',
  'rejected',
  'approval-expired',
  'quota-exhausted',
  'mentoring-incomplete',
  'already-granted',
]);
export type Outcome = z.infer<typeof Outcome>;

const Bilingual = z.object({ id: z.string(), en: z.string() });

/**
 * What reserving the grant answered an approval: a grant reserved for the family, none
 * left in the district quota, none left under the national ceiling of the program year
 * (the district still had quota), or the family's one grant already held by another of
 * its cases (another program year's).
 */
export const GrantQuota = z.enum(['reserved', 'exhausted', 'national-ceiling', 'already-granted']);
export type GrantQuota = z.infer<typeof GrantQuota>;

/** What the officer proposed, sealed inside the case. */
export const Personal = z.object({
  nik: z.string(),
  kk: z.string(),
  nama: z.string(),
  tanggalLahir: z.string(),
  jenisKelamin: z.enum(['L', 'P']),
  alamat: z.string(),
  kecamatan: z.string(),
  desa: z.string(),
  noHp: z.string(),
  /** The TKSK / facilitator the proposal names, when it names one. */
  pendamping: z.optional(z.string()),
});
export type Personal = z.infer<typeof Personal>;

export const Business = z.object({
  type: z.string(),
  description: z.string(),
  months: z.int().check(z.nonnegative()),
  monthlyRevenue: z.int().check(z.nonnegative()),
});
export type Business = z.infer<typeof Business>;

export const MilestoneReport = z.object({
  businessRunning: z.boolean(),
  monthlyRevenue: z.int().check(z.nonnegative()),
  practices: z.array(Practice),
  notes: z.string().check(z.maxLength(2000)),
});
export type MilestoneReport = z.infer<typeof MilestoneReport>;

export const MilestoneRecord = z.object({
  status: z.enum(['reported', 'missed']),
  at: z.string(),
  report: z.optional(MilestoneReport),
  /** Who reported it (absent on a missed milestone, which nobody decides). */
  decidedBy: z.optional(DecidedBy),
});

export const FinancingOutcome = z.object({
  status: z.enum(['financed', 'declined', 'no-response']),
  amountRupiah: z.optional(z.int().check(z.nonnegative())),
  reason: z.optional(z.string()),
  at: z.string(),
  /** Who recorded it for the lender (absent on no-response, which nobody decides). */
  decidedBy: z.optional(DecidedBy),
});

/** One approval level's decision, as the request that carried it recorded it. */
export const LevelDecision = z.object({
  level: z.string(),
  decision: z.enum(['approved', 'rejected']),
  reasonCode: z.optional(z.string()),
  reason: z.optional(z.string()),
  decidedBy: DecidedBy,
  at: z.string(),
  /** Whether the level's primary approver decided, or the alternate after the request escalated. */
  assignee: z.optional(z.enum(['primary', 'alternate'])),
});
export type LevelDecision = z.infer<typeof LevelDecision>;

/** An operator's resume of a failed journey (the console's one action). */
export const Resume = z.object({
  decidedBy: DecidedBy,
  at: z.string(),
  /** The execution it started, `<caseId>-r<n>`. */
  execution: z.string(),
  /** The failure it resumed from. */
  failure: z.object({ error: z.string(), at: z.string() }),
});
export type Resume = z.infer<typeof Resume>;

export const Case = z.object({
  caseId: z.string(),
  district: z.string(),
  programYear: z.int(),
  stage: Stage,
  outcome: z.optional(Outcome),
  outcomeReason: z.optional(Bilingual),
  nikHash: z.string(),
  kkHash: z.string(),
  nikMasked: z.string(),
  personal: z.string(),
  business: Business,
  proposal: z.object({ uploadId: z.string(), key: z.string(), row: z.int(), proposedAt: z.string() }),
  /** Findings intake passed on (e.g. a birth date that disagrees with the NIK). */
  intakeWarnings: z._default(z.array(z.string()), []),
  journeyRuns: z._default(z.int().check(z.nonnegative()), 0),
  verification: z.optional(
    z.object({
      eligible: z.boolean(),
      reasons: z.array(z.string()),
      explanation: z.array(Bilingual),
      ruleVersion: z.string(),
      at: z.string(),
    }),
  ),
  /** Each approval level's decision, in level order: what the pages show of the earlier levels. */
  approvals: z.optional(z.array(LevelDecision)),
  /**
   * The final decision on the grant: the last level's approval, or a rejection at any
   * level (what Close, Disbursement and the pages' answer go by).
   */
  grantApproval: z.optional(
    z.object({
      decision: z.enum(['approved', 'rejected']),
      /** The level that decided (absent on decisions recorded before approvals had levels). */
      level: z.optional(z.string()),
      reasonCode: z.optional(z.string()),
      reason: z.optional(z.string()),
      decidedBy: DecidedBy,
      at: z.string(),
      /**
       * For an approval: whether the district quota had a grant left for this family when
       * the approval was applied. Absent on a rejection (which never reserves) and on
       * approvals recorded before the reservation moved to approval time.
       */
      quota: z.optional(GrantQuota),
    }),
  ),
  disbursement: z.optional(z.object({ amountRupiah: z.int(), reference: z.string(), ruleVersion: z.string(), at: z.string() })),
  mentoringStartedAt: z.optional(z.string()),
  milestones: z._default(z.record(z.string(), MilestoneRecord), {}),
  grade: z.optional(z.object({ grade: Grade, reason: Bilingual, ruleVersion: z.string(), at: z.string() })),
  referral: z.optional(
    z.object({
      scheme: z.string(),
      schemeName: z.string(),
      ceilingRupiah: z.int(),
      reason: Bilingual,
      ruleVersion: z.string(),
      at: z.string(),
      outcome: z.optional(FinancingOutcome),
    }),
  ),
  failure: z.optional(z.object({ error: z.string(), cause: z.string(), at: z.string() })),
  /** Failed journeys an operator resumed from the console: who, when, and the run it started. */
  resumes: z.optional(z.array(Resume)),
  createdAt: z.string(),
  updatedAt: z.string(),
  /** When the case entered the stage it stands at (absent on cases from before the funnel: see domain/funnel.ts). */
  stageSince: z.optional(z.string()),
  closedAt: z.optional(z.string()),
  /**
   * How many times the case was written: each write is conditional on the number it read,
   * so the funnel counters written with it (store/cases.ts) count what really changed.
   */
  rev: z.optional(z.int().check(z.nonnegative())),
});
export type Case = z.infer<typeof Case>;

/** The non-personal facts a journey execution carries. Nothing else goes into a payload. */
export const CaseSummary = z.object({
  caseId: z.string(),
  district: z.string(),
  programYear: z.int(),
  stage: Stage,
});
export type CaseSummary = z.infer<typeof CaseSummary>;

export function summarize(c: Case): CaseSummary {
  return { caseId: c.caseId, district: c.district, programYear: c.programYear, stage: c.stage };
}

/** caseId = district, program year and a keyed hash of the NIK: deterministic, never the NIK. */
export function caseIdFor(district: string, programYear: number, nikHash: string): string {
  return `${district}-${programYear}-${nikHash.slice(0, 20)}`;
}

/** First run of a journey uses the case id; restarts add `-r<n>` (names are unique per state machine). */
export function journeyName(caseId: string, run: number): string {
  return run <= 1 ? caseId : `${caseId}-r${run}`;
}
