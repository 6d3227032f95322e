/**
 * The embedded runtime's user directory: the stand-in for the Cognito user pool's users,
 * in `<data>/accounts.json` (0600, the folder's owner only). Each account has a stable
 * subject, an address, roles (Cognito's groups) and districts (`custom:districts`), and
 * for officers, operators and admins a password hashed with scrypt (node:crypto, the
 * OpenSSL implementation; N=2^15, r=8, p=1, a 16-byte salt: ~100 ms and 32 MiB per
 * check). Approvers, mentors and lenders have no password: they sign in with a one-time
 * code sent to their address, as Cognito's passwordless email sign-in does.
 *
 * The provider reads the file on every sign-in, so `prokus users add` works while
 * `prokus dev` runs. Writes replace the whole file atomically (data-dir.ts replaceFile).
 */
import { randomBytes, randomUUID, scrypt as scryptCallback, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { z } from 'zod';
import { DistrictCode, Role } from '#domain/person';
import { replaceFile } from './data-dir.ts';

const scrypt = promisify(scryptCallback) as (password: string, salt: Buffer, keylen: number, options: object) => Promise<Buffer>;

const SCRYPT = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;

export const Account = z.object({
  sub: z.string().min(1),
  email: z.email(),
  roles: z.array(z.enum(Role.options)).min(1),
  districts: z.array(z.string().regex(/^\d{4}$/)),
  /** `scrypt$N$r$p$<salt b64url>$<hash b64url>`; absent: one-time email codes only. */
  passwordHash: z.string().optional(),
  createdAt: z.string(),
});
export type Account = z.infer<typeof Account>;

const AccountsFile = z.object({ accounts: z.array(Account) });

/** Roles that sign in with a password (and would have MFA on Cognito); the others act from an email. */
export const PASSWORD_ROLES: readonly Role[] = ['officer', 'operator', 'admin'];
export const needsPassword = (roles: readonly Role[]) => roles.some((r) => PASSWORD_ROLES.includes(r));

/** What `prokus users add` refuses, in both languages. */
export class AccountError extends Error {
  override readonly name = 'AccountError';
  constructor(
    readonly code:
      | 'ACCOUNT_EXISTS'
      | 'ROLE_UNKNOWN'
      | 'DISTRICT_INVALID'
      | 'DISTRICT_REQUIRED'
      | 'PASSWORD_WEAK'
      | 'EMAIL_INVALID',
    readonly text: { id: string; en: string },
  ) {
    super(`${code}: ${text.en} / ${text.id}`);
  }
}

export async function readAccounts(file: string): Promise<Account[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const parsed = AccountsFile.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`${file} is not an accounts file: ${z.prettifyError(parsed.error)}`);
  return parsed.data.accounts;
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(password, salt, 32, SCRYPT);
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64url'), hash.toString('base64url')].join('$');
}

export async function verifyPassword(password: string, stored: string | undefined): Promise<boolean> {
  const parts = (stored ?? '').split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') {
    // Same cost as a real check, so timing does not tell which addresses have a password.
    await scrypt(password, randomBytes(16), 32, SCRYPT);
    return false;
  }
  const [, n, r, p, salt, hash] = parts as [string, string, string, string, string, string];
  const expected = Buffer.from(hash, 'base64url');
  const actual = await scrypt(password, Buffer.from(salt, 'base64url'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: SCRYPT.maxmem,
  });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** NIST SP 800-63B's floor: at least 12 characters; length beats composition rules. */
export const MIN_PASSWORD_LENGTH = 12;

export interface NewAccount {
  email: string;
  roles: string[];
  districts: string[];
  password?: string;
}

function validated(a: NewAccount): { email: string; roles: Role[]; districts: string[] } {
  const email = a.email.trim().toLowerCase();
  if (!z.email().safeParse(email).success) {
    throw new AccountError('EMAIL_INVALID', {
      id: `"${a.email}" bukan alamat email`,
      en: `"${a.email}" is not an email address`,
    });
  }
  const roles: Role[] = [];
  for (const r of a.roles) {
    const parsed = Role.safeParse(r);
    if (!parsed.success) {
      throw new AccountError('ROLE_UNKNOWN', {
        id: `Peran "${r}" tidak dikenal; pilih dari ${Role.options.join(', ')}`,
        en: `Unknown role "${r}"; choose from ${Role.options.join(', ')}`,
      });
    }
    roles.push(parsed.data);
  }
  for (const d of a.districts) {
    if (!DistrictCode.safeParse(d).success) {
      throw new AccountError('DISTRICT_INVALID', {
        id: `"${d}" bukan kode kabupaten/kota (4 angka)`,
        en: `"${d}" is not a district code (4 digits)`,
      });
    }
  }
  if (roles.includes('officer') && a.districts.length === 0) {
    throw new AccountError('DISTRICT_REQUIRED', {
      id: 'Petugas kabupaten/kota memerlukan --district',
      en: 'A district officer needs --district',
    });
  }
  if (a.password !== undefined && a.password.length < MIN_PASSWORD_LENGTH) {
    throw new AccountError('PASSWORD_WEAK', {
      id: `Kata sandi minimal ${MIN_PASSWORD_LENGTH} karakter`,
      en: `A password needs at least ${MIN_PASSWORD_LENGTH} characters`,
    });
  }
  return { email, roles: [...new Set(roles)], districts: [...new Set(a.districts)] };
}

/**
 * Adds an account; refuses an address that has one. Returns the password to hand over:
 * the one given, or for a role that signs in with a password, a generated one (shown
 * once; only its hash is kept).
 */
export async function addAccount(file: string, a: NewAccount): Promise<{ account: Account; password?: string }> {
  const { email, roles, districts } = validated(a);
  const accounts = await readAccounts(file);
  if (accounts.some((x) => x.email === email)) {
    throw new AccountError('ACCOUNT_EXISTS', { id: `${email} sudah memiliki akun`, en: `${email} already has an account` });
  }
  const password = a.password ?? (needsPassword(roles) ? randomBytes(12).toString('base64url') : undefined);
  const account: Account = {
    sub: randomUUID(),
    email,
    roles,
    districts,
    passwordHash: password ? await hashPassword(password) : undefined,
    createdAt: new Date().toISOString(),
  };
  await replaceFile(file, `${JSON.stringify({ accounts: [...accounts, account] }, null, 2)}\n`);
  return { account, password };
}

export async function findAccount(file: string, email: string): Promise<Account | undefined> {
  const wanted = email.trim().toLowerCase();
  return (await readAccounts(file)).find((a) => a.email === wanted);
}

export async function accountBySub(file: string, sub: string): Promise<Account | undefined> {
  return (await readAccounts(file)).find((a) => a.sub === sub);
}
