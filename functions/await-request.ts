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
import { attachTaskToken, RequestKind, requestIdFor } from '#requests/requests';

const Input = z.object({
  caseId: z.string().check(z.minLength(1)),
  kind: RequestKind,
  milestoneId: z.optional(z.string()),
  level: z.optional(z.string().check(z.minLength(1))),
  taskToken: z.string().check(z.minLength(1)),
});

export const handler = taskHandler('await-request', Input, async ({ caseId, kind, milestoneId, level, taskToken }) => {
  if (kind === 'grant-approval' && !level) throw new Error('AwaitGrantApproval needs the approval level in its input');
  // Only OpenGrantApproval escalates, and it opens the alternate's request before this state
  // runs: a primary's request that takes no token has moved to the alternate's.
  const request =
    (await attachTaskToken(requestIdFor(caseId, kind, { milestoneId, level }), taskToken)) ??
    (kind === 'grant-approval'
      ? await attachTaskToken(requestIdFor(caseId, kind, { level, alternate: true }), taskToken)
      : undefined);
  if (!request) throw new Error(`no request of ${caseId} (${kind} ${milestoneId ?? level ?? ''}) to wait on`);
  if (request.status === 'decided') await completeDecision(request);
  return { requestId: request.requestId, status: request.status };
});
