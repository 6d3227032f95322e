import { describe, expect, it } from 'vitest';
import { assessEligibility } from '#domain/eligibility';
import { programFor } from '#domain/program';
import type { RegistryEntry } from '#domain/registry-entry';

const config = programFor(2020);
const today = new Date('2026-01-10T00:00:00Z');
const graduated: RegistryEntry = { nikHash: 'h', graduatedOn: '2019-06-30', decile: 2, importedAt: '2026-01-01T00:00:00Z' };

function assess(overrides: Partial<Parameters<typeof assessEligibility>[0]> = {}) {
  return assessEligibility(
    { registry: graduated, birthDate: '1995-08-05', businessMonths: 8, programYear: 2020, today, ...overrides },
    config,
  );
}

describe('assessEligibility', () => {
  it('accepts a graduated family in an allowed decile, under the age limit, with a running business', () => {
    const a = assess();
    expect(a).toMatchObject({ eligible: true, reasons: [] });
    expect(a.explanation.every((line) => line.en.startsWith('✓'))).toBe(true);
    expect(a.explanation.map((l) => l.id).join(' ')).toContain('Graduasi PKH pada 2019-06-30');
  });

  it('rejects a family that is not in the PKH graduation registry', () => {
    expect(assess({ registry: undefined }).reasons).toEqual(['NOT_IN_PKH_REGISTRY']);
  });

  it('rejects a family that has not graduated yet', () => {
    expect(assess({ registry: { ...graduated, graduatedOn: undefined } }).reasons).toEqual(['NOT_GRADUATED']);
  });

  it('applies the allowed deciles of the program year (2020: 1-4, 2024: 1-2)', () => {
    expect(assess({ registry: { ...graduated, decile: 3 } }).eligible).toBe(true);
    const in2024 = assessEligibility(
      { registry: { ...graduated, decile: 3 }, birthDate: '1995-08-05', businessMonths: 8, programYear: 2024, today },
      programFor(2024),
    );
    expect(in2024.reasons).toEqual(['DECILE_NOT_ALLOWED']);
  });

  it('applies the age limit on the day of verification (40 means under 40)', () => {
    expect(assess({ birthDate: '1986-01-11' }).eligible).toBe(true); // 39 the day before the 40th birthday
    expect(assess({ birthDate: '1986-01-10' }).reasons).toEqual(['OVER_AGE_LIMIT']);
  });

  it('requires a business start-up of at least the configured months', () => {
    expect(assess({ businessMonths: 0 }).reasons).toEqual(['NO_BUSINESS_STARTUP']);
  });

  it('rejects an earlier Prokus recipient and lists every failed rule with an explanation', () => {
    const a = assess({ registry: { ...graduated, decile: 7, previousGrantYear: 2019 }, businessMonths: 0 });
    expect(a.reasons).toEqual(['DECILE_NOT_ALLOWED', 'PREVIOUS_RECIPIENT', 'NO_BUSINESS_STARTUP']);
    expect(a.explanation.filter((l) => l.en.startsWith('✗'))).toHaveLength(3);
    expect(a.explanation.find((l) => l.en.includes('grant in 2019'))?.id).toContain('Sudah menerima bantuan Prokus tahun 2019');
  });
});
