/**
 * What can be wrong with a file as a whole, in the officer's words (Indonesian and
 * English), each under a stable code that tools and the report use. Row-level findings
 * live with the checks that make them (intake/proposal-row.ts, intake/registry-import.ts).
 */
import type { Bilingual } from '#domain/errors';

export interface FileProblem {
  code: string;
  /** The column concerned, when there is one. */
  field?: string;
  message: Bilingual;
}

/** A file (or a row of it) that cannot be read; the caller turns it into its own named error. */
export class SheetError extends Error {
  override readonly name = 'SheetError';
  constructor(
    readonly problem: FileProblem,
    options?: { cause?: unknown },
  ) {
    super(`${problem.code}: ${problem.message.en}`, options);
  }
}

const SAVE_AS = {
  id: 'Buka berkas di Excel, pilih Simpan Sebagai "Buku Kerja Excel (.xlsx)" atau "CSV UTF-8", lalu unggah lagi.',
  en: 'Open the file in Excel, Save As "Excel Workbook (.xlsx)" or "CSV UTF-8", and upload it again.',
};

const mib = (bytes: number) => `${Math.round(bytes / (1024 * 1024))} MiB`;
const count = (n: number) => n.toLocaleString('id-ID');
const countEn = (n: number) => n.toLocaleString('en-US');

export const sheetProblems = {
  empty: {
    code: 'FILE_EMPTY',
    message: { id: 'Berkas kosong.', en: 'The file is empty.' },
  },
  oldExcel: {
    code: 'FILE_XLS_NOT_SUPPORTED',
    message: {
      id: `Berkas ini buku kerja Excel lama (.xls, Excel 97-2003) atau buku kerja yang dilindungi kata sandi; keduanya tidak dapat dibaca. ${SAVE_AS.id} Jangan pasang kata sandi.`,
      en: `This file is an old Excel workbook (.xls, Excel 97-2003) or a password-protected workbook; neither can be read. ${SAVE_AS.en} Do not set a password.`,
    },
  },
  pdf: {
    code: 'FILE_NOT_SPREADSHEET',
    message: {
      id: 'Berkas ini PDF, bukan lembar kerja. Unggah berkas usulan dalam format Excel (.xlsx) atau CSV sesuai templat.',
      en: 'This file is a PDF, not a spreadsheet. Upload the proposal as Excel (.xlsx) or CSV, following the template.',
    },
  },
  image: {
    code: 'FILE_NOT_SPREADSHEET',
    message: {
      id: 'Berkas ini gambar (foto atau pindaian), bukan lembar kerja. Unggah berkas usulan dalam format Excel (.xlsx) atau CSV sesuai templat.',
      en: 'This file is an image (a photo or a scan), not a spreadsheet. Upload the proposal as Excel (.xlsx) or CSV, following the template.',
    },
  },
  /** Exports from other systems are often web pages or XML named `.xls`: say so when the name does. */
  markup: (fileName?: string): FileProblem => {
    const excelName = fileName !== undefined && /\.xlsx?$/i.test(fileName.trim());
    return {
      code: 'FILE_NOT_SPREADSHEET',
      message: {
        id: `Berkas ini halaman web (HTML) atau XML${excelName ? ', meskipun namanya berakhiran Excel' : ''}. ${SAVE_AS.id}`,
        en: `This file is a web page (HTML) or XML${excelName ? ', although its name says Excel' : ''}. ${SAVE_AS.en}`,
      },
    };
  },
  openDocument: {
    code: 'FILE_NOT_SPREADSHEET',
    message: {
      id: `Berkas ini lembar kerja OpenDocument (.ods). ${SAVE_AS.id}`,
      en: `This file is an OpenDocument spreadsheet (.ods). ${SAVE_AS.en}`,
    },
  },
  notWorkbook: {
    code: 'FILE_NOT_SPREADSHEET',
    message: {
      id: `Berkas ini arsip ZIP atau dokumen Office yang bukan buku kerja Excel. ${SAVE_AS.id}`,
      en: `This file is a ZIP archive or an Office document that is not an Excel workbook. ${SAVE_AS.en}`,
    },
  },
  binary: {
    code: 'FILE_NOT_SPREADSHEET',
    message: {
      id: `Berkas ini bukan lembar kerja (bukan Excel .xlsx dan bukan teks CSV). ${SAVE_AS.id}`,
      en: `This file is not a spreadsheet (neither Excel .xlsx nor CSV text). ${SAVE_AS.en}`,
    },
  },
  noSeparator: {
    code: 'FILE_NOT_SPREADSHEET',
    message: {
      id: 'Baris pertama berkas teks ini tidak memuat pemisah kolom (koma, titik koma atau tab). Simpan usulan sebagai CSV dengan baris judul kolom, atau sebagai Excel (.xlsx).',
      en: 'The first rows of this text file have no column separator (comma, semicolon or tab). Save the proposal as CSV with a header row, or as Excel (.xlsx).',
    },
  },
  noSheet: {
    code: 'FILE_NOT_SPREADSHEET',
    message: {
      id: `Buku kerja ini tidak memuat lembar kerja yang dapat dibaca. ${SAVE_AS.id}`,
      en: `This workbook holds no worksheet that can be read. ${SAVE_AS.en}`,
    },
  },
  xlsxDamaged: {
    code: 'FILE_MALFORMED',
    message: {
      id: `Buku kerja Excel ini rusak atau terpotong (mungkin unggahan tidak selesai). ${SAVE_AS.id}`,
      en: `This Excel workbook is damaged or cut short (perhaps the upload did not finish). ${SAVE_AS.en}`,
    },
  },
  tooLarge: (maxBytes: number): FileProblem => ({
    code: 'FILE_TOO_LARGE',
    message: {
      id: `Berkas lebih besar dari batas ${mib(maxBytes)}. Bagi usulan menjadi beberapa berkas lalu unggah satu per satu.`,
      en: `The file is larger than the ${mib(maxBytes)} limit. Split the proposal into several files and upload them one by one.`,
    },
  }),
  tooManyRows: (maxRows: number): FileProblem => ({
    code: 'FILE_TOO_MANY_ROWS',
    message: {
      id: `Berkas memuat lebih dari ${count(maxRows)} baris usulan. Bagi usulan menjadi beberapa berkas berisi paling banyak ${count(maxRows)} baris lalu unggah satu per satu.`,
      en: `The file has more than ${countEn(maxRows)} proposal rows. Split it into files of at most ${countEn(maxRows)} rows and upload them one by one.`,
    },
  }),
  tooManyBlankRows: (max: number): FileProblem => ({
    code: 'FILE_TOO_MANY_BLANK_ROWS',
    message: {
      id: `Berkas memuat lebih dari ${count(max)} baris kosong (misalnya format yang diterapkan sampai baris terakhir lembar kerja). Hapus baris kosong di bawah data, simpan, lalu unggah lagi.`,
      en: `The file has more than ${countEn(max)} empty rows (for example formatting applied down to the last row of the sheet). Delete the empty rows below the data, save and upload it again.`,
    },
  }),
  tooManyColumns: (max: number, row: number): FileProblem => ({
    code: 'FILE_TOO_MANY_COLUMNS',
    message: {
      id: `Baris ${row} memuat lebih dari ${count(max)} kolom, batas Excel sendiri; berkas ini tidak disimpan oleh Excel atau rusak. ${SAVE_AS.id}`,
      en: `Row ${row} has more than ${countEn(max)} columns, Excel's own limit; this file was not saved by Excel, or is damaged. ${SAVE_AS.en}`,
    },
  }),
  cellTooLong: (max: number, row?: number): FileProblem => ({
    code: 'FILE_CELL_TOO_LONG',
    message: {
      id: `${row === undefined ? 'Berkas' : `Baris ${row}`} memuat sel dengan lebih dari ${count(max)} karakter, batas Excel sendiri; berkas ini tidak disimpan oleh Excel atau rusak. ${SAVE_AS.id}`,
      en: `${row === undefined ? 'The file' : `Row ${row}`} has a cell of more than ${countEn(max)} characters, Excel's own limit; this file was not saved by Excel, or is damaged. ${SAVE_AS.en}`,
    },
  }),
  /** XML text with no tag for longer than any cell can be: a damaged or hostile file. */
  xmlRunTooLong: (max: number): FileProblem => ({
    code: 'FILE_MALFORMED',
    message: {
      id: `Buku kerja Excel ini rusak: memuat lebih dari ${count(max)} karakter berturut-turut tanpa struktur lembar kerja. ${SAVE_AS.id}`,
      en: `This Excel workbook is damaged: it holds more than ${countEn(max)} characters in a row without any worksheet structure. ${SAVE_AS.en}`,
    },
  }),
  partTooLarge: (maxBytes: number): FileProblem => ({
    code: 'FILE_TOO_LARGE',
    message: {
      id: `Isi buku kerja Excel ini lebih besar dari batas ${mib(maxBytes)} setelah dibuka dari ZIP-nya (mungkin banyak baris atau spasi kosong). Hapus baris dan kolom kosong, atau bagi usulan menjadi beberapa berkas, lalu unggah lagi.`,
      en: `A part of this Excel workbook is larger than the ${mib(maxBytes)} limit once unzipped (perhaps many empty rows or spaces). Delete empty rows and columns, or split the proposal into several files, and upload it again.`,
    },
  }),
  tooManyStrings: (maxCount: number, maxBytes: number): FileProblem => ({
    code: 'FILE_TOO_LARGE',
    message: {
      id: `Buku kerja Excel ini memuat lebih dari ${count(maxCount)} teks berbeda atau lebih dari ${mib(maxBytes)} teks, lebih dari usulan mana pun. Bagi usulan menjadi beberapa berkas lalu unggah satu per satu.`,
      en: `This Excel workbook holds more than ${countEn(maxCount)} distinct texts or more than ${mib(maxBytes)} of text, more than any proposal. Split the proposal into several files and upload them one by one.`,
    },
  }),
  tooManyParts: (max: number): FileProblem => ({
    code: 'FILE_MALFORMED',
    message: {
      id: `Berkas ZIP ini memuat lebih dari ${count(max)} bagian; buku kerja Excel hanya memuat beberapa puluh. ${SAVE_AS.id}`,
      en: `This ZIP file holds more than ${countEn(max)} parts; an Excel workbook holds a few dozen. ${SAVE_AS.en}`,
    },
  }),
  malformed: (row: number): FileProblem => ({
    code: 'FILE_MALFORMED',
    message: {
      id: `Berkas CSV rusak di sekitar baris ${row} (misalnya tanda kutip yang tidak ditutup, atau satu sel yang sangat panjang). Buka di Excel, simpan ulang sebagai CSV, lalu unggah lagi.`,
      en: `The CSV file is damaged around row ${row} (for example an unclosed quote, or one enormous cell). Open it in Excel, save it again as CSV and upload it again.`,
    },
  }),
} satisfies Record<string, FileProblem | ((...args: never[]) => FileProblem)>;
