/**
 * The proposal template and the checks a district's proposal file must pass. Pure:
 * nothing here touches a store, so the same checks serve the upload (ReadProposal),
 * a dry run before uploading, and tests.
 *
 * The template (CSV with a header row; header matching ignores case, spaces, dots and
 * underscores, so `No. KK` and `Tanggal Lahir` match):
 *   nik               16-digit NIK; first four digits = the uploading district. Format the column as Text.
 *   no_kk             16-digit family card number. Format the column as Text.
 *   nama              full name
 *   tanggal_lahir     YYYY-MM-DD, DD/MM/YYYY or DD-MM-YYYY
 *   jenis_kelamin     L or P
 *   alamat, kecamatan, desa
 *   no_hp             mobile number: 08…, 62… or +62…; spaces and dashes allowed
 *   jenis_usaha       business sector (kuliner, jasa, kerajinan, …)
 *   deskripsi_usaha   what the business does
 *   lama_usaha_bulan  months the business has been running (whole number, 0 or more)
 *   omzet_bulanan     monthly revenue in rupiah: 1500000, 1.500.000, Rp 1.500.000,-
 *   pendamping        optional: the TKSK / facilitator accompanying the family
 */
import type { Business } from './case.ts';
import type { Bilingual } from './errors.ts';
import { cleanIdNumber, isScientificNotation, type NikProblem, parseNik, type Sex } from './nik.ts';
import {
  type ColumnSpec,
  cellsByName,
  type FileProblem,
  matchHeader,
  openCsv,
  parseDate,
  type Separator,
  SheetError,
  type SheetInput,
} from './sheet.ts';

export const PROPOSAL_COLUMNS = [
  { name: 'nik', required: true },
  { name: 'no_kk', required: true },
  { name: 'nama', required: true },
  { name: 'tanggal_lahir', required: true },
  { name: 'jenis_kelamin', required: true },
  { name: 'alamat', required: true },
  { name: 'kecamatan', required: true },
  { name: 'desa', required: true },
  { name: 'no_hp', required: true },
  { name: 'jenis_usaha', required: true },
  { name: 'deskripsi_usaha', required: true },
  { name: 'lama_usaha_bulan', required: true },
  { name: 'omzet_bulanan', required: true },
  { name: 'pendamping', required: false },
] as const satisfies readonly ColumnSpec[];

export type ProposalColumn = (typeof PROPOSAL_COLUMNS)[number]['name'];

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

const error = (code: string, field: string, id: string, en: string): Finding => ({
  code,
  field,
  severity: 'error',
  message: { id, en },
});
const warning = (code: string, field: string, id: string, en: string): Finding => ({
  code,
  field,
  severity: 'warning',
  message: { id, en },
});

const TEXT_HINT = {
  id: "Format kolom sebagai Teks di Excel (atau awali dengan tanda petik '), ketik ulang nomornya, lalu simpan lagi.",
  en: "Format the column as Text in Excel (or start the number with an apostrophe '), type the number again and save.",
};

function nikFinding(problem: NikProblem, nik: string, district: string): Finding {
  switch (problem) {
    case 'NIK_SCIENTIFIC_NOTATION':
      return error(
        problem,
        'nik',
        `NIK terbaca sebagai angka ilmiah (mis. 3,21E+15): Excel sudah menghapus digitnya. ${TEXT_HINT.id}`,
        `The NIK reads as scientific notation (e.g. 3.21E+15): Excel has dropped its digits. ${TEXT_HINT.en}`,
      );
    case 'NIK_NOT_16_DIGITS':
      return error(problem, 'nik', 'NIK harus terdiri dari 16 digit angka.', 'The NIK must be 16 digits.');
    case 'NIK_DISTRICT_MISMATCH':
      return error(
        problem,
        'nik',
        `Empat digit pertama NIK (${nik.slice(0, 4)}) bukan kode kabupaten/kota pengusul (${district}).`,
        `The first four digits of the NIK (${nik.slice(0, 4)}) are not the proposing district's code (${district}).`,
      );
    case 'NIK_BIRTH_DATE_INVALID':
      return error(
        problem,
        'nik',
        'Digit ke-7 sampai ke-12 NIK bukan tanggal lahir yang valid (DDMMYY; untuk perempuan tanggal ditambah 40).',
        'Digits 7-12 of the NIK are not a valid birth date (DDMMYY; day plus 40 for women).',
      );
    case 'NIK_SERIAL_ZERO':
      return error(
        problem,
        'nik',
        'Empat digit terakhir NIK tidak boleh 0000 (sering terjadi bila Excel membulatkan angka).',
        'The last four digits of the NIK cannot be 0000 (often a sign Excel rounded the number).',
      );
  }
}

/** `08…`, `62…`, `+62…` (and `8…`, which is what Excel leaves of `08…`) → `+628…`. */
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

function parseSex(raw: string): Sex | undefined {
  const s = raw.trim().toLowerCase();
  if (s === 'l' || s === 'laki-laki' || s === 'laki laki') return 'L';
  if (s === 'p' || s === 'perempuan') return 'P';
  return undefined;
}

/** `DDMMYY` of an ISO date: what the NIK encodes, free of the century the NIK cannot say. */
const ddmmyy = (iso: string) => `${iso.slice(8, 10)}${iso.slice(5, 7)}${iso.slice(2, 4)}`;

const REQUIRED_TEXT = ['nama', 'alamat', 'kecamatan', 'desa', 'jenis_usaha', 'deskripsi_usaha'] as const;

/** Every check of one row; all findings at once, so the officer fixes a row in one go. */
export function checkRow(values: Partial<Record<ProposalColumn, string>>, ctx: CheckContext): RowCheck {
  const get = (name: ProposalColumn) => (values[name] ?? '').trim();
  const findings: Finding[] = [];
  const required = (name: ProposalColumn): string | undefined => {
    const v = get(name);
    if (v !== '') return v;
    findings.push(error('FIELD_REQUIRED', name, `Kolom ${name} wajib diisi.`, `Column ${name} must be filled in.`));
    return undefined;
  };

  const rawNik = required('nik');
  const nikResult = rawNik === undefined ? undefined : parseNik(rawNik, ctx.district, ctx.today);
  if (nikResult && !nikResult.ok) findings.push(nikFinding(nikResult.problem, cleanIdNumber(rawNik ?? ''), ctx.district));

  const rawKk = required('no_kk');
  let kk: string | undefined;
  if (rawKk !== undefined) {
    if (isScientificNotation(rawKk)) {
      findings.push(
        error(
          'KK_SCIENTIFIC_NOTATION',
          'no_kk',
          `No. KK terbaca sebagai angka ilmiah (mis. 3,21E+15): Excel sudah menghapus digitnya. ${TEXT_HINT.id}`,
          `The family card number reads as scientific notation (e.g. 3.21E+15): Excel has dropped its digits. ${TEXT_HINT.en}`,
        ),
      );
    } else if (/^\d{16}$/.test(cleanIdNumber(rawKk))) {
      kk = cleanIdNumber(rawKk);
    } else {
      findings.push(
        error(
          'KK_NOT_16_DIGITS',
          'no_kk',
          'No. KK harus terdiri dari 16 digit angka.',
          'The family card number must be 16 digits.',
        ),
      );
    }
  }

  const rawBirth = required('tanggal_lahir');
  let birthDate: string | undefined;
  if (rawBirth !== undefined) {
    birthDate = parseDate(rawBirth);
    if (!birthDate || birthDate > ctx.today.toISOString().slice(0, 10) || birthDate < '1900-01-01') {
      birthDate = undefined;
      findings.push(
        error(
          'BIRTH_DATE_INVALID',
          'tanggal_lahir',
          'Tanggal lahir harus tanggal yang ada, berformat YYYY-MM-DD, DD/MM/YYYY atau DD-MM-YYYY.',
          'The birth date must be a real date written as YYYY-MM-DD, DD/MM/YYYY or DD-MM-YYYY.',
        ),
      );
    }
  }

  const rawSex = required('jenis_kelamin');
  let sex: Sex | undefined;
  if (rawSex !== undefined) {
    sex = parseSex(rawSex);
    if (!sex) {
      findings.push(
        error('SEX_INVALID', 'jenis_kelamin', 'Jenis kelamin harus L atau P.', 'Sex must be L (male) or P (female).'),
      );
    }
  }

  const rawPhone = required('no_hp');
  let phone: string | undefined;
  if (rawPhone !== undefined) {
    phone = normalizePhone(rawPhone);
    if (!phone) {
      findings.push(
        error(
          'PHONE_INVALID',
          'no_hp',
          'No. HP harus nomor seluler Indonesia, mis. 0812-3456-7890 atau +62 812 3456 7890.',
          'The phone number must be an Indonesian mobile number, e.g. 0812-3456-7890 or +62 812 3456 7890.',
        ),
      );
    }
  }

  const rawMonths = required('lama_usaha_bulan');
  let months: number | undefined;
  if (rawMonths !== undefined) {
    months = /^\d{1,4}$/.test(rawMonths) ? Number(rawMonths) : undefined;
    if (months === undefined) {
      findings.push(
        error(
          'BUSINESS_MONTHS_INVALID',
          'lama_usaha_bulan',
          'Lama usaha harus bilangan bulat jumlah bulan (0 atau lebih), mis. 18.',
          'Business age must be a whole number of months (0 or more), e.g. 18.',
        ),
      );
    }
  }

  const rawRevenue = required('omzet_bulanan');
  let revenue: number | undefined;
  if (rawRevenue !== undefined) {
    revenue = parseRupiah(rawRevenue);
    if (revenue === undefined) {
      findings.push(
        error(
          'REVENUE_INVALID',
          'omzet_bulanan',
          'Omzet bulanan harus jumlah rupiah, mis. 1500000, 1.500.000 atau Rp 1.500.000.',
          'Monthly revenue must be a rupiah amount, e.g. 1500000, 1.500.000 or Rp 1.500.000.',
        ),
      );
    }
  }

  const text = Object.fromEntries(REQUIRED_TEXT.map((name) => [name, required(name)])) as Record<
    (typeof REQUIRED_TEXT)[number],
    string | undefined
  >;

  // Disagreements with the NIK are not the officer's to settle from a spreadsheet:
  // the row goes on, and verification sees the warning.
  const nik = nikResult?.ok ? nikResult.value : undefined;
  if (nik && birthDate && ddmmyy(nik.birthDate) !== ddmmyy(birthDate)) {
    findings.push(
      warning(
        'BIRTH_DATE_DIFFERS_FROM_NIK',
        'tanggal_lahir',
        'Tanggal lahir berbeda dengan tanggal yang tercantum di NIK. Baris diterima; verifikasi akan memeriksanya.',
        'The birth date differs from the one the NIK encodes. The row is accepted; verification will check it.',
      ),
    );
  }
  if (nik && sex && nik.sex !== sex) {
    findings.push(
      warning(
        'SEX_DIFFERS_FROM_NIK',
        'jenis_kelamin',
        'Jenis kelamin berbeda dengan yang tercantum di NIK. Baris diterima; verifikasi akan memeriksanya.',
        'Sex differs from what the NIK encodes. The row is accepted; verification will check it.',
      ),
    );
  }

  // In the order of the template's columns, the order the officer reads the row in.
  const order = (f: Finding) => PROPOSAL_COLUMNS.findIndex((c) => c.name === f.field);
  findings.sort((a, b) => order(a) - order(b));
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
  const pendamping = get('pendamping');
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
 * naming it. Keys are the cleaned 16-digit numbers, whatever else is wrong with the row.
 */
export class DuplicateTracker {
  readonly #seen = { nik: new Map<string, number>(), no_kk: new Map<string, number>() };

  check(row: number, values: Partial<Record<ProposalColumn, string>>): Finding[] {
    const findings: Finding[] = [];
    for (const field of ['nik', 'no_kk'] as const) {
      const id = cleanIdNumber(values[field] ?? '');
      if (!/^\d{16}$/.test(id)) continue;
      const earlier = this.#seen[field].get(id);
      if (earlier === undefined) {
        this.#seen[field].set(id, row);
        continue;
      }
      const what = field === 'nik' ? { id: 'NIK', en: 'NIK' } : { id: 'No. KK', en: 'family card number' };
      findings.push(
        error(
          'DUPLICATE_IN_FILE',
          field,
          `${what.id} yang sama sudah ada di baris ${earlier} berkas ini. Satu keluarga hanya diusulkan sekali.`,
          `The same ${what.en} is already in row ${earlier} of this file. A family is proposed only once.`,
        ),
      );
    }
    return findings;
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

// ---- file level ----

export const fileProblems = {
  noRows: {
    code: 'FILE_NO_ROWS',
    message: {
      id: 'Berkas hanya berisi baris judul, tanpa baris usulan.',
      en: 'The file has a header row but no proposal rows.',
    },
  },
  unknownDistrict: (district: string, programYear: number): FileProblem => ({
    code: 'DISTRICT_UNKNOWN',
    message: {
      id: `Folder "${district}" bukan kode kabupaten/kota peserta program tahun ${programYear}. Unggah ke proposals/<kode kabupaten/kota>/.`,
      en: `Folder "${district}" is not the code of a district in program year ${programYear}. Upload to proposals/<district code>/.`,
    },
  }),
  unknownProgramYear: (raw: string): FileProblem => ({
    code: 'PROGRAM_YEAR_UNKNOWN',
    message: {
      id: `Tahun program "${raw}" tidak dikenal.`,
      en: `Program year "${raw}" is not configured.`,
    },
  }),
} satisfies Record<string, FileProblem | ((...args: never[]) => FileProblem)>;

function unknownColumn(name: string): FileProblem {
  return {
    code: 'HEADER_UNKNOWN_COLUMN',
    field: name,
    message: {
      id: `Kolom "${name}" tidak dikenal dan diabaikan.`,
      en: `Column "${name}" is not part of the template and was ignored.`,
    },
  };
}

export interface CheckedRow {
  row: number;
  check: RowCheck;
}

export interface ProposalFile {
  separator: Separator;
  fileWarnings: FileProblem[];
  /** Data rows with their checks (within-file duplicates included). Single use. */
  rows: AsyncIterable<CheckedRow>;
}

/** Opens a proposal file and matches its header. Throws SheetError when it cannot be read. */
export async function openProposal(input: SheetInput, ctx: CheckContext): Promise<ProposalFile> {
  const sheet = await openCsv(input);
  const header = matchHeader(sheet.header, PROPOSAL_COLUMNS);
  if (!header.ok) {
    sheet.close();
    throw new SheetError(header.problem);
  }
  const index = header.index;
  async function* rows(): AsyncGenerator<CheckedRow> {
    const duplicates = new DuplicateTracker();
    for await (const { row, cells } of sheet.rows) {
      const values = cellsByName(cells, index);
      const check = checkRow(values, ctx);
      const dup = duplicates.check(row, values);
      if (dup.length === 0) yield { row, check };
      else yield { row, check: { ok: false, findings: [...(check.ok ? check.warnings : check.findings), ...dup] } };
    }
  }
  return { separator: sheet.separator, fileWarnings: header.unknown.map((u) => unknownColumn(u.name)), rows: rows() };
}

export interface RowResult {
  row: number;
  status: RowStatus;
  errors: Finding[];
}

export type ProposalCheck =
  | {
      ok: true;
      separator: Separator;
      fileWarnings: FileProblem[];
      rows: RowResult[];
      summary: Record<RowStatus, number>;
    }
  | { ok: false; problem: FileProblem };

/**
 * Checks a whole file without touching any store: the dry run. "Already proposed" needs
 * the store and is left to the upload; everything else an upload would say, this says.
 */
export async function checkProposal(input: SheetInput, ctx: CheckContext): Promise<ProposalCheck> {
  const rows: RowResult[] = [];
  const result = await scanProposal(input, ctx, (r) => rows.push(r));
  return result.ok ? { ...result, rows } : result;
}

/**
 * Reads a whole proposal file through every check, handing each row's result to `onRow`
 * and keeping nothing else: memory stays flat however long the file is.
 */
export async function scanProposal(
  input: SheetInput,
  ctx: CheckContext,
  onRow: (result: RowResult) => void = () => {},
): Promise<
  | { ok: true; separator: Separator; fileWarnings: FileProblem[]; summary: Record<RowStatus, number> }
  | { ok: false; problem: FileProblem }
> {
  try {
    const file = await openProposal(input, ctx);
    const summary: Record<RowStatus, number> = { accepted: 0, warning: 0, rejected: 0 };
    for await (const { row, check } of file.rows) {
      const errors = check.ok ? check.warnings : check.findings;
      const status = statusOf(errors);
      summary[status] += 1;
      onRow({ row, status, errors });
    }
    if (summary.accepted + summary.warning + summary.rejected === 0) return { ok: false, problem: fileProblems.noRows };
    return { ok: true, separator: file.separator, fileWarnings: file.fileWarnings, summary };
  } catch (e) {
    if (e instanceof SheetError) return { ok: false, problem: e.problem };
    throw e;
  }
}
