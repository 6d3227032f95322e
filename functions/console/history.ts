/**
 * The event table of an execution, like the AWS console's: every history event with the
 * step it belongs to, when it happened (Western Indonesia Time first, the operators' clock;
 * UTC under it, the clock of CloudWatch and the AWS console), how long after the start, how
 * long a step took, its input and output, and the error and cause of a failure.
 *
 * The step of a Task, Lambda or Activity event is found through previousEventId, which on
 * AWS links each event to the one that caused it, back to the StateEntered of its state;
 * where the chain leaves the state (an exit, the execution), the innermost state still open
 * at that moment is taken, which is also right where an engine numbers events one after another.
 * Payloads are shown as indented JSON in a <details> (no script on these pages), cut at
 * 2,000 characters with a note saying so.
 */
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import type { Bilingual } from '#domain/errors';
import { Html, html } from '#web/html';
import type { Lang } from './graph.ts';

export interface HistoryRow {
  id: number;
  type: string;
  /** The state the event belongs to; none for the execution's own events. */
  state?: string;
  at: Date;
  /** Since ExecutionStarted (the first event when that page is missing). */
  elapsedMs: number;
  /** On a StateExited row: how long the state took, from its StateEntered. */
  durationMs?: number;
  input?: Payload;
  output?: Payload;
  error?: string;
  cause?: string;
  /** A failure, a timeout or an abort: the row is shown as such. */
  failed: boolean;
}

export interface Payload {
  text: string;
  /** Step Functions itself cut the payload (over 256 KiB). */
  truncatedAtSource: boolean;
}

/** How much of a payload or a cause the table shows. */
export const SHOWN_CHARS = 2_000;

const FAILURE = /(Failed|TimedOut|Aborted)$/;
const OF_A_TASK = /^(Task|LambdaFunction|Activity)(?!State)/;

type Details = {
  name?: string;
  input?: string;
  output?: string;
  parameters?: string;
  error?: string;
  cause?: string;
  inputDetails?: { truncated?: boolean };
  outputDetails?: { truncated?: boolean };
};

/** The `…EventDetails` member an event carries (one per event). */
function detailsOf(e: HistoryEvent): Details {
  for (const [key, value] of Object.entries(e)) {
    if (key.endsWith('EventDetails') && value && typeof value === 'object') return value as Details;
  }
  return {};
}

/** The events of all pages once each, in order (pages may come in any order, one twice). */
export function inOrder(events: HistoryEvent[]): HistoryEvent[] {
  const byId = new Map<number, HistoryEvent>();
  for (const e of events) if (e.id !== undefined) byId.set(e.id, e);
  return [...byId.values()].sort((a, b) => (a.id ?? 0) - (b.id ?? 0));
}

export function historyRows(events: HistoryEvent[]): HistoryRow[] {
  const ordered = inOrder(events);
  const byId = new Map(ordered.map((e) => [e.id as number, e]));
  const started = ordered.find((e) => e.type === 'ExecutionStarted') ?? ordered[0];
  const start = started?.timestamp?.getTime() ?? 0;
  /** Per state name, when its entries not yet exited began. */
  const entered = new Map<string, number[]>();
  /** States entered and not exited, innermost last. */
  const open: string[] = [];

  const viaChain = (e: HistoryEvent): string | undefined => {
    for (
      let at = byId.get(e.previousEventId ?? -1), hops = 0;
      at && hops < 10_000;
      at = byId.get(at.previousEventId ?? -1), hops++
    ) {
      const type = at.type ?? '';
      if (type.endsWith('StateEntered')) return detailsOf(at).name;
      if (type.endsWith('StateExited') || type.startsWith('Execution')) return undefined;
    }
    return undefined;
  };

  return ordered.map((e) => {
    const type = e.type ?? '';
    const at = e.timestamp ?? new Date(start);
    const d = detailsOf(e);
    let state: string | undefined;
    let durationMs: number | undefined;
    if (type.endsWith('StateEntered') && d.name) {
      state = d.name;
      open.push(d.name);
      entered.set(d.name, [...(entered.get(d.name) ?? []), at.getTime()]);
    } else if (type.endsWith('StateExited') && d.name) {
      state = d.name;
      const i = open.lastIndexOf(d.name);
      if (i >= 0) open.splice(i, 1);
      const since = entered.get(d.name)?.pop();
      if (since !== undefined) durationMs = at.getTime() - since;
    } else if (type.startsWith('MapIteration') && d.name) {
      state = d.name;
    } else if (!type.startsWith('Execution')) {
      state = (OF_A_TASK.test(type) ? viaChain(e) : undefined) ?? open.at(-1);
    }
    const row: HistoryRow = { id: e.id as number, type, at, elapsedMs: at.getTime() - start, failed: FAILURE.test(type) };
    if (state) row.state = state;
    if (durationMs !== undefined) row.durationMs = durationMs;
    const input = d.input ?? d.parameters;
    if (input !== undefined) row.input = { text: input, truncatedAtSource: d.inputDetails?.truncated === true };
    if (d.output !== undefined) row.output = { text: d.output, truncatedAtSource: d.outputDetails?.truncated === true };
    if (d.error) row.error = d.error;
    if (d.cause) row.cause = d.cause;
    return row;
  });
}

// ---- Formatting ----

const WIB_OFFSET_MS = 7 * 3600_000;

/** `2026-12-02 06:52:27.123 WIB`: Asia/Jakarta is UTC+7 all year (no daylight saving), so no time-zone data is needed. */
export function wib(at: Date): string {
  const iso = new Date(at.getTime() + WIB_OFFSET_MS).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)} WIB`;
}

const UNITS: Record<Lang, { ms: string; s: string; min: string; h: string; d: string }> = {
  id: { ms: 'ms', s: 'dtk', min: 'mnt', h: 'jam', d: 'hari' },
  en: { ms: 'ms', s: 's', min: 'min', h: 'h', d: 'd' },
};

/** 850 ms, 12.3 s, 4 min 05 s, 2 h 03 min, 3 d 4 h (Indonesian: ms, dtk, mnt, jam, hari, decimal comma). */
export function duration(ms: number, lang: Lang): string {
  const u = UNITS[lang];
  const sign = ms < 0 ? '-' : '';
  const a = Math.abs(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  if (a < 1000) return `${sign}${Math.round(a)} ${u.ms}`;
  if (a < 60_000) return `${sign}${(a / 1000).toFixed(1).replace('.', lang === 'id' ? ',' : '.')} ${u.s}`;
  const s = Math.floor(a / 1000);
  if (s < 3600) return `${sign}${Math.floor(s / 60)} ${u.min} ${pad(s % 60)} ${u.s}`;
  if (s < 86_400) return `${sign}${Math.floor(s / 3600)} ${u.h} ${pad(Math.floor((s % 3600) / 60))} ${u.min}`;
  return `${sign}${Math.floor(s / 86_400)} ${u.d} ${Math.floor((s % 86_400) / 3600)} ${u.h}`;
}

/** Indented JSON when the text is JSON, the text as it is when not. */
export function pretty(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

const count = (n: number, lang: Lang) => n.toLocaleString(lang === 'id' ? 'id-ID' : 'en-GB');

const WORDS = {
  caption: { id: 'Riwayat peristiwa eksekusi', en: 'Execution event history' },
  id: { id: 'ID', en: 'ID' },
  type: { id: 'Jenis', en: 'Type' },
  state: { id: 'Langkah', en: 'Step' },
  at: { id: 'Waktu', en: 'Time' },
  elapsed: { id: 'Sejak mulai', en: 'Elapsed' },
  duration: { id: 'Durasi', en: 'Duration' },
  details: { id: 'Rincian', en: 'Details' },
  input: { id: 'Masukan', en: 'Input' },
  output: { id: 'Keluaran', en: 'Output' },
  cause: { id: 'Penyebab', en: 'Cause' },
  error: { id: 'Galat', en: 'Error' },
  atSource: {
    id: 'Step Functions sudah memotong data ini (lebih dari 256 KiB).',
    en: 'Step Functions cut this data (over 256 KiB).',
  },
  none: { id: 'Belum ada peristiwa.', en: 'No events yet.' },
} satisfies Record<string, Bilingual>;

function cut(text: string, lang: Lang): { shown: string; note?: string } {
  if (text.length <= SHOWN_CHARS) return { shown: text };
  const note =
    lang === 'id'
      ? `Dipotong: ${count(SHOWN_CHARS, lang)} dari ${count(text.length, lang)} karakter ditampilkan.`
      : `Cut: ${count(SHOWN_CHARS, lang)} of ${count(text.length, lang)} characters shown.`;
  return { shown: `${text.slice(0, SHOWN_CHARS)}…`, note };
}

function payload(summary: Bilingual, p: Payload, lang: Lang): Html {
  const { shown, note } = cut(pretty(p.text), lang);
  return html`<details><summary>${summary[lang]}</summary><pre>${shown}</pre>${note && html`<p class="cut">${note}</p>`}${p.truncatedAtSource && html`<p class="cut">${WORDS.atSource[lang]}</p>`}</details>`;
}

/** A Lambda error's cause is JSON ({errorType, errorMessage, trace}): the message is what a person reads first. */
function causeMessage(cause: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(cause);
    if (parsed && typeof parsed === 'object' && 'errorMessage' in parsed && typeof parsed.errorMessage === 'string') {
      return parsed.errorMessage;
    }
  } catch {
    // A cause in plain words is shown as it is.
  }
  return undefined;
}

function failure(row: HistoryRow, lang: Lang): Html {
  if (!row.error && !row.cause) return html``;
  const message = row.cause ? (causeMessage(row.cause) ?? row.cause) : undefined;
  const { shown, note } = cut(message ?? '', lang);
  const full =
    row.cause && message !== row.cause ? payload(WORDS.cause, { text: row.cause, truncatedAtSource: false }, lang) : '';
  return html`<div class="error">${row.error && html`<strong>${row.error}</strong>`}${message && html`<p>${shown}</p>`}${note && html`<p class="cut">${note}</p>`}</div>${full}`;
}

/** The rows as a table; every label in `lang`. The table scrolls sideways in its box on a phone (HISTORY_STYLE). */
export function historyTable(rows: HistoryRow[], lang: Lang): Html {
  if (rows.length === 0) return html`<p>${WORDS.none[lang]}</p>`;
  const head = (['id', 'type', 'state', 'at', 'elapsed', 'duration', 'details'] as const).map(
    (k) => html`<th scope="col">${WORDS[k][lang]}</th>`,
  );
  const body = rows.map(
    (r) => html`<tr${new Html(r.failed ? ' class="failed"' : '')}>
<td class="n">${r.id}</td><td>${r.type}</td><td>${r.state ?? ''}</td><td><time datetime="${r.at.toISOString()}">${wib(r.at)}</time><span class="utc">${r.at.toISOString()}</span></td><td class="n">${duration(r.elapsedMs, lang)}</td><td class="n">${r.durationMs === undefined ? '' : duration(r.durationMs, lang)}</td><td>${failure(r, lang)}${r.input && payload(WORDS.input, r.input, lang)}${r.output && payload(WORDS.output, r.output, lang)}</td>
</tr>`,
  );
  return html`<div class="history"><table class="history">
<caption>${WORDS.caption[lang]}</caption>
<thead><tr>${head}</tr></thead>
<tbody>
${body}
</tbody>
</table></div>`;
}

/** The rules the console's stylesheet adds for the table. */
export const HISTORY_STYLE = [
  'div.history{overflow-x:auto;-webkit-overflow-scrolling:touch;margin:.5rem 0}',
  'table.history{border-collapse:collapse;font-size:.875rem;min-width:48rem;width:100%}',
  'table.history caption{text-align:left;font-weight:700;padding:.25rem 0}',
  'table.history th,table.history td{text-align:left;vertical-align:top;padding:.375rem .5rem;border-bottom:1px solid #d6d6d6}',
  'table.history .n{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}',
  'table.history tr.failed{background:#fbeef0}',
  'table.history .utc{display:block;color:#4a4a4a;font-size:.75rem}',
  'table.history time{white-space:nowrap}',
  'table.history pre{white-space:pre-wrap;overflow-wrap:anywhere;max-width:36rem;margin:.25rem 0;font-size:.8125rem;background:#f6f6f6;padding:.375rem}',
  'table.history .error{color:#a0001c}',
  'table.history .cut{font-size:.75rem;color:#4a4a4a}',
  'table.history summary{cursor:pointer;color:#0b5e3c}',
].join('');
