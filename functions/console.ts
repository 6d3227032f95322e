/**
 * Console: the operators' console behind the same HTTP API as the pages (its own Lambda:
 * it reads executions and starts journeys, which the pages may not). Funnel, cases,
 * timelines, executions, what needs attention, intakes, CSV exports; one action, resuming
 * a failed journey. Every route needs a signed-in operator (console/routes.ts).
 */
import { randomUUID } from 'node:crypto';
import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import httpRouterHandler from '@middy/http-router';
import httpUrlencodeBodyParser from '@middy/http-urlencode-body-parser';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import * as routes from '#console/routes';
import { observed } from '#lib/handler';
import { logger } from '#lib/logger';
import { loadKeys } from '#lib/secrets';
import { failurePage, httpErrorPage, type PageResponse } from '#requests/pages/flow';
import { SECURITY_HEADERS } from '#web/layout';

type Event = APIGatewayProxyEventV2;
type Result = APIGatewayProxyStructuredResultV2;

const toResult = (page: PageResponse): Result => ({
  statusCode: page.status,
  headers: { 'content-type': 'text/html; charset=utf-8', ...SECURITY_HEADERS },
  body: page.html,
});

// The NIK search hashes with the program key.
const programKeys = (): middy.MiddlewareObj<Event, Result> => ({
  before: async () => {
    await loadKeys();
  },
});

// As in functions/pages.ts: the package types v1 events; v2 has the fields it reads.
const formBody = httpUrlencodeBodyParser() as unknown as middy.MiddlewareObj<Event, Result>;

const route = (fn: (event: Event) => Promise<Result>, form = false) => {
  const chain = middy<Event, Result>().use(programKeys());
  return (form ? chain.use(formBody) : chain).handler((event) => fn(event));
};

export const handler = middy<Event, Result>()
  .use(observed<Event, Result>())
  .use(httpHeaderNormalizer())
  .onError(async (request) => {
    const error = request.error;
    const status = (error as { statusCode?: unknown } | null)?.statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      request.response = toResult(httpErrorPage(status));
      return;
    }
    const reference = randomUUID();
    logger.error('console page failed', { reference, error: error?.name, errorMessage: error?.message, stack: error?.stack });
    request.response = toResult(failurePage(reference));
  })
  .handler(
    httpRouterHandler<Event, Result>([
      { method: 'GET', path: '/console', handler: route(routes.showDashboard) },
      { method: 'GET', path: '/console/funnel.csv', handler: route(routes.downloadFunnel) },
      { method: 'GET', path: '/console/cases', handler: route(routes.showCases) },
      { method: 'GET', path: '/console/cases.csv', handler: route(routes.downloadCases) },
      { method: 'POST', path: '/console/search', handler: route(routes.search, true) },
      { method: 'GET', path: '/console/cases/{caseId}', handler: route(routes.showCase) },
      { method: 'POST', path: '/console/cases/{caseId}/resume', handler: route(routes.resume, true) },
      { method: 'GET', path: '/console/executions/{machine}/{name}', handler: route(routes.showExecution) },
      { method: 'GET', path: '/console/attention', handler: route(routes.showAttention) },
      { method: 'GET', path: '/console/intakes', handler: route(routes.showIntakes) },
      { method: 'GET', path: '/console/intakes/{name}/report', handler: route(routes.downloadIntakeReport) },
    ]),
  );
