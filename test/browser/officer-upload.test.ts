/**
 * The officers' upload page in a real Chromium (Debian's /usr/bin/chromium, driven by
 * playwright-core) against the embedded runtime: the officer signs in through the
 * embedded provider's login form, picks a file with a damaged row, watches it go to the
 * bucket (the page's own script, presigned POST, CORS, CSP), sees the row flagged on the
 * check page, submits, sees the upload with its report and families; an officer of
 * another district gets 404 on the upload's address. Screenshots at phone (390×844) and
 * desktop (1280×900) sizes go to test-artifacts/screenshots/.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addAccount } from '../../embedded/runtime/accounts.ts';
import { type Runtime, startRuntime } from '../../embedded/runtime/index.ts';
import { DAMAGED_CODE, DAMAGED_ROW, proposalWithDamagedRow } from '../helpers/officer-upload.ts';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(process.cwd(), 'test-artifacts', 'screenshots');
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 900 };

let dir: string;
let rt: Runtime;
let browser: Browser;
const officer = { email: 'petugas@dinsos-majalengka.example', password: '' };
const other = { email: 'petugas@dinsos-bantul.example', password: '' };
/** What the page's script or the browser complained about: a CSP refusal shows here. */
const consoleErrors: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prokus-browser-officer-'));
  await mkdir(SHOTS, { recursive: true });
  rt = await startRuntime({ dataDir: join(dir, 'data'), port: 0, quiet: true });
  officer.password =
    (await addAccount(rt.accountsFile, { email: officer.email, roles: ['officer'], districts: ['3210'] })).password ?? '';
  other.password =
    (await addAccount(rt.accountsFile, { email: other.email, roles: ['officer'], districts: ['3402'] })).password ?? '';
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await rt?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function open(viewport: { width: number; height: number }): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport, acceptDownloads: true });
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(e.message));
  return { context, page };
}

/** Signs in as a person does: the page's sign-in link, the embedded provider's password form, back to the page. */
async function signIn(page: Page, who: { email: string; password: string }, returnTo: string): Promise<void> {
  await page.goto(`${rt.endpoints.pages}${returnTo}`);
  await page.locator(`a[href="/signin?returnTo=${encodeURIComponent(returnTo)}"]`).click();
  const form = page.locator('form[action$="/password"]');
  await form.locator('input[name=email]').fill(who.email);
  await form.locator('input[name=password]').fill(who.password);
  await form.locator('button[type=submit]').click();
  await page.waitForURL(`${rt.endpoints.pages}${returnTo}`);
}

const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

describe.skipIf(!existsSync(CHROMIUM))('officer upload in Chromium', () => {
  it('uploads a file with a damaged row, sees it flagged, submits, sees the upload and its report; another district cannot', async () => {
    const { context, page } = await open(PHONE);
    // Not signed in: the page offers the way in, and back here.
    await signIn(page, officer, '/upload');
    await expect.poll(() => page.locator('#upload-form').isVisible()).toBe(true);
    expect(await page.locator('#nojs').isVisible()).toBe(false);
    await shot(page, 'upload-phone');
    await page.setViewportSize(DESKTOP);
    await shot(page, 'upload-desktop');
    await page.setViewportSize(PHONE);

    await page.setInputFiles('#file', {
      name: 'usulan-juli.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(proposalWithDamagedRow(40)),
    });
    await expect.poll(() => page.locator('#chosen').textContent()).toContain('usulan-juli.csv');
    // A slow connection (1 KB/s up), so the progress bar is seen while the file goes out.
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 200,
      downloadThroughput: 50_000,
      uploadThroughput: 1_000,
    });
    await page.locator('#upload-form button[type=submit]').click();
    await page.locator('#upload-progress').waitFor({ state: 'visible' });
    await shot(page, 'upload-sending-phone');
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: -1,
    });
    await page.waitForURL(/\/uploads\/[A-Za-z0-9_-]+\/check$/, { timeout: 30_000 }).catch(async (e) => {
      await shot(page, 'upload-failed');
      throw new Error(`no check page: ${await page.locator('#upload-status').textContent()} / ${consoleErrors.join(' | ')}`, {
        cause: e,
      });
    });

    const verdicts = page.locator('ol.verdicts > li');
    await expect.poll(() => verdicts.count()).toBe(1);
    expect(await verdicts.first().textContent()).toContain(`Baris ${DAMAGED_ROW}`);
    expect(await verdicts.first().textContent()).toContain(DAMAGED_CODE);
    await shot(page, 'check-phone');
    await page.setViewportSize(DESKTOP);
    await shot(page, 'check-desktop');

    // The English switch, then back.
    await page.locator('header .lang a').click();
    expect(await page.locator('h1').textContent()).toBe('The check of your file');
    await shot(page, 'check-desktop-en');
    await page.locator('header .lang a').click();
    await page.setViewportSize(PHONE);

    await page.locator('form:has(input[name=action][value=submit]) button').click();
    await page.waitForURL(/\/uploads\/[A-Za-z0-9_-]{22}$/).catch(async (e) => {
      await shot(page, 'submit-failed');
      throw new Error(
        `no upload page: ${page.url()} ${await page.locator('main').textContent()} / ${consoleErrors.join(' | ')}`,
        { cause: e },
      );
    });
    const uploadUrl = page.url();
    await expect
      .poll(
        async () => {
          await page.reload();
          return page.locator('main').textContent();
        },
        { timeout: 30_000, interval: 500 },
      )
      .toContain('2 diterima, 1 ditolak');
    await expect
      .poll(
        async () => {
          await page.reload();
          return page.locator('table.stages tfoot').textContent();
        },
        { timeout: 30_000, interval: 500 },
      )
      .toContain('2');
    await shot(page, 'upload-detail-phone');
    await page.setViewportSize(DESKTOP);
    await shot(page, 'upload-detail-desktop');

    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('a.button[href$="/report"]').click()]);
    expect(download.suggestedFilename()).toBe('usulan-juli.csv.report.csv');
    const report = await readFile((await download.path()) ?? '', 'utf8');
    expect(report).toContain(DAMAGED_CODE);

    await page.goto(`${rt.endpoints.pages}/upload`);
    expect(await page.locator('ul.uploads').textContent()).toContain('usulan-juli.csv');
    await shot(page, 'upload-list-desktop');
    await page.setViewportSize(PHONE);
    await shot(page, 'upload-list-phone');

    const stranger = await open(PHONE);
    await signIn(stranger.page, other, '/upload');
    expect(await stranger.page.locator('main').textContent()).not.toContain('usulan-juli.csv');
    const response = await stranger.page.goto(uploadUrl);
    expect(response?.status()).toBe(404);
    expect(await stranger.page.locator('h1').textContent()).toBe('Tidak ditemukan');
    await shot(stranger.page, 'other-district-phone');
    await stranger.context.close();
    await context.close();

    // The 401 before signing in, the stranger's 404 and the favicon are expected; a refused
    // script, style or connection (CSP, CORS) or a script error is not.
    expect(
      consoleErrors.filter((m) => !m.startsWith('Failed to load resource: the server responded with a status of 40')),
    ).toEqual([]);
  }, 180_000);
});
