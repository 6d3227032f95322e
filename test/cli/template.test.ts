/**
 * The proposal template an officer downloads: what Excel will do with it, and that the
 * intake reads it back without a file-level error.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkProposal, PROPOSAL_COLUMNS } from '#intake/proposal';
import { templateCsv, templateFormat, writeTemplate } from '../../cli/template.ts';

const columns = PROPOSAL_COLUMNS.map((c) => c.name);
const ctx = { district: '3210', today: new Date('2026-11-22T00:00:00Z') };

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prokus-template-test-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function workbook(path: string): Promise<ExcelJS.Workbook> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.readFile(path);
  return wb;
}

describe('prokus template (XLSX)', () => {
  it('has the sheet usulan with the template columns in order, a frozen header and an instructions sheet', async () => {
    const path = join(dir, 'templat.xlsx');
    await writeTemplate(path, 'xlsx');
    const wb = await workbook(path);
    expect(wb.worksheets.map((s) => s.name)).toEqual(['usulan', 'petunjuk']);
    const sheet = wb.getWorksheet('usulan') as ExcelJS.Worksheet;
    expect((sheet.getRow(1).values as unknown[]).slice(1)).toEqual(columns);
    expect(sheet.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });
    // The one example row says it is one.
    expect(String(sheet.getRow(2).getCell(3).value)).toMatch(/CONTOH.*hapus baris ini/);
    expect(sheet.rowCount).toBe(2);

    const guide = wb.getWorksheet('petunjuk') as ExcelJS.Worksheet;
    const text = guide.getSheetValues().flat().map(String).join('\n');
    for (const c of columns) expect(text).toContain(c);
    expect(text).toContain('Format the column as Text');
    expect(text).toContain('Format kolom sebagai Teks');
  });

  it('formats NIK, KK and phone as Text so Excel keeps every digit, and the birth date as a date', async () => {
    const path = join(dir, 'templat.xlsx');
    await writeTemplate(path, 'xlsx');
    const sheet = (await workbook(path)).getWorksheet('usulan') as ExcelJS.Worksheet;
    const col = (name: string) => sheet.getColumn(columns.indexOf(name as (typeof columns)[number]) + 1);
    expect(col('nik').numFmt).toBe('@');
    expect(col('no_kk').numFmt).toBe('@');
    expect(col('no_hp').numFmt).toBe('@');
    expect(col('tanggal_lahir').numFmt).toBe('dd/mm/yyyy');
    expect(sheet.getRow(2).getCell(1).value).toBe('9999014509850001');
    expect(sheet.getRow(2).getCell(4).value).toBeInstanceOf(Date);
  });

  it('offers L and P in jenis_kelamin', async () => {
    const path = join(dir, 'templat.xlsx');
    await writeTemplate(path, 'xlsx');
    const xml = (await workbook(path)).getWorksheet('usulan') as unknown as {
      dataValidations: { model: Record<string, { type: string; formulae: string[] } | undefined> };
    };
    expect(xml.dataValidations.model.E2).toMatchObject({ type: 'list', formulae: ['"L,P"'] });
  });

  it('reads back through the intake checks without a file-level error; its example row can never become a family', async () => {
    const path = join(dir, 'templat.xlsx');
    await writeTemplate(path, 'xlsx');
    const r = await checkProposal(await readFile(path), ctx, { fileName: 'templat.xlsx' });
    if (!r.ok) throw new Error(`file-level error ${r.problem.code}`);
    expect(r).toMatchObject({ format: 'xlsx', sheetName: 'usulan', fileWarnings: [] });
    // Only the district prefix 9999 stops the example: every other cell is read as the checks want it.
    expect(r.rows).toEqual([
      expect.objectContaining({
        row: 2,
        status: 'rejected',
        errors: [expect.objectContaining({ code: 'NIK_DISTRICT_MISMATCH' })],
      }),
    ]);
  });

  it('refuses to overwrite an existing file unless forced', async () => {
    const path = join(dir, 'usulan.xlsx');
    await writeFile(path, 'the officer’s filled-in proposal');
    await expect(writeTemplate(path, 'xlsx')).rejects.toMatchObject({ code: 'TEMPLATE_FILE_EXISTS' });
    expect(await readFile(path, 'utf8')).toBe('the officer’s filled-in proposal');
    await writeTemplate(path, 'xlsx', { force: true });
    expect((await workbook(path)).getWorksheet('usulan')).toBeDefined();
  });
});

describe('prokus template (CSV)', () => {
  it('is ;-separated UTF-8 with a BOM: the header in template order and one example row', async () => {
    const path = join(dir, 'templat.csv');
    await writeTemplate(path, 'csv');
    const bytes = await readFile(path);
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const lines = bytes.toString('utf8').slice(1).split('\r\n');
    expect(lines[0]).toBe(columns.join(';'));
    expect(lines[1]?.startsWith("'9999014509850001;'9999010101200001;CONTOH")).toBe(true);
    expect(lines.filter(Boolean)).toHaveLength(2);
  });

  it('reads back through the intake checks without a file-level error; its example row can never become a family', async () => {
    const r = await checkProposal(templateCsv(), ctx);
    if (!r.ok) throw new Error(`file-level error ${r.problem.code}`);
    expect(r.fileWarnings).toEqual([]);
    expect(r.rows).toHaveLength(1);
    expect(r.rows[0]).toMatchObject({ row: 2, status: 'rejected', errors: [{ code: 'NIK_DISTRICT_MISMATCH' }] });
    // The example's other values are what the checks accept: only its district prefix stops it.
    expect(r.rows[0]?.errors).toHaveLength(1);
  });

  it('takes the format from --format, else from the name given to --out', () => {
    expect(templateFormat(undefined, undefined)).toBe('xlsx');
    expect(templateFormat('usulan.CSV', undefined)).toBe('csv');
    expect(templateFormat('usulan.csv', 'xlsx')).toBe('xlsx');
    expect(() => templateFormat(undefined, 'ods')).toThrow(/xlsx or csv/);
  });
});
