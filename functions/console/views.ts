/**
 * The console's pages, server-rendered, one language at a time (Indonesian by default,
 * the switch in the header). Wide on a desk, one column on a phone: tables scroll
 * sideways inside their box rather than the page. No personal data: the masked NIK only.
 */
import type { Case } from '#domain/case';
import type { Bilingual } from '#domain/errors';
import { type Html, html } from '#web/html';
import { type Lang, otherLang } from '#web/lang';
import { layout, type PageExtras, type Viewer } from '#web/layout';
import type { CaseFilter, CaseRow } from './case-list.ts';
import { CHART_STYLE } from './charts.ts';
import { GRAPH_STYLE } from './graph.ts';
import { HISTORY_STYLE } from './history.ts';
import { ago, dateTime, OUTCOMES, REFUSALS, type Refusal, STAGES, t } from './text.ts';

export interface ConsoleContext {
  lang: Lang;
  /** The path and query of this page, for the language switch. */
  path: string;
  query?: URLSearchParams;
  viewer?: Viewer;
  now: Date;
}

export interface View {
  status: number;
  html: string;
  extras: PageExtras;
}

/** The drawings' rules, one stylesheet for every console page (one hash in the policy). */
const CONSOLE_STYLE = `${GRAPH_STYLE}${HISTORY_STYLE}${CHART_STYLE}`;

type Section = 'dashboard' | 'cases' | 'attention' | 'intakes' | 'none';

const NAV: [Section, string, Bilingual][] = [
  ['dashboard', '/console', { id: 'Corong', en: 'Funnel' }],
  ['cases', '/console/cases', { id: 'Kasus', en: 'Cases' }],
  ['attention', '/console/attention', { id: 'Perlu perhatian', en: 'Needs attention' }],
  ['intakes', '/console/intakes', { id: 'Unggahan', en: 'Intakes' }],
];

function nav(ctx: ConsoleContext, current: Section): Html {
  const links = NAV.map(
    ([section, href, label]) =>
      html`<a href="${href}"${section === current ? html` aria-current="page"` : ''}>${t(label, ctx.lang)}</a>`,
  );
  const search = ctx.viewer
    ? html`<form class="search" method="post" action="/console/search" role="search">
<input type="hidden" name="csrf" value="${ctx.viewer.csrf}">
<label for="q" class="visually-hidden">${t({ id: 'ID kasus atau NIK', en: 'Case id or NIK' }, ctx.lang)}</label>
<input type="text" id="q" name="q" autocomplete="off" inputmode="text" placeholder="${t({ id: 'ID kasus atau NIK', en: 'Case id or NIK' }, ctx.lang)}">
<button type="submit">${t({ id: 'Cari', en: 'Search' }, ctx.lang)}</button></form>`
    : '';
  return html`<nav class="console">${links}</nav>${search}`;
}

export function consolePage(ctx: ConsoleContext, status: number, title: Bilingual, section: Section, body: Html): View {
  const switchLang = otherLang(ctx.lang);
  const query = new URLSearchParams(ctx.query);
  query.set('lang', switchLang);
  const extras: PageExtras = {
    postsForms: true,
    wide: true,
    style: CONSOLE_STYLE,
    lang: ctx.lang,
    switchTo: { href: `${ctx.path}?${query}`, lang: switchLang, label: switchLang === 'en' ? 'English' : 'Bahasa Indonesia' },
  };
  return { status, html: layout(title, html`${nav(ctx, section)}${body}`, undefined, ctx.viewer, extras), extras };
}

export function signInNeededPage(ctx: ConsoleContext, returnTo: string): View {
  return consolePage(
    ctx,
    401,
    { id: 'Silakan masuk', en: 'Please sign in' },
    'none',
    html`<p>${t({ id: 'Konsol ini untuk operator program yang sudah masuk.', en: 'This console is for signed-in program operators.' }, ctx.lang)}</p>
<a class="button" href="/signin?returnTo=${encodeURIComponent(returnTo)}">${t({ id: 'Masuk', en: 'Sign in' }, ctx.lang)}</a>`,
  );
}

/** Anyone signed in who is not an operator sees that, and nothing of the program. */
export function notAnOperatorPage(ctx: ConsoleContext): View {
  return {
    ...consolePage(
      { ...ctx, viewer: ctx.viewer },
      403,
      { id: 'Bukan untuk akun ini', en: 'Not for this account' },
      'none',
      html`<p>${t(
        {
          id: 'Konsol ini hanya untuk operator. Akun Anda tidak memiliki peran operator; minta admin bila Anda memerlukannya.',
          en: 'This console is for operators only. Your account holds no operator role; ask an admin if you need it.',
        },
        ctx.lang,
      )}</p>`,
    ),
  };
}

export function refusalPage(ctx: ConsoleContext, status: number, code: Refusal, back?: { href: string; label: Bilingual }): View {
  return consolePage(
    ctx,
    status,
    { id: 'Tidak dapat dilakukan', en: 'Cannot be done' },
    'none',
    html`<div class="notice bad"><p>${t(REFUSALS[code], ctx.lang)}</p><p class="meta"><code>${code}</code></p></div>
${back && html`<p><a href="${back.href}">${t(back.label, ctx.lang)}</a></p>`}`,
  );
}

export const caseLink = (caseId: string) => `/console/cases/${encodeURIComponent(caseId)}`;

/** The stage (and outcome) of a case as a badge. */
export function stageBadge(row: Pick<CaseRow, 'stage' | 'outcome' | 'failure'>, lang: Lang): Html {
  if (row.stage === 'closed') {
    const outcome = row.outcome ? OUTCOMES[row.outcome] : STAGES.closed;
    return html`<span class="badge ${row.outcome === 'graduated' ? 'done' : 'closed'}">${t(outcome, lang)}</span>`;
  }
  return html`<span class="badge running">${t(STAGES[row.stage], lang)}</span>${row.failure && html` <span class="badge refused">${t({ id: 'gagal', en: 'failed' }, lang)}</span>`}`;
}

export function caseTable(rows: readonly CaseRow[], ctx: ConsoleContext): Html {
  const lang = ctx.lang;
  if (rows.length === 0)
    return html`<p class="meta">${t({ id: 'Tidak ada kasus yang cocok.', en: 'No case matches.' }, lang)}</p>`;
  return html`<div class="scroll"><table class="data">
<thead><tr><th>${t({ id: 'Kasus', en: 'Case' }, lang)}</th><th>${t({ id: 'Wilayah', en: 'District' }, lang)}</th><th>NIK</th><th>${t({ id: 'Tahap', en: 'Stage' }, lang)}</th><th>${t({ id: 'Di tahap ini sejak', en: 'At this stage since' }, lang)}</th><th>${t({ id: 'Eksekusi', en: 'Runs' }, lang)}</th></tr></thead>
<tbody>${rows.map(
    (r) =>
      html`<tr><td><a href="${caseLink(r.caseId)}"><code>${r.caseId}</code></a></td><td>${r.district}</td><td><code>${r.nikMasked}</code></td><td>${stageBadge(r, lang)}${r.failure && html`<br><span class="meta">${r.failure.error}</span>`}</td><td>${dateTime(r.stageSince ?? r.updatedAt, lang)}<br><span class="meta">${ago(r.stageSince ?? r.updatedAt, ctx.now, lang)}</span></td><td class="n">${r.journeyRuns}</td></tr>`,
  )}</tbody></table></div>`;
}

/** The filter form of the case list (a GET: filters are no secret, and the URL can be shared). */
export function filterForm(
  f: CaseFilter,
  years: readonly number[],
  districts: readonly { code: string; name: string }[],
  lang: Lang,
): Html {
  const option = (value: string, label: string, selected: boolean) =>
    html`<option value="${value}"${selected ? html` selected` : ''}>${label}</option>`;
  return html`<form class="filters" method="get" action="/console/cases">
<div class="field"><label for="year">${t({ id: 'Tahun program', en: 'Program year' }, lang)}</label><select id="year" name="year">${years.map((y) => option(String(y), String(y), y === f.programYear))}</select></div>
<div class="field"><label for="district">${t({ id: 'Wilayah', en: 'District' }, lang)}</label><select id="district" name="district">${option('', t({ id: 'Semua', en: 'All' }, lang), !f.district)}${districts.map((d) => option(d.code, `${d.code} ${d.name}`, d.code === f.district))}</select></div>
<div class="field"><label for="stage">${t({ id: 'Tahap', en: 'Stage' }, lang)}</label><select id="stage" name="stage">${option('', t({ id: 'Semua', en: 'All' }, lang), !f.stage)}${Object.entries(STAGES).map(([s, label]) => option(s, t(label, lang), s === f.stage))}</select></div>
<div class="field"><label for="outcome">${t({ id: 'Hasil akhir', en: 'Outcome' }, lang)}</label><select id="outcome" name="outcome">${option('', t({ id: 'Semua', en: 'All' }, lang), !f.outcome)}${Object.entries(OUTCOMES).map(([o, label]) => option(o, t(label, lang), o === f.outcome))}</select></div>
<div class="field"><label for="waiting">${t({ id: 'Menunggu lebih dari (hari)', en: 'Waiting longer than (days)' }, lang)}</label><input type="text" inputmode="numeric" id="waiting" name="waiting" value="${f.waitingDays ?? ''}"></div>
<button type="submit">${t({ id: 'Tampilkan', en: 'Show' }, lang)}</button>
</form>`;
}

/** Query string of a filter (for links to the next page and the CSV). */
export function filterQuery(f: CaseFilter, extra: Record<string, string> = {}): string {
  const q = new URLSearchParams({ year: String(f.programYear) });
  if (f.district) q.set('district', f.district);
  if (f.stage) q.set('stage', f.stage);
  if (f.outcome) q.set('outcome', f.outcome);
  if (f.waitingDays) q.set('waiting', String(f.waitingDays));
  for (const [k, v] of Object.entries(extra)) q.set(k, v);
  return q.toString();
}

export type { Case };
