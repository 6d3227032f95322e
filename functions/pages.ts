/**
 * Pages: the HTTP API behind the links in approval, milestone-report and
 * financing-outcome emails, the sign-in (OpenID Connect: Cognito on AWS, the embedded
 * provider on one machine) and the officers' upload pages (API Gateway HTTP API,
 * payload v2.0; the embedded runtime serves the same handler). A link names a request;
 * only the signed-in person it is for may decide it. Responses carry headers that keep
 * links from leaking and every failure is a page, never a stack trace.
 * Traces, log context and metrics as for the tasks (lib/handler.ts `observed`).
 */
import { randomUUID } from 'node:crypto';
import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import httpRouterHandler from '@middy/http-router';
import httpUrlencodeBodyParser from '@middy/http-urlencode-body-parser';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { SIGNED_OUT_PATH } from '#access/pages';
import { checkForgery, FORM_TOKEN_FIELD, signedIn } from '#access/session';
import { finishSignIn, home, signedOut, signOut, startSignIn } from '#access/signin';
import { LinkError } from '#domain/errors';
import * as z from '#domain/zod';
import { observed } from '#lib/handler';
import { logger } from '#lib/logger';
import { loadKeys } from '#lib/secrets';
import * as officers from '#officers/routes';
import {
  failurePage,
  forgedPostPage,
  httpErrorPage,
  linkErrorPage,
  type PageResponse,
  showRequest,
  signInNeededPage,
  submitDecision,
} from '#requests/pages/flow';
import { findRequest, requestIdFromLink } from '#requests/requests';
import { SECURITY_HEADERS } from '#web/layout';

type Event = APIGatewayProxyEventV2;
type Result = APIGatewayProxyStructuredResultV2;

/** `<requestId>.<signature>`, both base64url; anything else is refused before any lookup. */
const PathParameters = z.object({ token: z.string().check(z.regex(/^[A-Za-z0-9_-]{1,64}\.[A-Za-z0-9_-]{1,64}$/)) });

/** What the urlencoded parser produces: repeated fields (checkboxes) arrive as lists. */
const FormBody = z.record(z.string(), z.union([z.string(), z.array(z.string())]));

function toResult(page: PageResponse): Result {
  return {
    statusCode: page.status,
    headers: { 'content-type': 'text/html; charset=utf-8', ...SECURITY_HEADERS },
    body: page.html,
  };
}

// Pages are not tasks, but they need the same keys: link signatures and the sealed name.
const programKeys = (): middy.MiddlewareObj<Event, Result> => ({
  before: async () => {
    await loadKeys();
  },
});

function tokenOf(event: Event): string | undefined {
  const parsed = PathParameters.safeParse(event.pathParameters);
  return parsed.success ? parsed.data.token : undefined;
}

const show = middy<Event, Result>()
  .use(programKeys())
  .handler(async (event) => {
    const token = tokenOf(event);
    if (!token) return toResult(linkErrorPage(new LinkError('LINK_INVALID')));
    return toResult(await showRequest(token, (await signedIn(event))?.session));
  });

// The package's types describe REST API (v1) events only; it reads `headers`, `body` and
// `isBase64Encoded`, which v2 events have too. The body it produces is parsed with zod below.
const formBody = httpUrlencodeBodyParser() as unknown as middy.MiddlewareObj<Event, Result>;

const submit = middy<Event, Result>()
  .use(programKeys())
  .use(formBody)
  .handler(async (event) => {
    const token = tokenOf(event);
    if (!token) return toResult(linkErrorPage(new LinkError('LINK_INVALID')));
    const form = FormBody.safeParse(event.body as unknown);
    if (!form.success) return toResult(httpErrorPage(400));
    const visitor = await signedIn(event);
    if (!visitor) return toResult(await signInNeeded(token));
    const sent = form.data[FORM_TOKEN_FIELD];
    if (checkForgery(event, visitor.session, typeof sent === 'string' ? sent : undefined) !== 'ok') {
      return toResult(forgedPostPage());
    }
    return toResult(
      await submitDecision(token, form.data, { session: visitor.session, pageRequestId: event.requestContext.requestId }),
    );
  });

const signOutRoute = middy<Event, Result>()
  .use(programKeys())
  .use(formBody)
  .handler((event) => signOut(event));

/** A POST from nobody signed in decides nothing; the page says whom the request is for and how to sign in. */
async function signInNeeded(token: string): Promise<PageResponse> {
  let request: Awaited<ReturnType<typeof findRequest>>;
  try {
    request = await findRequest(requestIdFromLink(token));
  } catch (e) {
    if (e instanceof LinkError) return linkErrorPage(e);
    throw e;
  }
  return request ? signInNeededPage(token, request, 401) : linkErrorPage(new LinkError('LINK_INVALID'));
}

/** An officers' route: the keys (upload ids are keyed hashes), and for a POST the form body. */
const officerRoute = (route: (event: Event) => Promise<Result>, form = false) => {
  const chain = middy<Event, Result>().use(programKeys());
  return (form ? chain.use(formBody) : chain).handler((event) => route(event));
};

const health = async (): Promise<Result> => ({
  statusCode: 200,
  headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
  body: JSON.stringify({ ok: true }),
});

export const handler = middy<Event, Result>()
  .use(observed<Event, Result>())
  .use(httpHeaderNormalizer())
  .onError(async (request) => {
    const error = request.error;
    // middy's own refusals (no such route, a body that is not a form) carry a 4xx status.
    const status = (error as { statusCode?: unknown } | null)?.statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      request.response = toResult(httpErrorPage(status));
      return;
    }
    const reference = randomUUID();
    logger.error('page failed', { reference, error: error?.name, errorMessage: error?.message, stack: error?.stack });
    request.response = toResult(failurePage(reference));
  })
  .handler(
    httpRouterHandler<Event, Result>([
      { method: 'GET', path: '/r/{token}', handler: show },
      { method: 'POST', path: '/r/{token}', handler: submit },
      { method: 'GET', path: '/health', handler: health },
      { method: 'GET', path: '/', handler: home },
      { method: 'GET', path: '/signin', handler: startSignIn },
      { method: 'GET', path: '/auth/callback', handler: finishSignIn },
      { method: 'GET', path: SIGNED_OUT_PATH, handler: signedOut },
      { method: 'POST', path: '/signout', handler: signOutRoute },
      { method: 'GET', path: '/upload', handler: officerRoute(officers.showUploadPage) },
      { method: 'GET', path: '/upload/template', handler: officerRoute(officers.downloadTemplate) },
      { method: 'POST', path: '/uploads', handler: officerRoute(officers.requestUpload, true) },
      { method: 'GET', path: '/uploads/{checkId}/check', handler: officerRoute(officers.showCheck) },
      { method: 'POST', path: '/uploads/{checkId}/submit', handler: officerRoute(officers.submitCheck, true) },
      { method: 'GET', path: '/uploads/{uploadId}', handler: officerRoute(officers.showUpload) },
      { method: 'GET', path: '/uploads/{uploadId}/report', handler: officerRoute(officers.downloadReport) },
      { method: 'GET', path: '/assets/{file}', handler: officers.asset },
    ]),
  );
