/**
 * The session authorizer (functions/authorize.ts) on real dynalite: in while the cookie's
 * session lasts, out once it is ended or over; on a route that names a role (the console's
 * POSTs), only a person with that role; and the same through the embedded API stand-in,
 * which runs this handler by default in front of every person route.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '#domain/person';
import { ensureTable, startDynamo } from '../../embedded/local/dynamodb.ts';
import type { Keyring } from '../../embedded/local/local-auth.ts';
import type { PagesServer } from '../../embedded/local/pages-server.ts';
import type { LocalService } from '../../embedded/local/ports.ts';
import { lambdaContext, setTestEnv } from '../helpers/lambda.ts';
import { personOf } from '../helpers/people.ts';

const keyring: Keyring = {
  operator: { accessKeyId: 'LOCALOPERATORKEY0002', secretAccessKey: 'operator-secret-for-the-authorizer-test' },
  runtime: { accessKeyId: 'LOCALRUNTIMEKEY00002', secretAccessKey: 'runtime-secret-for-the-authorizer-test' },
};
let dir: string;
let dynamo: LocalService;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prokus-authorize-'));
  dynamo = await startDynamo({ dir: join(dir, 'dynamodb'), keyring });
  setTestEnv();
  await ensureTable(dynamo.endpoint, 'prokus-test', keyring.runtime);
  process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamo.endpoint;
  process.env.AWS_ACCESS_KEY_ID = keyring.runtime.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = keyring.runtime.secretAccessKey;
});

afterAll(async () => {
  await dynamo?.close();
  await rm(dir, { recursive: true, force: true });
});

/** Modules that create the DynamoDB client, imported once the endpoint is set. */
async function system() {
  const { handler } = await import('../../functions/authorize.ts');
  const { createSession, endSession } = await import('#store/sessions');
  const { sessionCookieName } = await import('#access/session');
  return { handler, createSession, endSession, cookieName: sessionCookieName() };
}

interface Route {
  routeKey: `POST /${string}`;
  rawPath: string;
  pathParameters?: Record<string, string>;
}
const LINK: Route = { routeKey: 'POST /r/{token}', rawPath: '/r/abc.def', pathParameters: { token: 'abc.def' } };
const SEARCH: Route = { routeKey: 'POST /console/search', rawPath: '/console/search' };
const RESUME: Route = {
  routeKey: 'POST /console/cases/{caseId}/resume',
  rawPath: '/console/cases/2026-3204-000001/resume',
  pathParameters: { caseId: '2026-3204-000001' },
};
const UPLOAD: Route = { routeKey: 'POST /uploads', rawPath: '/uploads' };

/** What API Gateway passes the authorizer for a route (payload 2.0), with these cookies. */
function authorizerEvent(cookies: string[], route: Route = LINK): APIGatewayRequestAuthorizerEventV2 {
  const path = route.routeKey.slice('POST '.length);
  return {
    version: '2.0',
    type: 'REQUEST',
    routeArn: `arn:aws:execute-api:ap-southeast-3:000000000000:api/$default/POST${path}`,
    identitySource: [cookies.join('; ')],
    routeKey: route.routeKey,
    rawPath: route.rawPath,
    rawQueryString: '',
    cookies,
    headers: { cookie: cookies.join('; ') },
    requestContext: {
      accountId: '000000000000',
      apiId: 'api',
      domainName: 'pages.example',
      domainPrefix: 'pages',
      http: { method: 'POST', path: route.rawPath, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: 'r-1',
      routeKey: route.routeKey,
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
    },
    ...(route.pathParameters ? { pathParameters: route.pathParameters } : {}),
  };
}

describe('Authorize', () => {
  it('lets in a live session, and refuses it once signed out', async () => {
    const { handler, createSession, endSession, cookieName } = await system();
    const { cookieValue } = await createSession(personOf('approver@dinsos.example'));
    const event = authorizerEvent(['theme=dark', `${cookieName}=${cookieValue}`]);
    await expect(handler(event, lambdaContext('authorize'))).resolves.toEqual({ isAuthorized: true });
    await endSession(cookieValue);
    await expect(handler(event, lambdaContext('authorize'))).resolves.toEqual({ isAuthorized: false });
  });

  it('refuses a session that is over, an unknown cookie, a malformed one, and cookies of other names', async () => {
    const { handler, createSession, cookieName } = await system();
    const { cookieValue: over } = await createSession(
      personOf('mentor@dinsos.example', ['mentor']),
      new Date(Date.now() - 9 * 3600_000),
    );
    const { cookieValue: live } = await createSession(personOf('officer@dinsos.example', ['officer'], ['3210']));
    for (const cookies of [
      [`${cookieName}=${over}`],
      [`${cookieName}=${'A'.repeat(43)}`],
      [`${cookieName}=not a cookie value`],
      [`other-${cookieName}=${live}`],
      [],
    ]) {
      await expect(handler(authorizerEvent(cookies), lambdaContext('authorize')), cookies.join()).resolves.toEqual({
        isAuthorized: false,
      });
    }
  });

  it("lets only an operator's session through to the console's POSTs (the search, the resume)", async () => {
    const { handler, createSession, endSession, cookieName } = await system();
    const session = async (roles: Role[]) =>
      `${cookieName}=${(await createSession(personOf(`${roles.join('-')}@dinsos.example`, roles, ['3204']))).cookieValue}`;
    const officer = await session(['officer']);
    const approver = await session(['approver']);
    const admin = await session(['admin']);
    const { cookieValue: operatorValue } = await createSession(personOf('operator@dinsos.example', ['operator']));
    const operator = `${cookieName}=${operatorValue}`;
    const officerAndOperator = await session(['officer', 'operator']);
    for (const route of [SEARCH, RESUME]) {
      const answer = (cookie: string) => handler(authorizerEvent([cookie], route), lambdaContext('authorize'));
      for (const [who, cookie] of [
        ['officer', officer],
        ['approver', approver],
        ['admin', admin],
      ] as const) {
        await expect(answer(cookie), `${who} on ${route.routeKey}`).resolves.toEqual({ isAuthorized: false });
      }
      await expect(answer(operator), route.routeKey).resolves.toEqual({ isAuthorized: true });
      await expect(answer(officerAndOperator), route.routeKey).resolves.toEqual({ isAuthorized: true });
    }
    // The role does not outlive the session.
    await endSession(operatorValue);
    await expect(handler(authorizerEvent([operator], SEARCH), lambdaContext('authorize'))).resolves.toEqual({
      isAuthorized: false,
    });
  });

  it('lets any live session through to a route that names no role, whatever the roles', async () => {
    const { handler, createSession, cookieName } = await system();
    for (const roles of [['approver'], ['officer'], ['mentor'], ['lender'], ['operator'], []] as Role[][]) {
      const { cookieValue } = await createSession(personOf(`p-${roles.join('-') || 'none'}@dinsos.example`, roles, ['3204']));
      for (const route of [LINK, UPLOAD]) {
        await expect(
          handler(authorizerEvent([`${cookieName}=${cookieValue}`], route), lambdaContext('authorize')),
          `${roles.join() || 'no role'} on ${route.routeKey}`,
        ).resolves.toEqual({ isAuthorized: true });
      }
    }
  });

  it('is what the embedded API stand-in runs in front of person routes by default', async () => {
    const { createSession, endSession, cookieName } = await system();
    const { startPagesServer } = await import('../../embedded/local/pages-server.ts');
    const seen: string[] = [];
    let server: PagesServer | undefined;
    try {
      server = await startPagesServer({
        handler: async (event) => {
          seen.push(event.routeKey);
          return { statusCode: 200, body: 'page' };
        },
        console: async (event) => {
          seen.push(`console: ${event.routeKey}`);
          return { statusCode: 200, body: 'console' };
        },
        port: 0,
      });
      const { cookieValue } = await createSession(personOf('approver@dinsos.example'));
      const post = (cookie: string, path = '/r/abc.def') =>
        fetch(`${server?.url}${path}`, { method: 'POST', headers: { cookie } });

      expect((await post(`${cookieName}=${cookieValue}`)).status).toBe(200);
      const stranger = await post(`${cookieName}=${'B'.repeat(43)}`);
      expect(stranger.status).toBe(403);
      expect(await stranger.json()).toEqual({ message: 'Forbidden' });
      // The approver's live session does not open the console's search; an operator's does.
      expect((await post(`${cookieName}=${cookieValue}`, '/console/search')).status).toBe(403);
      const { cookieValue: operator } = await createSession(personOf('operator@dinsos.example', ['operator']));
      const search = await post(`${cookieName}=${operator}`, '/console/search');
      expect(search.status).toBe(200);
      expect(await search.text()).toBe('console');
      await endSession(cookieValue);
      expect((await post(`${cookieName}=${cookieValue}`)).status).toBe(403);
      expect(seen).toEqual(['POST /r/{token}', 'console: POST /console/search']);
    } finally {
      await server?.close();
    }
  });
});
