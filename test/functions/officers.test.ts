/**
 * The officers' upload routes through the Pages Lambda, with HTTP API events, on dynalite
 * and the local S3 (the conditional writes of a submit and the presigned POST are the
 * point, so both are real; SES is mocked). Who may see what (nobody signed in, a signed-in
 * non-officer, an officer of another district), forged POSTs, the presigned POST's
 * policy, the check's verdicts against `prokus validate`'s, a double submit, and the
 * upload after the real ReadProposal ran on it.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useSecretForTests } from '#lib/secrets';
import { validateProposal } from '../../cli/validate.ts';
import { ensureTable, startDynamo } from '../../embedded/local/dynamodb.ts';
import type { Keyring } from '../../embedded/local/local-auth.ts';
import type { LocalService } from '../../embedded/local/ports.ts';
import { localS3Client, type ObjectCreated, startS3 } from '../../embedded/local/s3.ts';
import { TEST_SECRET } from '../helpers/fixtures.ts';
import { setTestEnv, TEST_ENV } from '../helpers/lambda.ts';
import { DAMAGED_CODE, DAMAGED_ROW, proposalWithDamagedRow } from '../helpers/officer-upload.ts';
import { personOf } from '../helpers/people.ts';

const ses = mockClient(SESv2Client);
const keyring: Keyring = {
  operator: { accessKeyId: 'LOCALOPERATORKEY0001', secretAccessKey: 'operator-secret-for-the-officer-test' },
  runtime: { accessKeyId: 'LOCALRUNTIMEKEY00001', secretAccessKey: 'runtime-secret-for-the-officer-test' },
};
const PAGES = TEST_ENV.PAGES_URL;
const BUCKET = TEST_ENV.BUCKET_NAME;
let dir: string;
let dynamo: LocalService;
let s3Service: LocalService;
const created: ObjectCreated[] = [];

type Handler = (e: APIGatewayProxyEventV2, c: Context) => Promise<APIGatewayProxyStructuredResultV2>;
let handler: Handler;
interface Visitor {
  cookie: string;
  csrf: string;
}
let officer: Visitor;
let otherDistrict: Visitor;
let approver: Visitor;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prokus-officers-'));
  setTestEnv();
  useSecretForTests(TEST_SECRET);
  dynamo = await startDynamo({ dir: join(dir, 'dynamodb'), keyring });
  await ensureTable(dynamo.endpoint, TEST_ENV.TABLE_NAME, keyring.runtime);
  s3Service = await startS3({
    dir: join(dir, 's3'),
    bucket: BUCKET,
    keyring,
    onObjectCreated: (o) => created.push(o),
    pagesOrigin: () => PAGES,
  });
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ENDPOINT_URL_S3: s3Service.endpoint,
    AWS_ACCESS_KEY_ID: keyring.runtime.accessKeyId,
    AWS_SECRET_ACCESS_KEY: keyring.runtime.secretAccessKey,
    AWS_REGION: 'ap-southeast-3',
  });
  ses.on(SendEmailCommand).resolves({ MessageId: 'm-1' });
  // Modules that create SDK clients, once the endpoints are set.
  handler = (await import('../../functions/pages.ts')).handler as unknown as Handler;
  const { createSession } = await import('#store/sessions');
  const signIn = async (email: string, roles: Parameters<typeof personOf>[1], districts: string[]) => {
    const { cookieValue, session } = await createSession(personOf(email, roles, districts));
    return { cookie: `prokus-session=${cookieValue}`, csrf: session.csrf };
  };
  // PAGES_URL is https here, so the cookie carries the __Host- prefix.
  const secure = async (v: Promise<Visitor>) => ({ ...(await v), cookie: `__Host-${(await v).cookie}` });
  officer = await secure(signIn('operator@dinsos-majalengka.example', ['officer'], ['3210']));
  otherDistrict = await secure(signIn('operator@dinsos-bantul.example', ['officer'], ['3402']));
  approver = await secure(signIn('kepala@dinsos-majalengka.example', ['approver'], ['3210']));
});

afterAll(async () => {
  await s3Service?.close();
  await dynamo?.close();
  await rm(dir, { recursive: true, force: true });
});

interface As {
  visitor?: Visitor | null;
  origin?: string;
  noToken?: boolean;
  query?: Record<string, string>;
}

function event(method: 'GET' | 'POST', path: string, form?: Record<string, string>, as: As = {}): APIGatewayProxyEventV2 {
  const visitor = as.visitor === undefined ? officer : as.visitor;
  const params = form && new URLSearchParams(form);
  if (params && visitor && !as.noToken && !params.has('csrf')) params.set('csrf', visitor.csrf);
  const body = params && String(params);
  return {
    ...(visitor ? { cookies: [visitor.cookie] } : {}),
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: as.query ? String(new URLSearchParams(as.query)) : '',
    ...(as.query ? { queryStringParameters: as.query } : {}),
    headers: {
      host: 'pages.example',
      ...(body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }),
      ...(method === 'POST' ? { origin: as.origin ?? PAGES } : {}),
    },
    requestContext: {
      accountId: '000000000000',
      apiId: 'pages',
      domainName: 'pages.example',
      domainPrefix: 'pages',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'vitest' },
      requestId: 'api-request',
      routeKey: '$default',
      stage: '$default',
      time: '01/Aug/2020:03:00:00 +0000',
      timeEpoch: 0,
    },
    ...(body === undefined ? {} : { body }),
    isBase64Encoded: false,
  };
}

async function call(e: APIGatewayProxyEventV2) {
  const r = await handler(e, {} as Context);
  return { status: r.statusCode ?? 0, headers: (r.headers ?? {}) as Record<string, string>, body: String(r.body ?? ''), raw: r };
}
const get = (path: string, as?: As) => call(event('GET', path, undefined, as));
const post = (path: string, form: Record<string, string>, as?: As) => call(event('POST', path, form, as));

const s3 = () => localS3Client(s3Service.endpoint, keyring.operator);
async function keysUnder(prefix: string): Promise<string[]> {
  const out = await s3().send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
  return (out.Contents ?? []).map((o) => o.Key ?? '');
}

/** The browser's part: the presigned POST to the bucket. */
async function sendFile(grant: { url: string; fields: Record<string, string> }, content: string, name = 'usulan.csv') {
  const form = new FormData();
  for (const [k, v] of Object.entries(grant.fields)) form.append(k, v);
  form.append('file', new Blob([content]), name);
  return fetch(grant.url, { method: 'POST', body: form, headers: { origin: PAGES } });
}

const FILE = proposalWithDamagedRow();

async function requestCheck(fileName = 'usulan-maret.csv', size = Buffer.byteLength(FILE)) {
  const res = await post('/uploads', { district: '3210', fileName, size: String(size) });
  expect(res.status).toBe(200);
  return JSON.parse(res.body) as { checkId: string; url: string; fields: Record<string, string>; check: string };
}

describe('who may open the upload pages', () => {
  it('nobody signed in is asked to sign in and come back to the same page', async () => {
    const res = await get('/upload', { visitor: null });
    expect(res.status).toBe(401);
    expect(res.body).toContain('href="/signin?returnTo=%2Fupload"');
    expect((await get('/uploads/abcdefghijklmnopqrstuv', { visitor: null })).body).toContain(
      'returnTo=%2Fuploads%2Fabcdefghijklmnopqrstuv',
    );
  });

  it('a signed-in person without the officer role gets 403', async () => {
    const res = await get('/upload', { visitor: approver });
    expect(res.status).toBe(403);
    expect(res.body).toContain('Akun Anda tidak memiliki peran petugas');
  });

  it('the officer sees their district, the template, the form with its token and a script allowed by hash only on this page', async () => {
    const res = await get('/upload');
    expect(res.status).toBe(200);
    expect(res.body).toContain('3210 Kab. Majalengka');
    expect(res.body).toContain('href="/upload/template"');
    expect(res.body).toContain(`name="csrf" value="${officer.csrf}"`);
    const csp = res.headers['content-security-policy'] ?? '';
    const script = /<script src="(\/assets\/[^"]+)" integrity="sha256-([^"]+)"/.exec(res.body);
    expect(script).not.toBeNull();
    expect(csp).toContain(`script-src 'sha256-${script?.[2]}'`);
    expect(csp).toContain(`connect-src 'self' ${new URL(s3Service.endpoint).origin}`);
    const asset = await get(script?.[1] ?? '', { visitor: null });
    expect(asset.status).toBe(200);
    expect(asset.headers['content-type']).toContain('javascript');
    const { createHash } = await import('node:crypto');
    expect(createHash('sha256').update(asset.body).digest('base64')).toBe(script?.[2]);
    // The other pages still run no script.
    expect((await get('/upload', { visitor: null })).headers['content-security-policy']).toContain("script-src 'none'");
  });

  it('speaks English on ?lang=en and remembers it in a cookie', async () => {
    const res = await get('/upload', { query: { lang: 'en' } });
    expect(res.body).toContain('<html lang="en">');
    expect(res.body).toContain('Past uploads');
    expect(res.body).not.toContain('Unggahan sebelumnya');
    expect(res.raw.cookies?.[0]).toMatch(/^prokus-lang=en; Path=\/;/);
  });

  it('serves the template `prokus template` writes, XLSX and CSV', async () => {
    const { templateCsv } = await import('#intake/template-file');
    const xlsx = await get('/upload/template');
    expect(xlsx.status).toBe(200);
    expect(xlsx.raw.isBase64Encoded).toBe(true);
    expect(Buffer.from(xlsx.body, 'base64').subarray(0, 2).toString()).toBe('PK');
    const csv = await get('/upload/template', { query: { format: 'csv' } });
    expect(csv.body).toBe(templateCsv());
    expect((await get('/upload/template', { visitor: null })).status).toBe(401);
  });
});

describe('POST /uploads: the presigned POST', () => {
  it("pins the exact key under the officer's district, the bucket and the size 1..100 MiB, and expires in minutes", async () => {
    const grant = await requestCheck();
    const policy = JSON.parse(Buffer.from(grant.fields.Policy ?? '', 'base64').toString('utf8')) as {
      expiration: string;
      conditions: unknown[];
    };
    const key = `checks/3210/${grant.checkId}/usulan-maret.csv`;
    expect(grant.fields.key).toBe(key);
    expect(policy.conditions).toContainEqual(['eq', '$key', key]);
    expect(policy.conditions).toContainEqual(['content-length-range', 1, 100 * 1024 * 1024]);
    expect(policy.conditions).toContainEqual({ bucket: BUCKET });
    const left = Date.parse(policy.expiration) - Date.now();
    expect(left).toBeGreaterThan(5 * 60_000);
    expect(left).toBeLessThanOrEqual(10 * 60_000);
    expect(grant.check).toBe(`/uploads/${grant.checkId}/check`);
  });

  it('refuses a forged request, another district, a bad name and a file over the limit, each with a code', async () => {
    const form = { district: '3210', fileName: 'usulan.csv', size: '100' };
    const code = async (r: Promise<{ status: number; body: string }>) => {
      const res = await r;
      return [res.status, (JSON.parse(res.body) as { error: { code: string } }).error.code];
    };
    expect(await code(post('/uploads', form, { noToken: true }))).toEqual([403, 'FORM_TOKEN_INVALID']);
    expect(await code(post('/uploads', form, { origin: 'https://evil.example' }))).toEqual([403, 'FORM_TOKEN_INVALID']);
    expect(await code(post('/uploads', { ...form, csrf: otherDistrict.csrf }))).toEqual([403, 'FORM_TOKEN_INVALID']);
    expect(await code(post('/uploads', { ...form, district: '3402' }))).toEqual([403, 'DISTRICT_NOT_YOURS']);
    expect(await code(post('/uploads', form, { visitor: approver }))).toEqual([403, 'DISTRICT_NOT_YOURS']);
    expect(await code(post('/uploads', { ...form, fileName: 'x.csv.report.csv' }))).toEqual([400, 'UPLOAD_FILE_NAME_INVALID']);
    expect(await code(post('/uploads', { ...form, fileName: '../3402/a.csv' }))).toEqual([400, 'UPLOAD_FILE_NAME_INVALID']);
    expect(await code(post('/uploads', { ...form, size: '0' }))).toEqual([400, 'FILE_EMPTY']);
    expect(await code(post('/uploads', { ...form, programYear: '1999' }))).toEqual([400, 'PROGRAM_YEAR_UNKNOWN']);
    expect(await code(post('/uploads', { ...form, size: String(100 * 1024 * 1024 + 1) }))).toEqual([413, 'FILE_TOO_LARGE']);
  });
});

describe('check, submit, and the upload it becomes', () => {
  let grant: Awaited<ReturnType<typeof requestCheck>>;
  let uploadPath: string;

  it('the file lands under checks/ and starts no intake; the check shows the damaged row as prokus validate does', async () => {
    grant = await requestCheck();
    expect((await sendFile(grant, FILE)).status).toBe(204);
    expect(await keysUnder('proposals/')).toEqual([]);
    const { isProposalUpload } = await import('../../embedded/local/s3.ts');
    expect(created.filter((o) => isProposalUpload(o.key))).toEqual([]);

    const res = await get(grant.check);
    expect(res.status).toBe(200);
    expect(res.body).toContain('2 diterima, 0 diterima dengan catatan, 1 ditolak');
    expect(res.body).toContain(`Baris ${DAMAGED_ROW}</strong>`);
    expect(res.body).not.toContain('Baris 2</strong>');

    // The same verdicts, codes and both messages `prokus validate` gives for the same file.
    const local = join(dir, 'usulan-maret.csv');
    await writeFile(local, FILE);
    const validation = await validateProposal({ file: local, district: '3210' }, 'json');
    const rejected = [];
    for await (const line of validation.rows.lines()) {
      const row = JSON.parse(line) as {
        row: number;
        status: string;
        errors: { code: string; message: { id: string; en: string } }[];
      };
      if (row.status !== 'accepted') rejected.push(row);
    }
    expect(rejected.map((r) => r.row)).toEqual([DAMAGED_ROW]);
    const finding = rejected[0]?.errors[0];
    expect(finding?.code).toBe(DAMAGED_CODE);
    const { escapeHtml } = await import('#web/html');
    expect(res.body).toContain(`<code>${DAMAGED_CODE}</code>`);
    expect(res.body).toContain(escapeHtml(finding?.message.id ?? '-'));
    expect(res.body).toContain(escapeHtml(finding?.message.en ?? '-'));
    // Nothing of the file's people on the page.
    expect(res.body).not.toContain('3210014508950012');
    expect(res.body).not.toContain('Siti Aminah');
  });

  it('an officer of another district cannot open, submit or discard it: the same 404 as an id that names nothing', async () => {
    const res = await get(grant.check, { visitor: otherDistrict });
    expect(res.status).toBe(404);
    const nothing = await get('/uploads/AAAAAAAAAAAAAAAAAAAAAA/check', { visitor: otherDistrict });
    // Alike but for the page's own address (in its language switch).
    expect(nothing.body.replace('AAAAAAAAAAAAAAAAAAAAAA', grant.checkId)).toBe(res.body);
    expect((await post(`/uploads/${grant.checkId}/submit`, { action: 'submit' }, { visitor: otherDistrict })).status).toBe(404);
    expect((await post(`/uploads/${grant.checkId}/submit`, { action: 'discard' }, { visitor: otherDistrict })).status).toBe(404);
    expect(await keysUnder(`checks/3210/${grant.checkId}/`)).toHaveLength(1);
  });

  it('a submit without the token, or from another origin, changes nothing', async () => {
    const noToken = await post(`/uploads/${grant.checkId}/submit`, { action: 'submit' }, { noToken: true });
    expect(noToken.status).toBe(403);
    expect(noToken.body).toContain('token formulir tidak cocok');
    const crossOrigin = await post(`/uploads/${grant.checkId}/submit`, { action: 'submit' }, { origin: 'https://evil.example' });
    expect(crossOrigin.status).toBe(403);
    expect(await keysUnder('proposals/')).toEqual([]);
  });

  it('submitting twice at once copies once: one upload, one intake trigger, the check file gone', async () => {
    const [a, b] = await Promise.all([
      post(`/uploads/${grant.checkId}/submit`, { action: 'submit' }),
      post(`/uploads/${grant.checkId}/submit`, { action: 'submit' }),
    ]);
    const answers = [a, b].map((r) => [r.status, r.headers.location]);
    const redirected = answers.filter(([s]) => s === 303);
    expect(redirected.length).toBeGreaterThanOrEqual(1);
    // The other either followed the same upload or was told it is being submitted.
    for (const [status, location] of answers) {
      if (status === 303) expect(location).toBe(redirected[0]?.[1]);
      else expect(status).toBe(409);
    }
    uploadPath = String(redirected[0]?.[1]);
    expect(uploadPath).toMatch(/^\/uploads\/[A-Za-z0-9_-]{22}$/);
    expect(await keysUnder('proposals/')).toEqual(['proposals/3210/usulan-maret.csv']);
    expect(created.filter((o) => o.key === 'proposals/3210/usulan-maret.csv')).toHaveLength(1);
    expect(await keysUnder('checks/3210/')).not.toContain(`checks/3210/${grant.checkId}/usulan-maret.csv`);
    // Later: the check page and a third submit lead to the same upload.
    expect((await get(grant.check)).headers.location).toBe(uploadPath);
    expect((await post(`/uploads/${grant.checkId}/submit`, { action: 'submit' })).headers.location).toBe(uploadPath);
    expect(created.filter((o) => o.key === 'proposals/3210/usulan-maret.csv')).toHaveLength(1);
    // The copy names the uploader for the intake's summary email.
    const copy = await s3().send(new GetObjectCommand({ Bucket: BUCKET, Key: 'proposals/3210/usulan-maret.csv' }));
    expect(copy.Metadata?.uploader).toBe('operator@dinsos-majalengka.example');
    // The year the file was checked for (the latest, chosen by default) goes with it to the intake.
    expect(copy.Metadata?.['program-year']).toBe('2024');
    expect(await copy.Body?.transformToString()).toBe(FILE);
  });

  it('the upload shows as being processed until the intake has read it, only to its district', async () => {
    const res = await get(uploadPath);
    expect(res.status).toBe(200);
    expect(res.body).toContain('Sedang diproses');
    expect((await get(uploadPath, { visitor: otherDistrict })).status).toBe(404);
    expect((await get(`${uploadPath}/report`)).status).toBe(404);
  });

  it('after ReadProposal: done with its counts, families per stage, the report to download; nothing for another district', async () => {
    const { readProposal } = await import('../../functions/read-proposal.ts');
    const intake = await readProposal({ bucket: BUCKET, key: 'proposals/3210/usulan-maret.csv' });
    expect(intake).toMatchObject({ accepted: 2, rejected: 1 });
    expect(uploadPath).toBe(`/uploads/${intake.uploadId}`);

    const res = await get(uploadPath);
    expect(res.body).toContain('2 diterima, 1 ditolak');
    expect(res.body).toMatch(/Verifikasi<\/td><td class="n">2<\/td>/);
    expect(res.body).toMatch(/Jumlah<\/th><td class="n">2<\/td>/);

    const report = await get(`${uploadPath}/report`);
    expect(report.status).toBe(200);
    expect(report.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(report.headers['content-disposition']).toContain('usulan-maret.csv.report.csv');
    expect(report.body).toContain(DAMAGED_CODE);
    expect((await get(`${uploadPath}/report`, { visitor: otherDistrict })).status).toBe(404);

    const list = await get('/upload');
    expect(list.body).toContain(`href="${uploadPath}"`);
    expect(list.body).toContain('Verifikasi: 2');
    const theirs = await get('/upload', { visitor: otherDistrict });
    expect(theirs.body).not.toContain(uploadPath);
    expect(theirs.body).not.toContain('usulan-maret.csv');
  });

  it('a file checked for another program year is checked and submitted for that year', async () => {
    const res = await post('/uploads', {
      district: '3210',
      fileName: 'usulan-2020.csv',
      size: String(Buffer.byteLength(FILE)),
      programYear: '2020',
    });
    const grant = JSON.parse(res.body) as { checkId: string; url: string; fields: Record<string, string>; check: string };
    expect((await sendFile(grant, proposalWithDamagedRow(60))).status).toBe(204);
    const check = await get(grant.check);
    expect(check.body).toMatch(/Tahun program<\/dt><dd>2020<\/dd>/);
    const submitted = await post(`/uploads/${grant.checkId}/submit`, { action: 'submit' });
    expect(submitted.status).toBe(303);
    const copy = await s3().send(new GetObjectCommand({ Bucket: BUCKET, Key: 'proposals/3210/usulan-2020.csv' }));
    expect(copy.Metadata?.['program-year']).toBe('2020');
  });

  it('a file name with spaces, brackets and accents arrives under that name', async () => {
    const name = 'Usulan Maret (final) – Sutéjo.csv';
    const grant = await requestCheck(name);
    expect((await sendFile(grant, proposalWithDamagedRow(80), name)).status).toBe(204);
    expect((await get(grant.check)).status).toBe(200);
    const submitted = await post(`/uploads/${grant.checkId}/submit`, { action: 'submit' });
    expect(submitted.status).toBe(303);
    expect(await keysUnder(`proposals/3210/Usulan Maret`)).toEqual([`proposals/3210/${name}`]);
    const page = await get(String(submitted.headers.location));
    expect(page.body).toContain('Usulan Maret (final) – Sutéjo.csv');
  });

  it('discarding a check deletes its file; the check then says so and cannot be submitted', async () => {
    const other = await requestCheck('usulan-april.csv');
    expect((await sendFile(other, FILE)).status).toBe(204);
    const discarded = await post(`/uploads/${other.checkId}/submit`, { action: 'discard' });
    expect(discarded.status).toBe(410);
    expect(await keysUnder(`checks/3210/${other.checkId}/`)).toEqual([]);
    expect((await post(`/uploads/${other.checkId}/submit`, { action: 'submit' })).status).toBe(410);
    expect(await keysUnder('proposals/3210/usulan-april')).toEqual([]);
  });

  it('a check whose file never arrived says so instead of failing', async () => {
    const never = await requestCheck('usulan-mei.csv');
    const res = await get(never.check);
    expect(res.status).toBe(410);
    expect(res.body).toContain('Unggah lagi');
  });
});
