import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ageOn, cleanIdNumber, isScientificNotation, maskId, parseNik } from '#domain/nik';
import { checkRow } from '#intake/proposal';
import { parseDate, serialToIsoDate } from '#intake/sheet';

const TODAY = new Date('2026-06-15T08:00:00Z');
const pad = (n: number, width: number) => String(n).padStart(width, '0');

/** A NIK from its parts, the way Dukcapil writes it: PPKKCC DDMMYY SSSS, day + 40 for women. */
function nikOf(p: { district: string; subDistrict: number; birth: Date; sex: 'L' | 'P'; serial: number }): string {
  const day = p.birth.getUTCDate() + (p.sex === 'P' ? 40 : 0);
  return `${p.district}${pad(p.subDistrict, 2)}${pad(day, 2)}${pad(p.birth.getUTCMonth() + 1, 2)}${pad(
    p.birth.getUTCFullYear() % 100,
    2,
  )}${pad(p.serial, 4)}`;
}

const iso = (d: Date) => d.toISOString().slice(0, 10);

// Birth dates the two-digit year can express unambiguously on TODAY: the last 100 years.
const birthDates = fc
  .date({ min: new Date('1926-06-16T00:00:00Z'), max: new Date('2026-06-15T00:00:00Z'), noInvalidDate: true })
  .map((d) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate())));

const parts = fc.record({
  district: fc.integer({ min: 1101, max: 9499 }).map(String),
  subDistrict: fc.integer({ min: 1, max: 99 }),
  birth: birthDates,
  sex: fc.constantFrom('L' as const, 'P' as const),
  serial: fc.integer({ min: 1, max: 9999 }),
});

describe('parseNik (properties)', () => {
  it('reads back the district, birth date and sex of any valid NIK built from its parts', () => {
    fc.assert(
      fc.property(parts, (p) => {
        const nik = nikOf(p);
        expect(parseNik(nik, p.district, TODAY)).toEqual({
          ok: true,
          value: { nik, district: p.district, birthDate: iso(p.birth), sex: p.sex },
        });
      }),
    );
  });

  it("encodes women's birth day as day + 40, and the same date reads back for both sexes", () => {
    fc.assert(
      fc.property(parts, (p) => {
        const woman = nikOf({ ...p, sex: 'P' });
        const man = nikOf({ ...p, sex: 'L' });
        expect(Number(woman.slice(6, 8))).toBe(p.birth.getUTCDate() + 40);
        const w = parseNik(woman, p.district, TODAY);
        const m = parseNik(man, p.district, TODAY);
        expect(w.ok && w.value.sex).toBe('P');
        expect(m.ok && m.value.sex).toBe('L');
        expect(w.ok && w.value.birthDate).toBe(m.ok && m.value.birthDate);
      }),
    );
  });

  it('reads through what officers add against Excel: apostrophe, spaces, dots and dashes', () => {
    const decorate = fc.tuple(fc.constantFrom('', "'", '\u2019'), fc.constantFrom('', ' '), fc.constantFrom('', ' ', '.', '-'));
    fc.assert(
      fc.property(parts, decorate, (p, [quote, outer, inner]) => {
        const nik = nikOf(p);
        const typed = `${outer}${quote}${nik.slice(0, 6)}${inner}${nik.slice(6, 12)}${inner}${nik.slice(12)}${outer}`;
        const r = parseNik(typed, p.district, TODAY);
        expect(r.ok && r.value.nik).toBe(nik);
      }),
    );
  });

  it('rejects a NIK with a digit added or removed anywhere', () => {
    fc.assert(
      fc.property(parts, fc.integer({ min: 0, max: 15 }), fc.boolean(), fc.integer({ min: 0, max: 9 }), (p, at, add, digit) => {
        const nik = nikOf(p);
        const changed = add ? `${nik.slice(0, at)}${digit}${nik.slice(at)}` : `${nik.slice(0, at)}${nik.slice(at + 1)}`;
        expect(parseNik(changed, p.district, TODAY)).toEqual({ ok: false, problem: 'NIK_NOT_16_DIGITS' });
      }),
    );
  });

  it('rejects serial 0000', () => {
    fc.assert(
      fc.property(parts, (p) => {
        expect(parseNik(nikOf({ ...p, serial: 0 }), p.district, TODAY)).toEqual({ ok: false, problem: 'NIK_SERIAL_ZERO' });
      }),
    );
  });

  it('rejects a NIK proposed by any other district', () => {
    fc.assert(
      fc.property(parts, fc.integer({ min: 1101, max: 9499 }).map(String), (p, other) => {
        fc.pre(other !== p.district);
        expect(parseNik(nikOf(p), other, TODAY)).toEqual({ ok: false, problem: 'NIK_DISTRICT_MISMATCH' });
      }),
    );
  });

  it('rejects birth-date digits no one can have: day 00, 32-40, 72 and above; month 00 or above 12', () => {
    const badDay = fc.oneof(fc.constant(0), fc.integer({ min: 32, max: 40 }), fc.integer({ min: 72, max: 99 }));
    const badMonth = fc.oneof(fc.constant(0), fc.integer({ min: 13, max: 99 }));
    fc.assert(
      fc.property(parts, badDay, badMonth, fc.boolean(), (p, day, month, breakDay) => {
        const nik = nikOf(p);
        const changed = breakDay
          ? `${nik.slice(0, 6)}${pad(day, 2)}${nik.slice(8)}`
          : `${nik.slice(0, 8)}${pad(month, 2)}${nik.slice(10)}`;
        expect(parseNik(changed, p.district, TODAY)).toEqual({ ok: false, problem: 'NIK_BIRTH_DATE_INVALID' });
      }),
    );
  });

  it('recognises any NIK Excel turned into scientific notation, in English or Indonesian locale', () => {
    fc.assert(
      fc.property(parts, fc.integer({ min: 1, max: 14 }), fc.boolean(), (p, digits, comma) => {
        const shown = Number(nikOf(p)).toExponential(digits).toUpperCase();
        const typed = comma ? shown.replace('.', ',') : shown;
        expect(parseNik(typed, p.district, TODAY)).toEqual({ ok: false, problem: 'NIK_SCIENTIFIC_NOTATION' });
      }),
    );
  });
});

describe('NIKs Excel has stored as numbers (properties)', () => {
  /** What a numeric cell keeps of a 16-digit number: 15 significant digits. */
  const excelNumber = (digits: string) => Number(Number(digits).toPrecision(15));
  const ctx = { district: '', today: TODAY };
  const row = (nik: string) => ({
    nik,
    no_kk: '3210010101090001',
    nama: 'Siti',
    tanggal_lahir: '1995-08-05',
    jenis_kelamin: 'P',
    alamat: 'Jl. Merdeka',
    kecamatan: 'Majalengka',
    desa: 'Cicurug',
    no_hp: '081234567890',
    jenis_usaha: 'kuliner',
    deskripsi_usaha: 'Keripik',
    lama_usaha_bulan: '8',
    omzet_bulanan: '1500000',
  });

  it('refuses any NIK read from a number cell, also when its 16 digits still parse as a valid NIK', () => {
    fc.assert(
      fc.property(parts, (p) => {
        const nik = nikOf(p);
        const shown = String(excelNumber(nik));
        const r = checkRow(row(shown), { ...ctx, district: p.district }, { nik: 'number' });
        expect(r.ok ? [] : r.findings.map((f) => f.code)).toContain('NIK_NUMERIC_CELL');
        // The same digits typed as text are a NIK like any other (when Excel's rounding left them valid).
        const asText = checkRow(row(shown), { ...ctx, district: p.district });
        if (parseNik(shown, p.district, TODAY).ok)
          expect(asText.ok ? [] : asText.findings.map((f) => f.code)).not.toContain('NIK_NUMERIC_CELL');
      }),
    );
  });

  it('refuses every way a CSV shows a number Excel stored: scientific notation with a dot or a comma, any precision', () => {
    fc.assert(
      fc.property(
        parts,
        fc.integer({ min: 0, max: 15 }),
        fc.boolean(),
        fc.constantFrom('E+', 'e+', 'E'),
        (p, digits, comma, e) => {
          const [mantissa, exponent] = excelNumber(nikOf(p)).toExponential(digits).split('e+');
          const shown = `${comma ? mantissa?.replace('.', ',') : mantissa}${e}${exponent}`;
          expect(parseNik(shown, p.district, TODAY)).toEqual({ ok: false, problem: 'NIK_SCIENTIFIC_NOTATION' });
        },
      ),
    );
  });
});

describe('calendar arithmetic (properties)', () => {
  const reference = (y: number, m: number, d: number) => {
    const date = new Date(Date.UTC(y, m - 1, d));
    return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d
      ? date.toISOString().slice(0, 10)
      : undefined;
  };

  it('parseDate agrees with the calendar for every day, month and year written day first', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1000, max: 9999 }),
        fc.integer({ min: 0, max: 13 }),
        fc.integer({ min: 0, max: 32 }),
        (y, m, d) => {
          const expected = m >= 1 && m <= 12 && d >= 1 ? reference(y, m, d) : undefined;
          expect(parseDate(`${pad(d, 2)}/${pad(m, 2)}/${y}`)).toBe(expected);
          expect(parseDate(`${y}-${pad(m, 2)}-${pad(d, 2)}`)).toBe(expected);
        },
      ),
    );
  });

  it("serialToIsoDate agrees with the calendar from 1 March 1900 on (Excel's serial 61)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 61, max: 2_958_465 }), fc.double({ min: 0, max: 0.999, noNaN: true }), (serial, time) => {
        const expected = new Date(Date.UTC(1899, 11, 30) + serial * 86_400_000).toISOString().slice(0, 10);
        expect(serialToIsoDate(serial + time)).toBe(expected);
      }),
    );
  });
});

describe('parseNik (examples)', () => {
  it('reads the structure of a Majalengka NIK of a woman born 5 August 1995', () => {
    expect(parseNik('3210014508950012', '3210', TODAY)).toEqual({
      ok: true,
      value: { nik: '3210014508950012', district: '3210', birthDate: '1995-08-05', sex: 'P' },
    });
  });

  it('rejects 29 February in a year that has none, accepts it in a leap year', () => {
    expect(parseNik('3210012902010001', '3210', TODAY)).toEqual({ ok: false, problem: 'NIK_BIRTH_DATE_INVALID' });
    expect(parseNik('3210012902000001', '3210', TODAY)).toMatchObject({ ok: true, value: { birthDate: '2000-02-29' } });
  });

  it('puts a two-digit year in the last century when this century would be in the future', () => {
    // 20 December of '26 is still ahead on 15 June 2026: the person was born in 1926.
    expect(parseNik('3210012012260001', '3210', TODAY)).toMatchObject({ ok: true, value: { birthDate: '1926-12-20' } });
    expect(parseNik('3210011001260001', '3210', TODAY)).toMatchObject({ ok: true, value: { birthDate: '2026-01-10' } });
  });

  it('treats letters, an empty cell and 15 digits as not being a NIK', () => {
    for (const raw of ['', '32100145O8950012', '321001450895001', 'NIK']) {
      expect(parseNik(raw, '3210', TODAY)).toEqual({ ok: false, problem: 'NIK_NOT_16_DIGITS' });
    }
  });
});

describe('identity helpers', () => {
  it('cleanIdNumber strips a leading apostrophe and separators but keeps digits', () => {
    expect(cleanIdNumber(" '3210 0145-0895.0012 ")).toBe('3210014508950012');
    // Copied from a chat or a web page: invisible characters around and inside.
    expect(cleanIdNumber("\u200b'3210014508950012\u00a0")).toBe('3210014508950012');
    expect(cleanIdNumber('32100145\u200b08950012\ufeff')).toBe('3210014508950012');
  });

  it('isScientificNotation does not mistake a real NIK or KK for one', () => {
    expect(isScientificNotation('3210014508950012')).toBe(false);
    expect(isScientificNotation('3.21001E+15')).toBe(true);
    expect(isScientificNotation('3,21001E+15')).toBe(true);
    expect(isScientificNotation("'3.21001e15")).toBe(true);
  });

  it('maskId shows the district and the last four digits only', () => {
    expect(maskId('3210014508950012')).toBe('3210********0012');
    fc.assert(
      fc.property(fc.stringMatching(/^\d{16}$/), (id) => {
        const masked = maskId(id);
        expect(masked).toHaveLength(16);
        expect(masked.slice(4, 12)).toBe('********');
      }),
    );
  });

  it('ageOn counts whole years, a birthday not yet reached this year included', () => {
    expect(ageOn('1995-08-05', new Date('2026-08-04T00:00:00Z'))).toBe(30);
    expect(ageOn('1995-08-05', new Date('2026-08-05T00:00:00Z'))).toBe(31);
  });
});
