/**
 * Putting a proposal file where the intake trigger looks, as `prokus upload` and the
 * runtime's `upload()` both do. Its own file: the CLI uploads to a runtime in another process.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { isUploadName, proposalKey } from '#intake/bucket-layout';
import { intakeExecutionName } from '../local/s3.ts';

export interface UploadOptions {
  district: string;
  programYear?: number;
  uploader?: string;
  /** Object name under `proposals/<district>/`; the file's own name by default. */
  name?: string;
}

export class UploadError extends Error {
  override readonly name = 'UploadError';
  constructor(readonly text: { id: string; en: string }) {
    super(text.en);
  }
}

/** PUT a proposal file where the intake trigger looks: `proposals/<district>/<name>`, uploader and year as metadata. */
export async function putProposal(
  s3: S3Client,
  bucket: string,
  file: string,
  opts: UploadOptions,
): Promise<{ key: string; eTag: string }> {
  if (!/^\d{4}$/.test(opts.district)) {
    throw new UploadError({
      id: `Kode kabupaten/kota harus 4 angka (kode BPS), bukan "${opts.district}"`,
      en: `The district code must be 4 digits (BPS code), not "${opts.district}"`,
    });
  }
  const name = opts.name ?? basename(file);
  if (!isUploadName(name)) {
    throw new UploadError({ id: `Nama berkas tidak dapat dipakai: "${name}"`, en: `This file name cannot be used: "${name}"` });
  }
  let body: Buffer;
  try {
    if (!(await stat(file)).isFile()) throw new Error('not a file');
    body = await readFile(file);
  } catch {
    throw new UploadError({ id: `Berkas tidak dapat dibaca: ${file}`, en: `The file cannot be read: ${file}` });
  }
  const key = proposalKey(opts.district, name);
  const metadata: Record<string, string> = {};
  if (opts.uploader) metadata.uploader = opts.uploader;
  if (opts.programYear) metadata['program-year'] = String(opts.programYear);
  const out = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, Metadata: metadata }));
  return { key, eTag: (out.ETag ?? '').replaceAll('"', '') };
}

const NOT_STARTED = {
  id: 'Berkas tersimpan, tetapi pemeriksaannya (intake) tidak dimulai: `prokus dev` berhenti saat menerimanya. Unggah berkas itu lagi.',
  en: 'The file was stored, but its intake did not start: `prokus dev` stopped as it arrived. Upload the file again.',
};

/**
 * Waits until the upload's intake execution exists, so `prokus upload` says "uploaded"
 * only when the intake will run. The local bucket announces a write once, to the
 * process that received it; a `prokus dev` killed between storing the file and
 * recording its intake would otherwise lose the upload without a word (on AWS,
 * EventBridge delivers again). The officer is told to upload again instead: a new
 * write is a new upload, and families already registered by it are reported as such.
 */
export async function confirmIntake(
  sfn: SFNClient,
  intakeArn: string,
  upload: { key: string; eTag: string },
  timeoutMs = 30_000,
): Promise<void> {
  const name = intakeExecutionName(upload.key, upload.eTag);
  const executionArn = `${intakeArn.replace(':stateMachine:', ':execution:')}:${name}`;
  const giveUpAt = Date.now() + timeoutMs;
  while (Date.now() < giveUpAt) {
    try {
      await sfn.send(new DescribeExecutionCommand({ executionArn }));
      return;
    } catch {
      // Not recorded yet, or the dev down for a moment: look again until the time is up.
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new UploadError(NOT_STARTED);
}
