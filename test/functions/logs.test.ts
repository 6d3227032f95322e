/**
 * The log lines real handlers write, read back from the file the real logger wrote them
 * to (as in the embedded runtime): the Lambda context and the case id on every line of a
 * task, and no NIK, KK, name, address or phone number anywhere.
 */

import { rm } from 'node:fs/promises';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { logger, REDACTED } from '#lib/logger';
import { signLink } from '#lib/secrets';
import { handler as pages } from '../../functions/pages.ts';
import { handler as verification } from '../../functions/verification.ts';
import { answerCaseWrites } from '../helpers/case-writes.ts';
import { caseItem, makeCase, personal } from '../helpers/fixtures.ts';
import { invoke, lambdaContext, setTestEnv } from '../helpers/lambda.ts';
import { logLines, logText } from '../helpers/log-file.ts';

const logFile = vi.hoisted(() => {
  const file = `${process.env.TMPDIR ?? '/tmp'}/prokus-logs-test-${process.pid}-${Date.now()}.log`;
  process.env.PROKUS_LOG_FILE = file;
  process.env.LOG_LEVEL = 'info';
  return file;
});

afterAll(() => rm(logFile, { force: true }));

const ddb = mockClient(DynamoDBDocumentClient);
setTestEnv();
const c = makeCase();

/** Everything personal the fixture family has, as it could appear in a line. */
const secrets = [personal.nik, personal.kk, personal.nama, personal.alamat, personal.noHp];

beforeEach(() => {
  ddb.reset();
  ddb.on(GetCommand, { Key: { pk: `CASE#${c.caseId}`, sk: 'CASE' } }).resolves({ Item: caseItem(c) });
  // Not in the PKH registry: ineligible.
  ddb.on(GetCommand, { Key: { pk: `REGISTRY#${c.nikHash}`, sk: 'PKH' } }).resolves({});
  answerCaseWrites(ddb, c.caseId);
});

const linesWith = async (message: string) => (await logLines(logFile)).filter((l) => l.message === message);

describe('log lines of a task', () => {
  it('Verification throwing IneligibleError: "task failed" carries the case id and the Lambda context, and no personal data', async () => {
    await expect(invoke(verification, { caseId: c.caseId })).rejects.toMatchObject({ name: 'IneligibleError' });

    const [failed, ...more] = await linesWith('task failed');
    expect(more).toEqual([]);
    expect(failed).toMatchObject({
      level: 'INFO',
      service: 'prokus',
      caseId: c.caseId,
      handler: 'verification',
      error: 'IneligibleError',
      expected: true,
      function_name: 'test',
      function_request_id: 'req-1',
      cold_start: expect.any(Boolean),
    });
    expect(failed).toMatchObject({ errorMessage: 'INELIGIBLE: The family is not eligible: NOT_IN_PKH_REGISTRY' });
    // Only what the handler said: no notice from Powertools about a field it had to drop.
    expect((await logLines(logFile)).filter((l) => 'level' in l).map((l) => l.message)).toEqual(['task failed']);
    const text = await logText(logFile);
    for (const value of secrets) expect(text).not.toContain(value);
  });

  it('clears the case id when the invocation ends: the next one does not inherit it', async () => {
    await expect(invoke(verification, { caseId: c.caseId })).rejects.toMatchObject({ name: 'IneligibleError' });
    await expect(invoke(verification, { notACase: true })).rejects.toMatchObject({ name: 'ZodError' });

    const failed = await linesWith('task failed');
    const unparsed = failed.find((l) => l.error === 'ZodError');
    expect(unparsed).toMatchObject({ level: 'WARN', handler: 'verification' });
    expect(unparsed).not.toHaveProperty('caseId');
    expect(unparsed).not.toHaveProperty('expected');
  });
});

describe('redaction, the second line of defence', () => {
  it('keeps personal fields and identity numbers out of a line even when a whole record is logged', async () => {
    logger.info('a careless line', {
      family: personal,
      nested: { deeper: { nik: personal.nik, kk: personal.kk } },
      note: `family ${personal.nik} in KK ${personal.kk}`,
      taskToken: 'AAAA-token',
    });
    logger.error('a careless error', new Error(`lookup failed for ${personal.nik}`));

    const [line] = await linesWith('a careless line');
    expect(line).toMatchObject({
      family: { nik: REDACTED, kk: REDACTED, nama: REDACTED, alamat: REDACTED, noHp: REDACTED, tanggalLahir: REDACTED },
      nested: { deeper: { nik: REDACTED, kk: REDACTED } },
      note: `family ${REDACTED} in KK ${REDACTED}`,
      taskToken: REDACTED,
    });
    // What is not personal stays readable.
    expect(line).toMatchObject({ family: { kecamatan: personal.kecamatan, jenisKelamin: 'P' } });
    const [error] = await linesWith('a careless error');
    expect(error).toMatchObject({ error: { name: 'Error', message: `lookup failed for ${REDACTED}` } });

    const text = await logText(logFile);
    for (const value of [...secrets, 'AAAA-token']) expect(text).not.toContain(value);
  });
});

describe('log lines of the pages handler', () => {
  it('a page that fails logs its reference with the Lambda context, and the person gets the failure page', async () => {
    ddb.on(GetCommand).rejects(new Error(`DynamoDB is down (while reading ${personal.nik})`));
    const token = `some-request.${signLink('some-request')}`;
    const path = `/r/${token}`;
    const event = {
      version: '2.0',
      routeKey: '$default',
      rawPath: path,
      rawQueryString: '',
      headers: { host: 'pages.example' },
      requestContext: { http: { method: 'GET', path } },
      pathParameters: { token },
      isBase64Encoded: false,
    };
    const result = (await pages(event as never, lambdaContext('pages'))) as { statusCode: number; body: string };

    expect(result.statusCode).toBe(500);
    const [failed] = await linesWith('page failed');
    expect(failed).toMatchObject({
      level: 'ERROR',
      function_name: 'pages',
      function_request_id: 'req-1',
      message: 'page failed',
      reference: expect.any(String),
    });
    expect(result.body).toContain(String(failed?.reference));
    const text = await logText(logFile);
    for (const value of secrets) expect(text).not.toContain(value);
  });
});
