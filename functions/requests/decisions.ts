/**
 * A person's decision on a request, from the page POST to the waiting journey:
 * 1. recordDecision: one conditional write picks the single winner (double clicks lose);
 * 2. completeDecision: apply it to the case (the truth), then settle the task token.
 * Step 2 is idempotent; AwaitRequest runs it again when it finds a decided request,
 * which is how a decision survives a crash or a restart between the steps.
 */
import { type Case, MilestoneReport } from '#domain/case';
import { type Bilingual, FormInvalidError, LinkError, StageConflictError } from '#domain/errors';
import * as z from '#domain/zod';
import { getCase, updateCase } from '#store/cases';
import {
  type Decision,
  findRequest,
  GrantDecision,
  LenderDecision,
  type Request,
  recordDecision,
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
  if (request.status === 'expired' || now.getTime() > Date.parse(request.deadline)) throw new LinkError('LINK_EXPIRED');
}

export async function decide(requestId: string, input: unknown, now = new Date()): Promise<Request> {
  const request = await findRequest(requestId);
  assertOpen(request, now);
  const decision = parseDecision(request.kind, input);
  const decided = await recordDecision(requestId, decision, now.toISOString());
  if (!decided) throw new LinkError('LINK_USED');
  await completeDecision(decided);
  return decided;
}

async function tolerateMovedOn(write: () => Promise<Case>): Promise<void> {
  try {
    await write();
  } catch (e) {
    // The case already moved past this stage: this decision was applied by an earlier pass.
    if (!(e instanceof StageConflictError)) throw e;
  }
}

export async function completeDecision(request: Request): Promise<void> {
  const at = request.decidedAt ?? new Date().toISOString();
  switch (request.kind) {
    case 'grant-approval': {
      const d = z.parse(GrantDecision, request.decision);
      const grantApproval = { ...d, decidedBy: request.recipient, at };
      await tolerateMovedOn(() =>
        updateCase(request.caseId, {
          expectStage: 'grant-approval',
          set: { grantApproval },
          stage: d.decision === 'approved' ? 'disbursement' : undefined,
        }),
      );
      break;
    }
    case 'milestone-report': {
      const report = z.parse(MilestoneReport, request.decision);
      const c = await getCase(request.caseId);
      const milestoneId = z.parse(z.string(), request.milestoneId);
      if (c.milestones[milestoneId]?.status !== 'reported') {
        await tolerateMovedOn(() =>
          updateCase(request.caseId, {
            expectStage: 'mentoring',
            set: { milestones: { ...c.milestones, [milestoneId]: { status: 'reported', at, report } } },
          }),
        );
      }
      break;
    }
    case 'financing-outcome': {
      const d = z.parse(LenderDecision, request.decision);
      const c = await getCase(request.caseId);
      if (c.referral && !c.referral.outcome) {
        await tolerateMovedOn(() =>
          updateCase(request.caseId, {
            expectStage: 'financing-referral',
            set: { referral: { ...c.referral!, outcome: { ...d, at } } },
          }),
        );
      }
      break;
    }
  }
  await settleTask(request);
}
