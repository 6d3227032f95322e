/**
 * `prokus validate` and `prokus template` as an officer runs them: a separate process
 * through the bin shim, no `prokus dev` needed.
 */
import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PROPOSAL_COLUMNS } from '#intake/proposal';
import {
  proposalCsv,
  proposalRows,
  type SyntheticFamily,
  synthesizeFamilies,
  writeProposalCsv,
  writeProposalXlsx,
} from '../../cli/synthetic.ts';
import { runCommand, shim } from '../helpers/cli.ts';
import { ValidateErrorJson, ValidateJson } from './validate-schema.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prokus-cli-validate-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const run = (exe: string, args: string[]) => runCommand(exe, args, dir);
const prokus = (args: string[]) => run(process.execPath, [shim, ...args]);

function families(n: number): SyntheticFamily[] {
  return [...synthesizeFamilies(n, { districts: ['3210'], ineligibleShare: 0, seed: 5 })];
}

describe('prokus validate', () => {
  it('prints the JSON report of a good file and exits 0, with nothing on stderr', async () => {
    await writeFile(join(dir, 'usulan.csv'), proposalCsv(families(4)));
    const r = await prokus(['validate', 'usulan.csv', '--district', '3210', '--year', '2020', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const json = ValidateJson.parse(JSON.parse(r.stdout));
    expect(json).toMatchObject({ file: 'usulan.csv', district: '3210', summary: { accepted: 4, warning: 0, rejected: 0 } });
    expect(json.rows.map((row) => [row.row, row.status])).toEqual([
      [2, 'accepted'],
      [3, 'accepted'],
      [4, 'accepted'],
      [5, 'accepted'],
    ]);
  });

  it('exits 0 for a file with bad rows and says why each was rejected', async () => {
    // Two damaged copies of the first row appended: Excel's scientific notation, then a short KK.
    await writeFile(join(dir, 'usulan.csv'), proposalCsv(families(3), 2));
    const r = await prokus(['validate', 'usulan.csv', '--district', '3210', '--year', '2020', '--json']);
    expect(r.code).toBe(0);
    const json = ValidateJson.parse(JSON.parse(r.stdout));
    expect(json.summary).toEqual({ accepted: 3, warning: 0, rejected: 2 });
    expect(json.rows[3]).toMatchObject({ row: 5, status: 'rejected' });
    // Each copy also repeats a number of row 2, which is named.
    expect(json.rows[3]?.errors.map((e) => [e.code, e.field])).toEqual([
      ['NIK_SCIENTIFIC_NOTATION', 'nik'],
      ['DUPLICATE_IN_FILE', 'no_kk'],
    ]);
    expect(json.rows[4]?.errors.map((e) => [e.code, e.field])).toEqual([
      ['KK_NOT_16_DIGITS', 'no_kk'],
      ['DUPLICATE_IN_FILE', 'nik'],
    ]);
    expect(json.rows[4]?.errors[1]?.message).toMatchObject({
      id: expect.stringContaining('baris 2'),
      en: expect.stringContaining('row 2'),
    });
  });

  it('prints the text report for people: the rejected row in Indonesian, then English', async () => {
    await writeFile(join(dir, 'usulan.csv'), proposalCsv(families(2), 1));
    const r = await prokus(['validate', 'usulan.csv', '--district', '3210', '--year', '2020']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('baris/row 4  kolom/column nik  NIK_SCIENTIFIC_NOTATION');
    expect(r.stdout).toMatch(/NIK terbaca sebagai angka ilmiah[^\n]*\n\s+The NIK reads as scientific notation/);
  });

  const header = PROPOSAL_COLUMNS.map((c) => c.name).join(';');
  const unreadable: [string, string | Buffer, string[], string][] = [
    ['empty', '', [], 'FILE_EMPTY'],
    ['header only', `\uFEFF${header}\r\n`, [], 'FILE_NO_ROWS'],
    ['missing a required column', 'nik;nama\r\n3210;Siti\r\n', [], 'HEADER_MISSING_COLUMN'],
    ['not a spreadsheet', Buffer.from('%PDF-1.7\n\u0000\u0001binary'), [], 'FILE_'],
    ['for an unknown district', 'nik;nama\r\n', ['--district', '0000'], 'DISTRICT_UNKNOWN'],
  ];
  it('exits 1 with FILE_TOO_LARGE for a file over the size limit, without reading it', async () => {
    await writeFile(join(dir, 'huge.csv'), '');
    await truncate(join(dir, 'huge.csv'), 101 * 2 ** 20);
    const r = await prokus(['validate', 'huge.csv', '--district', '3210', '--year', '2020', '--json']);
    expect(r.code).toBe(1);
    expect(ValidateErrorJson.parse(JSON.parse(r.stdout)).error.code).toBe('FILE_TOO_LARGE');
  });

  it('checks an XLSX workbook the same way', async () => {
    await writeProposalXlsx(
      join(dir, 'usulan.xlsx'),
      proposalRows(families(3), { format: 'xlsx', damagedShare: 0, warningShare: 0 }),
    );
    const r = await prokus(['validate', 'usulan.xlsx', '--district', '3210', '--year', '2020', '--json']);
    expect(r.code).toBe(0);
    const json = ValidateJson.parse(JSON.parse(r.stdout));
    expect(json).toMatchObject({ format: 'xlsx', summary: { accepted: 3, warning: 0, rejected: 0 } });
  });

  for (const [what, content, extra, code] of unreadable) {
    it(`exits 1 with {"error": {code, message}} for a file ${what}`, async () => {
      await writeFile(join(dir, 'f.csv'), content);
      const args = ['validate', 'f.csv', '--district', '3210', '--year', '2020', '--json', ...extra];
      const r = await prokus(args);
      expect(r.code).toBe(1);
      const json = ValidateErrorJson.parse(JSON.parse(r.stdout));
      expect(json.error.code.startsWith(code)).toBe(true);
    });
  }

  it('shows no progress bar when stderr is not a terminal, even for a large file', async () => {
    await writeProposalCsv(
      join(dir, 'besar.csv'),
      proposalRows(synthesizeFamilies(6000, { districts: ['3210'] }), { format: 'csv' }),
    );
    const r = await prokus(['validate', 'besar.csv', '--district', '3210', '--year', '2020', '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(ValidateJson.parse(JSON.parse(r.stdout)).rows).toHaveLength(6000);
  });

  it('shows a progress bar on a terminal while the JSON on stdout stays clean', async () => {
    await writeProposalCsv(
      join(dir, 'besar.csv'),
      proposalRows(synthesizeFamilies(6000, { districts: ['3210'] }), { format: 'csv' }),
    );
    // `script` gives the command a terminal; stdout goes to a file as an officer would redirect it.
    const command = `'${process.execPath}' '${shim}' validate besar.csv --district 3210 --year 2020 --json > out.json`;
    const r = await run('script', ['-qefc', command, '/dev/null']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Memeriksa / checking');
    const json = ValidateJson.parse(JSON.parse(await readFile(join(dir, 'out.json'), 'utf8')));
    expect(json.rows).toHaveLength(6000);
  });
});

describe('prokus template', () => {
  it('writes the XLSX template, then refuses to overwrite it in both languages', async () => {
    const first = await prokus(['template']);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('templat-usulan-prokus.xlsx');
    const bytes = await readFile(join(dir, 'templat-usulan-prokus.xlsx'));
    expect(bytes.subarray(0, 2).toString()).toBe('PK');
    const again = await prokus(['template']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('sudah ada');
    expect(again.stderr).toContain('already exists');
  });

  it('writes the CSV template that validate reads without a file-level error', async () => {
    const made = await prokus(['template', '--out', 'templat.csv']);
    expect(made.code).toBe(0);
    const r = await prokus(['validate', 'templat.csv', '--district', '3210', '--year', '2020', '--json']);
    expect(r.code).toBe(0);
    const json = ValidateJson.parse(JSON.parse(r.stdout));
    expect(json.rows).toEqual([expect.objectContaining({ row: 2, status: 'rejected' })]);
  });
});
