/**
 * The checks of one proposal row, and of rows against each other. Pure: nothing here
 * touches a store, so the same checks serve the upload (ReadProposal), a dry run before
 * uploading (`prokus validate`), and tests. Every finding has a stable code, the column
 * it is about, and a message in Indonesian and English that tells the officer what to fix.
 * The findings' words are in proposal-findings.ts, the value parsers in proposal-values.ts.
 */

import { isoDay } from '#domain/calendar';
import type { Business } from '#domain/case';
import { cleanIdNumber, isScientificNotation, parseNik, type Sex } from '#domain/nik';
import type { CellKind } from '#intake/sheet';
import { parseDate } from '#intake/sheet/dates';
import {
  cellError,
  error,
  type Finding,
  found,
  type LimitedColumn,
  nikFinding,
  requiredFinding,
  TEXT_LIMITS,
  tooLong,
} from './proposal-findings.ts';
import { PROPOSAL_COLUMNS, type ProposalColumn } from './proposal-template.ts';
import { normalizePhone, parseMonths, parseRupiah, parseSex, rupiahOfNumber } from './proposal-values.ts';

export { type Finding, type RowStatus, statusOf } from './proposal-findings.ts';
export { normalizePhone, parseRupiah } from './proposal-values.ts';

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

  /** A free-text cell within its limit (TEXT_LIMITS); a longer one is a finding, and no value. */
  text(name: LimitedColumn, required: boolean): string | undefined {
    const v = required ? this.required(name) : this.get(name) || undefined;
    if (v === undefined || v.length <= TEXT_LIMITS[name]) return v;
    this.findings.push(tooLong(name, v.length));
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
    nama: cells.text('nama', true),
    alamat: cells.text('alamat', true),
    kecamatan: cells.text('kecamatan', true),
    desa: cells.text('desa', true),
    jenis_usaha: cells.text('jenis_usaha', true),
    deskripsi_usaha: cells.text('deskripsi_usaha', true),
  };
  const pendamping = cells.text('pendamping', false);

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

/**
 * Why a family cannot be proposed again, in the officer's words: proposed for this
 * program year already (`proposed`), proposed for another year whose proposal has not
 * ended (`in-progress`), or granted, which bars the family for good (`granted`).
 */
export type EarlierKind = 'proposed' | 'in-progress' | 'granted';

export function alreadyProposed(field: 'nik' | 'no_kk', earlier: EarlierProposal, kind: EarlierKind = 'proposed'): Finding {
  const at = new Date(earlier.proposedAt);
  const date = Number.isNaN(at.getTime()) ? earlier.proposedAt.slice(0, 10) : jakartaDate.format(at);
  const where = earlier.districtName ? `${earlier.districtName} (${earlier.district})` : earlier.district;
  const year = earlier.programYear;
  const what = field === 'nik' ? { id: 'NIK ini', en: 'This NIK' } : { id: 'No. KK ini', en: 'This family card number' };
  switch (kind) {
    case 'granted':
      return error(
        'ALREADY_GRANTED',
        field,
        `Keluarga dengan ${what.id.toLowerCase()} sudah menerima bantuan pada tahun program ${year} (diusulkan oleh ${where} pada ${date}). Satu keluarga hanya menerima bantuan sekali.`,
        `The family with ${what.en.toLowerCase()} already received a grant in ${year} (proposed by ${where} on ${date}). A family receives a grant only once.`,
      );
    case 'in-progress':
      return error(
        'ALREADY_PROPOSED',
        field,
        `${what.id} sudah diusulkan untuk tahun program ${year} oleh ${where} pada ${date}, dan usulan itu belum selesai. Keluarga dapat diusulkan lagi di tahun program lain setelah usulan sebelumnya selesai tanpa bantuan.`,
        `${what.en} was already proposed for ${year} by ${where} on ${date}, and that proposal has not ended yet. A family can be proposed again for another program year once its earlier proposal has ended without a grant.`,
      );
    case 'proposed':
      return error(
        'ALREADY_PROPOSED',
        field,
        `${what.id} sudah diusulkan untuk tahun program ${year} oleh ${where} pada ${date}. Satu keluarga hanya diusulkan sekali dalam satu tahun program.`,
        `${what.en} was already proposed for ${year} by ${where} on ${date}. A family is proposed only once in a program year.`,
      );
  }
}
