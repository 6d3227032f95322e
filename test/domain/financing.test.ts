import { describe, expect, it } from 'vitest';
import { chooseScheme } from '#domain/financing';
import { ProgramConfig, programFor } from '#domain/program';

const config = programFor(2020);

describe('chooseScheme', () => {
  it('refers an advanced business with enough revenue to KUR', () => {
    const c = chooseScheme({ grade: 'maju', monthlyRevenue: 4_000_000, sex: 'L' }, config);
    expect(c.scheme.id).toBe('kur');
    expect(c.reason.en).toContain('ceiling Rp50.000.000');
  });

  it('refers a developing business to UMi when revenue allows, else a woman-led one to PNM Mekaar', () => {
    expect(chooseScheme({ grade: 'berkembang', monthlyRevenue: 1_500_000, sex: 'L' }, config).scheme.id).toBe('umi');
    expect(chooseScheme({ grade: 'berkembang', monthlyRevenue: 500_000, sex: 'P' }, config).scheme.id).toBe('mekaar');
  });

  it('falls back to the cooperative when no other scheme fits', () => {
    expect(chooseScheme({ grade: 'pemula', monthlyRevenue: 500_000, sex: 'L' }, config).scheme.id).toBe('koperasi');
  });

  it('refuses a program configuration without a fallback scheme', () => {
    const raw = structuredClone(config) as unknown as { financingSchemes: unknown[]; deadlines: Record<string, string> };
    const broken = {
      ...raw,
      deadlines: { grantApproval: '14d', escalateAfter: '5d', financingOutcome: '21d', reminderEvery: '3d' },
      milestones: config.milestones.map((m) => ({ ...m, due: '30d' })),
      financingSchemes: config.financingSchemes.filter((s) => s.id !== 'koperasi'),
    };
    const parsed = ProgramConfig.safeParse(broken);
    expect(parsed.error?.issues.map((i) => i.message)).toEqual(['one financing scheme must accept every family (the fallback)']);
  });
});
