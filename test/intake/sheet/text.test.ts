import { Readable } from 'node:stream';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { openSheet, type Sheet, SheetError, type SheetInput, type SheetOptions } from '#intake/sheet';

async function rowsOf(sheet: Sheet) {
  const rows: { row: number; cells: string[] }[] = [];
  for await (const r of sheet.rows) rows.push({ row: r.row, cells: r.cells });
  return rows;
}

async function read(input: SheetInput, opts?: SheetOptions) {
  const sheet = await openSheet(input, opts);
  return { sheet, header: sheet.header, rows: await rowsOf(sheet) };
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

/** Bytes arriving in pieces of `size`, cut anywhere (inside a character too). */
const inPieces = (bytes: Buffer, size: number) =>
  Readable.from(Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size)));

// Names officers type, with the letters Windows-1252 and UTF-8 write differently.
const NAMES = ['Sutéjo', 'Nurâini', 'Ngatiyem Ŝ'.slice(0, 8), 'Dewi Ayu’s Warung'];

describe('openSheet: Excel "Unicode text" (UTF-16, tab separated)', () => {
  const text = `nik\tnama\tdesa\r\n'3210014508950012\t${NAMES[0]}\tCicurug\r\n'3210014508950013\t${NAMES[1]}\tSukahaji\r\n`;

  it('reads UTF-16 LE with its byte order mark, names intact', async () => {
    const { sheet, header, rows } = await read(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]));
    expect(sheet.format).toBe('csv');
    expect(sheet.separator).toBe('\t');
    expect(header).toEqual(['nik', 'nama', 'desa']);
    expect(rows).toEqual([
      { row: 2, cells: ["'3210014508950012", 'Sutéjo', 'Cicurug'] },
      { row: 3, cells: ["'3210014508950013", 'Nurâini', 'Sukahaji'] },
    ]);
  });

  it('reads UTF-16 BE with its byte order mark', async () => {
    const { header, rows } = await read(iconv.encode(text, 'utf16be', { addBOM: true }));
    expect(header).toEqual(['nik', 'nama', 'desa']);
    expect(rows.map((r) => r.cells[1])).toEqual(['Sutéjo', 'Nurâini']);
  });

  it('keeps characters whole when the bytes arrive cut at odd places', async () => {
    const bytes = Buffer.concat([
      Buffer.from([0xff, 0xfe]),
      Buffer.from(text.repeat(1).replace('Cicurug', 'Cicurug 😀'), 'utf16le'),
    ]);
    const { rows } = await read(inPieces(bytes, 3));
    expect(rows[0]?.cells).toEqual(["'3210014508950012", 'Sutéjo', 'Cicurug 😀']);
  });

  it('keeps characters whole in UTF-16 BE too, an emoji cut between its two halves included', async () => {
    const bytes = iconv.encode(text.replace('Cicurug', 'Cicurug 😀'), 'utf16be', { addBOM: true });
    for (const size of [3, 2, 5]) {
      const { rows } = await read(inPieces(bytes, size));
      expect(rows[0]?.cells).toEqual(["'3210014508950012", 'Sutéjo', 'Cicurug 😀']);
    }
  });

  it('recognises UTF-16 without a byte order mark from its zero bytes', async () => {
    const { header, rows } = await read(Buffer.from(text, 'utf16le'));
    expect(header).toEqual(['nik', 'nama', 'desa']);
    expect(rows).toHaveLength(2);
  });
});

describe('openSheet: Windows-1252 (Excel\'s plain "CSV")', () => {
  it('reads names as the officer typed them when the bytes are not UTF-8', async () => {
    const csv = `nik;nama;usaha\r\n1;${NAMES[0]};${NAMES[3]}\r\n2;${NAMES[1]};Kopi\r\n`;
    const { rows } = await read(iconv.encode(csv, 'win1252'));
    expect(rows.map((r) => r.cells.slice(1))).toEqual([
      ['Sutéjo', 'Dewi Ayu’s Warung'],
      ['Nurâini', 'Kopi'],
    ]);
  });

  it('reads every Windows-1252 byte as Windows-1252 says (the five unassigned ones as U+FFFD)', async () => {
    const all = Buffer.from(Array.from({ length: 0x100 - 0x80 }, (_, i) => 0x80 + i));
    const { rows } = await read(Buffer.concat([Buffer.from('nama;desa\r\nx'), all, Buffer.from(';Cicurug\r\n')]));
    expect(rows[0]?.cells).toEqual([`x${iconv.decode(all, 'win1252')}`, 'Cicurug']);
    expect(rows[0]?.cells[0]).toContain('€');
    expect([...(rows[0]?.cells[0] ?? '')].filter((c) => c === '\uFFFD')).toHaveLength(5);
  });

  it('decides when the first accented letter comes, even far into a large file', async () => {
    const plain = Array.from({ length: 4000 }, (_, i) => `${i};Warga ${i};Kopi`).join('\r\n');
    const bytes = iconv.encode(`nik;nama;usaha\r\n${plain}\r\n9999;Sutéjo;Warung € 5\r\n`, 'win1252');
    expect(bytes.length).toBeGreaterThan(64 * 1024);
    const { rows } = await read(inPieces(bytes, 4096));
    expect(rows.at(-1)).toEqual({ row: 4002, cells: ['9999', 'Sutéjo', 'Warung € 5'] });
  });

  it('keeps UTF-8 as UTF-8, also when an accented letter is cut between two pieces', async () => {
    const bytes = Buffer.from(`nik,nama\n1,${NAMES[0]}\n2,${NAMES[1]}\n`, 'utf8');
    const at = bytes.indexOf(0xc3);
    const pieces = Readable.from([bytes.subarray(0, at + 1), bytes.subarray(at + 1)]);
    const { rows } = await read(pieces);
    expect(rows.map((r) => r.cells[1])).toEqual(['Sutéjo', 'Nurâini']);
  });

  it('drops the UTF-8 byte order mark and reads the rest as UTF-8', async () => {
    const { header, rows } = await read(
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('nama;desa\nSutéjo;Cicurug\n')]),
    );
    expect(header).toEqual(['nama', 'desa']);
    expect(rows[0]?.cells[0]).toBe('Sutéjo');
  });
});

describe('openSheet: separators and rows', () => {
  it.each([
    [',', 'nik,nama,alamat\n1,Siti,"Jl. Merdeka; RT 2"\n'],
    [';', 'nik;nama;alamat\n1;Siti;"Jl. Merdeka, RT 2"\n'],
    ['\t', 'nik\tnama\talamat\n1\tSiti\tJl. Merdeka, RT 2\n'],
  ])('detects %j', async (separator, csv) => {
    const { sheet, rows } = await read(csv);
    expect(sheet.separator).toBe(separator);
    expect(rows[0]?.cells).toHaveLength(3);
  });

  it('is not fooled by a title line above the header, or blank lines before it', async () => {
    const csv = '\r\nUsulan Prokus, Kab. Majalengka\r\n\r\nnik;nama;desa;no_hp\r\n1;Siti;Cicurug;0812\r\n';
    const { sheet, header, rows } = await read(csv, { isHeader: (cells) => cells.includes('nik') });
    expect(sheet.separator).toBe(';');
    expect(sheet.headerRow).toBe(4);
    expect(header).toEqual(['nik', 'nama', 'desa', 'no_hp']);
    expect(rows).toEqual([{ row: 5, cells: ['1', 'Siti', 'Cicurug', '0812'] }]);
  });

  it("follows Excel's sep= line and counts it as row 1", async () => {
    const { sheet, header, rows } = await read('sep=;\r\nnik;nama,gelar\r\n1;Siti, S.Pd\r\n');
    expect(sheet.separator).toBe(';');
    expect(header).toEqual(['nik', 'nama,gelar']);
    expect(rows).toEqual([{ row: 3, cells: ['1', 'Siti, S.Pd'] }]);
  });

  it('takes the first non-blank row as the header when no row is recognised', async () => {
    const { sheet, header } = await read('\n\na,b\n1,2\n', { isHeader: () => false });
    expect(sheet.headerRow).toBe(3);
    expect(header).toEqual(['a', 'b']);
  });

  it('keeps separators and line breaks inside quotes, and numbers rows as the spreadsheet does', async () => {
    const csv = 'nik;deskripsi;omzet\r\n1;"Keripik; pedas\r\nmanis";"1.500.000"\r\n;;\r\n2;Warung;750.000\r\n;;\r\n\r\n;;\r\n';
    const { rows } = await read(csv);
    expect(rows).toEqual([
      { row: 2, cells: ['1', 'Keripik; pedas\r\nmanis', '1.500.000'] },
      { row: 4, cells: ['2', 'Warung', '750.000'] },
    ]);
  });
});

describe('openSheet: limits', () => {
  const csv = (rows: number) => `nik,nama\n${Array.from({ length: rows }, (_, i) => `${i},Warga ${i}`).join('\n')}\n`;

  it('reads a file at the row limit', async () => {
    const { rows } = await read(csv(5), { maxRows: 5 });
    expect(rows).toHaveLength(5);
  });

  it('refuses a file over the row limit, saying how to split it', async () => {
    const problem = await problemOf(`${csv(5)}\n\n`.replace(/\n$/, '\n5,Warga 5\n'), { maxRows: 5 });
    expect(problem?.code).toBe('FILE_TOO_MANY_ROWS');
    expect(problem?.message.en).toContain('at most 5 rows');
    expect(problem?.message.id).toContain('paling banyak 5 baris');
  });

  it('refuses 100,001 rows by default and reads 100,000', async () => {
    expect((await read(csv(100_000))).rows).toHaveLength(100_000);
    expect((await problemOf(csv(100_001)))?.code).toBe('FILE_TOO_MANY_ROWS');
  });

  it('refuses a file over the byte limit while reading it', async () => {
    const problem = await problemOf(inPieces(Buffer.from(csv(2000)), 1000), { maxBytes: 10_000 });
    expect(problem?.code).toBe('FILE_TOO_LARGE');
  });

  it('refuses a file whose known size is over the limit before reading it', async () => {
    let pulled = 0;
    const source = new Readable({
      read() {
        pulled += 1;
        this.push(pulled > 1000 ? null : 'nik,nama\n1,Siti\n');
      },
    });
    const problem = await problemOf(source, { size: 200 * 1024 * 1024 });
    expect(problem?.code).toBe('FILE_TOO_LARGE');
    expect(problem?.message.en).toContain('100 MiB');
    expect(pulled).toBe(0);
  });

  it('calls one enormous cell a damaged file, not data', async () => {
    const problem = await problemOf(`nik,nama\n1,"${'x'.repeat(2 * 1024 * 1024)}"\n`);
    expect(problem?.code).toBe('FILE_MALFORMED');
  });
});

describe('openSheet: files that are not spreadsheets', () => {
  it('says a web page is one, and that its name claims Excel when it does', async () => {
    const page = '<html><body><table><tr><td>nik</td></tr></table></body></html>';
    expect((await problemOf(page, { fileName: 'usulan.xls' }))?.message.en).toMatch(
      /web page \(HTML\) or XML, although its name says Excel/,
    );
    expect((await problemOf(page, { fileName: 'usulan.htm' }))?.message.en).not.toMatch(/its name/);
  });

  it.each([
    ['a PDF', Buffer.from('%PDF-1.7\n%âãÏÓ\n1 0 obj'), 'FILE_NOT_SPREADSHEET', /PDF/],
    ['a PNG photo', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]), 'FILE_NOT_SPREADSHEET', /image/],
    ['a JPEG scan', Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]), 'FILE_NOT_SPREADSHEET', /image/],
    [
      'a web page named .xls',
      '<html><body><table><tr><td>nik</td></tr></table></body></html>',
      'FILE_NOT_SPREADSHEET',
      /web page/,
    ],
    [
      'an Excel 2003 XML spreadsheet',
      '<?xml version="1.0"?>\n<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet">',
      'FILE_NOT_SPREADSHEET',
      /XML/,
    ],
    [
      'an OpenDocument spreadsheet',
      Buffer.concat([
        Buffer.from([0x50, 0x4b, 0x03, 0x04]),
        Buffer.alloc(26),
        Buffer.from('mimetypeapplication/vnd.oasis.opendocument.spreadsheet'),
      ]),
      'FILE_NOT_SPREADSHEET',
      /OpenDocument/,
    ],
    ['an empty zip', Buffer.from([0x50, 0x4b, 0x05, 0x06, ...Array(18).fill(0)]), 'FILE_NOT_SPREADSHEET', /ZIP/],
    [
      'an Excel 97-2003 workbook (or a password-protected one)',
      Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0, 0, 0, 0]),
      'FILE_XLS_NOT_SUPPORTED',
      /\.xlsx/,
    ],
    ['a binary file', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x00]), 'FILE_NOT_SPREADSHEET', /spreadsheet/],
    ['an empty file', Buffer.alloc(0), 'FILE_EMPTY', /empty/],
  ])('refuses %s, saying what it is and what to do', async (_what, input, code, en) => {
    const problem = await problemOf(input);
    expect(problem?.code).toBe(code);
    expect(problem?.message.en).toMatch(en);
    expect(problem?.message.id).not.toBe(problem?.message.en);
  });
});
