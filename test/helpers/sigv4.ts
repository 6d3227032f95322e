/**
 * Raw HTTP requests to the local services, signed the way the SDK signs them (SigV4), for
 * tests that need to send what no SDK client would: a malformed body, a foreign Host, a
 * cross-site form.
 */
import { createHash, createHmac } from 'node:crypto';
import { request } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { LocalCredentials } from '../../embedded/local/local-auth.ts';

type Data = string | ArrayBuffer | ArrayBufferView;
const bytes = (d: Data) =>
  typeof d === 'string'
    ? Buffer.from(d)
    : ArrayBuffer.isView(d)
      ? Buffer.from(d.buffer, d.byteOffset, d.byteLength)
      : Buffer.from(d);

class Sha256 {
  private readonly h;
  constructor(secret?: Data) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(d: Data) {
    this.h.update(bytes(d));
  }
  async digest() {
    return new Uint8Array(this.h.digest());
  }
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Sends exactly these headers (Host included) and body; signs them first when credentials are given. */
export async function rawRequest(
  url: string,
  opts: {
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    sign?: { credentials: LocalCredentials; service: string; region?: string };
    /** Changes the body after it was signed (same length header kept honest). */
    tamper?: (body: string) => string;
  },
): Promise<RawResponse> {
  const target = new URL(url);
  const body = opts.body ?? '';
  let headers: Record<string, string> = { host: target.host, ...opts.headers };
  if (body) headers['content-length'] = String(Buffer.byteLength(body));
  if (opts.sign) {
    const signer = new SignatureV4({
      credentials: opts.sign.credentials,
      region: opts.sign.region ?? 'ap-southeast-3',
      service: opts.sign.service,
      sha256: Sha256,
      uriEscapePath: opts.sign.service !== 's3',
      applyChecksum: opts.sign.service === 's3',
    });
    const signed = await signer.sign({
      method: opts.method ?? 'GET',
      protocol: 'http:',
      hostname: target.hostname,
      port: Number(target.port),
      path: target.pathname,
      query: Object.fromEntries(target.searchParams),
      headers,
      body,
    });
    headers = signed.headers as Record<string, string>;
  }
  const sent = opts.tamper ? opts.tamper(body) : body;
  if (sent) headers['content-length'] = String(Buffer.byteLength(sent));
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        method: opts.method ?? 'GET',
        path: `${target.pathname}${target.search}`,
        headers,
        setHost: false,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          text += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(sent);
  });
}
