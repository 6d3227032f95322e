import { PassThrough, Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import ExcelJS from 'exceljs';
import { afterEach, describe, expect, it } from 'vitest';
import { type CellKind, openSheet, type Sheet, SheetError, type SheetInput, type SheetOptions } from '#intake/sheet';

type Build = (wb: ExcelJS.Workbook) => void;

/** A workbook as Excel keeps it (worksheets, then shared strings), built in memory. */
async function xlsx(build: Build): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  build(wb);
  return Buffer.from(await wb.xlsx.writeBuffer());
}

/** A workbook written with exceljs's streaming writer: inline strings, no shared-string table. */
async function streamedXlsx(name: string, rows: unknown[][]): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useSharedStrings: false, useStyles: true });
  const ws = wb.addWorksheet(name);
  for (const r of rows) ws.addRow(r).commit();
  ws.commit();
  await wb.commit();
  return Buffer.concat(chunks);
}

interface ReadRow {
  row: number;
  cells: string[];
  kinds: CellKind[] | undefined;
}

async function read(input: SheetInput, opts?: SheetOptions): Promise<{ sheet: Sheet; rows: ReadRow[] }> {
  const sheet = await openSheet(input, opts);
  const rows: ReadRow[] = [];
  for await (const r of sheet.rows) rows.push({ row: r.row, cells: r.cells, kinds: r.kinds });
  return { sheet, rows };
}

async function problemOf(input: SheetInput, opts?: SheetOptions) {
  try {
    await read(input, opts);
    return undefined;
  } catch (e) {
    if (e instanceof SheetError) return e.problem;
    throw e;
  }
}

const NIK = '3210014508950012';

describe('openSheet: XLSX', () => {
  it('reads the first sheet, numbering rows as the sheet does', async () => {
    const bytes = await xlsx((wb) => {
      const ws = wb.addWorksheet('Sheet1');
      ws.getRow(3).values = ['nik', 'nama'];
      ws.getRow(4).values = [NIK, 'Siti'];
      ws.getRow(7).values = ['3210014508950013', 'Budi'];
    });
    const { sheet, rows } = await read(bytes);
    expect(sheet.format).toBe('xlsx');
    expect(sheet.sheetName).toBe('Sheet1');
    expect(sheet.header).toEqual(['nik', 'nama']);
    expect(sheet.headerRow).toBe(3);
    expect(rows.map((r) => [r.row, r.cells])).toEqual([
      [4, [NIK, 'Siti']],
      [7, ['3210014508950013', 'Budi']],
    ]);
  });

  it('reads the sheet named usulan (any case) even when it is not the first', async () => {
    const bytes = await xlsx((wb) => {
      wb.addWorksheet('Petunjuk').addRow(['Isi lembar USULAN, lalu unggah.']);
      wb.addWorksheet('Rekap').addRow(['jumlah', 2]);
      const ws = wb.addWorksheet(' USULAN ');
      ws.addRow(['nik', 'nama']);
      ws.addRow([NIK, 'Siti']);
    });
    const { sheet, rows } = await read(bytes);
    expect(sheet.sheetName).toBe(' USULAN ');
    expect(rows).toEqual([{ row: 2, cells: [NIK, 'Siti'], kinds: ['text', 'text'] }]);
  });

  it('skips a hidden first sheet: the officer reads the first sheet they can see', async () => {
    const bytes = await xlsx((wb) => {
      wb.addWorksheet('lookup', { state: 'hidden' }).addRow(['kode', 'nama']);
      const ws = wb.addWorksheet('Data');
      ws.addRow(['nik', 'nama']);
      ws.addRow([NIK, 'Siti']);
    });
    expect((await read(bytes)).sheet.sheetName).toBe('Data');
  });

  it('tells a NIK typed as text from one Excel stored as a number, and writes numbers out in full', async () => {
    const bytes = await xlsx((wb) => {
      const ws = wb.addWorksheet('usulan');
      ws.addRow(['nik', 'no_kk', 'omzet']);
      ws.addRow([NIK, Number(NIK), 1_500_000]);
    });
    const { rows } = await read(bytes);
    expect(rows[0]).toMatchObject({ cells: [NIK, NIK, '1500000'], kinds: ['text', 'number', 'number'] });
  });

  it('reads every kind of cell an officer can make', async () => {
    const bytes = await xlsx((wb) => {
      const ws = wb.addWorksheet('usulan');
      ws.addRow(['rich', 'formula text', 'formula number', 'formula date', 'link', 'boolean', 'error', 'empty formula']);
      const r = ws.addRow([
        { richText: [{ text: 'Sut' }, { font: { bold: true }, text: 'éjo' }] },
        { formula: 'A2&""', result: 'Sutéjo' },
        { formula: '1000*1500', result: 1_500_000 },
        { formula: 'DATE(1995,8,5)', result: 34_916 },
        { text: 'Warung Sutéjo', hyperlink: 'https://example.org/warung' },
        true,
        { error: '#N/A' },
        { formula: 'B2' },
      ]);
      r.getCell(4).numFmt = 'dd/mm/yyyy';
    });
    const { rows } = await read(bytes);
    expect(rows[0]?.cells).toEqual(['Sutéjo', 'Sutéjo', '1500000', '1995-08-05', 'Warung Sutéjo', 'TRUE', '#N/A', '']);
    expect(rows[0]?.kinds).toEqual(['text', 'text', 'number', 'date', 'text', 'boolean', 'error', 'text']);
  });

  describe('dates', () => {
    /** Serials as Excel stores typed dates, shown through a date format. */
    async function datesOf(serials: number[], format: string, build: Build = () => {}) {
      const bytes = await xlsx((wb) => {
        build(wb);
        const ws = wb.addWorksheet('usulan');
        ws.addRow(['tanggal_lahir']);
        for (const s of serials) ws.addRow([s]).getCell(1).numFmt = format;
      });
      const { rows } = await read(bytes);
      return rows.map((r) => [r.cells[0], r.kinds?.[0]]);
    }

    it.each([
      ['dd/mm/yyyy'],
      ['mm-dd-yy'], // Excel's built-in short date (format 14), what a typed date gets
      ['[$-421]dd mmmm yyyy;@'], // Indonesian long date
      ['d-mmm-yy'],
    ])('reads date cells shown as %s as the calendar day, never a day off', async (format) => {
      expect(await datesOf([34_916, 32_874, 45_292.99], format)).toEqual([
        ['1995-08-05', 'date'],
        ['1990-01-01', 'date'],
        ['2024-01-01', 'date'],
      ]);
    });

    it('does not move dates in any time zone of the machine reading them', async () => {
      const saved = process.env.TZ;
      try {
        for (const tz of ['Pacific/Honolulu', 'Asia/Jakarta', 'Pacific/Kiritimati']) {
          process.env.TZ = tz;
          expect(await datesOf([34_916], 'dd/mm/yyyy')).toEqual([['1995-08-05', 'date']]);
        }
      } finally {
        process.env.TZ = saved;
      }
    });

    it("counts Excel's 1900 calendar as Excel does, 29 February 1900 included", async () => {
      expect(await datesOf([1, 59, 60, 61], 'dd/mm/yyyy')).toEqual([
        ['1900-01-01', 'date'],
        ['1900-02-28', 'date'],
        ['1900-02-29', 'date'],
        ['1900-03-01', 'date'],
      ]);
    });

    it('reads workbooks in the 1904 date system (old Mac Excel)', async () => {
      const dates = await datesOf([0, 33_454], 'dd/mm/yyyy', (wb) => {
        wb.properties.date1904 = true;
      });
      expect(dates).toEqual([
        ['1904-01-01', 'date'],
        ['1995-08-05', 'date'],
      ]);
    });

    it('keeps numbers shown as numbers, and text that looks like a date as text', async () => {
      const bytes = await xlsx((wb) => {
        const ws = wb.addWorksheet('usulan');
        ws.addRow(['a', 'b', 'c']);
        const r = ws.addRow([34_916, '05/08/1995', 1_500_000]);
        r.getCell(3).numFmt = '"Rp"#,##0';
      });
      expect((await read(bytes)).rows[0]).toMatchObject({
        cells: ['34916', '05/08/1995', '1500000'],
        kinds: ['number', 'text', 'number'],
      });
    });
  });

  it('keeps every accented name whole, however the compressed XML is cut into pieces', async () => {
    const names = Array.from({ length: 6000 }, (_, i) => `Sutéjo Nurâini ${i} Ŝ😀`);
    const shared = await xlsx((wb) => {
      const ws = wb.addWorksheet('usulan');
      ws.addRow(['nama']);
      for (const n of names) ws.addRow([n]);
    });
    const inline = await streamedXlsx('usulan', [['nama'], ...names.map((n) => [n])]);
    for (const bytes of [shared, inline]) {
      const { rows } = await read(bytes);
      expect(rows.map((r) => r.cells[0])).toEqual(names);
    }
  });

  it('reads a workbook arriving in small pieces', async () => {
    const bytes = await xlsx((wb) => {
      const ws = wb.addWorksheet('usulan');
      ws.addRow(['nik', 'nama']);
      for (let i = 0; i < 500; i += 1) ws.addRow([NIK, `Warga ${i}`]);
    });
    const pieces = Readable.from(
      Array.from({ length: Math.ceil(bytes.length / 1000) }, (_, i) => bytes.subarray(i * 1000, (i + 1) * 1000)),
    );
    const { rows } = await read(pieces);
    expect(rows).toHaveLength(500);
    expect(rows.at(-1)?.row).toBe(501);
  });

  it('stops at the row limit', async () => {
    const bytes = await streamedXlsx('usulan', [['nik'], ...Array.from({ length: 6 }, () => [NIK])]);
    expect((await read(bytes, { maxRows: 6 })).rows).toHaveLength(6);
    expect((await problemOf(bytes, { maxRows: 5 }))?.code).toBe('FILE_TOO_MANY_ROWS');
  });

  it('calls a workbook cut short a damaged file (the upload did not finish)', async () => {
    const bytes = await xlsx((wb) => {
      const ws = wb.addWorksheet('usulan');
      ws.addRow(['nik', 'nama']);
      for (let i = 0; i < 2000; i += 1) ws.addRow([NIK, `Warga ${i} ${'x'.repeat(i % 50)}`]);
    });
    for (const cut of [0.3, 0.6, 0.95]) {
      const problem = await problemOf(bytes.subarray(0, Math.floor(bytes.length * cut)));
      expect(problem?.code).toMatch(/^FILE_(MALFORMED|NOT_SPREADSHEET)$/);
    }
  });

  it('refuses a zip that holds no workbook', async () => {
    const problem = await problemOf(zipOf([['word/document.xml', '<w:document/>']]));
    expect(problem?.code).toBe('FILE_NOT_SPREADSHEET');
    expect(problem?.message.en).toMatch(/not an Excel workbook/);
  });

  it('passes a failure of the source through unchanged, so it can be retried', async () => {
    const bytes = await streamedXlsx('usulan', [['nik'], ...Array.from({ length: 3000 }, (_, i) => [`${NIK}${i}`])]);
    const source = new Readable({
      read() {
        this.push(bytes.subarray(0, Math.floor(bytes.length / 2)));
        this.destroy(new Error('connection reset'));
      },
    });
    await expect(read(source)).rejects.toThrow('connection reset');
  });

  describe('closing early', () => {
    const settled = () => new Promise((resolve) => setTimeout(resolve, 50));
    afterEach(settled);

    it('survives being closed at once, again and again, the sheet coming before the shared strings', async () => {
      // Once the case where exceljs parked the sheet in a temporary file and closing raced the
      // file's lazy open against its deletion (an orphaned ENOENT that crashed the process).
      const bytes = await xlsx((wb) => {
        wb.addWorksheet('Petunjuk').addRow(['baca dulu']);
        const ws = wb.addWorksheet('usulan');
        ws.addRow(['nik']);
        for (let i = 0; i < 20; i += 1) ws.addRow([NIK]);
      });
      for (let i = 0; i < 40; i += 1) (await openSheet(bytes)).close();
      await settled();
      await settled();
    });

    it('reads the same workbook again after a read stopped early', async () => {
      const bytes = await xlsx((wb) => {
        wb.addWorksheet('Petunjuk').addRow(['baca dulu']);
        const ws = wb.addWorksheet('usulan');
        ws.addRow(['nik']);
        for (let i = 0; i < 100; i += 1) ws.addRow([NIK]);
      });
      const early = await openSheet(bytes);
      early.close();
      expect((await read(bytes)).rows).toHaveLength(100);
    });
  });
});

/** A zip of stored (uncompressed) files, enough to look like an Office document. */
function zipOf(files: [string, string][]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, text] of files) {
    const data = Buffer.from(text);
    const fileName = Buffer.from(name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc32(data), 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(fileName.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(crc32(data), 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(fileName.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, fileName, data);
    centrals.push(central, fileName);
    offset += local.length + fileName.length + data.length;
  }
  const dir = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(dir.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, dir, end]);
}
