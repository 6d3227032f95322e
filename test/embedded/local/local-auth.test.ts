/**
 * The local services are not an open door (issue 7.10): Step Functions, SES, Secrets
 * Manager, DynamoDB and S3 answer only requests with a loopback Host that are signed with
 * the data folder's key pairs, send no CORS headers a web page could use, and hand the
 * program secret to the runtime's own key pair only.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, ListTablesCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { ListStateMachinesCommand, SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwsEndpoint, startAwsEndpoint } from '../../../embedded/aws-endpoint/server.ts';
import { ensureTable, startDynamo } from '../../../embedded/local/dynamodb.ts';
import { isLoopbackHost, type Keyring, type LocalCredentials } from '../../../embedded/local/local-auth.ts';
import type { LocalService } from '../../../embedded/local/ports.ts';
import { localS3Client, startS3 } from '../../../embedded/local/s3.ts';
import { Engine } from '../../../embedded/stepfunctions/engine.ts';
import { type RawResponse, rawRequest } from '../../helpers/sigv4.ts';

const keyring: Keyring = {
  operator: { accessKeyId: 'LOCALAUTHTESTOPER000', secretAccessKey: 'operator-secret-of-the-auth-test-0123' },
  runtime: { accessKeyId: 'RUNTIMEAUTHTEST00000', secretAccessKey: 'runtime-secret-of-the-auth-test-01234' },
};
const wrongSecret: LocalCredentials = { accessKeyId: keyring.operator.accessKeyId, secretAccessKey: 'not-the-secret' };
const unknownKey: LocalCredentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
const PROGRAM_SECRET = 'the-program-secret-that-must-not-leak-0123456789';
const MIME = 'From: prokus@kemensos.example\r\nTo: approver@dinsos.example\r\nSubject: Disetujui\r\n\r\nPalsu.\r\n';

let dir: string;
let engine: Engine;
let aws: AwsEndpoint;
let dynamo: LocalService;
let s3: LocalService;

const region = 'ap-southeast-3';
const sfn = (credentials: LocalCredentials) => new SFNClient({ endpoint: aws.url, region, credentials, maxAttempts: 1 });
const ses = (credentials: LocalCredentials) => new SESv2Client({ endpoint: aws.url, region, credentials, maxAttempts: 1 });
const secrets = (credentials: LocalCredentials) =>
  new SecretsManagerClient({ endpoint: aws.url, region, credentials, maxAttempts: 1 });
const ddb = (credentials: LocalCredentials) =>
  new DynamoDBClient({ endpoint: dynamo.endpoint, region, credentials, maxAttempts: 1 });
const bucket = (credentials: LocalCredentials) => localS3Client(s3.endpoint, credentials);

const outbox = async () => (await readdir(join(dir, 'outbox'))).filter((f) => f.endsWith('.eml'));

/** Sends a request with the SDK client, expecting it refused; returns the error's name. */
async function refusedWith(send: () => Promise<unknown>): Promise<string> {
  try {
    await send();
  } catch (e) {
    return (e as { name: string }).name;
  }
  throw new Error('the request was answered');
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prokus-auth-'));
  engine = new Engine();
  aws = await startAwsEndpoint({ engine, outboxDir: join(dir, 'outbox'), secrets: { 'prokus/secret': PROGRAM_SECRET }, keyring });
  dynamo = await startDynamo({ dir: join(dir, 'dynamodb'), keyring });
  await ensureTable(dynamo.endpoint, 'prokus-local', keyring.runtime);
  s3 = await startS3({ dir: join(dir, 's3'), bucket: 'prokus-local', keyring, onObjectCreated: () => undefined });
  const writer = bucket(keyring.operator);
  await writer.send(new PutObjectCommand({ Bucket: 'prokus-local', Key: 'proposals/3210/usulan.csv', Body: 'nik\n' }));
  writer.destroy();
});

afterAll(async () => {
  await aws?.close();
  await dynamo?.close();
  await s3?.close();
  await engine?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('unsigned requests', () => {
  it('are refused by every service, AWS-shaped, and nothing is done', async () => {
    const json = (target: string, version: string, body: string) =>
      rawRequest(aws.url, {
        method: 'POST',
        headers: { 'content-type': `application/x-amz-json-${version}`, 'x-amz-target': target },
        body,
      });
    const listed = await json('AWSStepFunctions.ListStateMachines', '1.0', '{}');
    expect(listed.status).toBe(403);
    expect(JSON.parse(listed.body)).toMatchObject({ __type: 'MissingAuthenticationTokenException' });

    const secret = await json('secretsmanager.GetSecretValue', '1.1', '{"SecretId":"prokus/secret"}');
    expect(secret.status).toBe(403);
    expect(secret.body).not.toContain(PROGRAM_SECRET);

    const mail = await rawRequest(`${aws.url}/v2/email/outbound-emails`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ Content: { Raw: { Data: Buffer.from(MIME).toString('base64') } } }),
    });
    expect(mail.status).toBe(403);
    expect(mail.headers['x-amzn-errortype']).toBe('MissingAuthenticationTokenException');
    expect(await outbox()).toEqual([]);

    const scan = await rawRequest(dynamo.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.Scan' },
      body: '{"TableName":"prokus-local"}',
    });
    expect(scan.status).toBe(403);
    expect(JSON.parse(scan.body)).toMatchObject({ __type: expect.stringContaining('MissingAuthenticationTokenException') });

    const object = await rawRequest(`${s3.endpoint}/prokus-local/proposals/3210/usulan.csv`, {});
    expect(object.status).toBe(403);
    expect(object.body).toContain('<Code>AccessDenied</Code>');
    expect(object.body).not.toContain('nik');
  });

  it('with a made-up signature (the old well-known key pair) are refused too', async () => {
    const forged = await rawRequest(dynamo.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'DynamoDB_20120810.Scan',
        'x-amz-date': new Date().toISOString().replace(/[-:]|\.\d{3}/g, ''),
        authorization: `AWS4-HMAC-SHA256 Credential=${keyring.operator.accessKeyId}/20200101/${region}/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`,
      },
      body: '{"TableName":"prokus-local"}',
    });
    expect(forged.status).toBe(403);
    expect(forged.body).not.toContain('Items');
  });
});

describe('wrongly signed requests', () => {
  it('a wrong secret access key: InvalidSignatureException / SignatureDoesNotMatch on every service', async () => {
    const clients = [sfn(wrongSecret), ses(wrongSecret), secrets(wrongSecret), ddb(wrongSecret), bucket(wrongSecret)] as const;
    const [stepFunctions, mail, secret, table, objects] = clients;
    expect(await refusedWith(() => stepFunctions.send(new ListStateMachinesCommand({})))).toBe('InvalidSignatureException');
    expect(await refusedWith(() => mail.send(new SendEmailCommand({ Content: { Raw: { Data: Buffer.from(MIME) } } })))).toBe(
      'InvalidSignatureException',
    );
    expect(await refusedWith(() => secret.send(new GetSecretValueCommand({ SecretId: 'prokus/secret' })))).toBe(
      'InvalidSignatureException',
    );
    expect(await refusedWith(() => table.send(new ScanCommand({ TableName: 'prokus-local' })))).toBe('InvalidSignatureException');
    expect(
      await refusedWith(() => objects.send(new GetObjectCommand({ Bucket: 'prokus-local', Key: 'proposals/3210/usulan.csv' }))),
    ).toBe('SignatureDoesNotMatch');
    for (const c of clients) c.destroy();
    expect(await outbox()).toEqual([]);
  });

  it('a key id that is not this data folder’s: UnrecognizedClientException / InvalidAccessKeyId', async () => {
    const table = ddb(unknownKey);
    const stepFunctions = sfn(unknownKey);
    const objects = bucket(unknownKey);
    expect(await refusedWith(() => table.send(new ListTablesCommand({})))).toBe('UnrecognizedClientException');
    expect(await refusedWith(() => stepFunctions.send(new ListStateMachinesCommand({})))).toBe('UnrecognizedClientException');
    expect(
      await refusedWith(() => objects.send(new GetObjectCommand({ Bucket: 'prokus-local', Key: 'proposals/3210/usulan.csv' }))),
    ).toBe('InvalidAccessKeyId');
    for (const c of [table, stepFunctions, objects]) c.destroy();
  });

  it('a body changed after signing is refused (the signature covers it)', async () => {
    const signed = await rawRequest(aws.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AWSStepFunctions.ListStateMachines' },
      body: '{}',
      sign: { credentials: keyring.operator, service: 'states' },
    });
    expect(signed.status).toBe(200);
    const tampered = await rawRequest(aws.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AWSStepFunctions.ListStateMachines' },
      body: '{}',
      sign: { credentials: keyring.operator, service: 'states' },
      // Same length, so only the payload hash differs.
      tamper: () => '[]',
    });
    expect(tampered.status).toBe(403);
    expect(JSON.parse(tampered.body)).toMatchObject({ __type: 'InvalidSignatureException' });
  });
});

describe('the Host header (DNS rebinding)', () => {
  it('accepts only 127.0.0.1, localhost and [::1] on the service’s own port', () => {
    expect(isLoopbackHost('127.0.0.1:4566', 4566)).toBe(true);
    expect(isLoopbackHost('localhost:4566', 4566)).toBe(true);
    expect(isLoopbackHost('[::1]:4566', 4566)).toBe(true);
    expect(isLoopbackHost('127.0.0.1:4567', 4566)).toBe(false);
    expect(isLoopbackHost('evil.example:4566', 4566)).toBe(false);
    expect(isLoopbackHost('127.0.0.1', 4566)).toBe(false);
    expect(isLoopbackHost(undefined, 4566)).toBe(false);
  });

  it('refuses a correctly signed request to Host evil.example:PORT on every service', async () => {
    const evil = (url: string) => `evil.example:${new URL(url).port}`;
    const asEvil = async (
      url: string,
      service: string,
      opts: { method?: string; headers?: Record<string, string>; body?: string },
    ) =>
      rawRequest(url, {
        ...opts,
        headers: { ...opts.headers, host: evil(url) },
        sign: { credentials: keyring.operator, service },
      });
    const results: [string, RawResponse][] = [
      [
        'sfn',
        await asEvil(aws.url, 'states', {
          method: 'POST',
          headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AWSStepFunctions.ListStateMachines' },
          body: '{}',
        }),
      ],
      [
        'ses',
        await asEvil(`${aws.url}/v2/email/outbound-emails`, 'ses', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ Content: { Raw: { Data: Buffer.from(MIME).toString('base64') } } }),
        }),
      ],
      [
        'dynamodb',
        await asEvil(dynamo.endpoint, 'dynamodb', {
          method: 'POST',
          headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.Scan' },
          body: '{"TableName":"prokus-local"}',
        }),
      ],
      ['s3', await asEvil(`${s3.endpoint}/prokus-local/proposals/3210/usulan.csv`, 's3', {})],
    ];
    for (const [service, res] of results) {
      expect([service, res.status]).toEqual([service, 403]);
      expect(res.body).not.toContain('nik');
      expect(res.body).not.toContain('Items');
    }
    expect(await outbox()).toEqual([]);
  });
});

describe('CORS: a web page gets nothing', () => {
  it('an OPTIONS preflight gets no Access-Control-Allow-* headers from any service', async () => {
    const preflight = {
      method: 'OPTIONS',
      headers: {
        origin: 'https://evil.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-amz-target',
      },
    };
    for (const url of [aws.url, `${aws.url}/v2/email/outbound-emails`, dynamo.endpoint, `${s3.endpoint}/prokus-local/x`]) {
      const res = await rawRequest(url, preflight);
      expect(res.status).toBe(403);
      expect(Object.keys(res.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
    }
  });

  it('a cross-site text/plain POST (a form a page may send without preflight) writes nothing to the outbox', async () => {
    const res = await rawRequest(`${aws.url}/v2/email/outbound-emails`, {
      method: 'POST',
      headers: { origin: 'https://evil.example', 'content-type': 'text/plain' },
      body: JSON.stringify({ Content: { Raw: { Data: Buffer.from(MIME).toString('base64') } } }),
    });
    expect(res.status).toBe(403);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect(await outbox()).toEqual([]);
  });

  it('a signed request with an Origin header gets no Access-Control-Allow-Origin (dynalite and s3rver add one)', async () => {
    const scan = await rawRequest(dynamo.endpoint, {
      method: 'POST',
      headers: {
        origin: 'https://evil.example',
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'DynamoDB_20120810.ListTables',
      },
      body: '{}',
      sign: { credentials: keyring.operator, service: 'dynamodb' },
    });
    expect(scan.status).toBe(200);
    expect(Object.keys(scan.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
  });
});

describe('the program secret', () => {
  it('goes to the runtime’s own key pair only, not to the operator’s (the CLI, the AWS CLI)', async () => {
    const operator = secrets(keyring.operator);
    expect(await refusedWith(() => operator.send(new GetSecretValueCommand({ SecretId: 'prokus/secret' })))).toBe(
      'AccessDeniedException',
    );
    operator.destroy();
    const runtime = secrets(keyring.runtime);
    expect((await runtime.send(new GetSecretValueCommand({ SecretId: 'prokus/secret' }))).SecretString).toBe(PROGRAM_SECRET);
    runtime.destroy();
  });

  it('the operator key pair still reads and writes everything else', async () => {
    const table = ddb(keyring.operator);
    expect((await table.send(new ListTablesCommand({}))).TableNames).toEqual(['prokus-local']);
    table.destroy();
    const mail = ses(keyring.operator);
    await mail.send(new SendEmailCommand({ Content: { Raw: { Data: Buffer.from(MIME) } } }));
    mail.destroy();
    expect(await outbox()).toHaveLength(1);
  });
});
