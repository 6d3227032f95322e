/**
 * Requests: the things a journey waits for from a person — a grant approval, a
 * milestone report, a financing outcome. A request is sent as an email link; the link
 * is a capability (opaque id + signature, one recipient, expiring, single use). The
 * Step Functions task token stays here, in DynamoDB, never in the link.
 *
 * The request id is derived from (case, kind, milestone), so reopening a request after
 * a restart finds the same record and the link already emailed keeps working: the
 * restarted journey only swaps in its new task token.
 */
import { SendTaskFailureCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { FinancingOutcome, MilestoneReport } from '#domain/case';
import { LinkError } from '#domain/errors';
import { DecidedBy } from '#domain/person';
import * as z from '#domain/zod';
import { dynamo } from '#lib/clients/dynamodb';
import { sfn } from '#lib/clients/sfn';
import { requiredEnv } from '#lib/env';
import { logger } from '#lib/logger';
import { opaqueId, signLink, verifyLinkSignature } from '#lib/secrets';
import { isConditionFailed, tableName as table } from '#lib/table';

export const RequestKind = z.enum(['grant-approval', 'milestone-report', 'financing-outcome']);
export type RequestKind = z.infer<typeof RequestKind>;

export const GrantDecision = z.discriminatedUnion('decision', [
  z.object({ decision: z.literal('approved') }),
  z.object({
    decision: z.literal('rejected'),
    reasonCode: z.string().check(z.minLength(1)),
    reason: z.string().check(z.minLength(1), z.maxLength(1000)),
  }),
]);
export type GrantDecision = z.infer<typeof GrantDecision>;

export const LenderDecision = z.extend(z.pick(FinancingOutcome, { status: true, amountRupiah: true, reason: true }), {
  status: z.enum(['financed', 'declined']),
});
export type LenderDecision = z.infer<typeof LenderDecision>;

export const Decision = z.union([GrantDecision, MilestoneReport, LenderDecision]);
export type Decision = z.infer<typeof Decision>;

export const Request = z.object({
  requestId: z.string(),
  kind: RequestKind,
  caseId: z.string(),
  milestoneId: z.optional(z.string()),
  recipient: z.string(),
  status: z.enum(['open', 'decided', 'expired']),
  openedAt: z.string(),
  deadline: z.string(),
  /** When the first email with the link went out; absent until it has (a crash or a failed send in between). */
  mailedAt: z.optional(z.string()),
  remindedAt: z.optional(z.string()),
  reminders: z._default(z.int(), 0),
  taskToken: z.optional(z.string()),
  decision: z.optional(z.unknown()),
  decidedAt: z.optional(z.string()),
  /** The signed-in person who decided, from the verified token (domain/person.ts). */
  decidedBy: z.optional(DecidedBy),
});
export type Request = z.infer<typeof Request>;

const key = (requestId: string) => ({ pk: `REQUEST#${requestId}`, sk: 'REQUEST' });
export function requestIdFor(caseId: string, kind: RequestKind, milestoneId?: string): string {
  return opaqueId('request', caseId, kind, milestoneId ?? '');
}

/** The link a person receives: `<pages>/r/<requestId>.<signature>`. */
export function linkFor(requestId: string): string {
  return `${requiredEnv('PAGES_URL').replace(/\/$/, '')}/r/${requestId}.${signLink(requestId)}`;
}

/** Checks a link's signature; refuses forged or damaged ids before touching the table. */
export function requestIdFromLink(token: string): string {
  const [requestId, signature, ...rest] = token.split('.');
  if (!requestId || !signature || rest.length > 0 || !verifyLinkSignature(requestId, signature)) {
    throw new LinkError('LINK_INVALID');
  }
  return requestId;
}

export async function findRequest(requestId: string): Promise<Request | undefined> {
  const out = await dynamo.send(new GetCommand({ TableName: table(), Key: key(requestId), ConsistentRead: true }));
  return out.Item ? z.parse(Request, out.Item) : undefined;
}

/** Creates the request unless it exists; returns the stored one either way. */
export async function openRequest(r: Omit<Request, 'status' | 'reminders'>): Promise<{ request: Request; created: boolean }> {
  const fresh: Request = { ...r, status: 'open', reminders: 0 };
  try {
    await dynamo.send(
      new PutCommand({
        TableName: table(),
        Item: { ...key(r.requestId), ...fresh },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return { request: fresh, created: true };
  } catch (e) {
    if (!isConditionFailed(e)) throw e;
    const existing = await findRequest(r.requestId);
    if (!existing) throw e;
    return { request: existing, created: false };
  }
}

/**
 * Records that the request's first email went out. Conditional on it not being recorded
 * yet, so the first time stays the first; a run that lost that race sent a second copy,
 * which is the price of never sending none.
 */
export async function markMailed(requestId: string, at: string): Promise<void> {
  try {
    await dynamo.send(
      new UpdateCommand({
        TableName: table(),
        Key: key(requestId),
        UpdateExpression: 'SET mailedAt = :at',
        ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(mailedAt)',
        ExpressionAttributeValues: { ':at': at },
      }),
    );
  } catch (e) {
    if (!isConditionFailed(e)) throw e;
  }
}

export async function markReminded(requestId: string, at: string): Promise<void> {
  await dynamo.send(
    new UpdateCommand({
      TableName: table(),
      Key: key(requestId),
      UpdateExpression: 'SET remindedAt = :at ADD reminders :one',
      ExpressionAttributeValues: { ':at': at, ':one': 1 },
    }),
  );
}

export async function markExpired(requestId: string): Promise<void> {
  try {
    await dynamo.send(
      new UpdateCommand({
        TableName: table(),
        Key: key(requestId),
        UpdateExpression: 'SET #status = :expired',
        ConditionExpression: '#status = :open',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':expired': 'expired', ':open': 'open' },
      }),
    );
  } catch (e) {
    if (!isConditionFailed(e)) throw e;
  }
}

/** Stores the current execution's task token and returns the request as it now stands. */
export async function attachTaskToken(requestId: string, taskToken: string): Promise<Request> {
  const out = await dynamo.send(
    new UpdateCommand({
      TableName: table(),
      Key: key(requestId),
      UpdateExpression: 'SET taskToken = :t',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeValues: { ':t': taskToken },
      ReturnValues: 'ALL_NEW',
    }),
  );
  return z.parse(Request, out.Attributes);
}

/**
 * Records a decision once. Returns false when the request was already decided (a double
 * click, a second tab): the first decision stands.
 */
export async function recordDecision(
  requestId: string,
  decision: Decision,
  at: string,
  by: DecidedBy,
): Promise<Request | undefined> {
  try {
    const out = await dynamo.send(
      new UpdateCommand({
        TableName: table(),
        Key: key(requestId),
        UpdateExpression: 'SET #status = :decided, decision = :d, decidedAt = :at, decidedBy = :by',
        ConditionExpression: '#status = :open',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':decided': 'decided', ':open': 'open', ':d': decision, ':at': at, ':by': by },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return z.parse(Request, out.Attributes);
  } catch (e) {
    if (isConditionFailed(e)) return undefined;
    throw e;
  }
}

/** How a decided request ends the journey's wait: success, or a named error the journey catches. */
export type Settlement = { ok: true } | { error: string; cause: string };

/**
 * Tells the waiting execution how a decided request ended (decisions.ts works out the
 * settlement from what applying the decision did). A token that is no longer valid
 * (the execution was restarted or stopped) is not an error: the decision is on the
 * case and request, and the next run's AwaitRequest replays it.
 */
export async function settleTask(request: Request, settlement: Settlement): Promise<void> {
  if (request.status !== 'decided' || !request.taskToken) return;
  const output = JSON.stringify({ kind: request.kind, requestId: request.requestId });
  try {
    if ('error' in settlement) {
      await sfn.send(
        new SendTaskFailureCommand({ taskToken: request.taskToken, error: settlement.error, cause: settlement.cause }),
      );
    } else {
      await sfn.send(new SendTaskSuccessCommand({ taskToken: request.taskToken, output }));
    }
  } catch (e) {
    const name = (e as { name?: string }).name ?? '';
    if (['TaskDoesNotExist', 'TaskTimedOut', 'InvalidToken'].includes(name)) {
      logger.warn('task token no longer valid; the next run replays the decision', { requestId: request.requestId, error: name });
      return;
    }
    throw e;
  }
}
