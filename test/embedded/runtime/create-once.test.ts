/** The secret and the credentials are created whole or not at all, once, whoever races. */
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createOnce, loadOrCreateSecret } from '../../../embedded/runtime/data-dir.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prokus-create-once-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('createOnce', () => {
  it('lets exactly one of many concurrent starts create the file, private, and leaves nothing aside', async () => {
    const file = join(dir, 'secret');
    const won = await Promise.all(Array.from({ length: 20 }, (_, i) => createOnce(file, `secret-${i}\n`)));
    expect(won.filter(Boolean)).toHaveLength(1);
    expect(await readFile(file, 'utf8')).toBe(`secret-${won.indexOf(true)}\n`);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(['secret']);
  });

  it('never touches a file that exists', async () => {
    const file = join(dir, 'credentials.json');
    await writeFile(file, 'kept');
    await expect(createOnce(file, 'other')).resolves.toBe(false);
    expect(await readFile(file, 'utf8')).toBe('kept');
  });

  it('gives every racing start of a fresh data folder the same secret', async () => {
    const file = join(dir, 'secret');
    const secrets = await Promise.all(Array.from({ length: 10 }, () => loadOrCreateSecret(file)));
    expect(new Set(secrets).size).toBe(1);
  });
});
