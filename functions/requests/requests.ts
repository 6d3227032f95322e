/**
 * Requests: the things a journey waits for from a person — a grant approval, a
 * milestone report, a financing outcome. A request is sent as an email link; the link
 * is a capability (opaque id + signature, one recipient, expiring, single use). The
 * Step Functions task token stays here, in DynamoDB, never in the link.
 *
 * The request id is derived from (case, kind, milestone) and, for a grant approval, its
 * level and whether it is the level's alternate approver, so reopening a request after a
 * restart finds the same record and the link already emailed keeps working: the
 * restarted journey only swaps in its new task token. One request per (case, level,
 * assignee): an escalated request stays as it was (`escalated`, its link refused with
 * LINK_MOVED), and the alternate gets a request and a link of their own.
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
  /** A grant approval's level (program configuration `approvalLevels`). */
  level: z.optional(z.string()),
  /** A grant approval's assignee at its level: the primary approver first, the alternate after escalation. */
  assignee: z.optional(z.enum(['primary', 'alternate'])),
  recipient: z.string(),
  /** `escalated`: the primary approver did not decide in time and the level's alternate has the request now. */
  status: z.enum(['open', 'decided', 'expired', 'escalated']),
  openedAt: z.string(),
  deadline: z.string(),
  /** A primary approver's request: when it moves to the alternate if still undecided. */
  escalateAt: z.optional(z.string()),
  escalatedAt: z.optional(z.string()),
  /** Whom an escalated request moved to (the page shows it masked). */
  movedTo: z.optional(z.string()),
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

/** Which request of a case: the milestone of a report; the level and assignee of a grant approval. */
export interface RequestSlot {
  milestoneId?: string | undefined;
  level?: string | undefined;
  alternate?: boolean | undefined;
}

export function requestIdFor(caseId: string, kind: RequestKind, slot: RequestSlot = {}): string {
  const level = slot.level ? [slot.level, slot.alternate ? 'alternate' : 'primary'] : [];
  return opaqueId('request', caseId, kind, slot.milestoneId ?? '', ...level);
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

/** Open → expired; false when the request was decided first (that decision stands). Already expired is true. */
export async function markExpired(requestId: string): Promise<boolean> {
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
    return true;
  } catch (e) {
    if (!isConditionFailed(e)) throw e;
    return (await findRequest(requestId))?.status !== 'decided';
  }
}

/**
 * Moves an undecided request to the level's alternate approver: open → escalated, one
 * conditional write. False when it was no longer open: a decision that landed first
 * stands and nothing escalates (a request already escalated by an earlier pass is true).
 */
export async function markEscalated(requestId: string, movedTo: string, at: string): Promise<boolean> {
  try {
    await dynamo.send(
      new UpdateCommand({
        TableName: table(),
        Key: key(requestId),
        UpdateExpression: 'SET #status = :escalated, escalatedAt = :at, movedTo = :to',
        ConditionExpression: '#status = :open',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':escalated': 'escalated', ':open': 'open', ':at': at, ':to': movedTo },
      }),
    );
    return true;
  } catch (e) {
    if (!isConditionFailed(e)) throw e;
    return (await findRequest(requestId))?.status === 'escalated';
  }
}

/**
 * Stores the current execution's task token and returns the request as it now stands;
 * undefined when the request escalated or does not exist (an escalated level waits on
 * its alternate's request). One conditional UpdateItem: AwaitRequest reads no request.
 */
export async function attachTaskToken(requestId: string, taskToken: string): Promise<Request | undefined> {
  try {
    const out = await dynamo.send(
      new UpdateCommand({
        TableName: table(),
        Key: key(requestId),
        UpdateExpression: 'SET taskToken = :t',
        ConditionExpression: 'attribute_exists(pk) AND #status <> :escalated',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':t': taskToken, ':escalated': 'escalated' },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return z.parse(Request, out.Attributes);
  } catch (e) {
    if (isConditionFailed(e)) return undefined;
    throw e;
  }
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
export type Settlement = { ok: true; output?: Record<string, string | null> } | { error: string; cause: string };

/**
 * Tells the waiting execution how a decided request ended (decisions.ts works out the
 * settlement from what applying the decision did). A token that is no longer valid
 * (the execution was restarted or stopped) is not an error: the decision is on the
 * case and request, and the next run's AwaitRequest replays it.
 */
export async function settleTask(request: Request, settlement: Settlement): Promise<void> {
  if (request.status !== 'decided' || !request.taskToken) return;
  const output = JSON.stringify({
    kind: request.kind,
    requestId: request.requestId,
    ...('ok' in settlement && settlement.output),
  });
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
