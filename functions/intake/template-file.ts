/**
 * The proposal template district officers download and fill in: the same file from
 * `prokus template` (cli/template.ts) and from the upload page (GET /upload/template).
 *
 * XLSX by default, because a workbook can carry what protects the data: the NIK, KK and
 * phone columns are formatted as Text (Excel keeps only 15 digits of a number, and drops
 * the leading 0 of a phone number), the birth date column as a date, `jenis_kelamin`
 * offers L/P, the header row is frozen, and a second sheet `petunjuk` explains every
 * column in Indonesian and English.
 *
 * CSV on request: `;`-separated, UTF-8 with a BOM, CRLF. Excel set to Indonesian (and
 * most of Europe) uses the comma as the decimal separator and so expects `;` between
 * fields: a `,` file opens with every row squeezed into column A. The BOM makes Excel
 * read UTF-8 instead of the Windows code page. The sheet reader detects `;`, `,` and tab.
 *
 * This module is the template's content and its CSV; template-workbook.ts builds the XLSX
 * (with exceljs, which the pages do not bundle: they serve template-xlsx.ts, generated from it).
 *
 * Both carry one example row, clearly marked. Its NIK starts with 9999, which is no
 * district's code, so an example left in by mistake is always rejected and never
 * becomes a family.
 */
import type { Bilingual } from '#domain/errors';
import { PROPOSAL_COLUMNS, type ProposalColumn } from './proposal.ts';

export type TemplateFormat = 'xlsx' | 'csv';

export const TEMPLATE_SHEET = 'usulan';
export const GUIDE_SHEET = 'petunjuk';
/** Rows the L/P list and formats reach: a national upload file has at most 100,000 families. */
export const FORMATTED_ROWS = 100_001;

/** The columns, in template order: one source, functions/intake/proposal-template.ts. */
export const TEMPLATE_COLUMNS: readonly ProposalColumn[] = PROPOSAL_COLUMNS.map((c) => c.name);

/** Columns Excel must never read as numbers. */
export const TEXT_COLUMNS: readonly ProposalColumn[] = ['nik', 'no_kk', 'no_hp'];

interface ColumnGuide {
  content: Bilingual;
  example: string;
  width: number;
}

/** What each column holds and how to write it; the `petunjuk` sheet and the README say the same. */
export const COLUMN_GUIDE: Record<ProposalColumn, ColumnGuide> = {
  nik: {
    content: {
      id: 'NIK 16 digit. Empat digit pertama = kode kabupaten/kota pengusul. Kolom berformat Teks; jangan diubah ke Angka.',
      en: '16-digit NIK. The first four digits = the proposing district code. The column is Text; do not change it to Number.',
    },
    example: '9999014509850001',
    width: 20,
  },
  no_kk: {
    content: { id: 'Nomor Kartu Keluarga 16 digit (Teks).', en: '16-digit family card number (Text).' },
    example: '9999010101200001',
    width: 20,
  },
  nama: {
    content: { id: 'Nama lengkap sesuai KTP.', en: 'Full name as on the identity card.' },
    example: 'CONTOH Siti Aminah (hapus baris ini / delete this row)',
    width: 32,
  },
  tanggal_lahir: {
    content: {
      id: 'Tanggal lahir: sel tanggal, atau ketik DD/MM/YYYY, DD-MM-YYYY atau YYYY-MM-DD.',
      en: 'Birth date: a date cell, or typed as DD/MM/YYYY, DD-MM-YYYY or YYYY-MM-DD.',
    },
    example: '05/09/1985',
    width: 14,
  },
  jenis_kelamin: {
    content: { id: 'L (laki-laki) atau P (perempuan).', en: 'L (male) or P (female).' },
    example: 'P',
    width: 8,
  },
  alamat: {
    content: { id: 'Alamat (jalan, nomor, RT/RW).', en: 'Address (street, number, RT/RW).' },
    example: 'Jl. Cicurug No. 12 RT 01/RW 03',
    width: 30,
  },
  kecamatan: { content: { id: 'Kecamatan.', en: 'Sub-district.' }, example: 'Majalengka', width: 16 },
  desa: { content: { id: 'Desa/kelurahan.', en: 'Village.' }, example: 'Cicurug', width: 16 },
  no_hp: {
    content: {
      id: 'Nomor HP: 08…, 62… atau +62…; spasi dan tanda hubung boleh (Teks).',
      en: 'Mobile number: 08…, 62… or +62…; spaces and dashes allowed (Text).',
    },
    example: '0812-3456-7890',
    width: 16,
  },
  jenis_usaha: {
    content: {
      id: 'Bidang usaha: kuliner, jasa, kerajinan, perdagangan, pertanian, …',
      en: 'Business sector: kuliner, jasa, kerajinan, perdagangan, pertanian, …',
    },
    example: 'kuliner',
    width: 16,
  },
  deskripsi_usaha: {
    content: { id: 'Apa yang dikerjakan usaha ini.', en: 'What the business does.' },
    example: 'Keripik singkong dan rengginang',
    width: 32,
  },
  lama_usaha_bulan: {
    content: {
      id: 'Sudah berapa bulan usaha berjalan (bilangan bulat, 0 atau lebih).',
      en: 'Months the business has been running (whole number, 0 or more).',
    },
    example: '18',
    width: 10,
  },
  omzet_bulanan: {
    content: {
      id: 'Omzet per bulan dalam rupiah: 1500000, 1.500.000 atau Rp 1.500.000.',
      en: 'Monthly revenue in rupiah: 1500000, 1.500.000 or Rp 1.500.000.',
    },
    example: '1500000',
    width: 14,
  },
  pendamping: {
    content: {
      id: 'Tidak wajib: TKSK / pendamping yang mendampingi keluarga.',
      en: 'Optional: the TKSK / facilitator accompanying the family.',
    },
    example: 'Ujang (TKSK Kec. Majalengka)',
    width: 26,
  },
};

/** The mistakes intake sees most, and how to avoid them. */
export const COMMON_MISTAKES: readonly Bilingual[] = [
  {
    id: "NIK atau No. KK tampil sebagai 3,21E+15 atau berakhir 0: Excel menyimpannya sebagai angka dan membuang digit. Format kolom sebagai Teks (atau awali dengan tanda petik ') lalu ketik ulang nomornya.",
    en: "NIK or KK shows as 3.21E+15 or ends in 0: Excel stored it as a number and dropped digits. Format the column as Text (or start with an apostrophe ') and type the number again.",
  },
  {
    id: 'Empat digit pertama NIK bukan kode kabupaten/kota pengusul: keluarga dari kabupaten/kota lain diusulkan oleh kabupaten/kota itu sendiri.',
    en: "The NIK's first four digits are not the proposing district's code: families of another district are proposed by that district.",
  },
  {
    id: 'NIK atau No. KK yang sama dua kali dalam satu berkas: baris kedua ditolak. Satu keluarga hanya diusulkan sekali.',
    en: 'The same NIK or KK twice in one file: the later row is rejected. A family is proposed only once.',
  },
  {
    id: 'Tanggal lahir atau jenis kelamin berbeda dengan NIK (tanggal lahir perempuan di NIK ditambah 40): baris diterima dengan catatan dan verifikasi memeriksanya.',
    en: 'Birth date or sex differs from the NIK (women have 40 added to the day in the NIK): the row is accepted with a note and verification checks it.',
  },
  {
    id: 'Baris contoh (baris 2, NIK 9999…) selalu ditolak: hapus sebelum mengunggah.',
    en: 'The example row (row 2, NIK 9999…) is always rejected: delete it before uploading.',
  },
  {
    id: 'Periksa berkas sebelum mengunggah: npx prokus validate usulan.xlsx --district <kode>.',
    en: 'Check the file before uploading: npx prokus validate usulan.xlsx --district <code>.',
  },
];

export const defaultTemplateFile = (format: TemplateFormat) => `templat-usulan-prokus.${format}`;

function csvCell(value: string): string {
  return /[";\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** Header and the example row; NIK and KK keep a leading apostrophe so Excel opens them as text. */
export function templateCsv(): string {
  const example = TEMPLATE_COLUMNS.map((c) => {
    const value = COLUMN_GUIDE[c].example;
    return c === 'nik' || c === 'no_kk' ? `'${value}` : value;
  });
  return `\uFEFF${[TEMPLATE_COLUMNS.join(';'), example.map(csvCell).join(';')].join('\r\n')}\r\n`;
}
