/**
 * A page as the HTTP API answers it (payload 2.0), for the pages that build one view at a
 * time (the officers' pages, the console): its headers from the page's own policy, and the
 * redirect after a POST.
 */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { type PageExtras, securityHeaders } from './layout.ts';

export interface PageView {
  status: number;
  html: string;
  extras: PageExtras;
}

export function htmlResult(view: PageView, cookies: string[] = []): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: view.status,
    headers: { 'content-type': 'text/html; charset=utf-8', ...securityHeaders(view.extras) },
    body: view.html,
    ...(cookies.length > 0 ? { cookies } : {}),
  };
}

/** 303 See Other: after a POST the browser GETs the page it names. */
export const redirect = (location: string): APIGatewayProxyStructuredResultV2 => ({
  statusCode: 303,
  headers: { location, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' },
});
