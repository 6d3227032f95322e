/**
 * OpenGrantApproval / OpenMilestoneReport / OpenFinancingOutcome: make sure the request
 * exists and its link has been emailed (the request records when: `mailedAt`); on later passes (after a wait timed out) send a
 * reminder or, past the deadline, record the defined outcome and throw
 * DeadlinePassedError. Returns how long the next wait may last: until the next reminder
 * or the deadline, whichever is first — so no single wait is ever longer than the
 * reminder interval, on AWS or on the embedded engine.
 */
import type { Case } from '#domain/case';
import { DeadlinePassedError } from '#domain/errors';
import { type ProgramConfig, programFor } from '#domain/program';
import * as z from '#domain/zod';
import { requiredEnv } from '#lib/env';
import { taskHandler } from '#lib/handler';
import { logger } from '#lib/logger';
import { sendMail } from '#lib/mail';
import { requestMail } from '#requests/request-mail';
import {
  findRequest,
  linkFor,
  markExpired,
  markMailed,
  markReminded,
  openRequest,
  type Request,
  RequestKind,
  requestIdFor,
} from '#requests/requests';
import { getCase, updateCase } from '#store/cases';

const Input = z.object({ caseId: z.string().check(z.minLength(1)), kind: RequestKind, milestoneId: z.optional(z.string()) });

function recipientAndDeadline(kind: RequestKind, c: Case, config: ProgramConfig, milestoneId: string | undefined, now: Date) {
  const from = (iso: string | undefined, seconds: number) =>
    new Date((iso ? Date.parse(iso) : now.getTime()) + seconds * 1000).toISOString();
  switch (kind) {
    case 'grant-approval':
      return { recipient: requiredEnv('APPROVER_EMAIL'), deadline: from(undefined, config.deadlines.grantApproval) };
    case 'milestone-report': {
      const milestone = config.milestones.find((m) => m.id === milestoneId);
      const district = config.districts[c.district];
      if (!milestone || !district)
        throw new Error(`milestone ${milestoneId} or district ${c.district} not in program ${config.version}`);
      // Milestone deadlines count from disbursement, so a restart does not move them.
      return { recipient: district.mentorEmail, deadline: from(c.mentoringStartedAt, milestone.due) };
    }
    case 'financing-outcome': {
      const scheme = config.financingSchemes.find((s) => s.id === c.referral?.scheme);
      if (!scheme || !c.referral) throw new Error(`case ${c.caseId} has no referral to a known scheme`);
      return { recipient: scheme.lenderEmail, deadline: from(c.referral.at, config.deadlines.financingOutcome) };
    }
  }
}

/** The defined outcome of a missed deadline, recorded on the case before the journey moves on. */
async function recordDeadlinePassed(request: Request, c: Case, at: string): Promise<void> {
  if (request.kind === 'milestone-report' && request.milestoneId && !c.milestones[request.milestoneId]) {
    await updateCase(c.caseId, {
      expectStage: 'mentoring',
      set: { milestones: { ...c.milestones, [request.milestoneId]: { status: 'missed', at } } },
    });
  }
  if (request.kind === 'financing-outcome' && c.referral && !c.referral.outcome) {
    await updateCase(c.caseId, {
      expectStage: 'financing-referral',
      set: { referral: { ...c.referral, outcome: { status: 'no-response', at } } },
    });
  }
  // A grant approval that expires has nothing to record here: Close records the outcome.
}

export const handler = taskHandler('open-request', Input, async ({ caseId, kind, milestoneId }) => {
  const now = new Date();
  const c = await getCase(caseId);
  const config = programFor(c.programYear);
  const requestId = requestIdFor(caseId, kind, milestoneId);
  let request = await findRequest(requestId);
  if (!request) {
    const { recipient, deadline } = recipientAndDeadline(kind, c, config, milestoneId, now);
    ({ request } = await openRequest({
      requestId,
      kind,
      caseId,
      milestoneId,
      recipient,
      deadline,
      openedAt: now.toISOString(),
    }));
  }
  const deadline = Date.parse(request.deadline);
  if (request.status !== 'decided' && (request.status === 'expired' || now.getTime() >= deadline)) {
    await markExpired(requestId);
    await recordDeadlinePassed(request, c, now.toISOString());
    logger.info('request deadline passed', { kind, milestoneId });
    throw new DeadlinePassedError(kind);
  }
  const reminderEvery = config.deadlines.reminderEvery * 1000;
  let lastSent = Date.parse(request.remindedAt ?? request.mailedAt ?? request.openedAt);
  // Whatever stopped an earlier run between storing the request and mailing it (a crash, a
  // failed SES call, a restarted journey), the first email goes out on this run: the request
  // says whether it went. It may go twice after a crash; it never goes zero times.
  if (request.status === 'open' && !request.mailedAt) {
    await sendMail(requestMail({ request, c, config, link: linkFor(requestId), reminder: false }));
    await markMailed(requestId, now.toISOString());
    lastSent = now.getTime();
  } else if (request.status === 'open' && now.getTime() - lastSent >= reminderEvery) {
    await sendMail(requestMail({ request, c, config, link: linkFor(requestId), reminder: true }));
    await markReminded(requestId, now.toISOString());
    lastSent = now.getTime();
  }
  const waitMs = Math.min(lastSent + reminderEvery, deadline) - now.getTime();
  return { requestId, waitSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
});
