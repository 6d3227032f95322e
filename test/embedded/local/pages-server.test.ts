import type { APIGatewayProxyEventV2, APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { PAGE_ROUTES } from '#web/routes';
import {
  type PagesAuthorizer,
  type PagesHandler,
  type PagesServer,
  startPagesServer,
} from '../../../embedded/local/pages-server.ts';
import { rawRequest } from '../../helpers/sigv4.ts';

let server: PagesServer | undefined;
const events: APIGatewayProxyEventV2[] = [];

/** For the tests of the event mapping: every person route's gate opens (the gate has tests of its own below). */
const letIn: PagesAuthorizer = async () => ({ isAuthorized: true });
/** A POST to a person route carries a session cookie, or API Gateway answers 401 before anything runs. */
const SIGNED_IN = 'prokus-session=test';

async function start(
  handler: PagesHandler,
  onError?: (e: unknown) => void,
  authorizer: PagesAuthorizer = letIn,
): Promise<PagesServer> {
  server = await startPagesServer({ handler, console: handler, port: 0, onError, authorizer });
  return server;
}

const echo: PagesHandler = async (event) => {
  events.push(event);
  return {
    statusCode: 200,
    headers: { 'Content-Type': 'text/html; charset=utf-8', 'X-Route': event.routeKey },
    body: `<p>${event.pathParameters?.token ?? ''}</p>`,
  };
};

afterEach(async () => {
  await server?.close();
  server = undefined;
  events.length = 0;
});

describe('pages server', () => {
  it('turns a link visit into an HTTP API 2.0 event and returns the page', async () => {
    const { url } = await start(echo);
    const res = await fetch(`${url}/r/abc123.sig456?lang=id`, { headers: { 'X-Custom': 'Yes', Cookie: 'a=1; b=2' } });

    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('x-route')).toBe('GET /r/{token}');
    expect(await res.text()).toBe('<p>abc123.sig456</p>');

    const event = events[0]!;
    expect(event.version).toBe('2.0');
    expect(event.routeKey).toBe('GET /r/{token}');
    expect(event.rawPath).toBe('/r/abc123.sig456');
    expect(event.rawQueryString).toBe('lang=id');
    expect(event.queryStringParameters).toEqual({ lang: 'id' });
    expect(event.pathParameters).toEqual({ token: 'abc123.sig456' });
    expect(event.headers['x-custom']).toBe('Yes');
    expect(event.cookies).toEqual(['a=1', 'b=2']);
    expect(event.requestContext.http).toMatchObject({ method: 'GET', path: '/r/abc123.sig456', sourceIp: '127.0.0.1' });
    expect(event.requestContext.requestId).toMatch(/[0-9a-f-]{36}/);
    expect(event.isBase64Encoded).toBe(false);
    expect(event.body).toBeUndefined();
  });

  it('passes a submitted form as text and other bodies base64-encoded', async () => {
    const { url } = await start(echo);
    await fetch(`${url}/r/tok`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: SIGNED_IN },
      body: 'decision=rejected&reason=Data+tidak+lengkap',
    });
    await fetch(`${url}/r/tok`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', cookie: SIGNED_IN },
      body: new Uint8Array([0, 255, 1]),
    });

    expect(events[0]).toMatchObject({
      routeKey: 'POST /r/{token}',
      body: 'decision=rejected&reason=Data+tidak+lengkap',
      isBase64Encoded: false,
    });
    expect(events[1]).toMatchObject({ body: Buffer.from([0, 255, 1]).toString('base64'), isBase64Encoded: true });
  });

  it('answers the health route and maps base64 bodies and cookies back', async () => {
    const { url } = await start(async (event) => {
      events.push(event);
      return {
        statusCode: 201,
        cookies: ['seen=1; HttpOnly'],
        body: Buffer.from('ok-bytes').toString('base64'),
        isBase64Encoded: true,
      };
    });
    const res = await fetch(`${url}/health`);
    expect(res.status).toBe(201);
    expect(res.headers.get('set-cookie')).toBe('seen=1; HttpOnly');
    expect(await res.text()).toBe('ok-bytes');
    expect(events[0]?.routeKey).toBe('GET /health');
    expect(events[0]?.pathParameters).toBeUndefined();
  });

  it('treats a result without statusCode as a 200 JSON body, like HTTP API does', async () => {
    const { url } = await start(async () => ({ status: 'ok' }));
    const res = await fetch(`${url}/health`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('answers unknown paths and methods with a plain 404 without calling the handler', async () => {
    const { url } = await start(echo);
    const paths: [string, string][] = [
      ['GET', '/nowhere'],
      ['GET', '/r/'],
      ['GET', '/r/a/b'],
      ['DELETE', '/r/tok'],
      ['POST', '/health'],
    ];
    for (const [method, path] of paths) {
      const res = await fetch(`${url}${path}`, { method });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(await res.json()).toEqual({ message: 'Not Found' });
    }
    expect(events).toHaveLength(0);
  });

  it('answers 500 when the handler crashes and reports the error', async () => {
    const reported: unknown[] = [];
    const { url } = await start(
      async () => {
        throw new Error('boom');
      },
      (e) => reported.push(e),
    );
    const res = await fetch(`${url}/r/tok`);
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ message: 'Internal Server Error' });
    expect(reported).toHaveLength(1);
  });

  it('refuses bodies over 1 MiB with a 413 page in both languages, echoing nothing of the body', async () => {
    const { url } = await start(echo);
    const body = `secret=${'x'.repeat(1024 * 1024)}`;
    const res = await fetch(`${url}/r/tok`, { method: 'POST', body });
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const page = await res.text();
    expect(page).toContain('Isian yang dikirim terlalu besar.');
    expect(page).toContain('What was sent is too large.');
    expect(page).not.toContain('secret=');
    expect(page).not.toContain('xxxx');
    expect(events).toHaveLength(0);
  });

  it('still answers a body of exactly 1 MiB', async () => {
    const { url } = await start(echo);
    const res = await fetch(`${url}/r/tok`, { method: 'POST', headers: { cookie: SIGNED_IN }, body: 'x'.repeat(1024 * 1024) });
    expect(res.status).toBe(200);
    expect(events).toHaveLength(1);
  });

  it('refuses a request whose Host is not its loopback address (DNS rebinding) without calling the handler', async () => {
    const { url, port } = await start(echo);
    const rebound = await rawRequest(`${url}/r/abc123.sig456`, {
      method: 'POST',
      headers: { host: `evil.example:${port}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'decision=approved',
    });
    expect(rebound.status).toBe(403);
    expect(rebound.body).toContain('Permintaan tidak dapat diproses');
    expect(rebound.body).toContain('The request cannot be processed');
    expect(events).toEqual([]);
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`]) {
      const ok = await rawRequest(`${url}/r/abc123.sig456`, { headers: { host } });
      expect(ok.status).toBe(200);
    }
    expect(events).toHaveLength(2);
  });

  it('stops listening on close', async () => {
    const { url } = await start(echo);
    await fetch(`${url}/health`);
    await server?.close();
    server = undefined;
    await expect(fetch(`${url}/health`)).rejects.toThrow();
  });
});

/** A path that matches the route's template: each `{param}` filled in. */
const concrete = (path: string) => path.replace(/\{\w+\}/g, 'abc123.sig456');

describe('the session gate on person routes, as API Gateway runs the authorizer', () => {
  const calls: APIGatewayRequestAuthorizerEventV2[] = [];
  const answering =
    (answer: unknown): PagesAuthorizer =>
    async (event) => {
      calls.push(event);
      return answer;
    };
  afterEach(() => {
    calls.length = 0;
  });

  it('answers 401 Unauthorized without a Cookie header, calling neither the authorizer nor the page', async () => {
    const { url } = await start(echo, undefined, answering({ isAuthorized: true }));
    const res = await fetch(`${url}/r/abc123.sig456`, { method: 'POST', body: 'decision=approved' });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ message: 'Unauthorized' });
    expect(calls).toEqual([]);
    expect(events).toEqual([]);
  });

  it('answers 403 Forbidden when the authorizer says no, and the page never runs', async () => {
    const { url } = await start(echo, undefined, answering({ isAuthorized: false }));
    const res = await fetch(`${url}/r/abc123.sig456?x=1`, {
      method: 'POST',
      headers: { cookie: 'prokus-session=gone; other=1' },
      body: 'decision=approved',
    });
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ message: 'Forbidden' });
    expect(events).toEqual([]);
    // What the authorizer is given: payload 2.0, the route, the cookies and the identity source.
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      version: '2.0',
      type: 'REQUEST',
      routeKey: 'POST /r/{token}',
      rawPath: '/r/abc123.sig456',
      cookies: ['prokus-session=gone', 'other=1'],
      identitySource: ['prokus-session=gone; other=1'],
      pathParameters: { token: 'abc123.sig456' },
      queryStringParameters: { x: '1' },
    });
    expect(calls[0]?.routeArn).toMatch(/^arn:aws:execute-api:.*\/POST\/r\/\{token\}$/);
    expect(calls[0]).not.toHaveProperty('body');
  });

  it('lets the request through to the page when the authorizer says yes', async () => {
    const { url } = await start(echo, undefined, answering({ isAuthorized: true }));
    const res = await fetch(`${url}/r/abc123.sig456`, { method: 'POST', headers: { cookie: 'prokus-session=live' } });
    expect(res.status).toBe(200);
    expect(events.map((e) => e.routeKey)).toEqual(['POST /r/{token}']);
  });

  it('answers 500 when the authorizer fails or gives no simple response, and reports it', async () => {
    for (const authorizer of [
      async () => {
        throw new Error('table unreachable');
      },
      answering({ allow: true }),
    ] as PagesAuthorizer[]) {
      const reported: unknown[] = [];
      const { url } = await start(echo, (e) => reported.push(e), authorizer);
      const res = await fetch(`${url}/signout`, { method: 'POST', headers: { cookie: 'prokus-session=x' } });
      expect(res.status).toBe(500);
      expect(await res.json()).toEqual({ message: 'Internal Server Error' });
      expect(reported).toHaveLength(1);
      expect(events).toEqual([]);
      await server?.close();
    }
  });

  it("hands each route to the function the table names: the console's to the Console handler, the others to Pages", async () => {
    const seen: string[] = [];
    const tagged =
      (fn: string): PagesHandler =>
      async (event) => {
        seen.push(`${fn} ${event.routeKey}`);
        return { statusCode: 200, body: fn };
      };
    server = await startPagesServer({ handler: tagged('Pages'), console: tagged('Console'), port: 0, authorizer: letIn });
    await fetch(`${server.url}/console/cases`);
    await fetch(`${server.url}/upload`);
    expect(seen).toEqual(['Console GET /console/cases', 'Pages GET /upload']);
    await server.close();
    // Without a console handler its routes are not there.
    server = await startPagesServer({ handler: tagged('Pages'), port: 0, authorizer: letIn });
    expect((await fetch(`${server.url}/console`)).status).toBe(404);
  });

  // From the route table: the same routes the CDK stack guards (test/infra/sign-in.test.ts).
  for (const route of PAGE_ROUTES) {
    const key = `${route.method} ${route.path}`;
    it(`${key}: ${route.person ? 'gated' : 'open, without asking the authorizer'}`, async () => {
      const { url } = await start(echo, undefined, answering({ isAuthorized: false }));
      const res = await fetch(`${url}${concrete(route.path)}`, { method: route.method });
      if (route.person) {
        expect(res.status).toBe(401);
        expect(events).toEqual([]);
      } else {
        expect(res.status).toBe(200);
        expect(calls).toEqual([]);
        expect(events.map((e) => e.routeKey)).toEqual([key]);
      }
    });
  }
});
