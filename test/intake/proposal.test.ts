import { describe, expect, it } from 'vitest';
import {
  alreadyProposed,
  type CheckContext,
  checkProposal,
  checkRow,
  DuplicateTracker,
  normalizePhone,
  PROPOSAL_COLUMNS,
  type ProposalColumn,
  parseRupiah,
  type RowKinds,
} from '#intake/proposal';
import { matchHeader } from '#intake/sheet';
import { personal, proposalRow } from '../helpers/fixtures.ts';

const ctx: CheckContext = { district: '3210', today: new Date('2026-06-15T08:00:00Z') };

const good = proposalRow;

const codesOf = (values: Partial<Record<ProposalColumn, string>>, kinds?: RowKinds) => {
  const r = checkRow(values, ctx, kinds);
  return r.ok ? r.warnings.map((w) => w.code) : r.findings.map((f) => f.code);
};

describe('checkRow', () => {
  it('accepts a complete row and normalises what it keeps', () => {
    const r = checkRow(good, ctx);
    expect(r).toEqual({
      ok: true,
      warnings: [],
      family: {
        ...personal,
        business: { type: 'kuliner', description: 'Keripik singkong', months: 8, monthlyRevenue: 1_500_000 },
      },
    });
  });

  it('keeps the facilitator when the optional pendamping column names one', () => {
    const r = checkRow({ ...good, pendamping: 'Ujang (TKSK Majalengka)' }, ctx);
    expect(r.ok && r.family.pendamping).toBe('Ujang (TKSK Majalengka)');
  });

  it.each([
    ['nik', '3.21001E+15', 'NIK_SCIENTIFIC_NOTATION'],
    ['nik', '3,21001E+15', 'NIK_SCIENTIFIC_NOTATION'],
    ['nik', '321001450895001', 'NIK_NOT_16_DIGITS'],
    ['nik', '3217014508950012', 'NIK_DISTRICT_MISMATCH'],
    ['nik', '3210013508950012', 'NIK_BIRTH_DATE_INVALID'],
    ['nik', '3210014508950000', 'NIK_SERIAL_ZERO'],
    ['no_kk', '3.21001E+15', 'KK_SCIENTIFIC_NOTATION'],
    ['no_kk', '321001', 'KK_NOT_16_DIGITS'],
    ['tanggal_lahir', '31/02/1995', 'BIRTH_DATE_INVALID'],
    ['tanggal_lahir', '08/05/95', 'BIRTH_DATE_INVALID'],
    ['tanggal_lahir', '2030-01-01', 'BIRTH_DATE_INVALID'],
    ['jenis_kelamin', 'W', 'SEX_INVALID'],
    ['no_hp', '021-555-1234', 'PHONE_INVALID'],
    ['no_hp', '0812', 'PHONE_INVALID'],
    ['lama_usaha_bulan', '-1', 'BUSINESS_MONTHS_INVALID'],
    ['lama_usaha_bulan', '1.5', 'BUSINESS_MONTHS_INVALID'],
    ['lama_usaha_bulan', 'satu tahun', 'BUSINESS_MONTHS_INVALID'],
    ['lama_usaha_bulan', '2 tahun', 'BUSINESS_MONTHS_INVALID'],
    ['omzet_bulanan', 'sekitar 2 juta', 'REVENUE_INVALID'],
    ['omzet_bulanan', '-500000', 'REVENUE_INVALID'],
  ] as const)('rejects %s = %j with %s, and says so in both languages', (field, value, code) => {
    const r = checkRow({ ...good, [field]: value }, ctx);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.findings).toEqual([{ code, field, severity: 'error', message: { id: expect.any(String), en: expect.any(String) } }]);
    expect(r.findings[0]?.message.id).not.toBe(r.findings[0]?.message.en);
  });

  it('tells the officer how to stop Excel from turning the NIK into scientific notation', () => {
    const r = checkRow({ ...good, nik: '3.21001E+15' }, ctx);
    expect(r.ok ? '' : r.findings[0]?.message.en).toMatch(/Format the column as Text/);
    expect(r.ok ? '' : r.findings[0]?.message.id).toMatch(/Format kolom sebagai Teks/);
  });

  it('names the NIK district and the uploading district when they differ, and nothing else of the NIK', () => {
    const r = checkRow({ ...good, nik: '3217014508950012' }, ctx);
    const message = r.ok ? '' : (r.findings[0]?.message.en ?? '');
    expect(message).toContain('3217');
    expect(message).toContain('3210');
    expect(message).not.toContain('014508950012');
  });

  it.each(PROPOSAL_COLUMNS.filter((c) => c.required).map((c) => c.name))('requires %s', (field) => {
    const r = checkRow({ ...good, [field]: '   ' }, ctx);
    expect(r.ok ? [] : r.findings).toEqual([expect.objectContaining({ code: 'FIELD_REQUIRED', field })]);
  });

  it('reports every problem of a row at once, in the order of the columns', () => {
    const r = checkRow({ ...good, nik: '123', jenis_kelamin: 'X', omzet_bulanan: 'banyak', desa: '' }, ctx);
    expect(r.ok ? [] : r.findings.map((f) => [f.field, f.code])).toEqual([
      ['nik', 'NIK_NOT_16_DIGITS'],
      ['jenis_kelamin', 'SEX_INVALID'],
      ['desa', 'FIELD_REQUIRED'],
      ['omzet_bulanan', 'REVENUE_INVALID'],
    ]);
  });

  it.each([['1995-08-05'], ['05/08/1995'], ['05-08-1995'], ['5/8/1995']])('reads the birth date %s', (tanggal_lahir) => {
    const r = checkRow({ ...good, tanggal_lahir }, ctx);
    expect(r.ok && r.family.tanggalLahir).toBe('1995-08-05');
  });

  it('accepts with a warning a birth date that differs from the NIK', () => {
    const r = checkRow({ ...good, tanggal_lahir: '06/08/1995' }, ctx);
    expect(r.ok).toBe(true);
    expect(r.ok && r.warnings).toEqual([
      expect.objectContaining({ code: 'BIRTH_DATE_DIFFERS_FROM_NIK', field: 'tanggal_lahir', severity: 'warning' }),
    ]);
    expect(r.ok && r.family.tanggalLahir).toBe('1995-08-06');
  });

  it('accepts with a warning a sex that differs from the NIK', () => {
    expect(codesOf({ ...good, jenis_kelamin: 'L' })).toEqual(['SEX_DIFFERS_FROM_NIK']);
    expect(checkRow({ ...good, jenis_kelamin: 'L' }, ctx).ok).toBe(true);
  });

  it('accepts the abbreviations and words forms use for jenis_kelamin', () => {
    for (const woman of ['Pr', 'PR.', 'wanita', 'Perempuan']) expect(codesOf({ ...good, jenis_kelamin: woman })).toEqual([]);
    for (const man of ['Lk', 'Pria', 'LAKI-LAKI'])
      expect(codesOf({ ...good, jenis_kelamin: man })).toEqual(['SEX_DIFFERS_FROM_NIK']);
  });

  it.each(['18', '18 bulan', '18 Bln', '18bln.'])('reads business age %j as 18 months', (lama_usaha_bulan) => {
    const r = checkRow({ ...good, lama_usaha_bulan }, ctx);
    expect(r.ok && r.family.business.months).toBe(18);
  });

  it('accepts l, p, Laki-laki and Perempuan for jenis_kelamin', () => {
    expect(codesOf({ ...good, jenis_kelamin: 'p' })).toEqual([]);
    expect(codesOf({ ...good, jenis_kelamin: 'Perempuan' })).toEqual([]);
    expect(codesOf({ ...good, jenis_kelamin: 'Laki-laki' })).toEqual(['SEX_DIFFERS_FROM_NIK']);
  });
});

describe('checkRow: text limits', () => {
  it.each([
    ['nama', 100],
    ['alamat', 300],
    ['kecamatan', 100],
    ['desa', 100],
    ['jenis_usaha', 100],
    ['deskripsi_usaha', 1000],
    ['pendamping', 100],
  ] as const)('refuses a %s longer than %i characters, naming the limit and the length', (field, limit) => {
    expect(checkRow({ ...good, [field]: 'a'.repeat(limit) }, ctx).ok).toBe(true);
    const r = checkRow({ ...good, [field]: 'a'.repeat(limit + 1) }, ctx);
    expect(r.ok).toBe(false);
    const finding = !r.ok ? r.findings.find((f) => f.code === 'FIELD_TOO_LONG') : undefined;
    expect(finding).toMatchObject({ field, severity: 'error' });
    expect(finding?.message.en).toContain(`at most ${limit.toLocaleString('en-US')} characters`);
    expect(finding?.message.en).toContain(`has ${(limit + 1).toLocaleString('en-US')}`);
    expect(finding?.message.id).toContain(`paling banyak ${limit.toLocaleString('id-ID')} karakter`);
  });

  it('says how long a 450 KiB address is, without repeating it', () => {
    const r = checkRow({ ...good, alamat: 'Jl. Raya 1'.repeat(46_080) }, ctx);
    expect(r.ok).toBe(false);
    const finding = !r.ok ? r.findings[0] : undefined;
    expect(finding?.code).toBe('FIELD_TOO_LONG');
    expect(finding?.message.en).toContain('460,800');
    expect(JSON.stringify(finding).length).toBeLessThan(400);
  });
});

describe('checkRow: cells from a workbook', () => {
  it('refuses a NIK or KK from a number cell whatever it shows, and says to format the column as Text', () => {
    const r = checkRow({ ...good, nik: '3210014508950012', no_kk: '3210010101090001' }, ctx, { nik: 'number', no_kk: 'number' });
    expect(r.ok ? [] : r.findings.map((f) => f.code)).toEqual(['NIK_NUMERIC_CELL', 'KK_NUMERIC_CELL']);
    expect(r.ok ? '' : r.findings[1]?.message.en).toMatch(/Format the column as Text/);
  });

  it('takes amounts, months and phone numbers from number cells', () => {
    const r = checkRow({ ...good, omzet_bulanan: '1500000.4', lama_usaha_bulan: '8', no_hp: '81234567890' }, ctx, {
      omzet_bulanan: 'number',
      lama_usaha_bulan: 'number',
      no_hp: 'number',
    });
    expect(r.ok && [r.family.business.monthlyRevenue, r.family.business.months, r.family.noHp]).toEqual([
      1_500_000,
      8,
      '+6281234567890',
    ]);
  });

  it('refuses a negative amount from a number cell', () => {
    expect(codesOf({ ...good, omzet_bulanan: '-5' }, { omzet_bulanan: 'number' })).toEqual(['REVENUE_INVALID']);
  });

  it('says a cell shows an Excel error, and only that, for that column', () => {
    expect(codesOf({ ...good, nik: '#N/A', desa: '#REF!' }, { nik: 'error', desa: 'error' })).toEqual([
      'CELL_ERROR_VALUE',
      'CELL_ERROR_VALUE',
    ]);
    expect(codesOf({ ...good, pendamping: '#VALUE!' }, { pendamping: 'error' })).toEqual(['CELL_ERROR_VALUE']);
  });
});

describe('normalizePhone', () => {
  it.each([
    ['0812-3456-7890', '+6281234567890'],
    ['0812 3456 7890', '+6281234567890'],
    ['62 812 3456 7890', '+6281234567890'],
    ['+62 812-3456-7890', '+6281234567890'],
    ['+62 (0)812 3456 7890', '+6281234567890'],
    ["'081234567890", '+6281234567890'],
    ['0812.3456.7890', '+6281234567890'],
    ['6281234567890', '+6281234567890'],
    ['81234567890', '+6281234567890'],
    ['0811223344', '+62811223344'],
  ])('%s → %s', (raw, expected) => {
    expect(normalizePhone(raw)).toBe(expected);
  });

  it.each(['', '0812', '021 5551234', '+1 555 123 4567', '6,28123E+11', '0812345678901234'])('rejects %j', (raw) => {
    expect(normalizePhone(raw)).toBeUndefined();
  });
});

describe('parseRupiah', () => {
  it.each([
    ['1500000', 1_500_000],
    ['1.500.000', 1_500_000],
    ['1,500,000', 1_500_000],
    ['Rp 1.500.000', 1_500_000],
    ['Rp1.500.000', 1_500_000],
    ['Rp. 1.500.000,-', 1_500_000],
    ['Rp 1.500.000,00', 1_500_000],
    ['IDR 1,500,000.00', 1_500_000],
    ['750.000', 750_000],
    ['0', 0],
  ])('%s → %d', (raw, expected) => {
    expect(parseRupiah(raw)).toBe(expected);
  });

  it.each(['', 'Rp', '1.50.000', '1,5 juta', '-1000', '1.500.000.000.000.000.000'])('rejects %j', (raw) => {
    expect(parseRupiah(raw)).toBeUndefined();
  });
});

describe('header matching', () => {
  const template = PROPOSAL_COLUMNS.map((c) => c.name);

  it('ignores case, spaces, dots and underscores', () => {
    const header = [
      'NIK',
      'No. KK',
      'Nama',
      'Tanggal Lahir',
      'JENIS_KELAMIN',
      'alamat',
      'Kecamatan',
      'Desa',
      'No HP',
      'Jenis Usaha',
      'Deskripsi Usaha',
      'Lama Usaha (Bulan)'.replace(/[()]/g, ''),
      'omzet.bulanan',
    ];
    const m = matchHeader(header, PROPOSAL_COLUMNS);
    expect(m.ok && m.index).toMatchObject({ nik: 0, no_kk: 1, tanggal_lahir: 3, no_hp: 8, omzet_bulanan: 12 });
    expect(m.ok && m.index.pendamping).toBeUndefined();
  });

  it('ignores slashes, hyphens, a required-column star and a note in brackets, and knows the usual other names', () => {
    const header = [
      'NIK KTP*',
      'Nomor-KK',
      'Nama KPM',
      'Tanggal Lahir (dd/mm/yyyy)',
      'Jenis Kelamin (L/P)',
      'Alamat Lengkap',
      'KECAMATAN',
      'Kel/Desa',
      'Nomor HP',
      'Jenis Usaha',
      'Deskripsi Usaha',
      'Lama Usaha (bulan)',
      'Omset Bulanan',
      'Pendamping / TKSK',
    ];
    const m = matchHeader(header, PROPOSAL_COLUMNS);
    expect(m.ok && m.index).toEqual(Object.fromEntries(template.map((name, i) => [name, i])));
  });

  it('does not read business age in years as months', () => {
    const header = template.map((c) => (c === 'lama_usaha_bulan' ? 'Lama Usaha (tahun)' : c));
    const m = matchHeader(header, PROPOSAL_COLUMNS);
    expect(m.ok ? '' : m.problem.field).toBe('lama_usaha_bulan');
  });

  it('finds columns in any order', () => {
    const m = matchHeader([...template].reverse(), PROPOSAL_COLUMNS);
    expect(m.ok && m.index.nik).toBe(template.length - 1);
  });

  it('lists unknown extra columns so they can be reported as a warning', () => {
    const m = matchHeader([...template, 'Catatan', ''], PROPOSAL_COLUMNS);
    expect(m.ok && m.unknown).toEqual([{ column: template.length, name: 'Catatan' }]);
  });

  it('names every missing required column in one file-level error', () => {
    const m = matchHeader(
      template.filter((c) => c !== 'no_kk' && c !== 'omzet_bulanan'),
      PROPOSAL_COLUMNS,
    );
    expect(m).toEqual({
      ok: false,
      problem: expect.objectContaining({ code: 'HEADER_MISSING_COLUMN', field: 'no_kk omzet_bulanan' }),
    });
    expect(m.ok ? '' : m.problem.message.en).toContain('no_kk, omzet_bulanan');
  });

  it('does not need the optional pendamping column', () => {
    expect(
      matchHeader(
        template.filter((c) => c !== 'pendamping'),
        PROPOSAL_COLUMNS,
      ).ok,
    ).toBe(true);
  });

  it('refuses a column given twice, since either could be the right one', () => {
    const m = matchHeader([...template, 'N.I.K'], PROPOSAL_COLUMNS);
    expect(m.ok ? '' : m.problem.code).toBe('HEADER_DUPLICATE_COLUMN');
  });
});

describe('duplicates within a file', () => {
  it('rejects a later row with the same NIK or KK, naming the earlier row', () => {
    const seen = new DuplicateTracker();
    expect(seen.check(2, good)).toEqual([]);
    expect(seen.check(3, { ...good, no_kk: '3210010101090002' })).toEqual([
      expect.objectContaining({ code: 'DUPLICATE_IN_FILE', field: 'nik', severity: 'error' }),
    ]);
    const kkTwice = seen.check(7, { ...good, nik: '3210014508950013' });
    expect(kkTwice).toEqual([expect.objectContaining({ code: 'DUPLICATE_IN_FILE', field: 'no_kk' })]);
    expect(kkTwice[0]?.message.en).toContain('row 2');
    expect(kkTwice[0]?.message.id).toContain('baris 2');
  });

  it('sees the same number through apostrophes and spaces', () => {
    const seen = new DuplicateTracker();
    seen.check(2, { nik: "'3210014508950012" });
    expect(seen.check(3, { nik: ' 3210 0145 0895 0012' })).toHaveLength(1);
  });
});

describe('already proposed', () => {
  it('dates the earlier proposal in Jakarta time, where the ministry works', () => {
    const f = alreadyProposed('no_kk', { proposedAt: '2020-03-13T23:30:00.000Z', district: '3210', programYear: 2020 });
    expect(f.message.en).toContain('by 3210 on 2020-03-14');
    expect(f.field).toBe('no_kk');
  });

  it('names the date and district of the earlier proposal, nothing personal', () => {
    const f = alreadyProposed('nik', {
      proposedAt: '2020-03-14T02:00:00.000Z',
      district: '3217',
      districtName: 'Kab. Bandung Barat',
      programYear: 2020,
    });
    expect(f).toMatchObject({ code: 'ALREADY_PROPOSED', field: 'nik', severity: 'error' });
    expect(f.message.en).toBe(
      'This NIK was already proposed for 2020 by Kab. Bandung Barat (3217) on 2020-03-14. A family is proposed only once in a program year.',
    );
    expect(f.message.id).toContain('2020-03-14');
  });

  const earlier = { proposedAt: '2020-03-14T02:00:00.000Z', district: '3217', programYear: 2020 };

  it('says a family that received a grant never receives another, naming the year', () => {
    const f = alreadyProposed('no_kk', earlier, 'granted');
    expect(f).toMatchObject({ code: 'ALREADY_GRANTED', field: 'no_kk', severity: 'error' });
    expect(f.message.en).toBe(
      'The family with this family card number already received a grant in 2020 (proposed by 3217 on 2020-03-14). A family receives a grant only once.',
    );
    expect(f.message.id).toContain('sudah menerima bantuan pada tahun program 2020');
  });

  it("says an earlier year's proposal must end before the family is proposed again", () => {
    const f = alreadyProposed('nik', earlier, 'in-progress');
    expect(f.code).toBe('ALREADY_PROPOSED');
    expect(f.message.en).toContain('already proposed for 2020 by 3217 on 2020-03-14, and that proposal has not ended yet');
    expect(f.message.id).toContain('belum selesai');
  });
});

describe('checkProposal (dry run of a whole file)', () => {
  const header = PROPOSAL_COLUMNS.map((c) => c.name).join(',');
  const line = (v: Record<ProposalColumn, string>) => PROPOSAL_COLUMNS.map((c) => `"${v[c.name]}"`).join(',');

  it('numbers rows as the spreadsheet shows them and counts each status', async () => {
    const csv = [
      header,
      line(good),
      ',,,,,,,,,,,,,',
      line({ ...good, nik: '3210014508950013', no_kk: '3210010101090002', jenis_kelamin: 'L' }),
      line({ ...good, nik: '3.21001E+15', no_kk: '3210010101090003' }),
      line(good),
      '',
    ].join('\n');
    const r = await checkProposal(csv, ctx);
    expect(r.ok && r.rows.map((x) => [x.row, x.status])).toEqual([
      [2, 'accepted'],
      [4, 'warning'],
      [5, 'rejected'],
      [6, 'rejected'],
    ]);
    expect(r.ok && r.summary).toEqual({ accepted: 1, warning: 1, rejected: 2 });
    expect(r.ok && r.rows[3]?.errors.map((e) => e.code)).toEqual(['DUPLICATE_IN_FILE', 'DUPLICATE_IN_FILE']);
  });

  it('rejects a file with a header and no rows', async () => {
    expect(await checkProposal(`${header}\n\n,,,\n`, ctx)).toEqual({
      ok: false,
      problem: expect.objectContaining({ code: 'FILE_NO_ROWS' }),
    });
  });

  it('rejects a file without the template header', async () => {
    const r = await checkProposal('nama,alamat\nSiti,Jl. Merdeka\n', ctx);
    expect(r.ok ? '' : r.problem.code).toBe('HEADER_MISSING_COLUMN');
  });
});
