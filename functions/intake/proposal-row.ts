/**
 * The checks of one proposal row, and of rows against each other. Pure: nothing here
 * touches a store, so the same checks serve the upload (ReadProposal), a dry run before
 * uploading (`prokus validate`), and tests. Every finding has a stable code, the column
 * it is about, and a message in Indonesian and English that tells the officer what to fix.
 *
 * Findings whose words never change are built once and shared by every row that has
 * them: a 100,000-row file of the same mistake holds one message, not 100,000.
 */

import { isoDay } from '#domain/calendar';
import type { Business } from '#domain/case';
import type { Bilingual } from '#domain/errors';
import { cleanIdNumber, isScientificNotation, type NikProblem, parseNik, type Sex } from '#domain/nik';
import type { CellKind } from '#intake/sheet';
import { parseDate } from '#intake/sheet/dates';
import { PROPOSAL_COLUMNS, type ProposalColumn } from './proposal-template.ts';

/** One finding about one row: a rejection (`error`) or something passed on to verification (`warning`). */
export interface Finding {
  /** Stable UPPER_SNAKE name; tools and the case's `intakeWarnings` use it. */
  code: string;
  field: string;
  severity: 'error' | 'warning';
  message: Bilingual;
}

export type RowStatus = 'accepted' | 'warning' | 'rejected';

export function statusOf(findings: readonly Finding[]): RowStatus {
  if (findings.some((f) => f.severity === 'error')) return 'rejected';
  return findings.length > 0 ? 'warning' : 'accepted';
}

export interface CheckContext {
  /** BPS code of the uploading district (the folder the file was put in). */
  district: string;
  today: Date;
}

/** A row's values by template column, as text. */
export type RowValues = Partial<Record<ProposalColumn, string>>;
/** What the spreadsheet stored in each of a row's cells; absent for CSV (all text). */
export type RowKinds = Partial<Record<ProposalColumn, CellKind>>;

/** A row that passed: the values normalised, ready to become a case. */
export interface ProposedFamily {
  nik: string;
  kk: string;
  nama: string;
  /** YYYY-MM-DD as the officer gave it (the NIK's date may differ: that is a warning). */
  tanggalLahir: string;
  jenisKelamin: Sex;
  alamat: string;
  kecamatan: string;
  desa: string;
  /** +62… */
  noHp: string;
  pendamping?: string;
  business: Business;
}

export type RowCheck = { ok: true; family: ProposedFamily; warnings: Finding[] } | { ok: false; findings: Finding[] };

const error = (code: string, field: string, id: string, en: string): Finding =>
  Object.freeze({ code, field, severity: 'error', message: Object.freeze({ id, en }) });
const warning = (code: string, field: string, id: string, en: string): Finding =>
  Object.freeze({ code, field, severity: 'warning', message: Object.freeze({ id, en }) });

const TEXT_HINT = {
  id: "Format kolom sebagai Teks di Excel (atau awali dengan tanda petik '), ketik ulang nomornya, lalu simpan lagi.",
  en: "Format the column as Text in Excel (or start the number with an apostrophe '), type the number again and save.",
};

const found = {
  nikScientific: error(
    'NIK_SCIENTIFIC_NOTATION',
    'nik',
    `NIK terbaca sebagai angka ilmiah (mis. 3,21E+15): Excel sudah menghapus digitnya. ${TEXT_HINT.id}`,
    `The NIK reads as scientific notation (e.g. 3.21E+15): Excel has dropped its digits. ${TEXT_HINT.en}`,
  ),
  nikNumericCell: error(
    'NIK_NUMERIC_CELL',
    'nik',
    `NIK tersimpan sebagai angka, bukan teks. Excel hanya menyimpan 15 digit angka, jadi digit terakhir NIK sudah hilang walaupun tampak benar. ${TEXT_HINT.id}`,
    `The NIK is stored as a number, not text. Excel keeps only 15 digits of a number, so the NIK's last digit is already lost, even if it looks right. ${TEXT_HINT.en}`,
  ),
  nikLength: error('NIK_NOT_16_DIGITS', 'nik', 'NIK harus terdiri dari 16 digit angka.', 'The NIK must be 16 digits.'),
  nikBirthDate: error(
    'NIK_BIRTH_DATE_INVALID',
    'nik',
    'Digit ke-7 sampai ke-12 NIK bukan tanggal lahir yang valid (DDMMYY; untuk perempuan tanggal ditambah 40).',
    'Digits 7-12 of the NIK are not a valid birth date (DDMMYY; day plus 40 for women).',
  ),
  nikSerial: error(
    'NIK_SERIAL_ZERO',
    'nik',
    'Empat digit terakhir NIK tidak boleh 0000 (sering terjadi bila Excel membulatkan angka).',
    'The last four digits of the NIK cannot be 0000 (often a sign Excel rounded the number).',
  ),
  kkScientific: error(
    'KK_SCIENTIFIC_NOTATION',
    'no_kk',
    `No. KK terbaca sebagai angka ilmiah (mis. 3,21E+15): Excel sudah menghapus digitnya. ${TEXT_HINT.id}`,
    `The family card number reads as scientific notation (e.g. 3.21E+15): Excel has dropped its digits. ${TEXT_HINT.en}`,
  ),
  kkNumericCell: error(
    'KK_NUMERIC_CELL',
    'no_kk',
    `No. KK tersimpan sebagai angka, bukan teks. Excel hanya menyimpan 15 digit angka, jadi digit terakhirnya sudah hilang walaupun tampak benar. ${TEXT_HINT.id}`,
    `The family card number is stored as a number, not text. Excel keeps only 15 digits of a number, so its last digit is already lost, even if it looks right. ${TEXT_HINT.en}`,
  ),
  kkLength: error(
    'KK_NOT_16_DIGITS',
    'no_kk',
    'No. KK harus terdiri dari 16 digit angka.',
    'The family card number must be 16 digits.',
  ),
  birthDate: error(
    'BIRTH_DATE_INVALID',
    'tanggal_lahir',
    'Tanggal lahir harus tanggal yang ada, berformat YYYY-MM-DD, DD/MM/YYYY atau DD-MM-YYYY, atau sel bertipe tanggal.',
    'The birth date must be a real date written as YYYY-MM-DD, DD/MM/YYYY or DD-MM-YYYY, or a date cell.',
  ),
  sex: error('SEX_INVALID', 'jenis_kelamin', 'Jenis kelamin harus L atau P.', 'Sex must be L (male) or P (female).'),
  phone: error(
    'PHONE_INVALID',
    'no_hp',
    'No. HP harus nomor seluler Indonesia, mis. 0812-3456-7890 atau +62 812 3456 7890.',
    'The phone number must be an Indonesian mobile number, e.g. 0812-3456-7890 or +62 812 3456 7890.',
  ),
  months: error(
    'BUSINESS_MONTHS_INVALID',
    'lama_usaha_bulan',
    'Lama usaha harus bilangan bulat jumlah bulan (0 atau lebih), mis. 18.',
    'Business age must be a whole number of months (0 or more), e.g. 18.',
  ),
  revenue: error(
    'REVENUE_INVALID',
    'omzet_bulanan',
    'Omzet bulanan harus jumlah rupiah, mis. 1500000, 1.500.000 atau Rp 1.500.000.',
    'Monthly revenue must be a rupiah amount, e.g. 1500000, 1.500.000 or Rp 1.500.000.',
  ),
  birthDateDiffers: warning(
    'BIRTH_DATE_DIFFERS_FROM_NIK',
    'tanggal_lahir',
    'Tanggal lahir berbeda dengan tanggal yang tercantum di NIK. Baris diterima; verifikasi akan memeriksanya.',
    'The birth date differs from the one the NIK encodes. The row is accepted; verification will check it.',
  ),
  sexDiffers: warning(
    'SEX_DIFFERS_FROM_NIK',
    'jenis_kelamin',
    'Jenis kelamin berbeda dengan yang tercantum di NIK. Baris diterima; verifikasi akan memeriksanya.',
    'Sex differs from what the NIK encodes. The row is accepted; verification will check it.',
  ),
} satisfies Record<string, Finding>;

const requiredFinding = Object.fromEntries(
  PROPOSAL_COLUMNS.map((c) => [
    c.name,
    error('FIELD_REQUIRED', c.name, `Kolom ${c.name} wajib diisi.`, `Column ${c.name} must be filled in.`),
  ]),
) as Record<ProposalColumn, Finding>;

function cellError(field: ProposalColumn, shown: string): Finding {
  return error(
    'CELL_ERROR_VALUE',
    field,
    `Sel kolom ${field} berisi galat Excel (${shown}), bukan nilai. Perbaiki rumusnya atau ketik nilainya.`,
    `The ${field} cell shows an Excel error (${shown}), not a value. Fix the formula or type the value.`,
  );
}

function nikFinding(problem: NikProblem, nik: string, district: string): Finding {
  switch (problem) {
    case 'NIK_SCIENTIFIC_NOTATION':
      return found.nikScientific;
    case 'NIK_NOT_16_DIGITS':
      return found.nikLength;
    case 'NIK_DISTRICT_MISMATCH':
      return error(
        problem,
        'nik',
        `Empat digit pertama NIK (${nik.slice(0, 4)}) bukan kode kabupaten/kota pengusul (${district}).`,
        `The first four digits of the NIK (${nik.slice(0, 4)}) are not the proposing district's code (${district}).`,
      );
    case 'NIK_BIRTH_DATE_INVALID':
      return found.nikBirthDate;
    case 'NIK_SERIAL_ZERO':
      return found.nikSerial;
  }
}

/** `08…`, `62…`, `+62…` (and `8…`, which is what Excel leaves of `08…`) → `+628…`; spaces, dashes, dots and brackets ignored. */
export function normalizePhone(raw: string): string | undefined {
  if (isScientificNotation(raw)) return undefined;
  let s = raw
    .trim()
    .replace(/^['\u2018\u2019`]/, '')
    .replace(/[\s().-]/g, '');
  if (s.startsWith('+62')) s = s.slice(3);
  else if (s.startsWith('62')) s = s.slice(2);
  // `+62 (0)812…` writes the trunk zero too.
  s = s.replace(/^0/, '');
  return /^8\d{8,11}$/.test(s) ? `+62${s}` : undefined;
}

function rupiah(whole: string, fraction: string | undefined): number | undefined {
  const value = Math.round(Number(whole) + (fraction ? Number(`0.${fraction}`) : 0));
  return Number.isSafeInteger(value) ? value : undefined;
}

/**
 * Rupiah as typed: `1500000`, `1.500.000`, `1,500,000`, `Rp 1.500.000`, `Rp1.500.000,00`,
 * `Rp 1.500.000,-`. A separator followed by exactly three digits groups thousands;
 * one or two digits after the last separator are cents (rounded away).
 */
export function parseRupiah(raw: string): number | undefined {
  const s = raw
    .trim()
    .replace(/^(rp\.?|idr)/i, '')
    .replace(/\s/g, '')
    .replace(/[.,]-$/, '');
  if (/^\d+$/.test(s)) return rupiah(s, undefined);
  const dots = /^(\d{1,3}(?:\.\d{3})+)(?:,(\d{1,2}))?$/.exec(s);
  if (dots?.[1]) return rupiah(dots[1].replace(/\./g, ''), dots[2]);
  const commas = /^(\d{1,3}(?:,\d{3})+)(?:\.(\d{1,2}))?$/.exec(s);
  if (commas?.[1]) return rupiah(commas[1].replace(/,/g, ''), commas[2]);
  const decimal = /^(\d+)[.,](\d{1,2})$/.exec(s);
  if (decimal?.[1]) return rupiah(decimal[1], decimal[2]);
  return undefined;
}

/** An amount from a number cell: whatever its display format, the number is the rupiah. */
function rupiahOfNumber(raw: string): number | undefined {
  const n = Number(raw);
  return Number.isFinite(n) && n >= 0 && Number.isSafeInteger(Math.round(n)) ? Math.round(n) : undefined;
}

const SEXES = new Map<string, Sex>([
  ['l', 'L'],
  ['lk', 'L'],
  ['laki-laki', 'L'],
  ['laki laki', 'L'],
  ['laki', 'L'],
  ['pria', 'L'],
  ['p', 'P'],
  ['pr', 'P'],
  ['perempuan', 'P'],
  ['wanita', 'P'],
]);

/** `L`/`P` as the template asks, and the words and abbreviations forms use (`Lk`, `Pr`, `Laki-laki`, `Wanita`). */
function parseSex(raw: string): Sex | undefined {
  return SEXES.get(raw.trim().toLowerCase().replace(/\.$/, ''));
}

/** Whole months, as a number or with the unit written after it (`18`, `18 bulan`, `18 bln`). */
function parseMonths(raw: string): number | undefined {
  const m = /^(\d{1,4})(?:\s*(?:bulan|bln\.?))?$/i.exec(raw);
  return m ? Number(m[1]) : undefined;
}

/** `DDMMYY` of an ISO date: what the NIK encodes, free of the century the NIK cannot say. */
const ddmmyy = (iso: string) => `${iso.slice(8, 10)}${iso.slice(5, 7)}${iso.slice(2, 4)}`;

const COLUMN_ORDER = new Map<string, number>(PROPOSAL_COLUMNS.map((c, i) => [c.name, i]));

/**
 * The 16 digits of a NIK or KK typed as text, or the finding that says why there are not.
 * A number cell (XLSX) has lost its 16th digit whatever it shows. A CSV cannot say
 * where its text came from: Excel saves a 16-digit number from a Number-formatted
 * column as `3210014508950010`, its last digit already zeroed, which is a valid-looking
 * number; only the NIK's own checks (serial 0000) catch some of those, and guessing more
 * would reject real NIKs that end in 0.
 */
function idNumber(raw: string, kind: CellKind | undefined, numeric: Finding, scientific: Finding, length: Finding) {
  if (kind === 'number') return { finding: numeric };
  if (isScientificNotation(raw)) return { finding: scientific };
  const digits = cleanIdNumber(raw);
  return /^\d{16}$/.test(digits) ? { digits } : { finding: length };
}

/** A row's cells as read for checking: trimmed, and empty for cells showing an Excel error. */
class RowReader {
  readonly findings: Finding[] = [];
  #errored: Set<ProposalColumn> | undefined;

  constructor(
    private readonly values: RowValues,
    kinds: RowKinds | undefined,
  ) {
    if (!kinds) return;
    // A cell showing an Excel error (#N/A, #REF!) says only that; its other checks would mislead.
    for (const [name, kind] of Object.entries(kinds) as [ProposalColumn, CellKind][]) {
      if (kind !== 'error') continue;
      this.#errored ??= new Set();
      this.#errored.add(name);
      this.findings.push(cellError(name, (values[name] ?? '').trim() || '#VALUE!'));
    }
  }

  get(name: ProposalColumn): string {
    return this.#errored?.has(name) ? '' : (this.values[name] ?? '').trim();
  }

  required(name: ProposalColumn): string | undefined {
    const v = this.get(name);
    if (v !== '') return v;
    if (!this.#errored?.has(name)) this.findings.push(requiredFinding[name]);
    return undefined;
  }
}

/**
 * Every check of one row; all findings at once, so the officer fixes a row in one go.
 * `kinds` (XLSX) says what each cell held: a NIK or KK from a number cell is refused.
 */
export function checkRow(values: RowValues, ctx: CheckContext, kinds?: RowKinds): RowCheck {
  const cells = new RowReader(values, kinds);
  const findings = cells.findings;
  const required = (name: ProposalColumn) => cells.required(name);
  const rawNik = required('nik');
  let nikResult: ReturnType<typeof parseNik> | undefined;
  if (rawNik !== undefined) {
    // See idNumber: a number cell has lost the last digit; CSV text cannot say it did.
    if (kinds?.nik === 'number') findings.push(found.nikNumericCell);
    else {
      nikResult = parseNik(rawNik, ctx.district, ctx.today);
      if (!nikResult.ok) findings.push(nikFinding(nikResult.problem, cleanIdNumber(rawNik), ctx.district));
    }
  }

  const rawKk = required('no_kk');
  let kk: string | undefined;
  if (rawKk !== undefined) {
    const id = idNumber(rawKk, kinds?.no_kk, found.kkNumericCell, found.kkScientific, found.kkLength);
    if (id.finding) findings.push(id.finding);
    kk = id.digits;
  }

  const rawBirth = required('tanggal_lahir');
  let birthDate: string | undefined;
  if (rawBirth !== undefined) {
    birthDate = parseDate(rawBirth);
    if (!birthDate || birthDate > isoDay(ctx.today) || birthDate < '1900-01-01') {
      birthDate = undefined;
      findings.push(found.birthDate);
    }
  }

  const rawSex = required('jenis_kelamin');
  let sex: Sex | undefined;
  if (rawSex !== undefined) {
    sex = parseSex(rawSex);
    if (!sex) findings.push(found.sex);
  }

  const rawPhone = required('no_hp');
  let phone: string | undefined;
  if (rawPhone !== undefined) {
    phone = normalizePhone(rawPhone);
    if (!phone) findings.push(found.phone);
  }

  const rawMonths = required('lama_usaha_bulan');
  let months: number | undefined;
  if (rawMonths !== undefined) {
    months = parseMonths(rawMonths);
    if (months === undefined) findings.push(found.months);
  }

  const rawRevenue = required('omzet_bulanan');
  let revenue: number | undefined;
  if (rawRevenue !== undefined) {
    revenue = kinds?.omzet_bulanan === 'number' ? rupiahOfNumber(rawRevenue) : parseRupiah(rawRevenue);
    if (revenue === undefined) findings.push(found.revenue);
  }

  const text = {
    nama: required('nama'),
    alamat: required('alamat'),
    kecamatan: required('kecamatan'),
    desa: required('desa'),
    jenis_usaha: required('jenis_usaha'),
    deskripsi_usaha: required('deskripsi_usaha'),
  };

  // Disagreements with the NIK are not the officer's to settle from a spreadsheet:
  // the row goes on, and verification sees the warning.
  const nik = nikResult?.ok ? nikResult.value : undefined;
  if (nik && birthDate && ddmmyy(nik.birthDate) !== ddmmyy(birthDate)) findings.push(found.birthDateDiffers);
  if (nik && sex && nik.sex !== sex) findings.push(found.sexDiffers);

  // In the order of the template's columns, the order the officer reads the row in.
  if (findings.length > 1) findings.sort((a, b) => (COLUMN_ORDER.get(a.field) ?? 99) - (COLUMN_ORDER.get(b.field) ?? 99));
  if (findings.some((f) => f.severity === 'error')) return { ok: false, findings };
  if (
    !nik ||
    !kk ||
    !birthDate ||
    !sex ||
    !phone ||
    months === undefined ||
    revenue === undefined ||
    !text.nama ||
    !text.alamat ||
    !text.kecamatan ||
    !text.desa ||
    !text.jenis_usaha ||
    !text.deskripsi_usaha
  ) {
    throw new Error('checkRow: a value passed without a finding');
  }
  const pendamping = cells.get('pendamping');
  return {
    ok: true,
    warnings: findings,
    family: {
      nik: nik.nik,
      kk,
      nama: text.nama,
      tanggalLahir: birthDate,
      jenisKelamin: sex,
      alamat: text.alamat,
      kecamatan: text.kecamatan,
      desa: text.desa,
      noHp: phone,
      ...(pendamping ? { pendamping } : {}),
      business: { type: text.jenis_usaha, description: text.deskripsi_usaha, months, monthlyRevenue: revenue },
    },
  };
}

/**
 * The same NIK or KK twice in one file: the first row stands, later ones are rejected
 * naming it. Keys are the cleaned 16-digit numbers, whatever else is wrong with the row;
 * numbers from number cells are not keys (their last digit is Excel's, not the family's).
 * A key is the number as a BigInt: compact (about 100 bytes a row with the map's entry,
 * 10 MB for 100,000 rows), and not a slice of the file's text, which would keep the
 * whole chunk of text it was cut from alive.
 */
export class DuplicateTracker {
  readonly #seen = { nik: new Map<bigint, number>(), no_kk: new Map<bigint, number>() };

  check(row: number, values: RowValues, kinds?: RowKinds): Finding[] {
    let findings: Finding[] | undefined;
    for (const field of ['nik', 'no_kk'] as const) {
      if (kinds?.[field] === 'number' || kinds?.[field] === 'error') continue;
      const digits = cleanIdNumber(values[field] ?? '');
      if (digits.length !== 16 || !/^\d{16}$/.test(digits)) continue;
      const id = BigInt(digits);
      const earlier = this.#seen[field].get(id);
      if (earlier === undefined) {
        this.#seen[field].set(id, row);
        continue;
      }
      const what = field === 'nik' ? { id: 'NIK', en: 'NIK' } : { id: 'No. KK', en: 'family card number' };
      findings ??= [];
      findings.push(
        error(
          'DUPLICATE_IN_FILE',
          field,
          `${what.id} yang sama sudah ada di baris ${earlier} berkas ini. Satu keluarga hanya diusulkan sekali.`,
          `The same ${what.en} is already in row ${earlier} of this file. A family is proposed only once.`,
        ),
      );
    }
    return findings ?? [];
  }
}

/** What is said about an earlier proposal: when and by which district, nothing personal. */
export interface EarlierProposal {
  proposedAt: string;
  district: string;
  districtName?: string;
  programYear: number;
}

// The ministry's reference time (WIB): an upload at 06:00 in Jakarta is that day there, not the day before in UTC.
const jakartaDate = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Asia/Jakarta',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
});

export function alreadyProposed(field: 'nik' | 'no_kk', earlier: EarlierProposal): Finding {
  const at = new Date(earlier.proposedAt);
  const date = Number.isNaN(at.getTime()) ? earlier.proposedAt.slice(0, 10) : jakartaDate.format(at);
  const where = earlier.districtName ? `${earlier.districtName} (${earlier.district})` : earlier.district;
  const what = field === 'nik' ? { id: 'NIK ini', en: 'This NIK' } : { id: 'No. KK ini', en: 'This family card number' };
  return error(
    'ALREADY_PROPOSED',
    field,
    `${what.id} sudah diusulkan pada ${date} oleh ${where} untuk tahun program ${earlier.programYear}. Satu keluarga hanya dapat diusulkan sekali.`,
    `${what.en} was already proposed on ${date} by ${where} for program year ${earlier.programYear}. A family can be proposed only once.`,
  );
}
