/**
 * The console's drawings in real Chromium, under the pages' policy (one stylesheet by its
 * hash, no script): the graph of a real journey waiting at its second approval level (the
 * embedded runtime with the real handlers), the graph and event table of a recorded journey
 * whose disbursement failed after a retry, and the funnel and time-per-stage charts.
 * Screenshots at phone and desktop sizes in test-artifacts/console/, to be looked at.
 *
 * Chromium measures what the server only estimates: every state name fits its box, and the
 * charts' text on a 390 px phone is no smaller than 11 px.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Runtime, startRuntime } from '../../embedded/runtime/index.ts';
import { CHART_STYLE, dwellChart, funnelChart } from '../../functions/console/charts.ts';
import { GRAPH_STYLE, marksFromHistory, renderStateGraph } from '../../functions/console/graph.ts';
import { HISTORY_STYLE, historyRows, historyTable } from '../../functions/console/history.ts';
import { allPages, JOURNEY_ASL, recordJourney } from '../console/journey-runs.ts';
import { caseAtApproval } from '../helpers/runtime-cases.ts';
import { launchChromium, SIZES } from './browser.ts';

const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts', 'console');
const CASE_ID = '3210-2020-consoledrawings00000001';

let dir: string;
let rt: Runtime;
let chromium: Browser;
let pageFile: string;

const BASE =
  'body{margin:0;font:1rem/1.5 system-ui,sans-serif;color:#1b1b1b;background:#fff}main{padding:1rem;max-width:80rem}h2{font-size:1.125rem;margin:1.5rem 0 .25rem}';
const STYLE = BASE + GRAPH_STYLE + HISTORY_STYLE + CHART_STYLE;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prokus-console-drawings-'));
  rt = await startRuntime({ dataDir: join(dir, 'data'), port: 0, quiet: true });
  const { loadKeys } = await import('#lib/secrets');
  const { createCase } = await import('#store/cases');
  await loadKeys();
  await createCase(await caseAtApproval(CASE_ID, 1));
  const { executionArn } = await rt.engine.startExecution({
    stateMachineArn: rt.journeyArn,
    name: CASE_ID,
    input: JSON.stringify({ caseId: CASE_ID }),
  });
  await rt.idle({ timeoutMs: 60_000 });
  const waiting = allPages(rt.engine, executionArn, 10).events;
  const failed = await recordJourney('disbursement-fails');
  await failed.engine.close();

  const journey = await readFile(JOURNEY_ASL, 'utf8');
  const hash = createHash('sha256').update(STYLE).digest('base64');
  const body = `<main>
<h1>Konsol operator — gambar</h1>
<h2>${CASE_ID}: menunggu persetujuan</h2>
<div class="graph" id="waiting">${renderStateGraph(journey, marksFromHistory(waiting), 'id')}</div>
<h2>Penyaluran gagal setelah dicoba ulang</h2>
<div class="graph" id="failed">${renderStateGraph(journey, marksFromHistory(failed.events), 'id')}</div>
${historyTable(historyRows(failed.events), 'id')}
<h2>Corong perjalanan (contoh angka)</h2>
<div id="funnel">${funnelChart(
    [
      { label: { id: 'Usulan diterima', en: 'Proposals accepted' }, count: 1234 },
      { label: { id: 'Lolos verifikasi', en: 'Verified eligible' }, count: 987 },
      { label: { id: 'Disetujui', en: 'Approved' }, count: 760 },
      { label: { id: 'Dana disalurkan', en: 'Grant disbursed' }, count: 755 },
      { label: { id: 'Lulus pendampingan', en: 'Graduated' }, count: 402 },
    ],
    'id',
    [
      { label: { id: 'Tidak memenuhi syarat', en: 'Ineligible' }, count: 247 },
      { label: { id: 'Ditolak', en: 'Rejected' }, count: 180 },
      { label: { id: 'Kuota habis', en: 'Quota used up' }, count: 47 },
    ],
  )}</div>
<h2>Lama di tiap tahap (contoh angka)</h2>
<div id="dwell">${dwellChart(
    ['Verifikasi', 'Persetujuan', 'Penyaluran'].map((label, s) => ({
      label,
      buckets: ['< 1 hari', '1–3 hari', '3–7 hari', '1–2 mgg', '> 2 mgg'].map((b, i) => ({
        label: b,
        count: [
          [900, 80, 7, 0, 0],
          [40, 210, 380, 110, 20],
          [700, 55, 0, 0, 0],
        ][s]?.[i] as number,
      })),
      median: [0, 2, 0][s] as number,
    })),
    'id',
  )}</div>
</main>`;
  await mkdir(ARTIFACTS, { recursive: true });
  pageFile = join(ARTIFACTS, 'drawings.html');
  await writeFile(
    pageFile,
    `<!doctype html><html lang="id"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'sha256-${hash}'; script-src 'none'">
<title>Konsol — gambar</title><style>${STYLE}</style></head><body>${body}</body></html>`,
  );
  chromium = await launchChromium();
});

afterAll(async () => {
  await chromium?.close();
  await rt?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('the console drawings in Chromium', () => {
  it('render under the pages policy, names fit their boxes, the marks where they belong; screenshots at both sizes', async () => {
    const page = await chromium.newPage();
    const refused: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') refused.push(m.text());
    });
    await page.goto(`file://${pageFile}`);

    // The running journey waits at its second approval level; the failed one ended in Failed.
    await page.locator('#waiting g[data-state="AwaitGrantApproval"][data-status="current"]').waitFor();
    expect(await page.locator('#waiting g[data-status="failed"]').count()).toBe(0);
    expect(await page.locator('#failed g[data-state="Failed"][data-status="failed"]').count()).toBe(1);
    expect(await page.locator('table.history tr.failed').count()).toBe(3);

    // Every name line fits inside its box as Chromium draws it (the server estimated the widths).
    const tooWide = await page.$$eval('#failed g[data-state]', (groups) =>
      groups.flatMap((g) => {
        const width = Number(g.querySelector('rect')?.getAttribute('width'));
        return [...g.querySelectorAll('text')]
          .filter((t) => t.getComputedTextLength() > width - 6)
          .map((t) => `${t.textContent} ${t.getComputedTextLength()} > ${width}`);
      }),
    );
    expect(tooWide).toEqual([]);

    for (const [size, viewport] of Object.entries(SIZES)) {
      await page.setViewportSize(viewport);
      // Charts scale with the width: on the phone their smallest text must still read at 11 px or more.
      const smallest = await page.$$eval('figure.chart text', (texts) =>
        Math.min(...texts.map((t) => t.getBoundingClientRect().height)),
      );
      const fontPx = await page.$$eval('figure.chart svg', (svgs) =>
        Math.min(
          ...svgs.map((svg) => {
            const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
            return Math.min(...[...svg.querySelectorAll('text')].map((t) => Number(t.getAttribute('font-size')) * scale));
          }),
        ),
      );
      expect(fontPx, `smallest chart text ${fontPx} px (box ${smallest} px) at ${size}`).toBeGreaterThanOrEqual(11);
      // The graph keeps its own size and scrolls sideways in its box instead of shrinking.
      const graph = await page.$eval('#failed', (div) => ({ box: div.clientWidth, svg: div.scrollWidth }));
      expect(graph.svg).toBeGreaterThan(graph.box);
      await page.screenshot({ path: join(ARTIFACTS, `drawings-${size}.png`), fullPage: true });
      await page.locator('#failed').screenshot({ path: join(ARTIFACTS, `graph-failed-${size}.png`) });
      await page.locator('#funnel').screenshot({ path: join(ARTIFACTS, `funnel-${size}.png`) });
      await page.locator('#dwell').screenshot({ path: join(ARTIFACTS, `dwell-${size}.png`) });
    }
    expect(refused).toEqual([]);
    await page.close();
  });
});
