/**
 * Whole proposal files as district offices produce them, through checkProposal (the dry
 * run `prokus validate` and the upload share): XLSX with typed cells, headers in the
 * office's own words, title rows, and the CSV variants Excel writes.
 */
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { type CheckContext, checkProposal, PROPOSAL_COLUMNS, type ProposalCheck, type ProposalColumn } from '#intake/proposal';
import { proposalRow } from '../helpers/fixtures.ts';

const ctx: CheckContext = { district: '3210', today: new Date('2026-06-15T08:00:00Z') };

/** The template's example family, with plain digits and an accented name (encodings must keep it). */
const good: Record<ProposalColumn, string> = {
  ...proposalRow,
  nik: '3210014508950012',
  no_kk: '3210010101090001',
  nama: 'Sutéjo Nurâini',
};
const TEMPLATE = PROPOSAL_COLUMNS.map((c) => c.name);

/** The same family with its own NIK and KK (serial `n`). */
const family = (n: number, over: Partial<Record<ProposalColumn, unknown>> = {}) => ({
  ...good,
  nik: `32100145089500${String(n).padStart(2, '0')}`,
  no_kk: `32100101010900${String(n).padStart(2, '0')}`,
  ...over,
});

type Cell = ExcelJS.CellValue;

async function workbook(sheets: { name: string; rows: Cell[][]; formats?: Record<number, string> }[]): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  for (const s of sheets) {
    const ws = wb.addWorksheet(s.name);
    for (const r of s.rows) {
      const row = ws.addRow(r);
      for (const [col, fmt] of Object.entries(s.formats ?? {})) row.getCell(Number(col)).numFmt = fmt;
    }
  }
  return Buffer.from(await wb.xlsx.writeBuffer());
}

const rowOf = (header: readonly string[], values: Record<string, unknown>) => header.map((h) => values[h] ?? '') as Cell[];

function outcome(r: ProposalCheck) {
  if (!r.ok) throw new Error(`file refused: ${r.problem.code}`);
  return r.rows.map((x) => [x.row, x.status, ...x.errors.map((e) => e.code)]);
}

describe('checkProposal: XLSX', () => {
  it('accepts the template filled in Excel: text NIK and KK, a date cell, number cells for months and amount', async () => {
    const bytes = await workbook([
      {
        name: 'usulan',
        rows: [
          TEMPLATE,
          rowOf(TEMPLATE, { ...good, tanggal_lahir: 34_916, lama_usaha_bulan: 8, omzet_bulanan: 1_500_000 }),
          rowOf(TEMPLATE, family(13, { tanggal_lahir: 34_916, no_hp: 81_234_567_891, omzet_bulanan: 2_250_000.5 })),
        ],
        formats: { 4: 'dd/mm/yyyy' },
      },
    ]);
    const r = await checkProposal(bytes, ctx);
    expect(r.ok && r.format).toBe('xlsx');
    expect(outcome(r)).toEqual([
      [2, 'accepted'],
      [3, 'accepted'],
    ]);
  });

  it('refuses a NIK or KK from a number cell with the advice to format the column as Text, even when the digits look right', async () => {
    const bytes = await workbook([
      {
        name: 'usulan',
        rows: [
          TEMPLATE,
          rowOf(TEMPLATE, { ...good, nik: Number(good.nik) }),
          rowOf(TEMPLATE, family(13, { no_kk: Number(family(13).no_kk) })),
          rowOf(TEMPLATE, family(14, { nik: 3.21001450895001e15 })),
        ],
      },
    ]);
    const r = await checkProposal(bytes, ctx);
    expect(outcome(r)).toEqual([
      [2, 'rejected', 'NIK_NUMERIC_CELL'],
      [3, 'rejected', 'KK_NUMERIC_CELL'],
      [4, 'rejected', 'NIK_NUMERIC_CELL'],
    ]);
    const message = r.ok ? r.rows[0]?.errors[0]?.message : undefined;
    expect(message?.en).toMatch(/15 digits.*Format the column as Text/);
    expect(message?.id).toMatch(/15 digit.*Format kolom sebagai Teks/);
  });

  it('reports a cell showing an Excel error as that, not as a wrong value', async () => {
    const bytes = await workbook([{ name: 'usulan', rows: [TEMPLATE, rowOf(TEMPLATE, { ...good, nama: { error: '#N/A' } })] }]);
    const r = await checkProposal(bytes, ctx);
    expect(outcome(r)).toEqual([[2, 'rejected', 'CELL_ERROR_VALUE']]);
    expect(r.ok && r.rows[0]?.errors[0]).toMatchObject({ field: 'nama', message: { en: expect.stringContaining('#N/A') } });
  });

  it('finds the usulan sheet behind an instructions sheet, and the header below a title', async () => {
    const bytes = await workbook([
      { name: 'Petunjuk', rows: [['Isi data pada lembar usulan'], ['Kolom NIK harus berformat Teks']] },
      {
        name: 'Usulan',
        rows: [['DAFTAR USULAN CALON PENERIMA PROKUS'], ['Kabupaten Majalengka, 2020'], [], TEMPLATE, rowOf(TEMPLATE, good)],
      },
    ]);
    const r = await checkProposal(bytes, ctx);
    expect(r.ok && r.sheetName).toBe('Usulan');
    expect(outcome(r)).toEqual([[5, 'accepted']]);
  });

  it("reads the office's own column names, and lists the columns it ignores", async () => {
    const header = [
      'No',
      'NIK KTP',
      'No. KK',
      'Nama Lengkap',
      'Tgl Lahir',
      'L/P',
      'Alamat Lengkap',
      'Kec.',
      'Desa/Kelurahan',
      'No HP/WA',
      'Bidang Usaha',
      'Keterangan Usaha',
      'Lama Usaha (bulan)',
      'Omzet per Bulan (Rp)',
      'TKSK',
      'Keterangan',
    ];
    const bytes = await workbook([
      {
        name: 'Sheet1',
        rows: [
          header,
          [
            1,
            good.nik,
            good.no_kk,
            good.nama,
            good.tanggal_lahir,
            'P',
            good.alamat,
            'Majalengka',
            'Cicurug',
            good.no_hp,
            'kuliner',
            'Keripik',
            8,
            1_500_000,
            'Ujang',
            'baru',
          ],
        ],
      },
    ]);
    const r = await checkProposal(bytes, ctx);
    expect(outcome(r)).toEqual([[2, 'accepted']]);
    expect(r.ok && r.fileWarnings.map((w) => [w.code, w.field, w.message.en])).toEqual([
      ['HEADER_UNKNOWN_COLUMN', 'No', 'Column A ("No") is not part of the template and was ignored.'],
      ['HEADER_UNKNOWN_COLUMN', 'Keterangan', 'Column P ("Keterangan") is not part of the template and was ignored.'],
    ]);
  });

  it('skips a row that only numbers the columns under the header, as printed forms have', async () => {
    const bytes = await workbook([
      { name: 'usulan', rows: [TEMPLATE, TEMPLATE.map((_, i) => `(${i + 1})`), rowOf(TEMPLATE, good)] },
    ]);
    expect(outcome(await checkProposal(bytes, ctx))).toEqual([[3, 'accepted']]);
  });

  it('rejects the later of two rows with the same NIK, naming the earlier row', async () => {
    const bytes = await workbook([
      { name: 'usulan', rows: [TEMPLATE, rowOf(TEMPLATE, good), [], rowOf(TEMPLATE, { ...good, no_kk: family(2).no_kk })] },
    ]);
    const r = await checkProposal(bytes, ctx);
    expect(outcome(r)).toEqual([
      [2, 'accepted'],
      [4, 'rejected', 'DUPLICATE_IN_FILE'],
    ]);
    expect(r.ok && r.rows[1]?.errors[0]?.message.en).toContain('row 2');
  });
});

describe('checkProposal: headers', () => {
  const csv = (header: string[], rows: Record<string, string>[] = [good]) =>
    [header.join(';'), ...rows.map((r) => header.map((h) => r[h] ?? '').join(';'))].join('\r\n');

  it('refuses two columns that mean the same field, naming both', async () => {
    const header = [...TEMPLATE, 'NIK KTP'];
    const r = await checkProposal(csv(header), ctx);
    expect(r.ok ? undefined : r.problem).toMatchObject({ code: 'HEADER_DUPLICATE_COLUMN', field: 'nik' });
    expect(r.ok ? '' : r.problem.message.en).toBe(
      'Column A ("nik") and column O ("NIK KTP") both mean "nik". Remove or rename one of them.',
    );
  });

  it('names a missing column with what it holds, in both languages', async () => {
    const r = await checkProposal(csv(TEMPLATE.filter((c) => c !== 'no_kk')), ctx);
    expect(r.ok ? undefined : r.problem.code).toBe('HEADER_MISSING_COLUMN');
    expect(r.ok ? '' : r.problem.message.en).toContain('no_kk (family card number)');
    expect(r.ok ? '' : r.problem.message.id).toContain('no_kk (nomor KK)');
  });

  it('takes a TTL column as the birth date when it holds dates', async () => {
    const header = TEMPLATE.map((c) => (c === 'tanggal_lahir' ? 'TTL' : c));
    const rows = [{ ...good, TTL: '05-08-1995' }];
    expect(outcome(await checkProposal(csv(header, rows), ctx))).toEqual([[2, 'accepted']]);
  });

  it('refuses a TTL column that holds place and date together, saying how to fix it', async () => {
    const header = TEMPLATE.map((c) => (c === 'tanggal_lahir' ? 'TTL' : c));
    const rows = [{ ...good, TTL: 'Majalengka, 05-08-1995' }];
    const r = await checkProposal(csv(header, rows), ctx);
    expect(r.ok ? undefined : r.problem.code).toBe('HEADER_MISSING_COLUMN');
    expect(r.ok ? '' : r.problem.message.en).toContain('The TTL column holds the place and the date of birth together');
  });
});

describe('checkProposal: CSV as Excel saves it', () => {
  const lines = (sep: string) => [TEMPLATE.join(sep), TEMPLATE.map((c) => good[c]).join(sep)];

  it.each([
    ['UTF-16 "Unicode text"', iconv.encode(`${lines('\t').join('\r\n')}\r\n`, 'utf16le', { addBOM: true })],
    ['Windows-1252 with ;', iconv.encode(`${lines(';').join('\r\n')}\r\n;;;\r\n\r\n`, 'win1252')],
    ['UTF-8 with BOM and ,', Buffer.from(`\ufeff${lines(',').join('\n')}\n`)],
  ])('accepts the template saved as %s, the name intact', async (_what, bytes) => {
    const r = await checkProposal(bytes, ctx);
    expect(outcome(r)).toEqual([[2, 'accepted']]);
  });
});
