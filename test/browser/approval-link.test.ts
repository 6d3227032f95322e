/**
 * The approval link in real Chromium: the approver follows the emailed link, is asked to
 * sign in, gets a one-time code by email, approves, and sees who decided what when. The
 * same link in another signed-in person's browser shows nothing and decides nothing; a
 * form posted from another origin, or without the page's anti-forgery token, decides
 * nothing. Screenshots at phone and desktop sizes in test-artifacts/screenshots/.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeFromOutbox } from '../../cli/browser.ts';
import { ensureDemoAccounts } from '../../cli/demo-accounts.ts';
import { addAccount } from '../../embedded/runtime/accounts.ts';
import { type Runtime, startRuntime } from '../../embedded/runtime/index.ts';
import { caseAtApproval, requestLinks } from '../helpers/runtime-cases.ts';
import { launchChromium, screenshots } from './browser.ts';

const COLLEAGUE = 'kolega@dinsos.example';
/** The first approval level's approver of Kab. Majalengka in programs/2020.json: the head of the district social office. */
const DISTRICT_HEAD = 'kadinsos.majalengka@dinsos.example';
const caseIds = ['3210-2020-browserapproval00000001', '3210-2020-browserapproval00000002'];

let dir: string;
let rt: Runtime;
let chromium: Browser;
let links: Map<string, string>;
let evil: Server;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prokus-browser-approval-'));
  rt = await startRuntime({ dataDir: join(dir, 'data'), port: 0, quiet: true });
  await ensureDemoAccounts(rt.dataDir, rt.accountsFile);
  await addAccount(rt.accountsFile, { email: COLLEAGUE, roles: ['approver'], districts: ['3210'] });
  const { loadKeys } = await import('#lib/secrets');
  const { createCase } = await import('#store/cases');
  await loadKeys();
  for (const [n, caseId] of caseIds.entries()) {
    await createCase(await caseAtApproval(caseId, n + 1));
    await rt.engine.startExecution({ stateMachineArn: rt.journeyArn, name: caseId, input: JSON.stringify({ caseId }) });
  }
  await rt.idle({ timeoutMs: 60_000 });
  links = await requestLinks(rt.outboxDir, 'grant-approval');
  chromium = await launchChromium();
  // Another site on this machine, whose page posts an approval to the link when opened.
  evil = createServer((req, res) => {
    const target = new URL(req.url ?? '/', 'http://x').searchParams.get('to') ?? '';
    res.setHeader('content-type', 'text/html');
    res.end(
      `<form id="f" method="post" action="${target}"><input name="decision" value="approved"></form><script>document.getElementById('f').submit()</script>`,
    );
  });
  await new Promise<void>((r) => evil.listen(0, '127.0.0.1', r));
});

afterAll(async () => {
  await chromium?.close();
  await new Promise((r) => evil?.close(r));
  await rt?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** Signs in on the provider's page with a one-time code, as a person does on their phone. */
async function signInWithCode(page: Page, email: string): Promise<void> {
  await page.getByRole('link', { name: /Masuk/ }).click();
  await page.waitForURL(/\/interaction\//);
  await page.locator('#code-email').fill(email);
  const since = Date.now();
  await page.getByRole('button', { name: /Kirim kode sekali pakai/ }).click();
  await page.locator('#code').fill(await codeFromOutbox(rt.outboxDir, email, since));
  await page.getByRole('button', { name: /Masuk/ }).click();
}

async function signedInContext(email: string, link: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await chromium.newContext();
  const page = await context.newPage();
  await page.goto(link);
  await signInWithCode(page, email);
  await page.waitForURL(link);
  return { context, page };
}

async function stageOf(caseId: string): Promise<string> {
  const { getCase } = await import('#store/cases');
  return (await getCase(caseId)).stage;
}

describe('an approval link in Chromium', () => {
  it('decides nothing when posted from another origin or without the page’s token, even in the approver’s browser', async () => {
    const link = links.get(caseIds[0]!)!;
    const { context, page } = await signedInContext(DISTRICT_HEAD, link);
    // The approver is signed in; a page of another site posts the form to the link.
    const other = `http://127.0.0.1:${(evil.address() as AddressInfo).port}/?to=${encodeURIComponent(link)}`;
    const forged = await context.newPage();
    const answer = forged.waitForResponse((r) => r.url() === link && r.request().method() === 'POST');
    await forged.goto(other);
    expect((await answer).status()).toBe(403);
    await forged.getByText('Decision not recorded').waitFor();
    await screenshots(forged, 'approval-forged-post');

    // From the approver's own page, but a hand-made request without the token.
    const status = await page.evaluate(async (url) => {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'decision=approved',
      });
      return res.status;
    }, link);
    expect(status).toBe(403);
    await context.close();
    expect(await stageOf(caseIds[0]!)).toBe('grant-approval');
  });

  it('shows another signed-in person that the request is someone else’s, and lets them decide nothing', async () => {
    const link = links.get(caseIds[0]!)!;
    const context = await chromium.newContext();
    const page = await context.newPage();
    await page.goto(link);
    await signInWithCode(page, COLLEAGUE);
    await page.waitForURL(link);
    await page.getByText('This request is for someone else').waitFor();
    await page.getByText(/This request is for k•••a@dinsos\.example, not for kolega@dinsos\.example/).waitFor();
    expect(await page.locator('input[name="decision"]').count()).toBe(0);
    expect(await page.content()).not.toContain('Ibu Uji Kuota');
    await screenshots(page, 'approval-someone-else');
    await context.close();
    expect(await stageOf(caseIds[0]!)).toBe('grant-approval');
  });

  it('asks the approver to sign in, then lets them approve and shows who decided', async () => {
    const link = links.get(caseIds[1]!)!;
    const context = await chromium.newContext();
    const page = await context.newPage();
    await page.goto(link);
    await page.getByText(/This request is for k•••a@dinsos\.example/).waitFor();
    expect(await page.content()).not.toContain('Ibu Uji Kuota');
    await screenshots(page, 'approval-sign-in-needed');

    await page.getByRole('link', { name: /Masuk/ }).click();
    await page.waitForURL(/\/interaction\//);
    await screenshots(page, 'approval-provider-login');
    await page.locator('#code-email').fill(DISTRICT_HEAD);
    const since = Date.now();
    await page.getByRole('button', { name: /Kirim kode sekali pakai/ }).click();
    await screenshots(page, 'approval-provider-code');
    await page.locator('#code').fill(await codeFromOutbox(rt.outboxDir, DISTRICT_HEAD, since));
    await page.getByRole('button', { name: /Masuk/ }).click();
    await page.waitForURL(link);

    await page.getByText('Ibu Uji Kuota 2').waitFor();
    await page.getByText(`Signed in as ${DISTRICT_HEAD}`).waitFor();
    await screenshots(page, 'approval-form');
    await page.locator('input[name="decision"][value="approved"]').check();
    await page.getByRole('button', { name: /Kirim keputusan/ }).click();
    await page.getByText('Decision recorded').first().waitFor();
    await page.getByText(`Recorded in the name of ${DISTRICT_HEAD}`).waitFor();
    // The first of two levels: the request goes on to the directorate, nothing is reserved yet.
    await page.getByText(/The request goes on to the next level/).waitFor();
    await screenshots(page, 'approval-recorded');
    await context.close();

    await rt.idle({ timeoutMs: 60_000 });
    const { getCase } = await import('#store/cases');
    const c = await getCase(caseIds[1]!);
    expect(c.approvals).toMatchObject([{ level: 'district', decision: 'approved', decidedBy: { email: DISTRICT_HEAD } }]);
    expect(c.approvals?.[0]?.decidedBy).toMatchObject({ sub: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(c.stage).toBe('grant-approval');
  });
});
