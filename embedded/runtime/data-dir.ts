/**
 * The runtime's files in its data dir (secret, ports, endpoints.json, the services' stores)
 * and the ports it comes back on. Its own file: `prokus upload` and `registry import` read it too.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { chmod, link, lstat, mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { z } from 'zod';
import { isPortFree } from '../local/ports.ts';

export const dataPaths = (dataDir: string) => ({
  secret: join(dataDir, 'secret'),
  credentials: join(dataDir, 'credentials.json'),
  /** The embedded sign-in's users (runtime/accounts.ts) and its token-signing key (local/oidc.ts). */
  accounts: join(dataDir, 'accounts.json'),
  oidcKey: join(dataDir, 'oidc-key.json'),
  endpoints: join(dataDir, 'endpoints.json'),
  ports: join(dataDir, 'ports.json'),
  dynamodb: join(dataDir, 'dynamodb'),
  s3: join(dataDir, 's3'),
  sfn: join(dataDir, 'sfn'),
  outbox: join(dataDir, 'outbox'),
  log: join(dataDir, 'logs', 'prokus.log'),
});

/** What `<data>/endpoints.json` holds while a runtime runs; `prokus upload` and `prokus registry import` read it. */
export const EndpointsFile = z.object({
  pid: z.number().int(),
  dataDir: z.string(),
  region: z.string(),
  bucket: z.string(),
  table: z.string(),
  secretId: z.string(),
  endpoints: z.object({ dynamodb: z.string(), s3: z.string(), sfn: z.string(), pages: z.string(), oidc: z.string() }),
  journeyArn: z.string(),
  intakeArn: z.string(),
  startedAt: z.string(),
});
export type EndpointsFile = z.infer<typeof EndpointsFile>;

/**
 * Writes a file aside and renames it into place: whoever reads it (`prokus upload`, a
 * second `prokus dev`) sees the old file or the new one, never half of one, and a kill -9
 * in the middle leaves the old one.
 */
export async function replaceFile(file: string, text: string): Promise<void> {
  const aside = `${file}.${process.pid}.tmp`;
  // Private even when written without the runtime's umask (`prokus users add` on its own).
  await writeFile(aside, text, { mode: 0o600 });
  await rename(aside, file);
}

/**
 * The program secret signs links and keys the NIK hashes: it must outlive restarts,
 * or every link already emailed stops working and known families look new.
 */
/**
 * Creates a private file (0600) only if it does not exist, whole or not at all: the
 * content is written aside and linked into place, which fails if the name exists. A
 * kill -9 in the middle leaves at most a stray `.tmp`, never a cut-short file that later
 * starts would refuse. Returns false when the file already existed (another start won).
 */
export async function createOnce(file: string, content: string): Promise<boolean> {
  const tmp = `${file}.${randomUUID()}.tmp`;
  try {
    await writeFile(tmp, content, { mode: 0o600, flag: 'wx' });
    await chmod(tmp, 0o600);
    await link(tmp, file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

export async function loadOrCreateSecret(file: string): Promise<string> {
  try {
    const secret = (await readFile(file, 'utf8')).trim();
    if (secret.length >= 32) return secret;
    throw new Error(`${file} holds a secret shorter than 32 characters; restore the original file`);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const secret = randomBytes(48).toString('base64url');
  // Another start created it first: its secret is the one.
  if (!(await createOnce(file, `${secret}\n`))) return loadOrCreateSecret(file);
  return secret;
}

/**
 * The data folder holds the program secret, the local credentials, task tokens and every
 * family's data: it and all the runtime keeps in it belong to its owner alone (0700
 * folders, 0600 files). Run at each start, so a folder written before this rule, or copied
 * in, is made private too. Only the runtime's own entries are walked: a data folder named
 * by mistake (`--data .`) keeps the modes of everything else in it.
 */
export async function makePrivate(dataDir: string): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await chmod(dataDir, 0o700);
  const own = Object.values(dataPaths(dataDir)).map((p) => relative(dataDir, p).split(sep)[0] as string);
  for (const name of new Set(own)) {
    const top = join(dataDir, name);
    const stats = await lstat(top).catch(() => undefined);
    if (!stats || stats.isSymbolicLink()) continue;
    await privateMode(top, stats.mode);
    if (!stats.isDirectory()) continue;
    for (const entry of await readdir(top, { recursive: true, withFileTypes: true })) {
      if (entry.isSymbolicLink()) continue;
      const path = join(entry.parentPath, entry.name);
      await privateMode(path, (await lstat(path)).mode);
    }
  }
}

async function privateMode(path: string, mode: number): Promise<void> {
  if ((mode & 0o077) !== 0) await chmod(path, mode & 0o700);
}

/**
 * What the runtime and the services it starts create from now on is private too (0600
 * files, 0700 folders): dynalite's LevelDB files, s3rver's objects, the outbox, the logs.
 * Returns how to put the previous mask back. Worker threads cannot set a mask; there the
 * data folder itself (0700) keeps others out.
 */
export function privateUmask(): () => void {
  try {
    const previous = process.umask(0o077);
    return () => void process.umask(previous);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ERR_WORKER_UNSUPPORTED_OPERATION') throw e;
    return () => undefined;
  }
}

const Ports = z.object({ dynamodb: z.number(), s3: z.number(), sfn: z.number(), pages: z.number(), oidc: z.number() }).partial();
export type Ports = z.infer<typeof Ports>;

export async function readPorts(file: string): Promise<Ports> {
  try {
    return Ports.parse(JSON.parse(await readFile(file, 'utf8')));
  } catch {
    return {};
  }
}

export const portOf = (url: string) => Number(new URL(url).port);

/**
 * Listens on the preferred port when it is free, else on any free port. dynalite opens
 * its store before it listens, so a port is probed first rather than tried.
 */
export async function onPreferredPort<T>(preferred: number | undefined, start: (port: number) => Promise<T>): Promise<T> {
  if (preferred && (await isPortFree(preferred))) {
    try {
      return await start(preferred);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
    }
  }
  return start(0);
}
