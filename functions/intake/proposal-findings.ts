/**
 * What the row checks can find, in the officer's words (Indonesian and English), each
 * under a stable code. Findings whose words never change are built once and shared by
 * every row that has them: a 100,000-row file of the same mistake holds one message,
 * not 100,000.
 */
import type { Bilingual } from '#domain/errors';
import type { NikProblem } from '#domain/nik';
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

export const error = (code: string, field: string, id: string, en: string): Finding =>
  Object.freeze({ code, field, severity: 'error', message: Object.freeze({ id, en }) });
export const warning = (code: string, field: string, id: string, en: string): Finding =>
  Object.freeze({ code, field, severity: 'warning', message: Object.freeze({ id, en }) });

const TEXT_HINT = {
  id: "Format kolom sebagai Teks di Excel (atau awali dengan tanda petik '), ketik ulang nomornya, lalu simpan lagi.",
  en: "Format the column as Text in Excel (or start the number with an apostrophe '), type the number again and save.",
};

export const found = {
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

export const requiredFinding = Object.fromEntries(
  PROPOSAL_COLUMNS.map((c) => [
    c.name,
    error('FIELD_REQUIRED', c.name, `Kolom ${c.name} wajib diisi.`, `Column ${c.name} must be filled in.`),
  ]),
) as Record<ProposalColumn, Finding>;

/**
 * The longest text each free-text column may hold, in characters. A case is one
 * DynamoDB item (400 KB at most) and a page shows these fields whole: the limits keep
 * a family's case far below the item limit whatever the file holds, and are generous
 * for what officers really write. `prokus validate` and the intake share them
 * (checkRow), so a file that passes the dry run never fails on an item's size.
 */
export const TEXT_LIMITS = {
  nama: 100,
  alamat: 300,
  kecamatan: 100,
  desa: 100,
  jenis_usaha: 100,
  deskripsi_usaha: 1000,
  pendamping: 100,
} as const satisfies Partial<Record<ProposalColumn, number>>;
export type LimitedColumn = keyof typeof TEXT_LIMITS;

const idNumberFormat = new Intl.NumberFormat('id-ID');
const enNumberFormat = new Intl.NumberFormat('en-US');

export function tooLong(field: LimitedColumn, length: number): Finding {
  const limit = TEXT_LIMITS[field];
  return error(
    'FIELD_TOO_LONG',
    field,
    `Kolom ${field} paling banyak ${idNumberFormat.format(limit)} karakter; sel ini berisi ${idNumberFormat.format(length)}. Persingkat isinya.`,
    `Column ${field} can hold at most ${enNumberFormat.format(limit)} characters; this cell has ${enNumberFormat.format(length)}. Shorten it.`,
  );
}

export function cellError(field: ProposalColumn, shown: string): Finding {
  return error(
    'CELL_ERROR_VALUE',
    field,
    `Sel kolom ${field} berisi galat Excel (${shown}), bukan nilai. Perbaiki rumusnya atau ketik nilainya.`,
    `The ${field} cell shows an Excel error (${shown}), not a value. Fix the formula or type the value.`,
  );
}

export function nikFinding(problem: NikProblem, nik: string, district: string): Finding {
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
