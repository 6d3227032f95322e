import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeTableCommand, DynamoDBClient, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, HeadBucketCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureTable, startDynamo } from '../../../embedded/local/dynamodb.ts';
import type { Keyring } from '../../../embedded/local/local-auth.ts';
import { isPortFree, type LocalService } from '../../../embedded/local/ports.ts';
import {
  intakeExecutionName,
  isProposalUpload,
  localS3Client,
  type ObjectCreated,
  objectsCreated,
  startS3,
} from '../../../embedded/local/s3.ts';

describe('intake trigger rules', () => {
  it('starts intake for uploads under proposals/ but not for the reports intake writes', () => {
    expect(isProposalUpload('proposals/3210/usulan.csv')).toBe(true);
    expect(isProposalUpload('proposals/3210/usulan.xlsx')).toBe(true);
    expect(isProposalUpload('proposals/3210/usulan.csv.report.csv')).toBe(false);
    expect(isProposalUpload('proposals/3210/usulan.csv.report.json')).toBe(false);
    expect(isProposalUpload('proposals/3210/')).toBe(false);
    expect(isProposalUpload('intake/journeys.json')).toBe(false);
  });

  it('names one intake per file version, without the file name in it', () => {
    const a = intakeExecutionName('proposals/3210/Usulan Majalengka (final).csv', 'etag-1');
    expect(a).toBe(intakeExecutionName('proposals/3210/Usulan Majalengka (final).csv', 'etag-1'));
    expect(a).not.toBe(intakeExecutionName('proposals/3210/Usulan Majalengka (final).csv', 'etag-2'));
    expect(a).not.toBe(intakeExecutionName('proposals/3217/Usulan Majalengka (final).csv', 'etag-1'));
    // Step Functions names: 1-80 characters of letters, digits, - and _.
    expect(a).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
    expect(a).not.toContain('Majalengka');
  });

  it('reads created objects from an s3rver event and ignores the rest', () => {
    const record = (eventName: string, object: Record<string, string>) => ({
      eventName,
      s3: { bucket: { name: 'prokus-local' }, object },
    });
    expect(
      objectsCreated({
        Records: [
          record('ObjectCreated:Put', { key: 'proposals/3210/a.csv', eTag: 'e1', sequencer: 's1' }),
          record('ObjectCreated:Copy', { key: 'proposals/3210/b.csv', sequencer: 's2' }),
          record('ObjectRemoved:Delete', { key: 'proposals/3210/c.csv', sequencer: 's3' }),
        ],
      }),
    ).toEqual([
      { bucket: 'prokus-local', key: 'proposals/3210/a.csv', eTag: 'e1' },
      { bucket: 'prokus-local', key: 'proposals/3210/b.csv', eTag: 's2' },
    ]);
    expect(objectsCreated({ unexpected: true })).toEqual([]);
  });
});

const keyring: Keyring = {
  operator: { accessKeyId: 'LOCALTESTOPERATOR000', secretAccessKey: 'operator-secret-for-the-services-test' },
  runtime: { accessKeyId: 'RUNTIMETESTKEY000000', secretAccessKey: 'runtime-secret-for-the-services-test' },
};

describe('local DynamoDB and S3', () => {
  let dir: string;
  const services: LocalService[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'prokus-services-'));
  });

  afterEach(async () => {
    for (const s of services.splice(0)) await s.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('creates the table with the CDK schema once, and keeps items on disk across restarts', async () => {
    const client = (endpoint: string) =>
      new DynamoDBClient({ endpoint, region: 'ap-southeast-3', credentials: keyring.operator });
    const first = await startDynamo({ dir: join(dir, 'dynamodb'), keyring });
    services.push(first);
    await ensureTable(first.endpoint, 'prokus-local', keyring.runtime);
    await ensureTable(first.endpoint, 'prokus-local', keyring.runtime);
    const c1 = client(first.endpoint);
    const { Table } = await c1.send(new DescribeTableCommand({ TableName: 'prokus-local' }));
    expect(Table?.TableStatus).toBe('ACTIVE');
    expect(Table?.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    expect(Table?.GlobalSecondaryIndexes?.[0]).toMatchObject({
      IndexName: 'byDistrictStage',
      KeySchema: [
        { AttributeName: 'gsi1pk', KeyType: 'HASH' },
        { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'ALL' },
    });
    await c1.send(new PutItemCommand({ TableName: 'prokus-local', Item: { pk: { S: 'CASE#x' }, sk: { S: 'CASE' } } }));
    c1.destroy();
    await services.pop()?.close();

    const second = await startDynamo({ dir: join(dir, 'dynamodb'), keyring });
    services.push(second);
    await ensureTable(second.endpoint, 'prokus-local', keyring.runtime);
    const c2 = client(second.endpoint);
    const { Items } = await c2.send(new ScanCommand({ TableName: 'prokus-local' }));
    expect(Items).toEqual([{ pk: { S: 'CASE#x' }, sk: { S: 'CASE' } }]);
    c2.destroy();
  });

  it('serves the bucket and reports each write so intake can start', async () => {
    const created: ObjectCreated[] = [];
    const s3Service = await startS3({
      dir: join(dir, 's3'),
      bucket: 'prokus-local',
      keyring,
      onObjectCreated: (o) => created.push(o),
    });
    services.push(s3Service);
    const s3 = localS3Client(s3Service.endpoint, keyring.operator);
    await s3.send(new HeadBucketCommand({ Bucket: 'prokus-local' }));
    const put = await s3.send(new PutObjectCommand({ Bucket: 'prokus-local', Key: 'proposals/3210/usulan.csv', Body: 'nik\n' }));
    const got = await s3.send(new GetObjectCommand({ Bucket: 'prokus-local', Key: 'proposals/3210/usulan.csv' }));
    expect(await got.Body?.transformToString()).toBe('nik\n');
    expect(created).toEqual([{ bucket: 'prokus-local', key: 'proposals/3210/usulan.csv', eTag: put.ETag?.replaceAll('"', '') }]);
    s3.destroy();
  });

  it('replaces an object atomically: a read in progress gets the whole old version', async () => {
    const s3Service = await startS3({ dir: join(dir, 's3'), bucket: 'prokus-local', keyring, onObjectCreated: () => undefined });
    services.push(s3Service);
    const s3 = localS3Client(s3Service.endpoint, keyring.operator);
    const oldBody = Buffer.alloc(8 * 1024 * 1024, 'a');
    const newBody = Buffer.from('short new version');
    await s3.send(new PutObjectCommand({ Bucket: 'prokus-local', Key: 'proposals/3210/usulan.csv', Body: oldBody }));
    const reading = await s3.send(new GetObjectCommand({ Bucket: 'prokus-local', Key: 'proposals/3210/usulan.csv' }));
    await s3.send(new PutObjectCommand({ Bucket: 'prokus-local', Key: 'proposals/3210/usulan.csv', Body: newBody }));
    const read = Buffer.from((await reading.Body?.transformToByteArray()) ?? []);
    expect(read.equals(oldBody)).toBe(true);
    const again = await s3.send(new GetObjectCommand({ Bucket: 'prokus-local', Key: 'proposals/3210/usulan.csv' }));
    expect(await again.Body?.transformToString()).toBe('short new version');
    expect(again.ContentLength).toBe(newBody.length);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'prokus-local' }));
    expect(listed.Contents?.map((o) => o.Key)).toEqual(['proposals/3210/usulan.csv']);
    s3.destroy();
  });

  it('refuses a port already in use instead of crashing', async () => {
    const s3Service = await startS3({ dir: join(dir, 's3'), bucket: 'prokus-local', keyring, onObjectCreated: () => undefined });
    services.push(s3Service);
    const port = Number(new URL(s3Service.endpoint).port);
    expect(await isPortFree(port)).toBe(false);
    await expect(
      startS3({ dir: join(dir, 's3b'), bucket: 'b', port, keyring, onObjectCreated: () => undefined }),
    ).rejects.toMatchObject({
      code: 'EADDRINUSE',
    });
  });
});
