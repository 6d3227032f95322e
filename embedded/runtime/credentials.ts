/**
 * The key pairs the local services accept (embedded/local/local-auth.ts checks them), per
 * data folder, so nobody who cannot read the folder can sign a request:
 *
 * - operator credentials: random, made on the first start, kept in `<data>/credentials.json`
 *   (0600) so a shell that exported them keeps working across restarts. `prokus env`
 *   prints them for the AWS CLI; the CLI commands and the demo sign with them. They read
 *   and write everything but the program secret.
 * - runtime credentials: derived from the program secret (HKDF), never written anywhere.
 *   The runtime's handlers sign with them, and Secrets Manager hands the program secret to
 *   them only: whoever holds them could already read `<data>/secret`. `prokus registry
 *   import`, which hashes NIKs with the secret, derives them from that file.
 */
import { hkdfSync, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { Keyring, LocalCredentials } from '../local/local-auth.ts';
import { createOnce } from './data-dir.ts';

const CredentialsFile = z.object({
  accessKeyId: z.string().regex(/^[A-Z0-9]{16,128}$/),
  secretAccessKey: z.string().min(32).max(128),
});

/** An access key id as AWS shapes them: upper-case letters and digits. */
function accessKeyId(prefix: string, bytes: Buffer): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let id = prefix;
  for (const b of bytes.subarray(0, 20 - prefix.length)) id += alphabet[b % 32];
  return id;
}

export async function loadOrCreateCredentials(file: string): Promise<LocalCredentials> {
  try {
    const parsed = CredentialsFile.safeParse(JSON.parse(await readFile(file, 'utf8')));
    if (parsed.success) return parsed.data;
    throw new Error(`${file} does not hold local credentials; delete it to get new ones (then run npx prokus env again)`);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const credentials: LocalCredentials = {
    accessKeyId: accessKeyId('LOCAL', randomBytes(20)),
    secretAccessKey: randomBytes(30).toString('base64url'),
  };
  // Another start won the race: its pair is the one.
  if (!(await createOnce(file, `${JSON.stringify(credentials, null, 2)}\n`))) return loadOrCreateCredentials(file);
  return credentials;
}

/** The operator credentials of a data folder that has them, else undefined (no runtime ever started there). */
export async function readCredentials(file: string): Promise<LocalCredentials | undefined> {
  try {
    return CredentialsFile.parse(JSON.parse(await readFile(file, 'utf8')));
  } catch {
    return undefined;
  }
}

export function runtimeCredentials(programSecret: string): LocalCredentials {
  const bytes = Buffer.from(hkdfSync('sha256', programSecret, 'prokus-local', 'runtime-credentials', 64));
  return {
    accessKeyId: accessKeyId('RUNTIME', bytes.subarray(0, 20)),
    secretAccessKey: bytes.subarray(20).toString('base64url'),
  };
}

export function keyringOf(operator: LocalCredentials, programSecret: string): Keyring {
  return { operator, runtime: runtimeCredentials(programSecret) };
}
