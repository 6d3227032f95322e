import { describe, expect, it } from 'vitest';
import type { MilestoneReport } from '#domain/case';
import { gradeBusiness, growthPercent } from '#domain/grading';
import { programFor } from '#domain/program';

const config = programFor(2020);
const business = { type: 'kuliner', description: 'Keripik', months: 8, monthlyRevenue: 1_000_000 };
const report = (r: Partial<MilestoneReport>): MilestoneReport => ({
  businessRunning: true,
  monthlyRevenue: 1_000_000,
  practices: [],
  notes: '',
  ...r,
});
const at = '2026-02-01T00:00:00Z';

describe('gradeBusiness', () => {
  it('grades maju with enough practices and revenue growth, explaining why', () => {
    const g = gradeBusiness(
      {
        business,
        milestones: {
          'pemisahan-keuangan': { status: 'reported', at, report: report({ practices: ['separatesBusinessMoney'] }) },
          'kemasan-merek': { status: 'missed', at },
          'pemasaran-daring': {
            status: 'reported',
            at,
            report: report({
              monthlyRevenue: 1_300_000,
              practices: ['separatesBusinessMoney', 'packagingAndBranding', 'sellsOnline', 'keepsBookkeeping'],
            }),
          },
        },
      },
      config,
    );
    expect(g?.grade).toBe('maju');
    expect(g?.reason.en).toBe('Advanced: 4 business practices adopted, revenue up 30%, 1 reports missed');
    expect(g?.reason.id).toContain('omzet naik 30%');
  });

  it('uses the latest report in plan order, not the best one', () => {
    const g = gradeBusiness(
      {
        business,
        milestones: {
          'pemisahan-keuangan': {
            status: 'reported',
            at,
            report: report({
              monthlyRevenue: 2_000_000,
              practices: ['separatesBusinessMoney', 'packagingAndBranding', 'sellsOnline', 'keepsBookkeeping'],
            }),
          },
          'kemasan-merek': { status: 'reported', at, report: report({ practices: ['separatesBusinessMoney', 'sellsOnline'] }) },
        },
      },
      config,
    );
    expect(g?.grade).toBe('berkembang');
  });

  it('grades pemula when the business stopped, whatever the practices', () => {
    const g = gradeBusiness(
      {
        business,
        milestones: {
          'pemisahan-keuangan': {
            status: 'reported',
            at,
            report: report({ businessRunning: false, practices: ['separatesBusinessMoney', 'packagingAndBranding'] }),
          },
        },
      },
      config,
    );
    expect(g?.grade).toBe('pemula');
    expect(g?.reason.en).toContain('business not running');
  });

  it('returns nothing to grade when every milestone was missed', () => {
    const missed = { status: 'missed' as const, at };
    expect(
      gradeBusiness({ business, milestones: { 'pemisahan-keuangan': missed, 'kemasan-merek': missed } }, config),
    ).toBeUndefined();
  });

  it('computes growth from a zero baseline without dividing by zero', () => {
    expect(growthPercent(0, 500_000)).toBe(100);
    expect(growthPercent(0, 0)).toBe(0);
    expect(growthPercent(1_000_000, 800_000)).toBe(-20);
  });
});
