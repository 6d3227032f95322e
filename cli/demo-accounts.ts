/**
 * The accounts a fresh data folder gets on its first `prokus dev` (and the demo): one
 * officer per district, an operator and an admin, each with a generated password, and
 * everyone the program configuration sends requests to (approvers, mentors, lenders),
 * who sign in with a one-time code. The generated passwords are kept in
 * `<data>/demo-accounts.txt` (0600, like everything in the folder) so every start can
 * print how to sign in; accounts added with `prokus users add` are not written there.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Role } from '#domain/person';
import { programFor, programYears } from '#domain/program';
import { addAccount, readAccounts } from '../embedded/runtime/accounts.ts';
import { createOnce } from '../embedded/runtime/data-dir.ts';

export interface DemoAccount {
  email: string;
  roles: Role[];
  districts: string[];
  /** For those who sign in with a password; the others get a one-time code by email. */
  password?: string;
}

export const demoAccountsFile = (dataDir: string) => join(dataDir, 'demo-accounts.txt');

/** Everyone the program's requests go to, by address, with the districts they serve. */
function programPeople(): DemoAccount[] {
  const people = new Map<string, DemoAccount>();
  const add = (email: string, role: Role, district?: string) => {
    const a = people.get(email) ?? { email, roles: [], districts: [] };
    if (!a.roles.includes(role)) a.roles.push(role);
    if (district && !a.districts.includes(district)) a.districts.push(district);
    people.set(email, a);
  };
  for (const year of programYears()) {
    const config = programFor(year);
    for (const [code, d] of Object.entries(config.districts)) {
      // Every level's primary and alternate approver: an escalated request goes to the alternate.
      for (const { primary, alternate } of Object.values(d.approvers)) {
        add(primary, 'approver', code);
        add(alternate, 'approver', code);
      }
      add(d.mentorEmail, 'mentor', code);
    }
    for (const s of config.financingSchemes) add(s.lenderEmail, 'lender');
  }
  return [...people.values()];
}

export const officerEmail = (district: string) => `petugas.${district}@dinsos.example`;
export const OPERATOR_EMAIL = 'operator@kemensos.example';
export const ADMIN_EMAIL = 'admin@kemensos.example';

/**
 * Creates the demo accounts once per data folder; later calls read them back. Returns
 * every demo account with the passwords of those who use one.
 */
export async function ensureDemoAccounts(dataDir: string, accountsFile: string): Promise<DemoAccount[]> {
  const file = demoAccountsFile(dataDir);
  try {
    return JSON.parse(await readFile(file, 'utf8')) as DemoAccount[];
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const latest = programFor(programYears().at(-1) as number);
  const wanted: DemoAccount[] = [
    ...Object.keys(latest.districts).map((d) => ({ email: officerEmail(d), roles: ['officer'] as Role[], districts: [d] })),
    { email: OPERATOR_EMAIL, roles: ['operator'], districts: [] },
    { email: ADMIN_EMAIL, roles: ['admin'], districts: [] },
    ...programPeople(),
  ];
  const existing = new Set((await readAccounts(accountsFile)).map((a) => a.email));
  const created: DemoAccount[] = [];
  for (const a of wanted) {
    if (existing.has(a.email)) continue;
    const { password } = await addAccount(accountsFile, a);
    created.push({ ...a, password });
  }
  // Another first start made them at the same moment: its list is the one.
  if (!(await createOnce(file, `${JSON.stringify(created, null, 2)}\n`))) return ensureDemoAccounts(dataDir, accountsFile);
  return created;
}

/** How to sign in, for `prokus dev`'s start-up text. */
export function describeDemoAccounts(accounts: DemoAccount[], pagesUrl: string): string[] {
  const withPassword = accounts.filter((a) => a.password);
  return [
    `Masuk / sign in: ${pagesUrl}/  (petugas: unggah usulan di / officers: upload proposals at ${pagesUrl}/upload)`,
    `Konsol operator / operators' console: ${pagesUrl}/console`,
    ...withPassword.map((a) => `  ${a.roles.join(',').padEnd(9)} ${a.email.padEnd(30)} ${a.password}  ${a.districts.join(',')}`),
    '  Pemberi persetujuan, pendamping, lembaga pembiayaan masuk dengan kode sekali pakai yang dikirim ke outbox.',
    '  Approvers, mentors and lenders sign in with a one-time code sent to the outbox.',
    '  More accounts: npx prokus users add EMAIL --role officer --district 3210',
  ];
}
