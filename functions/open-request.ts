/**
 * OpenGrantApproval / OpenMilestoneReport / OpenFinancingOutcome: make sure the request
 * exists and its link has been emailed (the request records when: `mailedAt`); on later passes (after a wait timed out) send a
 * reminder or, past the deadline, record the defined outcome and throw
 * DeadlinePassedError. Returns how long the next wait may last: until the next reminder,
 * escalation or deadline, whichever is first — so no single wait is ever longer than the
 * reminder interval, on AWS or on the embedded engine.
 *
 * A grant approval is asked level by level (program configuration `approvalLevels`), each
 * level first of its primary approver. A primary who has not decided `escalateAfter` after
 * the level's request opened loses it on the next pass: the request is marked escalated
 * (conditionally: a decision that landed first stands), the level's alternate approver
 * gets a request and a link of their own, and the first link is refused as moved. The
 * level's deadline stays the one its first request set.
 */
import type { Case } from '#domain/case';
import { DeadlinePassedError } from '#domain/errors';
import { approvalLevel, approversOf, type ProgramConfig, programFor } from '#domain/program';
import * as z from '#domain/zod';
import { taskHandler } from '#lib/handler';
import { logger } from '#lib/logger';
import { sendMail } from '#lib/mail';
import { requestMail } from '#requests/request-mail';
import {
  findRequest,
  linkFor,
  markEscalated,
  markExpired,
  markMailed,
  markReminded,
  openRequest,
  type Request,
  RequestKind,
  requestIdFor,
} from '#requests/requests';
import { getCase, updateCase } from '#store/cases';

const Input = z.object({
  caseId: z.string().check(z.minLength(1)),
  kind: RequestKind,
  milestoneId: z.optional(z.string()),
  /** A grant approval's level: the journey carries it from level to level. */
  level: z.optional(z.string().check(z.minLength(1))),
});

const later = (from: Date | string, seconds: number) =>
  new Date((typeof from === 'string' ? Date.parse(from) : from.getTime()) + seconds * 1000).toISOString();

function recipientAndDeadline(
  kind: 'milestone-report' | 'financing-outcome',
  c: Case,
  config: ProgramConfig,
  milestoneId?: string,
) {
  switch (kind) {
    case 'milestone-report': {
      const milestone = config.milestones.find((m) => m.id === milestoneId);
      const district = config.districts[c.district];
      if (!milestone || !district)
        throw new Error(`milestone ${milestoneId} or district ${c.district} not in program ${config.version}`);
      // Milestone deadlines count from disbursement, so a restart does not move them.
      return { recipient: district.mentorEmail, deadline: later(c.mentoringStartedAt ?? new Date(), milestone.due) };
    }
    case 'financing-outcome': {
      const scheme = config.financingSchemes.find((s) => s.id === c.referral?.scheme);
      if (!scheme || !c.referral) throw new Error(`case ${c.caseId} has no referral to a known scheme`);
      return { recipient: scheme.lenderEmail, deadline: later(c.referral.at, config.deadlines.financingOutcome) };
    }
  }
}

/** The defined outcome of a missed deadline, recorded on the case before the journey moves on. */
async function recordDeadlinePassed(request: Request, c: Case, at: string): Promise<void> {
  if (request.kind === 'milestone-report' && request.milestoneId && !c.milestones[request.milestoneId]) {
    const milestoneId = request.milestoneId;
    await updateCase(c.caseId, {
      expectStage: 'mentoring',
      // A report that landed meanwhile wins over "missed".
      set: (current) =>
        current.milestones[milestoneId]
          ? undefined
          : { milestones: { ...current.milestones, [milestoneId]: { status: 'missed', at } } },
    });
  }
  if (request.kind === 'financing-outcome' && c.referral && !c.referral.outcome) {
    await updateCase(c.caseId, {
      expectStage: 'financing-referral',
      // The lender's answer, if it landed meanwhile, wins over "no response".
      set: (current) =>
        current.referral && !current.referral.outcome
          ? { referral: { ...current.referral, outcome: { status: 'no-response' as const, at } } }
          : undefined,
    });
  }
  // A grant approval that expires has nothing to record here: Close records the outcome.
}

/**
 * The request of a grant approval level that is the approver's now: the primary's, or
 * once it escalated, the alternate's (opened here if a crash came between the two writes).
 */
async function activeApproval(c: Case, config: ProgramConfig, level: string, now: Date): Promise<Request> {
  const approvers = approversOf(config, c.district, level);
  const primaryId = requestIdFor(c.caseId, 'grant-approval', { level });
  let primary =
    (await findRequest(primaryId)) ??
    (
      await openRequest({
        requestId: primaryId,
        kind: 'grant-approval',
        caseId: c.caseId,
        level,
        assignee: 'primary',
        recipient: approvers.primary,
        deadline: later(now, config.deadlines.grantApproval),
        escalateAt: later(now, config.deadlines.escalateAfter),
        openedAt: now.toISOString(),
      })
    ).request;
  const due = (iso: string | undefined) => iso !== undefined && now.getTime() >= Date.parse(iso);
  // Past the level's deadline nothing escalates: the level expires instead.
  if (primary.status === 'open' && due(primary.escalateAt) && !due(primary.deadline)) {
    if (await markEscalated(primaryId, approvers.alternate, now.toISOString())) {
      logger.info('grant approval escalated to the alternate approver', { level });
      primary = { ...primary, status: 'escalated', movedTo: approvers.alternate };
    } else {
      // The primary decided at that very moment: the decision stands.
      primary = (await findRequest(primaryId)) ?? primary;
    }
  }
  if (primary.status !== 'escalated') return primary;
  const alternateId = requestIdFor(c.caseId, 'grant-approval', { level, alternate: true });
  return (
    (await findRequest(alternateId)) ??
    (
      await openRequest({
        requestId: alternateId,
        kind: 'grant-approval',
        caseId: c.caseId,
        level,
        assignee: 'alternate',
        recipient: primary.movedTo ?? approvers.alternate,
        // The level's deadline does not move with the request.
        deadline: primary.deadline,
        openedAt: now.toISOString(),
      })
    ).request
  );
}

async function storedRequest(
  c: Case,
  config: ProgramConfig,
  kind: RequestKind,
  milestoneId: string | undefined,
  level: string | undefined,
  now: Date,
): Promise<Request> {
  if (kind === 'grant-approval') {
    if (!level) throw new Error('OpenGrantApproval needs the approval level in its input');
    approvalLevel(config, level);
    return activeApproval(c, config, level, now);
  }
  const requestId = requestIdFor(c.caseId, kind, { milestoneId });
  const found = await findRequest(requestId);
  if (found) return found;
  const { recipient, deadline } = recipientAndDeadline(kind, c, config, milestoneId);
  const { request } = await openRequest({
    requestId,
    kind,
    caseId: c.caseId,
    milestoneId,
    recipient,
    deadline,
    openedAt: now.toISOString(),
  });
  return request;
}

export const handler = taskHandler('open-request', Input, async ({ caseId, kind, milestoneId, level }) => {
  const now = new Date();
  const c = await getCase(caseId);
  const config = programFor(c.programYear);
  const request = await storedRequest(c, config, kind, milestoneId, level, now);
  const { requestId } = request;
  const deadline = Date.parse(request.deadline);
  if (request.status !== 'decided' && (request.status === 'expired' || now.getTime() >= deadline)) {
    // A decision that landed first stands (AwaitRequest replays it); otherwise the deadline passed.
    if (await markExpired(requestId)) {
      await recordDeadlinePassed(request, c, now.toISOString());
      logger.info('request deadline passed', { kind, milestoneId, level });
      throw new DeadlinePassedError(kind);
    }
  }
  const reminderEvery = config.deadlines.reminderEvery * 1000;
  let lastSent = Date.parse(request.remindedAt ?? request.mailedAt ?? request.openedAt);
  const mail = (reminder: boolean) => sendMail(requestMail({ request, c, config, link: linkFor(requestId), reminder }));
  // Whatever stopped an earlier run between storing the request and mailing it (a crash, a
  // failed SES call, a restarted journey), the first email goes out on this run: the request
  // says whether it went. It may go twice after a crash; it never goes zero times.
  if (request.status === 'open' && !request.mailedAt) {
    await mail(false);
    await markMailed(requestId, now.toISOString());
    lastSent = now.getTime();
  } else if (request.status === 'open' && now.getTime() - lastSent >= reminderEvery) {
    await mail(true);
    await markReminded(requestId, now.toISOString());
    lastSent = now.getTime();
  }
  // The next pass must come by the next reminder, the escalation (a primary's open request) and the deadline.
  const escalateAt = request.status === 'open' && request.escalateAt ? Date.parse(request.escalateAt) : Number.POSITIVE_INFINITY;
  const waitMs = Math.min(lastSent + reminderEvery, escalateAt, deadline) - now.getTime();
  return { requestId, waitSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
});
