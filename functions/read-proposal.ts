/**
 * ReadProposal: the first state of the intake. Reads one proposal file (CSV or XLSX)
 * put under `proposals/<district>/`, checks every row, registers the accepted families (claims on
 * NIK and KK, then the case at `verification`), writes the list of journeys to start,
 * the report next to the upload, and emails the uploader a summary.
 *
 * The file is read twice: first a dry run of every check, so a file that breaks halfway
 * (a damaged CSV or workbook) is rejected before anything is written; then again to register. Reading
 * the same upload again (an S3 event delivered twice) gives the same result: the claims
 * name this upload, the case ids are deterministic, and journey names refuse duplicates.
 */
import type { Readable } from 'node:stream';
import { GetObjectCommand, type GetObjectCommandOutput, PutObjectCommand } from '@aws-sdk/client-s3';
import { type Case, caseIdFor, journeyName, Personal } from '#domain/case';
import type { Blocker, Claim } from '#domain/claim';
import { ProposalFileError } from '#domain/errors';
import { maskId } from '#domain/nik';
import { programFor, programYears } from '#domain/program';
import * as z from '#domain/zod';
import { isProposalKey, journeysKey, reportKeys } from '#intake/bucket-layout';
import {
  alreadyProposed,
  type CheckContext,
  type EarlierProposal,
  type Finding,
  fileProblems,
  openProposal,
  type ProposedFamily,
  type RowResult,
  scanProposal,
  statusOf,
} from '#intake/proposal';
import { type ProposalReport, reportCsv, reportJson, summarize, summaryMail } from '#intake/proposal-report';
import type { FileProblem, Separator, SheetOptions } from '#intake/sheet';
import { s3 } from '#lib/clients/s3';
import { taskHandler } from '#lib/handler';
import { logger } from '#lib/logger';
import { sendMail } from '#lib/mail';
import { countProposalRows } from '#lib/metrics';
import { Pool } from '#lib/pool';
import { hashId, opaqueId, seal } from '#lib/secrets';
import { isItemRefused } from '#lib/table';
import { createCase } from '#store/cases';
import { claimIdentity, releaseClaim } from '#store/claims';
import { sendSummaryOnce } from '#store/uploads';

const Event = z.object({ bucket: z.string().check(z.minLength(1)), key: z.string().check(z.minLength(1)) });

export interface IntakeResult {
  uploadId: string;
  /** Families registered (rows accepted, with or without a warning). */
  accepted: number;
  rejected: number;
  /** The JSON list `[{ caseId, executionName }]` the intake starts journeys from. */
  journeys: { bucket: string; key: string };
}

const WRITES_IN_FLIGHT = 16;

function bodyOf(out: GetObjectCommandOutput): Readable {
  // In Node the SDK returns a Readable (with the SDK's stream helpers mixed in).
  const body = out.Body as Readable | undefined;
  if (!body || typeof body.pipe !== 'function') throw new Error('S3 returned no readable body');
  return body;
}

const Uploader = z.email();

function districtName(district: string, programYear: number): string | undefined {
  try {
    return programFor(programYear).districts[district]?.name;
  } catch {
    return undefined;
  }
}

interface Upload {
  bucket: string;
  key: string;
  fileName: string;
  district: string;
  programYear: number;
  uploadId: string;
  uploader?: string;
}

async function putText(
  bucket: string,
  key: string,
  body: string,
  contentType: string,
  metadata?: Record<string, string>,
): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType, Metadata: metadata }));
}

/**
 * Which upload a report is of and what it says, on the report object itself: the upload
 * page lists an officer's uploads with one HEAD each, without reading reports of
 * 100,000 rows, and tells a report of this write of a file from one of an earlier write.
 */
function reportMetadata(report: ProposalReport): Record<string, string> {
  return {
    'upload-id': report.uploadId,
    accepted: String(report.summary.accepted),
    warning: String(report.summary.warning),
    rejected: String(report.summary.rejected),
    ...(report.error ? { 'file-error': report.error.code } : {}),
  };
}

async function publishReport(upload: Upload, report: ProposalReport, separator: Separator): Promise<void> {
  const csv = reportCsv(report, separator);
  const about = reportMetadata(report);
  await putText(upload.bucket, reportKeys(upload.key).csv, csv, 'text/csv; charset=utf-8', about);
  await putText(upload.bucket, reportKeys(upload.key).json, reportJson(report), 'application/json', about);
  const uploader = upload.uploader;
  if (!uploader) return;
  const mail = summaryMail(report, districtName(upload.district, upload.programYear), upload.fileName);
  const outcome = await sendSummaryOnce(upload.uploadId, () =>
    sendMail({
      to: uploader,
      subject: mail.subject,
      text: mail.text,
      headers: { 'X-Prokus-Kind': 'intake-report', 'X-Prokus-Upload': upload.uploadId },
      attachments: [{ filename: `${upload.fileName}.report.csv`, content: csv, contentType: 'text/csv; charset=utf-8' }],
    }),
  );
  if (outcome === 'sent-by-another-run') logger.info('summary email already sent for this upload');
}

/** A file nothing can be taken from: the report says why, and the intake ends in FileRejected. */
async function rejectFile(upload: Upload, problem: FileProblem): Promise<never> {
  const report: ProposalReport = {
    file: upload.key,
    district: upload.district,
    programYear: upload.programYear,
    uploadId: upload.uploadId,
    rows: [],
    summary: { accepted: 0, warning: 0, rejected: 0 },
    fileWarnings: [],
    error: problem,
  };
  await publishReport(upload, report, ',');
  logger.info('proposal file rejected', { code: problem.code });
  throw new ProposalFileError(problem.code, problem.message);
}

/** Where the upload says it belongs: the district folder and the program year (metadata, else the latest). */
function placeUpload(
  bucket: string,
  key: string,
  etag: string,
  metadata: Record<string, string>,
): { upload: Upload; problem?: FileProblem } {
  const segments = key.split('/');
  const district = segments.length === 3 && segments[0] === 'proposals' ? (segments[1] ?? '') : '';
  const years = programYears();
  const rawYear = metadata['program-year']?.trim();
  const requested = rawYear ? Number(rawYear) : years.at(-1);
  const programYear = requested !== undefined && Number.isInteger(requested) ? requested : 0;
  const known = years.includes(programYear);
  const uploader = Uploader.safeParse(metadata.uploader?.trim());
  const upload: Upload = {
    bucket,
    key,
    fileName: segments.at(-1) ?? key,
    district,
    programYear,
    uploadId: opaqueId('upload', bucket, key, etag),
    ...(uploader.success ? { uploader: uploader.data } : {}),
  };
  if (!known) return { upload, problem: fileProblems.unknownProgramYear(rawYear ?? '') };
  if (!programFor(upload.programYear).districts[district]) {
    return { upload, problem: fileProblems.unknownDistrict(district, upload.programYear) };
  }
  return { upload };
}

function earlierProposal(claim: Claim): EarlierProposal {
  const name = districtName(claim.district, claim.programYear);
  return {
    proposedAt: claim.proposedAt,
    district: claim.district,
    programYear: claim.programYear,
    ...(name ? { districtName: name } : {}),
  };
}

const rowNotSaved: Finding = {
  code: 'ROW_NOT_SAVED',
  field: 'row',
  severity: 'error',
  message: {
    id: 'Baris ini tidak dapat disimpan. Keluarga ini belum diusulkan: periksa isi barisnya, lalu usulkan lagi.',
    en: 'This row could not be saved. The family is not proposed: check what the row holds, then propose it again.',
  },
};

/** What the officer reads for a claim that stands in the way. */
function blockedFinding(field: 'nik' | 'no_kk', blocker: Blocker): Finding {
  const kind = blocker.reason === 'granted' ? 'granted' : blocker.inProgress ? 'in-progress' : 'proposed';
  return alreadyProposed(field, earlierProposal(blocker.claim), kind);
}

/**
 * Claims the family's NIK and KK for its case and program year, then creates the case.
 * A claim this same upload already holds counts as won: it is this file read again.
 * Claims come before the case, so a run that dies between them leaves a claim without
 * its case; domain/claim.ts says when such a claim no longer counts.
 */
async function register(
  upload: Upload,
  row: number,
  family: ProposedFamily,
  warnings: Finding[],
  proposedAt: string,
): Promise<{ result: RowResult; caseId?: string }> {
  const nikHash = hashId('nik', family.nik);
  const kkHash = hashId('kk', family.kk);
  const caseId = caseIdFor(upload.district, upload.programYear, nikHash);
  const claim: Claim = {
    caseId,
    district: upload.district,
    programYear: upload.programYear,
    proposedAt,
    uploadId: upload.uploadId,
    claimedAt: new Date().toISOString(),
  };
  const rejected = (finding: Finding) => ({ result: { row, status: 'rejected' as const, errors: [...warnings, finding] } });

  const nik = await claimIdentity('NIK', nikHash, claim);
  if (!nik.won) return rejected(blockedFinding('nik', nik.blocker));
  const kk = await claimIdentity('KK', kkHash, claim);
  if (!kk.won) {
    await releaseClaim('NIK', nikHash, claim);
    return rejected(blockedFinding('no_kk', kk.blocker));
  }

  const personal: Personal = z.parse(Personal, {
    nik: family.nik,
    kk: family.kk,
    nama: family.nama,
    tanggalLahir: family.tanggalLahir,
    jenisKelamin: family.jenisKelamin,
    alamat: family.alamat,
    kecamatan: family.kecamatan,
    desa: family.desa,
    noHp: family.noHp,
    pendamping: family.pendamping,
  });
  const now = new Date().toISOString();
  const c: Case = {
    caseId,
    district: upload.district,
    programYear: upload.programYear,
    stage: 'verification',
    nikHash,
    kkHash,
    nikMasked: maskId(family.nik),
    personal: seal(personal),
    business: family.business,
    proposal: { uploadId: upload.uploadId, key: upload.key, row, proposedAt },
    intakeWarnings: warnings.map((w) => w.code),
    journeyRuns: 0,
    milestones: {},
    createdAt: now,
    updatedAt: now,
  };
  try {
    // false means an earlier read of this upload created it: same family, same case.
    await createCase(c);
  } catch (e) {
    if (!isItemRefused(e)) throw e;
    // This row alone can never be saved: it must not fail the upload, nor keep the family's claims.
    logger.warn('case refused by the table', { row, error: (e as Error).name });
    await releaseClaim('KK', kkHash, claim);
    await releaseClaim('NIK', nikHash, claim);
    return rejected(rowNotSaved);
  }
  return { result: { row, status: statusOf(warnings), errors: warnings }, caseId };
}

async function readObject(bucket: string, key: string, etag?: string): Promise<GetObjectCommandOutput> {
  try {
    return await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(etag ? { IfMatch: etag } : {}) }));
  } catch (e) {
    if ((e as { name?: string }).name !== 'PreconditionFailed') throw e;
    // Overwritten between the two reads: the new version has its own event and intake.
    throw new ProposalFileError('FILE_CHANGED', {
      id: 'Berkas diganti saat sedang dibaca; versi barunya diproses tersendiri.',
      en: 'The file was replaced while it was being read; its new version is processed on its own.',
    });
  }
}

export async function readProposal({ bucket, key }: z.infer<typeof Event>): Promise<IntakeResult> {
  // The ASL's IsProposalFile keeps these away; a direct call on one records an empty intake.
  if (!isProposalKey(key)) {
    const uploadId = opaqueId('upload', bucket, key);
    await putText(bucket, journeysKey(uploadId), '[]', 'application/json');
    return { uploadId, accepted: 0, rejected: 0, journeys: { bucket, key: journeysKey(uploadId) } };
  }

  const first = await readObject(bucket, key);
  const { upload, problem } = placeUpload(bucket, key, (first.ETag ?? '').replaceAll('"', ''), first.Metadata ?? {});
  // On every line from here on, "task failed" included; taskHandler clears it when the invocation ends.
  logger.appendKeys({ uploadId: upload.uploadId });
  const ctx: CheckContext = { district: upload.district, today: new Date() };
  if (problem) {
    bodyOf(first).destroy();
    return rejectFile(upload, problem);
  }
  const sheetOptions: SheetOptions = {
    fileName: upload.fileName,
    ...(first.ContentLength !== undefined ? { size: first.ContentLength } : {}),
  };
  const dryRun = await scanProposal(bodyOf(first), ctx, undefined, sheetOptions);
  if (!dryRun.ok) return rejectFile(upload, dryRun.problem);

  const second = await readObject(bucket, key, first.ETag);
  const file = await openProposal(bodyOf(second), ctx, sheetOptions);
  const proposedAt = new Date().toISOString();
  const rows: RowResult[] = [];
  const journeys: { row: number; caseId: string }[] = [];
  const pool = new Pool(WRITES_IN_FLIGHT);
  try {
    for await (const { row, check } of file.rows) {
      if (!check.ok) {
        rows.push({ row, status: 'rejected', errors: check.findings });
        continue;
      }
      await pool.run(async () => {
        const { result, caseId } = await register(upload, row, check.family, check.warnings, proposedAt);
        rows.push(result);
        if (caseId) journeys.push({ row, caseId });
      });
    }
    await pool.drain();
  } catch (e) {
    await pool.drain().catch(() => undefined);
    throw e;
  }
  rows.sort((a, b) => a.row - b.row);
  journeys.sort((a, b) => a.row - b.row);

  const list = journeys.map((j) => ({ caseId: j.caseId, executionName: journeyName(j.caseId, 1) }));
  await putText(bucket, journeysKey(upload.uploadId), JSON.stringify(list), 'application/json');
  const summary = summarize(rows);
  const report: ProposalReport = {
    file: key,
    district: upload.district,
    programYear: upload.programYear,
    uploadId: upload.uploadId,
    rows,
    summary,
    fileWarnings: file.fileWarnings,
    source: { format: file.format, ...(file.sheetName !== undefined ? { sheetName: file.sheetName } : {}) },
  };
  await publishReport(upload, report, file.separator);
  countProposalRows(upload, summary.accepted + summary.warning, summary.rejected);
  logger.info('proposal read', { district: upload.district, programYear: upload.programYear, ...summary });
  return {
    uploadId: upload.uploadId,
    accepted: summary.accepted + summary.warning,
    rejected: summary.rejected,
    journeys: { bucket, key: journeysKey(upload.uploadId) },
  };
}

export const handler = taskHandler('read-proposal', Event, readProposal);
