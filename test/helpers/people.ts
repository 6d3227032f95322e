/** People as the pages know them after a verified sign-in, for tests that call the page flow directly. */
import { randomBytes } from 'node:crypto';
import type { DecidedBy, Person, Role } from '#domain/person';
import type { Session } from '#store/sessions';
import type { Page } from '../../cli/browser.ts';
import type { Browsers } from '../../cli/people.ts';

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

/**
 * Opens a request link as its recipient (signing in with a one-time code from the outbox
 * on first use) and sends the form `body`, as the person would from the page.
 */
export async function decideAs(
  browsers: Browsers,
  recipient: string,
  link: string,
  body: string,
): Promise<{ shown: Page; posted: Page }> {
  const shown = await browsers.open(recipient, link);
  const posted = await browsers.post(recipient, shown, new URLSearchParams(body));
  return { shown, posted };
}
