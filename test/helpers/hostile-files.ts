/**
 * Hostile proposal files (issue 7, items 7 and 8), generated where a test wants them:
 * damaged workbooks, zip bombs of whitespace, millions of empty rows or shared strings,
 * enormous cells, a million columns, sheets that are not XML, CSV that never ends a
 * line or a quote, binary garbage. Small on disk: a zip's deflate stream is written as
 * one compressed block repeated (each block flushed with Z_FULL_FLUSH, so it refers to
 * nothing before it), so 1 GiB of spaces is about 1 MB of file and takes no time to make.
 * Every workbook is valid but for what makes it hostile (the sizes and CRCs are right
 * unless `lie` says otherwise), with its worksheet before its shared strings, as Excel
 * writes them.
 */
import { createWriteStream, readdirSync, statSync, watch } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants, crc32, deflateRawSync } from 'node:zlib';
import { PROPOSAL_COLUMNS } from '#intake/proposal';
import { proposalRows, synthesizeFamilies, writeProposalXlsx } from '../../cli/synthetic.ts';

const MiB = 1024 * 1024;

/** Part of an entry's data: `data` repeated `times` times. */
interface Segment {
  data: Buffer;
  times: number;
}

const once = (text: string | Buffer): Segment => ({ data: Buffer.isBuffer(text) ? text : Buffer.from(text), times: 1 });

/** `unit` repeated `count` times, as segments of about 1 MiB (whole units each). */
function repeat(unit: string, count: number): Segment[] {
  const perBlock = Math.max(1, Math.floor(MiB / Buffer.byteLength(unit)));
  const out: Segment[] = [];
  const full = Math.floor(count / perBlock);
  if (full > 0) out.push({ data: Buffer.from(unit.repeat(perBlock)), times: full });
  const rest = count - full * perBlock;
  if (rest > 0) out.push({ data: Buffer.from(unit.repeat(rest)), times: 1 });
  return out;
}

interface ZipPart {
  name: string;
  segments: Segment[];
  /** Uncompressed size to write in the headers instead of the true one (a zip bomb that lies). */
  lie?: number;
}

/** Writes a zip of deflated parts; returns its size on disk. */
async function writeZip(file: string, parts: ZipPart[]): Promise<number> {
  const out: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  const push = (b: Buffer) => {
    out.push(b);
    offset += b.length;
  };
  const pieces: Buffer[][] = [];
  for (const part of parts) {
    let crc = 0;
    let size = 0;
    const compressed: Buffer[] = [];
    for (const s of part.segments) {
      const block = deflateRawSync(s.data, { finishFlush: constants.Z_FULL_FLUSH });
      for (let i = 0; i < s.times; i += 1) {
        crc = crc32(s.data, crc);
        compressed.push(block);
      }
      size += s.data.length * s.times;
    }
    // The last block: stored, final, empty.
    compressed.push(Buffer.from([0x01, 0x00, 0x00, 0xff, 0xff]));
    pieces.push(compressed);
    const compressedSize = compressed.reduce((n, b) => n + b.length, 0);
    const declared = part.lie ?? size;
    const name = Buffer.from(part.name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(crc >>> 0, 14);
    local.writeUInt32LE(compressedSize, 18);
    local.writeUInt32LE(declared, 22);
    local.writeUInt16LE(name.length, 26);
    const entry = Buffer.alloc(46);
    entry.writeUInt32LE(0x02014b50, 0);
    entry.writeUInt16LE(20, 4);
    entry.writeUInt16LE(20, 6);
    entry.writeUInt16LE(8, 10);
    entry.writeUInt32LE(crc >>> 0, 16);
    entry.writeUInt32LE(compressedSize, 20);
    entry.writeUInt32LE(declared, 24);
    entry.writeUInt16LE(name.length, 28);
    entry.writeUInt32LE(offset, 42);
    central.push(entry, name);
    push(local);
    push(name);
    for (const b of compressed) push(b);
  }
  const dirStart = offset;
  for (const b of central) push(b);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(parts.length, 8);
  end.writeUInt16LE(parts.length, 10);
  end.writeUInt32LE(offset - dirStart, 12);
  end.writeUInt32LE(dirStart, 16);
  push(end);
  await pipeline(Readable.from(out), createWriteStream(file, { mode: 0o600 }));
  return offset;
}

const MAIN = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
const REL = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
const PKG_REL = 'http://schemas.openxmlformats.org/package/2006/relationships';

/** The proposal's header row, inline strings, as row 1. */
const headerRow = () =>
  `<row r="1">${PROPOSAL_COLUMNS.map((c) => `<c t="inlineStr"><is><t>${c.name}</t></is></c>`).join('')}</row>`;

/** A workbook of one sheet `usulan`: the sheet's XML (and shared strings, if any) given as segments. */
function workbook(sheet: Segment[], sharedStrings?: Segment[], opts: { lie?: number } = {}): ZipPart[] {
  const rels = [
    `<Relationship Id="rId1" Type="${REL}/worksheet" Target="worksheets/sheet1.xml"/>`,
    sharedStrings ? `<Relationship Id="rId2" Type="${REL}/sharedStrings" Target="sharedStrings.xml"/>` : '',
  ].join('');
  return [
    {
      name: '[Content_Types].xml',
      segments: [
        once(
          '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
            '<Default Extension="xml" ContentType="application/xml"/>' +
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>' +
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>',
        ),
      ],
    },
    {
      name: '_rels/.rels',
      segments: [
        once(
          `<Relationships xmlns="${PKG_REL}"><Relationship Id="rId1" Type="${REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>`,
        ),
      ],
    },
    {
      name: 'xl/workbook.xml',
      segments: [
        once(
          `<workbook xmlns="${MAIN}" xmlns:r="${REL}"><sheets><sheet name="usulan" sheetId="1" r:id="rId1"/></sheets></workbook>`,
        ),
      ],
    },
    { name: 'xl/_rels/workbook.xml.rels', segments: [once(`<Relationships xmlns="${PKG_REL}">${rels}</Relationships>`)] },
    { name: 'xl/worksheets/sheet1.xml', segments: sheet, ...(opts.lie !== undefined ? { lie: opts.lie } : {}) },
    ...(sharedStrings ? [{ name: 'xl/sharedStrings.xml', segments: sharedStrings }] : []),
  ];
}

const SHEET_START = `<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="${MAIN}"><sheetData>`;
const SHEET_END = '</sheetData></worksheet>';
/** A sheet: the header row, then `body`, then the end. */
const sheetOf = (body: Segment[]): Segment[] => [once(SHEET_START + headerRow()), ...body, once(SHEET_END)];

export interface HostileFile {
  /** What the file is, in the test's words. */
  what: string;
  file: string;
  /** Its size on disk. */
  bytes: number;
  /** The error codes it may end in (the first is what this reader says). */
  codes: string[];
}

/** Pseudo-random bytes (xorshift), the same every run. */
function garbage(n: number, seed = 7): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = seed;
  for (let i = 0; i < n; i += 1) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

async function writeText(file: string, segments: Segment[]): Promise<number> {
  async function* chunks() {
    for (const s of segments) for (let i = 0; i < s.times; i += 1) yield s.data;
  }
  await pipeline(Readable.from(chunks()), createWriteStream(file, { mode: 0o600 }));
  return (await stat(file)).size;
}

/** A good proposal workbook (Excel's layout), to damage. */
async function goodWorkbook(file: string, rows: number): Promise<Buffer> {
  const fams = synthesizeFamilies(rows, { districts: ['3210'], ineligibleShare: 0, seed: 9 });
  await writeProposalXlsx(file, proposalRows(fams, { format: 'xlsx', damagedShare: 0, warningShare: 0 }));
  return readFile(file);
}

export interface CorpusOptions {
  /** Leave out the files over this many bytes on disk (an upload of 50 MB takes a while). */
  maxFileBytes?: number;
}

/** Writes the corpus into `dir`; every file is refused by the reader with one of its codes. */
export async function writeHostileCorpus(dir: string, opts: CorpusOptions = {}): Promise<HostileFile[]> {
  const files: HostileFile[] = [];
  const add = async (what: string, name: string, codes: string[], write: (file: string) => Promise<number>) => {
    const file = join(dir, name);
    const bytes = await write(file);
    if (opts.maxFileBytes === undefined || bytes <= opts.maxFileBytes) files.push({ what, file, bytes, codes });
  };
  const zip = (parts: ZipPart[]) => (file: string) => writeZip(file, parts);
  const raw = (data: Buffer) => async (file: string) => {
    await writeFile(file, data, { mode: 0o600 });
    return data.length;
  };

  const good = await goodWorkbook(join(dir, 'good.xlsx'), 3000);
  await add(
    'a workbook cut short (an upload that did not finish)',
    'terpotong.xlsx',
    ['FILE_MALFORMED'],
    raw(good.subarray(0, Math.floor(good.length * 0.6))),
  );
  const corrupted = Buffer.from(good);
  garbage(4096, 11).copy(corrupted, Math.floor(corrupted.length * 0.4));
  await add('a workbook with 4 KiB of its compressed sheet overwritten', 'rusak.xlsx', ['FILE_MALFORMED'], raw(corrupted));
  await add(
    '1 GiB of whitespace in a worksheet (a zip bomb)',
    'spasi-1gib.xlsx',
    ['FILE_TOO_LARGE'],
    zip(workbook(sheetOf(repeat(' ', 1024 * MiB)))),
  );
  await add(
    '1 GiB of whitespace in a worksheet whose zip says 64 KiB',
    'spasi-bohong.xlsx',
    ['FILE_MALFORMED'],
    zip(workbook(sheetOf(repeat(' ', 1024 * MiB)), undefined, { lie: 64 * 1024 })),
  );
  await add(
    '200 MiB of whitespace between two rows',
    'spasi-200mib.xlsx',
    ['FILE_MALFORMED'],
    zip(workbook(sheetOf(repeat(' ', 200 * MiB)))),
  );
  await add(
    '5 million empty rows',
    'baris-kosong.xlsx',
    ['FILE_TOO_MANY_BLANK_ROWS'],
    zip(workbook(sheetOf(repeat('<row/>', 5_000_000)))),
  );
  await add(
    '10 million shared strings',
    'teks-10jt.xlsx',
    ['FILE_TOO_LARGE'],
    zip(workbook(sheetOf([]), [once(`<sst xmlns="${MAIN}">`), ...repeat('<si><t>x</t></si>', 10_000_000), once('</sst>')])),
  );
  await add(
    'one shared string of 300 MiB',
    'teks-300mib.xlsx',
    ['FILE_TOO_LARGE'],
    zip(workbook(sheetOf([]), [once(`<sst xmlns="${MAIN}"><si><t>`), ...repeat('a', 300 * MiB), once('</t></si></sst>')])),
  );
  await add(
    'one shared string of 200 MiB (under the part limit)',
    'teks-200mib.xlsx',
    ['FILE_MALFORMED', 'FILE_CELL_TOO_LONG'],
    zip(workbook(sheetOf([]), [once(`<sst xmlns="${MAIN}"><si><t>`), ...repeat('a', 200 * MiB), once('</t></si></sst>')])),
  );
  await add(
    'a shared string of 100,000 characters',
    'teks-panjang.xlsx',
    ['FILE_CELL_TOO_LONG'],
    zip(workbook(sheetOf([]), [once(`<sst xmlns="${MAIN}"><si><t>${'a'.repeat(100_000)}</t></si></sst>`)])),
  );
  await add(
    'a row of a million columns',
    'kolom-1jt.xlsx',
    ['FILE_TOO_MANY_COLUMNS'],
    zip(workbook(sheetOf([once('<row r="2">'), ...repeat('<c t="inlineStr"><is><t>x</t></is></c>', 1_000_000), once('</row>')]))),
  );
  await add(
    'a cell a million columns to the right',
    'kolom-jauh.xlsx',
    ['FILE_TOO_MANY_COLUMNS'],
    zip(workbook(sheetOf([once('<row r="2"><c r="BDWGM2" t="inlineStr"><is><t>x</t></is></c></row>')]))),
  );
  await add(
    'an inline cell of 100,000 characters',
    'sel-panjang.xlsx',
    ['FILE_CELL_TOO_LONG'],
    zip(workbook(sheetOf([once(`<row r="2"><c r="A2" t="inlineStr"><is><t>${'a'.repeat(100_000)}</t></is></c></row>`)]))),
  );
  await add('a worksheet that is not XML', 'bukan-xml.xlsx', ['FILE_MALFORMED'], zip(workbook([once(garbage(256 * 1024, 3))])));
  await add(
    'shared-string cells without a shared-string table',
    'tanpa-teks.xlsx',
    ['FILE_EMPTY', 'HEADER_MISSING_COLUMN'],
    zip(workbook([once(`${SHEET_START}<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>${SHEET_END}`)])),
  );
  await add('binary garbage', 'sampah.bin', ['FILE_NOT_SPREADSHEET'], raw(garbage(4 * MiB, 5)));
  await add(
    'binary garbage after a zip signature',
    'sampah.xlsx',
    ['FILE_MALFORMED'],
    raw(Buffer.concat([Buffer.from('PK\u0003\u0004'), garbage(4 * MiB, 6)])),
  );

  const header = `${PROPOSAL_COLUMNS.map((c) => c.name).join(',')}\n`;
  await add('a CSV line of 50 MB without a newline', 'satu-baris.csv', ['FILE_MALFORMED'], (f) =>
    writeText(f, [once(header), ...repeat('a', 50 * MiB)]),
  );
  await add('a CSV quote opened and never closed, 50 MB on', 'kutip.csv', ['FILE_MALFORMED'], (f) =>
    writeText(f, [once(`${header}3210014508950012,"`), ...repeat('Siti, Budi\n', 5 * MiB)]),
  );
  await add('a CSV of 5 million empty lines', 'baris-kosong.csv', ['FILE_TOO_MANY_BLANK_ROWS'], (f) =>
    writeText(f, [once(header), ...repeat('\n', 5_000_000)]),
  );
  await add('a CSV line of a million commas', 'koma.csv', ['FILE_TOO_MANY_COLUMNS'], (f) =>
    writeText(f, [once(header), ...repeat(',', 1_000_000), once('\n')]),
  );
  await add('a CSV of 120 MiB (over the size limit)', 'besar.csv', ['FILE_TOO_LARGE'], (f) =>
    writeText(f, [once(header), ...repeat('3210014508950012,Siti,x\n', Math.ceil((120 * MiB) / 24))]),
  );
  return files;
}

export interface Watched {
  /** Every file that appeared in the directory while watched, with its mode (`undefined`: gone before it could be seen). */
  created: { name: string; mode: number | undefined }[];
  /** What is in the directory now. */
  left: string[];
}

/**
 * Watches a directory (the reader's temporary directory, TMPDIR) for files appearing in
 * it, and says which appeared, with their permissions, and which are left at the end.
 */
export function watchDir(dir: string): { stop(): Watched } {
  const before = new Set(readdirSync(dir));
  const created = new Map<string, number | undefined>();
  const watcher = watch(dir, { recursive: false }, (_event, name) => {
    if (!name || before.has(name) || created.has(name)) return;
    try {
      created.set(name, statSync(join(dir, name)).mode & 0o777);
    } catch {
      created.set(name, undefined);
    }
  });
  return {
    stop() {
      watcher.close();
      const left = readdirSync(dir).filter((f) => !before.has(f));
      for (const f of left) if (!created.has(f)) created.set(f, statSync(join(dir, f)).mode & 0o777);
      return { created: [...created].map(([name, mode]) => ({ name, mode })), left };
    },
  };
}

/** The peak resident memory of this process while `run` runs, above what it was at the start. */
export async function peakRssGrowth<T>(run: () => Promise<T>): Promise<{ result: T; ms: number; peakMiB: number }> {
  const start = process.memoryUsage.rss();
  let peak = start;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 5);
  const t = performance.now();
  try {
    const result = await run();
    peak = Math.max(peak, process.memoryUsage.rss());
    return { result, ms: Math.round(performance.now() - t), peakMiB: Math.round((peak - start) / MiB) };
  } finally {
    clearInterval(timer);
  }
}
