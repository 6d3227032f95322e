import type { Case, Personal } from '#domain/case';
import type { ProposalColumn } from '#intake/proposal';
import { seal, useSecretForTests } from '#lib/secrets';

export const TEST_SECRET = 'test-secret-for-prokus-unit-tests-0123456789abcdef';

export const personal: Personal = {
  nik: '3210014508950012',
  kk: '3210010101090001',
  nama: 'Siti Aminah',
  tanggalLahir: '1995-08-05',
  jenisKelamin: 'P',
  alamat: 'Jl. Merdeka 1',
  kecamatan: 'Majalengka',
  desa: 'Cicurug',
  noHp: '+6281234567890',
};

/** A case at the given stage, with sealed personal data like intake writes it. */
export function makeCase(overrides: Partial<Case> = {}): Case {
  useSecretForTests(TEST_SECRET);
  const now = '2026-01-05T00:00:00.000Z';
  return {
    caseId: '3210-2020-abcdef0123456789abcd',
    district: '3210',
    programYear: 2020,
    stage: 'verification',
    nikHash: 'a'.repeat(32),
    kkHash: 'b'.repeat(32),
    nikMasked: '3210********0012',
    personal: seal(personal),
    business: { type: 'kuliner', description: 'Keripik singkong', months: 8, monthlyRevenue: 1_500_000 },
    proposal: { uploadId: 'upload-1', key: 'proposals/3210/usulan.csv', row: 2, proposedAt: now },
    intakeWarnings: [],
    journeyRuns: 1,
    milestones: {},
    createdAt: now,
    updatedAt: now,
    ...overrides,
  };
}

/** What DynamoDB returns for a case item (keys included). */
export function caseItem(c: Case): Record<string, unknown> {
  return {
    pk: `CASE#${c.caseId}`,
    sk: 'CASE',
    gsi1pk: `DISTRICT#${c.district}#${c.programYear}`,
    gsi1sk: `${c.stage}#${c.caseId}`,
    ...c,
  };
}

/** A proposal row as a Majalengka officer fills the template: a woman born 5 August 1995, numbers kept as text with `'`. */
export const proposalRow: Record<ProposalColumn, string> = {
  nik: "'3210014508950012",
  no_kk: "'3210010101090001",
  nama: 'Siti Aminah',
  tanggal_lahir: '05/08/1995',
  jenis_kelamin: 'P',
  alamat: 'Jl. Merdeka 1',
  kecamatan: 'Majalengka',
  desa: 'Cicurug',
  no_hp: '0812-3456-7890',
  jenis_usaha: 'kuliner',
  deskripsi_usaha: 'Keripik singkong',
  lama_usaha_bulan: '8',
  omzet_bulanan: 'Rp 1.500.000',
  pendamping: '',
};
