/** `prokus users add`: the embedded sign-in's accounts, refused in both languages when wrong. */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../cli/cli.ts';
import { readAccounts, verifyPassword } from '../../embedded/runtime/accounts.ts';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prokus-users-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function prokus(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
    out += String(s);
    return true;
  });
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
    err += String(s);
    return true;
  });
  try {
    return { code: await main(['node', 'prokus', ...args, '--data', dir]), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

describe('prokus users add', () => {
  it('adds an officer with a generated password, kept only as a scrypt hash in a private file', async () => {
    const r = await prokus('users', 'add', 'Petugas.3210@Dinsos.example', '--role', 'officer', '--district', '3210,3217');
    expect(r.code).toBe(0);
    const password = /password: (\S+)/.exec(r.out)?.[1];
    expect(password?.length).toBeGreaterThanOrEqual(12);
    const file = join(dir, 'accounts.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readFile(file, 'utf8')).not.toContain(password!);
    const [account] = await readAccounts(file);
    expect(account).toMatchObject({ email: 'petugas.3210@dinsos.example', roles: ['officer'], districts: ['3210', '3217'] });
    expect(await verifyPassword(password!, account?.passwordHash)).toBe(true);
    expect(await verifyPassword(`${password}x`, account?.passwordHash)).toBe(false);
  });

  it('adds an approver without a password: they sign in with a one-time code', async () => {
    const r = await prokus('users', 'add', 'kepala.dinsos@majalengka.example', '--role', 'approver', '--district', '3210');
    expect(r.code).toBe(0);
    expect(r.out).not.toContain('password:');
    expect(r.out).toContain('one-time code');
  });

  it('refuses a second account for an address, an unknown role, an officer without a district, a bad code', async () => {
    for (const [args, id, en] of [
      [
        ['petugas.3210@dinsos.example', '--role', 'officer', '--district', '3210'],
        'sudah memiliki akun',
        'already has an account',
      ],
      [['x@dinsos.example', '--role', 'boss'], 'Peran "boss" tidak dikenal', 'Unknown role "boss"'],
      [['y@dinsos.example', '--role', 'officer'], 'memerlukan --district', 'needs --district'],
      [['z@dinsos.example', '--role', 'officer', '--district', 'Majalengka'], 'bukan kode kabupaten', 'not a district code'],
      [['not-an-address', '--role', 'mentor'], 'bukan alamat email', 'not an email address'],
    ] as const) {
      const r = await prokus('users', 'add', ...args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.err).toContain(id);
      expect(r.err).toContain(en);
    }
    expect(await readAccounts(join(dir, 'accounts.json'))).toHaveLength(2);
  });
});
