/**
 * Keys derived from one program secret (Secrets Manager, `SECRET_ID`):
 * - identity hashing: NIK and KK become keyed hashes, the only form that appears in keys,
 *   execution names and lookups;
 * - sealing: personal fields are encrypted (AES-256-GCM) inside the case record;
 * - link signing: email links carry an HMAC so forged ids are refused before any lookup.
 * Separate keys per purpose (HKDF), so one use cannot be turned into another.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { secretsManager } from './clients/secrets-manager.ts';
import { optionalEnv } from './env.ts';

interface Keys {
  identity: Buffer;
  seal: Buffer;
  link: Buffer;
}

let keys: Keys | undefined;

function derive(secret: string): Keys {
  const k = (info: string) => Buffer.from(hkdfSync('sha256', secret, 'prokus', info, 32));
  return { identity: k('identity-hash'), seal: k('seal-aes-256-gcm'), link: k('link-hmac') };
}

/** Loads the secret once per process (Lambda cold start). */
export async function loadKeys(): Promise<Keys> {
  if (keys) return keys;
  const secretId = optionalEnv('SECRET_ID');
  if (!secretId) throw new Error('SECRET_ID is not set');
  const out = await secretsManager.send(new GetSecretValueCommand({ SecretId: secretId }));
  if (!out.SecretString || out.SecretString.length < 32) throw new Error(`secret ${secretId} is missing or too short`);
  keys = derive(out.SecretString);
  return keys;
}

/** For tests: use a known secret without Secrets Manager. */
export function useSecretForTests(secret: string): void {
  keys = derive(secret);
}

function current(): Keys {
  if (!keys) throw new Error('keys not loaded: call loadKeys() first');
  return keys;
}

/** Deterministic keyed hash of an identity number, 32 hex chars (128 bits). */
export function hashId(kind: 'nik' | 'kk', value: string): string {
  return createHmac('sha256', current().identity).update(`${kind}:${value}`).digest('hex').slice(0, 32);
}

/** Deterministic opaque id for anything derived from other ids (request ids, upload ids). */
export function opaqueId(...parts: string[]): string {
  return createHmac('sha256', current().identity).update(parts.join('\u0000')).digest('base64url').slice(0, 22);
}

export function seal(value: unknown): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', current().seal, iv);
  const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
}

export function unseal(sealed: string): unknown {
  const [version, iv, tag, body] = sealed.split('.');
  if (version !== 'v1' || !iv || !tag || !body) throw new Error('sealed value has an unknown format');
  const decipher = createDecipheriv('aes-256-gcm', current().seal, Buffer.from(iv, 'base64url'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  const plain = Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]);
  return JSON.parse(plain.toString('utf8'));
}

/** A request id is issued to one recipient; the signature makes the id unguessable and unforgeable. */
export function signLink(requestId: string): string {
  return createHmac('sha256', current().link).update(requestId).digest('base64url').slice(0, 22);
}

export function verifyLinkSignature(requestId: string, signature: string): boolean {
  const expected = Buffer.from(signLink(requestId));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
