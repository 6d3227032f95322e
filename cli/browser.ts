/**
 * A person's browser, minus the rendering: cookies (tough-cookie's RFC 6265 jar, so
 * SameSite, Path, Max-Age and host-only rules hold as in a real browser), redirects
 * followed one by one, and the Origin header a browser puts on every form POST. The demo
 * and the tests sign people in through it with the real OpenID Connect flow (pages →
 * provider → login form → pages) and then use the pages as those people.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { CookieJar } from 'tough-cookie';

export interface Page {
  url: string;
  status: number;
  text: string;
}

const MAX_REDIRECTS = 10;

export class Browser {
  readonly jar = new CookieJar();

  /** GET, following redirects as a browser does. */
  get(url: string): Promise<Page> {
    return this.request(url, { method: 'GET' });
  }

  /** POSTs a form as the page's own form does: urlencoded, with the Origin of the page it is on. */
  postForm(url: string, body: URLSearchParams, from: string = url): Promise<Page> {
    return this.request(url, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(from).origin },
    });
  }

  async request(url: string, init: { method: string; body?: URLSearchParams; headers?: Record<string, string> }): Promise<Page> {
    let current = url;
    let method = init.method;
    let body = init.body;
    let headers = init.headers ?? {};
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const cookie = await this.jar.getCookieString(current);
      const res = await fetch(current, {
        method,
        body,
        headers: { ...headers, ...(cookie ? { cookie } : {}) },
        redirect: 'manual',
      });
      for (const set of res.headers.getSetCookie()) await this.jar.setCookie(set, current, { ignoreError: true });
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        await res.arrayBuffer();
        current = new URL(location, current).href;
        // 303 (and, as browsers do, 301/302 after a POST) continue with a GET; 307/308 keep the method.
        if (res.status !== 307 && res.status !== 308) {
          method = 'GET';
          body = undefined;
          headers = {};
        }
        continue;
      }
      return { url: current, status: res.status, text: await res.text() };
    }
    throw new Error(`more than ${MAX_REDIRECTS} redirects from ${url}`);
  }
}

/** The value of a hidden or text input in a page, by name. */
export function inputValue(html: string, name: string): string | undefined {
  for (const m of html.matchAll(/<input\b[^>]*>/g)) {
    if (new RegExp(`\\bname="${name}"`).test(m[0])) return /\bvalue="([^"]*)"/.exec(m[0])?.[1]?.replace(/&amp;/g, '&');
  }
  return undefined;
}

/** The action of the form in a page whose action matches, resolved against the page's URL. */
export function formAction(page: Page, pattern: RegExp): string {
  for (const m of page.text.matchAll(/<form\b[^>]*\baction="([^"]+)"/g)) {
    const action = (m[1] as string).replace(/&amp;/g, '&');
    if (pattern.test(action)) return new URL(action, page.url).href;
  }
  throw new Error(`no form with an action like ${pattern} on ${page.url} (status ${page.status})`);
}

export class SignInError extends Error {
  override readonly name = 'SignInError';
}

/** Opens `/signin?returnTo=…` and lands on the provider's login page. */
async function loginPage(browser: Browser, pagesUrl: string, returnTo: string): Promise<Page> {
  const page = await browser.get(`${pagesUrl}/signin?returnTo=${encodeURIComponent(returnTo)}`);
  if (page.status !== 200 || !page.url.includes('/interaction/')) {
    throw new SignInError(`sign-in did not reach the login page (${page.status} at ${page.url})`);
  }
  return page;
}

function landed(page: Page, pagesUrl: string): Page {
  if (!page.url.startsWith(pagesUrl) || page.url.includes('/auth/callback')) {
    const said = page.text
      .replace(/<style>[\s\S]*?<\/style>/, '')
      .replace(/<[^>]+>/g, ' ')
      .replace(/\s+/g, ' ')
      .slice(0, 400);
    throw new SignInError(`sign-in did not come back to the pages (${page.status} at ${page.url}): ${said}`);
  }
  return page;
}

/** Signs in with a password, as an officer, operator or admin does; returns the page it comes back to. */
export async function signInWithPassword(
  browser: Browser,
  pagesUrl: string,
  account: { email: string; password: string },
  returnTo = '/',
): Promise<Page> {
  const login = await loginPage(browser, pagesUrl, returnTo);
  const form = new URLSearchParams({ email: account.email, password: account.password });
  return landed(await browser.postForm(formAction(login, /\/password$/), form, login.url), pagesUrl);
}

/**
 * Signs in with a one-time code sent to the address, as an approver, mentor or lender
 * does: asks for the code, reads it from the outbox (the newest code mail to that
 * address since the request), types it in.
 */
export async function signInWithCode(
  browser: Browser,
  pagesUrl: string,
  email: string,
  outboxDir: string,
  returnTo = '/',
): Promise<Page> {
  const login = await loginPage(browser, pagesUrl, returnTo);
  const since = Date.now() - 1000;
  const asked = await browser.postForm(formAction(login, /\/code$/), new URLSearchParams({ email }), login.url);
  const code = await codeFromOutbox(outboxDir, email, since);
  const verified = await browser.postForm(formAction(asked, /\/verify$/), new URLSearchParams({ code }), asked.url);
  return landed(verified, pagesUrl);
}

/** The newest sign-in code mailed to `email` after `since`, waiting a little for it to land. */
export async function codeFromOutbox(outboxDir: string, email: string, since: number, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const files = (await readdir(outboxDir))
      .filter((f) => f.endsWith('.eml'))
      .sort()
      .reverse();
    for (const f of files.slice(0, 200)) {
      const mail = await simpleParser(await readFile(join(outboxDir, f)));
      if (mail.headers.get('x-prokus-kind') !== 'sign-in-code') continue;
      if ((mail.date?.getTime() ?? 0) < since - 1000) continue;
      const to = Array.isArray(mail.to) ? mail.to[0] : mail.to;
      if (to?.value[0]?.address?.toLowerCase() !== email.toLowerCase()) continue;
      const code = /\b(\d{6})\b/.exec(mail.text ?? '')?.[1];
      if (code) return code;
    }
    if (Date.now() > deadline) throw new SignInError(`no sign-in code for ${email} in ${outboxDir}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
