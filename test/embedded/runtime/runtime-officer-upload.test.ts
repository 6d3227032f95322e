/**
 * An officer's upload through the pages on the embedded runtime, over HTTP: signed in
 * with a password through the embedded provider, the presigned POST to the local S3 (as
 * the page script sends it, with the pages' Origin), the check with the damaged row's
 * verdict, the submit, and the upload becoming journeys. An officer of another district
 * gets 404 on every one of its URLs.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, inputValue, signInWithPassword } from '../../../cli/browser.ts';
import { addAccount } from '../../../embedded/runtime/accounts.ts';
import { type Runtime, startRuntime } from '../../../embedded/runtime/index.ts';
import { DAMAGED_CODE, DAMAGED_ROW, proposalWithDamagedRow } from '../../helpers/officer-upload.ts';

let dir: string;
let rt: Runtime;
const officer = { email: 'petugas@dinsos-majalengka.example', password: '' };
const other = { email: 'petugas@dinsos-bantul.example', password: '' };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prokus-runtime-officer-'));
  rt = await startRuntime({ dataDir: join(dir, 'data'), port: 0, quiet: true });
  officer.password =
    (await addAccount(rt.accountsFile, { email: officer.email, roles: ['officer'], districts: ['3210'] })).password ?? '';
  other.password =
    (await addAccount(rt.accountsFile, { email: other.email, roles: ['officer'], districts: ['3402'] })).password ?? '';
}, 60_000);

afterAll(async () => {
  await rt?.stop();
  await rm(dir, { recursive: true, force: true });
});

const pages = () => rt.endpoints.pages;

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('an officer uploads on the page (embedded runtime)', () => {
  it('signs in, checks a file with a damaged row, submits it, and watches it become journeys; another district sees nothing', async () => {
    const browser = new Browser();
    const page = await signInWithPassword(browser, pages(), officer, '/upload');
    expect(page.url).toBe(`${pages()}/upload`);
    expect(page.text).toContain('3210 Kab. Majalengka');
    const csrf = inputValue(page.text, 'csrf') ?? '';

    const file = proposalWithDamagedRow();
    const asked = await browser.postForm(
      `${pages()}/uploads`,
      new URLSearchParams({ csrf, district: '3210', fileName: 'usulan-juni.csv', size: String(Buffer.byteLength(file)) }),
      page.url,
    );
    expect(asked.status).toBe(200);
    const grant = JSON.parse(asked.text) as { url: string; fields: Record<string, string>; check: string; checkId: string };
    expect(grant.url).toBe(`${rt.endpoints.s3}/prokus-local`);

    // The page script's part: the file straight to the bucket, from the pages' origin.
    const form = new FormData();
    for (const [k, v] of Object.entries(grant.fields)) form.append(k, v);
    form.append('file', new Blob([file]), 'usulan-juni.csv');
    const sent = await fetch(grant.url, { method: 'POST', body: form, headers: { origin: new URL(pages()).origin } });
    expect(sent.status).toBe(204);
    expect(sent.headers.get('access-control-allow-origin')).toBe(new URL(pages()).origin);

    const check = await browser.get(`${pages()}${grant.check}`);
    expect(check.status).toBe(200);
    expect(check.text).toContain(`Baris ${DAMAGED_ROW}</strong>`);
    expect(check.text).toContain(`<code>${DAMAGED_CODE}</code>`);
    expect(check.text).toContain('2 diterima, 0 diterima dengan catatan, 1 ditolak');

    // Another district's officer: nothing of it, whatever URL they type.
    const stranger = new Browser();
    await signInWithPassword(stranger, pages(), other, '/upload');
    const strangerCsrf = inputValue((await stranger.get(`${pages()}/upload`)).text, 'csrf') ?? '';
    expect((await stranger.get(`${pages()}${grant.check}`)).status).toBe(404);
    const theirSubmit = await stranger.postForm(
      `${pages()}/uploads/${grant.checkId}/submit`,
      new URLSearchParams({ csrf: strangerCsrf, action: 'submit' }),
      `${pages()}/upload`,
    );
    expect(theirSubmit.status).toBe(404);

    const submitted = await browser.postForm(
      `${pages()}/uploads/${grant.checkId}/submit`,
      new URLSearchParams({ csrf, action: 'submit' }),
      check.url,
    );
    expect(submitted.status).toBe(200);
    expect(submitted.url).toMatch(new RegExp(`^${pages()}/uploads/[A-Za-z0-9_-]{22}$`));
    const uploadUrl = submitted.url;

    // The intake runs: the upload is read, its two families registered, their journeys started.
    const done = await until('the upload to be read and its families registered', async () => {
      const p = await browser.get(uploadUrl);
      return p.text.includes('2 diterima, 1 ditolak') && /Jumlah<\/th><td class="n">2<\/td>/.test(p.text) ? p : undefined;
    });
    expect(done.text).toContain('Unduh laporan hasil (CSV)');
    const report = await browser.get(`${uploadUrl}/report`);
    expect(report.status).toBe(200);
    expect(report.text).toContain(DAMAGED_CODE);
    const sfn = new SFNClient({ endpoint: rt.endpoints.sfn, region: 'ap-southeast-3', credentials: rt.credentials });
    const journeys = await until('the journeys to start', async () => {
      const { executions = [] } = await sfn.send(new ListExecutionsCommand({ stateMachineArn: rt.journeyArn }));
      return executions.length >= 2 ? executions : undefined;
    });
    sfn.destroy();
    expect(journeys.map((e) => e.name?.slice(0, 10))).toEqual(['3210-2024-', '3210-2024-']);

    expect((await stranger.get(uploadUrl)).status).toBe(404);
    expect((await stranger.get(`${uploadUrl}/report`)).status).toBe(404);
    expect((await stranger.get(`${pages()}/upload`)).text).not.toContain('usulan-juni.csv');
    expect((await browser.get(`${pages()}/upload`)).text).toContain('usulan-juni.csv');
  }, 90_000);
});
