/**
 * The console's funnel and time-per-stage charts: bar lengths on the nice scale, the
 * percentage of the first step, the exits in their own colour, the median marked, the data
 * table beside each chart, and nothing the pages' policy refuses.
 */
import { describe, expect, it } from 'vitest';
import {
  type DwellStage,
  dwellChart,
  dwellTable,
  type FunnelBar,
  funnelChart,
  funnelTable,
  percent,
} from '../../functions/console/charts.ts';

const steps: FunnelBar[] = [
  { label: { id: 'Usulan diterima', en: 'Proposals accepted' }, count: 1234 },
  { label: { id: 'Lolos verifikasi', en: 'Verified eligible' }, count: 987 },
  { label: { id: 'Disetujui', en: 'Approved' }, count: 760 },
  { label: { id: 'Dana disalurkan', en: 'Grant disbursed' }, count: 755 },
  { label: { id: 'Lulus', en: 'Graduated' }, count: 402 },
];
const exits: FunnelBar[] = [
  { label: { id: 'Tidak memenuhi syarat', en: 'Ineligible' }, count: 247 },
  { label: { id: 'Ditolak', en: 'Rejected' }, count: 180 },
  { label: { id: 'Kuota habis', en: 'Quota used up' }, count: 47 },
];

/** Bar rectangles of a chart in drawing order, with their fill. */
const rects = (svg: string) =>
  [...svg.matchAll(/<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"[^>]*fill="(#[0-9a-f]+)"/g)].map((m) => ({
    x: Number(m[1]),
    width: Number(m[3]),
    fill: m[5],
  }));

describe('funnelChart', () => {
  it('draws each step as long as its count on a nice scale, with the count and the share of the first step', () => {
    const out = funnelChart(steps, 'en', exits).value;
    const svg = /<svg[\s\S]*<\/svg>/.exec(out)?.[0] ?? '';
    // 0 to 1,234 is drawn on 0 to 1,500 (nice ticks of 500); the gridlines say so.
    for (const tick of ['0', '500', '1,000', '1,500']) expect(svg).toContain(`>${tick}</text>`);
    expect(svg).not.toContain('>2,000</text>');
    expect(svg.match(/<line /g)).toHaveLength(4);
    const bars = rects(svg);
    expect(bars).toHaveLength(8);
    const unit = (bars[0]?.width ?? 0) / 1234;
    for (const [i, b] of [...steps, ...exits].entries()) expect(bars[i]?.width).toBeCloseTo(b.count * unit, 0);
    expect(bars.slice(0, 5).every((b) => b.fill === '#0b5e3c')).toBe(true);
    expect(bars.slice(5).every((b) => b.fill === '#8a4b00')).toBe(true);
    expect(svg).toContain('>987 · 80.0%</text>');
    expect(svg).toContain('>247 · 20.0%</text>');
    expect(svg).toContain('>Left the journey</text>');
    expect(svg).toMatch(
      /role="img" aria-label="Journey funnel: Proposals accepted 1,234, Verified eligible 987, .*; Left the journey: Ineligible 247/,
    );
    expect(svg).toContain('viewBox="0 0 360 ');
    expect(svg).toContain('width="100%"');
  });

  it('writes numbers and labels the Indonesian way in Indonesian', () => {
    const svg = funnelChart(steps, 'id', exits).value;
    expect(svg).toContain('>1.234 · 100,0 %</text>');
    expect(svg).toContain('>755 · 61,2 %</text>');
    expect(svg).toContain('>1.000</text>');
    expect(svg).toContain('>Keluar dari perjalanan</text>');
    expect(svg).toContain('<summary>Tabel data</summary>');
  });

  it('puts the value inside the end of a bar that leaves no room after it, in white', () => {
    const svg = funnelChart([{ label: 'All', count: 1000 }], 'en').value;
    expect(svg).toMatch(/text-anchor="end" fill="#ffffff">1,000 · 100.0%<\/text>/);
    const short = funnelChart(
      [
        { label: 'All', count: 1000 },
        { label: 'Few', count: 3 },
      ],
      'en',
    ).value;
    expect(short).toMatch(/text-anchor="start" fill="#1b1b1b">3 · 0.3%<\/text>/);
  });

  it('copes with nothing yet: no steps, a first step of zero', () => {
    expect(funnelChart([], 'id').value).toBe('<p>Belum ada data.</p>');
    const zero = funnelChart(
      [
        { label: 'Proposals', count: 0 },
        { label: 'Verified', count: 0 },
      ],
      'en',
    ).value;
    expect(zero).toContain('>0 · –</text>');
    expect(zero).not.toContain('NaN');
    expect(percent(1, 0, 'id')).toBe('–');
  });

  it('escapes labels and shortens one too long for the width, keeping it whole in the title', () => {
    const long = `<script>alert(1)</script> ${'Sangat panjang '.repeat(8)}`;
    const svg = funnelChart([{ label: long, count: 5 }], 'id').value;
    expect(svg).not.toContain('<script');
    expect(svg).toContain(`<title>&lt;script&gt;alert(1)&lt;/script&gt; ${'Sangat panjang '.repeat(8)}: 5 · 100,0 %</title>`);
    expect(svg).toMatch(/>&lt;script&gt;[^<]*…<\/text>/);
  });

  it('has a data table of the same numbers, the exits under their own heading', () => {
    const table = funnelTable(steps, 'en', exits).value;
    expect(table).toContain('<tr><th scope="row">Verified eligible</th><td class="n">987</td><td class="n">80.0%</td></tr>');
    expect(table).toContain('<th scope="rowgroup" colspan="3">Left the journey</th>');
    expect(table).toContain('<th scope="col">% of the first step</th>');
    expect(funnelChart(steps, 'en', exits).value).toContain(table);
    expect(funnelTable(steps, 'id').value).toContain('<th scope="col">% dari tahap pertama</th>');
  });
});

const buckets = (counts: number[]) =>
  ['< 1 hari', '1–3 hari', '3–7 hari', '1–2 mgg', '> 2 mgg'].map((label, i) => ({
    label: { id: label, en: label.replace('hari', 'd').replace('mgg', 'wk') },
    count: counts[i] ?? 0,
  }));
const stages: DwellStage[] = [
  { label: { id: 'Verifikasi', en: 'Verification' }, buckets: buckets([900, 80, 7, 0, 0]), median: 0 },
  { label: { id: 'Persetujuan', en: 'Approval' }, buckets: buckets([40, 210, 380, 110, 20]), median: 2 },
  { label: { id: 'Penyaluran', en: 'Disbursement' }, buckets: buckets([700, 55, 0, 0, 0]) },
];

describe('dwellChart', () => {
  it('draws one histogram per stage with the median bucket dark and named', () => {
    const svg = dwellChart(stages, 'en').value;
    const bars = rects(svg);
    expect(bars).toHaveLength(15);
    // Approval: bars as tall as their counts on the stage's own scale, the median's (3–7 d) dark.
    const approval = [...svg.matchAll(/<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="([\d.]+)" fill="(#[0-9a-f]+)"/g)].slice(
      5,
      10,
    );
    const heights = approval.map((m) => Number(m[1]));
    expect(heights[2]).toBe(56);
    expect(heights[1]).toBeCloseTo((210 / 380) * 56, 0);
    expect(approval.map((m) => m[2])).toEqual(['#9cc9b2', '#9cc9b2', '#0b5e3c', '#9cc9b2', '#9cc9b2']);
    expect(svg).toContain('>Approval · n = 760 · median: 3–7 d</text>');
    expect(svg).toContain('<title>3–7 d: 380 (median)</title>');
    // No median given: none marked, and the heading says only the number of families.
    expect(svg).toContain('>Disbursement · n = 755</text>');
    expect(svg).toContain('aria-label="Time spent per stage: Verification median &lt; 1 d, Approval median 3–7 d, Disbursement"');
  });

  it('is in Indonesian with a table of every stage and bucket', () => {
    const out = dwellChart(stages, 'id').value;
    expect(out).toContain('>Persetujuan · n = 760 · median: 3–7 hari</text>');
    const table = dwellTable(stages, 'id').value;
    expect(table).toContain(
      '<th scope="rowgroup" rowspan="5">Persetujuan</th><td>&lt; 1 hari</td><td class="n">40</td><td></td>',
    );
    expect(table).toContain('<td>3–7 hari</td><td class="n">380</td><td>median</td>');
    expect(table).toContain('<caption>Lama di tiap tahap</caption>');
    expect(out).toContain(table);
    expect(dwellChart([], 'en').value).toBe('<p>No data yet.</p>');
  });
});

describe('both charts', () => {
  it('use presentation attributes only and draw the same string twice', () => {
    for (const out of [funnelChart(steps, 'id', exits).value, dwellChart(stages, 'en').value]) {
      expect(out).not.toMatch(/ style=|<style|<script|javascript:| on[a-z]+=/i);
    }
    expect(funnelChart(steps, 'id', exits).value).toBe(funnelChart(steps, 'id', exits).value);
    expect(dwellChart(stages, 'id').value).toBe(dwellChart(stages, 'id').value);
  });
});
