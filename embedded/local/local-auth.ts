/**
 * The door of every local service but the public pages: a request is answered only when
 * its Host names this loopback port (no DNS rebinding) and it carries a valid SigV4
 * signature made with one of the data folder's own key pairs. Nothing here trusts the
 * caller: the signature is recomputed with the secret access key (@smithy/signature-v4,
 * the signer the SDK clients use), and compared in constant time.
 *
 * Two key pairs sign (embedded/runtime/credentials.ts makes them):
 * - `operator`: random, kept in `<data>/credentials.json`, for the CLI, the demo and the AWS CLI;
 * - `runtime`: the runtime's own handlers; the only one Secrets Manager hands the program secret to.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';

export interface LocalCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface Keyring {
  operator: LocalCredentials;
  runtime: LocalCredentials;
}

export type Principal = keyof Keyring;

/** Why a request was refused; each service turns it into its own AWS-shaped error. */
export type AuthFailureCode =
  | 'InvalidHost'
  | 'MissingAuthenticationToken'
  | 'IncompleteSignature'
  | 'UnrecognizedClient'
  | 'InvalidSignature'
  | 'SignatureExpired';

export class LocalAuthError extends Error {
  override readonly name = 'LocalAuthError';
  constructor(
    readonly code: AuthFailureCode,
    readonly text: { id: string; en: string },
  ) {
    super(`${text.id} / ${text.en}`);
  }
}

const MESSAGES: Record<AuthFailureCode, { id: string; en: string }> = {
  InvalidHost: {
    id: 'Host permintaan bukan alamat loopback layanan lokal ini',
    en: 'The request Host is not this local service’s loopback address',
  },
  MissingAuthenticationToken: {
    id: 'Permintaan tidak ditandatangani; gunakan kredensial lokal (npx prokus env)',
    en: 'The request is not signed; use the local credentials (npx prokus env)',
  },
  IncompleteSignature: {
    id: 'Tanda tangan permintaan tidak lengkap (diperlukan AWS4-HMAC-SHA256 dengan X-Amz-Date)',
    en: 'The request signature is incomplete (AWS4-HMAC-SHA256 with X-Amz-Date is required)',
  },
  UnrecognizedClient: {
    id: 'Access key ID ini bukan kredensial lokal folder data ini',
    en: 'This access key ID is not a local credential of this data folder',
  },
  InvalidSignature: {
    id: 'Tanda tangan permintaan tidak cocok; periksa secret access key',
    en: 'The request signature does not match; check the secret access key',
  },
  SignatureExpired: {
    id: 'Tanda tangan permintaan kedaluwarsa (X-Amz-Date lebih dari 15 menit dari sekarang)',
    en: 'The request signature has expired (X-Amz-Date more than 15 minutes from now)',
  },
};

const fail = (code: AuthFailureCode) => new LocalAuthError(code, MESSAGES[code]);

/**
 * Whether the Host header names this service on a loopback address. A web page that
 * rebinds its own name to 127.0.0.1 still sends that name, so it is refused here.
 */
export function isLoopbackHost(host: string | undefined, port: number): boolean {
  if (!host) return false;
  const allowed = [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`];
  return allowed.includes(host.toLowerCase());
}

/** Refuses a request whose Host is not this loopback port (before anything is read or done). */
export function checkHost(req: IncomingMessage): void {
  const port = req.socket.localPort;
  if (port === undefined || !isLoopbackHost(req.headers.host, port)) throw fail('InvalidHost');
}

/**
 * dynalite and s3rver answer browsers with `Access-Control-Allow-Origin: *` (or whatever a
 * bucket's CORS rules say); these services are for SDK clients and the AWS CLI only, so no
 * response of theirs may let a web page read it.
 */
export function withoutCors(res: ServerResponse): void {
  const isCors = (name: string) => /^access-control-/i.test(name);
  const setHeader = res.setHeader.bind(res);
  res.setHeader = (name, value) => (isCors(name) ? res : setHeader(name, value));
  const writeHead = res.writeHead.bind(res) as (status: number, ...rest: unknown[]) => ServerResponse;
  res.writeHead = ((status: number, ...rest: unknown[]) => {
    const headers = rest.find((r): r is OutgoingHttpHeaders => typeof r === 'object' && r !== null && !Array.isArray(r));
    if (headers) for (const name of Object.keys(headers)) if (isCors(name)) delete headers[name];
    for (const name of res.getHeaderNames()) if (isCors(name)) res.removeHeader(name);
    return writeHead(status, ...rest);
  }) as ServerResponse['writeHead'];
}

type SourceData = string | ArrayBuffer | ArrayBufferView;
const bytesOf = (data: SourceData) =>
  typeof data === 'string'
    ? Buffer.from(data, 'utf8')
    : ArrayBuffer.isView(data)
      ? Buffer.from(data.buffer, data.byteOffset, data.byteLength)
      : Buffer.from(data);

/** node:crypto as the hash the signer asks for. */
class Sha256 {
  private readonly hash;
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytesOf(secret));
  }
  update(data: SourceData): void {
    this.hash.update(bytesOf(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/\s,]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;._-]+),\s*Signature=([0-9a-f]{64})$/;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
/** What AWS allows between the signing clock and its own. */
const MAX_SKEW_MS = 15 * 60_000;

export interface VerifyOptions {
  keyring: Keyring;
  /** S3 signs the path as sent and the payload by its x-amz-content-sha256 header; the others double-encode the path. */
  s3?: boolean;
  /** The whole body, for services whose clients sign its hash (all but S3). */
  body?: Buffer;
  now?: Date;
}

interface Authorization {
  principal: Principal;
  signingDate: Date;
  region: string;
  service: string;
  signedList: string;
  signature: string;
}

/**
 * The Authorization header read and its key id looked up, without the body: services
 * that must read a body to check its hash call this first, so an unsigned request, or one
 * signed with an unknown key, is refused before anything of it is read.
 */
export function checkAuthorization(req: IncomingMessage, keyring: Keyring, now = new Date()): Authorization {
  const header = req.headers.authorization;
  if (!header) {
    // Presigned URLs (query-string SigV4) are not used by this runtime; refused, not guessed at.
    throw fail(/[?&]X-Amz-Signature=/i.test(req.url ?? '') ? 'IncompleteSignature' : 'MissingAuthenticationToken');
  }
  const match = AUTHORIZATION.exec(header.trim());
  const amzDate = headerValue(req, 'x-amz-date');
  const dateMatch = amzDate ? AMZ_DATE.exec(amzDate) : null;
  if (!match || !dateMatch) throw fail('IncompleteSignature');
  const [, accessKeyId, shortDate, region, service, signedList, signature] = match as unknown as string[];
  const principal = (Object.keys(keyring) as Principal[]).find((p) => keyring[p].accessKeyId === accessKeyId);
  if (!principal) throw fail('UnrecognizedClient');
  const [, y, mo, d, h, mi, s] = dateMatch.map(Number) as number[];
  const signingDate = new Date(Date.UTC(y!, mo! - 1, d!, h, mi, s));
  if (amzDate!.slice(0, 8) !== shortDate || Number.isNaN(signingDate.getTime())) throw fail('IncompleteSignature');
  if (Math.abs(now.getTime() - signingDate.getTime()) > MAX_SKEW_MS) throw fail('SignatureExpired');
  return { principal, signingDate, region: region!, service: service!, signedList: signedList!, signature: signature! };
}

/** Who signed the request; throws LocalAuthError when nobody we know did. */
export async function verifySignature(req: IncomingMessage, opts: VerifyOptions): Promise<Principal> {
  const { principal, signingDate, region, service, signedList, signature } = checkAuthorization(req, opts.keyring, opts.now);
  const rawUrl = req.url ?? '/';
  const queryStart = rawUrl.indexOf('?');
  const rawPath = queryStart < 0 ? rawUrl : rawUrl.slice(0, queryStart);
  const query = parseQuery(queryStart < 0 ? '' : rawUrl.slice(queryStart + 1));

  const signed = signedList.split(';');
  if (!signed.includes('host')) throw fail('IncompleteSignature');
  const headers: Record<string, string> = {};
  for (const name of signed) {
    const value = headerValue(req, name);
    // A header the client says it signed but did not send cannot match.
    if (value === undefined) throw fail('InvalidSignature');
    headers[name] = value;
  }
  if (opts.s3 && headers['x-amz-content-sha256'] === undefined) throw fail('IncompleteSignature');

  const signer = new SignatureV4({
    credentials: opts.keyring[principal],
    region,
    service,
    sha256: Sha256,
    uriEscapePath: !opts.s3,
    applyChecksum: false,
  });
  const resigned = await signer.sign(
    {
      method: req.method ?? 'GET',
      protocol: 'http:',
      hostname: headers.host!,
      path: rawPath,
      query,
      headers,
      body: opts.s3 ? undefined : (opts.body ?? Buffer.alloc(0)),
    },
    { signingDate, signableHeaders: new Set(signed), signingRegion: region, signingService: service },
  );
  const expected = /Signature=([0-9a-f]{64})/.exec(String(resigned.headers.authorization))?.[1] ?? '';
  const sameHeaders = /SignedHeaders=([^,]+)/.exec(String(resigned.headers.authorization))?.[1] === signedList;
  if (!sameHeaders || !timingSafeEqual(Buffer.from(expected.padEnd(64, '0')), Buffer.from(signature))) {
    throw fail('InvalidSignature');
  }
  return principal;
}

/** One header as the signer sees it: repeated values joined, as Node joins them. */
function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(',') : value;
}

/** The query string decoded the way the SDK held it before it encoded it (no `+` for space). */
function parseQuery(raw: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  if (raw === '') return query;
  for (const part of raw.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = decode(eq < 0 ? part : part.slice(0, eq));
    const value = eq < 0 ? '' : decode(part.slice(eq + 1));
    const existing = query[key];
    query[key] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return query;
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    // Not valid percent-encoding: kept as is, so the signature simply does not match.
    return s;
  }
}

/** Reads a whole body up to a limit (the services that sign it are JSON APIs with bounded requests). */
export function readLimited(req: IncomingMessage, limit: number, tooLarge: () => Error): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(tooLarge());
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
