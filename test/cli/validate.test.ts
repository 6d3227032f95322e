/**
 * `prokus validate` as the officer reads it, run in this process (the CLI tests run the
 * real command): the JSON every tool reads, the text report, the unreadable files.
 */
import { mkdtemp, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PROPOSAL_COLUMNS } from '#intake/proposal';
import { proposalCsv, proposalRows, type SyntheticFamily, synthesizeFamilies, writeProposalXlsx } from '../../cli/synthetic.ts';
import { LineSpool } from '../../cli/validate.ts';
import { runValidate } from '../../cli/validate-command.ts';
import { ValidateErrorJson, ValidateJson } from './validate-schema.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prokus-validate-test-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function families(n: number): SyntheticFamily[] {
  return [...synthesizeFamilies(n, { districts: ['3210'], ineligibleShare: 0, seed: 11 })];
}

async function file(name: string, content: string | Buffer): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

async function validate(path: string, opts: { district?: string; year?: number; json?: boolean } = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const code = await runValidate(
    path,
    { district: opts.district ?? '3210', year: opts.year ?? 2020, json: opts.json },
    { stdout, stderr },
  );
  return { code, out, err };
}

/** Row `at` (0-based among data rows) of a CSV with one cell replaced. */
function damage(csv: string, at: number, column: string, value: string): string {
  const lines = csv.split('\n');
  const header = (lines[0] ?? '').split(',');
  const cells = (lines[at + 1] ?? '').split(',');
  cells[header.indexOf(column)] = value;
  lines[at + 1] = cells.join(',');
  return lines.join('\n');
}

describe('prokus validate --json', () => {
  it('lists every row of a good file as accepted, with row numbers as the spreadsheet shows them', async () => {
    const path = await file('usulan.csv', proposalCsv(families(6)));
    const r = await validate(path, { json: true });
    expect(r.code).toBe(0);
    const json = ValidateJson.parse(JSON.parse(r.out));
    expect(json.file).toBe(path);
    expect(json.district).toBe('3210');
    expect(json.rows).toEqual([2, 3, 4, 5, 6, 7].map((row) => ({ row, status: 'accepted', errors: [] })));
    expect(json.summary).toEqual({ accepted: 6, warning: 0, rejected: 0 });
    // The offline dry run says what it could not check.
    expect(json.notChecked.map((c) => c.code)).toEqual(['ALREADY_PROPOSED']);
    expect(Object.keys(json).slice(0, 4)).toEqual(['file', 'district', 'rows', 'summary']);
  });

  it('names the code, column and bilingual message of each rejected row, and the earlier row of a duplicate', async () => {
    const fs = families(5);
    let csv = proposalCsv(fs);
    csv = damage(csv, 1, 'nik', '3.21012E+15');
    csv = damage(csv, 2, 'no_kk', '321001');
    csv = damage(csv, 3, 'nik', `'${fs[0]?.nik}`);
    const r = await validate(await file('usulan.csv', csv), { json: true });
    expect(r.code).toBe(0);
    const json = ValidateJson.parse(JSON.parse(r.out));
    expect(json.summary).toEqual({ accepted: 2, warning: 0, rejected: 3 });
    const byRow = new Map(json.rows.map((row) => [row.row, row]));
    expect(byRow.get(2)?.status).toBe('accepted');
    expect(byRow.get(3)).toMatchObject({ status: 'rejected', errors: [{ code: 'NIK_SCIENTIFIC_NOTATION', field: 'nik' }] });
    expect(byRow.get(3)?.errors[0]?.message.id).toMatch(/Teks/);
    expect(byRow.get(3)?.errors[0]?.message.en).toMatch(/Text/);
    expect(byRow.get(4)).toMatchObject({ status: 'rejected', errors: [{ code: 'KK_NOT_16_DIGITS', field: 'no_kk' }] });
    const duplicate = byRow.get(5)?.errors.find((e) => e.code === 'DUPLICATE_IN_FILE');
    expect(duplicate?.field).toBe('nik');
    expect(duplicate?.message.id).toContain('baris 2');
    expect(duplicate?.message.en).toContain('row 2');
  });

  it('marks a birth date that disagrees with the NIK as a warning: accepted, passed on', async () => {
    const fs = families(2);
    const f = fs[1] as SyntheticFamily;
    const other = `${Number(f.tanggalLahir.slice(0, 4)) - 1}`;
    const csv = damage(
      proposalCsv(fs),
      1,
      'tanggal_lahir',
      `${f.tanggalLahir.slice(8, 10)}/${f.tanggalLahir.slice(5, 7)}/${other}`,
    );
    const json = ValidateJson.parse(JSON.parse((await validate(await file('u.csv', csv), { json: true })).out));
    expect(json.summary).toEqual({ accepted: 1, warning: 1, rejected: 0 });
    expect(json.rows[1]).toMatchObject({ row: 3, status: 'warning', errors: [{ code: 'BIRTH_DATE_DIFFERS_FROM_NIK' }] });
  });

  it('counts blank lines the way the spreadsheet numbers its rows', async () => {
    const lines = proposalCsv(families(2)).trimEnd().split('\n');
    const csv = [lines[0], lines[1], '', ',,,,', lines[2]].join('\n');
    const json = ValidateJson.parse(JSON.parse((await validate(await file('u.csv', csv), { json: true })).out));
    expect(json.rows.map((r) => r.row)).toEqual([2, 5]);
  });

  it('reports the unknown columns it ignored as a file warning', async () => {
    const csv = proposalCsv(families(1)).replace(/^nik,/, 'keterangan,nik,').replace(/\n'/, "\nlain-lain,'");
    const json = ValidateJson.parse(JSON.parse((await validate(await file('u.csv', csv), { json: true })).out));
    expect(json.rows).toEqual([{ row: 2, status: 'accepted', errors: [] }]);
    expect(json.fileWarnings).toMatchObject([{ code: 'HEADER_UNKNOWN_COLUMN', field: 'keterangan' }]);
  });

  it('reads an XLSX workbook (sheet usulan) and refuses a NIK Excel stored as a number', async () => {
    const path = join(dir, 'usulan.xlsx');
    const rows = [...proposalRows(families(4), { format: 'xlsx', damagedShare: 0, warningShare: 0 })];
    const third = rows[2];
    if (!third) throw new Error('no third row');
    // What Excel makes of a NIK typed into a General column: a number, 15 digits kept.
    rows[2] = { ...third, cells: { ...third.cells, nik: Number(Number(third.family.nik).toPrecision(15)) } };
    await writeProposalXlsx(path, rows);
    const r = await validate(path, { json: true });
    expect(r.code).toBe(0);
    const json = ValidateJson.parse(JSON.parse(r.out));
    expect(json).toMatchObject({ format: 'xlsx', sheetName: 'usulan', summary: { accepted: 3, warning: 0, rejected: 1 } });
    expect(json.rows[2]).toMatchObject({ row: 4, status: 'rejected', errors: [{ code: 'NIK_NUMERIC_CELL', field: 'nik' }] });
    expect(json.rows[2]?.errors[0]?.message.en).toMatch(/Text/);
  });

  const header = PROPOSAL_COLUMNS.map((c) => c.name).join(',');
  const unreadable: [string, () => Promise<string>, Record<string, unknown>, string][] = [
    ['an empty file', () => file('empty.csv', ''), {}, 'FILE_EMPTY'],
    ['a header without rows', () => file('header.csv', `${header}\r\n\r\n`), {}, 'FILE_NO_ROWS'],
    ['a missing required column', () => file('cols.csv', 'nik,nama\n3210,Siti\n'), {}, 'HEADER_MISSING_COLUMN'],
    [
      'a file that is no spreadsheet',
      () => file('scan.pdf', Buffer.from([0x25, 0x50, 0x44, 0x46, 0, 1, 2, 3, 0, 0])),
      {},
      'FILE_',
    ],
    ['a file that does not exist', async () => join(dir, 'nowhere.csv'), {}, 'FILE_NOT_FOUND'],
    ['a district outside the program', () => file('u.csv', proposalCsv(families(1))), { district: '9999' }, 'DISTRICT_UNKNOWN'],
    ['a program year not configured', () => file('u.csv', proposalCsv(families(1))), { year: 1999 }, 'PROGRAM_YEAR_UNKNOWN'],
    [
      'a file over the size limit',
      async () => {
        // Sparse: 101 MiB on paper, nothing on disk. Refused from its size, before reading.
        const path = await file('huge.csv', '');
        await truncate(path, 101 * 2 ** 20);
        return path;
      },
      {},
      'FILE_TOO_LARGE',
    ],
  ];
  for (const [what, make, opts, code] of unreadable) {
    it(`exits 1 with a bilingual error for ${what}`, async () => {
      const r = await validate(await make(), { json: true, ...opts });
      expect(r.code).toBe(1);
      const json = ValidateErrorJson.parse(JSON.parse(r.out));
      expect(json.error.code.startsWith(code)).toBe(true);
      expect(json.error.message.id).not.toBe(json.error.message.en);
    });
  }
});

describe('prokus validate (text)', () => {
  it('prints the summary, each rejected row with column and code in Indonesian then English, and what to do next', async () => {
    const csv = damage(proposalCsv(families(3)), 1, 'no_hp', '12345');
    const r = await validate(await file('usulan.csv', csv));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Diterima \/ accepted:\s+2/);
    expect(r.out).toMatch(/Ditolak \/ rejected:\s+1/);
    expect(r.out).toContain('baris/row 3  kolom/column no_hp  PHONE_INVALID');
    const id = r.out.indexOf('No. HP harus nomor seluler Indonesia');
    const en = r.out.indexOf('The phone number must be an Indonesian mobile number');
    expect(id).toBeGreaterThan(0);
    expect(en).toBeGreaterThan(id);
    expect(r.out).toContain('Perbaiki baris yang ditolak');
    expect(r.out).toContain('Not checked: whether a family was already proposed');
  });

  it('marks a note on a rejected row as a note, not as a reason for the rejection', async () => {
    const fs = families(2);
    const f = fs[1] as SyntheticFamily;
    let csv = damage(proposalCsv(fs), 1, 'no_hp', '12345');
    csv = damage(csv, 1, 'jenis_kelamin', f.jenisKelamin === 'L' ? 'P' : 'L');
    const r = await validate(await file('usulan.csv', csv));
    expect(r.out).toContain('baris/row 3  kolom/column no_hp  PHONE_INVALID\n');
    expect(r.out).toContain('baris/row 3  kolom/column jenis_kelamin  SEX_DIFFERS_FROM_NIK  (catatan / note)');
  });

  it('says a clean file is ready, with the upload command', async () => {
    const r = await validate(await file('usulan.csv', proposalCsv(families(2))));
    expect(r.out).toContain('npx prokus upload');
    expect(r.out).not.toContain('baris/row');
  });

  it('explains an unreadable file on stderr in both languages and prints nothing on stdout', async () => {
    const r = await validate(await file('empty.csv', ''));
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toContain('FILE_EMPTY');
    expect(r.err).toContain('Berkas kosong.');
    expect(r.err).toContain('The file is empty.');
  });
});

describe('LineSpool', () => {
  it('moves to a private temporary file past its memory limit, replays in order, and removes the file', async () => {
    const spool = new LineSpool(100);
    const lines = Array.from({ length: 500 }, (_, i) => JSON.stringify({ row: i + 2 }));
    for (const l of lines) spool.push(l);
    const spilled = spool.spillFile as string;
    expect(((await stat(spilled)).mode & 0o777).toString(8)).toBe('600');
    const replayed: string[] = [];
    for await (const l of spool.lines()) replayed.push(l);
    expect(replayed).toEqual(lines);
    await spool.dispose();
    await expect(stat(spilled)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
