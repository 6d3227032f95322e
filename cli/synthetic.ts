/**
 * Synthetic data for the demo and the benchmark: a PKH graduation registry and one
 * proposal file per pilot district, shaped like what a Dinas Sosial would upload.
 * NIKs have the real structure (district code, sub-district, birth date with day + 40
 * for women, non-zero serial); nothing here belongs to a real person.
 *
 * Deterministic for a given seed, so a demo run can be repeated and compared.
 *
 * Near 400 lines and one file: the families, and the registry and proposal files made from them.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { stringify as stringifyStream } from 'csv-stringify';
import { stringify } from 'csv-stringify/sync';
import ExcelJS from 'exceljs';
import { PROPOSAL_COLUMNS, type ProposalColumn } from '#intake/proposal';

/** The five districts of the 2020 pilot (see programs/2020.json). */
export const PILOT_DISTRICTS = ['3210', '3217', '3171', '3322', '3402'] as const;

/** Why a synthetic family should fail verification; `undefined` for an eligible one. */
export type PlannedIneligibility =
  | 'not-in-registry'
  | 'not-graduated'
  | 'decile'
  | 'over-age'
  | 'previous-recipient'
  | 'no-business';

export interface SyntheticFamily {
  district: string;
  nik: string;
  kk: string;
  nama: string;
  tanggalLahir: string;
  jenisKelamin: 'L' | 'P';
  alamat: string;
  kecamatan: string;
  desa: string;
  noHp: string;
  jenisUsaha: string;
  deskripsiUsaha: string;
  lamaUsahaBulan: number;
  omzetBulanan: number;
  planned?: PlannedIneligibility;
}

/** mulberry32: a small, good-enough PRNG so runs are reproducible without a dependency. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIRST_WOMEN = ['Siti', 'Nur', 'Dewi', 'Sri', 'Ani', 'Rina', 'Wati', 'Yuni', 'Euis', 'Lilis', 'Tuti', 'Ratna'];
const FIRST_MEN = ['Asep', 'Budi', 'Dedi', 'Joko', 'Agus', 'Ujang', 'Slamet', 'Hendra', 'Rudi', 'Wahyu', 'Eko', 'Dadang'];
const LAST = ['Aminah', 'Rahayu', 'Hidayat', 'Suryani', 'Saputra', 'Lestari', 'Kurniawan', 'Wulandari', 'Santoso', 'Maryati'];
const BUSINESSES: [string, string][] = [
  ['kuliner', 'Keripik singkong dan rengginang'],
  ['kuliner', 'Warung nasi dan gorengan'],
  ['industri rumahan', 'Kue kering pesanan'],
  ['jasa', 'Jahit dan permak pakaian'],
  ['kerajinan', 'Anyaman bambu'],
  ['industri kreatif', 'Batik tulis skala kecil'],
  ['pertanian', 'Budidaya jamur tiram'],
  ['perdagangan', 'Warung kelontong'],
  ['pertanian', 'Kopi bubuk robusta'],
  ['agrowisata', 'Kebun teh petik sendiri'],
];
const VILLAGES = ['Cicurug', 'Sukamaju', 'Mekarsari', 'Karanganyar', 'Sidomulyo', 'Tegalrejo', 'Cibodas', 'Sumbersari'];
const INELIGIBLE: PlannedIneligibility[] = [
  'not-in-registry',
  'not-graduated',
  'decile',
  'over-age',
  'previous-recipient',
  'no-business',
];

const pad = (n: number, width: number) => String(n).padStart(width, '0');

export interface FamilyOptions {
  seed?: number;
  ineligibleShare?: number;
  today?: Date;
  /** Districts the families are spread over, in turn; the five pilot districts by default. */
  districts?: readonly string[];
}

/**
 * Families one at a time, so a 100,000-row file is written without holding 100,000
 * families. About `ineligibleShare` of them are planned to fail one verification rule,
 * cycling through every rule.
 */
export function* synthesizeFamilies(count: number, opts: FamilyOptions = {}): Generator<SyntheticFamily> {
  const { seed = 2020, ineligibleShare = 0.15, today = new Date(), districts = PILOT_DISTRICTS } = opts;
  const rnd = random(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)] as T;
  const usedSerials = new Set<string>();
  for (let i = 0; i < count; i += 1) {
    const district = districts[i % districts.length] as string;
    const planned = rnd() < ineligibleShare ? INELIGIBLE[i % INELIGIBLE.length] : undefined;
    const woman = rnd() < 0.6;
    const age = planned === 'over-age' ? 41 + Math.floor(rnd() * 15) : 21 + Math.floor(rnd() * 17);
    const birth = new Date(Date.UTC(today.getUTCFullYear() - age - 1, Math.floor(rnd() * 12), 1 + Math.floor(rnd() * 28)));
    const day = birth.getUTCDate() + (woman ? 40 : 0);
    const subDistrict = pad(1 + Math.floor(rnd() * 20), 2);
    const datePart = `${pad(day, 2)}${pad(birth.getUTCMonth() + 1, 2)}${pad(birth.getUTCFullYear() % 100, 2)}`;
    let serial: string;
    do {
      serial = pad(1 + Math.floor(rnd() * 9998), 4);
    } while (usedSerials.has(`${district}${subDistrict}${datePart}${serial}`));
    usedSerials.add(`${district}${subDistrict}${datePart}${serial}`);
    const [jenisUsaha, deskripsiUsaha] = pick(BUSINESSES);
    yield {
      district,
      nik: `${district}${subDistrict}${datePart}${serial}`,
      kk: `${district}${subDistrict}${pad(10_000_000 + i, 10)}`,
      nama: `${pick(woman ? FIRST_WOMEN : FIRST_MEN)} ${pick(LAST)}`,
      tanggalLahir: birth.toISOString().slice(0, 10),
      jenisKelamin: woman ? 'P' : 'L',
      alamat: `Jl. ${pick(VILLAGES)} No. ${1 + Math.floor(rnd() * 120)}`,
      kecamatan: `Kecamatan ${subDistrict}`,
      desa: pick(VILLAGES),
      noHp: `08${pad(Math.floor(rnd() * 1e10), 10)}`,
      jenisUsaha,
      deskripsiUsaha,
      lamaUsahaBulan: planned === 'no-business' ? 0 : 2 + Math.floor(rnd() * 34),
      omzetBulanan: 100_000 * (5 + Math.floor(rnd() * 26)),
      planned,
    };
  }
}

/** `count` families spread evenly over the pilot districts (see synthesizeFamilies). */
export function generateFamilies(count: number, seed = 2020, ineligibleShare = 0.15, today = new Date()): SyntheticFamily[] {
  return [...synthesizeFamilies(count, { seed, ineligibleShare, today })];
}

/** The PKH graduation registry rows for these families (columns: see functions/intake/registry-import.ts). */
export function registryCsv(families: SyntheticFamily[], seed = 2020): string {
  const rnd = random(seed + 1);
  const rows = families
    .filter((f) => f.planned !== 'not-in-registry')
    .map((f) => ({
      nik: `'${f.nik}`,
      tanggal_graduasi: f.planned === 'not-graduated' ? '' : `201${7 + Math.floor(rnd() * 3)}-0${1 + Math.floor(rnd() * 9)}-15`,
      desil: f.planned === 'decile' ? 5 + Math.floor(rnd() * 5) : 1 + Math.floor(rnd() * 2),
      tahun_penerima_prokus: f.planned === 'previous-recipient' ? 2019 : '',
    }));
  return stringify(rows, { header: true, columns: ['nik', 'tanggal_graduasi', 'desil', 'tahun_penerima_prokus'] });
}

/** The template's columns, in order: one source, functions/intake/proposal-template.ts. */
const COLUMNS: ProposalColumn[] = PROPOSAL_COLUMNS.map((c) => c.name);

const ddmmyyyy = (iso: string) => iso.split('-').reverse().join('/');

/** A family as the officer types it into the CSV template: text everywhere. */
function csvRecord(f: SyntheticFamily): Record<ProposalColumn, string> {
  return {
    // A leading apostrophe: how officers stop Excel from damaging long numbers.
    nik: `'${f.nik}`,
    no_kk: `'${f.kk}`,
    nama: f.nama,
    tanggal_lahir: ddmmyyyy(f.tanggalLahir),
    jenis_kelamin: f.jenisKelamin,
    alamat: f.alamat,
    kecamatan: f.kecamatan,
    desa: f.desa,
    no_hp: f.noHp,
    jenis_usaha: f.jenisUsaha,
    deskripsi_usaha: f.deskripsiUsaha,
    lama_usaha_bulan: String(f.lamaUsahaBulan),
    omzet_bulanan: `Rp ${f.omzetBulanan.toLocaleString('id-ID')}`,
    pendamping: '',
  };
}

/**
 * One proposal file as a district officer fills the template: NIK and KK with a leading
 * apostrophe (how officers stop Excel from damaging them), Indonesian headers.
 * `invalidRows` appends rows with the mistakes intake must catch.
 */
export function proposalCsv(families: SyntheticFamily[], invalidRows = 0): string {
  const rows: Record<string, string>[] = families.map(csvRecord);
  const template = rows[0];
  for (let i = 0; i < invalidRows && template; i += 1) {
    // Excel's scientific notation, a short KK: the two mistakes officers make most.
    rows.push({
      ...template,
      nik: i % 2 === 0 ? '3.21012E+15' : (template.nik as string),
      no_kk: i % 2 === 0 ? (template.no_kk as string) : '321001',
    });
  }
  return stringify(rows, { header: true, columns: COLUMNS });
}

// ---- big proposal files, written as they are generated ----

/** Mistakes found in real district files; each one is rejected by a row check. */
export const ROW_DAMAGES = [
  'nik-scientific',
  'nik-other-district',
  'kk-short',
  'birth-date-invalid',
  'phone-invalid',
  'revenue-invalid',
  'name-missing',
  'duplicate-nik',
] as const;
/** Disagreements with the NIK: the row is accepted with a warning. */
export const ROW_WARNINGS = ['birth-date-differs', 'sex-differs'] as const;
export type RowDamage = (typeof ROW_DAMAGES)[number] | (typeof ROW_WARNINGS)[number];

export type ProposalCell = string | number | Date;
export type ProposalFormat = 'csv' | 'xlsx';

export interface ProposalRowsOptions {
  /** csv: every cell is text as typed; xlsx: dates, months and amounts are typed cells, as Excel stores them. */
  format: ProposalFormat;
  /** Share of rows with a mistake a check rejects (default 0.05). */
  damagedShare?: number;
  /** Share of rows whose birth date or sex disagrees with the NIK (default 0.02). */
  warningShare?: number;
  seed?: number;
}

export interface ProposalRow {
  cells: Record<ProposalColumn, ProposalCell>;
  family: SyntheticFamily;
  damage?: RowDamage;
}

/** What Excel keeps of a 16-digit number typed into a numeric cell: 15 significant digits. */
export const excelNumber = (digits: string) => Number(Number(digits).toPrecision(15));

/**
 * The rows of a big proposal file, one at a time. Damaged rows keep their family (the
 * officer meant to propose it); the bench knows from `damage` what the checks must say.
 */
export function* proposalRows(families: Iterable<SyntheticFamily>, opts: ProposalRowsOptions): Generator<ProposalRow> {
  const { format, damagedShare = 0.05, warningShare = 0.02, seed = 2020 } = opts;
  const rnd = random(seed + 2);
  let previous: SyntheticFamily | undefined;
  let n = 0;
  for (const f of families) {
    const cells: Record<ProposalColumn, ProposalCell> = csvRecord(f);
    if (format === 'xlsx') {
      // A Text-formatted column keeps the digits: no apostrophe needed.
      cells.nik = f.nik;
      cells.no_kk = f.kk;
      cells.tanggal_lahir = new Date(`${f.tanggalLahir}T00:00:00Z`);
      cells.lama_usaha_bulan = f.lamaUsahaBulan;
      cells.omzet_bulanan = f.omzetBulanan;
    }
    const roll = rnd();
    let damage: RowDamage | undefined;
    if (roll < damagedShare) damage = ROW_DAMAGES[n % ROW_DAMAGES.length];
    else if (roll < damagedShare + warningShare) damage = ROW_WARNINGS[n % ROW_WARNINGS.length];
    if (damage === 'duplicate-nik' && !previous) damage = undefined;
    switch (damage) {
      case 'nik-scientific':
        // A CSV saved from a numeric column holds the scientific text; an XLSX holds the rounded number.
        cells.nik = format === 'csv' ? `${(Number(f.nik) / 1e15).toFixed(5)}E+15` : excelNumber(f.nik);
        break;
      case 'nik-other-district':
        cells.nik = `${format === 'csv' ? "'" : ''}${f.district === '3171' ? '3210' : '3171'}${f.nik.slice(4)}`;
        break;
      case 'kk-short':
        cells.no_kk = f.kk.slice(0, 12);
        break;
      case 'birth-date-invalid':
        cells.tanggal_lahir = `31/02/${f.tanggalLahir.slice(0, 4)}`;
        break;
      case 'phone-invalid':
        cells.no_hp = f.noHp.slice(0, 6);
        break;
      case 'revenue-invalid':
        cells.omzet_bulanan = 'satu setengah juta';
        break;
      case 'name-missing':
        cells.nama = '';
        break;
      case 'duplicate-nik':
        cells.nik = format === 'csv' ? `'${previous?.nik}` : (previous?.nik ?? '');
        break;
      case 'birth-date-differs': {
        const year = Number(f.tanggalLahir.slice(0, 4)) - 1;
        const iso = `${year}${f.tanggalLahir.slice(4)}`;
        cells.tanggal_lahir = format === 'csv' ? ddmmyyyy(iso) : new Date(`${iso}T00:00:00Z`);
        break;
      }
      case 'sex-differs':
        cells.jenis_kelamin = f.jenisKelamin === 'L' ? 'P' : 'L';
        break;
      case undefined:
        break;
    }
    previous = f;
    n += 1;
    yield { cells, family: f, ...(damage ? { damage } : {}) };
  }
}

export interface WrittenProposal {
  file: string;
  rows: number;
  bytes: number;
  /** How many rows carry each damage. */
  damages: Partial<Record<RowDamage, number>>;
}

function counter(rows: Iterable<ProposalRow>, damages: Partial<Record<RowDamage, number>>, count: { rows: number }) {
  return (function* () {
    for (const r of rows) {
      count.rows += 1;
      if (r.damage) damages[r.damage] = (damages[r.damage] ?? 0) + 1;
      yield r;
    }
  })();
}

const csvText = (cell: ProposalCell) => (cell instanceof Date ? ddmmyyyy(cell.toISOString().slice(0, 10)) : String(cell));

/**
 * Streams rows to a CSV file the way Indonesian Excel saves one: `;`-separated, UTF-8
 * with a BOM, CRLF. Memory stays flat however many rows there are.
 */
export async function writeProposalCsv(
  file: string,
  rows: Iterable<ProposalRow>,
  opts: { separator?: ',' | ';' | '\t'; bom?: boolean } = {},
): Promise<WrittenProposal> {
  const damages: Partial<Record<RowDamage, number>> = {};
  const count = { rows: 0 };
  await pipeline(
    Readable.from(
      (function* () {
        for (const r of counter(rows, damages, count)) yield COLUMNS.map((c) => csvText(r.cells[c]));
      })(),
    ),
    stringifyStream({
      header: true,
      columns: COLUMNS,
      delimiter: opts.separator ?? ';',
      bom: opts.bom ?? true,
      record_delimiter: 'windows',
    }),
    createWriteStream(file),
  );
  return { file, rows: count.rows, bytes: (await stat(file)).size, damages };
}

/**
 * Streams rows to an XLSX workbook (sheet `usulan`) with exceljs's streaming writer:
 * each row is committed and leaves memory. NIK and KK columns are Text, as the template
 * sets them; damaged NIKs are the numeric cells Excel makes of a General column.
 */
export async function writeProposalXlsx(file: string, rows: Iterable<ProposalRow>): Promise<WrittenProposal> {
  const damages: Partial<Record<RowDamage, number>> = {};
  const count = { rows: 0 };
  const stream = createWriteStream(file);
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream, useStyles: true, useSharedStrings: false });
  const sheet = workbook.addWorksheet('usulan');
  sheet.columns = COLUMNS.map((name) => ({
    header: name,
    key: name,
    style:
      name === 'nik' || name === 'no_kk' || name === 'no_hp'
        ? { numFmt: '@' }
        : name === 'tanggal_lahir'
          ? { numFmt: 'dd/mm/yyyy' }
          : {},
  }));
  for (const r of counter(rows, damages, count)) {
    sheet.addRow(COLUMNS.map((c) => r.cells[c])).commit();
    // exceljs's writer does not wait for the file; pausing on a full buffer keeps memory flat.
    if (stream.writableNeedDrain) await once(stream, 'drain');
  }
  sheet.commit();
  await workbook.commit();
  if (!stream.closed) await once(stream, 'close');
  return { file, rows: count.rows, bytes: (await stat(file)).size, damages };
}
