/**
 * The officers' files in the bucket, as the upload page sees them: a check's file under
 * `checks/` (the browser sends it straight to S3 with a presigned POST, because files of
 * up to 100 MiB do not fit through API Gateway's 10 MB payloads), its submission to
 * `proposals/` (which starts the intake as any upload does), and the uploads of a district
 * with their reports.
 *
 * Nothing here logs a file's content, and a file name is only ever shown back to the
 * officers of its district.
 */
import type { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
} from '@aws-sdk/client-s3';
import { createPresignedPost, type PresignedPost } from '@aws-sdk/s3-presigned-post';
import { isProposalKey, PROPOSALS_PREFIX, proposalKey, reportKeys } from '#intake/bucket-layout';
import { SHEET_LIMITS } from '#intake/sheet';
import { s3 } from '#lib/clients/s3';
import { requiredEnv } from '#lib/env';
import { opaqueId } from '#lib/secrets';

export const bucketName = () => requiredEnv('BUCKET_NAME');

/** The intake's own limit: a bigger file would only be refused after it was sent. */
export const MAX_UPLOAD_BYTES = SHEET_LIMITS.maxBytes;

/** Long enough to send 100 MiB over a slow connection (about 1.5 Mbit/s), short enough to be useless later. */
export const PRESIGN_SECONDS = 10 * 60;

/**
 * The form the browser posts the file with. Its policy pins the one key (district and
 * check in it), the bucket and the size (1 byte to the intake's limit); S3 refuses
 * anything else, and the policy expires after PRESIGN_SECONDS.
 */
export async function presignCheckUpload(key: string): Promise<PresignedPost> {
  return createPresignedPost(s3, {
    Bucket: bucketName(),
    Key: key,
    Conditions: [
      ['eq', '$key', key],
      ['content-length-range', 1, MAX_UPLOAD_BYTES],
    ],
    Expires: PRESIGN_SECONDS,
  });
}

let origin: Promise<string> | undefined;
/** Where the browser sends the file, for the page's Content-Security-Policy (connect-src). */
export function bucketOrigin(): Promise<string> {
  origin ??= createPresignedPost(s3, { Bucket: bucketName(), Key: 'checks/origin', Expires: 60 }).then(
    (p) => new URL(p.url).origin,
  );
  return origin;
}

export function bodyOf(body: unknown): Readable {
  const stream = body as Readable | undefined;
  if (!stream || typeof stream.pipe !== 'function') throw new Error('S3 returned no readable body');
  return stream;
}

export interface CheckFile {
  body: Readable;
  size: number | undefined;
  eTag: string;
}

/** The file of a check, or undefined when it never arrived (the browser's POST failed) or is gone. */
export async function readCheckFile(key: string): Promise<CheckFile | undefined> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucketName(), Key: key }));
    return { body: bodyOf(out.Body), size: out.ContentLength, eTag: out.ETag ?? '' };
  } catch (e) {
    if (isMissing(e)) return undefined;
    throw e;
  }
}

function isMissing(e: unknown): boolean {
  const name = (e as { name?: string }).name;
  const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return name === 'NoSuchKey' || name === 'NotFound' || status === 404;
}

/** An upload's id, as ReadProposal derives it: keyed on bucket, key and the write's ETag. */
export const uploadIdOf = (key: string, eTag: string) => opaqueId('upload', bucketName(), key, eTag.replaceAll('"', ''));

/** The metadata a submitted check's copy carries: who uploaded it (the summary email), and which check it was. */
const CHECK_ID_META = 'check-id';

/**
 * Copies the checked file to `proposals/<district>/<file>`, unless this check's copy is
 * already there (a submit that died after copying). Returns the upload's key and id.
 */
export async function submitCheckFile(
  check: { checkId: string; key: string; district: string; fileName: string; programYear: number },
  uploader: string,
): Promise<{ key: string; uploadId: string } | undefined> {
  const bucket = bucketName();
  const target = proposalKey(check.district, check.fileName);
  const landed = await headObject(target);
  if (landed?.Metadata?.[CHECK_ID_META] === check.checkId && landed.ETag) {
    return { key: target, uploadId: uploadIdOf(target, landed.ETag) };
  }
  try {
    const out = await s3.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: target,
        CopySource: `${bucket}/${encodeURIComponent(check.key).replaceAll('%2F', '/')}`,
        MetadataDirective: 'REPLACE',
        Metadata: { uploader, 'program-year': String(check.programYear), [CHECK_ID_META]: check.checkId },
      }),
    );
    const eTag = out.CopyObjectResult?.ETag ?? (await headObject(target))?.ETag;
    if (!eTag) throw new Error('S3 answered the copy without an ETag');
    return { key: target, uploadId: uploadIdOf(target, eTag) };
  } catch (e) {
    if (isMissing(e)) return undefined;
    throw e;
  }
}

async function headObject(key: string) {
  try {
    return await s3.send(new HeadObjectCommand({ Bucket: bucketName(), Key: key }));
  } catch (e) {
    if (isMissing(e)) return undefined;
    throw e;
  }
}

export async function deleteCheckFile(key: string): Promise<void> {
  await s3.send(new DeleteObjectCommand({ Bucket: bucketName(), Key: key }));
}

/** What the intake's report (its metadata, ReadProposal's reportMetadata) says of an upload. */
export type UploadStatus =
  | { kind: 'running' }
  | { kind: 'done'; accepted: number; warning: number; rejected: number }
  | { kind: 'refused'; code: string };

export interface Upload {
  uploadId: string;
  district: string;
  key: string;
  fileName: string;
  uploadedAt: Date;
  status: UploadStatus;
}

/** An upload without a report after this long did not finish: the intake failed or is stuck, and an operator should look. */
export const INTAKE_OVERDUE_MS = 30 * 60_000;

async function statusOf(key: string, uploadId: string): Promise<UploadStatus> {
  const report = await headObject(reportKeys(key).json);
  const meta = report?.Metadata ?? {};
  // No report yet, or the report of an earlier write of the same file name.
  if (!report || meta['upload-id'] !== uploadId) return { kind: 'running' };
  if (meta['file-error']) return { kind: 'refused', code: meta['file-error'] };
  const n = (name: string) => Number(meta[name] ?? 0) || 0;
  return { kind: 'done', accepted: n('accepted'), warning: n('warning'), rejected: n('rejected') };
}

/**
 * The district's uploads, newest first: the objects under `proposals/<district>/` (from
 * this page, `prokus upload` or any S3 client alike), the latest write of each name (a
 * file uploaded again under its name replaces the earlier one and its report).
 * One ListObjectsV2 page per 1,000 objects, then one HEAD per upload shown.
 */
export async function listUploads(district: string, limit = 25): Promise<Upload[]> {
  const found = await uploadObjects(district);
  found.sort((a, b) => b.uploadedAt.getTime() - a.uploadedAt.getTime());
  return Promise.all(found.slice(0, limit).map(async (u) => ({ ...u, status: await statusOf(u.key, u.uploadId) })));
}

async function uploadObjects(district: string): Promise<Omit<Upload, 'status'>[]> {
  const prefix = `${PROPOSALS_PREFIX}${district}/`;
  const out: Omit<Upload, 'status'>[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucketName(), Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) {
      if (!o.Key || !isProposalKey(o.Key) || o.Key.slice(prefix.length).includes('/')) continue;
      out.push({
        uploadId: uploadIdOf(o.Key, o.ETag ?? ''),
        district,
        key: o.Key,
        fileName: o.Key.slice(prefix.length),
        uploadedAt: o.LastModified ?? new Date(0),
      });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

/** The upload an id names, looked for only in these districts: another district's id finds nothing. */
export async function findUpload(uploadId: string, districts: readonly string[]): Promise<Upload | undefined> {
  for (const district of districts) {
    const match = (await uploadObjects(district)).find((u) => u.uploadId === uploadId);
    if (match) return { ...match, status: await statusOf(match.key, match.uploadId) };
  }
  return undefined;
}

/** Above this the report is not sent through the pages (Lambda answers at most 6 MB). */
export const REPORT_INLINE_BYTES = 5 * 2 ** 20;

/** The upload's report CSV, when it is this upload's. */
export async function readReport(upload: Upload): Promise<{ csv: string } | { tooLarge: true } | undefined> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucketName(), Key: reportKeys(upload.key).csv }));
    if (out.Metadata?.['upload-id'] !== upload.uploadId) {
      bodyOf(out.Body).destroy();
      return undefined;
    }
    if ((out.ContentLength ?? 0) > REPORT_INLINE_BYTES) {
      bodyOf(out.Body).destroy();
      return { tooLarge: true };
    }
    return { csv: (await out.Body?.transformToString('utf8')) ?? '' };
  } catch (e) {
    if (isMissing(e)) return undefined;
    throw e;
  }
}
