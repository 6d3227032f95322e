/**
 * Sign-in over OpenID Connect, authorization code with PKCE, as a public client: the
 * pages Lambda is the relying party of Cognito's managed login on AWS and of the
 * embedded provider on one machine (embedded/local/oidc.ts), with the same code.
 * `openid-client` does the protocol and checks the ID token (signature against the
 * provider's keys, issuer, audience, expiry, nonce); this module turns the verified
 * claims into a session and the session into a cookie.
 *
 *   GET  /signin?returnTo=/r/…   remember where to come back, go to the provider
 *   GET  /auth/callback          the provider's answer: verify, start the session, go back
 *   POST /signout                end the session (anti-forgery token required)
 *   GET  /  and /signed-out      where a person lands
 * pages.ts routes them.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import * as client from 'openid-client';
import type { Bilingual } from '#domain/errors';
import { personFromClaims, SignInClaimsError } from '#domain/person';
import * as z from '#domain/zod';
import { requiredEnv } from '#lib/env';
import { logger } from '#lib/logger';
import { createSession, endSession, PendingSignIn, SIGNIN_SECONDS, savePendingSignIn, takePendingSignIn } from '#store/sessions';
import { SECURITY_HEADERS } from '#web/layout';
import { homePage, SIGNED_OUT_PATH, signedOutPage, signInProblemPage } from './pages.ts';
import {
  checkForgery,
  clearedCookie,
  cookie,
  cookieValue,
  FORM_TOKEN_FIELD,
  sessionCookie,
  sessionCookieName,
  signedIn,
  signInCookieName,
} from './session.ts';

type Event = APIGatewayProxyEventV2;
type Result = APIGatewayProxyStructuredResultV2;

export const CALLBACK_PATH = '/auth/callback';

let configuration: Promise<client.Configuration> | undefined;

/**
 * The provider's metadata and keys, fetched once per process. Plain HTTP is allowed only
 * for a provider on this machine (the embedded one on 127.0.0.1).
 */
function provider(): Promise<client.Configuration> {
  configuration ??= (async () => {
    const issuer = new URL(requiredEnv('OIDC_ISSUER'));
    const local = issuer.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(issuer.hostname);
    return client.discovery(
      issuer,
      requiredEnv('OIDC_CLIENT_ID'),
      undefined,
      client.None(),
      local ? { execute: [client.allowInsecureRequests] } : undefined,
    );
  })().catch((e) => {
    configuration = undefined;
    throw e;
  });
  return configuration;
}

const pagesUrl = () => requiredEnv('PAGES_URL').replace(/\/$/, '');
const redirectUri = () => `${pagesUrl()}${CALLBACK_PATH}`;

function page(status: number, body: string, cookies: string[] = []): Result {
  return { statusCode: status, headers: { 'content-type': 'text/html; charset=utf-8', ...SECURITY_HEADERS }, cookies, body };
}

function redirect(location: string, cookies: string[] = []): Result {
  return { statusCode: 303, headers: { location, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' }, cookies };
}

/** Only a path on these pages; anything else (another site, `//evil`, `/\\evil`) becomes the home page. */
export function safeReturnTo(value: string | undefined): string {
  const parsed = z.safeParse(PendingSignIn.shape.returnTo, value);
  return parsed.success && value && value.length <= 512 ? value : '/';
}

export async function startSignIn(event: Event): Promise<Result> {
  const returnTo = safeReturnTo(event.queryStringParameters?.returnTo);
  const config = await provider();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const codeVerifier = client.randomPKCECodeVerifier();
  await savePendingSignIn(state, { codeVerifier, nonce, returnTo });
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri(),
    scope: 'openid email',
    response_type: 'code',
    state,
    nonce,
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    // Every sign-in asks who you are, even if the provider remembers a session: the
    // computer in a district office is shared.
    prompt: 'login',
  });
  // The state also goes in a cookie: a callback in a browser that did not start this sign-in is refused.
  return redirect(url.href, [cookie(signInCookieName(), state, SIGNIN_SECONDS)]);
}

function problem(code: string, text: Bilingual, status = 400): Result {
  return page(status, signInProblemPage(code, text), [clearedCookie(signInCookieName())]);
}

export async function finishSignIn(event: Event): Promise<Result> {
  const query = event.queryStringParameters ?? {};
  if (query.error) {
    logger.warn('sign-in refused by the provider', { error: query.error });
    return problem('SIGNIN_REFUSED', {
      id: 'Penyedia akun menolak atau membatalkan proses masuk. Silakan coba lagi.',
      en: 'The sign-in was refused or cancelled. Please try again.',
    });
  }
  const state = query.state ?? '';
  if (!state || cookieValue(event, signInCookieName()) !== state) {
    return problem('SIGNIN_OTHER_BROWSER', {
      id: 'Proses masuk ini tidak dimulai di peramban ini, atau sudah selesai. Mulai lagi dari halaman yang ingin Anda buka.',
      en: 'This sign-in was not started in this browser, or it is already finished. Start again from the page you wanted.',
    });
  }
  const pending = await takePendingSignIn(state);
  if (!pending) {
    return problem('SIGNIN_EXPIRED', {
      id: 'Proses masuk sudah kedaluwarsa (lebih dari 15 menit) atau sudah dipakai. Silakan mulai lagi.',
      en: 'The sign-in expired (over 15 minutes) or was already used. Please start again.',
    });
  }
  const config = await provider();
  const currentUrl = new URL(`${pagesUrl()}${event.rawPath}${event.rawQueryString ? `?${event.rawQueryString}` : ''}`);
  let claims: unknown;
  try {
    const tokens = await client.authorizationCodeGrant(config, currentUrl, {
      pkceCodeVerifier: pending.codeVerifier,
      expectedState: state,
      expectedNonce: pending.nonce,
      idTokenExpected: true,
    });
    claims = tokens.claims();
  } catch (e) {
    logger.warn('sign-in code exchange failed', { error: (e as Error).name, errorMessage: (e as Error).message });
    return problem('SIGNIN_FAILED', {
      id: 'Proses masuk tidak dapat diselesaikan. Silakan coba lagi.',
      en: 'The sign-in could not be completed. Please try again.',
    });
  }
  let person: ReturnType<typeof personFromClaims>;
  try {
    person = personFromClaims(claims);
  } catch (e) {
    if (!(e instanceof SignInClaimsError)) throw e;
    logger.warn('sign-in claims refused', { errorMessage: e.message });
    return problem(
      'SIGNIN_UNVERIFIED',
      {
        id: 'Akun ini belum memiliki alamat email yang terverifikasi atau datanya tidak lengkap. Hubungi admin.',
        en: 'This account has no verified email address or its details are incomplete. Contact the admin.',
      },
      403,
    );
  }
  const { cookieValue: value } = await createSession(person);
  logger.info('signed in', { sub: person.sub, roles: person.roles });
  return redirect(`${pagesUrl()}${pending.returnTo}`, [sessionCookie(value), clearedCookie(signInCookieName())]);
}

const SignOutForm = z.record(z.string(), z.union([z.string(), z.array(z.string())]));

export async function signOut(event: Event): Promise<Result> {
  const visitor = await signedIn(event);
  if (!visitor) return redirect(`${pagesUrl()}${SIGNED_OUT_PATH}`, [clearedCookie(sessionCookieName())]);
  const form = z.safeParse(SignOutForm, event.body as unknown);
  const sent = form.success ? form.data[FORM_TOKEN_FIELD] : undefined;
  // A forged sign-out is a nuisance, not a danger, but it is still refused: one rule for every POST.
  if (checkForgery(event, visitor.session, typeof sent === 'string' ? sent : undefined) !== 'ok') {
    return problem('SIGNOUT_FORGED', { id: 'Permintaan keluar ditolak.', en: 'The sign-out request was refused.' }, 403);
  }
  await endSession(visitor.cookieValue);
  logger.info('signed out', { sub: visitor.session.person.sub });
  return redirect(`${pagesUrl()}${SIGNED_OUT_PATH}`, [clearedCookie(sessionCookieName())]);
}

export async function home(event: Event): Promise<Result> {
  const visitor = await signedIn(event);
  if (visitor?.session.person.roles.includes('officer')) return redirect(`${pagesUrl()}/upload`);
  return page(200, homePage(visitor?.session));
}

export async function signedOut(): Promise<Result> {
  return page(200, signedOutPage());
}
