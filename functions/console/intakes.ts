/**
 * The console's intakes: every intake execution with the file it read (its input names the
 * key) and the report ReadProposal wrote next to that file (`<file>.report.csv`). A file
 * uploaded again under the same name has one report, the latest upload's: the report says
 * which upload it is of (its `upload-id` metadata), and the list says so when it is a later one.
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { ExecutionListItem } from '@aws-sdk/client-sfn';
import * as z from '#domain/zod';
import { s3 } from '#lib/clients/s3';
import { requiredEnv } from '#lib/env';
import { describeExecution } from './executions.ts';

/** A report larger than this is not sent through the console (a Lambda answer is at most 6 MB). */
export const REPORT_MAX_BYTES = 5 * 2 ** 20;

const IntakeInput = z.object({ bucket: z.string(), key: z.string().check(z.regex(/^proposals\/\d{4}\/[^/]+$/)) });

export interface IntakeRow {
  execution: ExecutionListItem;
  /** The uploaded file, `proposals/<district>/<file>`; undefined when the input names none (not a proposal). */
  key?: string;
  district?: string;
  file?: string;
}

/** The file each listed intake read (one DescribeExecution each, in parallel: a page is at most 50). */
export async function withFiles(executions: readonly ExecutionListItem[]): Promise<IntakeRow[]> {
  return Promise.all(
    executions.map(async (execution) => {
      const described = await describeExecution('intake', execution.name ?? '');
      const parsed = IntakeInput.safeParse(JSON.parse(described?.input ?? '{}'));
      if (!parsed.success) return { execution };
      const [, district, file] = parsed.data.key.split('/');
      return { execution, key: parsed.data.key, district, file };
    }),
  );
}

export type ReportAnswer = { kind: 'report'; csv: string; uploadId?: string } | { kind: 'too-large' } | { kind: 'none' };

/** The report next to an uploaded file, if ReadProposal wrote one. */
export async function readReport(uploadKey: string): Promise<ReportAnswer> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: requiredEnv('BUCKET_NAME'), Key: `${uploadKey}.report.csv` }));
    if ((out.ContentLength ?? 0) > REPORT_MAX_BYTES) {
      await out.Body?.transformToByteArray().catch(() => undefined);
      return { kind: 'too-large' };
    }
    const uploadId = out.Metadata?.['upload-id'];
    return { kind: 'report', csv: (await out.Body?.transformToString('utf8')) ?? '', ...(uploadId ? { uploadId } : {}) };
  } catch (e) {
    const name = (e as { name?: string })?.name;
    if (name === 'NoSuchKey' || name === 'NotFound') return { kind: 'none' };
    throw e;
  }
}

/** The intake of an execution name: its file, or undefined when there is no such intake or it read no proposal. */
export async function intakeFile(name: string): Promise<string | undefined> {
  const described = await describeExecution('intake', name);
  if (!described) return undefined;
  const parsed = IntakeInput.safeParse(JSON.parse(described.input ?? '{}'));
  return parsed.success ? parsed.data.key : undefined;
}
