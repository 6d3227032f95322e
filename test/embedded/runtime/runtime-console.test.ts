/**
 * The operators' console on the embedded runtime, over HTTP as a browser uses it: an
 * upload of families goes through intake and verification; SES refuses one family's first
 * approval email, so its journey fails. The operator signs in, sees the funnel with the
 * counts the cases hold, finds the failed journey, reads its timeline and its execution,
 * and resumes it; the case moves on and names the operator. Officers and approvers get
 * none of it. The stored counters equal a recount of the cases, exactly.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, signInWithCode, signInWithPassword } from '../../../cli/browser.ts';
import { type DemoAccount, ensureDemoAccounts, OPERATOR_EMAIL, officerEmail } from '../../../cli/demo-accounts.ts';
import { proposalCsv, registryCsv, synthesizeFamilies } from '../../../cli/synthetic.ts';
import { ApiError } from '../../../embedded/aws-endpoint/api-error.ts';
import { listAllExecutions, type Runtime, startRuntime } from '../../../embedded/runtime/index.ts';

let dir: string;
let rt: Runtime;
let accounts: DemoAccount[];
let failedCase: string | undefined;
const FAMILIES = 12;

const passwordOf = (email: string) => {
  const a = accounts.find((x) => x.email === email);
  if (!a?.password) throw new Error(`no password account ${email}`);
  return { email, password: a.password };
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prokus-console-'));
  rt = await startRuntime({
    dataDir: dir,
    port: 0,
    quiet: true,
    // SES refuses the first grant-approval email once: that family's journey fails.
    sesFault: (raw) => {
      const text = raw.toString('utf8');
      if (failedCase || !text.includes('X-Prokus-Kind: grant-approval')) return undefined;
      failedCase = /X-Prokus-Case: (\S+)/.exec(text)?.[1];
      return new ApiError('SendingPausedException', 'Email sending is disabled for this account.', 400);
    },
  });
  accounts = await ensureDemoAccounts(rt.dataDir, rt.accountsFile);
  const families = [...synthesizeFamilies(FAMILIES, { seed: 7, ineligibleShare: 0.25, districts: ['3210'] })];
  const { importRegistry } = await import('#intake/registry-import');
  await importRegistry(registryCsv(families, 7));
  const file = join(dir, 'usulan.csv');
  await writeFile(file, proposalCsv(families));
  await rt.upload(file, { district: '3210', programYear: 2020, uploader: officerEmail('3210') });
  await rt.idle({ timeoutMs: 120_000 });
}, 180_000);

afterAll(async () => {
  await rt?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function operator(): Promise<Browser> {
  const browser = new Browser();
  await signInWithPassword(browser, rt.endpoints.pages, passwordOf(OPERATOR_EMAIL), '/console');
  return browser;
}

async function casesInTable() {
  const { dynamo } = await import('#lib/clients/dynamodb');
  const { Case } = await import('#domain/case');
  const z = await import('#domain/zod');
  const out = await dynamo.send(
    new ScanCommand({ TableName: 'prokus-local', FilterExpression: 'sk = :c', ExpressionAttributeValues: { ':c': 'CASE' } }),
  );
  return (out.Items ?? []).map((i) => z.parse(Case, i));
}

describe('the console', () => {
  it('shows the funnel the cases hold, and its counters equal a recount of the cases', async () => {
    const browser = await operator();
    const cases = await casesInTable();
    expect(cases.length).toBe(FAMILIES);
    const { recount, withoutDwell } = await import('#domain/funnel');
    const { readFunnel } = await import('#store/funnel');
    const stored = (await readFunnel(2020)).districts.find((d) => d.district === '3210')?.counters ?? {};
    expect(withoutDwell(stored)).toEqual(recount(cases).get('3210'));

    const page = await browser.get(`${rt.endpoints.pages}/console?year=2020&district=3210`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Diusulkan');
    const csv = await browser.get(`${rt.endpoints.pages}/console/funnel.csv?year=2020&district=3210`);
    const rows = parse(csv.text.replace(/^\ufeff/, ''), { columns: true }) as Record<string, string>[];
    const count = (key: string) => Number(rows.find((r) => r.counter === key)?.count);
    expect(count('reached#proposed')).toBe(FAMILIES);
    const eligible = cases.filter((c) => c.verification?.eligible).length;
    expect(count('reached#eligible')).toBe(eligible);
    expect(count('exit#ineligible')).toBe(FAMILIES - eligible);
    expect(count('now#grant-approval')).toBe(eligible);
    expect(count('failed')).toBe(1);
    // English on request, remembered.
    const en = await browser.get(`${rt.endpoints.pages}/console?lang=en`);
    expect(en.text).toContain('Steps reached');
  });

  it('finds the failed journey, shows its timeline and execution, and resumes it in the operator’s name', async () => {
    const browser = await operator();
    const pages = rt.endpoints.pages;
    expect(failedCase).toBeDefined();
    const caseId = failedCase as string;
    const attention = await browser.get(`${pages}/console/attention`);
    expect(attention.text).toContain(caseId);

    const timeline = await browser.get(`${pages}/console/cases/${caseId}`);
    expect(timeline.status).toBe(200);
    expect(timeline.text).toContain('SendingPausedException');
    expect(timeline.text).toContain(`/console/executions/journey/${caseId}`);
    const execution = await browser.get(`${pages}/console/executions/journey/${caseId}`);
    expect(execution.status).toBe(200);
    expect(execution.text).toContain('<svg');
    expect(execution.text).toContain('OpenGrantApproval');

    const csrf = /name="csrf" value="([^"]+)"/.exec(timeline.text)?.[1] ?? '';
    const resumed = await browser.postForm(
      `${pages}/console/cases/${caseId}/resume`,
      new URLSearchParams({ csrf }),
      timeline.url,
    );
    expect(resumed.status).toBe(200);
    expect(resumed.url).toContain(`/console/cases/${caseId}`);
    // A second click: one execution, one record.
    await browser.postForm(`${pages}/console/cases/${caseId}/resume`, new URLSearchParams({ csrf }), timeline.url);
    await rt.idle({ timeoutMs: 60_000 });

    const { getCase } = await import('#store/cases');
    const c = await getCase(caseId);
    expect(c.failure).toBeUndefined();
    expect(c.resumes).toHaveLength(1);
    expect(c.resumes?.[0]?.decidedBy.email).toBe(OPERATOR_EMAIL);
    expect(c.resumes?.[0]?.execution).toBe(`${caseId}-r2`);
    const names = listAllExecutions(rt.engine, rt.journeyArn)
      .filter((e) => e.name.startsWith(caseId))
      .map((e) => [e.name, e.status])
      .sort();
    expect(names).toEqual([
      [caseId, 'FAILED'],
      [`${caseId}-r2`, 'RUNNING'],
    ]);
    const after = await browser.get(`${pages}/console/attention`);
    expect(after.text).not.toContain(`/console/cases/${caseId}"`);
  });

  it("lists the intakes with the file each read, and gives each upload's report", async () => {
    const browser = await operator();
    const pages = rt.endpoints.pages;
    const list = await browser.get(`${pages}/console/intakes`);
    expect(list.text).toContain('3210 · usulan.csv');
    const link = /href="(\/console\/intakes\/[A-Za-z0-9_-]+\/report)"/.exec(list.text)?.[1];
    expect(link).toBeDefined();
    const report = await browser.get(`${pages}${link}`);
    expect(report.status).toBe(200);
    // The report ReadProposal wrote: its columns (a clean file has no row in it).
    const [header] = parse(report.text.replace(/^\ufeff/, '')) as string[][];
    expect(header).toEqual(['row', 'status', 'field', 'code', 'pesan', 'message']);
    const missing = await browser.get(`${pages}/console/intakes/no-such-intake/report`);
    expect(missing.status).toBe(404);
  });

  it('finds a case by its NIK typed in, sent in the body and never in a URL', async () => {
    const browser = await operator();
    const pages = rt.endpoints.pages;
    const cases = await casesInTable();
    const { unseal } = await import('#lib/secrets');
    const one = cases[0];
    if (!one) throw new Error('no case');
    const nik = (unseal(one.personal) as { nik: string }).nik;
    const home = await browser.get(`${pages}/console`);
    const csrf = /name="csrf" value="([^"]+)"/.exec(home.text)?.[1] ?? '';
    const found = await browser.postForm(`${pages}/console/search`, new URLSearchParams({ csrf, q: nik }), home.url);
    expect(found.url).toBe(`${pages}/console/cases/${one.caseId}`);
    expect(found.text).not.toContain(nik);
    const none = await browser.postForm(
      `${pages}/console/search`,
      new URLSearchParams({ csrf, q: '3210010101010001' }),
      home.url,
    );
    expect(none.status).toBe(404);
    expect(none.text).toContain('SEARCH_NOT_FOUND');
  });

  it('shows nothing to an officer or an approver, pages or API, and asks the signed-out to sign in', async () => {
    const pages = rt.endpoints.pages;
    const anonymous = await new Browser().get(`${pages}/console/cases`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.text).toContain('/signin?returnTo=');

    const officer = new Browser();
    await signInWithPassword(officer, pages, passwordOf(officerEmail('3210')), '/upload');
    const approver = new Browser();
    const approverEmail = accounts.find((a) => a.roles.includes('approver'))?.email ?? '';
    await signInWithCode(approver, pages, approverEmail, rt.outboxDir);
    for (const browser of [officer, approver]) {
      for (const path of ['/console', '/console/cases', '/console/funnel.csv', '/console/attention', '/console/intakes']) {
        const page = await browser.get(`${pages}${path}`);
        expect(page.status, path).toBe(403);
        expect(page.text).not.toContain('3210-2020-');
      }
      const home = await browser.get(`${pages}/`);
      const csrf = /name="csrf" value="([^"]+)"/.exec(home.text)?.[1] ?? '';
      const posted = await browser.postForm(`${pages}/console/search`, new URLSearchParams({ csrf, q: 'x' }), home.url);
      // The authorizer: only operators reach the console's POSTs.
      expect(posted.status).toBe(403);
      expect(posted.text).toBe('{"message":"Forbidden"}');
    }
  });
});
