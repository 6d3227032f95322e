/**
 * AwaitGrantApproval / AwaitMilestoneReport / AwaitFinancingOutcome: the Lambda behind a
 * `.waitForTaskToken` task. It only parks the execution's task token on the request.
 * When the request was already decided (the person answered while the journey was
 * down, or before a restart), it completes the decision at once with the new token.
 * A grant approval level waits on its primary approver's request until that escalated,
 * then on its alternate's.
 */
import * as z from '#domain/zod';
import { taskHandler } from '#lib/handler';
import { completeDecision } from '#requests/decisions';
import { attachTaskToken, findRequest, RequestKind, requestIdFor } from '#requests/requests';

const Input = z.object({
  caseId: z.string().check(z.minLength(1)),
  kind: RequestKind,
  milestoneId: z.optional(z.string()),
  level: z.optional(z.string().check(z.minLength(1))),
  taskToken: z.string().check(z.minLength(1)),
});

async function waitingRequestId(caseId: string, kind: RequestKind, milestoneId?: string, level?: string): Promise<string> {
  if (kind !== 'grant-approval') return requestIdFor(caseId, kind, { milestoneId });
  if (!level) throw new Error('AwaitGrantApproval needs the approval level in its input');
  const primaryId = requestIdFor(caseId, kind, { level });
  // Only OpenGrantApproval escalates, and it runs before this state: the status read here stays.
  const primary = await findRequest(primaryId);
  return primary?.status === 'escalated' ? requestIdFor(caseId, kind, { level, alternate: true }) : primaryId;
}

export const handler = taskHandler('await-request', Input, async ({ caseId, kind, milestoneId, level, taskToken }) => {
  const request = await attachTaskToken(await waitingRequestId(caseId, kind, milestoneId, level), taskToken);
  if (request.status === 'decided') await completeDecision(request);
  return { requestId: request.requestId, status: request.status };
});
