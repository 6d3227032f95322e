/**
 * What a district officer sees when a file reaches the intake more than once, end to end
 * on the embedded runtime (real handlers, s3rver, dynalite, engine):
 *
 * - one write delivered twice (an S3 event repeated) is one upload: the same report,
 *   nobody started twice;
 * - the same file uploaded again is a new upload, as on AWS (each write of an object gets
 *   its own ETag in a KMS-encrypted bucket): its families are reported ALREADY_PROPOSED,
 *   naming the date and district of the first upload, and nothing starts;
 * - a corrected file: the families registered from the first file are ALREADY_PROPOSED,
 *   the corrected rows are accepted and only they start a journey.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { proposalCsv, type SyntheticFamily, synthesizeFamilies } from '../../../cli/synthetic.ts';
import { intakeExecutionName, localS3Client } from '../../../embedded/local/s3.ts';
import { listAllExecutions, type Runtime, startIntake, startRuntime } from '../../../embedded/runtime/index.ts';

let dir: string;
let rt: Runtime;
let s3: S3Client;

const families: SyntheticFamily[] = [...synthesizeFamilies(4, { districts: ['3210'], ineligibleShare: 0, seed: 77 })];
const firstThree = families.slice(0, 3);
const key = 'proposals/3210/usulan-maret.csv';
const uploadOpts = { district: '3210', programYear: 2020, uploader: 'operator@dinsos.example', name: 'usulan-maret.csv' };

interface ReportRow {
  row: number;
  status: string;
  errors: { code: string; field: string; message: { id: string; en: string } }[];
}
interface Report {
  uploadId: string;
  rows: ReportRow[];
  summary: { accepted: number; warning: number; rejected: number };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prokus-dedupe-'));
  rt = await startRuntime({ dataDir: join(dir, 'data'), port: 0, quiet: true });
  s3 = localS3Client(rt.endpoints.s3, rt.credentials);
}, 60_000);

afterAll(async () => {
  s3?.destroy();
  await rt?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function upload(csv: string): Promise<string> {
  const file = join(dir, 'usulan-maret.csv');
  await writeFile(file, csv);
  await rt.upload(file, uploadOpts);
  await rt.idle({ timeoutMs: 120_000 });
  const head = await s3.send(new HeadObjectCommand({ Bucket: rt.bucket, Key: key }));
  return (head.ETag ?? '').replaceAll('"', '');
}

async function report(): Promise<Report> {
  const out = await s3.send(new GetObjectCommand({ Bucket: rt.bucket, Key: `${key}.report.json` }));
  return JSON.parse(await out.Body!.transformToString('utf8')) as Report;
}

const journeys = () => listAllExecutions(rt.engine, rt.journeyArn);
const intakes = () => listAllExecutions(rt.engine, rt.intakeArn);
const codes = (r: Report) => Object.fromEntries(r.rows.map((row) => [row.row, row.errors.map((e) => e.code)]));

/** The intake-report emails in the outbox, oldest first, as subjects. */
async function reportMails(): Promise<string[]> {
  const files = (await readdir(rt.outboxDir)).sort();
  const subjects: string[] = [];
  for (const f of files) {
    const mail = await simpleParser(await readFile(join(rt.outboxDir, f)));
    if (mail.headers.get('x-prokus-kind') === 'intake-report') subjects.push(mail.subject ?? '');
  }
  return subjects;
}

describe('the same proposal reaching the intake again', () => {
  let firstEtag: string;
  let firstReport: Report;

  it('first upload: three families accepted, one damaged row rejected, three journeys', async () => {
    firstEtag = await upload(proposalCsv(firstThree, 1));

    firstReport = await report();
    expect(firstReport.summary).toEqual({ accepted: 3, warning: 0, rejected: 1 });
    expect(journeys()).toHaveLength(3);
    expect(intakes()).toHaveLength(1);
    expect(await reportMails()).toEqual([expect.stringContaining('3 diterima/accepted, 1 ditolak/rejected')]);
  }, 120_000);

  it('the same S3 event delivered again starts no intake: its name is taken', async () => {
    await startIntake(rt.engine, rt.intakeArn, intakeExecutionName(key, firstEtag), { bucket: rt.bucket, key });
    await rt.idle({ timeoutMs: 60_000 });

    expect(intakes()).toHaveLength(1);
    expect(journeys()).toHaveLength(3);
    expect(await reportMails()).toHaveLength(1);
  }, 60_000);

  it('the same write read by a second intake (AWS: EventBridge names each run itself) gives the same report, starts nobody twice and mails nothing more', async () => {
    await rt.engine.startExecution({
      stateMachineArn: rt.intakeArn,
      name: 'redelivered-by-eventbridge',
      input: JSON.stringify({ bucket: rt.bucket, key }),
    });
    await rt.idle({ timeoutMs: 60_000 });

    const again = intakes().find((e) => e.name === 'redelivered-by-eventbridge');
    expect(again?.status).toBe('SUCCEEDED');
    expect(await report()).toEqual(firstReport);
    expect(journeys()).toHaveLength(3);
    const history = rt.engine.getExecutionHistory({ executionArn: again!.executionArn, maxResults: 1000 }).events;
    expect(history.filter((e) => e.stateEnteredEventDetails?.name === 'AlreadyStarted')).toHaveLength(3);
    // One upload, one summary: the second run finds it sent.
    expect(await reportMails()).toHaveLength(1);
  }, 60_000);

  it('the same file uploaded again is a new upload: every family already proposed (when, by whom), nobody started', async () => {
    const etag = await upload(proposalCsv(firstThree, 1));

    expect(etag).not.toBe(firstEtag);
    expect(intakes()).toHaveLength(3);
    const r = await report();
    expect(r.uploadId).not.toBe(firstReport.uploadId);
    expect(r.summary).toEqual({ accepted: 0, warning: 0, rejected: 4 });
    expect(codes(r)).toMatchObject({ 2: ['ALREADY_PROPOSED'], 3: ['ALREADY_PROPOSED'], 4: ['ALREADY_PROPOSED'] });
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Jakarta' }).format(new Date());
    expect(r.rows[0]?.errors[0]?.message.en).toBe(
      `This NIK was already proposed for 2020 by Kab. Majalengka (3210) on ${today}. A family is proposed only once in a program year.`,
    );
    expect(r.rows[0]?.errors[0]?.message.id).toContain('Kab. Majalengka');
    expect(journeys()).toHaveLength(3);
    expect((await reportMails()).at(-1)).toContain('0 diterima/accepted, 4 ditolak/rejected');
  }, 120_000);

  it('a corrected file: the families of the first file already proposed, the corrected row accepted and started', async () => {
    await upload(proposalCsv(families));

    const r = await report();
    expect(r.summary).toEqual({ accepted: 1, warning: 0, rejected: 3 });
    expect(codes(r)).toEqual({ 2: ['ALREADY_PROPOSED'], 3: ['ALREADY_PROPOSED'], 4: ['ALREADY_PROPOSED'], 5: [] });
    expect(journeys()).toHaveLength(4);
    expect(new Set(journeys().map((e) => e.name)).size).toBe(4);
    expect((await reportMails()).at(-1)).toContain('1 diterima/accepted, 3 ditolak/rejected');
  }, 120_000);
});
