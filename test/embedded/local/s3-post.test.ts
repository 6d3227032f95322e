/**
 * The local S3 takes a browser's presigned POST as S3 does: a valid one lands (and is
 * reported like any write), and it refuses a wrong key, a file over the policy's size, an
 * expired or tampered policy, a credential it does not know and fields the policy does
 * not cover, with S3's XML error codes. CORS only for the pages' origin, only for the
 * bucket's POST.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { createPresignedPost, type PresignedPost } from '@aws-sdk/s3-presigned-post';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Keyring } from '../../../embedded/local/local-auth.ts';
import type { LocalService } from '../../../embedded/local/ports.ts';
import { localS3Client, type ObjectCreated, startS3 } from '../../../embedded/local/s3.ts';
import { signingKey } from '../../../embedded/local/s3-post.ts';

const keyring: Keyring = {
  operator: { accessKeyId: 'LOCALOPERATORKEY0001', secretAccessKey: 'operator-secret-for-the-post-test' },
  runtime: { accessKeyId: 'LOCALRUNTIMEKEY00001', secretAccessKey: 'runtime-secret-for-the-post-test' },
};
const BUCKET = 'prokus-local';
const PAGES = 'http://127.0.0.1:48080';
let dir: string;
let service: LocalService;
const created: ObjectCreated[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prokus-s3-post-'));
  service = await startS3({
    dir,
    bucket: BUCKET,
    keyring,
    onObjectCreated: (o) => created.push(o),
    pagesOrigin: () => PAGES,
  });
});

afterAll(async () => {
  await service?.close();
  await rm(dir, { recursive: true, force: true });
});

const client = () => localS3Client(service.endpoint, keyring.runtime);

function presign(key: string, max = 1024, expires = 600): Promise<PresignedPost> {
  return createPresignedPost(client(), {
    Bucket: BUCKET,
    Key: key,
    Conditions: [
      ['eq', '$key', key],
      ['content-length-range', 1, max],
    ],
    Expires: expires,
  });
}

async function post(p: PresignedPost, file: string, change: Record<string, string> = {}, origin?: string) {
  const form = new FormData();
  for (const [k, v] of Object.entries({ ...p.fields, ...change })) form.append(k, v);
  form.append('file', new Blob([file]), 'usulan.csv');
  const res = await fetch(p.url, { method: 'POST', body: form, headers: origin ? { origin } : {} });
  const text = await res.text();
  return { status: res.status, code: /<Code>([^<]+)<\/Code>/.exec(text)?.[1], text, headers: res.headers };
}

async function exists(key: string): Promise<boolean> {
  try {
    await client().send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    return true;
  } catch {
    return false;
  }
}

describe('presigned POST on the local S3', () => {
  it('a valid POST lands: the object holds the file and is reported like any write', async () => {
    const key = 'checks/3210/abc123/usulan.csv';
    const res = await post(await presign(key), 'nik;no_kk\r\n1;2\r\n');
    expect(res.status).toBe(204);
    expect(res.headers.get('etag')).toMatch(/^"[0-9a-f]{32}"$/);
    const out = await client().send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    expect(await out.Body?.transformToString()).toBe('nik;no_kk\r\n1;2\r\n');
    expect(out.ETag).toBe(res.headers.get('etag'));
    expect(created.find((o) => o.key === key)).toMatchObject({ bucket: BUCKET, eTag: out.ETag?.replaceAll('"', '') });
  });

  it('a key other than the policy pins is refused (AccessDenied), and nothing is stored', async () => {
    const res = await post(await presign('checks/3210/abc124/usulan.csv'), 'x', { key: 'proposals/3210/usulan.csv' });
    expect(res).toMatchObject({ status: 403, code: 'AccessDenied' });
    expect(res.text).toContain('Policy Condition failed');
    expect(await exists('proposals/3210/usulan.csv')).toBe(false);
  });

  it('a file over content-length-range is refused (EntityTooLarge), and nothing is stored', async () => {
    const key = 'checks/3210/abc125/big.csv';
    const res = await post(await presign(key, 10), 'x'.repeat(11));
    expect(res).toMatchObject({ status: 400, code: 'EntityTooLarge' });
    expect(await exists(key)).toBe(false);
    // At the limit it fits.
    expect((await post(await presign(key, 10), 'x'.repeat(10))).status).toBe(204);
  });

  it('an empty file is refused when the range starts at 1 (EntityTooSmall)', async () => {
    const key = 'checks/3210/abc126/empty.csv';
    const res = await post(await presign(key), '');
    expect(res).toMatchObject({ status: 400, code: 'EntityTooSmall' });
    expect(await exists(key)).toBe(false);
  });

  it('an expired policy is refused (AccessDenied "Policy expired")', async () => {
    const key = 'checks/3210/abc127/late.csv';
    const p = await presign(key, 1024, 1);
    await new Promise((r) => setTimeout(r, 1_100));
    const res = await post(p, 'x');
    expect(res).toMatchObject({ status: 403, code: 'AccessDenied' });
    expect(res.text).toContain('Policy expired');
    expect(await exists(key)).toBe(false);
  });

  it('a tampered policy (a bigger size, its signature kept) is refused (SignatureDoesNotMatch)', async () => {
    const key = 'checks/3210/abc128/tampered.csv';
    const p = await presign(key, 5);
    const policy = JSON.parse(Buffer.from(p.fields.Policy ?? '', 'base64').toString('utf8'));
    policy.conditions = policy.conditions.map((c: unknown) =>
      Array.isArray(c) && c[0] === 'content-length-range' ? [c[0], 1, 10_000] : c,
    );
    const res = await post(p, 'x'.repeat(100), { Policy: Buffer.from(JSON.stringify(policy)).toString('base64') });
    expect(res).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });
    expect(await exists(key)).toBe(false);
  });

  it('a policy signed with a key the data folder does not hold is refused (InvalidAccessKeyId / SignatureDoesNotMatch)', async () => {
    const key = 'checks/3210/abc129/foreign.csv';
    const p = await presign(key);
    const credential = String(p.fields['X-Amz-Credential']).replace(keyring.runtime.accessKeyId, 'AKIASOMEONEELSE00000');
    expect((await post(p, 'x', { 'X-Amz-Credential': credential })).code).toBe('InvalidAccessKeyId');
    // Known key id, policy re-signed with a wrong secret.
    const [, date, region] = String(p.fields['X-Amz-Credential']).split('/');
    const forged = (await import('node:crypto'))
      .createHmac('sha256', signingKey('not-the-secret', date ?? '', region ?? '', 's3'))
      .update(p.fields.Policy ?? '')
      .digest('hex');
    expect((await post(p, 'x', { 'X-Amz-Signature': forged })).code).toBe('SignatureDoesNotMatch');
    expect(await exists(key)).toBe(false);
  });

  it('a form field the policy does not cover is refused, as S3 does', async () => {
    const key = 'checks/3210/abc130/extra.csv';
    const res = await post(await presign(key), 'x', { 'x-amz-meta-uploader': 'someone@example.org' });
    expect(res).toMatchObject({ status: 403, code: 'AccessDenied' });
    expect(res.text).toContain('Extra input fields: x-amz-meta-uploader');
  });

  it('an unsigned POST (no policy) is refused, not stored as s3rver would', async () => {
    const form = new FormData();
    form.append('key', 'proposals/3210/unsigned.csv');
    form.append('file', new Blob(['x']), 'unsigned.csv');
    const res = await fetch(`${service.endpoint}/${BUCKET}`, { method: 'POST', body: form });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('<Code>InvalidArgument</Code>');
    expect(await exists('proposals/3210/unsigned.csv')).toBe(false);
  });
});

describe('CORS on the local S3', () => {
  const preflight = (origin: string, headers: Record<string, string> = {}) =>
    fetch(`${service.endpoint}/${BUCKET}`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', ...headers },
    });

  it("answers the pages' preflight for POST on the bucket, and nobody else's", async () => {
    const ok = await preflight(PAGES);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe(PAGES);
    expect(ok.headers.get('access-control-allow-methods')).toBe('POST');
    const other = await preflight('http://evil.example');
    expect(other.status).toBe(403);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    expect(await other.text()).toContain('<Code>AccessForbidden</Code>');
    // Headers the upload never sends are not allowed either.
    expect((await preflight(PAGES, { 'access-control-request-headers': 'x-amz-date' })).status).toBe(403);
  });

  it("the POST's answer lets the pages read it; signed SDK calls still carry no CORS header", async () => {
    const res = await post(await presign('checks/3210/abc131/cors.csv'), 'x', {}, PAGES);
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(PAGES);
    const foreign = await post(await presign('checks/3210/abc132/cors.csv'), 'x', {}, 'http://evil.example');
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
    const head = await fetch(`${service.endpoint}/${BUCKET}/checks/3210/abc131/cors.csv`, { headers: { origin: PAGES } });
    expect(head.status).toBe(403);
    expect(head.headers.get('access-control-allow-origin')).toBeNull();
  });
});
