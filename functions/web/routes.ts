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
 * `fn` names the function behind the route: the operators' console is its own Lambda
 * (its own permissions: it reads executions and starts journeys; the pages do neither).
 */

export interface PageRoute {
  method: 'GET' | 'POST';
  path: string;
  person: boolean;
  /** The Lambda function that answers it (infra/functions.ts): the pages, or the operators' console. */
  fn: 'Pages' | 'Console';
  /** Only a person with this role passes the authorizer (a person route); the handler checks again. */
  role?: 'operator';
}

export const PAGE_ROUTES = [
  { method: 'GET', path: '/health', person: false, fn: 'Pages' },
  // Sign-in (access/signin.ts)
  { method: 'GET', path: '/', person: false, fn: 'Pages' },
  { method: 'GET', path: '/signin', person: false, fn: 'Pages' },
  { method: 'GET', path: '/auth/callback', person: false, fn: 'Pages' },
  { method: 'GET', path: '/signed-out', person: false, fn: 'Pages' },
  { method: 'POST', path: '/signout', person: true, fn: 'Pages' },
  // Requests behind emailed links (requests/pages)
  { method: 'GET', path: '/r/{token}', person: false, fn: 'Pages' },
  { method: 'POST', path: '/r/{token}', person: true, fn: 'Pages' },
  // Officers' uploads (officers/). The GETs are pages an officer opens from a bookmark or an
  // email: without a session they answer a page with the way to sign in and back (the
  // authorizer would answer a bare 401); each checks the session, the officer role and the
  // district of what its id names. Every POST passes the authorizer.
  { method: 'GET', path: '/upload', person: false, fn: 'Pages' },
  { method: 'GET', path: '/upload/template', person: false, fn: 'Pages' },
  { method: 'POST', path: '/uploads', person: true, fn: 'Pages' },
  { method: 'GET', path: '/uploads/{checkId}/check', person: false, fn: 'Pages' },
  { method: 'POST', path: '/uploads/{checkId}/submit', person: true, fn: 'Pages' },
  { method: 'GET', path: '/uploads/{uploadId}', person: false, fn: 'Pages' },
  { method: 'GET', path: '/uploads/{uploadId}/report', person: false, fn: 'Pages' },
  // Self-hosted scripts and styles of the pages that need them (the upload's progress bar)
  { method: 'GET', path: '/assets/{file}', person: false, fn: 'Pages' },
  // The operators' console (console/). Its GETs answer the sign-in page without a session
  // and a refusal to anyone but an operator, like the officers' pages; its POSTs pass the
  // authorizer, which lets only operators through.
  { method: 'GET', path: '/console', person: false, fn: 'Console' },
  { method: 'GET', path: '/console/funnel.csv', person: false, fn: 'Console' },
  { method: 'GET', path: '/console/cases', person: false, fn: 'Console' },
  { method: 'GET', path: '/console/cases.csv', person: false, fn: 'Console' },
  { method: 'POST', path: '/console/search', person: true, fn: 'Console', role: 'operator' },
  { method: 'GET', path: '/console/cases/{caseId}', person: false, fn: 'Console' },
  { method: 'POST', path: '/console/cases/{caseId}/resume', person: true, fn: 'Console', role: 'operator' },
  { method: 'GET', path: '/console/executions/{machine}/{name}', person: false, fn: 'Console' },
  { method: 'GET', path: '/console/attention', person: false, fn: 'Console' },
  { method: 'GET', path: '/console/intakes', person: false, fn: 'Console' },
  { method: 'GET', path: '/console/intakes/{name}/report', person: false, fn: 'Console' },
] as const satisfies readonly PageRoute[];
