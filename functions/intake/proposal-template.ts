/**
 * The proposal template: its columns, what each is called in both languages, and the
 * other names district offices give them in their own spreadsheets. Header matching
 * ignores case and everything but letters and digits, and a bracketed note
 * (`Jenis Kelamin (L/P)`, `Omzet (Rp)`), so only genuinely different words are listed.
 *
 *   nik               16-digit NIK; first four digits = the uploading district. Format the column as Text.
 *   no_kk             16-digit family card number. Format the column as Text.
 *   nama              full name
 *   tanggal_lahir     YYYY-MM-DD, DD/MM/YYYY, DD-MM-YYYY or a date cell
 *   jenis_kelamin     L or P
 *   alamat, kecamatan, desa
 *   no_hp             mobile number: 08…, 62… or +62…; spaces, dashes and dots allowed
 *   jenis_usaha       business sector (kuliner, jasa, kerajinan, …)
 *   deskripsi_usaha   what the business does
 *   lama_usaha_bulan  months the business has been running (whole number, 0 or more)
 *   omzet_bulanan     monthly revenue in rupiah: 1500000, 1.500.000, Rp 1.500.000,- or a number cell
 *   pendamping        optional: the TKSK / facilitator accompanying the family
 */
import type { Bilingual } from '#domain/errors';
import { type ColumnSpec, matchColumns, normalizeHeader } from '#intake/sheet/header';

export const PROPOSAL_COLUMNS = [
  {
    name: 'nik',
    required: true,
    aliases: ['NIK KTP', 'No NIK', 'Nomor NIK', 'Nomor Induk Kependudukan', 'NIK KPM', 'NIK Penerima'],
  },
  { name: 'no_kk', required: true, aliases: ['Nomor KK', 'KK', 'No Kartu Keluarga', 'Nomor Kartu Keluarga', 'NKK'] },
  { name: 'nama', required: true, aliases: ['Nama Lengkap', 'Nama KPM', 'Nama Penerima', 'Nama Sesuai KTP'] },
  { name: 'tanggal_lahir', required: true, aliases: ['Tanggal Lahir', 'Tgl Lahir', 'Tgl. Lahir', 'Tanggal Lahir KPM'] },
  { name: 'jenis_kelamin', required: true, aliases: ['L/P', 'JK', 'Jenis Kelamin', 'Kelamin'] },
  { name: 'alamat', required: true, aliases: ['Alamat Lengkap', 'Alamat Rumah', 'Alamat Domisili'] },
  { name: 'kecamatan', required: true, aliases: ['Kec', 'Kec.'] },
  { name: 'desa', required: true, aliases: ['Desa/Kelurahan', 'Kelurahan', 'Desa/Kel', 'Kel/Desa', 'Kelurahan/Desa'] },
  {
    name: 'no_hp',
    required: true,
    aliases: [
      'No HP',
      'No Telp',
      'Nomor HP',
      'HP',
      'WA',
      'No WA',
      'No HP/WA',
      'Nomor WA',
      'No Handphone',
      'No Telepon',
      'Nomor Telepon',
      'Telepon',
    ],
  },
  { name: 'jenis_usaha', required: true, aliases: ['Bidang Usaha', 'Sektor Usaha'] },
  { name: 'deskripsi_usaha', required: true, aliases: ['Keterangan Usaha', 'Uraian Usaha', 'Deskripsi'] },
  // Only months: `Lama Usaha (tahun)` is years, and must not be read as months.
  { name: 'lama_usaha_bulan', required: true, aliases: ['Lama Usaha (bulan)', 'Lama Berusaha (bulan)'] },
  {
    name: 'omzet_bulanan',
    required: true,
    aliases: ['Omzet per Bulan', 'Omset Bulanan', 'Omset per Bulan', 'Omzet', 'Omset', 'Omzet/Bulan', 'Omset/Bulan'],
  },
  { name: 'pendamping', required: false, aliases: ['TKSK', 'Nama Pendamping', 'Pendamping/TKSK', 'Nama TKSK'] },
] as const satisfies readonly ColumnSpec[];

export type ProposalColumn = (typeof PROPOSAL_COLUMNS)[number]['name'];

/** What each column holds, for messages that name a column to the officer. */
export const PROPOSAL_COLUMN_LABELS: Record<ProposalColumn, Bilingual> = {
  nik: { id: 'NIK', en: 'NIK' },
  no_kk: { id: 'nomor KK', en: 'family card number' },
  nama: { id: 'nama lengkap', en: 'full name' },
  tanggal_lahir: { id: 'tanggal lahir', en: 'birth date' },
  jenis_kelamin: { id: 'jenis kelamin L/P', en: 'sex L/P' },
  alamat: { id: 'alamat', en: 'address' },
  kecamatan: { id: 'kecamatan', en: 'sub-district' },
  desa: { id: 'desa/kelurahan', en: 'village' },
  no_hp: { id: 'nomor HP', en: 'mobile number' },
  jenis_usaha: { id: 'jenis usaha', en: 'business sector' },
  deskripsi_usaha: { id: 'deskripsi usaha', en: 'business description' },
  lama_usaha_bulan: { id: 'lama usaha dalam bulan', en: 'months in business' },
  omzet_bulanan: { id: 'omzet per bulan', en: 'monthly revenue' },
  pendamping: { id: 'pendamping/TKSK', en: 'facilitator (TKSK)' },
};

/**
 * `TTL` (tempat, tanggal lahir) usually holds the place and the date together
 * (`Majalengka, 05-08-1995`): it stands for tanggal_lahir only when its cells are dates.
 */
export const BIRTH_DATE_IF_DATES = new Set(
  ['TTL', 'Tempat Tanggal Lahir', 'Tempat/Tgl Lahir', 'Tempat Tgl Lahir'].map(normalizeHeader),
);

/** Template columns a row must name before it counts as the header (a title row names none). */
const HEADER_MIN_COLUMNS = 3;

export function isProposalHeader(cells: readonly string[]): boolean {
  const m = matchColumns(cells, PROPOSAL_COLUMNS);
  return Object.keys(m.index).length >= HEADER_MIN_COLUMNS;
}
