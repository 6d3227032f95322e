/**
 * The session of a page request, and the checks every deciding POST passes: a session
 * (signed in), the anti-forgery token bound to it, and an origin that is the pages' own.
 * Used by every page that needs a person (requests/pages, officers/); the identity it
 * yields comes from the session the sign-in callback created from a verified ID token.
 */
import { timingSafeEqual } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { requiredEnv } from '#lib/env';
import { findSession, SESSION_SECONDS, type Session } from '#store/sessions';

export const FORM_TOKEN_FIELD = 'csrf';

/**
 * `__Host-` makes the browser refuse the cookie unless it is Secure, host-only and for
 * path `/`, so no other subdomain can set or overwrite it. Plain HTTP (the embedded
 * runtime on 127.0.0.1) cannot use that prefix, nor Secure.
 */
export function isSecureSite(): boolean {
  return requiredEnv('PAGES_URL').startsWith('https://');
}
export const sessionCookieName = () => (isSecureSite() ? '__Host-prokus-session' : 'prokus-session');
export const signInCookieName = () => (isSecureSite() ? '__Host-prokus-signin' : 'prokus-signin');

/**
 * SameSite=Lax, not Strict: the person arrives from an email link and from the identity
 * provider's redirect, both cross-site top-level GETs that must carry the cookie. Lax
 * keeps it off cross-site POSTs; the anti-forgery token and the origin check close the rest.
 */
export function cookie(name: string, value: string, maxAgeSeconds: number): string {
  const secure = isSecureSite() ? '; Secure' : '';
  return `${name}=${value}; Path=/; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Lax${secure}`;
}
export const clearedCookie = (name: string) => cookie(name, '', 0);
export const sessionCookie = (value: string) => cookie(sessionCookieName(), value, SESSION_SECONDS);

/** A cookie's value from the event (payload 2.0 passes cookies as a list of `name=value`). */
export function cookieValue(event: Pick<APIGatewayProxyEventV2, 'cookies'>, name: string): string | undefined {
  for (const c of event.cookies ?? []) {
    const eq = c.indexOf('=');
    if (eq > 0 && c.slice(0, eq).trim() === name) return c.slice(eq + 1).trim();
  }
  return undefined;
}

export interface SignedIn {
  session: Session;
  /** The cookie value: sign-out needs it to end the session. */
  cookieValue: string;
}

/** Who is signed in on this request, if anyone. */
export async function signedIn(event: Pick<APIGatewayProxyEventV2, 'cookies'>, now = new Date()): Promise<SignedIn | undefined> {
  const value = cookieValue(event, sessionCookieName());
  if (!value) return undefined;
  const session = await findSession(value, now);
  return session ? { session, cookieValue: value } : undefined;
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export type ForgeryCheck = 'ok' | 'cross-origin' | 'bad-token';

/**
 * A POST that changes something must come from a page of this site and carry the
 * session's token. "From this site": the Origin header names this origin, or, where the
 * browser withholds the origin (it sends `Origin: null` for a form on a page whose
 * referrer policy is no-referrer, as all of these pages are), Sec-Fetch-Site says
 * same-origin (a header no page script can set). A request with neither is not from a
 * current browser and is refused too.
 */
export function checkForgery(
  event: Pick<APIGatewayProxyEventV2, 'headers'>,
  session: Session,
  formToken: string | undefined,
): ForgeryCheck {
  const origin = event.headers.origin;
  const fetchSite = event.headers['sec-fetch-site'];
  const ours = new URL(requiredEnv('PAGES_URL')).origin;
  const known = origin !== undefined && origin !== 'null';
  if (known ? origin !== ours : fetchSite !== 'same-origin') return 'cross-origin';
  if (!formToken || !same(formToken, session.csrf)) return 'bad-token';
  return 'ok';
}
