/**
 * Authorize: the HTTP API's gate in front of every route that acts for a signed-in person
 * (functions/web/routes.ts, `person: true`). A Lambda REQUEST authorizer with simple
 * responses: the sign-in lives in the HttpOnly session cookie (access/session.ts), an
 * opaque value whose session is an item in the table, so no JWT authorizer could check
 * it (README, Sign-in on AWS). Results are not cached: a session ended by sign-out must
 * stop working at once. The embedded API stand-in runs this same handler
 * (embedded/local/pages-server.ts).
 *
 * A gate, not the rule: the pages check the session again, and the person's role.
 */
import middy from '@middy/core';
import type { APIGatewayRequestAuthorizerEventV2, APIGatewaySimpleAuthorizerResult, Context } from 'aws-lambda';
import { signedIn } from '#access/session';
import { hasRole, type Role } from '#domain/person';
import { observed } from '#lib/handler';
import { PAGE_ROUTES } from '#web/routes';

type Event = APIGatewayRequestAuthorizerEventV2;
type Result = APIGatewaySimpleAuthorizerResult;

const ROLE_OF_ROUTE = new Map<string, Role>(
  PAGE_ROUTES.flatMap((r): [string, Role][] => ('role' in r ? [[`${r.method} ${r.path}`, r.role]] : [])),
);

/**
 * Let the request through while its cookie names a live session, of a person with the
 * route's role where it names one (the console's POSTs: operators only); a table error
 * fails it (API Gateway answers 500).
 */
export async function authorize(event: Pick<Event, 'cookies' | 'routeKey'>): Promise<Result> {
  const visitor = await signedIn(event);
  if (!visitor) return { isAuthorized: false };
  const role = ROLE_OF_ROUTE.get(event.routeKey);
  return { isAuthorized: role === undefined || hasRole(visitor.session.person, role) };
}

export const handler: (event: Event, context: Context) => Promise<Result> = middy<Event, Result>()
  .use(observed<Event, Result>())
  .handler((event) => authorize(event));
