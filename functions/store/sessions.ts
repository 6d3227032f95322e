/**
 * Signed-in sessions of the pages, and the short-lived state of a sign-in under way.
 *
 *   SESSION#<hash of the cookie value> / SESSION   who is signed in, the anti-forgery token, when it ends
 *   SIGNIN#<state>                     / SIGNIN    PKCE verifier, nonce and return path of one sign-in
 *
 * The table holds only a hash of the session cookie, so reading the table (a backup, an
 * operator's scan) gives nobody a cookie that signs them in. Both items carry `ttl`
 * (epoch seconds) for DynamoDB to delete them; until it does, the expiry is checked here.
 */
import { createHash, randomBytes } from 'node:crypto';
import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { Person } from '#domain/person';
import * as z from '#domain/zod';
import { dynamo } from '#lib/clients/dynamodb';
import { conditionally, tableName as table } from '#lib/table';

/** A working day: an officer signs in once in the morning; a stolen cookie is worth hours, not weeks. */
export const SESSION_SECONDS = 8 * 3600;
/** Long enough to type a password or fetch an emailed code; a sign-in left open longer starts again. */
export const SIGNIN_SECONDS = 15 * 60;

export const Session = z.object({
  person: Person,
  /** Bound to this session: every form posts it back, and a form from another session or site cannot know it. */
  csrf: z.string(),
  createdAt: z.string(),
  expiresAt: z.string(),
});
export type Session = z.infer<typeof Session>;

const hashOf = (cookieValue: string) => createHash('sha256').update(cookieValue).digest('base64url');
const sessionKey = (cookieValue: string) => ({ pk: `SESSION#${hashOf(cookieValue)}`, sk: 'SESSION' });
const ttlOf = (expiresAt: Date) => Math.ceil(expiresAt.getTime() / 1000);

const token = () => randomBytes(32).toString('base64url');

/** A cookie value in the form createSession gives: anything else is refused before a lookup. */
export const COOKIE_VALUE = /^[A-Za-z0-9_-]{43}$/;

export async function createSession(person: Person, now = new Date()): Promise<{ cookieValue: string; session: Session }> {
  const cookieValue = token();
  const expiresAt = new Date(now.getTime() + SESSION_SECONDS * 1000);
  const session: Session = { person, csrf: token(), createdAt: now.toISOString(), expiresAt: expiresAt.toISOString() };
  await dynamo.send(
    new PutCommand({
      TableName: table(),
      Item: { ...sessionKey(cookieValue), ...session, ttl: ttlOf(expiresAt) },
      ConditionExpression: 'attribute_not_exists(pk)',
    }),
  );
  return { cookieValue, session };
}

/** The session a cookie names, while it lasts; undefined for an unknown, ended or expired one. */
export async function findSession(cookieValue: string, now = new Date()): Promise<Session | undefined> {
  if (!COOKIE_VALUE.test(cookieValue)) return undefined;
  const out = await dynamo.send(new GetCommand({ TableName: table(), Key: sessionKey(cookieValue), ConsistentRead: true }));
  if (!out.Item) return undefined;
  const parsed = z.safeParse(Session, out.Item);
  if (!parsed.success || Date.parse(parsed.data.expiresAt) <= now.getTime()) return undefined;
  return parsed.data;
}

/** Sign-out: the cookie stops working at once, on every device that copied it. */
export async function endSession(cookieValue: string): Promise<void> {
  if (!COOKIE_VALUE.test(cookieValue)) return;
  await dynamo.send(new DeleteCommand({ TableName: table(), Key: sessionKey(cookieValue) }));
}

export const PendingSignIn = z.object({
  codeVerifier: z.string(),
  nonce: z.string(),
  /** Where the person goes after signing in: a path on the pages, never another site. */
  returnTo: z.string().check(z.regex(/^\/(?![/\\])/)),
  /** The address a request link is for, offered to the provider as the login hint. */
  loginHint: z.optional(z.string()),
  expiresAt: z.string(),
});
export type PendingSignIn = z.infer<typeof PendingSignIn>;

const signInKey = (state: string) => ({ pk: `SIGNIN#${state}`, sk: 'SIGNIN' });

export async function savePendingSignIn(state: string, pending: Omit<PendingSignIn, 'expiresAt'>, now = new Date()) {
  const expiresAt = new Date(now.getTime() + SIGNIN_SECONDS * 1000);
  await dynamo.send(
    new PutCommand({
      TableName: table(),
      Item: { ...signInKey(state), ...pending, expiresAt: expiresAt.toISOString(), ttl: ttlOf(expiresAt) },
      ConditionExpression: 'attribute_not_exists(pk)',
    }),
  );
}

/**
 * Takes a pending sign-in once: the delete is conditional on the item being there, so a
 * replayed callback (the same code and state twice) finds nothing the second time.
 */
export async function takePendingSignIn(state: string, now = new Date()): Promise<PendingSignIn | undefined> {
  if (!/^[A-Za-z0-9_-]{16,128}$/.test(state)) return undefined;
  let item: Record<string, unknown> | undefined;
  const taken = await conditionally(async () => {
    const out = await dynamo.send(
      new DeleteCommand({
        TableName: table(),
        Key: signInKey(state),
        ConditionExpression: 'attribute_exists(pk)',
        ReturnValues: 'ALL_OLD',
      }),
    );
    item = out.Attributes;
  });
  if (!taken || !item) return undefined;
  const parsed = z.safeParse(PendingSignIn, item);
  if (!parsed.success || Date.parse(parsed.data.expiresAt) <= now.getTime()) return undefined;
  return parsed.data;
}
