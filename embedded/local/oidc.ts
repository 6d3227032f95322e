/**
 * The stand-in for Cognito's user pool and managed login: a certified OpenID Connect
 * provider (`oidc-provider`) on 127.0.0.1, with this runtime's accounts
 * (embedded/runtime/accounts.ts) and its own login pages. The pages Lambda signs people
 * in against it with the same client code it uses against Cognito (functions/access).
 *
 * Tokens carry Cognito's claim names (`cognito:groups`, `custom:districts`), so nothing
 * downstream knows which provider signed a person in. Officers, operators and admins
 * sign in with a password; approvers, mentors and lenders with a one-time code sent to
 * their address, written to the outbox like every other email.
 *
 * In-flight sign-ins (interactions, codes, grants) live in the provider's memory: a
 * restart loses only sign-ins under way, which start again. The signing key is kept in
 * the data folder, so ID tokens verify across restarts.
 */
import { createHash, generateKeyPairSync, randomInt, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { buildMime } from '#lib/mail';
import { bi, html, label } from '#web/html';
import { CONTENT_SECURITY_POLICY, layout, SECURITY_HEADERS } from '#web/layout';
import { type Account, accountBySub, findAccount, needsPassword, verifyPassword } from '../runtime/accounts.ts';
import { createOnce } from '../runtime/data-dir.ts';

export interface OidcOptions {
  port: number;
  accountsFile: string;
  keyFile: string;
  /** Where the pages are: the client's redirect and logout URIs. */
  pagesUrl: string;
  clientId: string;
  /** Writes a raw MIME message to the outbox (the one-time codes). */
  sendMail: (raw: Buffer) => Promise<void>;
  /** Keys for the provider's own cookies. */
  cookieKeys: string[];
}

export interface OidcService {
  issuer: string;
  close(): Promise<void>;
}

/** One-time codes: 6 digits, 10 minutes, 5 tries, as Cognito's email OTP. */
export const CODE_SECONDS = 600;
const CODE_TRIES = 5;
/** Wrong passwords before an account waits (Cognito locks out with growing delays). */
const PASSWORD_TRIES = 5;
const LOCKOUT_MS = 15 * 60_000;
const MAX_FORM_BYTES = 16 * 1024;

async function signingKey(file: string): Promise<Record<string, unknown>> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const exported = privateKey.export({ format: 'jwk' });
  const kid = createHash('sha256').update(String(exported.n)).digest('base64url').slice(0, 16);
  const jwk = { ...exported, use: 'sig', alg: 'RS256', kid };
  // Two first starts at once: the one that linked its key first wins, the other reads it.
  if (!(await createOnce(file, JSON.stringify(jwk)))) return signingKey(file);
  return jwk;
}

function claimsOf(account: Account) {
  return {
    sub: account.sub,
    email: account.email,
    email_verified: true,
    'cognito:groups': account.roles,
    'custom:districts': account.districts.join(','),
  };
}

/**
 * Where the provider keeps its short-lived records (sessions, interactions, grants,
 * codes, tokens): this process's memory, bounded, each record dropped when it expires.
 * A restart of `prokus dev` forgets sign-ins under way, which start again; nothing the
 * program needs is kept here (the pages' sessions are in the table). Its own adapter,
 * instead of the library's quick-start one, so that this is a decision, not a warning.
 */
const MAX_RECORDS = 20_000;
const records = new Map<string, { payload: Record<string, unknown>; expires: number }>();

class ProcessMemoryAdapter {
  constructor(private readonly model: string) {}

  private key(id: string) {
    return `${this.model}:${id}`;
  }

  async upsert(id: string, payload: Record<string, unknown>, expiresIn: number): Promise<void> {
    const key = this.key(id);
    records.delete(key);
    records.set(key, { payload, expires: Date.now() + expiresIn * 1000 });
    // The oldest record goes first when the bound is reached (a Map iterates in insertion order).
    while (records.size > MAX_RECORDS) records.delete(records.keys().next().value as string);
  }

  async find(id: string): Promise<Record<string, unknown> | undefined> {
    const key = this.key(id);
    const r = records.get(key);
    if (r && r.expires <= Date.now()) records.delete(key);
    return r && r.expires > Date.now() ? r.payload : undefined;
  }

  async findByUid(uid: string): Promise<Record<string, unknown> | undefined> {
    for (const [key, r] of records) {
      if (key.startsWith(`${this.model}:`) && r.payload.uid === uid && r.expires > Date.now()) return r.payload;
    }
    return undefined;
  }

  async findByUserCode(): Promise<undefined> {
    return undefined;
  }

  async consume(id: string): Promise<void> {
    const r = records.get(this.key(id));
    if (r) r.payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id: string): Promise<void> {
    records.delete(this.key(id));
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    for (const [key, r] of records) if (r.payload.grantId === grantId) records.delete(key);
  }
}

interface PendingCode {
  email: string;
  hash: Buffer;
  expires: number;
  tries: number;
}

const codeHash = (code: string) => createHash('sha256').update(code).digest();

function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_FORM_BYTES) {
        req.destroy();
        reject(new Error('form too large'));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))));
    req.on('error', reject);
  });
}

function writePage(res: ServerResponse, headers: Record<string, string>, status: number, page: string): void {
  res.statusCode = status;
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  res.setHeader('content-type', 'text/html; charset=utf-8');
  res.end(page);
}

const TITLE = { id: 'Masuk ke Prokus', en: 'Sign in to Prokus' };

function loginPage(uid: string, problem?: { id: string; en: string }, email = ''): string {
  return layout(
    TITLE,
    html`${problem && html`<div class="notice bad" role="alert">${bi(problem)}</div>`}
<form method="post" action="/interaction/${uid}/code" accept-charset="utf-8">
${bi({ id: 'Pemberi persetujuan, pendamping, lembaga pembiayaan', en: 'Approvers, mentors, lenders' }, 'h2')}
<div class="field"><label for="code-email">${label({ id: 'Alamat email', en: 'Email address' })}</label>
<input type="text" inputmode="email" autocomplete="username" id="code-email" name="email" value="${email}" required></div>
<button type="submit">${label({ id: 'Kirim kode sekali pakai', en: 'Send me a one-time code' })}</button>
</form>
<form method="post" action="/interaction/${uid}/password" accept-charset="utf-8">
${bi({ id: 'Petugas, operator, admin', en: 'Officers, operators, admins' }, 'h2')}
<div class="field"><label for="pw-email">${label({ id: 'Alamat email', en: 'Email address' })}</label>
<input type="text" inputmode="email" autocomplete="username" id="pw-email" name="email" value="${email}" required></div>
<div class="field"><label for="password">${label({ id: 'Kata sandi', en: 'Password' })}</label>
<input type="password" autocomplete="current-password" id="password" name="password" required></div>
<button type="submit">${label({ id: 'Masuk', en: 'Sign in' })}</button>
</form>`,
  );
}

function codePage(uid: string, problem?: { id: string; en: string }): string {
  return layout(
    TITLE,
    html`${problem && html`<div class="notice bad" role="alert">${bi(problem)}</div>`}${bi({
      id: 'Jika alamat itu memiliki akun, kode 6 angka sudah dikirim ke sana. Kode berlaku 10 menit.',
      en: 'If that address has an account, a 6-digit code was sent to it. The code is valid for 10 minutes.',
    })}
<form method="post" action="/interaction/${uid}/verify" accept-charset="utf-8">
<div class="field"><label for="code">${label({ id: 'Kode', en: 'Code' })}</label>
<input type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" id="code" name="code" required></div>
<button type="submit">${label({ id: 'Masuk', en: 'Sign in' })}</button>
</form>`,
  );
}

const WRONG_PASSWORD = {
  id: 'Alamat email atau kata sandi salah.',
  en: 'The email address or password is wrong.',
};
const LOCKED = {
  id: 'Terlalu banyak percobaan yang salah. Coba lagi dalam 15 menit.',
  en: 'Too many wrong attempts. Try again in 15 minutes.',
};
const WRONG_CODE = { id: 'Kode salah atau sudah kedaluwarsa.', en: 'The code is wrong or has expired.' };

export async function startOidc(opts: OidcOptions): Promise<OidcService> {
  const jwk = await signingKey(opts.keyFile);
  // The pages' headers, except that a login form may end at the pages: the browser holds
  // a form's whole redirect chain (provider → /auth/callback on the pages' origin) to the
  // CSP's form-action, so 'self' alone would stop the sign-in at the last hop.
  const headers = {
    ...SECURITY_HEADERS,
    'content-security-policy': CONTENT_SECURITY_POLICY.replace(
      "form-action 'self'",
      `form-action 'self' ${new URL(opts.pagesUrl).origin}`,
    ),
  };
  const sendPage = (res: ServerResponse, status: number, page: string) => writePage(res, headers, status, page);
  const codes = new Map<string, PendingCode>();
  const failures = new Map<string, { count: number; until: number }>();
  let issuer = '';

  const configuration: Configuration = {
    clients: [
      {
        client_id: opts.clientId,
        token_endpoint_auth_method: 'none',
        redirect_uris: [`${opts.pagesUrl}/auth/callback`],
        post_logout_redirect_uris: [`${opts.pagesUrl}/signed-out`],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        application_type: 'web',
      },
    ],
    adapter: ProcessMemoryAdapter,
    jwks: { keys: [jwk] },
    cookies: { keys: opts.cookieKeys },
    pkce: { required: () => true },
    // Cognito's claim names, in the ID token itself (as Cognito puts them there).
    claims: { openid: ['sub', 'cognito:groups', 'custom:districts'], email: ['email', 'email_verified'] },
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: false }, rpInitiatedLogout: { enabled: true } },
    ttl: { Session: 8 * 3600, Interaction: 15 * 60, Grant: 8 * 3600, IdToken: 3600, AccessToken: 3600, AuthorizationCode: 60 },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(_ctx, sub) {
      const account = await accountBySub(opts.accountsFile, sub);
      return account && { accountId: account.sub, claims: async () => claimsOf(account) };
    },
    // The pages are this program's own client: no consent screen, as with Cognito's app clients.
    async loadExistingGrant(ctx: KoaContextWithOIDC) {
      const client = ctx.oidc.client;
      const session = ctx.oidc.session;
      if (!client || !session?.accountId) return undefined;
      const grantId = session.grantIdFor(client.clientId);
      if (grantId) {
        const existing = await ctx.oidc.provider.Grant.find(grantId);
        if (existing) return existing;
      }
      const grant = new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
      grant.addOIDCScope('openid email');
      await grant.save();
      return grant;
    },
    async renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = layout(
        { id: 'Tidak dapat masuk', en: 'Could not sign in' },
        html`<div class="notice bad">${bi({
          id: `Permintaan masuk tidak valid (${String(out.error)}). Mulai lagi dari halaman Prokus.`,
          en: `The sign-in request is not valid (${String(out.error)}). Start again from the Prokus page.`,
        })}</div>`,
      );
    },
  };

  async function finishLogin(req: IncomingMessage, res: ServerResponse, account: Account): Promise<void> {
    await provider.interactionFinished(req, res, { login: { accountId: account.sub } }, { mergeWithLastSubmission: false });
  }

  function lockedOut(email: string): boolean {
    const f = failures.get(email);
    return !!f && f.count >= PASSWORD_TRIES && f.until > Date.now();
  }
  function failed(email: string): void {
    const f = failures.get(email);
    const count = f && f.until > Date.now() ? f.count + 1 : 1;
    failures.set(email, { count, until: Date.now() + LOCKOUT_MS });
  }

  async function interaction(req: IncomingMessage, res: ServerResponse, uid: string, step: string): Promise<void> {
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid) return sendPage(res, 400, loginPage(details.uid));
    if (req.method === 'GET' && step === '') return sendPage(res, 200, loginPage(uid));
    if (req.method !== 'POST') return sendPage(res, 405, loginPage(uid));
    const form = await readForm(req);
    const email = (form.get('email') ?? '').trim().toLowerCase();
    if (step === 'password') {
      if (lockedOut(email)) return sendPage(res, 429, loginPage(uid, LOCKED, email));
      const account = await findAccount(opts.accountsFile, email);
      const ok = await verifyPassword(form.get('password') ?? '', account?.passwordHash);
      if (!account || !ok) {
        failed(email);
        return sendPage(res, 401, loginPage(uid, WRONG_PASSWORD, email));
      }
      failures.delete(email);
      return finishLogin(req, res, account);
    }
    if (step === 'code') {
      const account = await findAccount(opts.accountsFile, email);
      // Codes are for those who act from an email; the answer is the same either way, so
      // the page does not tell who has an account.
      if (account && !needsPassword(account.roles)) {
        const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
        codes.set(uid, { email: account.email, hash: codeHash(code), expires: Date.now() + CODE_SECONDS * 1000, tries: 0 });
        await opts.sendMail(
          await buildMime({
            to: account.email,
            subject: `[Prokus] Kode masuk / Sign-in code: ${code}`,
            text: `Kode masuk Prokus Anda: ${code}\nBerlaku 10 menit. Jangan berikan kode ini kepada siapa pun.\n\nYour Prokus sign-in code: ${code}\nValid for 10 minutes. Do not give this code to anyone.\n`,
            headers: { 'X-Prokus-Kind': 'sign-in-code' },
          }),
        );
      } else {
        codes.delete(uid);
      }
      return sendPage(res, 200, codePage(uid));
    }
    if (step === 'verify') {
      const pending = codes.get(uid);
      const given = codeHash((form.get('code') ?? '').trim());
      if (!pending || pending.expires < Date.now() || pending.tries >= CODE_TRIES) {
        codes.delete(uid);
        return sendPage(res, 401, loginPage(uid, WRONG_CODE));
      }
      pending.tries += 1;
      if (!timingSafeEqual(given, pending.hash)) return sendPage(res, 401, codePage(uid, WRONG_CODE));
      codes.delete(uid);
      const account = await findAccount(opts.accountsFile, pending.email);
      if (!account) return sendPage(res, 401, loginPage(uid, WRONG_CODE));
      return finishLogin(req, res, account);
    }
    return sendPage(res, 404, loginPage(uid));
  }

  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, configuration);
  const callback = provider.callback();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const match = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(password|code|verify))?$/.exec(new URL(req.url ?? '/', issuer).pathname);
    if (!match) {
      callback(req, res);
      return;
    }
    interaction(req, res, match[1] as string, match[2] ?? '').catch((e: unknown) => {
      if (res.headersSent) return res.destroy();
      // An unknown or expired interaction (its cookie is gone): start again from the pages.
      sendPage(
        res,
        400,
        layout(
          TITLE,
          html`<div class="notice bad">${bi({
            id: 'Proses masuk ini sudah kedaluwarsa. Kembali ke halaman Prokus dan mulai lagi.',
            en: 'This sign-in has expired. Go back to the Prokus page and start again.',
          })}</div>`,
        ),
      );
      void e;
    });
  });
  return {
    issuer,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
