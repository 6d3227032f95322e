/**
 * The funnel's metrics as real handlers publish them: EMF blobs, read back from the log
 * file Powertools Metrics wrote them to (as in the embedded runtime), parsed as
 * CloudWatch parses them.
 */
import { rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { sdkStreamMixin } from '@smithy/core/serde';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { PROPOSAL_COLUMNS } from '#intake/proposal';
import { useSecretForTests } from '#lib/secrets';
import { handler as close } from '../../functions/close.ts';
import { handler as readProposal } from '../../functions/read-proposal.ts';
import { handler as verification } from '../../functions/verification.ts';
import { answerCaseWrites } from '../helpers/case-writes.ts';
import { caseItem, makeCase, proposalRow, TEST_SECRET } from '../helpers/fixtures.ts';
import { invoke, setTestEnv } from '../helpers/lambda.ts';
import { type EmfBlob, emfBlobs, logLines } from '../helpers/log-file.ts';

const logFile = vi.hoisted(() => {
  const file = `${process.env.TMPDIR ?? '/tmp'}/prokus-metrics-test-${process.pid}-${Date.now()}.log`;
  process.env.PROKUS_LOG_FILE = file;
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
  process.env.LOG_LEVEL = 'info';
  return file;
});
afterAll(() => rm(logFile, { force: true }));

const ddb = mockClient(DynamoDBDocumentClient);
const s3 = mockClient(S3Client);
const ses = mockClient(SESv2Client);
setTestEnv();
useSecretForTests(TEST_SECRET);

let seen = 0;
/** The blobs published since the last call. */
async function published(): Promise<EmfBlob[]> {
  const all = await emfBlobs(logFile);
  const fresh = all.slice(seen);
  seen = all.length;
  return fresh;
}

const blobOf = (blobs: EmfBlob[], metric: string) =>
  blobs.find((b) => b._aws.CloudWatchMetrics[0]?.Metrics.some((m) => m.Name === metric));

beforeEach(async () => {
  ddb.reset();
  s3.reset();
  ses.reset();
  await published();
});

describe('funnel metrics', () => {
  it('Close: the case entered `closed` and closed `graduated`, national and per district', async () => {
    const c = makeCase({ stage: 'financing-referral' });
    ddb.on(GetCommand).resolves({ Item: caseItem(c) });
    answerCaseWrites(ddb, c.caseId);

    await invoke(close, { caseId: c.caseId, outcome: 'graduated' });

    const blobs = await published();
    expect(blobs).toHaveLength(2);
    const entered = blobOf(blobs, 'CaseEnteredStage');
    expect(entered?._aws.CloudWatchMetrics).toEqual([
      {
        Namespace: 'Prokus',
        Dimensions: [
          ['service', 'programYear', 'stage'],
          ['service', 'programYear', 'district', 'stage'],
        ],
        Metrics: [{ Name: 'CaseEnteredStage', Unit: 'Count' }],
      },
    ]);
    expect(entered).toMatchObject({
      service: 'prokus',
      programYear: '2020',
      district: '3210',
      stage: 'closed',
      CaseEnteredStage: 1,
    });

    const closed = blobOf(blobs, 'CaseClosed');
    expect(closed?._aws.CloudWatchMetrics[0]).toMatchObject({
      Namespace: 'Prokus',
      Dimensions: [
        ['service', 'programYear', 'outcome'],
        ['service', 'programYear', 'district', 'outcome'],
      ],
    });
    expect(closed).toMatchObject({ programYear: '2020', district: '3210', outcome: 'graduated', CaseClosed: 1 });
    // Nothing per family is a dimension or a value.
    expect(JSON.stringify(blobs)).not.toContain(c.caseId);
  });

  it('Verification of an eligible family: it entered grant-approval', async () => {
    const c = makeCase();
    ddb.on(GetCommand, { Key: { pk: `CASE#${c.caseId}`, sk: 'CASE' } }).resolves({ Item: caseItem(c) });
    ddb.on(GetCommand, { Key: { pk: `REGISTRY#${c.nikHash}`, sk: 'PKH' } }).resolves({
      Item: { pk: `REGISTRY#${c.nikHash}`, sk: 'PKH', nikHash: c.nikHash, graduatedOn: '2019-06-30', decile: 2, importedAt: 'x' },
    });
    answerCaseWrites(ddb, c.caseId);

    await invoke(verification, { caseId: c.caseId });

    const blobs = await published();
    expect(blobs).toHaveLength(1);
    expect(blobs[0]).toMatchObject({ stage: 'grant-approval', district: '3210', programYear: '2020', CaseEnteredStage: 1 });
  });

  it('Verification of an ineligible family: no stage change, one expected task error of the function', async () => {
    const c = makeCase();
    ddb.on(GetCommand, { Key: { pk: `CASE#${c.caseId}`, sk: 'CASE' } }).resolves({ Item: caseItem(c) });
    ddb.on(GetCommand, { Key: { pk: `REGISTRY#${c.nikHash}`, sk: 'PKH' } }).resolves({});
    answerCaseWrites(ddb, c.caseId);

    await expect(invoke(verification, { caseId: c.caseId })).rejects.toMatchObject({ name: 'IneligibleError' });

    const blobs = await published();
    expect(blobs).toHaveLength(1);
    expect(blobs[0]?._aws.CloudWatchMetrics[0]).toMatchObject({
      Namespace: 'Prokus',
      Dimensions: [['service', 'function']],
      Metrics: [{ Name: 'ExpectedTaskErrors', Unit: 'Count' }],
    });
    expect(blobs[0]).toMatchObject({ function: 'test', ExpectedTaskErrors: 1 });
  });

  it('ReadProposal: rows accepted and rejected of the upload, and the cases that entered verification', async () => {
    const header = PROPOSAL_COLUMNS.map((c) => c.name);
    const line = (row: Record<string, string>) => header.map((h) => row[h] ?? '').join(',');
    const good = { ...proposalRow, nama: 'Siti Aminah', deskripsi_usaha: 'Keripik singkong' };
    const bad = { ...proposalRow, nik: "'32100145059" };
    const body = [header.join(','), line(good), line(bad)].join('\r\n');
    s3.on(GetObjectCommand).callsFake(async () => ({
      Body: sdkStreamMixin(Readable.from([Buffer.from(body)])),
      ETag: '"etag-1"',
      Metadata: { 'program-year': '2020' },
      ContentLength: body.length,
    }));
    s3.on(PutObjectCommand).resolves({});
    ddb.on(PutCommand).resolves({});
    ddb.on(QueryCommand).resolves({ Items: [] }); // nobody has claimed these families
    ses.on(SendEmailCommand).resolves({ MessageId: 'm-1' });

    await expect(invoke(readProposal, { bucket: 'prokus-test-bucket', key: 'proposals/3210/usulan.csv' })).resolves.toMatchObject(
      {
        accepted: 1,
        rejected: 1,
      },
    );

    const blobs = await published();
    const rows = blobOf(blobs, 'ProposalRowsAccepted');
    expect(rows?._aws.CloudWatchMetrics).toEqual([
      {
        Namespace: 'Prokus',
        Dimensions: [
          ['service', 'programYear'],
          ['service', 'programYear', 'district'],
        ],
        Metrics: [
          { Name: 'ProposalRowsAccepted', Unit: 'Count' },
          { Name: 'ProposalRowsRejected', Unit: 'Count' },
        ],
      },
    ]);
    expect(rows).toMatchObject({ programYear: '2020', district: '3210', ProposalRowsAccepted: 1, ProposalRowsRejected: 1 });
    expect(blobOf(blobs, 'CaseEnteredStage')).toMatchObject({ stage: 'verification', district: '3210', CaseEnteredStage: 1 });
    expect(blobs).toHaveLength(2);
  });

  it('leaves Powertools nothing to warn about: every blob above was well formed', async () => {
    const lines = await logLines(logFile);
    expect(lines.filter((l) => l.level === 'WARN' || l.level === 'ERROR')).toEqual([]);
  });
});
