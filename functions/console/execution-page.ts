/**
 * An execution as the Step Functions console shows it: its status, input and output
 * (which carry no personal data: principle of the payloads, domain/case.ts CaseSummary),
 * the state-machine graph with the states it visited, the current one and the failed one
 * marked, and its event history. The graph is drawn from the definition the execution ran.
 */
import type { DescribeExecutionOutput } from '@aws-sdk/client-sfn';
import { html } from '#web/html';
import { definitionOf, executionHistory, type Machine } from './executions.ts';
import { marksFromHistory, renderStateGraph } from './graph.ts';
import { historyRows, historyTable } from './history.ts';
import { dateTime, t } from './text.ts';
import { type ConsoleContext, caseLink, consolePage, type View } from './views.ts';

const pretty = (json: string | undefined) => {
  if (!json) return '—';
  try {
    return JSON.stringify(JSON.parse(json), null, 2);
  } catch {
    return json;
  }
};

export async function executionPage(ctx: ConsoleContext, machine: Machine, execution: DescribeExecutionOutput): Promise<View> {
  const arn = execution.executionArn ?? '';
  const [{ events, truncated }, definition] = await Promise.all([executionHistory(arn), definitionOf(arn)]);
  const lang = ctx.lang;
  const caseId = machine === 'journey' ? (execution.name ?? '').replace(/-r\d+$/, '') : undefined;
  const body = html`<div class="cards">
<div><span class="meta">${t({ id: 'Eksekusi', en: 'Execution' }, lang)}</span><code>${execution.name}</code></div>
<div><span class="meta">Status</span><span class="badge ${execution.status === 'FAILED' ? 'refused' : execution.status === 'RUNNING' ? 'running' : 'done'}">${execution.status}</span></div>
<div><span class="meta">${t({ id: 'Mulai', en: 'Started' }, lang)}</span><span>${dateTime(execution.startDate, lang)}</span></div>
<div><span class="meta">${t({ id: 'Berhenti', en: 'Stopped' }, lang)}</span><span>${dateTime(execution.stopDate, lang)}</span></div>
</div>
${caseId && html`<p><a href="${caseLink(caseId)}">${t({ id: '← Perjalanan kasus ini', en: "← This case's journey" }, lang)}</a></p>`}
${execution.error && html`<div class="notice bad"><p><code>${execution.error}</code></p><pre>${execution.cause ?? ''}</pre></div>`}
<h2>${t({ id: 'Diagram alur', en: 'State machine' }, lang)}</h2>
<figure>${renderStateGraph(definition, marksFromHistory(events), lang)}</figure>
<details><summary>${t({ id: 'Masukan dan keluaran', en: 'Input and output' }, lang)}</summary>
<h3>${t({ id: 'Masukan', en: 'Input' }, lang)}</h3><pre>${pretty(execution.input)}</pre>
<h3>${t({ id: 'Keluaran', en: 'Output' }, lang)}</h3><pre>${pretty(execution.output)}</pre></details>
<h2>${t({ id: 'Riwayat kejadian', en: 'Event history' }, lang)}</h2>
${truncated && html`<p class="warn">${t({ id: 'Riwayat dipotong: hanya 10.000 kejadian pertama.', en: 'History cut: only the first 10,000 events.' }, lang)}</p>`}
${historyTable(historyRows(events), lang)}`;
  return consolePage(ctx, 200, { id: 'Eksekusi', en: 'Execution' }, 'none', body);
}
