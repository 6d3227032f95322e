/**
 * Browser uploads to the local S3: the POST Object form with a SigV4 POST policy, checked
 * as S3 checks it. s3rver parses such forms but ignores the policy (it stores whatever
 * is posted, unsigned included), so the whole request is handled here:
 *
 * - the signature: HMAC-SHA256 of the base64 policy with the SigV4 signing key derived
 *   from the credential in the form (`x-amz-credential`), one of the data folder's keys;
 * - the policy's expiration, and every condition: exact matches (`{"key": …}` or
 *   `["eq", "$key", …]`), `starts-with`, the bucket, and `content-length-range` on the
 *   file's actual size (counted while it streams to disk, so a lie in Content-Length
 *   does not help); a form field no condition covers is refused, as S3 does;
 * - S3's error codes and XML (`AccessDenied` "Invalid according to Policy: …",
 *   `SignatureDoesNotMatch`, `InvalidAccessKeyId`, `EntityTooLarge`, `EntityTooSmall`,
 *   `InvalidPolicyDocument`, `MalformedPOSTRequest`, `NoSuchBucket`).
 *
 * The file is written through s3rver's store (atomically, with a fresh ETag, see s3.ts)
 * and reported like any other write, so a POST into proposals/ starts an intake.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { Transform } from 'node:stream';
import { z } from 'zod';
import type { Keyring } from './local-auth.ts';

const require = createRequire(import.meta.url);

/** busboy 0.3 (s3rver's own dependency, resolved from s3rver so the versions stay together). */
interface BusboyFile extends NodeJS.ReadableStream {
  resume(): this;
}
interface Busboy extends NodeJS.WritableStream {
  on(event: 'field', listener: (name: string, value: string) => void): this;
  on(
    event: 'file',
    listener: (name: string, file: BusboyFile, fileName: string, encoding: string, mimeType: string) => void,
  ): this;
  on(event: 'finish' | 'error', listener: (e?: unknown) => void): this;
}
type BusboyClass = new (options: { headers: IncomingMessage['headers']; limits?: Record<string, number> }) => Busboy;

export interface PostStore {
  putObject(object: {
    bucket: string;
    key: string;
    content: NodeJS.ReadableStream;
    metadata: Record<string, string>;
  }): Promise<{ size: number; md5: string }>;
}

export class S3PostError extends Error {
  override readonly name = 'S3PostError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const denied = (message: string) => new S3PostError(403, 'AccessDenied', `Invalid according to Policy: ${message}`);

const Policy = z.object({
  expiration: z.string(),
  conditions: z.array(z.union([z.record(z.string(), z.string()), z.array(z.union([z.string(), z.number()]))])),
});

const CREDENTIAL = /^([^/]+)\/(\d{8})\/([a-z0-9-]+)\/(s3)\/aws4_request$/;

const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

/** SigV4's signing key for one day, region and service. */
export function signingKey(secretAccessKey: string, date: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, date), region), service), 'aws4_request');
}

export interface CheckedPolicy {
  /** What `content-length-range` allows (0 to unbounded when the policy has none). */
  minBytes: number;
  maxBytes: number;
}

/**
 * The form's fields (names lowercased, as S3 matches them) checked against its policy;
 * throws S3PostError. `bucket` is the bucket the form was posted to.
 */
export function checkPolicy(fields: Map<string, string>, bucket: string, keyring: Keyring, now = new Date()): CheckedPolicy {
  const policy64 = fields.get('policy');
  const signature = fields.get('x-amz-signature');
  const credential = fields.get('x-amz-credential');
  if (!policy64 || !signature || !credential || !fields.get('x-amz-date')) {
    throw new S3PostError(
      400,
      'InvalidArgument',
      'Bucket POST must contain a policy, x-amz-credential, x-amz-date and x-amz-signature',
    );
  }
  if (fields.get('x-amz-algorithm') !== 'AWS4-HMAC-SHA256') {
    throw new S3PostError(400, 'InvalidArgument', 'x-amz-algorithm must be AWS4-HMAC-SHA256');
  }
  const parts = CREDENTIAL.exec(credential);
  if (!parts) throw new S3PostError(400, 'InvalidArgument', 'x-amz-credential is malformed');
  const [, accessKeyId, date, region, service] = parts as unknown as [string, string, string, string, string];
  const secret = Object.values(keyring).find((k) => k.accessKeyId === accessKeyId)?.secretAccessKey;
  if (!secret)
    throw new S3PostError(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
  const expected = createHmac('sha256', signingKey(secret, date, region, service))
    .update(policy64, 'utf8')
    .digest('hex');
  if (!/^[0-9a-f]{64}$/.test(signature) || !timingSafeEqual(Buffer.from(expected), Buffer.from(signature))) {
    throw new S3PostError(
      403,
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    );
  }

  let policy: z.infer<typeof Policy>;
  try {
    policy = Policy.parse(JSON.parse(Buffer.from(policy64, 'base64').toString('utf8')));
  } catch {
    throw new S3PostError(400, 'InvalidPolicyDocument', 'Invalid Policy: Invalid JSON.');
  }
  const expiration = Date.parse(policy.expiration);
  if (Number.isNaN(expiration))
    throw new S3PostError(400, 'InvalidPolicyDocument', "Invalid Policy: Invalid 'expiration' value.");
  if (expiration <= now.getTime()) throw denied('Policy expired.');

  const formValue = (name: string) => (name === 'bucket' ? bucket : fields.get(name));
  const covered = new Set<string>(['bucket']);
  let range: CheckedPolicy = { minBytes: 0, maxBytes: Number.POSITIVE_INFINITY };
  for (const condition of policy.conditions) {
    if (!Array.isArray(condition)) {
      for (const [name, value] of Object.entries(condition)) {
        const field = name.toLowerCase();
        covered.add(field);
        if (formValue(field) !== value) throw denied(`Policy Condition failed: ["eq", "$${name}", ${JSON.stringify(value)}]`);
      }
      continue;
    }
    const [op, a, b] = condition;
    if (op === 'content-length-range' && typeof a === 'number' && typeof b === 'number') {
      range = { minBytes: a, maxBytes: b };
      continue;
    }
    if ((op === 'eq' || op === 'starts-with') && typeof a === 'string' && a.startsWith('$') && typeof b === 'string') {
      const field = a.slice(1).toLowerCase();
      covered.add(field);
      const value = formValue(field) ?? '';
      if (op === 'eq' ? value !== b : !value.startsWith(b)) throw denied(`Policy Condition failed: ${JSON.stringify(condition)}`);
      continue;
    }
    throw new S3PostError(400, 'InvalidPolicyDocument', `Invalid Policy: Invalid Condition: ${JSON.stringify(condition)}`);
  }
  for (const name of fields.keys()) {
    if (name === 'policy' || name === 'x-amz-signature' || name === 'file' || name.startsWith('x-ignore-')) continue;
    if (!covered.has(name)) throw denied(`Extra input fields: ${name}`);
  }
  return range;
}

export function s3ErrorXml(code: string, message: string): string {
  const esc = (s: string) => s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${esc(message)}</Message></Error>`;
}

/** Counts the file as it streams; past the policy's range it stops passing bytes on and fails at the end (the body is still read to its end). */
function sizeGuard(range: CheckedPolicy): Transform & { size: () => number } {
  let size = 0;
  const guard = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      done(null, size > range.maxBytes ? undefined : chunk);
    },
    flush(done) {
      if (size > range.maxBytes)
        done(new S3PostError(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size'));
      else if (size < range.minBytes)
        done(new S3PostError(400, 'EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size'));
      else done();
    },
  });
  // A small file can end (and fail) before the store's pipeline takes the stream; the
  // pipeline still sees the stored error, this only keeps it from being "unhandled".
  guard.on('error', () => undefined);
  return Object.assign(guard, { size: () => size });
}

export interface PostOptions {
  bucket: string;
  keyring: Keyring;
  store: PostStore;
  onObjectCreated: (object: { bucket: string; key: string; eTag: string }) => void;
  now?: () => Date;
}

/** Answers one POST Object request (`POST /<bucket>`, multipart/form-data). */
export async function handlePostObject(req: IncomingMessage, res: ServerResponse, opts: PostOptions): Promise<void> {
  const respondError = (e: S3PostError) => {
    const body = s3ErrorXml(e.code, e.message);
    res.writeHead(e.status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  const bucket = decodeURIComponent((req.url ?? '/').split('?')[0]?.replace(/^\/|\/$/g, '') ?? '');
  if (bucket !== opts.bucket) {
    req.resume();
    return respondError(new S3PostError(404, 'NoSuchBucket', 'The specified bucket does not exist'));
  }
  if (!/^multipart\/form-data/i.test(req.headers['content-type'] ?? '')) {
    req.resume();
    return respondError(
      new S3PostError(412, 'PreconditionFailed', 'Bucket POST must be of the enclosure-type multipart/form-data'),
    );
  }
  const busboyModule = createRequire(require.resolve('s3rver'))('busboy') as BusboyClass;
  const busboy = new busboyModule({ headers: req.headers, limits: { fields: 100, fieldSize: 64 * 1024, files: 1 } });
  const fields = new Map<string, string>();
  let stored: Promise<{ key: string; eTag: string; fields: Map<string, string> }> | undefined;
  let refused: S3PostError | undefined;

  busboy.on('field', (name, value) => {
    // Fields after the file are ignored, as S3 ignores them.
    if (!stored && !refused) fields.set(name.toLowerCase(), value);
  });
  busboy.on('file', (name, file, fileName, _encoding, mimeType) => {
    if (name.toLowerCase() !== 'file' || stored || refused) {
      file.resume();
      return;
    }
    let range: CheckedPolicy;
    try {
      range = checkPolicy(fields, bucket, opts.keyring, opts.now?.() ?? new Date());
    } catch (e) {
      if (!(e instanceof S3PostError)) throw e;
      refused = e;
      file.resume();
      return;
    }
    // S3's own placeholder for the name of the file part, not a template literal.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: S3 spells it so
    const key = (fields.get('key') ?? '').replaceAll('${filename}', fileName);
    if (!key) {
      refused = new S3PostError(400, 'InvalidArgument', "Bucket POST must contain a field named 'key'.");
      file.resume();
      return;
    }
    const metadata: Record<string, string> = { 'content-type': fields.get('content-type') ?? mimeType ?? 'binary/octet-stream' };
    for (const [n, v] of fields) if (n.startsWith('x-amz-meta-')) metadata[n] = v;
    const guard = sizeGuard(range);
    file.pipe(guard);
    stored = opts.store
      .putObject({ bucket, key, content: guard, metadata })
      .then(({ md5 }) => ({ key, eTag: md5, fields: new Map(fields) }));
    // Settled below; keep an early failure from being unhandled meanwhile.
    stored.catch(() => undefined);
  });

  try {
    await new Promise<void>((resolve, reject) => {
      busboy.on('finish', () => resolve());
      busboy.on('error', (e) => reject(e));
      req.pipe(busboy);
    });
  } catch {
    return respondError(
      new S3PostError(400, 'MalformedPOSTRequest', 'The body of your POST request is not well-formed multipart/form-data.'),
    );
  }
  if (refused) return respondError(refused);
  if (!stored) {
    return respondError(new S3PostError(400, 'InvalidArgument', 'POST requires exactly one file upload per request.'));
  }
  let object: Awaited<typeof stored>;
  try {
    object = await stored;
  } catch (e) {
    if (e instanceof S3PostError) return respondError(e);
    throw e;
  }
  opts.onObjectCreated({ bucket, key: object.key, eTag: object.eTag });
  const location = `http://${req.headers.host}/${bucket}/${object.key.split('/').map(encodeURIComponent).join('/')}`;
  const headers = { etag: `"${object.eTag}"`, location };
  const redirectTo = object.fields.get('success_action_redirect');
  if (redirectTo) {
    const target = new URL(redirectTo);
    target.searchParams.set('bucket', bucket);
    target.searchParams.set('key', object.key);
    target.searchParams.set('etag', `"${object.eTag}"`);
    res.writeHead(303, { ...headers, location: target.toString() });
    res.end();
    return;
  }
  const status = object.fields.get('success_action_status');
  if (status === '201') {
    const esc = (s: string) => s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
    const body = `<?xml version="1.0" encoding="UTF-8"?>\n<PostResponse><Location>${esc(location)}</Location><Bucket>${esc(bucket)}</Bucket><Key>${esc(object.key)}</Key><ETag>"${object.eTag}"</ETag></PostResponse>`;
    res.writeHead(201, { ...headers, 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
    res.end(body);
    return;
  }
  res.writeHead(status === '200' ? 200 : 204, headers);
  res.end();
}
