/**
 * The local S3: s3rver on disk, speaking the real wire protocol, so handlers use their
 * ordinary SDK clients; its object-created events start intakes as the EventBridge rule
 * does on AWS. s3rver ships no types; the small interfaces below describe the parts we use.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { startsIntake } from '../../workflows/intake-trigger.ts';
import { checkHost, type Keyring, LocalAuthError, type LocalCredentials, verifySignature, withoutCors } from './local-auth.ts';
import { closeServer, endpointOf, LOCAL_REGION, type LocalService, listen } from './ports.ts';
import { handlePostObject, type PostOptions, s3ErrorXml } from './s3-post.ts';

const require = createRequire(import.meta.url);

/** The parts of s3rver's FilesystemStore that writes go through. */
interface S3rverObject {
  bucket: string;
  key: string;
  content: Buffer | NodeJS.ReadableStream;
  metadata: Record<string, string>;
}
interface S3rverStore {
  getResourcePath(bucket: string, key: string | undefined, resource: string): string;
  putObject(object: S3rverObject): Promise<{ size: number; md5: string }>;
  putMetadata(bucket: string, key: string, metadata: Record<string, string>, md5?: string): Promise<void>;
}

interface S3rverApp {
  store: S3rverStore;
  configureBuckets(): Promise<void>;
  callback(): RequestListener;
  on(event: 'event', listener: (event: unknown) => void): void;
}
type S3rverClass = new (options: { directory: string; silent: boolean; configureBuckets: { name: string }[] }) => S3rverApp;

/** s3rver needs path-style addressing, and checksums only when required (streaming uploads fail otherwise). */
export function localS3Client(endpoint: string, credentials: LocalCredentials): S3Client {
  return new S3Client({
    endpoint,
    region: LOCAL_REGION,
    credentials,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
}

/** An object written to the bucket, as s3rver reports it (its stand-in for bucket notifications). */
export interface ObjectCreated {
  bucket: string;
  key: string;
  eTag: string;
}

const S3EventRecords = z.object({
  Records: z.array(
    z.object({
      eventName: z.string(),
      s3: z.object({
        bucket: z.object({ name: z.string() }),
        object: z.object({ key: z.string(), eTag: z.string().optional(), sequencer: z.string().optional() }),
      }),
    }),
  ),
});

export function objectsCreated(event: unknown): ObjectCreated[] {
  const parsed = S3EventRecords.safeParse(event);
  if (!parsed.success) return [];
  return parsed.data.Records.filter((r) => r.eventName.startsWith('ObjectCreated:')).map((r) => ({
    bucket: r.s3.bucket.name,
    key: r.s3.object.key,
    // Copies carry no ETag in s3rver's event; the sequencer still tells two writes apart.
    eTag: r.s3.object.eTag ?? r.s3.object.sequencer ?? '',
  }));
}

/**
 * Objects whose creation starts an intake: the same rule as the EventBridge rule on AWS
 * (workflows/intake-trigger.ts). Not the reports intake writes beside an upload, nor
 * anything under `intake/`; a stray key elsewhere starts an intake that ends at once in
 * `NotAProposal`, as on AWS.
 */
export function isProposalUpload(key: string): boolean {
  return startsIntake(key);
}

/**
 * The intake execution name for one write of one file: the same object delivered twice
 * gets the same name (Step Functions refuses the second), a new version of the file a
 * new one. A hash, because keys may hold characters names do not allow, and file names
 * written by officers may say more than an execution name should.
 */
export function intakeExecutionName(key: string, eTag: string): string {
  const hash = createHash('sha256').update(`${key}\u0000${eTag}`).digest('hex').slice(0, 24);
  return `intake-${hash}`;
}

/** Writes a file so readers see the old content or the new, never a mix. */
async function replaceFile(path: string, write: (tmp: string) => Promise<void>): Promise<void> {
  const tmp = `${path}.${randomUUID()}.tmp`;
  try {
    await write(tmp);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/**
 * The ETag of one write. The deployed bucket is encrypted with a KMS key, and S3 gives an
 * SSE-KMS object an ETag that is not the MD5 of its content: the same bytes written twice
 * get two ETags. Intake keys "one upload" on it (the intake's name here, ReadProposal's
 * upload id on both runtimes), so the embedded bucket does the same: an officer who
 * uploads the same file again makes a new upload on this machine as on AWS, and only a
 * repeated delivery of one write is the same upload. Shaped like an MD5 (32 hex digits).
 */
function writeETag(contentMd5: string): string {
  return createHash('md5').update(contentMd5).update(randomUUID()).digest('hex');
}

/**
 * A PUT on S3 replaces an object atomically; s3rver truncates and rewrites the file in
 * place, so an intake reading a file while the officer uploads it again got a short
 * body and hung. Objects and their metadata are written to a temporary file and renamed.
 * (s3rver lists only names ending in `._S3rver_object`, so the temporary files stay unseen.)
 */
function makeWritesAtomic(store: S3rverStore): void {
  const { ALLOWED_METADATA } = require('s3rver/lib/models/object') as { ALLOWED_METADATA: string[] };
  store.putObject = async (object) => {
    const path = store.getResourcePath(object.bucket, object.key, 'object');
    await mkdir(dirname(path), { recursive: true });
    const md5 = createHash('md5');
    let size = 0;
    const counted = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        md5.update(chunk);
        size += chunk.length;
        callback(null, chunk);
      },
    });
    const content = Buffer.isBuffer(object.content) ? Readable.from([object.content]) : object.content;
    await replaceFile(path, (tmp) => pipeline(content, counted, createWriteStream(tmp)));
    const eTag = writeETag(md5.digest('hex'));
    await store.putMetadata(object.bucket, object.key, object.metadata, eTag);
    // s3rver answers the PUT, reports the event and serves later reads with this value.
    return { size, md5: eTag };
  };
  store.putMetadata = async (bucket, key, metadata, md5) => {
    const json: Record<string, string> = {};
    for (const [k, v] of Object.entries(metadata)) if (ALLOWED_METADATA.includes(k) || k.startsWith('x-amz-meta-')) json[k] = v;
    if (md5) await replaceFile(store.getResourcePath(bucket, key, 'object.md5'), (tmp) => writeFile(tmp, md5));
    await replaceFile(store.getResourcePath(bucket, key, 'metadata.json'), (tmp) =>
      writeFile(tmp, JSON.stringify(json, null, 2)),
    );
  };
}

const AUTH_ERRORS = {
  InvalidHost: 'AccessDenied',
  MissingAuthenticationToken: 'AccessDenied',
  IncompleteSignature: 'AuthorizationHeaderMalformed',
  UnrecognizedClient: 'InvalidAccessKeyId',
  InvalidSignature: 'SignatureDoesNotMatch',
  SignatureExpired: 'RequestTimeTooSkewed',
} as const;

/**
 * A browser upload (POST Object with a POST policy, s3-post.ts): `POST /<bucket>` with a
 * multipart form and no query. Every other request is an SDK call signed in its headers.
 */
function isPostObject(req: IncomingMessage, bucket: string): boolean {
  const url = req.url ?? '';
  return (
    req.method === 'POST' &&
    (url === `/${bucket}` || url === `/${bucket}/`) &&
    /^multipart\/form-data/i.test(req.headers['content-type'] ?? '')
  );
}

/**
 * CORS for the one thing a web page may do here: the pages' own upload page posting a
 * file with its presigned POST (an XMLHttpRequest with upload progress, so the browser
 * asks first with a preflight). Only the pages' origin, only POST on the bucket, as the
 * deployed bucket's CORS rule allows; every other response carries no CORS header.
 */
function corsAllowed(req: IncomingMessage, bucket: string, pagesOrigin: string | undefined): boolean {
  const url = (req.url ?? '').split('?')[0];
  return pagesOrigin !== undefined && req.headers.origin === pagesOrigin && (url === `/${bucket}` || url === `/${bucket}/`);
}

function preflight(req: IncomingMessage, res: ServerResponse, allowed: boolean): void {
  const method = req.headers['access-control-request-method'];
  const asked = (req.headers['access-control-request-headers'] ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  if (!allowed || method !== 'POST' || asked.length > 0) {
    const body = s3ErrorXml(
      'AccessForbidden',
      "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.",
    );
    res.writeHead(403, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body), vary: 'Origin' });
    res.end(body);
    return;
  }
  res.writeHead(200, {
    'access-control-allow-origin': String(req.headers.origin),
    'access-control-allow-methods': 'POST',
    'access-control-max-age': '3000',
    vary: 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method',
    'content-length': '0',
  });
  res.end();
}

/**
 * s3rver lets unsigned requests through and takes any V4 signature from a known key id.
 * In front of its handler: the Host, then the signature (S3 signs the payload by its
 * x-amz-content-sha256 header, so the body streams on untouched), and no CORS headers;
 * browser uploads with a POST policy are checked and stored by s3-post.ts instead.
 */
function guarded(
  s3rver: RequestListener,
  keyring: Keyring,
  post: PostOptions,
  pagesOrigin: () => string | undefined,
): RequestListener {
  return (req, res) => {
    void (async () => {
      try {
        checkHost(req);
        if (req.method === 'OPTIONS') {
          preflight(req, res, corsAllowed(req, post.bucket, pagesOrigin()));
          return;
        }
        if (isPostObject(req, post.bucket)) {
          if (corsAllowed(req, post.bucket, pagesOrigin())) {
            res.setHeader('access-control-allow-origin', String(req.headers.origin));
            res.setHeader('access-control-expose-headers', 'ETag, Location');
            res.setHeader('vary', 'Origin');
          }
          await handlePostObject(req, res, post);
          return;
        }
        await verifySignature(req, { keyring, s3: true });
      } catch (e) {
        if (!(e instanceof LocalAuthError)) throw e;
        const body = s3ErrorXml(AUTH_ERRORS[e.code], e.message);
        res.writeHead(403, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body), connection: 'close' });
        res.end(body);
        return;
      }
      withoutCors(res);
      s3rver(req, res);
    })().catch(() => res.destroy());
  };
}

export async function startS3(opts: {
  dir: string;
  bucket: string;
  port?: number;
  keyring: Keyring;
  onObjectCreated: (object: ObjectCreated) => void;
  /** The pages' origin, once known: the only web page allowed to post uploads here (CORS). */
  pagesOrigin?: () => string | undefined;
}): Promise<LocalService> {
  const S3rver = require('s3rver') as S3rverClass;
  const app = new S3rver({ directory: opts.dir, silent: true, configureBuckets: [{ name: opts.bucket }] });
  // s3rver looks the key id up in its own registry after our check has passed.
  const { DUMMY_ACCOUNT } = require('s3rver/lib/models/account') as {
    DUMMY_ACCOUNT: { createKeyPair(accessKeyId: string, secretAccessKey: string): void };
  };
  for (const { accessKeyId, secretAccessKey } of Object.values(opts.keyring))
    DUMMY_ACCOUNT.createKeyPair(accessKeyId, secretAccessKey);
  makeWritesAtomic(app.store);
  app.on('event', (event) => {
    for (const object of objectsCreated(event)) opts.onObjectCreated(object);
  });
  await app.configureBuckets();
  // Our own HTTP server around s3rver's request handler: s3rver's run() cannot report
  // a port already in use, it crashes the process instead.
  const post: PostOptions = {
    bucket: opts.bucket,
    keyring: opts.keyring,
    store: app.store,
    onObjectCreated: opts.onObjectCreated,
  };
  const server = createServer(guarded(app.callback(), opts.keyring, post, opts.pagesOrigin ?? (() => undefined)));
  await listen(server, opts.port);
  return { endpoint: endpointOf(server.address()), close: () => closeServer(server, (cb) => server.close(cb)) };
}
