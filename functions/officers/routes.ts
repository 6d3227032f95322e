/**
 * The officers' upload routes (functions/web/routes.ts names them; functions/pages.ts
 * wires them). Every one needs a signed-in person who is an officer of at least one
 * district; everything an id in the URL names (a check, an upload) is looked up and its
 * district compared with the officer's districts on every request, and anything else
 * answers the same 404 as an id that names nothing. Every POST passes checkForgery.
 *
 * Flow: GET /upload → POST /uploads (a presigned POST for `checks/<district>/<checkId>/<file>`)
 * → the browser posts the file to S3 → GET /uploads/{checkId}/check (the dry run's
 * verdicts) → POST /uploads/{checkId}/submit (copy to proposals/: the intake starts)
 * → GET /uploads/{uploadId} (status, report, families per stage).
 */
import { randomBytes } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { checkForgery, FORM_TOKEN_FIELD, type SignedIn, signedIn } from '#access/session';
import type { Bilingual } from '#domain/errors';
import { mayProposeFor, type Person } from '#domain/person';
import { programFor, programYears } from '#domain/program';
import * as z from '#domain/zod';
import { checkKey, isUploadName } from '#intake/bucket-layout';
import { dryRunProposal, type JsonRow, toJsonRow } from '#intake/proposal-dry-run';
import { templateCsv } from '#intake/template-file';
import { TEMPLATE_XLSX_BASE64 } from '#intake/template-xlsx';
import { logger } from '#lib/logger';
import { type UploadProgress, uploadProgress } from '#store/cases';
import {
  type Check,
  createCheck,
  findCheck,
  recordDiscarded,
  recordSubmitted,
  releaseSubmitLease,
  takeSubmitLease,
} from '#store/checks';
import { langOf } from '#web/lang';
import { htmlResult, redirect } from '#web/results';
import {
  bucketOrigin,
  deleteCheckFile,
  findUpload,
  listUploads,
  MAX_UPLOAD_BYTES,
  presignCheckUpload,
  readCheckFile,
  readReport,
  submitCheckFile,
} from './files.ts';
import { UPLOAD_SCRIPT } from './upload-script.ts';
import {
  checkGonePage,
  checkPage,
  forgedPage,
  type Lang,
  notAnOfficerPage,
  notFoundPage,
  type PageContext,
  ROWS_SHOWN,
  reportNotReadyPage,
  signInNeededPage,
  submitRunningPage,
  uploadDetailPage,
  uploadPage,
} from './views.ts';

type Event = APIGatewayProxyEventV2;
type Result = APIGatewayProxyStructuredResultV2;

function json(status: number, body: unknown): Result {
  return {
    statusCode: status,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    },
    body: JSON.stringify(body),
  };
}

interface Officer {
  visitor: SignedIn;
  person: Person;
  /** The districts this person proposes for: the only ones any id may reach. */
  districts: string[];
  ctx: PageContext;
}

/** The signed-in officer, or the page that says why not (sign in first; not an officer). */
async function officerOf(event: Event): Promise<{ officer: Officer; cookies: string[] } | { refused: Result }> {
  const { lang, remember } = langOf(event);
  const cookies = remember ? [remember] : [];
  const path = event.rawPath;
  const visitor = await signedIn(event);
  if (!visitor) return { refused: htmlResult(signInNeededPage({ lang, path }, path), cookies) };
  const person = visitor.session.person;
  const districts = person.districts.filter((d) => mayProposeFor(person, d));
  const ctx: PageContext = { lang, path, viewer: { email: person.email, csrf: visitor.session.csrf } };
  if (districts.length === 0) return { refused: htmlResult(notAnOfficerPage(ctx), cookies) };
  return { officer: { visitor, person, districts, ctx }, cookies };
}

/**
 * The families of an upload per stage, or undefined where the table has no upload index:
 * a local data folder made before it existed (dynalite cannot add an index to a table).
 */
async function progressOf(uploadId: string): Promise<UploadProgress | undefined> {
  try {
    return await uploadProgress(uploadId);
  } catch (e) {
    const err = e as { name?: string; message?: string };
    if (err.name === 'ValidationException' && /index/i.test(err.message ?? '')) return undefined;
    throw e;
  }
}

function districtNames(districts: readonly string[]) {
  const year = programYears().at(-1);
  const known = year === undefined ? {} : programFor(year).districts;
  return districts.map((code) => ({ code, name: known[code]?.name ?? '' }));
}

/** GET /upload */
export async function showUploadPage(event: Event): Promise<Result> {
  const who = await officerOf(event);
  if ('refused' in who) return who.refused;
  const { officer } = who;
  const uploads = (await Promise.all(officer.districts.map((d) => listUploads(d))))
    .flat()
    .sort((a, b) => b.uploadedAt.getTime() - a.uploadedAt.getTime())
    .slice(0, 25);
  const withProgress = await Promise.all(
    uploads.map(async (upload) => ({ upload, progress: await progressOf(upload.uploadId) })),
  );
  const view = uploadPage(
    { ...officer.ctx, csrf: officer.visitor.session.csrf },
    districtNames(officer.districts),
    programYears(),
    withProgress,
    await bucketOrigin(),
  );
  return htmlResult(view, who.cookies);
}

/** GET /upload/template[?format=csv]: the file `prokus template` writes. */
export async function downloadTemplate(event: Event): Promise<Result> {
  const who = await officerOf(event);
  if ('refused' in who) return who.refused;
  const headers = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };
  if (event.queryStringParameters?.format === 'csv') {
    return {
      statusCode: 200,
      headers: {
        ...headers,
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': 'attachment; filename="templat-usulan-prokus.csv"',
      },
      body: templateCsv(),
    };
  }
  return {
    statusCode: 200,
    headers: {
      ...headers,
      'content-type': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      'content-disposition': 'attachment; filename="templat-usulan-prokus.xlsx"',
    },
    body: TEMPLATE_XLSX_BASE64,
    isBase64Encoded: true,
  };
}

/** What the urlencoded parser produces: repeated fields arrive as lists. */
const FormBody = z.record(z.string(), z.union([z.string(), z.array(z.string())]));
const field = (form: Record<string, string | string[]>, name: string) => {
  const v = form[name];
  return typeof v === 'string' ? v : undefined;
};

/** Named refusals of a request for an upload, each in both languages. */
const UPLOAD_REFUSALS = {
  DISTRICT_NOT_YOURS: { id: 'Anda tidak mengusulkan untuk kabupaten/kota ini.', en: 'You do not propose for this district.' },
  UPLOAD_FILE_NAME_INVALID: {
    id: 'Nama berkas tidak dapat dipakai: paling panjang 200 karakter, tanpa / dan tanpa akhiran .report.csv atau .report.json.',
    en: 'This file name cannot be used: at most 200 characters, no / and not ending in .report.csv or .report.json.',
  },
  FILE_EMPTY: { id: 'Berkas kosong.', en: 'The file is empty.' },
  PROGRAM_YEAR_UNKNOWN: { id: 'Tahun program ini tidak dikenal.', en: 'This program year is unknown.' },
  FILE_TOO_LARGE: {
    id: `Berkas lebih besar dari ${MAX_UPLOAD_BYTES / 2 ** 20} MiB. Bagi menjadi beberapa berkas.`,
    en: `The file is larger than ${MAX_UPLOAD_BYTES / 2 ** 20} MiB. Split it into several files.`,
  },
  FORM_TOKEN_INVALID: {
    id: 'Permintaan ini tidak dikirim dari halaman unggah Anda. Muat ulang halaman.',
    en: 'This request was not sent from your upload page. Reload the page.',
  },
} satisfies Record<string, Bilingual>;
type UploadRefusal = keyof typeof UPLOAD_REFUSALS;

const refuse = (status: number, code: UploadRefusal, lang: Lang) =>
  json(status, { error: { code, message: UPLOAD_REFUSALS[code][lang], text: UPLOAD_REFUSALS[code] } });

// Printable, one path segment; S3 keys could hold more, messages and emails should not.
const usableFileName = (name: string) =>
  name.length >= 1 &&
  name.length <= 200 &&
  !name.includes('\\') &&
  [...name].every((c) => c.charCodeAt(0) >= 0x20 && c !== '\u007f');

/**
 * POST /uploads (form fields csrf, district, fileName, size): a presigned POST for a new
 * check's key. Answers JSON for the page script: `{ checkId, url, fields, check }`.
 */
export async function requestUpload(event: Event): Promise<Result> {
  const { lang } = langOf(event);
  const visitor = await signedIn(event);
  if (!visitor)
    return json(401, { error: { code: 'SIGN_IN_NEEDED', message: lang === 'en' ? 'Sign in first.' : 'Masuk dulu.' } });
  const form = FormBody.safeParse(event.body as unknown);
  const values = form.success ? form.data : {};
  if (checkForgery(event, visitor.session, field(values, FORM_TOKEN_FIELD)) !== 'ok')
    return refuse(403, 'FORM_TOKEN_INVALID', lang);
  const person = visitor.session.person;
  const district = field(values, 'district') ?? '';
  if (!mayProposeFor(person, district)) return refuse(403, 'DISTRICT_NOT_YOURS', lang);
  const fileName = (field(values, 'fileName') ?? '').normalize('NFC').trim();
  if (!usableFileName(fileName) || !isUploadName(fileName)) return refuse(400, 'UPLOAD_FILE_NAME_INVALID', lang);
  const years = programYears();
  const programYear = Number(field(values, 'programYear') ?? years.at(-1));
  if (!years.includes(programYear)) return refuse(400, 'PROGRAM_YEAR_UNKNOWN', lang);
  const size = Number(field(values, 'size'));
  if (!Number.isInteger(size) || size < 1) return refuse(400, 'FILE_EMPTY', lang);
  if (size > MAX_UPLOAD_BYTES) return refuse(413, 'FILE_TOO_LARGE', lang);

  // 128 random bits: a check id is not guessable, and is looked up with its district anyway.
  const checkId = randomBytes(16).toString('base64url');
  const key = checkKey(district, checkId, fileName);
  await createCheck({
    checkId,
    district,
    fileName,
    programYear,
    key,
    sub: person.sub,
    email: person.email,
    createdAt: new Date().toISOString(),
  });
  const post = await presignCheckUpload(key);
  logger.info('upload check presigned', { district });
  return json(200, { checkId, url: post.url, fields: post.fields, check: `/uploads/${checkId}/check` });
}

const IdParam = z.string().check(z.regex(/^[A-Za-z0-9_-]{16,64}$/));

function idOf(event: Event, name: 'checkId' | 'uploadId'): string | undefined {
  const parsed = IdParam.safeParse(event.pathParameters?.[name]);
  return parsed.success ? parsed.data : undefined;
}

/** The check an id names, when it is of one of this officer's districts. */
async function ownCheck(event: Event, officer: Officer): Promise<Check | undefined> {
  const checkId = idOf(event, 'checkId');
  if (!checkId) return undefined;
  const check = await findCheck(checkId);
  return check && officer.districts.includes(check.district) ? check : undefined;
}

/** GET /uploads/{checkId}/check: the verdicts of every row, as `prokus validate` gives them. */
export async function showCheck(event: Event): Promise<Result> {
  const who = await officerOf(event);
  if ('refused' in who) return who.refused;
  const { officer, cookies } = who;
  const check = await ownCheck(event, officer);
  if (!check) return htmlResult(notFoundPage(officer.ctx), cookies);
  if (check.upload) return redirect(`/uploads/${check.upload.uploadId}`);
  if (check.discardedAt) return htmlResult(checkGonePage(officer.ctx, 'discarded'), cookies);
  const file = await readCheckFile(check.key);
  if (!file) return htmlResult(checkGonePage(officer.ctx, 'missing'), cookies);

  const rows: JsonRow[] = [];
  let hiddenRows = 0;
  let result: Awaited<ReturnType<typeof dryRunProposal>>;
  try {
    result = await dryRunProposal(
      file.body,
      {
        district: check.district,
        programYear: check.programYear,
        fileName: check.fileName,
        ...(file.size !== undefined ? { size: file.size } : {}),
      },
      (r) => {
        if (r.status === 'accepted') return;
        if (rows.length < ROWS_SHOWN) rows.push(toJsonRow(r));
        else hiddenRows += 1;
      },
    );
  } finally {
    file.body.destroy();
  }
  const view = {
    checkId: check.checkId,
    fileName: check.fileName,
    district: check.district,
    programYear: check.programYear,
    csrf: officer.visitor.session.csrf,
  };
  if (!result.ok) {
    logger.info('upload check: file cannot be checked', { district: check.district, code: result.problem.code });
    return htmlResult(checkPage(officer.ctx, view, result), cookies);
  }
  logger.info('upload check done', { district: check.district, ...result.summary });
  return htmlResult(
    checkPage(officer.ctx, view, {
      ok: true,
      summary: result.summary,
      rows,
      hiddenRows,
      fileWarnings: result.fileWarnings,
      notChecked: result.notChecked,
    }),
    cookies,
  );
}

/**
 * POST /uploads/{checkId}/submit (csrf, action=submit|discard). Submitting twice, from a
 * double click or two tabs, copies once: the copy runs under the check's lease, and a
 * check already submitted answers with its upload.
 */
export async function submitCheck(event: Event): Promise<Result> {
  const who = await officerOf(event);
  if ('refused' in who) return who.refused;
  const { officer, cookies } = who;
  const form = FormBody.safeParse(event.body as unknown);
  const values = form.success ? form.data : {};
  if (checkForgery(event, officer.visitor.session, field(values, FORM_TOKEN_FIELD)) !== 'ok') {
    return htmlResult(forgedPage(officer.ctx), cookies);
  }
  const check = await ownCheck(event, officer);
  if (!check) return htmlResult(notFoundPage(officer.ctx), cookies);
  if (check.upload) return redirect(`/uploads/${check.upload.uploadId}`);

  if (field(values, 'action') === 'discard') {
    if (!(await recordDiscarded(check.checkId))) return redirect(`/uploads/${check.checkId}/check`);
    await deleteCheckFile(check.key);
    return htmlResult(checkGonePage(officer.ctx, 'discarded'), cookies);
  }

  const lease = await takeSubmitLease(check.checkId);
  if ('held' in lease) {
    if (lease.held === 'submitted') {
      const now = await findCheck(check.checkId);
      if (now?.upload) return redirect(`/uploads/${now.upload.uploadId}`);
    }
    if (lease.held === 'discarded') return htmlResult(checkGonePage(officer.ctx, 'discarded'), cookies);
    return htmlResult(submitRunningPage(officer.ctx, check.checkId), cookies);
  }
  let upload: Awaited<ReturnType<typeof submitCheckFile>>;
  try {
    upload = await submitCheckFile(check, officer.person.email);
  } catch (e) {
    await releaseSubmitLease(check.checkId, lease.holder);
    throw e;
  }
  if (!upload) {
    await releaseSubmitLease(check.checkId, lease.holder);
    return htmlResult(checkGonePage(officer.ctx, 'missing'), cookies);
  }
  await recordSubmitted(check.checkId, { key: upload.key, uploadId: upload.uploadId, at: new Date().toISOString() });
  await deleteCheckFile(check.key);
  logger.info('upload submitted', { district: check.district, uploadId: upload.uploadId });
  return redirect(`/uploads/${upload.uploadId}`);
}

/** GET /uploads/{uploadId} */
export async function showUpload(event: Event): Promise<Result> {
  const who = await officerOf(event);
  if ('refused' in who) return who.refused;
  const { officer, cookies } = who;
  const uploadId = idOf(event, 'uploadId');
  const upload = uploadId ? await findUpload(uploadId, officer.districts) : undefined;
  if (!upload) return htmlResult(notFoundPage(officer.ctx), cookies);
  return htmlResult(uploadDetailPage(officer.ctx, upload, await progressOf(upload.uploadId)), cookies);
}

/** GET /uploads/{uploadId}/report: the report CSV intake wrote next to the upload. */
export async function downloadReport(event: Event): Promise<Result> {
  const who = await officerOf(event);
  if ('refused' in who) return who.refused;
  const { officer, cookies } = who;
  const uploadId = idOf(event, 'uploadId');
  const upload = uploadId ? await findUpload(uploadId, officer.districts) : undefined;
  if (!upload) return htmlResult(notFoundPage(officer.ctx), cookies);
  const report = await readReport(upload);
  if (!report || 'tooLarge' in report) return htmlResult(reportNotReadyPage(officer.ctx, upload, report !== undefined), cookies);
  const name = `${upload.fileName}.report.csv`;
  return {
    statusCode: 200,
    headers: {
      'content-type': 'text/csv; charset=utf-8',
      // The ASCII name for old browsers, the real one (RFC 6266 / 5987) for the rest.
      'content-disposition': `attachment; filename="${name.replace(/[^\x20-\x7e]|["\\]/g, '_')}"; filename*=UTF-8''${encodeURIComponent(name)}`,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    },
    body: report.csv,
  };
}

/** GET /assets/{file}: the self-hosted scripts (one today). */
export async function asset(event: Event): Promise<Result> {
  if (event.pathParameters?.file !== UPLOAD_SCRIPT.file) {
    return { statusCode: 404, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'not found' };
  }
  return {
    statusCode: 200,
    headers: {
      'content-type': 'text/javascript; charset=utf-8',
      // Named by its hash: a new version is a new name.
      'cache-control': 'public, max-age=31536000, immutable',
      'x-content-type-options': 'nosniff',
    },
    body: UPLOAD_SCRIPT.source,
  };
}
