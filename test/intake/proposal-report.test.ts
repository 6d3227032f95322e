import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import type { Finding } from '#intake/proposal';
import { neutralizeCell, type ProposalReport, reportCsv, reportJson, summarize, summaryMail } from '#intake/proposal-report';

const nikError: Finding = {
  code: 'NIK_NOT_16_DIGITS',
  field: 'nik',
  severity: 'error',
  message: { id: 'NIK harus terdiri dari 16 digit angka.', en: 'The NIK must be 16 digits.' },
};
const sexWarning: Finding = {
  code: 'SEX_DIFFERS_FROM_NIK',
  field: 'jenis_kelamin',
  severity: 'warning',
  message: { id: 'Jenis kelamin berbeda; baris diterima.', en: 'Sex differs; the row is accepted.' },
};

const rows: ProposalReport['rows'] = [
  { row: 2, status: 'accepted', errors: [] },
  { row: 3, status: 'warning', errors: [sexWarning] },
  { row: 5, status: 'rejected', errors: [nikError, { ...nikError, code: 'DUPLICATE_IN_FILE' }] },
];

const report: ProposalReport = {
  file: 'proposals/3210/usulan-maret.csv',
  district: '3210',
  programYear: 2020,
  uploadId: 'u-123',
  rows,
  summary: summarize(rows),
  fileWarnings: [
    {
      code: 'HEADER_UNKNOWN_COLUMN',
      field: '=HYPERLINK("http://evil.example","klik")',
      message: { id: 'Kolom tidak dikenal dan diabaikan.', en: 'Unknown column, ignored.' },
    },
  ],
};

describe('what was read', () => {
  const workbook: ProposalReport = {
    ...report,
    file: 'proposals/3210/usulan.xlsx',
    source: { format: 'xlsx', sheetName: 'Usulan April' },
  };

  it('names the worksheet read from a workbook in the JSON report and the email', () => {
    expect(JSON.parse(reportJson(workbook))).toMatchObject({ format: 'xlsx', sheet: 'Usulan April' });
    const mail = summaryMail(workbook, 'Kab. Majalengka', 'usulan.xlsx');
    expect(mail.text).toContain('lembar kerja "Usulan April"');
    expect(mail.text).toContain('worksheet "Usulan April"');
  });

  it('says nothing of worksheets for a CSV file', () => {
    const csv: ProposalReport = { ...report, source: { format: 'csv' } };
    expect(JSON.parse(reportJson(csv))).toMatchObject({ format: 'csv' });
    expect(JSON.parse(reportJson(csv)).sheet).toBeUndefined();
    expect(summaryMail(csv, undefined, 'usulan.csv').text).not.toContain('worksheet');
  });
});

describe('report CSV', () => {
  it('has one line per finding with row, status, field, code and both messages', () => {
    const table = parse(reportCsv(report), { bom: true }) as string[][];
    expect(table[0]).toEqual(['row', 'status', 'field', 'code', 'pesan', 'message']);
    expect(table.slice(2)).toEqual([
      ['3', 'warning', 'jenis_kelamin', 'SEX_DIFFERS_FROM_NIK', sexWarning.message.id, sexWarning.message.en],
      ['5', 'rejected', 'nik', 'NIK_NOT_16_DIGITS', nikError.message.id, nikError.message.en],
      ['5', 'rejected', 'nik', 'DUPLICATE_IN_FILE', nikError.message.id, nikError.message.en],
    ]);
  });

  it('never lets a cell start with a formula character when opened in Excel', () => {
    const hostile: ProposalReport = {
      ...report,
      fileWarnings: ['=1+1', '+62', '-2', '@SUM(A1)', '\tx', '\rx'].map((field) => ({
        code: 'HEADER_UNKNOWN_COLUMN',
        field,
        message: { id: field, en: field },
      })),
    };
    for (const separator of [',', ';'] as const) {
      const table = parse(reportCsv(hostile, separator), {
        bom: true,
        delimiter: separator,
        relax_column_count: true,
      }) as string[][];
      const cells = table.flat();
      expect(cells.length).toBeGreaterThan(6 * 3);
      for (const cell of cells) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
    }
  });

  it('starts no formula when a report written with one separator is opened with the other', () => {
    const hostile: ProposalReport = {
      ...report,
      fileWarnings: ["x;=cmd|' /C calc'!A0;y", "x,=cmd|' /C calc'!A0,y", 'a\t@SUM(1)'].map((field) => ({
        code: 'HEADER_UNKNOWN_COLUMN',
        field,
        message: { id: field, en: field },
      })),
    };
    for (const written of [',', ';'] as const) {
      for (const opened of [',', ';', '\t']) {
        const table = parse(reportCsv(hostile, written), {
          bom: true,
          delimiter: opened,
          relax_column_count: true,
          relax_quotes: true,
        }) as string[][];
        for (const cell of table.flat())
          expect(cell, `written with ${written}, opened with ${opened}`).not.toMatch(/^[=+\-@\t\r]/);
      }
    }
  });

  it('keeps the neutralised text readable: only an apostrophe is added', () => {
    expect(neutralizeCell('=HYPERLINK("x")')).toBe('\'=HYPERLINK("x")');
    expect(neutralizeCell('NIK_NOT_16_DIGITS')).toBe('NIK_NOT_16_DIGITS');
  });

  it('uses the separator of the upload and a BOM, so Excel opens it like the officer’s own file', () => {
    const csv = reportCsv(report, ';');
    expect(csv.startsWith('\uFEFFrow;status;field;code;pesan;message\r\n')).toBe(true);
  });

  it('puts a file-level error first, on the header row', () => {
    const failed: ProposalReport = {
      ...report,
      rows: [],
      summary: { accepted: 0, warning: 0, rejected: 0 },
      fileWarnings: [],
      error: { code: 'HEADER_MISSING_COLUMN', field: 'no_kk', message: { id: 'Kolom wajib: no_kk', en: 'Missing: no_kk' } },
    };
    const table = parse(reportCsv(failed), { bom: true }) as string[][];
    expect(table[1]).toEqual(['1', 'rejected', 'no_kk', 'HEADER_MISSING_COLUMN', 'Kolom wajib: no_kk', 'Missing: no_kk']);
  });
});

describe('report JSON', () => {
  it('lists every row with its status and findings, the summary and the file warnings', () => {
    const json = JSON.parse(reportJson(report));
    expect(json).toEqual({
      file: 'proposals/3210/usulan-maret.csv',
      district: '3210',
      programYear: 2020,
      uploadId: 'u-123',
      rows: [
        { row: 2, status: 'accepted', errors: [] },
        { row: 3, status: 'warning', errors: [sexWarning] },
        { row: 5, status: 'rejected', errors: [nikError, { ...nikError, code: 'DUPLICATE_IN_FILE' }] },
      ],
      summary: { accepted: 1, warning: 1, rejected: 1 },
      fileWarnings: [{ code: 'HEADER_UNKNOWN_COLUMN', field: report.fileWarnings[0]?.field, message: expect.any(Object) }],
    });
  });

  it('carries the file-level error with its code and both messages', () => {
    const json = JSON.parse(
      reportJson({ ...report, error: { code: 'FILE_EMPTY', message: { id: 'Berkas kosong.', en: 'Empty.' } } }),
    );
    expect(json.error).toEqual({ code: 'FILE_EMPTY', field: '', message: { id: 'Berkas kosong.', en: 'Empty.' } });
  });
});

describe('summary email', () => {
  it('gives the counts in both languages and the most frequent findings', () => {
    const mail = summaryMail(report, 'Kab. Majalengka', 'usulan-maret.csv');
    expect(mail.subject).toBe(
      '[Prokus] Hasil usulan / Proposal result usulan-maret.csv: 2 diterima/accepted, 1 ditolak/rejected',
    );
    expect(mail.text).toContain('Kab. Majalengka (3210)');
    expect(mail.text).toContain('Diterima: 2 keluarga (1 di antaranya dengan catatan). Ditolak: 1 baris.');
    expect(mail.text).toContain('Accepted: 2 families (1 of them with a note). Rejected: 1 rows.');
    expect(mail.text).toContain('DUPLICATE_IN_FILE: 1');
  });

  it('says plainly when the whole file was rejected and why', () => {
    const mail = summaryMail(
      { ...report, error: { code: 'FILE_NOT_CSV', message: { id: 'Bukan CSV.', en: 'Not CSV.' } } },
      'Kab. Majalengka',
      'usulan.xlsx',
    );
    expect(mail.subject).toContain('ditolak / Proposal file rejected');
    expect(mail.text).toContain('Reason (FILE_NOT_CSV): Not CSV.');
    expect(mail.text).toContain('No family was processed.');
  });
});
