/**
 * The console's charts: the journey funnel (how many families reached each step, and how
 * many left it at each exit) and the time spent per stage. SVG with presentation attributes
 * only (the pages allow one stylesheet and no script), a viewBox 360 units wide drawn at
 * width="100%" so a phone 390 px wide shows the text at about its size, and a data table
 * beside each chart for screen readers and for copying into a spreadsheet.
 *
 * d3-scale gives the linear scale and its "nice" ticks (0, 250, 500, … rather than 0, 237,
 * 474) and the band scale of the histograms; nothing else of d3 is needed on a server.
 */
import { scaleBand, scaleLinear } from 'd3-scale';
import type { Bilingual } from '#domain/errors';
import { type Html, html } from '#web/html';
import type { Lang } from './graph.ts';
import { textWidth } from './measure.ts';

/** A label already in both languages, or one that is the same in both (a stage or scheme name). */
export type Text = string | Bilingual;

export interface FunnelBar {
  label: Text;
  /** Families (cases) that reached the step, or left the journey at the exit. */
  count: number;
}

export interface DwellStage {
  label: Text;
  /** The histogram: how many families spent each bucket's time in the stage. */
  buckets: { label: Text; count: number }[];
  /** The bucket the median falls in (an index into `buckets`). */
  median?: number;
}

const say = (t: Text, lang: Lang) => (typeof t === 'string' ? t : t[lang]);
const locale = (lang: Lang) => (lang === 'id' ? 'id-ID' : 'en-GB');
const number = (n: number, lang: Lang) => n.toLocaleString(locale(lang));
/** A count as drawn: negative or not a number is a caller's mistake and draws as none. */
const clean = (n: number) => (Number.isFinite(n) && n > 0 ? Math.round(n) : 0);

/** 61,7 % (Indonesian) / 61.7% (English); a dash when there is no first step to compare with. */
export function percent(part: number, whole: number, lang: Lang): string {
  if (whole <= 0) return '–';
  const value = ((100 * part) / whole).toLocaleString(locale(lang), { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  return lang === 'id' ? `${value} %` : `${value}%`;
}

const WIDTH = 360;
const INK = '#1b1b1b';
const MUTED = '#4a4a4a';
const GRID = '#d6d6d6';
const STEP_FILL = '#0b5e3c';
const EXIT_FILL = '#8a4b00';
const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', sans-serif";

function clip(text: string, size: number, max: number): string {
  if (textWidth(text, size) <= max) return text;
  let out = text;
  while (out.length > 1 && textWidth(`${out}…`, size) > max) out = out.slice(0, -1);
  return `${out}…`;
}

const WORDS = {
  funnel: { id: 'Corong perjalanan', en: 'Journey funnel' },
  exits: { id: 'Keluar dari perjalanan', en: 'Left the journey' },
  step: { id: 'Tahap', en: 'Step' },
  exit: { id: 'Jalan keluar', en: 'Exit' },
  count: { id: 'Jumlah keluarga', en: 'Families' },
  share: { id: '% dari tahap pertama', en: '% of the first step' },
  dwell: { id: 'Lama di tiap tahap', en: 'Time spent per stage' },
  stage: { id: 'Tahap', en: 'Stage' },
  median: { id: 'median', en: 'median' },
  table: { id: 'Tabel data', en: 'Data table' },
  none: { id: 'Belum ada data.', en: 'No data yet.' },
} satisfies Record<string, Bilingual>;

/** The opening tag; each chart closes it after its parts. */
const svgOpen = (height: number, label: string): Html =>
  html`<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 ${WIDTH} ${height}" width="100%" role="img" aria-label="${label}" font-family="${FONT}">`;

// ---- Funnel ----

const BAR_H = 18;
const ROW_H = 44;
const LEFT = 8;
const RIGHT = WIDTH - 8;

function bars(items: FunnelBar[], first: number, x: (n: number) => number, top: number, fill: string, lang: Lang): Html[] {
  return items.map((item, i) => {
    const count = clean(item.count);
    const label = say(item.label, lang);
    const y = top + i * ROW_H;
    const end = x(count);
    const value = `${number(count, lang)} · ${percent(count, first, lang)}`;
    const valueWidth = textWidth(value, 12) + 8;
    // The value sits after the bar, or inside its end in white when the bar leaves no room.
    const inside = end + valueWidth > RIGHT;
    const valueAt = inside ? end - 6 : end + 6;
    return html`<g><title>${label}: ${value}</title><text x="${LEFT}" y="${y + 13}" font-size="13" fill="${INK}">${clip(label, 13, RIGHT - LEFT)}</text><rect x="${LEFT}" y="${y + 19}" width="${Math.max(0, round(end - LEFT))}" height="${BAR_H}" rx="2" fill="${fill}"/><text x="${round(valueAt)}" y="${y + 32}" font-size="12" font-weight="700" text-anchor="${inside ? 'end' : 'start'}" fill="${inside ? '#ffffff' : INK}">${value}</text></g>`;
  });
}

const round = (n: number) => Math.round(n * 10) / 10;

/**
 * Horizontal bars, one per step, the percentage of the first step on each; the exits, if
 * any, as a second group of bars in another colour on the same scale. A data table under it.
 */
export function funnelChart(steps: FunnelBar[], lang: Lang, exits: FunnelBar[] = []): Html {
  if (steps.length === 0) return html`<p>${WORDS.none[lang]}</p>`;
  const first = clean(steps[0]?.count ?? 0);
  const max = Math.max(1, ...steps.map((s) => clean(s.count)), ...exits.map((e) => clean(e.count)));
  const x = scaleLinear().domain([0, max]).nice(4).range([LEFT, RIGHT]);
  const ticks = x.ticks(4);
  const axisH = 22;
  const stepsTop = axisH + 4;
  const exitsHeading = stepsTop + steps.length * ROW_H + 10;
  const exitsTop = exitsHeading + 12;
  const height = exits.length > 0 ? exitsTop + exits.length * ROW_H + 6 : stepsTop + steps.length * ROW_H + 6;

  const grid = ticks.map((t) => {
    const at = round(x(t));
    const anchor = t === 0 ? 'start' : at > RIGHT - 20 ? 'end' : 'middle';
    return html`<line x1="${at}" y1="${axisH - 4}" x2="${at}" y2="${height - 4}" stroke="${GRID}" stroke-width="1"/><text x="${at}" y="${axisH - 8}" font-size="12" text-anchor="${anchor}" fill="${MUTED}">${number(t, lang)}</text>`;
  });
  const list = (items: FunnelBar[]) => items.map((b) => `${say(b.label, lang)} ${number(clean(b.count), lang)}`).join(', ');
  const label = `${WORDS.funnel[lang]}: ${list(steps)}${exits.length > 0 ? `; ${WORDS.exits[lang]}: ${list(exits)}` : ''}`;
  return html`<figure class="chart">
${svgOpen(height, label)}
${grid}
${bars(steps, first, x, stepsTop, STEP_FILL, lang)}
${exits.length > 0 && html`<text x="${LEFT}" y="${exitsHeading}" font-size="13" font-weight="700" fill="${EXIT_FILL}">${WORDS.exits[lang]}</text>`}
${bars(exits, first, x, exitsTop, EXIT_FILL, lang)}
</svg>
<details><summary>${WORDS.table[lang]}</summary>${funnelTable(steps, lang, exits)}</details>
</figure>`;
}

/** The funnel's numbers as a table: step, families, % of the first step; the exits under their own heading row. */
export function funnelTable(steps: FunnelBar[], lang: Lang, exits: FunnelBar[] = []): Html {
  const first = clean(steps[0]?.count ?? 0);
  const row = (b: FunnelBar) =>
    html`<tr><th scope="row">${say(b.label, lang)}</th><td class="n">${number(clean(b.count), lang)}</td><td class="n">${percent(clean(b.count), first, lang)}</td></tr>`;
  return html`<table class="chart-data">
<caption>${WORDS.funnel[lang]}</caption>
<thead><tr><th scope="col">${WORDS.step[lang]}</th><th scope="col">${WORDS.count[lang]}</th><th scope="col">${WORDS.share[lang]}</th></tr></thead>
<tbody>${steps.map(row)}</tbody>
${exits.length > 0 && html`<tbody><tr><th scope="rowgroup" colspan="3">${WORDS.exits[lang]}</th></tr>${exits.map(row)}</tbody>`}
</table>`;
}

// ---- Time spent per stage ----

const MULTIPLE_H = 118;
const HIST_TOP = 26;
const HIST_H = 56;
const MEDIAN_FILL = '#0b5e3c';
const BUCKET_FILL = '#9cc9b2';

/**
 * Small multiples, one histogram per stage (how long families stayed, by bucket), the
 * median's bucket dark and named. Each stage on its own scale: the shape matters here, and
 * the counts are written on the bars.
 */
export function dwellChart(stages: DwellStage[], lang: Lang): Html {
  if (stages.length === 0) return html`<p>${WORDS.none[lang]}</p>`;
  const height = stages.length * MULTIPLE_H + 4;
  const multiples = stages.map((stage, i) => {
    const top = i * MULTIPLE_H;
    const counts = stage.buckets.map((b) => clean(b.count));
    const total = counts.reduce((a, b) => a + b, 0);
    const x = scaleBand<number>()
      .domain(stage.buckets.map((_, j) => j))
      .range([LEFT, RIGHT])
      .paddingInner(0.18)
      .paddingOuter(0.05);
    const y = scaleLinear()
      .domain([0, Math.max(1, ...counts)])
      .range([0, HIST_H]);
    const width = x.bandwidth();
    const median = stage.median !== undefined ? stage.buckets[stage.median] : undefined;
    const title = `${say(stage.label, lang)} · n = ${number(total, lang)}${median ? ` · ${WORDS.median[lang]}: ${say(median.label, lang)}` : ''}`;
    const base = top + HIST_TOP + HIST_H + 14;
    const columns = stage.buckets.map((bucket, j) => {
      const bx = round(x(j) ?? LEFT);
      const h = round(y(counts[j] ?? 0));
      const isMedian = j === stage.median;
      const cx = round(bx + width / 2);
      const bucketLabel = clip(say(bucket.label, lang), 12, width + 4);
      return html`<g><title>${say(bucket.label, lang)}: ${number(counts[j] ?? 0, lang)}${isMedian ? ` (${WORDS.median[lang]})` : ''}</title><rect x="${bx}" y="${round(base - h)}" width="${round(width)}" height="${h}" fill="${isMedian ? MEDIAN_FILL : BUCKET_FILL}"/><text x="${cx}" y="${round(base - h - 3)}" font-size="12" text-anchor="middle" fill="${INK}">${number(counts[j] ?? 0, lang)}</text><text x="${cx}" y="${base + 13}" font-size="12" text-anchor="middle" fill="${isMedian ? INK : MUTED}" font-weight="${isMedian ? '700' : '400'}">${bucketLabel}</text></g>`;
    });
    return html`<g><text x="${LEFT}" y="${top + 16}" font-size="13" font-weight="700" fill="${INK}">${clip(title, 13, RIGHT - LEFT)}</text><line x1="${LEFT}" y1="${base}" x2="${RIGHT}" y2="${base}" stroke="${MUTED}" stroke-width="1"/>${columns}</g>`;
  });
  const label = `${WORDS.dwell[lang]}: ${stages
    .map((s) => {
      const median = s.median !== undefined ? s.buckets[s.median] : undefined;
      return median ? `${say(s.label, lang)} ${WORDS.median[lang]} ${say(median.label, lang)}` : say(s.label, lang);
    })
    .join(', ')}`;
  return html`<figure class="chart">
${svgOpen(height, label)}
${multiples}
</svg>
<details><summary>${WORDS.table[lang]}</summary>${dwellTable(stages, lang)}</details>
</figure>`;
}

/** One row per stage and bucket: the stage, the bucket, the families, whether the median falls in it. */
export function dwellTable(stages: DwellStage[], lang: Lang): Html {
  const rows = stages.flatMap((s) =>
    s.buckets.map(
      (b, j) =>
        html`<tr>${j === 0 && html`<th scope="rowgroup" rowspan="${s.buckets.length}">${say(s.label, lang)}</th>`}<td>${say(b.label, lang)}</td><td class="n">${number(clean(b.count), lang)}</td><td>${j === s.median ? WORDS.median[lang] : ''}</td></tr>`,
    ),
  );
  return html`<table class="chart-data">
<caption>${WORDS.dwell[lang]}</caption>
<thead><tr><th scope="col">${WORDS.stage[lang]}</th><th scope="col">${lang === 'id' ? 'Lama' : 'Time'}</th><th scope="col">${WORDS.count[lang]}</th><th scope="col">${WORDS.median[lang]}</th></tr></thead>
<tbody>${rows}</tbody>
</table>`;
}

/** The rules the console's stylesheet adds for the charts: a phone-wide chart, not wider on a desktop. */
export const CHART_STYLE = [
  'figure.chart{margin:1rem 0;max-width:30rem}',
  'figure.chart svg{display:block;width:100%;height:auto}',
  'table.chart-data{border-collapse:collapse;font-size:.875rem;margin:.5rem 0}',
  'table.chart-data th,table.chart-data td{text-align:left;padding:.25rem .5rem;border-bottom:1px solid #d6d6d6}',
  'table.chart-data .n{text-align:right;font-variant-numeric:tabular-nums}',
].join('');
