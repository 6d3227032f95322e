/**
 * Cases and links for tests on the embedded runtime: a family already verified and
 * waiting at grant approval (so a test reaches the approval page without an intake), and
 * the request links the outbox holds.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import type { Case } from '#domain/case';

/** Family `n` of district 3210, 2020, eligible and at grant approval. Call after the runtime started (it seals with its keys). */
export async function caseAtApproval(caseId: string, n: number): Promise<Case> {
  const { seal } = await import('#lib/secrets');
  const now = new Date().toISOString();
  return {
    caseId,
    district: '3210',
    programYear: 2020,
    stage: 'grant-approval',
    nikHash: String(n).repeat(32),
    kkHash: String(n + 2).repeat(32),
    nikMasked: `3210********004${n}`,
    personal: seal({
      nik: `321001450895004${n}`,
      kk: `321001010109004${n}`,
      nama: `Ibu Uji Kuota ${n}`,
      tanggalLahir: '1995-08-05',
      jenisKelamin: 'P',
      alamat: 'Jl. Contoh 1',
      kecamatan: 'Majalengka',
      desa: 'Cicurug',
      noHp: '+6281200000000',
    }),
    business: { type: 'kuliner', description: 'Keripik singkong', months: 12, monthlyRevenue: 1_500_000 },
    proposal: { uploadId: 'u1', key: 'proposals/3210/usulan.csv', row: n + 1, proposedAt: now },
    intakeWarnings: [],
    journeyRuns: 0,
    verification: { eligible: true, reasons: [], explanation: [], ruleVersion: '2020.1', at: now },
    milestones: {},
    createdAt: now,
    updatedAt: now,
  };
}

/** The links of the request emails of `kind` in the outbox, by the case id each names. */
export async function requestLinks(outboxDir: string, kind: string): Promise<Map<string, string>> {
  const links = new Map<string, string>();
  for (const f of (await readdir(outboxDir)).filter((x) => x.endsWith('.eml'))) {
    const mail = await simpleParser(await readFile(join(outboxDir, f)));
    if (mail.headers.get('x-prokus-kind') !== kind) continue;
    const caseId = mail.headers.get('x-prokus-case');
    const link = /http:\/\/127\.0\.0\.1:\d+\/r\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/.exec(mail.text ?? '')?.[0];
    if (typeof caseId === 'string' && link) links.set(caseId, link);
  }
  return links;
}
