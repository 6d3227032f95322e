/**
 * Sign-in end to end on the embedded runtime: the pages (functions/access) as the
 * OpenID Connect client of the embedded provider (embedded/local/oidc.ts), over HTTP,
 * with cookies as a browser keeps them (cli/browser.ts). Password sign-in, one-time
 * codes from the outbox, sign-out, and the ways a sign-in is refused.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, codeFromOutbox, formAction, inputValue, signInWithCode, signInWithPassword } from '../../../cli/browser.ts';
import { addAccount } from '../../../embedded/runtime/accounts.ts';
import { type Runtime, startRuntime } from '../../../embedded/runtime/index.ts';

let dir: string;
let rt: Runtime;
let operatorPassword: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prokus-runtime-signin-'));
  rt = await startRuntime({ dataDir: join(dir, 'data'), port: 0, quiet: true });
  ({ password: operatorPassword = '' } = await addAccount(rt.accountsFile, {
    email: 'operator@kemensos.example',
    roles: ['operator'],
    districts: [],
  }));
  await addAccount(rt.accountsFile, { email: 'Approver@Dinsos.example', roles: ['approver'], districts: ['3210'] });
});

afterAll(async () => {
  await rt?.stop();
  await rm(dir, { recursive: true, force: true });
});

const pages = () => rt.endpoints.pages;

describe('signing in on the embedded runtime', () => {
  it('signs an operator in with a password, names them on the page, and signs them out for good', async () => {
    const browser = new Browser();
    const home = await signInWithPassword(browser, pages(), { email: 'operator@kemensos.example', password: operatorPassword });
    expect(home.status).toBe(200);
    expect(home.text).toContain('Masuk sebagai operator@kemensos.example');
    expect(home.text).toContain('Roles: operator');
    const cookies = await browser.jar.getCookies(pages());
    const session = cookies.find((c) => c.key === 'prokus-session');
    expect(session?.httpOnly).toBe(true);
    expect(session?.sameSite).toBe('lax');

    const csrf = inputValue(home.text, 'csrf');
    expect(csrf).toBeTruthy();
    const out = await browser.postForm(`${pages()}/signout`, new URLSearchParams({ csrf: csrf! }));
    expect(out.url).toBe(`${pages()}/signed-out`);
    expect(out.text).toContain('You are signed out');
    // The copied cookie no longer works either: the session ended on the server.
    const copy = new Browser();
    await copy.jar.setCookie(`prokus-session=${session!.value}`, pages());
    expect((await copy.get(`${pages()}/`)).text).toContain('Welcome');
  });

  it('signs an approver in with a one-time code from the outbox; the address is matched without regard to case', async () => {
    const browser = new Browser();
    const home = await signInWithCode(browser, pages(), 'approver@dinsos.example', rt.outboxDir);
    expect(home.text).toContain('Signed in as approver@dinsos.example');
    expect(home.text).toContain('Districts: 3210');
  });

  it('refuses a wrong password, a wrong code, and a code for an address that must use a password', async () => {
    const browser = new Browser();
    const login = await browser.get(`${pages()}/signin?returnTo=%2F`);
    const wrong = await browser.postForm(
      formAction(login, /\/password$/),
      new URLSearchParams({ email: 'operator@kemensos.example', password: 'not-the-password' }),
      login.url,
    );
    expect(wrong.status).toBe(401);
    expect(wrong.text).toContain('The email address or password is wrong.');

    const asked = await browser.postForm(
      formAction(wrong, /\/code$/),
      new URLSearchParams({ email: 'approver@dinsos.example' }),
      wrong.url,
    );
    const since = Date.now() - 1000;
    const code = await codeFromOutbox(rt.outboxDir, 'approver@dinsos.example', since);
    const bad = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    const refused = await browser.postForm(formAction(asked, /\/verify$/), new URLSearchParams({ code: bad }), asked.url);
    expect(refused.status).toBe(401);
    expect(refused.text).toContain('The code is wrong or has expired.');

    // The operator signs in with a password: asking for a code sends none, and the page says the same as for anyone.
    const other = new Browser();
    const login2 = await other.get(`${pages()}/signin?returnTo=%2F`);
    const before = Date.now();
    const page = await other.postForm(
      formAction(login2, /\/code$/),
      new URLSearchParams({ email: 'operator@kemensos.example' }),
      login2.url,
    );
    expect(page.text).toContain('If that address has an account');
    await expect(codeFromOutbox(rt.outboxDir, 'operator@kemensos.example', before, 500)).rejects.toThrow(/no sign-in code/);
  });

  it('refuses a callback from a browser that did not start the sign-in, and a callback used twice', async () => {
    const browser = new Browser();
    const login = await browser.get(`${pages()}/signin?returnTo=%2F`);
    // Stop at the callback: the provider's redirect back to the pages, not followed.
    const res = await fetch(formAction(login, /\/password$/), {
      method: 'POST',
      redirect: 'manual',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        cookie: await browser.jar.getCookieString(login.url),
        origin: new URL(login.url).origin,
      },
      body: new URLSearchParams({ email: 'operator@kemensos.example', password: operatorPassword }),
    });
    let location = res.headers.get('location')!;
    for (const set of res.headers.getSetCookie()) await browser.jar.setCookie(set, login.url);
    // The provider resumes the authorization and redirects to the pages' callback.
    while (!location.startsWith(pages())) {
      const hop = await fetch(new URL(location, login.url), {
        redirect: 'manual',
        headers: { cookie: await browser.jar.getCookieString(new URL(location, login.url).href) },
      });
      for (const set of hop.headers.getSetCookie()) await browser.jar.setCookie(set, new URL(location, login.url).href);
      location = hop.headers.get('location')!;
    }
    expect(location).toContain('/auth/callback?code=');

    const stranger = await new Browser().get(location);
    expect(stranger.status).toBe(400);
    expect(stranger.text).toContain('SIGNIN_OTHER_BROWSER');

    const first = await browser.get(location);
    expect(first.text).toContain('Signed in as operator@kemensos.example');
    // The same callback again, in the same browser (a back button, a replay): the sign-in it named is used up.
    const again = await browser.request(location, { method: 'GET' });
    expect(again.status).toBe(400);
  });

  it('sends a sign-in to the home page when the return path points off the site', async () => {
    for (const returnTo of ['https://evil.example/', '//evil.example/x', '/\\evil.example']) {
      const browser = new Browser();
      const home = await signInWithPassword(
        browser,
        pages(),
        { email: 'operator@kemensos.example', password: operatorPassword },
        returnTo,
      );
      expect(home.url).toBe(`${pages()}/`);
    }
  });
});
