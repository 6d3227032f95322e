/**
 * `runningDev`, which every command that talks to a `prokus dev` (and `prokus dev` itself,
 * to refuse a second one) calls first: an endpoints file cut short must not lock the data
 * folder out. The crash test found it: a reader caught the file half written.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runningDev } from '../../cli/cli.ts';
import { loadOrCreateCredentials } from '../../embedded/runtime/credentials.ts';
import { replaceFile } from '../../embedded/runtime/data-dir.ts';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prokus-running-dev-'));
  // A runtime writes its operator credentials before its endpoints.
  await loadOrCreateCredentials(join(dir, 'credentials.json'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const endpoints = (pid: number) => ({
  pid,
  dataDir: dir,
  region: 'ap-southeast-3',
  bucket: 'prokus-local',
  table: 'prokus-local',
  secretId: 'prokus-local/secret',
  endpoints: {
    dynamodb: 'http://127.0.0.1:1',
    s3: 'http://127.0.0.1:2',
    sfn: 'http://127.0.0.1:3',
    pages: 'http://127.0.0.1:4',
    oidc: 'http://127.0.0.1:5',
  },
  journeyArn: 'arn:aws:states:ap-southeast-3:000000000000:stateMachine:prokus-journey',
  intakeArn: 'arn:aws:states:ap-southeast-3:000000000000:stateMachine:prokus-intake',
  startedAt: '2026-12-01T00:00:00.000Z',
});

describe('runningDev', () => {
  it('finds the dev its endpoints file names while that process lives', async () => {
    await writeFile(join(dir, 'endpoints.json'), JSON.stringify(endpoints(process.pid)));
    expect((await runningDev(dir))?.pid).toBe(process.pid);
  });

  it('reads an endpoints file cut short (empty, or half written) as no dev running, instead of throwing', async () => {
    const whole = JSON.stringify(endpoints(process.pid), null, 2);
    for (const text of ['', whole.slice(0, 40)]) {
      await writeFile(join(dir, 'endpoints.json'), text);
      await expect(runningDev(dir)).resolves.toBeUndefined();
    }
  });
});

describe('replaceFile', () => {
  it('puts the whole new text in place and leaves nothing aside', async () => {
    const file = join(dir, 'endpoints.json');
    await writeFile(file, 'old');
    await replaceFile(file, 'new\n');
    expect(await readFile(file, 'utf8')).toBe('new\n');
    expect((await readdir(dir)).sort()).toEqual(['credentials.json', 'endpoints.json']);
  });
});
