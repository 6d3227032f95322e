import { Readable } from 'node:stream';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import ExcelJS from 'exceljs';
import { beforeEach, describe, expect, it } from 'vitest';
import { checkRegistryRow, importRegistry, RegistryFileError } from '#intake/registry-import';
import { hashId, useSecretForTests } from '#lib/secrets';
import { TEST_SECRET } from '../helpers/fixtures.ts';
import { setTestEnv } from '../helpers/lambda.ts';

const ddb = mockClient(DynamoDBDocumentClient);
setTestEnv();
useSecretForTests(TEST_SECRET);

const NIK_A = '3210014508950012';
const NIK_B = '3402011203880004';

function stored() {
  return ddb.commandCalls(PutCommand).map((c) => c.args[0].input.Item as Record<string, unknown>);
}

beforeEach(() => {
  ddb.reset();
  ddb.on(PutCommand).resolves({});
});

describe('importRegistry', () => {
  it('stores each family under the keyed hash of its NIK, never the NIK itself', async () => {
    const csv = ['nik,tanggal_graduasi,desil,tahun_penerima_prokus', `'${NIK_A},2019-03-15,2,`, `${NIK_B},,7,2019`].join('\n');
    await expect(importRegistry(csv)).resolves.toEqual({ imported: 2, rejected: [] });
    const items = stored().sort((a, b) => String(a.decile).localeCompare(String(b.decile)));
    expect(items).toEqual([
      {
        pk: `REGISTRY#${hashId('nik', NIK_A)}`,
        sk: 'PKH',
        nikHash: hashId('nik', NIK_A),
        graduatedOn: '2019-03-15',
        decile: 2,
        importedAt: expect.any(String),
      },
      {
        pk: `REGISTRY#${hashId('nik', NIK_B)}`,
        sk: 'PKH',
        nikHash: hashId('nik', NIK_B),
        decile: 7,
        previousGrantYear: 2019,
        importedAt: expect.any(String),
      },
    ]);
    expect(JSON.stringify(items)).not.toContain(NIK_A);
    expect(JSON.stringify(items)).not.toContain(NIK_B);
  });

  it('accepts any district (the registry is national), semicolons, a BOM and Indonesian headers', async () => {
    const csv = `\uFEFFNIK;Tanggal Graduasi;Desil;Tahun Penerima Prokus\r\n${NIK_B};15/03/2019;1;\r\n`;
    await expect(importRegistry(Readable.from([Buffer.from(csv)]))).resolves.toEqual({ imported: 1, rejected: [] });
    expect(stored()[0]).toMatchObject({ graduatedOn: '2019-03-15', decile: 1 });
  });

  it('rejects the rows it cannot trust, by spreadsheet row number, and imports the rest', async () => {
    const csv = [
      'nik,tanggal_graduasi,desil,tahun_penerima_prokus',
      `${NIK_A},2019-03-15,2,`,
      '3.21001E+15,2019-03-15,2,',
      '321001450895,2019-03-15,2,',
      '3210014508950000,2019-03-15,2,',
      `${NIK_B},2019-02-30,2,`,
      `${NIK_B},2019-03-15,11,`,
      `${NIK_B},2019-03-15,2,19`,
      `${NIK_A},2020-01-01,1,`,
    ].join('\n');
    const result = await importRegistry(csv);
    expect(result.imported).toBe(1);
    expect(result.rejected.map((r) => [r.row, r.code])).toEqual([
      [3, 'NIK_SCIENTIFIC_NOTATION'],
      [4, 'NIK_NOT_16_DIGITS'],
      [5, 'NIK_SERIAL_ZERO'],
      [6, 'GRADUATION_DATE_INVALID'],
      [7, 'DECILE_INVALID'],
      [8, 'PREVIOUS_GRANT_YEAR_INVALID'],
      [9, 'DUPLICATE_IN_FILE'],
    ]);
    expect(result.rejected.at(-1)?.message.en).toContain('row 2');
    for (const r of result.rejected) expect(r.message.id).not.toBe(r.message.en);
  });

  it('imports the registry as an XLSX workbook: text NIKs, date and number cells; refuses NIKs from number cells', async () => {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('Graduasi PKH');
    ws.addRow(['NIK', 'Tanggal Graduasi', 'Desil', 'Tahun Penerima Prokus']);
    ws.addRow([NIK_A, 43_539, 2, null]).getCell(2).numFmt = 'dd/mm/yyyy';
    ws.addRow([Number(NIK_B), null, 7, 2019]);
    const result = await importRegistry(Buffer.from(await wb.xlsx.writeBuffer()));
    expect(result.imported).toBe(1);
    expect(result.rejected).toEqual([
      { row: 3, code: 'NIK_NUMERIC_CELL', message: { id: expect.any(String), en: expect.any(String) } },
    ]);
    expect(stored()[0]).toMatchObject({ nikHash: hashId('nik', NIK_A), graduatedOn: '2019-03-15', decile: 2 });
  });

  it('imports thousands of rows with a bounded number of writes in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    ddb.on(PutCommand).callsFake(async () => {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 1));
      inFlight -= 1;
      return {};
    });
    const lines = ['nik,tanggal_graduasi,desil,tahun_penerima_prokus'];
    for (let i = 1; i <= 3000; i += 1) lines.push(`321001010190${String(i).padStart(4, '0')},2019-01-01,1,`);
    const result = await importRegistry(lines.join('\n'));
    expect(result).toEqual({ imported: 3000, rejected: [] });
    expect(peak).toBeGreaterThan(1);
    expect(peak).toBeLessThanOrEqual(16);
  });

  it('fails the import when the store fails, instead of reporting a partial import as done', async () => {
    ddb.on(PutCommand).rejects(new Error('ProvisionedThroughputExceededException'));
    const csv = `nik,tanggal_graduasi,desil,tahun_penerima_prokus\n${NIK_A},,1,\n`;
    await expect(importRegistry(csv)).rejects.toThrow('ProvisionedThroughputExceededException');
  });

  it.each([
    ['an empty file', '', 'FILE_EMPTY'],
    ['a file without the desil column', `nik,tanggal_graduasi,tahun_penerima_prokus\n${NIK_A},,\n`, 'HEADER_MISSING_COLUMN'],
  ])('refuses %s as a whole', async (_what, csv, code) => {
    const error = await importRegistry(csv).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryFileError);
    expect(error).toMatchObject({ code, text: { id: expect.any(String), en: expect.any(String) } });
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
  });
});

describe('checkRegistryRow', () => {
  it('reads an empty graduation date as not graduated and an empty year as no earlier grant', () => {
    expect(checkRegistryRow(2, { nik: NIK_A, tanggal_graduasi: '', desil: '3', tahun_penerima_prokus: '' })).toEqual({
      ok: true,
      nik: NIK_A,
      entry: { decile: 3 },
    });
  });
});
