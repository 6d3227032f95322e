import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { detectSeparator, normalizeHeader, openSheet, parseDate, type Sheet, SheetError } from '#intake/sheet';

async function rowsOf(sheet: Sheet) {
  const rows: { row: number; cells: string[] }[] = [];
  for await (const r of sheet.rows) rows.push(r);
  return rows;
}

async function problemOf(input: Parameters<typeof openSheet>[0]): Promise<string> {
  try {
    await rowsOf(await openSheet(input));
    return 'none';
  } catch (e) {
    if (e instanceof SheetError) return e.problem.code;
    throw e;
  }
}

describe('openSheet', () => {
  it('reads comma-separated files', async () => {
    const sheet = await openSheet('nik,nama\n1,Siti\n2,Budi\n');
    expect(sheet.separator).toBe(',');
    expect(sheet.header).toEqual(['nik', 'nama']);
    expect(await rowsOf(sheet)).toEqual([
      { row: 2, cells: ['1', 'Siti'] },
      { row: 3, cells: ['2', 'Budi'] },
    ]);
  });

  it('detects the semicolon Indonesian Excel writes, even when a comma appears inside a value', async () => {
    const sheet = await openSheet('nik;nama;alamat\r\n1;Siti;"Jl. Merdeka 1, RT 02"\r\n');
    expect(sheet.separator).toBe(';');
    expect(await rowsOf(sheet)).toEqual([{ row: 2, cells: ['1', 'Siti', 'Jl. Merdeka 1, RT 02'] }]);
  });

  it('detects tab-separated text', async () => {
    const sheet = await openSheet('nik\tnama\n1\tSiti\n');
    expect(sheet.separator).toBe('\t');
  });

  it('drops the UTF-8 byte order mark Excel puts before the first column name', async () => {
    const sheet = await openSheet(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('nik,nama\n1,Siti\n')]));
    expect(sheet.header[0]).toBe('nik');
  });

  it('keeps a quoted value with a line break as one row, and counts rows as the spreadsheet does', async () => {
    const sheet = await openSheet('nik,deskripsi\n1,"Keripik\nsingkong"\n\n,\n2,Warung\n');
    expect(await rowsOf(sheet)).toEqual([
      { row: 2, cells: ['1', 'Keripik\nsingkong'] },
      { row: 5, cells: ['2', 'Warung'] },
    ]);
  });

  it('streams a file that arrives in small chunks, split anywhere', async () => {
    const text = `nik;nama\n${Array.from({ length: 500 }, (_, i) => `${i};Nama ${i}`).join('\n')}\n`;
    const bytes = Buffer.from(text);
    const chunks = Array.from({ length: Math.ceil(bytes.length / 7) }, (_, i) => bytes.subarray(i * 7, i * 7 + 7));
    const rows = await rowsOf(await openSheet(Readable.from(chunks)));
    expect(rows).toHaveLength(500);
    expect(rows.at(-1)).toEqual({ row: 501, cells: ['499', 'Nama 499'] });
  });

  it('reads rows shorter than the header as far as they go', async () => {
    expect(await rowsOf(await openSheet('a,b,c\n1,2\n'))).toEqual([{ row: 2, cells: ['1', '2'] }]);
  });

  it.each([
    ['an empty file', '', 'FILE_EMPTY'],
    ['a file of blank lines', '\n\r\n  \n', 'FILE_EMPTY'],
    ['a cut-off zip', Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00]), 'FILE_MALFORMED'],
    ['an old XLS workbook', Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0, 0]), 'FILE_XLS_NOT_SUPPORTED'],
    ['a binary file', Buffer.from([0x25, 0x51, 0x44, 0x00, 0x46]), 'FILE_NOT_SPREADSHEET'],
    ['text without separators', 'hello world\nthis is not a table\n', 'FILE_NOT_SPREADSHEET'],
    ['an unclosed quote', 'nik,nama\n1,"Siti\n2,Budi\n', 'FILE_MALFORMED'],
  ])('refuses %s', async (_what, input, code) => {
    expect(await problemOf(input)).toBe(code);
  });

  it('names the row where a damaged CSV breaks', async () => {
    try {
      await rowsOf(await openSheet('nik,nama\n1,Siti\n\n2,"Budi\n3,Ani\n'));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(SheetError);
      expect((e as SheetError).problem.message.en).toContain('row 4');
    }
  });

  it('passes a failure of the source through unchanged, so it can be retried', async () => {
    const source = new Readable({
      read() {
        this.push('nik,nama\n1,Siti\n');
        this.destroy(new Error('connection reset'));
      },
    });
    await expect(openSheet(source).then(rowsOf)).rejects.toThrow('connection reset');
  });
});

describe('detectSeparator', () => {
  it('counts separators outside quotes only', () => {
    expect(detectSeparator('"a;b;c;d",x,y')).toBe(',');
    expect(detectSeparator('a;b;"c,d,e,f"')).toBe(';');
    expect(detectSeparator('nothing here')).toBeUndefined();
  });
});

describe('normalizeHeader', () => {
  it('ignores case, spaces, dots and underscores', () => {
    expect(normalizeHeader('No. KK')).toBe(normalizeHeader('no_kk'));
    expect(normalizeHeader(' Tanggal  Lahir ')).toBe('tanggallahir');
    expect(normalizeHeader('\ufeffNIK')).toBe('nik');
  });
});

describe('parseDate', () => {
  it.each([
    ['1990-03-07', '1990-03-07'],
    ['07/03/1990', '1990-03-07'],
    ['07-03-1990', '1990-03-07'],
    ['7/3/1990', '1990-03-07'],
    [' 29/02/2000 ', '2000-02-29'],
  ])('%j → %s', (raw, expected) => {
    expect(parseDate(raw)).toBe(expected);
  });

  it.each(['', '29/02/1900', '31/04/1990', '1990/03/07', '07/03/90', '07.03.1990', '07/03-1990', 'kemarin'])(
    'rejects %j',
    (raw) => {
      expect(parseDate(raw)).toBeUndefined();
    },
  );
});
