/**
 * Sessions and pending sign-ins on dynalite, the conditional writes as DynamoDB runs them:
 * a session lasts until it expires or ends; a pending sign-in is taken once, even when the
 * provider's callback arrives twice at the same moment.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTable, startDynamo } from '../../embedded/local/dynamodb.ts';
import type { Keyring } from '../../embedded/local/local-auth.ts';
import type { LocalService } from '../../embedded/local/ports.ts';
import { setTestEnv } from '../helpers/lambda.ts';
import { personOf } from '../helpers/people.ts';

let dir: string;
let dynamo: LocalService;
let s: typeof import('#store/sessions');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prokus-sessions-'));
  setTestEnv();
  const keyring: Keyring = {
    operator: { accessKeyId: 'LOCALOPERATORKEY0002', secretAccessKey: 'operator-secret-for-the-sessions-test' },
    runtime: { accessKeyId: 'LOCALRUNTIMEKEY00002', secretAccessKey: 'runtime-secret-for-the-sessions-test' },
  };
  dynamo = await startDynamo({ dir: join(dir, 'dynamodb'), keyring });
  await ensureTable(dynamo.endpoint, 'prokus-test', keyring.runtime);
  process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamo.endpoint;
  process.env.AWS_ACCESS_KEY_ID = keyring.runtime.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = keyring.runtime.secretAccessKey;
  s = await import('#store/sessions');
});

afterAll(async () => {
  await dynamo?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('sessions', () => {
  it('finds a session by its cookie until it expires, and never by anything that is not its cookie', async () => {
    const t0 = new Date('2026-12-01T08:00:00Z');
    const { cookieValue, session } = await s.createSession(personOf('petugas.3210@dinsos.example', ['officer'], ['3210']), t0);
    expect(await s.findSession(cookieValue, new Date(t0.getTime() + 3600_000))).toEqual(session);
    expect(await s.findSession(cookieValue, new Date(t0.getTime() + s.SESSION_SECONDS * 1000))).toBeUndefined();
    // One character changed (a cookie ending in A gets a B: replacing it by A would change nothing, 1 run in 64).
    const altered = `${cookieValue.slice(0, -1)}${cookieValue.endsWith('A') ? 'B' : 'A'}`;
    expect(await s.findSession(altered, t0)).toBeUndefined();
    expect(await s.findSession('../../etc/passwd', t0)).toBeUndefined();
    expect(session.csrf).not.toBe(cookieValue);
  });

  it('ends a session at sign-out for every copy of the cookie', async () => {
    const { cookieValue } = await s.createSession(personOf('operator@kemensos.example', ['operator']));
    await s.endSession(cookieValue);
    expect(await s.findSession(cookieValue)).toBeUndefined();
  });
});

describe('pending sign-ins', () => {
  const pending = { codeVerifier: 'v'.repeat(43), nonce: 'n'.repeat(22), returnTo: '/r/abc.def' };

  it('is taken by exactly one of twenty callbacks arriving at once', async () => {
    const state = 'state-taken-once-0123456789';
    await s.savePendingSignIn(state, pending);
    const taken = await Promise.all(Array.from({ length: 20 }, () => s.takePendingSignIn(state)));
    expect(taken.filter(Boolean)).toHaveLength(1);
    expect(taken.find(Boolean)).toMatchObject(pending);
  });

  it('is refused after its fifteen minutes, and its state cannot be saved twice', async () => {
    const state = 'state-expired-0123456789ab';
    const t0 = new Date('2026-12-01T08:00:00Z');
    await s.savePendingSignIn(state, pending, t0);
    await expect(s.savePendingSignIn(state, pending, t0)).rejects.toThrow(/conditional/i);
    expect(await s.takePendingSignIn(state, new Date(t0.getTime() + s.SIGNIN_SECONDS * 1000 + 1))).toBeUndefined();
  });
});
