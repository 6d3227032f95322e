/**
 * A failed intake redriven as the README says, on one machine: real handlers, s3rver,
 * dynalite and engine. SES refuses the upload's summary email once, after ReadProposal
 * registered the families and wrote the report, so the intake fails in ReadProposal with
 * SES's error. The operator's `aws stepfunctions redrive-execution` (here the same call
 * through @aws-sdk/client-sfn on the embedded endpoint, with the operator's credentials)
 * runs ReadProposal again with the same input: the claims and cases are its own, the
 * report is the same, the summary goes out once, and every family gets one journey.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, RedriveExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { proposalCsv, synthesizeFamilies } from '../../../cli/synthetic.ts';
import { ApiError } from '../../../embedded/aws-endpoint/api-error.ts';
import { localS3Client } from '../../../embedded/local/s3.ts';
import { listAllExecutions, type Runtime, startIntake, startRuntime } from '../../../embedded/runtime/index.ts';

const FAMILIES = 4;
const families = [...synthesizeFamilies(FAMILIES, { districts: ['3210'], ineligibleShare: 0, seed: 909 })];
const key = 'proposals/3210/usulan-redrive.csv';

let dir: string;
let rt: Runtime;
let s3: S3Client;
let sfn: SFNClient;
const refused: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prokus-intake-redrive-'));
  rt = await startRuntime({
    dataDir: join(dir, 'data'),
    port: 0,
    quiet: true,
    // SES refuses the first summary email, as when sending is paused for the account.
    sesFault: (raw) => {
      if (refused.length > 0 || !raw.toString('utf8').includes('X-Prokus-Kind: intake-report')) return undefined;
      refused.push('intake-report');
      return new ApiError('SendingPausedException', 'Email sending is disabled for this account.', 400);
    },
  });
  s3 = localS3Client(rt.endpoints.s3, rt.credentials);
  sfn = new SFNClient({ endpoint: rt.endpoints.sfn, region: 'ap-southeast-3', credentials: rt.credentials });
}, 60_000);

afterAll(async () => {
  s3?.destroy();
  sfn?.destroy();
  await rt?.stop();
  await rm(dir, { recursive: true, force: true });
});

interface Report {
  uploadId: string;
  rows: { row: number; status: string; errors: { code: string }[] }[];
  summary: { accepted: number; warning: number; rejected: number };
}

async function report(): Promise<Report> {
  const out = await s3.send(new GetObjectCommand({ Bucket: rt.bucket, Key: `${key}.report.json` }));
  return JSON.parse(await out.Body!.transformToString('utf8')) as Report;
}

async function summaryMails(): Promise<string[]> {
  const subjects: string[] = [];
  for (const f of (await readdir(rt.outboxDir)).sort()) {
    const mail = await simpleParser(await readFile(join(rt.outboxDir, f)));
    if (mail.headers.get('x-prokus-kind') === 'intake-report') subjects.push(mail.subject ?? '');
  }
  return subjects;
}

const intakes = () => listAllExecutions(rt.engine, rt.intakeArn);
const journeys = () => listAllExecutions(rt.engine, rt.journeyArn);
const entered = (executionArn: string) =>
  rt.engine
    .getExecutionHistory({ executionArn, maxResults: 1000 })
    .events.flatMap((e) => (e.stateEnteredEventDetails?.name ? [e.stateEnteredEventDetails.name] : []));

/** The families' NIK claims: which upload holds each. */
async function nikClaims(): Promise<string[][]> {
  const { hashId, loadKeys } = await import('#lib/secrets');
  const { claimsOf } = await import('#store/claims');
  await loadKeys();
  return Promise.all(families.map(async (f) => (await claimsOf('NIK', hashId('nik', f.nik))).map((c) => c.uploadId)));
}

describe('an intake that failed in ReadProposal, redriven', () => {
  let failedReport: Report;
  let executionArn: string;

  it('fails in ReadProposal with SES’s error, after registering the families and writing the report; no journey started', async () => {
    const file = join(dir, 'usulan-redrive.csv');
    await writeFile(file, proposalCsv(families, 1));
    await rt.upload(file, {
      district: '3210',
      programYear: 2020,
      uploader: 'operator@dinsos.example',
      name: 'usulan-redrive.csv',
    });
    await rt.idle({ timeoutMs: 120_000 });

    expect(refused).toEqual(['intake-report']);
    const [failed, ...others] = intakes();
    expect(others).toEqual([]);
    executionArn = failed!.executionArn;
    expect(failed).toMatchObject({ status: 'FAILED', error: 'SendingPausedException' });
    expect(failed?.cause).toContain('Email sending is disabled');
    expect(entered(executionArn)).toEqual(['IsProposalFile', 'ReadProposal']);
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    expect(described.redriveStatus).toBe('REDRIVABLE');

    failedReport = await report();
    expect(failedReport.summary).toEqual({ accepted: FAMILIES, warning: 0, rejected: 1 });
    const { listCases } = await import('#store/cases');
    expect((await listCases('3210', 2020, 'verification')).map((c) => c.proposal.uploadId)).toEqual(
      Array(FAMILIES).fill(failedReport.uploadId),
    );
    expect(await nikClaims()).toEqual(families.map(() => [failedReport.uploadId]));
    expect(journeys()).toEqual([]);
    expect(await summaryMails()).toEqual([]);
  }, 150_000);

  it('redrive-execution runs ReadProposal again: its own claims, the same report, one summary, one journey per family', async () => {
    await sfn.send(new RedriveExecutionCommand({ executionArn }));
    await rt.idle({ timeoutMs: 120_000 });

    const [done, ...others] = intakes();
    expect(others).toEqual([]);
    expect(done).toMatchObject({ executionArn, status: 'SUCCEEDED', redriveCount: 1 });
    const states = entered(executionArn);
    const again = states.slice(states.lastIndexOf('ReadProposal'));
    expect(again[0]).toBe('ReadProposal');
    expect(again).not.toContain('AlreadyStarted');
    expect(again.at(-1)).toBe('IntakeDone');
    expect(states.filter((s) => s === 'IsProposalFile')).toHaveLength(1);

    // Nothing reads as "already proposed": the claims the first run wrote name this upload.
    expect(await report()).toEqual(failedReport);
    expect(await nikClaims()).toEqual(families.map(() => [failedReport.uploadId]));
    const { listCases } = await import('#store/cases');
    expect(await listCases('3210', 2020)).toHaveLength(FAMILIES);
    expect(await summaryMails()).toEqual([expect.stringContaining(`${FAMILIES} diterima/accepted, 1 ditolak/rejected`)]);
    const started = journeys();
    expect(started).toHaveLength(FAMILIES);
    expect(new Set(started.map((j) => j.name)).size).toBe(FAMILIES);
  }, 150_000);

  it('the same S3 event delivered after the redrive succeeded starts nothing more', async () => {
    // The runtime names an intake after the write it reads (embedded/local/s3.ts), as a repeat does.
    const [first] = intakes();
    await startIntake(rt.engine, rt.intakeArn, first!.name, { bucket: rt.bucket, key });
    await rt.idle({ timeoutMs: 60_000 });

    expect(intakes()).toHaveLength(1);
    expect(journeys()).toHaveLength(FAMILIES);
    expect(await summaryMails()).toHaveLength(1);
  }, 90_000);
});
