/**
 * Every route of the pages' HTTP API, named once: the router in functions/pages.ts, the
 * CDK app's HTTP API routes and their authorizer (infra), and the embedded runtime's
 * stand-in for API Gateway (embedded/local/pages-server.ts) all read this table, so a
 * route cannot exist in one and be missing, or unguarded, in another. Plain data.
 *
 * `person`: the route acts for a signed-in person; on AWS the HTTP API's authorizer
 * refuses it without a session before the Lambda runs, and the handler checks the
 * session and the person's role again (the authorizer is a gate, not the rule).
 * Routes without it still check a session where they use one (GET /r/{token} shows
 * whom a request is for to anyone holding the link, and the case only to its recipient).
 */

export interface PageRoute {
  method: 'GET' | 'POST';
  path: string;
  person: boolean;
}

export const PAGE_ROUTES = [
  { method: 'GET', path: '/health', person: false },
  // Sign-in (access/signin.ts)
  { method: 'GET', path: '/', person: false },
  { method: 'GET', path: '/signin', person: false },
  { method: 'GET', path: '/auth/callback', person: false },
  { method: 'GET', path: '/signed-out', person: false },
  { method: 'POST', path: '/signout', person: true },
  // Requests behind emailed links (requests/pages)
  { method: 'GET', path: '/r/{token}', person: false },
  { method: 'POST', path: '/r/{token}', person: true },
  // Officers' uploads (officers/). The GETs are pages an officer opens from a bookmark or an
  // email: without a session they answer a page with the way to sign in and back (the
  // authorizer would answer a bare 401); each checks the session, the officer role and the
  // district of what its id names. Every POST passes the authorizer.
  { method: 'GET', path: '/upload', person: false },
  { method: 'GET', path: '/upload/template', person: false },
  { method: 'POST', path: '/uploads', person: true },
  { method: 'GET', path: '/uploads/{checkId}/check', person: false },
  { method: 'POST', path: '/uploads/{checkId}/submit', person: true },
  { method: 'GET', path: '/uploads/{uploadId}', person: false },
  { method: 'GET', path: '/uploads/{uploadId}/report', person: false },
  // Self-hosted scripts and styles of the pages that need them (the upload's progress bar)
  { method: 'GET', path: '/assets/{file}', person: false },
] as const satisfies readonly PageRoute[];
