/**
 * The embedded runtime as a whole: real dynalite, s3rver, engine, AWS endpoint, pages
 * and handler modules, in this process. One data dir through a start, a stop and a
 * restart, because persistence across restarts is what is under test.
 */
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { HeadBucketCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ensureDemoAccounts } from '../../../cli/demo-accounts.ts';
import { Browsers } from '../../../cli/people.ts';
import { intakeExecutionName, localS3Client } from '../../../embedded/local/s3.ts';
import { EndpointsFile, listAllExecutions, RESTART_CAUSE, type Runtime, startRuntime } from '../../../embedded/runtime/index.ts';
import { approvalMails, decideEveryLevel } from '../../helpers/approval-levels.ts';

let dir: string;
let rt: Runtime | undefined;
let baseline: Map<string, number>;

function resources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of process.getActiveResourcesInfo()) counts.set(r, (counts.get(r) ?? 0) + 1);
  return counts;
}

/** Handles and requests still open beyond what the test worker had before the runtime started. */
function leftOver(): string[] {
  const extra: string[] = [];
  for (const [type, n] of resources()) if (n > (baseline.get(type) ?? 0)) extra.push(`${type} +${n - (baseline.get(type) ?? 0)}`);
  return extra;
}

const caseId = '3210-2020-restarttest0000000001';
let approvalLink: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prokus-runtime-'));
  baseline = resources();
});

afterAll(async () => {
  await rt?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('embedded runtime', () => {
  it('starts with the table, the bucket, a private program secret and its endpoints on file', async () => {
    const t0 = performance.now();
    rt = await startRuntime({ dataDir: dir, port: 0, quiet: true });
    const startupMs = performance.now() - t0;
    expect(startupMs).toBeLessThan(15_000);

    const dynamo = new DynamoDBClient({
      endpoint: rt.endpoints.dynamodb,
      region: 'ap-southeast-3',
      credentials: rt.credentials,
    });
    const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: rt.table }));
    dynamo.destroy();
    expect(Table?.TableStatus).toBe('ACTIVE');
    expect(Table?.GlobalSecondaryIndexes?.map((i) => i.IndexName)).toEqual(['byDistrictStage', 'byUploadStage']);

    const s3 = localS3Client(rt.endpoints.s3, rt.credentials);
    await expect(s3.send(new HeadBucketCommand({ Bucket: rt.bucket }))).resolves.toBeDefined();
    s3.destroy();

    const secretFile = join(dir, 'secret');
    expect((await readFile(secretFile, 'utf8')).trim()).toHaveLength(64);
    expect((await stat(secretFile)).mode & 0o777).toBe(0o600);

    const onFile = EndpointsFile.parse(JSON.parse(await readFile(join(dir, 'endpoints.json'), 'utf8')));
    expect(onFile).toMatchObject({
      pid: process.pid,
      endpoints: rt.endpoints,
      journeyArn: rt.journeyArn,
      intakeArn: rt.intakeArn,
    });
    expect(rt.journeyArn).toBe('arn:aws:states:ap-southeast-3:000000000000:stateMachine:prokus-journey');
    expect(
      rt.engine
        .listStateMachines()
        .map((m) => m.name)
        .sort(),
    ).toEqual(['prokus-intake', 'prokus-journey']);

    const health = await fetch(`${rt.endpoints.pages}/health`);
    expect(health.status).toBe(200);
  });

  it('starts one intake per upload (the same file uploaded twice is two uploads), and none for reports', async () => {
    const runtime = rt!;
    const file = join(dir, 'usulan.csv');
    await writeFile(file, 'nik,no_kk,nama\n');
    const { key } = await runtime.upload(file, { district: '3210', programYear: 2020, uploader: 'operator@dinsos.example' });
    expect(key).toBe('proposals/3210/usulan.csv');
    const s3 = localS3Client(runtime.endpoints.s3, runtime.credentials);
    const first = await s3.send(new HeadObjectCommand({ Bucket: runtime.bucket, Key: key }));
    await runtime.upload(file, { district: '3210', programYear: 2020, uploader: 'operator@dinsos.example' });
    await s3.send(new PutObjectCommand({ Bucket: runtime.bucket, Key: `${key}.report.csv`, Body: 'row,code\n' }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: runtime.bucket, Key: key }));
    s3.destroy();
    expect(head.Metadata).toEqual({ uploader: 'operator@dinsos.example', 'program-year': '2020' });
    await runtime.idle({ timeoutMs: 60_000 });

    // Like the KMS-encrypted bucket on AWS, each write gets its own ETag, even for the same bytes.
    expect(head.ETag).not.toBe(first.ETag);
    const intakes = listAllExecutions(runtime.engine, runtime.intakeArn);
    expect(intakes.map((e) => e.name).sort()).toEqual(
      [first, head].map((h) => intakeExecutionName(key, h.ETag!.replaceAll('"', ''))).sort(),
    );
    for (const intake of intakes) {
      expect(JSON.parse(intake.input)).toEqual({ bucket: 'prokus-local', key });
      // Idle means nothing left to do: the intakes have finished (a header-only file is rejected whole).
      expect(intake.status).not.toBe('RUNNING');
    }
  });

  it('parks a journey at grant approval with an emailed link', async () => {
    const runtime = rt!;
    const { loadKeys, seal } = await import('#lib/secrets');
    const { createCase } = await import('#store/cases');
    await loadKeys();
    const now = new Date().toISOString();
    await createCase({
      caseId,
      district: '3210',
      programYear: 2020,
      stage: 'grant-approval',
      nikHash: 'c'.repeat(32),
      kkHash: 'd'.repeat(32),
      nikMasked: '3210********0042',
      personal: seal({
        nik: '3210014508950042',
        kk: '3210010101090042',
        nama: 'Ibu Uji Coba',
        tanggalLahir: '1995-08-05',
        jenisKelamin: 'P',
        alamat: 'Jl. Contoh 1',
        kecamatan: 'Majalengka',
        desa: 'Cicurug',
        noHp: '+6281200000000',
      }),
      business: { type: 'kuliner', description: 'Keripik singkong', months: 12, monthlyRevenue: 1_500_000 },
      proposal: { uploadId: 'u1', key: 'proposals/3210/usulan.csv', row: 2, proposedAt: now },
      intakeWarnings: [],
      journeyRuns: 0,
      verification: { eligible: true, reasons: [], explanation: [], ruleVersion: '2020.1', at: now },
      milestones: {},
      createdAt: now,
      updatedAt: now,
    });
    await runtime.engine.startExecution({ stateMachineArn: runtime.journeyArn, name: caseId, input: JSON.stringify({ caseId }) });
    await runtime.idle({ timeoutMs: 60_000 });

    const journeys = listAllExecutions(runtime.engine, runtime.journeyArn);
    expect(journeys.map((e) => [e.name, e.status])).toEqual([[caseId, 'RUNNING']]);
    expect(runtime.engine.activity()).toEqual({ running: 1, waitingForTask: 1 });

    const approvals: string[] = [];
    for (const f of await readdir(runtime.outboxDir)) {
      const mail = await simpleParser(await readFile(join(runtime.outboxDir, f)));
      if (mail.headers.get('x-prokus-kind') === 'grant-approval') approvals.push(mail.text ?? '');
    }
    expect(approvals).toHaveLength(1);
    const link = /http:\/\/127\.0\.0\.1:\d+\/r\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/.exec(approvals[0]!)?.[0];
    expect(link).toBeDefined();
    approvalLink = link!;
  });

  it('stops without leaving handles open and removes its endpoints file', async () => {
    await rt?.stop();
    rt = undefined;
    await expect(stat(join(dir, 'endpoints.json'))).rejects.toMatchObject({ code: 'ENOENT' });
    await vi.waitFor(() => expect(leftOver()).toEqual([]), { timeout: 10_000, interval: 50 });
  });

  it('after a restart: history is kept, the interrupted journey resumes as -r2 and the emailed link still decides', async () => {
    rt = await startRuntime({ dataDir: dir, quiet: true });
    const runtime = rt;
    expect(runtime.resumed).toEqual({ journeys: 1, intakes: 0 });

    // The two intakes of the two uploads before the restart, kept.
    expect(listAllExecutions(runtime.engine, runtime.intakeArn)).toHaveLength(2);
    const journeys = Object.fromEntries(listAllExecutions(runtime.engine, runtime.journeyArn).map((e) => [e.name, e]));
    expect(journeys[caseId]).toMatchObject({ status: 'ABORTED', cause: RESTART_CAUSE });
    expect(journeys[`${caseId}-r2`]?.status).toBe('RUNNING');

    await runtime.idle({ timeoutMs: 60_000 });
    // The pages came back on the port the links were sent with.
    expect(approvalLink.startsWith(runtime.endpoints.pages)).toBe(true);
    // The approver signs in (the embedded provider came back too, with its accounts) and decides.
    await ensureDemoAccounts(runtime.dataDir, runtime.accountsFile);
    const browsers = new Browsers({ pagesUrl: runtime.endpoints.pages, outboxDir: runtime.outboxDir });
    // The district head decides through the link emailed before the restart, then the directorate through theirs.
    expect((await approvalMails(runtime.outboxDir, caseId)).find((m) => m.level === 1)?.link).toBe(approvalLink);
    const { shown, posted } = await decideEveryLevel(browsers, runtime, caseId);
    expect(shown.status).toBe(200);
    expect(posted.status).toBeLessThan(400);
    await runtime.idle({ timeoutMs: 60_000 });

    const { getCase } = await import('#store/cases');
    expect((await getCase(caseId)).grantApproval?.decision).toBe('approved');
    const history = runtime.engine.getExecutionHistory({
      executionArn: journeys[`${caseId}-r2`]!.executionArn,
      maxResults: 1000,
    });
    const entered = history.events.flatMap((e) => (e.stateEnteredEventDetails?.name ? [e.stateEnteredEventDetails.name] : []));
    expect(entered).toContain('Disbursement');
  });

  it('refuses a second runtime in the same process', async () => {
    await expect(startRuntime({ dataDir: join(dir, 'other'), port: 0, quiet: true })).rejects.toThrow(/one runtime per process/);
  });

  it('keeps the data folder private to its owner: every folder 0700, every file 0600, also one written before', async () => {
    const before = rt!.credentials;
    await rt?.stop();
    rt = undefined;
    // A data folder from before this rule, or one copied in with a lax umask.
    await chmod(dir, 0o755);
    await mkdir(join(dir, 'outbox', 'copied'), { mode: 0o755 });
    await chmod(join(dir, 'outbox', 'copied'), 0o755);
    await writeFile(join(dir, 'outbox', 'copied', 'old.eml'), 'x', { mode: 0o644 });
    await chmod(join(dir, 'outbox', 'copied', 'old.eml'), 0o644);
    await chmod(join(dir, 'secret'), 0o644);
    // What is not the runtime's keeps its modes (a data folder named by mistake, say `--data .`).
    await writeFile(join(dir, 'notes.txt'), 'x');
    await chmod(join(dir, 'notes.txt'), 0o644);
    rt = await startRuntime({ dataDir: dir, quiet: true });
    // The operator's shell that exported the credentials keeps working after a restart.
    expect(rt.credentials).toEqual(before);
    expect(rt.credentials.accessKeyId).not.toBe('S3RVER');
    const onFile = JSON.parse(await readFile(join(dir, 'credentials.json'), 'utf8'));
    expect(onFile).toEqual(before);
    await rt.stop();
    rt = undefined;

    expect((await stat(join(dir, 'notes.txt'))).mode & 0o777).toBe(0o644);
    await rm(join(dir, 'notes.txt'));
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    const names = entries.map((e) => join(e.parentPath, e.name).slice(dir.length + 1));
    // What the runtime writes is in the listing: the stores, the outbox, the log, the files of the data folder.
    for (const expected of [
      'secret',
      'credentials.json',
      'ports.json',
      'dynamodb',
      's3',
      'sfn',
      'outbox',
      join('logs', 'prokus.log'),
    ]) {
      expect(names).toContain(expected);
    }
    expect(names.some((n) => n.startsWith(`dynamodb${sep}`))).toBe(true);
    expect(names.some((n) => n.startsWith(`s3${sep}`) && n.endsWith('._S3rver_object'))).toBe(true);
    expect(names.some((n) => n.startsWith(`outbox${sep}`) && n.endsWith('.eml'))).toBe(true);
    const open: string[] = [];
    for (const path of [dir, ...entries.map((e) => join(e.parentPath, e.name))]) {
      const st = await lstat(path);
      if (st.isSymbolicLink()) continue;
      if ((st.mode & 0o077) !== 0) open.push(`${path.slice(dir.length)} ${(st.mode & 0o777).toString(8)}`);
    }
    expect(open).toEqual([]);
  });
});
