/**
 * The operators' console (functions/web/routes.ts names the routes, functions/console.ts
 * wires them). Every route needs a signed-in operator: without a session a page answers
 * the way to sign in, anyone else a refusal that shows nothing of the program. Every POST
 * passes checkForgery. Reads go through the AWS APIs only (DynamoDB, Step Functions), so
 * the same code serves the embedded runtime and AWS.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { stringify } from 'csv-stringify/sync';
import { checkForgery, FORM_TOKEN_FIELD, signedIn } from '#access/session';
import { Outcome, Stage } from '#domain/case';
import { CaseNotFoundError } from '#domain/errors';
import { sumCounters } from '#domain/funnel';
import { cleanIdNumber } from '#domain/nik';
import { decidedBy, hasRole } from '#domain/person';
import { programFor, programYears } from '#domain/program';
import * as z from '#domain/zod';
import { hashId } from '#lib/secrets';
import { getCase } from '#store/cases';
import { readFunnel } from '#store/funnel';
import type { Session } from '#store/sessions';
import { html } from '#web/html';
import { langOf } from '#web/lang';
import { htmlResult, redirect } from '#web/results';
import { type CaseFilter, casesOfNikHash, findCaseRow, listCasePage } from './case-list.ts';
import { dwellChart, funnelChart } from './charts.ts';
import { dwellStages, exitLines, funnelLines, linesTable, nowLines } from './dashboard.ts';
import { executionPage } from './execution-page.ts';
import { describeExecution, journeyExecutions, listExecutions, type Machine } from './executions.ts';
import { type IntakeRow, intakeFile, readReport, withFiles } from './intakes.ts';
import { resumeJourney } from './resume.ts';
import { dateTime, REFUSALS, t } from './text.ts';
import { executionsTable, timeline } from './timeline.ts';
import {
  type ConsoleContext,
  caseLink,
  caseTable,
  consolePage,
  filterForm,
  filterQuery,
  notAnOperatorPage,
  refusalPage,
  signInNeededPage,
} from './views.ts';

type Event = APIGatewayProxyEventV2;
type Result = APIGatewayProxyStructuredResultV2;

function csvResult(filename: string, rows: unknown[][]): Result {
  return {
    statusCode: 200,
    headers: {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="${filename}"`,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    },
    // A byte-order mark, so a spreadsheet opens the file as UTF-8.
    body: `\ufeff${stringify(rows)}`,
  };
}

export interface Operator {
  ctx: ConsoleContext;
  session: Session;
  cookies: string[];
}

/** The signed-in operator, or the page that says why not. */
export async function operatorOf(event: Event, now = new Date()): Promise<{ operator: Operator } | { refused: Result }> {
  const { lang, remember } = langOf(event);
  const cookies = remember ? [remember] : [];
  const query = new URLSearchParams(
    Object.entries(event.queryStringParameters ?? {}).filter(([k]) => k !== 'lang') as [string, string][],
  );
  const path = event.rawPath;
  const base: ConsoleContext = { lang, path, query, now };
  const visitor = await signedIn(event, now);
  if (!visitor) {
    const returnTo = query.size > 0 ? `${path}?${query}` : path;
    return { refused: htmlResult(signInNeededPage(base, returnTo), cookies) };
  }
  const person = visitor.session.person;
  const ctx: ConsoleContext = { ...base, viewer: { email: person.email, csrf: visitor.session.csrf } };
  if (!hasRole(person, 'operator')) return { refused: htmlResult(notAnOperatorPage(ctx), cookies) };
  return { operator: { ctx, session: visitor.session, cookies } };
}

const latestYear = () => programYears().at(-1) ?? new Date().getFullYear();

function yearOf(event: Event): number {
  const raw = Number(event.queryStringParameters?.year);
  return programYears().includes(raw) ? raw : latestYear();
}

function districtsOf(year: number) {
  const config = programFor(year);
  return Object.entries(config.districts)
    .map(([code, d]) => ({ code, name: d.name }))
    .sort((a, b) => a.code.localeCompare(b.code));
}

/** The list's filter from the query; an unknown value is dropped (and said so), never guessed. */
function filterOf(event: Event): { filter: CaseFilter; dropped: boolean } {
  const q = event.queryStringParameters ?? {};
  const year = yearOf(event);
  const known = new Set(districtsOf(year).map((d) => d.code));
  let dropped = false;
  const filter: CaseFilter = { programYear: year };
  if (q.district) {
    if (known.has(q.district)) filter.district = q.district;
    else dropped = true;
  }
  if (q.stage) {
    const s = Stage.safeParse(q.stage);
    if (s.success) filter.stage = s.data;
    else dropped = true;
  }
  if (q.outcome) {
    const o = Outcome.safeParse(q.outcome);
    if (o.success) filter.outcome = o.data;
    else dropped = true;
  }
  if (q.waiting) {
    const n = Number(q.waiting);
    if (Number.isInteger(n) && n > 0 && n <= 3650) filter.waitingDays = n;
    else dropped = true;
  }
  return { filter, dropped };
}

const droppedNotice = (dropped: boolean, ctx: ConsoleContext) =>
  dropped && html`<div class="notice bad"><p>${t(REFUSALS.FILTER_INVALID, ctx.lang)}</p></div>`;

/** GET /console */
export async function showDashboard(event: Event): Promise<Result> {
  const who = await operatorOf(event);
  if ('refused' in who) return who.refused;
  const { ctx } = who.operator;
  const year = yearOf(event);
  const program = programFor(year);
  const districts = districtsOf(year);
  const district = districts.find((d) => d.code === event.queryStringParameters?.district);
  const { districts: rows } = await readFunnel(year);
  const counters = district
    ? (rows.find((r) => r.district === district.code)?.counters ?? {})
    : sumCounters(rows.map((r) => r.counters));
  const steps = funnelLines(counters, program);
  const exits = exitLines(counters);
  const dwell = dwellStages(counters, ctx.lang);
  const scope = district ? `${district.code} ${district.name}` : t({ id: 'Nasional', en: 'National' }, ctx.lang);
  const csvQuery = new URLSearchParams({ year: String(year), ...(district ? { district: district.code } : {}) });
  const body = html`<form class="filters" method="get" action="/console">
<div class="field"><label for="year">${t({ id: 'Tahun program', en: 'Program year' }, ctx.lang)}</label><select id="year" name="year">${programYears().map((y) => html`<option value="${y}"${y === year ? html` selected` : ''}>${y}</option>`)}</select></div>
<div class="field"><label for="district">${t({ id: 'Wilayah', en: 'District' }, ctx.lang)}</label><select id="district" name="district"><option value="">${t({ id: 'Nasional', en: 'National' }, ctx.lang)}</option>${districts.map((d) => html`<option value="${d.code}"${d.code === district?.code ? html` selected` : ''}>${d.code} ${d.name}</option>`)}</select></div>
<button type="submit">${t({ id: 'Tampilkan', en: 'Show' }, ctx.lang)}</button></form>
<h2>${scope} · ${year}</h2>
<h2>${t({ id: 'Tahapan yang dicapai dan keluar', en: 'Steps reached, and exits' }, ctx.lang)}</h2>
${funnelChart(steps, ctx.lang, exits)}
<h2>${t({ id: 'Posisi sekarang', en: 'Where families are now' }, ctx.lang)}</h2>
${linesTable(nowLines(counters), ctx.lang)}
<h2>${t({ id: 'Lama di setiap tahap', en: 'Time spent in each stage' }, ctx.lang)}</h2>
${dwellChart(dwell, ctx.lang)}
<p class="meta">${t({ id: 'Median dihitung dari histogram: tepat sampai rentang waktunya.', en: 'Medians come from a histogram: exact to its time range.' }, ctx.lang)}</p>
<p><a href="/console/funnel.csv?${csvQuery.toString()}">${t({ id: 'Unduh corong (CSV)', en: 'Download the funnel (CSV)' }, ctx.lang)}</a> · <a href="/console/cases?${filterQuery({ programYear: year, ...(district ? { district: district.code } : {}) })}">${t({ id: 'Lihat kasus', en: 'See the cases' }, ctx.lang)}</a></p>`;
  return htmlResult(
    consolePage(ctx, 200, { id: 'Konsol operator', en: 'Operators’ console' }, 'dashboard', body),
    who.operator.cookies,
  );
}

/** GET /console/funnel.csv: one row per district and counter (and the national sums). */
export async function downloadFunnel(event: Event): Promise<Result> {
  const who = await operatorOf(event);
  if ('refused' in who) return who.refused;
  const year = yearOf(event);
  const program = programFor(year);
  const only = event.queryStringParameters?.district;
  const { districts } = await readFunnel(year);
  const rows: unknown[][] = [['program_year', 'district', 'counter', 'label_id', 'label_en', 'count']];
  const scopes = [
    ...(only ? [] : [{ district: 'national', counters: sumCounters(districts.map((d) => d.counters)) }]),
    ...districts.filter((d) => !only || d.district === only),
  ];
  for (const scope of scopes) {
    for (const line of [...funnelLines(scope.counters, program), ...exitLines(scope.counters), ...nowLines(scope.counters)]) {
      rows.push([year, scope.district, line.key, line.label.id, line.label.en, line.count]);
    }
  }
  return csvResult(`prokus-funnel-${year}${only ? `-${only}` : ''}.csv`, rows);
}

/** GET /console/cases */
export async function showCases(event: Event): Promise<Result> {
  const who = await operatorOf(event);
  if ('refused' in who) return who.refused;
  const { ctx } = who.operator;
  const { filter, dropped } = filterOf(event);
  const districts = districtsOf(filter.programYear);
  const page = await listCasePage(
    filter,
    districts.map((d) => d.code),
    { cursor: event.queryStringParameters?.after, now: ctx.now },
  );
  const body = html`${droppedNotice(dropped, ctx)}${filterForm(filter, programYears(), districts, ctx.lang)}
${caseTable(page.cases, ctx)}
<div class="pager">${page.cursor && html`<a href="/console/cases?${filterQuery(filter, { after: page.cursor })}">${t({ id: 'Berikutnya →', en: 'Next →' }, ctx.lang)}</a>`}
<a href="/console/cases.csv?${filterQuery(filter)}">${t({ id: 'Unduh daftar (CSV)', en: 'Download the list (CSV)' }, ctx.lang)}</a></div>`;
  return htmlResult(consolePage(ctx, 200, { id: 'Kasus', en: 'Cases' }, 'cases', body), who.operator.cookies);
}

/** The most rows one CSV holds (a Lambda answer is at most 6 MB; a row is under 120 bytes). */
export const CSV_MAX_ROWS = 40_000;

/** GET /console/cases.csv: ids, districts, stages and times; no personal data. */
export async function downloadCases(event: Event): Promise<Result> {
  const who = await operatorOf(event);
  if ('refused' in who) return who.refused;
  const { filter } = filterOf(event);
  const districts = districtsOf(filter.programYear).map((d) => d.code);
  const rows: unknown[][] = [
    ['case_id', 'district', 'program_year', 'stage', 'outcome', 'stage_since', 'updated_at', 'journey_runs', 'failure'],
  ];
  let cursor: string | undefined;
  do {
    const page = await listCasePage(filter, districts, { cursor, pageSize: 1000 });
    for (const c of page.cases) {
      rows.push([
        c.caseId,
        c.district,
        c.programYear,
        c.stage,
        c.outcome ?? '',
        c.stageSince ?? '',
        c.updatedAt,
        c.journeyRuns,
        c.failure?.error ?? '',
      ]);
    }
    cursor = page.cursor;
  } while (cursor && rows.length <= CSV_MAX_ROWS);
  if (cursor) rows.push([`# truncated at ${CSV_MAX_ROWS} rows: narrow the filter`]);
  return csvResult(`prokus-cases-${filterQuery(filter).replace(/[^A-Za-z0-9=&-]/g, '')}.csv`, rows);
}

const FormBody = z.record(z.string(), z.union([z.string(), z.array(z.string())]));
const field = (form: Record<string, string | string[]>, name: string) => {
  const v = form[name];
  return typeof v === 'string' ? v : undefined;
};

const CASE_ID = /^\d{4}-\d{4}-[0-9a-f]{20}$/;

/**
 * POST /console/search: a case id, or a NIK typed in. The NIK arrives in the body, never
 * in a URL; it is hashed here with the program key and the hash looked up; neither is
 * logged nor kept. One match opens the case; several (one per program year) are listed.
 */
export async function search(event: Event): Promise<Result> {
  const who = await operatorOf(event);
  if ('refused' in who) return who.refused;
  const { ctx, session } = who.operator;
  const form = FormBody.safeParse(event.body as unknown);
  if (!form.success || checkForgery(event, session, field(form.data, FORM_TOKEN_FIELD)) !== 'ok') {
    return htmlResult(refusalPage(ctx, 403, 'FORGED'));
  }
  const q = (field(form.data, 'q') ?? '').trim();
  if (!q) return htmlResult(refusalPage(ctx, 400, 'SEARCH_EMPTY'));
  if (CASE_ID.test(q)) {
    return (await findCaseRow(q)) ? redirect(caseLink(q)) : htmlResult(refusalPage(ctx, 404, 'SEARCH_NOT_FOUND'));
  }
  const nik = cleanIdNumber(q);
  if (!/^\d{16}$/.test(nik)) return htmlResult(refusalPage(ctx, 400, 'SEARCH_INVALID'));
  const found = await casesOfNikHash(hashId('nik', nik));
  if (found.length === 0) return htmlResult(refusalPage(ctx, 404, 'SEARCH_NOT_FOUND'));
  if (found.length === 1 && found[0]) return redirect(caseLink(found[0].caseId));
  return htmlResult(consolePage(ctx, 200, { id: 'Hasil pencarian', en: 'Search results' }, 'cases', caseTable(found, ctx)));
}

const CaseParams = z.object({ caseId: z.string().check(z.regex(CASE_ID)) });

/** GET /console/cases/{caseId} */
export async function showCase(event: Event): Promise<Result> {
  const who = await operatorOf(event);
  if ('refused' in who) return who.refused;
  const { ctx, session } = who.operator;
  const csrf = session.csrf;
  const params = CaseParams.safeParse(event.pathParameters);
  if (!params.success) return htmlResult(refusalPage(ctx, 404, 'CASE_NOT_FOUND'));
  let c: Awaited<ReturnType<typeof getCase>>;
  try {
    c = await getCase(params.data.caseId);
  } catch (e) {
    if (e instanceof CaseNotFoundError) return htmlResult(refusalPage(ctx, 404, 'CASE_NOT_FOUND'));
    throw e;
  }
  const executions = await journeyExecutions(c.caseId, c.journeyRuns);
  const running = executions.some((e) => e.status === 'RUNNING');
  const program = programYears().includes(c.programYear) ? programFor(c.programYear) : undefined;
  const resumable = c.failure !== undefined && c.stage !== 'closed' && !running;
  const body = html`<p><code>${c.caseId}</code></p>
${
  resumable &&
  html`<div class="notice bad"><p>${t({ id: 'Perjalanan kasus ini gagal dan tidak ada eksekusi yang berjalan.', en: "This case's journey failed and no execution is running." }, ctx.lang)}</p>
<form class="inline" method="post" action="${caseLink(c.caseId)}/resume"><input type="hidden" name="csrf" value="${csrf}"><button type="submit">${t({ id: 'Lanjutkan perjalanan', en: 'Resume the journey' }, ctx.lang)}</button></form></div>`
}
${timeline(c, program, ctx)}
<h2>${t({ id: 'Eksekusi perjalanan', en: 'Journey executions' }, ctx.lang)}</h2>
${executionsTable(executions, ctx)}`;
  return htmlResult(
    consolePage(ctx, 200, { id: 'Perjalanan keluarga', en: "A family's journey" }, 'cases', body),
    who.operator.cookies,
  );
}

/** POST /console/cases/{caseId}/resume: the decision is the signed-in operator's, from the session. */
export async function resume(event: Event): Promise<Result> {
  const who = await operatorOf(event);
  if ('refused' in who) return who.refused;
  const { ctx, session } = who.operator;
  const form = FormBody.safeParse(event.body as unknown);
  if (!form.success || checkForgery(event, session, field(form.data, FORM_TOKEN_FIELD)) !== 'ok') {
    return htmlResult(refusalPage(ctx, 403, 'FORGED'));
  }
  const params = CaseParams.safeParse(event.pathParameters);
  if (!params.success) return htmlResult(refusalPage(ctx, 404, 'CASE_NOT_FOUND'));
  const answer = await resumeJourney(params.data.caseId, decidedBy(session.person, event.requestContext.requestId), ctx.now);
  if (answer.kind === 'refused') {
    return htmlResult(
      refusalPage(ctx, answer.code === 'CASE_NOT_FOUND' ? 404 : 409, answer.code, {
        href: caseLink(params.data.caseId),
        label: { id: '← Kembali ke kasus', en: '← Back to the case' },
      }),
    );
  }
  return redirect(`${caseLink(params.data.caseId)}?resumed=${encodeURIComponent(answer.resume.execution)}`);
}

const MachineParams = z.object({
  machine: z.enum(['journey', 'intake']),
  name: z.string().check(z.regex(/^[A-Za-z0-9_-]{1,80}$/)),
});

/** GET /console/executions/{machine}/{name} */
export async function showExecution(event: Event): Promise<Result> {
  const who = await operatorOf(event);
  if ('refused' in who) return who.refused;
  const { ctx } = who.operator;
  const params = MachineParams.safeParse(event.pathParameters);
  if (!params.success) return htmlResult(refusalPage(ctx, 404, 'EXECUTION_NOT_FOUND'));
  const machine: Machine = params.data.machine;
  const execution = await describeExecution(machine, params.data.name);
  if (!execution) return htmlResult(refusalPage(ctx, 404, 'EXECUTION_NOT_FOUND'));
  return htmlResult(await executionPage(ctx, machine, execution), who.operator.cookies);
}

/** GET /console/attention: failed journeys still failed, failed intakes. */
export async function showAttention(event: Event): Promise<Result> {
  const who = await operatorOf(event);
  if ('refused' in who) return who.refused;
  const { ctx } = who.operator;
  const failedJourneys = await listExecutions('journey', {
    status: 'FAILED',
    nextToken: event.queryStringParameters?.after,
    pageSize: 100,
  });
  // A failed execution needs attention while its case is still failed (not resumed, not restarted).
  const seen = new Set<string>();
  const open = [];
  for (const e of failedJourneys.executions) {
    const caseId = (e.name ?? '').replace(/-r\d+$/, '');
    if (seen.has(caseId)) continue;
    seen.add(caseId);
    const row = await findCaseRow(caseId);
    if (row?.failure && row.stage !== 'closed') open.push(row);
  }
  const failedIntakes = await listExecutions('intake', { status: 'FAILED', pageSize: 50 });
  const year = latestYear();
  const body = html`<h2>${t({ id: 'Perjalanan yang gagal', en: 'Failed journeys' }, ctx.lang)}</h2>
<p class="meta">${t({ id: 'Buka kasus untuk melihat sebabnya dan melanjutkannya.', en: 'Open a case to see why and to resume it.' }, ctx.lang)}</p>
${caseTable(open, ctx)}
${failedJourneys.nextToken && html`<p><a href="/console/attention?after=${encodeURIComponent(failedJourneys.nextToken)}">${t({ id: 'Eksekusi gagal yang lebih lama →', en: 'Older failed executions →' }, ctx.lang)}</a></p>`}
<h2>${t({ id: 'Menunggu terlalu lama', en: 'Waiting too long' }, ctx.lang)}</h2>
<ul>${[7, 30, 90].map((days) => html`<li><a href="/console/cases?${filterQuery({ programYear: year, waitingDays: days })}">${t({ id: `Di tahap yang sama lebih dari ${days} hari`, en: `At the same stage for more than ${days} days` }, ctx.lang)}</a></li>`)}</ul>
<h2>${t({ id: 'Unggahan yang gagal', en: 'Failed intakes' }, ctx.lang)}</h2>
${intakeTable(await withFiles(failedIntakes.executions), ctx)}`;
  return htmlResult(
    consolePage(ctx, 200, { id: 'Perlu perhatian', en: 'Needs attention' }, 'attention', body),
    who.operator.cookies,
  );
}

/** GET /console/intakes */
export async function showIntakes(event: Event): Promise<Result> {
  const who = await operatorOf(event);
  if ('refused' in who) return who.refused;
  const { ctx } = who.operator;
  const page = await listExecutions('intake', { nextToken: event.queryStringParameters?.after, pageSize: 50 });
  const body = html`${intakeTable(await withFiles(page.executions), ctx)}
${page.nextToken && html`<p><a href="/console/intakes?after=${encodeURIComponent(page.nextToken)}">${t({ id: 'Lebih lama →', en: 'Older →' }, ctx.lang)}</a></p>`}`;
  return htmlResult(consolePage(ctx, 200, { id: 'Unggahan', en: 'Intakes' }, 'intakes', body), who.operator.cookies);
}

function intakeTable(rows: readonly IntakeRow[], ctx: ConsoleContext) {
  if (rows.length === 0) return html`<p class="meta">${t({ id: 'Tidak ada.', en: 'None.' }, ctx.lang)}</p>`;
  return html`<div class="scroll"><table class="data"><thead><tr><th>${t({ id: 'Berkas', en: 'File' }, ctx.lang)}</th><th>Status</th><th>${t({ id: 'Mulai', en: 'Started' }, ctx.lang)}</th><th>${t({ id: 'Berhenti', en: 'Stopped' }, ctx.lang)}</th><th>${t({ id: 'Laporan', en: 'Report' }, ctx.lang)}</th></tr></thead><tbody>${rows.map(
    ({ execution: e, district, file }) =>
      html`<tr><td>${district && html`${district} · `}${file ?? '—'}<br><a href="/console/executions/intake/${encodeURIComponent(e.name ?? '')}"><code>${e.name}</code></a></td><td><span class="badge ${e.status === 'FAILED' ? 'refused' : e.status === 'RUNNING' ? 'running' : 'done'}">${e.status}</span></td><td>${dateTime(e.startDate, ctx.lang)}</td><td>${dateTime(e.stopDate, ctx.lang)}</td><td>${file && html`<a href="/console/intakes/${encodeURIComponent(e.name ?? '')}/report">${t({ id: 'Unduh (CSV)', en: 'Download (CSV)' }, ctx.lang)}</a>`}</td></tr>`,
  )}</tbody></table></div>`;
}

const IntakeParams = z.object({ name: z.string().check(z.regex(/^[A-Za-z0-9_-]{1,80}$/)) });

/** GET /console/intakes/{name}/report: the report next to the file the intake read. */
export async function downloadIntakeReport(event: Event): Promise<Result> {
  const who = await operatorOf(event);
  if ('refused' in who) return who.refused;
  const { ctx } = who.operator;
  const params = IntakeParams.safeParse(event.pathParameters);
  const key = params.success ? await intakeFile(params.data.name) : undefined;
  if (!key) return htmlResult(refusalPage(ctx, 404, 'EXECUTION_NOT_FOUND'));
  const report = await readReport(key);
  if (report.kind === 'none') return htmlResult(refusalPage(ctx, 404, 'REPORT_NOT_READY'));
  if (report.kind === 'too-large') return htmlResult(refusalPage(ctx, 413, 'REPORT_TOO_LARGE'));
  const file = key.split('/').at(-1) ?? 'usulan';
  return {
    statusCode: 200,
    headers: {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="${file.replace(/[^A-Za-z0-9._-]/g, '_')}.report.csv"`,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      ...(report.uploadId ? { 'x-prokus-upload': report.uploadId } : {}),
    },
    body: report.csv,
  };
}
