/**
 * The Pages Lambda through real HTTP API events: each page kind (grant approval,
 * milestone report, financing outcome), GET shows and POST decides, forged, expired and
 * used links, form errors, double submits. Over 400 lines on purpose: one handler's
 * behaviours over one set of mocked stores and fixtures, read top to bottom.
 */
import { createHash, randomBytes } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Case, Personal } from '#domain/case';
import { maskId } from '#domain/nik';
import { seal, signLink, useSecretForTests } from '#lib/secrets';
import type { Request } from '#requests/requests';
import { handler } from '../../functions/pages.ts';
import { caseWrites, transactThrough } from '../helpers/case-writes.ts';
import { decidedByOf } from '../helpers/people.ts';

const ddb = mockClient(DynamoDBDocumentClient);
const sfn = mockClient(SFNClient);

process.env.TABLE_NAME = 'prokus-test';
process.env.PAGES_URL = 'https://pages.example';
useSecretForTests('a-test-secret-long-enough-for-hkdf-0123456789');

const NIK = '3210014507900012';
const KK = '3210010101010001';
const TASK_TOKEN = 'task-token-that-must-stay-in-dynamodb';
const FUTURE = '2099-01-01T00:00:00.000Z';

// ---- a small in-memory table behind the DynamoDB mock: Get and conditional Update ----

const table = new Map<string, Record<string, unknown>>();
const keyOf = (k: Record<string, unknown> | undefined) => `${String(k?.pk)}|${String(k?.sk)}`;

function holds(condition: string, item: Record<string, unknown> | undefined, input: UpdateCommandInput): boolean {
  const names = input.ExpressionAttributeNames ?? {};
  const values = input.ExpressionAttributeValues ?? {};
  const attr = (token: string) => (token.startsWith('#') ? names[token] : token) ?? token;
  const atom = (a: string): boolean => {
    const fn = /^(attribute_exists|attribute_not_exists)\((.+)\)$/.exec(a);
    if (fn) return (fn[1] === 'attribute_exists') === (item?.[attr(fn[2] ?? '')] !== undefined);
    const [lhs = '', rhs = ''] = a.split(' = ');
    return item?.[attr(lhs)] === values[rhs];
  };
  return condition.split(' AND ').every((clause) =>
    clause
      .replace(/^\(|\)$/g, '')
      .split(' OR ')
      .some((a) => atom(a.trim())),
  );
}

function update(input: UpdateCommandInput) {
  const k = keyOf(input.Key);
  const item = table.get(k);
  if (input.ConditionExpression && !holds(input.ConditionExpression, item, input)) {
    throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
  }
  const names = input.ExpressionAttributeNames ?? {};
  const values = input.ExpressionAttributeValues ?? {};
  const next: Record<string, unknown> = { ...item };
  for (const assignment of (input.UpdateExpression ?? '').replace(/^SET /, '').split(', ')) {
    const [lhs = '', rhs = ''] = assignment.split(' = ');
    next[lhs.startsWith('#') ? (names[lhs] ?? lhs) : lhs] = values[rhs];
  }
  table.set(k, next);
  return { Attributes: next };
}

/**
 * The quota item's one update, as DynamoDB evaluates it: `ADD cases :case` under
 * `attribute_not_exists(cases) OR (size(cases) < :quota AND NOT contains(cases, :id))`.
 */
const QUOTA_KEY = 'QUOTA#3210#2020|QUOTA';
function reserve(input: UpdateCommandInput) {
  const values = input.ExpressionAttributeValues ?? {};
  const cases = table.get(keyOf(input.Key))?.cases as Set<string> | undefined;
  const id = String(values[':id']);
  if (cases && !(cases.size < Number(values[':quota']) && !cases.has(id))) {
    throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
  }
  table.set(keyOf(input.Key), { ...input.Key, cases: new Set([...(cases ?? []), ...(values[':case'] as Set<string>)]) });
  return {};
}

/** The district quota of 2020 (200 for 3210) used up by other families. */
function useUpQuota() {
  const others = Array.from({ length: 200 }, (_, i) => `3210-2020-other${i}`);
  table.set(QUOTA_KEY, { pk: 'QUOTA#3210#2020', sk: 'QUOTA', cases: new Set(others) });
}
const reserved = () => (table.get(QUOTA_KEY)?.cases as Set<string> | undefined) ?? new Set<string>();

// ---- fixtures ----

const personal: Personal = {
  nik: NIK,
  kk: KK,
  nama: 'Siti Aminah',
  tanggalLahir: '1990-07-05',
  jenisKelamin: 'P',
  alamat: 'Jl. Melati No. 5',
  kecamatan: 'Majalengka',
  desa: 'Cicenang',
  noHp: '081234567890',
};

function putCase(overrides: Partial<Case> = {}, who: Partial<Personal> = {}): Case {
  const c: Case = {
    caseId: '3210-2020-0123456789abcdef0123',
    district: '3210',
    programYear: 2020,
    stage: 'grant-approval',
    nikHash: 'nikhash',
    kkHash: 'kkhash',
    nikMasked: maskId(NIK),
    personal: seal({ ...personal, ...who }),
    business: { type: 'Kuliner', description: 'Keripik singkong pedas', months: 18, monthlyRevenue: 1_200_000 },
    proposal: { uploadId: 'u1', key: 'proposals/3210/usulan.csv', row: 2, proposedAt: '2020-08-01T02:00:00.000Z' },
    intakeWarnings: [],
    journeyRuns: 1,
    verification: {
      eligible: true,
      reasons: [],
      explanation: [
        { id: 'Lulus dari PKH pada 2019-12-01', en: 'Graduated from PKH on 2019-12-01' },
        { id: 'Desil 2 termasuk desil yang diizinkan', en: 'Decile 2 is an allowed decile' },
      ],
      ruleVersion: '2020.1',
      at: '2020-08-01T03:00:00.000Z',
    },
    milestones: {},
    createdAt: '2020-08-01T02:00:00.000Z',
    updatedAt: '2020-08-01T03:00:00.000Z',
    ...overrides,
  };
  table.set(`CASE#${c.caseId}|CASE`, { pk: `CASE#${c.caseId}`, sk: 'CASE', ...c });
  return c;
}

function putRequest(c: Case, overrides: Partial<Request> = {}): string {
  const r: Request = {
    requestId: 'reqGrantApproval0000001',
    kind: 'grant-approval',
    caseId: c.caseId,
    recipient: 'approver@dinsos-majalengka.example',
    status: 'open',
    openedAt: '2020-08-01T03:00:00.000Z',
    deadline: FUTURE,
    reminders: 0,
    taskToken: TASK_TOKEN,
    ...overrides,
  };
  table.set(`REQUEST#${r.requestId}|REQUEST`, { pk: `REQUEST#${r.requestId}`, sk: 'REQUEST', ...r });
  recipient = r.recipient;
  return `${r.requestId}.${signLink(r.requestId)}`;
}

// ---- who is signed in: a session item as store/sessions.ts writes it, and its cookie ----

const RECIPIENT = 'approver@dinsos-majalengka.example';
/** The recipient of the request put last: the person signed in unless a test says otherwise. */
let recipient = RECIPIENT;

/** Stores a session for `email` in the table and returns what the browser holds: the cookie and the form token. */
function signIn(email: string): { cookie: string; csrf: string } {
  const cookieValue = randomBytes(32).toString('base64url');
  const csrf = randomBytes(32).toString('base64url');
  const hash = createHash('sha256').update(cookieValue).digest('base64url');
  table.set(`SESSION#${hash}|SESSION`, {
    pk: `SESSION#${hash}`,
    sk: 'SESSION',
    person: { sub: `sub-${email}`, email, roles: ['approver'], districts: ['3210'] },
    csrf,
    createdAt: '2020-08-01T00:00:00.000Z',
    expiresAt: FUTURE,
  });
  return { cookie: `__Host-prokus-session=${cookieValue}`, csrf };
}

interface As {
  /** The browser's session; omitted: the recipient's. `null`: nobody signed in. */
  session?: { cookie: string; csrf: string } | null;
  origin?: string;
  /** Leave the anti-forgery token out of the form. */
  noToken?: boolean;
}

// ---- HTTP API v2 events ----

function event(
  method: 'GET' | 'POST',
  path: string,
  form?: string | URLSearchParams,
  base64 = false,
  as: As = {},
): APIGatewayProxyEventV2 {
  const session = as.session === undefined ? signIn(recipient) : as.session;
  if (form instanceof URLSearchParams && session && !as.noToken && !form.has('csrf')) form.set('csrf', session.csrf);
  const body = form === undefined ? undefined : String(form);
  return {
    ...(session ? { cookies: [session.cookie] } : {}),
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers: {
      host: 'pages.example',
      'user-agent': 'vitest',
      ...(body === undefined ? {} : { 'Content-Type': 'application/x-www-form-urlencoded' }),
      ...(method === 'POST' ? { Origin: as.origin ?? 'https://pages.example' } : {}),
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
    body: body !== undefined && base64 ? Buffer.from(body).toString('base64') : body,
    isBase64Encoded: base64,
  };
}

async function call(e: APIGatewayProxyEventV2) {
  const result = (await handler(e, {} as Context)) as APIGatewayProxyStructuredResultV2;
  return { status: result.statusCode, headers: result.headers ?? {}, body: String(result.body) };
}

const get = (token: string, as: As = {}) => call(event('GET', `/r/${token}`, undefined, false, as));
const post = (token: string, form: Record<string, string | string[]>, base64 = false, as: As = {}) => {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(form)) for (const one of [v].flat()) params.append(k, one);
  return call(event('POST', `/r/${token}`, params, base64, as));
};

function expectNothingPersonalLeaks(body: string) {
  expect(body).not.toContain(NIK);
  expect(body).not.toContain(KK);
  expect(body).not.toContain(TASK_TOKEN);
  expect(body).not.toContain(personal.alamat);
  expect(body).not.toContain(personal.noHp);
}

function expectNoWrites() {
  expect(ddb).not.toHaveReceivedCommand(UpdateCommand);
  expect(caseWrites(ddb)).toHaveLength(0);
  expect(sfn).not.toHaveReceivedCommand(SendTaskSuccessCommand);
  expect(sfn).not.toHaveReceivedCommand(SendTaskFailureCommand);
}

beforeEach(() => {
  table.clear();
  ddb.reset();
  sfn.reset();
  ddb.on(GetCommand).callsFake((input: { Key: Record<string, unknown> }) => ({ Item: table.get(keyOf(input.Key)) }));
  ddb.on(UpdateCommand).callsFake(update);
  ddb.on(UpdateCommand, { Key: { pk: 'QUOTA#3210#2020', sk: 'QUOTA' } }).callsFake(reserve);
  // A case write that moves the funnel goes in a transaction with its counter: the case's part lands in the table.
  transactThrough(ddb, ({ Update }) => Update && update(Update));
  sfn.on(SendTaskSuccessCommand).resolves({});
  sfn.on(SendTaskFailureCommand).resolves({});
});

describe('grant approval page', () => {
  it('shows the approver the family, the business and the verification in both languages, without deciding', async () => {
    const c = putCase({ intakeWarnings: ['Tanggal lahir berbeda dengan NIK / Birth date differs from the NIK'] });
    const res = await get(putRequest(c));

    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    for (const text of [
      'Siti Aminah',
      '3210********0012',
      'Kab. Majalengka',
      c.caseId,
      'Keripik singkong pedas',
      '18 bulan',
      '18 months',
      'Rp1.200.000',
      'Rp3.500.000',
      'Memenuhi syarat',
      'Graduated from PKH on 2019-12-01',
      'Desil 2 termasuk desil yang diizinkan',
      'Birth date differs from the NIK',
      'Persetujuan bantuan modal usaha',
      'Business capital grant approval',
      'Setujui bantuan',
      'Approve the grant',
      'Tolak bantuan',
      'Reject the grant',
      'SUDAH_MENERIMA_BANTUAN_LAIN',
      'Already receives other business aid',
      'Batas waktu keputusan',
      'Decision deadline',
    ]) {
      expect(res.body).toContain(text);
    }
    expect(res.body).toContain('<form method="post"');
    expect(res.body).not.toMatch(/<script/i);
    expectNothingPersonalLeaks(res.body);
    expectNoWrites();
  });

  it('answers with headers that keep the link from leaking and forbid scripts and framing', async () => {
    const res = await get(putRequest(putCase()));
    expect(res.headers['content-security-policy']).toMatch(/default-src 'self'/);
    expect(res.headers['content-security-policy']).toMatch(/script-src 'none'/);
    expect(res.headers['content-security-policy']).toMatch(/style-src 'sha256-[A-Za-z0-9+/=]+'/);
    expect(res.headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('approving records the decision, moves the case to disbursement and resumes the journey', async () => {
    const c = putCase();
    const token = putRequest(c);
    const res = await post(token, { decision: 'approved', reasonCode: '', reason: '' });

    expect(res.status).toBe(200);
    expect(res.body).toContain('Keputusan tercatat');
    expect(res.body).toContain('Decision recorded');
    expect(res.body).toContain('The grant of Rp3.500.000 will be disbursed');
    expect(caseWrites(ddb)).toContainEqual(
      expect.objectContaining({
        Key: { pk: `CASE#${c.caseId}`, sk: 'CASE' },
        ExpressionAttributeValues: expect.objectContaining({ ':newStage': 'disbursement' }),
      }),
    );
    expect(table.get(`CASE#${c.caseId}|CASE`)).toMatchObject({
      stage: 'disbursement',
      grantApproval: {
        decision: 'approved',
        // The signed-in person, from the session, and the page request that carried the decision.
        decidedBy: { sub: 'sub-approver@dinsos-majalengka.example', email: RECIPIENT, pageRequestId: 'api-request' },
        quota: 'reserved',
      },
    });
    expect(res.body).toContain('Recorded in the name of approver@dinsos-majalengka.example');
    // The promise on the page is backed by a reservation made before the page answered.
    expect([...reserved()]).toEqual([c.caseId]);
    expect(sfn).toHaveReceivedCommandWith(SendTaskSuccessCommand, { taskToken: TASK_TOKEN });
    expect(sfn).not.toHaveReceivedCommand(SendTaskFailureCommand);
    expectNothingPersonalLeaks(res.body);
  });

  it('approving when the district quota is used up says plainly that the family will not get the grant', async () => {
    useUpQuota();
    const c = putCase();
    const res = await post(putRequest(c), { decision: 'approved' });

    expect(res.status).toBe(200);
    expect(res.body).toContain('Keputusan tercatat');
    for (const text of [
      'Persetujuan tercatat, tetapi kuota bantuan sudah habis.',
      'The approval is recorded, but the grant quota is used up.',
      'Kuota bantuan Kab. Majalengka untuk tahun program 2020 sudah terpakai seluruhnya, sehingga keluarga ini tidak akan menerima bantuan.',
      'The grant quota of Kab. Majalengka for program year 2020 is already used up, so this family will not receive the grant.',
      'Kasus ini akan ditutup karena kuota habis.',
      'The case will be closed because the quota is used up.',
    ]) {
      expect(res.body).toContain(text);
    }
    expect(res.body).not.toContain('will be disbursed');
    expect(res.body).not.toContain('akan dicairkan');
    // Nothing reserved for this family, the case does not move to disbursement, and the
    // journey is told why, so it closes the case quota-exhausted.
    expect(reserved().size).toBe(200);
    expect(reserved().has(c.caseId)).toBe(false);
    expect(table.get(`CASE#${c.caseId}|CASE`)).toMatchObject({
      stage: 'grant-approval',
      grantApproval: { decision: 'approved', quota: 'exhausted' },
    });
    expect(sfn).toHaveReceivedCommandWith(SendTaskFailureCommand, { taskToken: TASK_TOKEN, error: 'QuotaExhaustedError' });
    expect(sfn).not.toHaveReceivedCommand(SendTaskSuccessCommand);
    expectNothingPersonalLeaks(res.body);
  });

  it('accepts the form body base64-encoded, as API Gateway delivers it', async () => {
    const res = await post(putRequest(putCase()), { decision: 'approved' }, true);
    expect(res.status).toBe(200);
    expect(sfn).toHaveReceivedCommandWith(SendTaskSuccessCommand, { taskToken: TASK_TOKEN });
  });

  it('rejecting without a reason re-renders the form with each problem next to its field and writes nothing', async () => {
    const res = await post(putRequest(putCase()), { decision: 'rejected', reasonCode: '', reason: '   ' });

    expect(res.status).toBe(400);
    expect(res.body).toContain('Pilih alasan penolakan.');
    expect(res.body).toContain('Choose a reason for the rejection.');
    expect(res.body).toContain('Tuliskan alasannya');
    expect(res.body).toContain('Write the reason');
    // The person's choice is kept, and the fields are marked for screen readers.
    expect(res.body).toMatch(/value="rejected" checked/);
    expect(res.body).toMatch(
      /id="f-reasonCode" name="reasonCode" aria-describedby="h-reasonCode e-reasonCode" aria-invalid="true"/,
    );
    expect(res.body).toContain('href="#f-reason"');
    expectNoWrites();
  });

  it('an unknown reason code is asked for again rather than recorded', async () => {
    const res = await post(putRequest(putCase()), { decision: 'rejected', reasonCode: 'MADE_UP', reason: 'Tidak ada' });
    expect(res.status).toBe(400);
    expect(res.body).toContain('Choose a reason for the rejection.');
    expect(res.body).toContain('Tidak ada</textarea>');
    expectNoWrites();
  });

  it('a reason far over its limit gets its field problem and is not sent back', async () => {
    const long = 'x'.repeat(1024 * 1024 - 100);
    const res = await post(putRequest(putCase()), { decision: 'rejected', reasonCode: 'USAHA_TIDAK_ADA', reason: long });
    expect(res.status).toBe(400);
    expect(res.body).toContain('at most 1,000 characters');
    expect(res.body).not.toContain('x'.repeat(1001));
    expect(res.body.length).toBeLessThan(30_000);
    expectNoWrites();
  });

  it('no decision chosen is a field problem, not a crash', async () => {
    const res = await post(putRequest(putCase()), {});
    expect(res.status).toBe(400);
    expect(res.body).toContain('Choose Approve or Reject.');
    expectNoWrites();
  });

  it('rejecting with a reason fails the waiting task with GrantRejected and records the reason on the case', async () => {
    const c = putCase();
    const res = await post(putRequest(c), {
      decision: 'rejected',
      reasonCode: 'USAHA_TIDAK_ADA',
      reason: 'Saat kunjungan 3 Agustus warung sudah tutup.',
    });

    expect(res.status).toBe(200);
    expect(res.body).toContain('Bantuan ditolak.');
    expect(res.body).toContain('No business found at the visit');
    expect(sfn).toHaveReceivedCommandWith(SendTaskFailureCommand, { taskToken: TASK_TOKEN, error: 'GrantRejected' });
    expect(sfn).not.toHaveReceivedCommand(SendTaskSuccessCommand);
    // A rejection never takes a grant from the quota.
    expect(ddb).not.toHaveReceivedCommandWith(UpdateCommand, { Key: { pk: 'QUOTA#3210#2020', sk: 'QUOTA' } });
    expect(table.get(`CASE#${c.caseId}|CASE`)).toMatchObject({
      stage: 'grant-approval',
      grantApproval: {
        decision: 'rejected',
        reasonCode: 'USAHA_TIDAK_ADA',
        reason: 'Saat kunjungan 3 Agustus warung sudah tutup.',
      },
    });
  });

  it('a second submission answers 409 with when the decision was recorded, and changes nothing', async () => {
    const token = putRequest(putCase());
    expect((await post(token, { decision: 'approved' })).status).toBe(200);
    sfn.resetHistory();
    ddb.resetHistory();

    const again = await post(token, { decision: 'rejected', reasonCode: 'LAINNYA', reason: 'berubah pikiran' });
    expect(again.status).toBe(409);
    expect(again.body).toContain('Keputusan untuk tautan ini sudah dicatat sebelumnya.');
    expect(again.body).toContain('A decision was already recorded through this link.');
    expect(again.body).toContain('The decision was recorded on');
    expectNoWrites();

    const reopened = await get(token);
    expect(reopened.status).toBe(409);
    expect(reopened.body).not.toContain('<form');
  });

  it('when two submissions race, the one that loses the conditional write gets 409', async () => {
    const c = putCase();
    const token = putRequest(c);
    // Another tab decided between this request's read and its write.
    ddb.on(UpdateCommand, { Key: { pk: 'REQUEST#reqGrantApproval0000001', sk: 'REQUEST' } }).callsFake((input) => {
      const k = 'REQUEST#reqGrantApproval0000001|REQUEST';
      table.set(k, { ...table.get(k), status: 'decided', decidedAt: '2020-08-02T01:00:00.000Z' });
      return update(input);
    });
    const res = await post(token, { decision: 'approved' });
    expect(res.status).toBe(409);
    expect(res.body).toContain('Minggu, 02 Agustus 2020 pukul 08.00 WIB');
    expect(sfn).not.toHaveReceivedCommand(SendTaskSuccessCommand);
  });

  it('escapes what people typed: a name or a reason with markup is shown as text', async () => {
    const c = putCase({}, { nama: '<script>alert("x")</script> & <b>Budi</b>' });
    const token = putRequest(c);
    const page = await get(token);
    expect(page.body).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;Budi&lt;/b&gt;');
    expect(page.body).not.toMatch(/<script|<b>Budi/);

    const form = await post(token, { decision: 'rejected', reasonCode: '', reason: '"><img src=x onerror=alert(1)>' });
    expect(form.status).toBe(400);
    expect(form.body).toContain('&quot;&gt;&lt;img src=x onerror=alert(1)&gt;</textarea>');
    expect(form.body).not.toContain('<img');
  });
});

describe('milestone report page', () => {
  const milestoneCase = () =>
    putCase({
      stage: 'mentoring',
      grantApproval: {
        decision: 'approved',
        decidedBy: decidedByOf('approver@dinsos-majalengka.example'),
        at: '2020-08-03T00:00:00.000Z',
      },
      mentoringStartedAt: '2020-08-05T00:00:00.000Z',
      milestones: {
        'pemisahan-keuangan': {
          status: 'reported',
          at: '2020-09-01T00:00:00.000Z',
          report: { businessRunning: true, monthlyRevenue: 1_300_000, practices: ['separatesBusinessMoney'], notes: '' },
        },
      },
    });
  const milestoneRequest = (c: Case, overrides: Partial<Request> = {}) =>
    putRequest(c, {
      requestId: 'reqMilestoneKemasan0001',
      kind: 'milestone-report',
      milestoneId: 'kemasan-merek',
      recipient: 'mentor.majalengka@oorange-unpad.example',
      ...overrides,
    });

  it('shows the mentor the milestone, its theme, the family and the practices to tick', async () => {
    const res = await get(milestoneRequest(milestoneCase()));
    expect(res.status).toBe(200);
    for (const text of [
      'Laporan pendampingan usaha',
      'Business mentoring report',
      '2 dari 3',
      '2 of 3',
      'Kemasan dan merek',
      'Packaging and branding',
      'Siti Aminah',
      'Keripik singkong pedas',
      'Memisahkan uang rumah tangga dan uang usaha',
      'Keeps household and business money apart',
      'Memiliki izin usaha (NIB)',
      'Keeps business books',
      'Online marketing',
      'name="practices" value="hasBusinessPermit"',
    ]) {
      expect(res.body).toContain(text);
    }
    expectNothingPersonalLeaks(res.body);
    expectNoWrites();
  });

  it('a revenue that is not an amount comes back with the field message and the text as typed', async () => {
    const res = await post(milestoneRequest(milestoneCase()), {
      businessRunning: 'yes',
      monthlyRevenue: 'lumayan banyak',
      practices: ['packagingAndBranding'],
      notes: 'Kemasan baru sudah dicetak.',
    });
    expect(res.status).toBe(400);
    expect(res.body).toContain('Tuliskan omzet per bulan dalam rupiah, misalnya 1.500.000.');
    expect(res.body).toContain('Write the monthly revenue in rupiah, for example 1,500,000.');
    expect(res.body).toContain('value="lumayan banyak"');
    expect(res.body).toMatch(/value="packagingAndBranding" checked/);
    expect(res.body).toMatch(/value="yes" checked/);
    expect(res.body).toContain('Kemasan baru sudah dicetak.</textarea>');
    expectNoWrites();
  });

  it('a valid report is recorded on the case milestone and resumes the journey', async () => {
    const c = milestoneCase();
    const res = await post(milestoneRequest(c), {
      businessRunning: 'yes',
      monthlyRevenue: 'Rp 1,500,000',
      practices: ['packagingAndBranding', 'separatesBusinessMoney'],
      notes: ' Stiker merek sudah dipakai. ',
    });

    expect(res.status).toBe(200);
    expect(res.body).toContain('Laporan tahap 2 dari 3 tercatat.');
    expect(res.body).toContain('Rp1.500.000');
    const stored = table.get(`CASE#${c.caseId}|CASE`) as Case;
    expect(stored.milestones['kemasan-merek']).toMatchObject({
      status: 'reported',
      report: {
        businessRunning: true,
        monthlyRevenue: 1_500_000,
        practices: ['packagingAndBranding', 'separatesBusinessMoney'],
        notes: 'Stiker merek sudah dipakai.',
      },
    });
    // The earlier milestone's report stays as it was.
    expect(stored.milestones['pemisahan-keuangan']?.report?.monthlyRevenue).toBe(1_300_000);
    expect(sfn).toHaveReceivedCommandWith(SendTaskSuccessCommand, { taskToken: TASK_TOKEN });
  });

  it('a report after the deadline answers 410 and records nothing', async () => {
    const token = milestoneRequest(milestoneCase(), { deadline: '2020-09-04T00:00:00.000Z' });
    const page = await get(token);
    expect(page.status).toBe(410);
    expect(page.body).toContain('Tautan ini sudah kedaluwarsa.');
    expect(page.body).toContain('This link has expired.');
    expect(page.body).toContain('Friday, 4 September 2020 at 07:00 WIB');

    const res = await post(token, { businessRunning: 'yes', monthlyRevenue: '1500000' });
    expect(res.status).toBe(410);
    expectNoWrites();
  });

  it('a request the journey already expired answers 410 even before its deadline', async () => {
    const res = await get(milestoneRequest(milestoneCase(), { status: 'expired' }));
    expect(res.status).toBe(410);
  });
});

describe('financing outcome page', () => {
  const referredCase = () =>
    putCase({
      stage: 'financing-referral',
      milestones: {
        'pemisahan-keuangan': {
          status: 'reported',
          at: '2020-09-01T00:00:00.000Z',
          report: { businessRunning: true, monthlyRevenue: 1_300_000, practices: [], notes: '' },
        },
        'kemasan-merek': {
          status: 'reported',
          at: '2020-10-01T00:00:00.000Z',
          report: { businessRunning: true, monthlyRevenue: 2_100_000, practices: [], notes: '' },
        },
      },
      grade: {
        grade: 'berkembang',
        reason: { id: '3 praktik dijalankan', en: '3 practices adopted' },
        ruleVersion: '2020.1',
        at: '2020-11-10T00:00:00.000Z',
      },
      referral: {
        scheme: 'umi',
        schemeName: 'Pembiayaan Ultra Mikro (UMi)',
        ceilingRupiah: 10_000_000,
        reason: { id: 'Tingkat berkembang dengan omzet di atas Rp1.000.000', en: 'Developing, revenue above Rp1,000,000' },
        ruleVersion: '2020.1',
        at: '2020-11-10T00:00:00.000Z',
      },
    });
  const lenderRequest = (c: Case) =>
    putRequest(c, { requestId: 'reqFinancingOutcome0001', kind: 'financing-outcome', recipient: 'umi@pip.example' });

  it('shows the lender the scheme, ceiling, grade and the family by name and masked NIK', async () => {
    const res = await get(lenderRequest(referredCase()));
    expect(res.status).toBe(200);
    for (const text of [
      'Pembiayaan Ultra Mikro (UMi)',
      'Rp10.000.000',
      'Berkembang',
      'Developing',
      '3 practices adopted',
      'Developing, revenue above Rp1,000,000',
      'Siti Aminah',
      '3210********0012',
      'Keripik singkong pedas',
      'Rp2.100.000',
      'Tidak dibiayai',
      'Declined',
    ]) {
      expect(res.body).toContain(text);
    }
    expectNothingPersonalLeaks(res.body);
  });

  it('financed needs an amount within the ceiling; declined needs a reason', async () => {
    const token = lenderRequest(referredCase());
    const over = await post(token, { status: 'financed', amountRupiah: '15.000.000' });
    expect(over.status).toBe(400);
    expect(over.body).toContain('The amount is above the scheme&#39;s ceiling (Rp10.000.000).');

    const noAmount = await post(token, { status: 'financed', amountRupiah: '' });
    expect(noAmount.status).toBe(400);
    expect(noAmount.body).toContain('Write the amount financed');

    const noReason = await post(token, { status: 'declined', reason: '' });
    expect(noReason.status).toBe(400);
    expect(noReason.body).toContain('Write why the family was declined.');
    expectNoWrites();
  });

  it('a financed outcome is recorded on the referral and resumes the journey', async () => {
    const c = referredCase();
    const res = await post(lenderRequest(c), { status: 'financed', amountRupiah: '7,5 juta', reason: '' });
    expect(res.status).toBe(200);
    expect(res.body).toContain('Rp7.500.000');
    expect((table.get(`CASE#${c.caseId}|CASE`) as Case).referral?.outcome).toMatchObject({
      status: 'financed',
      amountRupiah: 7_500_000,
    });
    expect(sfn).toHaveReceivedCommandWith(SendTaskSuccessCommand, { taskToken: TASK_TOKEN });
  });
});

describe('links that cannot be used', () => {
  it('a forged or damaged signature answers 404 without reading the table', async () => {
    const c = putCase();
    const token = putRequest(c);
    const [id] = token.split('.');
    for (const bad of [`${id}.AAAAAAAAAAAAAAAAAAAAAA`, `${id}`, `${id}.${signLink('other')}`, `${token}.x`]) {
      const page = await get(bad);
      expect(page.status).toBe(404);
      expect(page.body).toContain('Tautan tidak dikenal atau rusak.');
      expect(page.body).toContain('This link is unknown or damaged.');
      expect((await post(bad, { decision: 'approved' })).status).toBe(404);
    }
    // Only the session was read: no request, no case.
    for (const call of ddb.commandCalls(GetCommand)) expect(String(call.args[0].input.Key?.pk)).toMatch(/^SESSION#/);
    expectNoWrites();
  });

  it('a correctly signed link whose request does not exist answers 404', async () => {
    const res = await get(`nosuchrequest.${signLink('nosuchrequest')}`);
    expect(res.status).toBe(404);
    expect(res.body).toContain('This link is unknown or damaged.');
  });

  it('an unexpected failure is a 500 page with a reference, never the error itself', async () => {
    const token = putRequest(putCase());
    ddb.on(GetCommand).rejects(new Error('socket hang up at /var/task/index.mjs:1:2'));
    const res = await get(token);
    expect(res.status).toBe(500);
    expect(res.body).toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/);
    expect(res.body).not.toContain('socket hang up');
    expect(res.body).not.toContain('/var/task');
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
  });

  it('an unknown path is a 404 page and a POST that is not a form is refused', async () => {
    expect((await call(event('GET', '/admin'))).status).toBe(404);
    const json = event('POST', `/r/${putRequest(putCase())}`, '{"decision":"approved"}');
    json.headers['Content-Type'] = 'application/json';
    const res = await call(json);
    expect(res.status).toBe(415);
    expectNoWrites();
  });
});

describe('health', () => {
  it('answers 200 with ok', async () => {
    const res = await call(event('GET', '/health'));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ ok: true });
  });
});

describe('who may see and decide a request', () => {
  const masked = 'a•••r@dinsos-majalengka.example';

  it('someone not signed in sees whom the request is for, masked, and a way to sign in; nothing of the family', async () => {
    const token = putRequest(putCase());
    const res = await get(token, { session: null });
    expect(res.status).toBe(200);
    expect(res.body).toContain(`This request is for ${masked}`);
    expect(res.body).toContain(`href="/signin?returnTo=${encodeURIComponent(`/r/${token}`)}"`);
    expect(res.body).not.toContain('Siti Aminah');
    expect(res.body).not.toContain(RECIPIENT);
    expect(res.body).not.toContain('<form method="post" accept-charset');
    expectNothingPersonalLeaks(res.body);
  });

  it('someone else signed in (a forwarded email) is told the request is for another person and sees nothing of it', async () => {
    const token = putRequest(putCase());
    const res = await get(token, { session: signIn('colleague@dinsos-majalengka.example') });
    expect(res.status).toBe(403);
    expect(res.body).toContain(`This request is for ${masked}, not for colleague@dinsos-majalengka.example`);
    expect(res.body).not.toContain('Siti Aminah');
    expectNothingPersonalLeaks(res.body);
  });

  it('a POST decides nothing without the signed-in recipient, the session token, or this site as origin', async () => {
    const c = putCase();
    const token = putRequest(c);
    const other = signIn('colleague@dinsos-majalengka.example');
    const mine = signIn(RECIPIENT);
    const attempts: [string, As, number][] = [
      ['nobody signed in', { session: null }, 401],
      ['another person', { session: other }, 403],
      ['no anti-forgery token', { session: mine, noToken: true }, 403],
      ['another origin', { session: mine, origin: 'https://evil.example' }, 403],
    ];
    for (const [why, as, status] of attempts) {
      const res = await post(token, { decision: 'approved' }, false, as);
      expect(res.status, why).toBe(status);
      expect(res.body, why).not.toContain('Keputusan tercatat');
    }
    // Another session's token in the recipient's browser (a form made elsewhere): refused too.
    const stolen = await post(token, { decision: 'approved', csrf: other.csrf }, false, { session: mine });
    expect(stolen.status).toBe(403);
    expect(stolen.body).toContain('Decision not recorded');
    expectNoWrites();
    expect(table.get(`REQUEST#reqGrantApproval0000001|REQUEST`)).toMatchObject({ status: 'open' });
  });

  it('a POST without a known Origin is refused unless the browser says it came from this site', async () => {
    const token = putRequest(putCase());
    const mine = signIn(RECIPIENT);
    const e = event('POST', `/r/${token}`, new URLSearchParams({ decision: 'approved' }), false, { session: mine });
    delete e.headers.Origin;
    expect((await call({ ...e, headers: { ...e.headers, 'Sec-Fetch-Site': 'cross-site' } })).status).toBe(403);
    expectNoWrites();
    // A browser withholds the origin of a form on a no-referrer page (`Origin: null`): Sec-Fetch-Site decides then.
    expect((await call({ ...e, headers: { ...e.headers, Origin: 'null', 'Sec-Fetch-Site': 'same-site' } })).status).toBe(403);
    expectNoWrites();
    expect((await call({ ...e, headers: { ...e.headers, Origin: 'null', 'Sec-Fetch-Site': 'same-origin' } })).status).toBe(200);
  });

  it('once decided, the link shows when and by whom (masked), to anyone who opens it', async () => {
    const token = putRequest(putCase());
    expect((await post(token, { decision: 'approved' })).status).toBe(200);
    const later = await get(token, { session: null });
    expect(later.status).toBe(409);
    expect(later.body).toContain('By');
    expect(later.body).toContain(masked);
  });
});
