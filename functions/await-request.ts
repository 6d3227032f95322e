/**
 * AwaitGrantApproval / AwaitMilestoneReport / AwaitFinancingOutcome: the Lambda behind a
 * `.waitForTaskToken` task. It only parks the execution's task token on the request.
 * When the request was already decided (the person answered while the journey was
 * down, or before a restart), it completes the decision at once with the new token.
 */
import * as z from '#domain/zod';
import { taskHandler } from '#lib/handler';
import { completeDecision } from '#requests/decisions';
import { attachTaskToken, RequestKind, requestIdFor } from '#requests/requests';

const Input = z.object({
  caseId: z.string().check(z.minLength(1)),
  kind: RequestKind,
  milestoneId: z.optional(z.string()),
  taskToken: z.string().check(z.minLength(1)),
});

export const handler = taskHandler('await-request', Input, async ({ caseId, kind, milestoneId, taskToken }) => {
  const request = await attachTaskToken(requestIdFor(caseId, kind, milestoneId), taskToken);
  if (request.status === 'decided') await completeDecision(request);
  return { requestId: request.requestId, status: request.status };
});
