/**
 * Synthetic data for the demo and the benchmark: a PKH graduation registry and one
 * proposal file per pilot district, shaped like what a Dinas Sosial would upload.
 * NIKs have the real structure (district code, sub-district, birth date with day + 40
 * for women, non-zero serial); nothing here belongs to a real person.
 *
 * Deterministic for a given seed, so a demo run can be repeated and compared.
 */
import { stringify } from 'csv-stringify/sync';

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

/**
 * `count` families spread evenly over the pilot districts. About `ineligibleShare` of
 * them are planned to fail one verification rule, cycling through every rule.
 */
export function generateFamilies(count: number, seed = 2020, ineligibleShare = 0.15, today = new Date()): SyntheticFamily[] {
  const rnd = random(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)] as T;
  const families: SyntheticFamily[] = [];
  const usedSerials = new Set<string>();
  for (let i = 0; i < count; i += 1) {
    const district = PILOT_DISTRICTS[i % PILOT_DISTRICTS.length] as string;
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
    families.push({
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
    });
  }
  return families;
}

/** The PKH graduation registry rows for these families (columns: see functions/domain/registry.ts). */
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

/**
 * One proposal file as a district officer fills the template: NIK and KK with a leading
 * apostrophe (how officers stop Excel from damaging them), Indonesian headers.
 * `invalidRows` appends rows with the mistakes intake must catch.
 */
export function proposalCsv(families: SyntheticFamily[], invalidRows = 0): string {
  const rows: Record<string, string | number>[] = families.map((f) => ({
    nik: `'${f.nik}`,
    no_kk: `'${f.kk}`,
    nama: f.nama,
    tanggal_lahir: f.tanggalLahir.split('-').reverse().join('/'),
    jenis_kelamin: f.jenisKelamin,
    alamat: f.alamat,
    kecamatan: f.kecamatan,
    desa: f.desa,
    no_hp: f.noHp,
    jenis_usaha: f.jenisUsaha,
    deskripsi_usaha: f.deskripsiUsaha,
    lama_usaha_bulan: f.lamaUsahaBulan,
    omzet_bulanan: `Rp ${f.omzetBulanan.toLocaleString('id-ID')}`,
    pendamping: '',
  }));
  const template = rows[0];
  for (let i = 0; i < invalidRows && template; i += 1) {
    // Excel's scientific notation, a short KK: the two mistakes officers make most.
    rows.push({
      ...template,
      nik: i % 2 === 0 ? '3.21012E+15' : (template.nik as string),
      no_kk: i % 2 === 0 ? (template.no_kk as string) : '321001',
    });
  }
  return stringify(rows, {
    header: true,
    columns: [
      'nik',
      'no_kk',
      'nama',
      'tanggal_lahir',
      'jenis_kelamin',
      'alamat',
      'kecamatan',
      'desa',
      'no_hp',
      'jenis_usaha',
      'deskripsi_usaha',
      'lama_usaha_bulan',
      'omzet_bulanan',
      'pendamping',
    ],
  });
}
