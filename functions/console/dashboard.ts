/**
 * The funnel dashboard: a program year, nationally or for one district, from the funnel
 * counters alone (store/funnel.ts: one Query, whatever the number of cases). Steps
 * reached, exits and their reasons, where families stand now, and the median time they
 * spent in each stage (to its histogram bucket), each as a chart with its table.
 */
import type { Outcome } from '#domain/case';
import type { Bilingual } from '#domain/errors';
import { counter, dwellHistogram, FUNNEL_STEPS, type FunnelCounters, medianBucket, OPEN_STAGES } from '#domain/funnel';
import type { ProgramConfig } from '#domain/program';
import { type Html, html } from '#web/html';
import type { Lang } from '#web/lang';
import type { DwellStage } from './charts.ts';
import { bucketLabel, FAILED, OUTCOMES, STAGES, STEPS, t } from './text.ts';

export interface FunnelLine {
  /** The counter's name (the CSV's key). */
  key: string;
  label: Bilingual;
  count: number;
}

/** The steps in journey order, the program's milestones among them. */
export function funnelLines(counters: FunnelCounters, program: ProgramConfig): FunnelLine[] {
  const lines: FunnelLine[] = [];
  for (const step of FUNNEL_STEPS) {
    lines.push({ key: counter.reached(step), label: STEPS[step], count: counters[counter.reached(step)] ?? 0 });
    if (step === 'disbursed') {
      program.milestones.forEach((m, i) => {
        const key = counter.milestone(m.id);
        lines.push({
          key,
          label: { id: `Tonggak ${i + 1}: ${m.theme.id}`, en: `Milestone ${i + 1}: ${m.theme.en}` },
          count: counters[key] ?? 0,
        });
      });
    }
  }
  return lines;
}

export function exitLines(counters: FunnelCounters): FunnelLine[] {
  return (Object.keys(OUTCOMES) as Outcome[]).map((o) => ({
    key: counter.exit(o),
    label: OUTCOMES[o],
    count: counters[counter.exit(o)] ?? 0,
  }));
}

export function nowLines(counters: FunnelCounters): FunnelLine[] {
  return [
    ...OPEN_STAGES.map((s) => ({ key: counter.now(s), label: STAGES[s], count: counters[counter.now(s)] ?? 0 })),
    { key: counter.failed, label: FAILED, count: counters[counter.failed] ?? 0 },
  ];
}

/** Each open stage's time-in-stage histogram, its buckets named, the median's bucket marked. */
export function dwellStages(counters: FunnelCounters, lang: Lang): DwellStage[] {
  return OPEN_STAGES.map((s) => {
    const histogram = dwellHistogram(counters, s);
    const median = medianBucket(histogram);
    return {
      label: STAGES[s],
      buckets: histogram.map((count, i) => ({ label: bucketLabel(i, lang), count })),
      ...(median === undefined ? {} : { median }),
    };
  });
}

const percent = (n: number, of: number) => (of > 0 ? `${Math.round((n / of) * 1000) / 10}%` : '—');

export function linesTable(lines: readonly FunnelLine[], lang: Lang, of?: number): Html {
  return html`<div class="scroll"><table class="data"><tbody>${lines.map(
    (l) =>
      html`<tr><td>${t(l.label, lang)}</td><td class="n">${l.count.toLocaleString(lang === 'id' ? 'id-ID' : 'en-GB')}</td>${of !== undefined && html`<td class="n">${percent(l.count, of)}</td>`}</tr>`,
  )}</tbody></table></div>`;
}
