/**
 * A person's decision on a request, from the page POST to the waiting journey:
 * 1. recordDecision: one conditional write picks the single winner (double clicks lose);
 * 2. completeDecision: apply it to the case (the truth), then settle the task token.
 *    The last approval level's approval reserves the grant against the district quota
 *    and the national ceiling first, so the page the approver sees says whether the
 *    family gets it (store/quota.ts, reserveGrant); an earlier level's approval sends the
 *    journey on to the next level.
 * Step 2 is idempotent; AwaitRequest runs it again when it finds a decided request,
 * which is how a decision survives a crash or a restart between the steps.
 */
import { type Case, type GrantQuota, type LevelDecision, MilestoneReport } from '#domain/case';
import {
  AlreadyGrantedError,
  type Bilingual,
  FormInvalidError,
  GRANT_REJECTED,
  LinkError,
  QuotaExhaustedError,
  StageConflictError,
} from '#domain/errors';
import type { DecidedBy } from '#domain/person';
import { approvalLevel, programFor } from '#domain/program';
import * as z from '#domain/zod';
import { type CaseUpdate, getCase, updateCase } from '#store/cases';
import { reserveGrant } from '#store/quota';
import {
  type Decision,
  findRequest,
  GrantDecision,
  LenderDecision,
  type Request,
  recordDecision,
  type Settlement,
  settleTask,
} from './requests.ts';

/**
 * What a person sees next to a field they got wrong, in both languages. Keyed by the
 * field name the decision schemas use (and the pages use as form field names); the
 * zod text is for developers, not for an approver on a phone.
 */
const FIELD_MESSAGES: Record<string, Bilingual> = {
  decision: { id: 'Pilih Setujui atau Tolak.', en: 'Choose Approve or Reject.' },
  reasonCode: { id: 'Pilih alasan penolakan.', en: 'Choose a reason for the rejection.' },
  reason: {
    id: 'Tuliskan alasannya (paling banyak 1.000 karakter).',
    en: 'Write the reason (at most 1,000 characters).',
  },
  businessRunning: { id: 'Pilih apakah usaha masih berjalan.', en: 'Say whether the business is still running.' },
  monthlyRevenue: {
    id: 'Tuliskan omzet per bulan dalam rupiah, misalnya 1.500.000.',
    en: 'Write the monthly revenue in rupiah, for example 1,500,000.',
  },
  practices: { id: 'Pilih praktik dari daftar yang tersedia.', en: 'Choose practices from the list.' },
  notes: { id: 'Catatan paling banyak 2.000 karakter.', en: 'Notes can be at most 2,000 characters.' },
  status: { id: 'Pilih Dibiayai atau Tidak dibiayai.', en: 'Choose Financed or Declined.' },
  amountRupiah: {
    id: 'Tuliskan jumlah pembiayaan dalam rupiah, misalnya 5.000.000.',
    en: 'Write the financed amount in rupiah, for example 5,000,000.',
  },
};

const UNKNOWN_FIELD: Bilingual = { id: 'Isian ini tidak valid.', en: 'This entry is not valid.' };

export function parseDecision(kind: Request['kind'], input: unknown): Decision {
  const schema = { 'grant-approval': GrantDecision, 'milestone-report': MilestoneReport, 'financing-outcome': LenderDecision }[
    kind
  ];
  const parsed = z.safeParse(schema as z.ZodMiniType<Decision>, input);
  if (parsed.success) return parsed.data;
  const fields: Record<string, Bilingual> = {};
  for (const issue of parsed.error.issues) {
    const field = String(issue.path[0] ?? 'form');
    fields[field] ??= FIELD_MESSAGES[field] ?? UNKNOWN_FIELD;
  }
  throw new FormInvalidError(fields);
}

/** Checks that a request can still take a decision; throws the LinkError a page shows. */
export function assertOpen(request: Request | undefined, now: Date): asserts request is Request {
  if (!request) throw new LinkError('LINK_INVALID');
  if (request.status === 'decided') throw new LinkError('LINK_USED');
  if (request.status === 'escalated') throw new LinkError('LINK_MOVED');
  if (request.status === 'expired' || now.getTime() > Date.parse(request.deadline)) throw new LinkError('LINK_EXPIRED');
}

/** A decision as applied: the request that recorded it and the case as it now stands. */
export interface Decided {
  request: Request;
  /** The truth the page tells the person (for an approval: whether the grant was reserved). */
  case: Case;
}

/** Records the decision of `by` (the signed-in recipient; the page checked that) and applies it. */
export async function decide(requestId: string, input: unknown, by: DecidedBy, now = new Date()): Promise<Decided> {
  const request = await findRequest(requestId);
  assertOpen(request, now);
  const decision = parseDecision(request.kind, input);
  const decided = await recordDecision(requestId, decision, now.toISOString(), by);
  if (!decided) {
    // Decided by a second tab, or escalated at that moment: say which.
    assertOpen(await findRequest(requestId), now);
    throw new LinkError('LINK_USED');
  }
  return { request: decided, case: await completeDecision(decided) };
}

/** Runs a case write; undefined when the case already moved past this stage (an earlier pass applied it). */
async function tolerateMovedOn(write: () => Promise<Case>): Promise<Case | undefined> {
  try {
    return await write();
  } catch (e) {
    if (!(e instanceof StageConflictError)) throw e;
    return undefined;
  }
}

interface Applied {
  case: Case;
  settlement: Settlement;
}

const SUCCESS: Settlement = { ok: true };

/**
 * The quota's answer for this approval. A pass that already recorded it on the case
 * keeps it (the approver was told that); otherwise the reservation is asked for, which
 * is idempotent per case: a pass that crashed after reserving finds its reservation.
 * A case that moved on without a recorded answer was approved before reservations were
 * made here; Disbursement reserves for it.
 */
async function quotaAnswer(c: Case): Promise<GrantQuota> {
  if (c.grantApproval?.quota) return c.grantApproval.quota;
  if (c.stage !== 'grant-approval') return 'reserved';
  return reserveGrant(c);
}

/** Every decided request names its decider; one without is a bug, not a decision to apply. */
function decidedByOf(request: Request): DecidedBy {
  if (!request.decidedBy) throw new Error(`request ${request.requestId} is decided but names nobody`);
  return request.decidedBy;
}

/** A write computed from the case as read loses to a concurrent one this many times at most before it gives up. */
const CASE_WRITE_ATTEMPTS = 5;

/**
 * A level's decision on the case. A rejection at any level is final (the journey closes
 * the case Rejected); an approval at a level before the last records that level and
 * sends the journey to the next one; only the last level's approval reserves the grant
 * (district quota, national ceiling, the family's one grant) and moves the case on.
 * Each level's decision is appended to `approvals` conditionally on the case being the
 * one read, so a replay and a page completing at once cannot drop each other's level.
 */
async function applyGrantApproval(request: Request, at: string): Promise<Applied> {
  const d = z.parse(GrantDecision, request.decision);
  const decidedBy = decidedByOf(request);
  for (let attempt = 1; ; attempt++) {
    const c = await getCase(request.caseId);
    const config = programFor(c.programYear);
    // A request from before approvals had levels decided the grant on its own.
    const next = request.level ? approvalLevel(config, request.level).next : undefined;
    const level = request.level ?? config.approvalLevels[0]?.id ?? 'district';
    const entry: LevelDecision = { ...d, level, decidedBy, at, assignee: request.assignee };
    const recorded = c.approvals ?? [];
    const approvals = recorded.some((a) => a.level === level) ? recorded : [...recorded, entry];
    let applied: Applied;
    let set: CaseUpdate['set'];
    let stage: CaseUpdate['stage'];
    if (d.decision === 'rejected') {
      // A rejection never touches the quota.
      set = { approvals, grantApproval: { ...d, level, decidedBy, at } };
      applied = { case: c, settlement: { error: GRANT_REJECTED, cause: `reasonCode=${d.reasonCode}` } };
    } else if (next) {
      set = { approvals };
      applied = { case: c, settlement: { ok: true, output: { nextLevel: next.id } } };
    } else {
      const quota = await quotaAnswer(c);
      set = { approvals, grantApproval: { ...d, level, decidedBy, at, quota } };
      // Reserved: on to disbursement. Otherwise the case stays here, approved but without a
      // grant, and the journey closes it (its Close writes the outcome).
      stage = quota === 'reserved' ? 'disbursement' : undefined;
      applied = { case: c, settlement: finalSettlement(c, quota) };
    }
    try {
      const updated = await updateCase(c.caseId, { expectStage: 'grant-approval', set, stage, unchangedSince: c.updatedAt });
      return { ...applied, case: updated };
    } catch (e) {
      if (!(e instanceof StageConflictError)) throw e;
      const current = await getCase(c.caseId);
      // The case moved past approval: an earlier pass applied this (or the level after it).
      if (current.stage !== 'grant-approval') return { ...applied, case: current };
      if (attempt >= CASE_WRITE_ATTEMPTS) throw e;
    }
  }
}

/** How the last level's approval ends the journey's wait: on to Disbursement, or closed without a grant. */
function finalSettlement(c: Case, quota: GrantQuota): Settlement {
  if (quota === 'reserved') return { ok: true, output: { nextLevel: null } };
  const refused =
    quota === 'already-granted'
      ? new AlreadyGrantedError()
      : quota === 'national-ceiling'
        ? new QuotaExhaustedError(c.district, c.programYear, 'national')
        : new QuotaExhaustedError(c.district, c.programYear);
  return { error: refused.name, cause: refused.message };
}

async function applyMilestoneReport(request: Request, at: string): Promise<Case> {
  const report = z.parse(MilestoneReport, request.decision);
  const c = await getCase(request.caseId);
  const milestoneId = z.parse(z.string(), request.milestoneId);
  if (c.milestones[milestoneId]?.status === 'reported') return c;
  const updated = await tolerateMovedOn(() =>
    updateCase(request.caseId, {
      expectStage: 'mentoring',
      // From the case as the store writes over it: a milestone recorded meanwhile stays.
      set: (current) =>
        current.milestones[milestoneId]?.status === 'reported'
          ? undefined
          : {
              milestones: {
                ...current.milestones,
                [milestoneId]: { status: 'reported', at, report, decidedBy: decidedByOf(request) },
              },
            },
    }),
  );
  return updated ?? c;
}

async function applyFinancingOutcome(request: Request, at: string): Promise<Case> {
  const d = z.parse(LenderDecision, request.decision);
  const c = await getCase(request.caseId);
  if (!c.referral || c.referral.outcome) return c;
  const outcome = { ...d, at, decidedBy: decidedByOf(request) };
  const updated = await tolerateMovedOn(() =>
    updateCase(request.caseId, {
      expectStage: 'financing-referral',
      // An outcome recorded meanwhile (the deadline's no-response) is not overwritten.
      set: (current) =>
        current.referral && !current.referral.outcome ? { referral: { ...current.referral, outcome } } : undefined,
    }),
  );
  return updated ?? c;
}

async function apply(request: Request): Promise<Applied> {
  const at = request.decidedAt ?? new Date().toISOString();
  switch (request.kind) {
    case 'grant-approval':
      return applyGrantApproval(request, at);
    case 'milestone-report':
      return { case: await applyMilestoneReport(request, at), settlement: SUCCESS };
    case 'financing-outcome':
      return { case: await applyFinancingOutcome(request, at), settlement: SUCCESS };
  }
}

/** Applies a decided request to its case, then settles the journey's task; returns the case as it now stands. */
export async function completeDecision(request: Request): Promise<Case> {
  const { case: c, settlement } = await apply(request);
  await settleTask(request, settlement);
  return c;
}
