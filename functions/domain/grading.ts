/**
 * Grading after mentoring: pemula (beginner), berkembang (developing), maju (advanced).
 * Based on the latest milestone report — the practices the family has adopted and how
 * monthly revenue grew against what the proposal stated. Thresholds are program config.
 */
import type { Case, MilestoneReport } from './case.ts';
import type { Bilingual } from './errors.ts';
import type { Grade, ProgramConfig } from './program.ts';

export interface GradeResult {
  grade: Grade;
  reason: Bilingual;
  latest: MilestoneReport;
}

/** The latest report in plan order, or undefined when every milestone was missed. */
export function latestReport(c: Pick<Case, 'milestones'>, config: ProgramConfig): MilestoneReport | undefined {
  let latest: MilestoneReport | undefined;
  for (const m of config.milestones) {
    const record = c.milestones[m.id];
    if (record?.status === 'reported' && record.report) latest = record.report;
  }
  return latest;
}

export function growthPercent(before: number, after: number): number {
  if (before <= 0) return after > 0 ? 100 : 0;
  return Math.round(((after - before) / before) * 100);
}

export function gradeBusiness(c: Pick<Case, 'milestones' | 'business'>, config: ProgramConfig): GradeResult | undefined {
  const latest = latestReport(c, config);
  if (!latest) return undefined;
  const missed = config.milestones.filter((m) => c.milestones[m.id]?.status === 'missed').length;
  const practices = latest.practices.length;
  const growth = growthPercent(c.business.monthlyRevenue, latest.monthlyRevenue);
  const facts = {
    id: `${practices} praktik usaha diterapkan, omzet ${growth >= 0 ? 'naik' : 'turun'} ${Math.abs(growth)}%, ${missed} laporan terlewat`,
    en: `${practices} business practices adopted, revenue ${growth >= 0 ? 'up' : 'down'} ${Math.abs(growth)}%, ${missed} reports missed`,
  };
  const { maju, berkembang } = config.grading;
  if (latest.businessRunning && practices >= maju.minPractices && growth >= maju.minRevenueGrowthPercent) {
    return { grade: 'maju', latest, reason: { id: `Maju: ${facts.id}`, en: `Advanced: ${facts.en}` } };
  }
  if (latest.businessRunning && practices >= berkembang.minPractices) {
    return { grade: 'berkembang', latest, reason: { id: `Berkembang: ${facts.id}`, en: `Developing: ${facts.en}` } };
  }
  const stopped = latest.businessRunning ? '' : ' (usaha tidak berjalan / business not running)';
  return { grade: 'pemula', latest, reason: { id: `Pemula: ${facts.id}${stopped}`, en: `Beginner: ${facts.en}${stopped}` } };
}
