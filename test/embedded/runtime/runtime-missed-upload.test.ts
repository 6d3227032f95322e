/**
 * An upload whose object-created event was lost (`prokus dev` killed between the write and
 * its intake's first line on disk; one crash-test run ended with a whole district's families
 * missing, and this is the one way found for that to happen). The write is made here
 * with no runtime listening, which is what the restarted runtime finds after such a kill:
 * the file in the bucket, no intake for it. It must start that intake, once.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { intakeExecutionName, localS3Client, startS3 } from '../../../embedded/local/s3.ts';
import { keyringOf, loadOrCreateCredentials } from '../../../embedded/runtime/credentials.ts';
import {
  dataPaths,
  LOCAL_NAME,
  listAllExecutions,
  loadOrCreateSecret,
  putProposal,
  type Runtime,
  startRuntime,
} from '../../../embedded/runtime/index.ts';

let dir: string;
let rt: Runtime | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prokus-missed-upload-'));
});

afterAll(async () => {
  await rt?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('an upload whose event never reached a runtime', () => {
  it('gets its intake when the runtime starts, and only once', async () => {
    // The data folder's own key pairs, as the runtime started below will find them.
    const paths = dataPaths(dir);
    const keyring = keyringOf(await loadOrCreateCredentials(paths.credentials), await loadOrCreateSecret(paths.secret));
    const s3Service = await startS3({ dir: paths.s3, bucket: LOCAL_NAME, port: 0, keyring, onObjectCreated: () => undefined });
    const s3 = localS3Client(s3Service.endpoint, keyring.operator);
    const file = join(dir, 'usulan.csv');
    await writeFile(file, 'nik,no_kk,nama\n');
    const { key } = await putProposal(s3, LOCAL_NAME, file, {
      district: '3210',
      programYear: 2020,
      uploader: 'operator@dinsos.example',
    });
    const eTag = (await s3.send(new HeadObjectCommand({ Bucket: LOCAL_NAME, Key: key }))).ETag!.replaceAll('"', '');
    s3.destroy();
    await s3Service.close();

    rt = await startRuntime({ dataDir: dir, port: 0, quiet: true });
    expect(rt.resumed.intakes).toBe(1);
    await rt.idle({ timeoutMs: 60_000 });
    const intakes = listAllExecutions(rt.engine, rt.intakeArn);
    expect(intakes.map((e) => e.name)).toEqual([intakeExecutionName(key, eTag)]);
    expect(JSON.parse(intakes[0]!.input)).toEqual({ bucket: LOCAL_NAME, key });
    // A header-only file is read and rejected whole: the intake ran to its end.
    expect(intakes[0]!.status).not.toBe('RUNNING');
    await rt.stop();

    rt = await startRuntime({ dataDir: dir, port: 0, quiet: true });
    expect(rt.resumed.intakes).toBe(0);
    expect(listAllExecutions(rt.engine, rt.intakeArn)).toHaveLength(1);
  });
});
