/**
 * The console's event table on a real recorded history (the journey ASL on the embedded
 * engine: two approval levels, a disbursement retried after a TransientError and then
 * failing for good, RecordFailure, Failed), and on AWS-shaped events whose previousEventId
 * chains interleave (two Parallel branches at once).
 */
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { beforeAll, describe, expect, it } from 'vitest';
import { duration, type HistoryRow, historyRows, historyTable, SHOWN_CHARS, wib } from '../../functions/console/history.ts';
import { recordJourney } from './journey-runs.ts';

let events: HistoryEvent[];
let rows: HistoryRow[];

beforeAll(async () => {
  const run = await recordJourney('disbursement-fails');
  await run.engine.close();
  events = run.events;
  rows = historyRows(events);
});

const rowsOf = (type: string, state?: string) =>
  rows.filter((r) => r.type === type && (state === undefined || r.state === state));

describe('historyRows on a recorded failing journey', () => {
  it('has one row per event, in order, each task event under the step it ran for', () => {
    expect(rows.map((r) => r.id)).toEqual(events.map((e) => e.id));
    expect(rows[0]).toMatchObject({ type: 'ExecutionStarted', elapsedMs: 0 });
    expect(rows[0]?.state).toBeUndefined();
    // The retry: scheduled, started, failed, and again.
    const disbursement = rows.filter((r) => r.state === 'Disbursement').map((r) => r.type);
    expect(disbursement).toEqual([
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskFailed',
      'TaskScheduled',
      'TaskStarted',
      'TaskFailed',
      'TaskStateExited',
    ]);
    expect(rowsOf('TaskSubmitted').map((r) => r.state)).toEqual(['AwaitGrantApproval', 'AwaitGrantApproval']);
    expect(rows.at(-1)).toMatchObject({ type: 'ExecutionFailed', failed: true });
  });

  it('gives the error and cause of each failure, and how long each step took', () => {
    const [retried, final] = rowsOf('TaskFailed', 'Disbursement');
    expect(retried).toMatchObject({ error: 'TransientError', failed: true });
    expect(JSON.parse(retried?.cause ?? '')).toMatchObject({ errorMessage: 'DynamoDB throttled the grant write' });
    expect(final?.error).toBe('LedgerUnavailableError');
    expect(rows.at(-1)?.error).toBe('LedgerUnavailableError');

    const exits = rowsOf('TaskStateExited', 'AwaitGrantApproval');
    const entries = rowsOf('TaskStateEntered', 'AwaitGrantApproval');
    expect(exits).toHaveLength(2);
    for (const [i, exit] of exits.entries()) {
      expect(exit.durationMs).toBe(exit.at.getTime() - (entries[i] as HistoryRow).at.getTime());
      // The approver's decision comes 5 ms after the wait began.
      expect(exit.durationMs).toBeGreaterThanOrEqual(4);
    }
    expect(rows.at(-1)?.elapsedMs).toBe((rows.at(-1) as HistoryRow).at.getTime() - (rows[0] as HistoryRow).at.getTime());
    expect(rowsOf('TaskStateEntered', 'LoadCase')[0]?.input?.text).toBe('{"caseId":"3210-2020-console0000000000000001"}');
  });

  it('reads pages in any order, one of them twice', () => {
    const shuffled = [...events.slice(30), ...events.slice(0, 30), ...events.slice(10, 20)];
    expect(historyRows(shuffled)).toEqual(rows);
  });
});

describe('historyRows on AWS-shaped events', () => {
  const at = (s: number) => new Date(Date.UTC(2026, 11, 1, 23, 0, s));
  const entered = (id: number, prev: number, name: string, s: number): HistoryEvent => ({
    id,
    previousEventId: prev,
    type: 'TaskStateEntered',
    timestamp: at(s),
    stateEnteredEventDetails: { name, input: '{}' },
  });
  const task = (id: number, prev: number, type: 'TaskScheduled' | 'TaskStarted' | 'TaskSucceeded', s: number): HistoryEvent => ({
    id,
    previousEventId: prev,
    type,
    timestamp: at(s),
  });

  it('follows previousEventId to the state each task event belongs to when two branches run at once', () => {
    const parallel: HistoryEvent[] = [
      { id: 1, previousEventId: 0, type: 'ExecutionStarted', timestamp: at(0) },
      { id: 2, previousEventId: 1, type: 'ParallelStateEntered', timestamp: at(0), stateEnteredEventDetails: { name: 'Both' } },
      entered(3, 2, 'Left', 1),
      entered(4, 2, 'Right', 1),
      task(5, 3, 'TaskScheduled', 1),
      task(6, 4, 'TaskScheduled', 1),
      task(7, 5, 'TaskStarted', 2),
      task(8, 6, 'TaskStarted', 2),
      task(9, 7, 'TaskSucceeded', 3),
      { id: 10, previousEventId: 9, type: 'TaskStateExited', timestamp: at(4), stateExitedEventDetails: { name: 'Left' } },
      task(11, 8, 'TaskSucceeded', 5),
    ];
    const states = historyRows(parallel).map((r) => [r.id, r.state]);
    expect(states).toEqual([
      [1, undefined],
      [2, 'Both'],
      [3, 'Left'],
      [4, 'Right'],
      [5, 'Left'],
      [6, 'Right'],
      [7, 'Left'],
      [8, 'Right'],
      [9, 'Left'],
      [10, 'Left'],
      [11, 'Right'],
    ]);
    expect(historyRows(parallel)[9]?.durationMs).toBe(3000);
  });
});

describe('historyTable', () => {
  it('shows the failures red, with the error, the message of the cause and the whole cause to open', () => {
    const table = historyTable(rows, 'en').value;
    const failedRows = table.match(/<tr class="failed">/g) ?? [];
    expect(failedRows).toHaveLength(3); // two TaskFailed, ExecutionFailed
    expect(table).toContain('<strong>TransientError</strong><p>DynamoDB throttled the grant write</p>');
    expect(table).toContain(
      '<strong>LedgerUnavailableError</strong><p>The BSiMU ledger refused the transfer: account frozen</p>',
    );
    expect(table).toContain('<details><summary>Cause</summary><pre>{\n  &quot;errorType&quot;: &quot;TransientError&quot;');
    // Input pretty-printed inside a details element; no script needed to open it.
    expect(table).toMatch(
      /<details><summary>Input<\/summary><pre>\{\n {2}&quot;caseId&quot;: &quot;3210-2020-console0000000000000001&quot;\n\}<\/pre>/,
    );
    for (const head of ['ID', 'Type', 'Step', 'Time', 'Elapsed', 'Duration', 'Details'])
      expect(table).toContain(`<th scope="col">${head}</th>`);
    expect(table).not.toMatch(/ style=|<script/);
  });

  it('is in Indonesian with the Indonesian units, the time in WIB and UTC', () => {
    const table = historyTable(rows, 'id').value;
    for (const head of ['Jenis', 'Langkah', 'Waktu', 'Sejak mulai', 'Durasi', 'Rincian'])
      expect(table).toContain(`<th scope="col">${head}</th>`);
    expect(table).toContain('<summary>Masukan</summary>');
    expect(table).toContain('<summary>Penyebab</summary>');
    const first = rows[0] as HistoryRow;
    expect(table).toContain(
      `<time datetime="${first.at.toISOString()}">${wib(first.at)}</time><span class="utc">${first.at.toISOString()}</span>`,
    );
    expect(table).toContain('<td class="n">0 ms</td>');
  });

  it('cuts a long payload at 2,000 characters and says so; escapes what a payload or cause holds', () => {
    const long = JSON.stringify({ note: 'x'.repeat(5_000) });
    const hostile: HistoryEvent[] = [
      {
        id: 1,
        type: 'ExecutionStarted',
        timestamp: new Date(0),
        executionStartedEventDetails: { input: long, inputDetails: { truncated: true } },
      },
      {
        id: 2,
        previousEventId: 1,
        type: 'ExecutionFailed',
        timestamp: new Date(1500),
        executionFailedEventDetails: { error: '<img src=x onerror=alert(1)>', cause: '<script>alert(1)</script>' },
      },
    ];
    const id = historyTable(historyRows(hostile), 'id').value;
    const indented = JSON.stringify(JSON.parse(long), null, 2).length; // 5,016
    expect(id).toContain(`Dipotong: 2.000 dari ${indented.toLocaleString('id-ID')} karakter ditampilkan.`);
    expect(id).toContain('Step Functions sudah memotong data ini');
    const shown = /<pre>([^<]*)<\/pre>/.exec(id)?.[1] ?? '';
    expect(shown.replaceAll('&quot;', '"').length).toBe(SHOWN_CHARS + 1);
    expect(id).not.toContain('<script>');
    expect(id).not.toContain('<img');
    expect(id).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(historyTable(historyRows(hostile), 'en').value).toContain(
      `Cut: 2,000 of ${indented.toLocaleString('en-GB')} characters shown.`,
    );
  });

  it('says there is nothing yet for an empty history', () => {
    expect(historyTable([], 'id').value).toBe('<p>Belum ada peristiwa.</p>');
    expect(historyTable([], 'en').value).toBe('<p>No events yet.</p>');
  });
});

describe('times', () => {
  it('writes WIB as UTC+7 and durations in the words of each language', () => {
    expect(wib(new Date('2026-12-01T23:52:27.123Z'))).toBe('2026-12-02 06:52:27.123 WIB');
    expect(duration(850, 'en')).toBe('850 ms');
    expect(duration(12_340, 'en')).toBe('12.3 s');
    expect(duration(12_340, 'id')).toBe('12,3 dtk');
    expect(duration(245_000, 'en')).toBe('4 min 05 s');
    expect(duration(2 * 3600_000 + 3 * 60_000, 'id')).toBe('2 jam 03 mnt');
    expect(duration(3 * 86_400_000 + 4 * 3600_000, 'id')).toBe('3 hari 4 jam');
  });
});
