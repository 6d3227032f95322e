/**
 * The console's state-machine graph: the real journey and intake definitions laid out with
 * nothing overlapping and everything inside the picture, the marks of real recorded
 * executions (the embedded engine running the journey ASL) drawn where an operator looks for
 * them, and the SVG within what the pages' policy allows (no style, no script).
 */
import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../embedded/stepfunctions/engine.ts';
import {
  DefinitionUnreadableError,
  type GraphLayout,
  type LaidOutCluster,
  layoutStateGraph,
  marksFromHistory,
  renderStateGraph,
  type StateMarks,
  wrapName,
} from '../../functions/console/graph.ts';
import { allPages, INTAKE_ASL, JOURNEY_ASL, recordJourney } from './journey-runs.ts';

let journey: string;
let intake: string;

beforeAll(async () => {
  journey = await readFile(JOURNEY_ASL, 'utf8');
  intake = await readFile(INTAKE_ASL, 'utf8');
});

type Box = { x: number; y: number; width: number; height: number };
const overlaps = (a: Box, b: Box) => Math.abs(a.x - b.x) * 2 < a.width + b.width && Math.abs(a.y - b.y) * 2 < a.height + b.height;
const inside = (a: Box, outer: Box) =>
  a.x - a.width / 2 >= outer.x - outer.width / 2 &&
  a.x + a.width / 2 <= outer.x + outer.width / 2 &&
  a.y - a.height / 2 >= outer.y - outer.height / 2 &&
  a.y + a.height / 2 <= outer.y + outer.height / 2;

/** Every state name of a definition, nested ones too. */
function stateNames(definition: string): string[] {
  const names: string[] = [];
  const walk = (machine: { States: Record<string, Record<string, unknown>> }) => {
    for (const [name, state] of Object.entries(machine.States)) {
      names.push(name);
      const processor = (state.ItemProcessor ?? state.Iterator) as typeof machine | undefined;
      if (processor) walk(processor);
      for (const branch of (state.Branches ?? []) as (typeof machine)[]) walk(branch);
    }
  };
  walk(JSON.parse(definition));
  return names;
}

/** The layout is drawable: no two boxes overlap, a cluster holds its own and nobody else's, all of it within the size. */
function expectClean(layout: GraphLayout): void {
  const ancestors = (c: string | undefined): string[] => {
    const out: string[] = [];
    for (let id = c; id; id = layout.clusters.find((k) => k.id === id)?.parent) out.push(id);
    return out;
  };
  for (const [i, a] of layout.nodes.entries()) {
    for (const b of layout.nodes.slice(i + 1)) expect(overlaps(a, b), `${a.id} overlaps ${b.id}`).toBe(false);
    for (const c of layout.clusters) {
      const mine = ancestors(a.parent).includes(c.id);
      if (mine) expect(inside(a, c), `${a.id} inside ${c.id}`).toBe(true);
      else expect(overlaps(a, c), `${a.id} overlaps cluster ${c.id}`).toBe(false);
    }
    expect(inside(a, { x: layout.width / 2, y: layout.height / 2, width: layout.width, height: layout.height })).toBe(true);
  }
  const siblings = (a: LaidOutCluster, b: LaidOutCluster) => a.parent === b.parent;
  for (const [i, a] of layout.clusters.entries()) {
    for (const b of layout.clusters.slice(i + 1)) if (siblings(a, b)) expect(overlaps(a, b), `${a.id} / ${b.id}`).toBe(false);
  }
  for (const e of layout.edges) {
    expect(e.points.length).toBeGreaterThanOrEqual(2);
    for (const p of e.points) {
      expect(p.x).toBeGreaterThanOrEqual(0);
      expect(p.y).toBeGreaterThanOrEqual(0);
      expect(p.x).toBeLessThanOrEqual(layout.width);
      expect(p.y).toBeLessThanOrEqual(layout.height);
    }
  }
}

function viewBox(svg: string): number[] {
  return (/viewBox="([^"]+)"/.exec(svg)?.[1] ?? '').split(' ').map(Number);
}

const drawnStates = (svg: string) => [...svg.matchAll(/data-state="([^"]*)"/g)].map((m) => m[1]);
const nodeOf = (svg: string, name: string) => new RegExp(`<g data-state="${name}"[^>]*>.*?</g>`).exec(svg)?.[0] ?? '';

describe('the real definitions', () => {
  it('draws every state of the journey once, Mentoring as a cluster around its milestones, nothing overlapping', () => {
    const layout = layoutStateGraph(journey, 'id');
    expectClean(layout);
    const svg = renderStateGraph(journey, { visited: new Set() }, 'id').value;
    const names = stateNames(journey);
    expect(names).toHaveLength(30);
    expect(drawnStates(svg).sort()).toEqual([...names].sort());
    const mentoring = layout.clusters.find((c) => c.name === 'Mentoring') as LaidOutCluster;
    for (const inner of ['OpenMilestoneReport', 'AwaitMilestoneReport', 'MilestoneReported', 'MilestoneMissed', 'Mentoring']) {
      const node = layout.nodes.find((n) => n.name === inner);
      expect(node?.parent).toBe(mentoring.id);
    }
    // The picture is the layout plus the legend above it.
    const [, , w, h] = viewBox(svg);
    expect(w).toBeGreaterThanOrEqual(layout.width);
    expect(h).toBeGreaterThan(layout.height);
  });

  it('draws the intake with its Distributed Map holding the batch Map, one cluster inside the other', () => {
    const layout = layoutStateGraph(intake, 'en');
    expectClean(layout);
    const outer = layout.clusters.find((c) => c.name === 'StartJourneys');
    const inner = layout.clusters.find((c) => c.name === 'StartBatch');
    expect(inner?.parent).toBe(outer?.id);
    expect(inside(inner as LaidOutCluster, outer as LaidOutCluster)).toBe(true);
    const svg = renderStateGraph(intake, { visited: new Set() }, 'en').value;
    expect(drawnStates(svg).sort()).toEqual(stateNames(intake).sort());
    expect(nodeOf(svg, 'StartJourneys')).toContain('Map (distributed)');
    // Caught into by two states only: both lines are drawn, no box names it.
    expect(layout.edges.filter((e) => e.to === 's:IntakeFailed').map((e) => e.from)).toEqual([
      's:ReadProposal',
      'j:s:StartJourneys',
    ]);
    expect(layout.nodes.some((n) => n.stubs)).toBe(false);
  });

  it('draws Choice loops and Catch edges: the approval loop back up, the timeout dashed and named', () => {
    const layout = layoutStateGraph(journey, 'en');
    const back = layout.edges.find((e) => e.from === 's:NextApprovalLevel' && e.to === 's:OpenGrantApproval');
    expect(back?.kind).toBe('choice');
    const timeout = layout.edges.find((e) => e.from === 's:AwaitGrantApproval' && e.to === 's:OpenGrantApproval');
    expect(timeout).toMatchObject({ kind: 'catch', label: 'Timeout', title: 'on error: States.Timeout' });
    const rejected = layout.edges.find((e) => e.from === 's:AwaitGrantApproval' && e.to === 's:Rejected');
    expect(rejected?.label).toBe('GrantRejected');
    // RecordFailure, which every Task catches into, keeps two lines (from the last catcher, Close, and from
    // Mentoring's cluster); every other catcher names it in its box. A catch-all line has no word on it.
    const toFailure = layout.edges.filter((e) => e.to === 's:RecordFailure');
    expect(toFailure.map((e) => e.from).sort()).toEqual(['j:s:Mentoring', 's:Close']);
    expect(toFailure[0]?.label).toBeUndefined();
    expect(toFailure[0]?.title).toBe('on error: States.ALL (any error)');
    const named = layout.nodes.filter((n) => n.stubs?.includes('RecordFailure')).map((n) => n.name);
    expect(named).toEqual(expect.arrayContaining(['LoadCase', 'Verification', 'AwaitGrantApproval', 'Grading']));
    expect(named).toHaveLength(10);
    const loadCase = renderStateGraph(journey, { visited: new Set() }, 'en').value;
    expect(nodeOf(loadCase, 'LoadCase')).toContain('>on error → RecordFailure</text>');
    expect(nodeOf(loadCase, 'LoadCase')).toContain('<title>LoadCase (Task) — not visited; on error → RecordFailure</title>');
    // Mentoring's Next and Catch leave from the bottom of its cluster.
    expect(layout.edges.find((e) => e.to === 's:Grading')?.from).toBe('j:s:Mentoring');
    const svg = renderStateGraph(journey, { visited: new Set() }, 'en').value;
    expect(svg).toMatch(/<g><title>on error: States.Timeout<\/title><path [^>]*stroke-dasharray="5 4"/);
  });
});

describe('marks of recorded executions', () => {
  it('paints the state that ended a failed journey red, the states before it visited, the rest grey', async () => {
    const { events, pages, engine } = await recordJourney('disbursement-fails');
    await engine.close();
    expect(pages).toBeGreaterThan(1);
    const marks = marksFromHistory(events);
    expect(marks.failed).toBe('Failed');
    expect(marks.current).toBeUndefined();
    expect([...marks.visited]).toEqual(
      expect.arrayContaining(['LoadCase', 'OpenGrantApproval', 'AwaitGrantApproval', 'Disbursement', 'RecordFailure']),
    );
    expect(marks.visited.has('Grading')).toBe(false);
    expect(marks.counts?.get('OpenGrantApproval')).toBe(2);

    const svg = renderStateGraph(journey, marks, 'id').value;
    expect(nodeOf(svg, 'Failed')).toContain('data-status="failed"');
    expect(nodeOf(svg, 'Failed')).toContain('stroke="#a0001c"');
    expect(nodeOf(svg, 'Failed')).toContain('<title>Failed (Fail) — gagal</title>');
    expect(nodeOf(svg, 'Disbursement')).toContain('data-status="visited"');
    expect(nodeOf(svg, 'Grading')).toContain('data-status="unvisited"');
    expect(nodeOf(svg, 'Grading')).toContain('fill="#f2f2f2"');
    // Entered twice (two approval levels): the count shows on the box.
    expect(nodeOf(svg, 'OpenGrantApproval')).toContain('>×2</text>');
    expect(svg).toContain('aria-label="Graf mesin status: 30 status, 9 sudah dilalui; gagal di Failed"');
    // Said in words above the graph too: a phone's first view of the scrolling box shows it.
    expect(svg).toContain('>Gagal di Failed · 9 dari 30 status dilalui</text>');
  });

  it('marks where a waiting journey is, and nothing failed', async () => {
    const { events, engine } = await recordJourney('waits-at-second-level');
    await engine.close();
    const marks = marksFromHistory(events);
    expect(marks).toMatchObject({ current: 'AwaitGrantApproval' });
    expect(marks.failed).toBeUndefined();
    const svg = renderStateGraph(journey, marks, 'en').value;
    const node = nodeOf(svg, 'AwaitGrantApproval');
    expect(node).toContain('data-status="current"');
    expect(node).toContain('stroke-width="3.5"');
    expect(node).toContain('font-weight="700"');
    expect(svg).toContain('current: AwaitGrantApproval');
    expect(svg).toContain('>Now at AwaitGrantApproval · 6 of 30 states visited</text>');
  });

  it('marks a finished journey without a current state, the milestones entered twice', async () => {
    const { events, engine } = await recordJourney('graduates');
    await engine.close();
    const marks = marksFromHistory(events);
    expect(marks.current).toBeUndefined();
    expect(marks.failed).toBeUndefined();
    expect(marks.counts?.get('AwaitMilestoneReport')).toBe(2);
    expect(marks.visited.has('Closed')).toBe(true);
    expect(marks.visited.has('MilestoneMissed')).toBe(false);
  });

  it('reads the pages in any order and a page read twice the same as one history', async () => {
    const { events, engine } = await recordJourney('disbursement-fails');
    await engine.close();
    const pages = [events.slice(0, 20), events.slice(20, 40), events.slice(40)];
    const shuffled = [...(pages[2] ?? []), ...(pages[0] ?? []), ...(pages[1] ?? []), ...(pages[1] ?? [])];
    expect(marksFromHistory(shuffled)).toEqual(marksFromHistory(events));
  });

  it('names the Task whose error ended an execution without a Catch, and the Parallel branch it failed in', async () => {
    const engine = new Engine({ retryIntervalMs: 1 });
    engine.registerLambda('ok', async () => ({ ok: true }));
    engine.registerLambda('broken', async () => {
      throw Object.assign(new Error('no'), { name: 'BrokenError' });
    });
    const task = (fn: string, rest: Record<string, unknown>) => ({
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: { FunctionName: fn, 'Payload.$': '$' },
      ...rest,
    });
    const definition = JSON.stringify({
      StartAt: 'Both',
      States: {
        Both: {
          Type: 'Parallel',
          Branches: [
            { StartAt: 'Fine', States: { Fine: task('ok', { End: true }) } },
            { StartAt: 'Breaks', States: { Breaks: task('broken', { End: true }) } },
          ],
          Next: 'After',
        },
        After: { Type: 'Succeed' },
      },
    });
    const arn = engine.registerStateMachine('parallel', definition, {});
    const { executionArn } = await engine.startExecution({ stateMachineArn: arn });
    await engine.waitForExecution(executionArn);
    const { events } = allPages(engine, executionArn);
    await engine.close();

    const marks = marksFromHistory(events);
    expect(marks.failed).toBe('Breaks');
    expect(marks.visited.has('After')).toBe(false);
    const layout = layoutStateGraph(definition, 'en');
    expectClean(layout);
    const branches = layout.clusters.filter((c) => c.parent === 'c:s:Both');
    expect(branches.map((b) => b.name)).toEqual(['Branch 1', 'Branch 2']);
    expect(nodeOf(renderStateGraph(definition, marks, 'en').value, 'Breaks')).toContain('data-status="failed"');
  });

  it('takes the failure of a redriven execution back: it runs again', () => {
    const at = new Date('2026-12-01T00:00:00Z');
    const ev = (id: number, type: string, name?: string) => ({
      id,
      type,
      timestamp: at,
      ...(name && type.endsWith('Entered') ? { stateEnteredEventDetails: { name } } : {}),
      ...(name && type.endsWith('Exited') ? { stateExitedEventDetails: { name } } : {}),
    });
    const failedOnce = [
      ev(1, 'ExecutionStarted'),
      ev(2, 'TaskStateEntered', 'Pay'),
      ev(3, 'TaskFailed'),
      ev(4, 'ExecutionFailed'),
    ];
    expect(marksFromHistory(failedOnce as never).failed).toBe('Pay');
    const redriven = [...failedOnce, ev(5, 'ExecutionRedriven'), ev(6, 'TaskStateEntered', 'Pay')];
    const marks = marksFromHistory(redriven as never);
    expect(marks.failed).toBeUndefined();
    expect(marks.current).toBe('Pay');
    expect(marks.counts?.get('Pay')).toBe(2);
  });
});

describe('what an operator can be shown', () => {
  it('escapes a state named <script>: in the box, its title and the aria label', () => {
    const evil = '<script>alert(1)</script>';
    const definition = JSON.stringify({
      StartAt: evil,
      States: { [evil]: { Type: 'Pass', Next: 'B"&' }, 'B"&': { Type: 'Succeed' } },
    });
    const marks: StateMarks = { visited: new Set([evil]), current: evil };
    const svg = renderStateGraph(definition, marks, 'en').value;
    expect(svg).not.toContain('<script');
    expect(svg).toContain('&lt;script&gt;');
    expect(svg).toContain('data-state="B&quot;&amp;"');
    expect(svg).toContain('current: &lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('wraps a long name on two lines at a word boundary and keeps the whole name in the title', () => {
    const long = 'RecordTheFinancingOutcomeReportedByTheLenderAfterTheDeadline';
    expect(wrapName('Verification')).toEqual(['Verification']);
    const lines = wrapName(long);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^RecordTheFinancing/);
    expect(lines[1]).toMatch(/…$/);
    const definition = JSON.stringify({ StartAt: long, States: { [long]: { Type: 'Succeed' } } });
    const layout = layoutStateGraph(definition, 'id');
    expect(layout.nodes.find((n) => n.name === long)?.width).toBeLessThanOrEqual(196);
    expect(renderStateGraph(definition, { visited: new Set() }, 'id').value).toContain(
      `<title>${long} (Succeed) — belum dilalui</title>`,
    );
  });

  it('lays out 60 states with loops back from every tenth', () => {
    const states: Record<string, unknown> = {};
    for (let i = 1; i <= 60; i++) {
      const next = i === 60 ? { End: true } : { Next: `Step${i + 1}` };
      states[`Step${i}`] =
        i % 10 === 0
          ? {
              Type: 'Choice',
              Choices: [{ Variable: '$.again', BooleanEquals: true, Next: `Step${i - 9}` }],
              Default: i === 60 ? 'Done' : `Step${i + 1}`,
            }
          : { Type: i % 3 === 0 ? 'Wait' : 'Task', Resource: 'arn:aws:states:::lambda:invoke', Seconds: 1, ...next };
    }
    states.Done = { Type: 'Succeed' };
    const definition = JSON.stringify({ StartAt: 'Step1', States: states });
    const started = performance.now();
    const layout = layoutStateGraph(definition, 'en');
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(layout.nodes.filter((n) => n.kind === 'state')).toHaveLength(61);
    expectClean(layout);
  });

  it('has the legend in the chosen language and nothing the pages policy refuses', () => {
    const id = renderStateGraph(journey, { visited: new Set() }, 'id').value;
    const en = renderStateGraph(journey, { visited: new Set() }, 'en').value;
    for (const word of ['sudah dilalui', 'sedang di sini', 'gagal', 'belum dilalui', 'saat galat', '>Mulai<', '>Selesai<']) {
      expect(id).toContain(word);
    }
    for (const word of ['>visited<', '>current<', '>failed<', '>not visited<', '>on error<', '>Start<', '>End<'])
      expect(en).toContain(word);
    for (const svg of [id, en]) {
      expect(svg).not.toMatch(/ style=|<style|<script|javascript:| on[a-z]+=/i);
      expect(svg).toMatch(/^<svg [^>]*role="img" aria-label="[^"]+"/);
    }
  });

  it('draws the same string for the same definition and marks', () => {
    const marks = (): StateMarks => ({ visited: new Set(['LoadCase', 'RouteByStage']), current: 'RouteByStage' });
    expect(renderStateGraph(journey, marks(), 'id').value).toBe(renderStateGraph(journey, marks(), 'id').value);
  });

  it('refuses what is not a definition it can draw, with a named error in both languages', () => {
    const refusal = (text: string) => {
      try {
        renderStateGraph(text, { visited: new Set() }, 'id');
      } catch (e) {
        return e;
      }
      return undefined;
    };
    const notJson = refusal('{"StartAt":');
    expect(notJson).toBeInstanceOf(DefinitionUnreadableError);
    expect(notJson).toMatchObject({
      name: 'DefinitionUnreadableError',
      code: 'DEFINITION_UNREADABLE',
      text: {
        id: 'Definisi mesin status tidak dapat dibaca: bukan JSON',
        en: 'The state machine definition cannot be read: it is not JSON',
      },
    });
    expect(refusal('{"StartAt":"A","States":{"A":{"Next":"B"}}}')).toMatchObject({
      text: { en: 'The state machine definition cannot be read: it is not valid ASL (at States.A.Type)' },
    });
    expect(refusal('{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"Nowhere"}}}')).toMatchObject({
      text: {
        id: 'Definisi mesin status tidak dapat dibaca: A menunjuk ke Nowhere, yang tidak ada',
        en: 'The state machine definition cannot be read: A points to Nowhere, which does not exist',
      },
    });
    expect(refusal('{"StartAt":"Z","States":{"A":{"Type":"Succeed"}}}')).toBeInstanceOf(DefinitionUnreadableError);
  });
});
