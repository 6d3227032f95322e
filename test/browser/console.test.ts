/**
 * The operators' console in a real Chromium, after a demo-sized run: the demo takes 20
 * families through the whole journey; then, on the same data folder, an officer's upload
 * of four more families meets SES refusing one approval email, so that family's journey
 * fails. The operator signs in, sees the funnel with the demo's counts, filters to one
 * district, opens a graduated family's timeline and an execution with its history and its
 * graph, finds the failed journey in "needs attention", resumes it, and the case moves on
 * when the approvers decide. Screenshots at phone and desktop sizes.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoResult, runDemo } from '../../cli/demo.ts';
import { type DemoAccount, ensureDemoAccounts, OPERATOR_EMAIL, officerEmail } from '../../cli/demo-accounts.ts';
import { Browsers } from '../../cli/people.ts';
import { proposalCsv, registryCsv, synthesizeFamilies } from '../../cli/synthetic.ts';
import { ApiError } from '../../embedded/aws-endpoint/api-error.ts';
import { type Runtime, startRuntime } from '../../embedded/runtime/index.ts';
import { decideEveryLevel } from '../helpers/approval-levels.ts';
import { CHROMIUM, launchChromium, screenshots } from './browser.ts';

let dir: string;
let rt: Runtime;
let browser: Browser;
let demo: DemoResult;
let accounts: DemoAccount[];
let failedCase: string | undefined;
const consoleErrors: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prokus-browser-console-'));
  demo = await runDemo({ families: 20, dataDir: dir, progress: () => undefined });
  rt = await startRuntime({
    dataDir: dir,
    port: 0,
    quiet: true,
    sesFault: (raw) => {
      const text = raw.toString('utf8');
      if (failedCase || !text.includes('X-Prokus-Kind: grant-approval')) return undefined;
      failedCase = /X-Prokus-Case: (\S+)/.exec(text)?.[1];
      return new ApiError('SendingPausedException', 'Email sending is disabled for this account.', 400);
    },
  });
  accounts = await ensureDemoAccounts(rt.dataDir, rt.accountsFile);
  const families = [...synthesizeFamilies(4, { seed: 99, ineligibleShare: 0, districts: ['3210'] })];
  const { importRegistry } = await import('#intake/registry-import');
  await importRegistry(registryCsv(families, 99));
  const file = join(dir, 'usulan-tambahan.csv');
  await writeFile(file, proposalCsv(families));
  await rt.upload(file, { district: '3210', programYear: 2020, uploader: officerEmail('3210') });
  await rt.idle({ timeoutMs: 120_000 });
  browser = await launchChromium();
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await rt?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function signedInOperator(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.on('console', (m) => {
    // A CSP refusal shows here. Not the statuses the pages answer on purpose (the 401
    // sign-in page before signing in; no favicon, 404).
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(e.message));
  const password = accounts.find((a) => a.email === OPERATOR_EMAIL)?.password ?? '';
  await page.goto(`${rt.endpoints.pages}/console`);
  await page.locator('a[href^="/signin?returnTo="]').click();
  const form = page.locator('form[action$="/password"]');
  await form.locator('input[name=email]').fill(OPERATOR_EMAIL);
  await form.locator('input[name=password]').fill(password);
  await form.locator('button[type=submit]').click();
  await page.waitForURL(`${rt.endpoints.pages}/console`);
  return page;
}

const text = async (page: Page, selector: string) => (await page.locator(selector).first().textContent()) ?? '';

/** The count in the funnel table's row named `label`. */
async function countOf(page: Page, label: string): Promise<number> {
  const rows = await page
    .locator('table.chart-data tr')
    .evaluateAll((trs) =>
      trs.map((tr) => [tr.querySelector('th')?.textContent?.trim() ?? '', tr.querySelector('td.n')?.textContent ?? '']),
    );
  const row = rows.find(([name]) => name === label);
  if (!row) throw new Error(`no row ${label} in ${JSON.stringify(rows)}`);
  return Number((row[1] ?? '').replace(/[^\d]/g, ''));
}

describe.skipIf(!existsSync(CHROMIUM))('the operators’ console in Chromium', () => {
  it('funnel, filter, timeline, execution graph, needs attention, resume: a family’s journey from the console alone', async () => {
    expect(failedCase).toBeDefined();
    const caseId = failedCase as string;
    const page = await signedInOperator();

    // The funnel of the demo's program year: its 20 families and the 4 uploaded after it.
    await page.selectOption('select#year', '2020');
    await page.locator('form.filters button[type=submit]').click();
    await page.waitForURL(/year=2020/);
    await expect(countOf(page, 'Diusulkan')).resolves.toBe(24);
    await expect(countOf(page, 'Lulus')).resolves.toBe(demo.outcomes.graduated);
    await expect(countOf(page, 'Tidak memenuhi syarat')).resolves.toBe(demo.outcomes.ineligible);
    await screenshots(page, 'console-funnel');

    // One district.
    await page.selectOption('select#district', '3210');
    await page.locator('form.filters button[type=submit]').click();
    await page.waitForURL(/district=3210/);
    const district = demo.byDistrict['3210'];
    await expect(countOf(page, 'Lulus')).resolves.toBe(Number(district?.graduated ?? 0));
    await screenshots(page, 'console-funnel-3210');

    // A graduated family of the demo, from the list.
    await page.goto(`${rt.endpoints.pages}/console/cases?year=2020&district=3210&outcome=graduated`);
    await screenshots(page, 'console-cases');
    await page.locator('table.data tbody tr a').first().click();
    expect(await text(page, 'ol.timeline')).toContain('Verifikasi');
    expect(await text(page, 'ol.timeline')).toContain('Tonggak');
    expect(await text(page, 'ol.timeline')).toContain('Lulus');
    await screenshots(page, 'console-timeline');
    await page.locator('a[href^="/console/executions/journey/"]').first().click();
    await page.locator('figure svg').waitFor();
    expect(await text(page, 'figure svg')).toContain('Grading');
    expect(await text(page, 'main')).toContain('ExecutionSucceeded');
    await screenshots(page, 'console-execution');

    // Needs attention: the failed journey, its failed state marked on its graph, resumed.
    await page.goto(`${rt.endpoints.pages}/console/attention`);
    await screenshots(page, 'console-attention');
    await page.locator(`a[href="/console/cases/${caseId}"]`).click();
    expect(await text(page, 'ol.timeline')).toContain('SendingPausedException');
    await page.locator(`a[href="/console/executions/journey/${caseId}"]`).first().click();
    expect(await text(page, 'figure svg')).toContain('OpenGrantApproval');
    await screenshots(page, 'console-execution-failed');
    await page.goBack();
    await page.locator('form[action$="/resume"] button').click();
    await page.waitForURL(/resumed=/);
    expect(await text(page, 'ol.timeline')).toContain(OPERATOR_EMAIL);
    await rt.idle({ timeoutMs: 60_000 });

    // The resumed journey sent the approval email; the approvers decide; the case moves on.
    const people = new Browsers({ pagesUrl: rt.endpoints.pages, outboxDir: rt.outboxDir });
    await decideEveryLevel(people, rt, caseId);
    await rt.idle({ timeoutMs: 60_000 });
    await page.goto(`${rt.endpoints.pages}/console/cases/${caseId}`);
    expect(await text(page, '.cards')).toContain('Pendampingan');
    expect(await text(page, 'table.data')).toContain(`${caseId}-r2`);
    await screenshots(page, 'console-resumed');

    // English, remembered.
    await page.goto(`${rt.endpoints.pages}/console?lang=en`);
    expect(await text(page, 'main')).toContain('Steps reached');
    expect(consoleErrors.join('\n')).toBe('');
  }, 300_000);
});
