/** People as the pages know them after a verified sign-in, for tests that call the page flow directly. */
import { randomBytes } from 'node:crypto';
import type { DecidedBy, Person, Role } from '#domain/person';
import type { Session } from '#store/sessions';

export function personOf(email: string, roles: Role[] = ['approver'], districts: string[] = []): Person {
  return { sub: `sub-${email}`, email: email.toLowerCase(), roles, districts };
}

/** A session as findSession returns it (not stored: the flow functions take it as given). */
export function sessionOf(email: string, roles?: Role[], districts?: string[]): Session {
  const now = Date.now();
  return {
    person: personOf(email, roles, districts),
    csrf: randomBytes(32).toString('base64url'),
    createdAt: new Date(now).toISOString(),
    expiresAt: new Date(now + 3600_000).toISOString(),
  };
}

export function decidedByOf(email: string, pageRequestId = 'test-page-request'): DecidedBy {
  return { sub: `sub-${email}`, email, pageRequestId };
}
