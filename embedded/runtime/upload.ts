/**
 * Putting a proposal file where the intake trigger looks, as `prokus upload` and the
 * runtime's `upload()` both do. Its own file: the CLI uploads to a runtime in another process.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { isUploadName, proposalKey } from '#intake/bucket-layout';

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
export async function putProposal(s3: S3Client, bucket: string, file: string, opts: UploadOptions): Promise<{ key: string }> {
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
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, Metadata: metadata }));
  return { key };
}
