/**
 * The state-machine graph of the operators' console: the ASL definition laid out with dagre
 * (a layered layout, like the AWS console's graph; loops such as Choice → an earlier state
 * are reversed internally and drawn back up), the states an execution went through marked on
 * it. Map item processors and Parallel branches are compound clusters: the Map or Parallel
 * state is the header box at the top of its cluster, and a small join box at its bottom is
 * where its Next and Catch edges leave from (dagre lays out edges between leaf nodes only).
 *
 * The pages allow one stylesheet and no script, so the SVG uses presentation attributes only.
 * Text is measured by an estimate (no DOM on Lambda), generous enough that names fit their box.
 * The same definition and marks give the same string, so tests compare output.
 *
 * Over 400 lines on purpose: reading the ASL, laying it out and drawing it are one picture
 * whose parts share its sizes and words (text widths, node heights, the legend's terms), and
 * marksFromHistory says what the colours mean; apart, each would need the others' internals.
 */
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { layout as dagreLayout, type EdgeLabel, Graph, type GraphLabel, type NodeLabel } from '@dagrejs/dagre';
import { type Bilingual, ProkusError } from '#domain/errors';
import * as z from '#domain/zod';
import { Html, html } from '#web/html';
import { textWidth } from './measure.ts';

export type Lang = 'id' | 'en';

/** What an execution did to the states of its machine (marksFromHistory). */
export interface StateMarks {
  visited: Set<string>;
  /** Entered and not yet exited while the execution runs or waits. */
  current?: string;
  /** The state whose failure ended the execution. */
  failed?: string;
  /** Times each state was entered. */
  counts?: Map<string, number>;
}

/** The definition is not ASL this graph can draw: not JSON, no States, a Next to a state that does not exist. */
export class DefinitionUnreadableError extends ProkusError {
  readonly name = 'DefinitionUnreadableError';
  constructor(reason: Bilingual) {
    super('DEFINITION_UNREADABLE', {
      id: `Definisi mesin status tidak dapat dibaca: ${reason.id}`,
      en: `The state machine definition cannot be read: ${reason.en}`,
    });
  }
}

// ---- ASL, as far as the graph needs it (unknown fields are kept and ignored) ----

interface AslMachine {
  StartAt: string;
  States: Record<string, AslState>;
}
interface AslState {
  Type: string;
  Next?: string;
  End?: boolean;
  Default?: string;
  Choices?: { Next?: string }[];
  Catch?: { ErrorEquals: string[]; Next: string }[];
  ItemProcessor?: AslMachine & { ProcessorConfig?: { Mode?: string } };
  Iterator?: AslMachine;
  Branches?: AslMachine[];
}

const Machine: z.ZodMiniType<AslMachine> = z.lazy(() =>
  z.looseObject({ StartAt: z.string(), States: z.record(z.string(), State) }),
);
const State: z.ZodMiniType<AslState> = z.lazy(() =>
  z.looseObject({
    Type: z.string(),
    Next: z.optional(z.string()),
    End: z.optional(z.boolean()),
    Default: z.optional(z.string()),
    Choices: z.optional(z.array(z.looseObject({ Next: z.optional(z.string()) }))),
    Catch: z.optional(z.array(z.looseObject({ ErrorEquals: z.array(z.string()), Next: z.string() }))),
    ItemProcessor: z.optional(
      z.looseObject({
        StartAt: z.string(),
        States: z.record(z.string(), State),
        ProcessorConfig: z.optional(z.looseObject({ Mode: z.optional(z.string()) })),
      }),
    ),
    Iterator: z.optional(Machine),
    Branches: z.optional(z.array(Machine)),
  }),
);

function parseDefinition(definitionJson: string): AslMachine {
  let json: unknown;
  try {
    json = JSON.parse(definitionJson);
  } catch {
    throw new DefinitionUnreadableError({ id: 'bukan JSON', en: 'it is not JSON' });
  }
  const parsed = z.safeParse(Machine, json);
  if (!parsed.success) {
    const where = parsed.error.issues[0]?.path.join('.') || '(root)';
    throw new DefinitionUnreadableError({
      id: `bukan ASL yang sah (di ${where})`,
      en: `it is not valid ASL (at ${where})`,
    });
  }
  return parsed.data;
}

// ---- The laid-out graph ----

export type NodeKind = 'state' | 'start' | 'end' | 'join';

export interface LaidOutNode {
  id: string;
  kind: NodeKind;
  /** The state name (states only); a name may be drawn once per machine. */
  name?: string;
  stateType?: string;
  lines: string[];
  /** Shared Catch handlers named in the box instead of drawn as lines (sharedHandlerStubs). */
  stubs?: string[];
  /** The cluster it is drawn in. */
  parent?: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface LaidOutCluster {
  id: string;
  /** The Map or Parallel state (or a Parallel branch) the cluster belongs to. */
  name: string;
  parent?: string;
  depth: number;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface LaidOutEdge {
  from: string;
  to: string;
  kind: 'next' | 'choice' | 'default' | 'catch';
  /** Shortened error names on a Catch edge; the default branch's word on a Choice. */
  label?: string;
  /** Every error name of a Catch edge. */
  title?: string;
  points: { x: number; y: number }[];
  labelAt?: { x: number; y: number; width: number; height: number };
}

export interface GraphLayout {
  width: number;
  height: number;
  nodes: LaidOutNode[];
  clusters: LaidOutCluster[];
  edges: LaidOutEdge[];
}

const NAME_SIZE = 13;
const TYPE_SIZE = 11;
const LABEL_SIZE = 11;
const NODE_MIN = 96;
const NODE_MAX = 196;
const PAD_X = 12;

/** Where a long state name may break: after a lower-case letter before an upper-case one, or after - _ . / space. */
function breakPoints(name: string): number[] {
  const at: number[] = [];
  for (let i = 1; i < name.length; i++) {
    const prev = name[i - 1] as string;
    const c = name[i] as string;
    if (/[-_./ ]/.test(prev) || (/[a-z0-9]/.test(prev) && /[A-Z]/.test(c))) at.push(i);
  }
  return at;
}

function truncate(text: string, size: number, max: number, bold: boolean): string {
  if (textWidth(text, size, bold) <= max) return text;
  let out = text;
  while (out.length > 1 && textWidth(`${out}…`, size, bold) > max) out = out.slice(0, -1);
  return `${out}…`;
}

/** The name in one line, or two broken at a word boundary, truncated with … past two. Bold: it may be the current state. */
export function wrapName(name: string): string[] {
  const max = NODE_MAX - 2 * PAD_X;
  if (textWidth(name, NAME_SIZE, true) <= max) return [name];
  let best: [string, string] | undefined;
  for (const i of breakPoints(name)) {
    const a = name.slice(0, i).trimEnd();
    const b = name.slice(i).trimStart();
    const worst = Math.max(textWidth(a, NAME_SIZE, true), textWidth(b, NAME_SIZE, true));
    const bestWorst = best ? Math.max(textWidth(best[0], NAME_SIZE, true), textWidth(best[1], NAME_SIZE, true)) : Infinity;
    if (worst < bestWorst) best = [a, b];
  }
  if (!best) {
    // No word boundary: cut by width.
    let cut = name.length;
    while (cut > 1 && textWidth(name.slice(0, cut), NAME_SIZE, true) > max) cut--;
    best = [name.slice(0, cut), name.slice(cut)];
  }
  return [truncate(best[0], NAME_SIZE, max, true), truncate(best[1], NAME_SIZE, max, true)];
}

const WORDS = {
  start: { id: 'Mulai', en: 'Start' },
  end: { id: 'Selesai', en: 'End' },
  default: { id: 'lainnya', en: 'default' },
  anyError: { id: 'galat apa pun', en: 'any error' },
  onError: { id: 'saat galat', en: 'on error' },
  joinMap: { id: 'Akhir iterasi', en: 'End of iteration' },
  joinParallel: { id: 'Akhir cabang', en: 'End of branches' },
  branch: { id: 'Cabang', en: 'Branch' },
} satisfies Record<string, Bilingual>;

/**
 * `["States.Timeout", "DeadlinePassedError"]` → "Timeout, DeadlinePassed": what an operator
 * needs on a line (the full names are in the edge's title). A catch-all has no label: every
 * Task has one, and a word on each would crowd the graph; the legend says what a dashed line is.
 */
export function catchLabel(errors: string[]): string | undefined {
  if (errors.includes('States.ALL')) return undefined;
  const short = errors.map((e) => (e.split('.').at(-1) ?? e).replace(/(Error|Exception)$/, '') || e);
  const first = short.slice(0, 2).join(', ');
  const text = short.length > 2 ? `${first} +${short.length - 2}` : first;
  return truncate(text, LABEL_SIZE, 150, false);
}

function catchTitle(errors: string[], lang: Lang): string {
  return `${WORDS.onError[lang]}: ${errors.map((e) => (e === 'States.ALL' ? `${e} (${WORDS.anyError[lang]})` : e)).join(', ')}`;
}

interface Builder {
  g: Graph<GraphLabel, NodeData, EdgeData>;
  lang: Lang;
  edgeCount: number;
}
interface NodeData extends NodeLabel {
  kind?: NodeKind | 'cluster';
  name?: string;
  stateType?: string;
  lines?: string[];
  depth?: number;
  stubs?: string[];
}
interface EdgeData extends EdgeLabel {
  kind: LaidOutEdge['kind'];
  text?: string;
  title?: string;
}

function addEdge(b: Builder, from: string, to: string, kind: LaidOutEdge['kind'], text?: string, title?: string): void {
  const label: EdgeData = { kind, minlen: 1, weight: kind === 'catch' ? 1 : 2 };
  if (text) {
    label.text = text;
    label.width = textWidth(text, LABEL_SIZE) + 8;
    label.height = LABEL_SIZE + 6;
    label.labelpos = 'c';
  }
  if (title) label.title = title;
  b.edgeCount += 1;
  b.g.setEdge(from, to, label, `e${b.edgeCount}`);
}

function stateNode(b: Builder, id: string, name: string, state: AslState, parent: string | undefined): void {
  const lines = wrapName(name);
  const typeText = stateTypeLabel(state);
  const width = Math.min(
    NODE_MAX,
    Math.max(
      NODE_MIN,
      ...lines.map((l) => textWidth(l, NAME_SIZE, true) + 2 * PAD_X),
      textWidth(typeText, TYPE_SIZE) + 2 * PAD_X,
    ),
  );
  b.g.setNode(id, { kind: 'state', name, stateType: typeText, lines, width: Math.ceil(width), height: 30 + lines.length * 16 });
  if (parent) b.g.setParent(id, parent);
}

function stateTypeLabel(state: AslState): string {
  if (state.Type === 'Map' && state.ItemProcessor?.ProcessorConfig?.Mode === 'DISTRIBUTED') return 'Map (distributed)';
  return state.Type;
}

/**
 * Adds the states of one scope (the machine, a Map's item processor, a Parallel branch):
 * returns the node id an edge into the scope's StartAt goes to. `exit` is where End,
 * Succeed and Fail states lead (the End pseudo-node, or the enclosing join box).
 */
function addScope(
  b: Builder,
  machine: AslMachine,
  prefix: string,
  parent: string | undefined,
  depth: number,
  exit: string,
): string {
  const idOf = (name: string) => `${prefix}${name}`;
  const entryOf = new Map<string, string>();
  const leaveOf = new Map<string, string>();
  for (const [name, state] of Object.entries(machine.States)) {
    const id = idOf(name);
    const processor = state.ItemProcessor ?? state.Iterator;
    if (state.Type === 'Map' && processor) {
      const cluster = `c:${id}`;
      b.g.setNode(cluster, { kind: 'cluster', name, depth, width: 0, height: 0 });
      if (parent) b.g.setParent(cluster, parent);
      stateNode(b, id, name, state, cluster);
      const join = `j:${id}`;
      b.g.setNode(join, { kind: 'join', name: WORDS.joinMap[b.lang], width: 44, height: 14 });
      b.g.setParent(join, cluster);
      const start = addScope(b, processor, `${id}/`, cluster, depth + 1, join);
      addEdge(b, id, start, 'next');
      leaveOf.set(name, join);
    } else if (state.Type === 'Parallel' && state.Branches) {
      const cluster = `c:${id}`;
      b.g.setNode(cluster, { kind: 'cluster', name, depth, width: 0, height: 0 });
      if (parent) b.g.setParent(cluster, parent);
      stateNode(b, id, name, state, cluster);
      const join = `j:${id}`;
      b.g.setNode(join, { kind: 'join', name: WORDS.joinParallel[b.lang], width: 44, height: 14 });
      b.g.setParent(join, cluster);
      state.Branches.forEach((branch, i) => {
        const branchCluster = `c:${id}#${i + 1}`;
        b.g.setNode(branchCluster, {
          kind: 'cluster',
          name: `${WORDS.branch[b.lang]} ${i + 1}`,
          depth: depth + 1,
          width: 0,
          height: 0,
        });
        b.g.setParent(branchCluster, cluster);
        const start = addScope(b, branch, `${id}#${i + 1}/`, branchCluster, depth + 2, join);
        addEdge(b, id, start, 'next');
      });
      leaveOf.set(name, join);
    } else {
      stateNode(b, id, name, state, parent);
    }
    entryOf.set(name, id);
  }
  const target = (from: string, next: string): string => {
    const to = entryOf.get(next);
    if (!to) {
      throw new DefinitionUnreadableError({
        id: `${from} menunjuk ke ${next}, yang tidak ada`,
        en: `${from} points to ${next}, which does not exist`,
      });
    }
    return to;
  };
  const stubbed = sharedHandlerStubs(machine, leaveOf);
  for (const [name, state] of Object.entries(machine.States)) {
    const from = leaveOf.get(name) ?? idOf(name);
    if (state.Next) addEdge(b, from, target(name, state.Next), 'next');
    for (const choice of state.Choices ?? []) if (choice.Next) addEdge(b, from, target(name, choice.Next), 'choice');
    if (state.Default) addEdge(b, from, target(name, state.Default), 'default', WORDS.default[b.lang]);
    for (const c of state.Catch ?? []) {
      const to = target(name, c.Next);
      if (stubbed.get(name)?.has(c.Next)) addStub(b, from, c.Next);
      else addEdge(b, from, to, 'catch', catchLabel(c.ErrorEquals), catchTitle(c.ErrorEquals, b.lang));
    }
    if (state.End || state.Type === 'Succeed' || state.Type === 'Fail') addEdge(b, from, exit, 'next');
  }
  return target('StartAt', machine.StartAt);
}

/**
 * A state most Tasks catch into (RecordFailure in the journey: every Task's States.ALL)
 * would draw a dashed line from each of them across the whole graph, and each such line
 * takes a column of its own: the journey drawn so is twice as wide and mostly lines. Such a
 * handler (the Catch target of three states or more) keeps one line, from the catcher
 * farthest from the start, which places it below them; the others name it in their box.
 * Map and Parallel states always keep their lines (their join box has no room for a name).
 */
function sharedHandlerStubs(machine: AslMachine, leaveOf: Map<string, string>): Map<string, Set<string>> {
  const catchers = new Map<string, string[]>();
  for (const [name, state] of Object.entries(machine.States)) {
    for (const c of state.Catch ?? []) {
      const list = catchers.get(c.Next) ?? [];
      if (!list.includes(name)) list.push(name);
      catchers.set(c.Next, list);
    }
  }
  // Steps from the start along Next and Choice edges: where the kept line leaves from.
  const depth = new Map<string, number>([[machine.StartAt, 0]]);
  const queue = [machine.StartAt];
  for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
    const state = machine.States[name];
    const nexts = [state?.Next, state?.Default, ...(state?.Choices ?? []).map((c) => c.Next)];
    for (const next of nexts) {
      if (next && !depth.has(next)) {
        depth.set(next, (depth.get(name) ?? 0) + 1);
        queue.push(next);
      }
    }
  }
  const stubs = new Map<string, Set<string>>();
  for (const [handler, list] of catchers) {
    if (list.length < 3) continue;
    const plain = list.filter((name) => !leaveOf.has(name));
    let anchor = plain[0];
    for (const name of plain) if ((depth.get(name) ?? -1) >= (depth.get(anchor ?? '') ?? -1)) anchor = name;
    for (const name of plain) {
      if (name === anchor) continue;
      const set = stubs.get(name) ?? new Set<string>();
      set.add(handler);
      stubs.set(name, set);
    }
  }
  return stubs;
}

/** Names the shared handler `handler` in the box of `from` instead of drawing the line (sharedHandlerStubs). */
function addStub(b: Builder, from: string, handler: string): void {
  const node = b.g.node(from);
  const stubs = [...(node.stubs ?? []), handler];
  const text = stubText(stubs, b.lang);
  node.stubs = stubs;
  node.width = Math.ceil(Math.min(NODE_MAX, Math.max(node.width, textWidth(text, TYPE_SIZE) + 2 * PAD_X)));
  node.height = 30 + (node.lines?.length ?? 1) * 16 + STUB_H;
}

const STUB_H = 14;

function stubText(stubs: string[], lang: Lang): string {
  return truncate(`${WORDS.onError[lang]} → ${stubs.join(', ')}`, TYPE_SIZE, NODE_MAX - 2 * PAD_X, false);
}

const round = (n: number) => Math.round(n * 10) / 10;

/** Laid-out definitions, newest last: the journey takes dagre ~0.3 s, and every execution of a machine shares its layout. */
const layouts = new Map<string, GraphLayout>();
const LAYOUTS_KEPT = 8;

/** Lays out a definition: node and cluster rectangles (centre x, y), edge polylines, the size of it all. */
export function layoutStateGraph(definitionJson: string, lang: Lang): GraphLayout {
  const key = `${lang}\n${definitionJson}`;
  const kept = layouts.get(key);
  if (kept) return kept;
  const layout = computeLayout(definitionJson, lang);
  layouts.set(key, layout);
  if (layouts.size > LAYOUTS_KEPT) layouts.delete(layouts.keys().next().value as string);
  return layout;
}

function computeLayout(definitionJson: string, lang: Lang): GraphLayout {
  const machine = parseDefinition(definitionJson);
  const g = new Graph<GraphLabel, NodeData, EdgeData>({ compound: true, multigraph: true });
  g.setGraph({ rankdir: 'TB', nodesep: 28, ranksep: 34, edgesep: 14, marginx: 12, marginy: 12, align: 'UL' });
  const b: Builder = { g, lang, edgeCount: 0 };
  const pill = (text: string) => ({ lines: [text], width: Math.ceil(textWidth(text, NAME_SIZE, true) + 28), height: 28 });
  g.setNode('start', { kind: 'start', ...pill(WORDS.start[lang]) });
  g.setNode('end', { kind: 'end', ...pill(WORDS.end[lang]) });
  addEdge(b, 'start', addScope(b, machine, 's:', undefined, 0, 'end'), 'next');
  dagreLayout(g);

  const nodes: LaidOutNode[] = [];
  const clusters: LaidOutCluster[] = [];
  for (const id of g.nodes()) {
    const n = g.node(id);
    const box = { x: round(n.x ?? 0), y: round(n.y ?? 0), width: round(n.width), height: round(n.height) };
    const parent = g.parent(id);
    if (n.kind === 'cluster') {
      clusters.push({ id, name: n.name ?? id, depth: n.depth ?? 0, ...(parent ? { parent } : {}), ...box });
    } else {
      nodes.push({
        id,
        kind: n.kind ?? 'state',
        ...(n.name !== undefined && n.kind === 'state' ? { name: n.name } : {}),
        ...(n.stateType ? { stateType: n.stateType } : {}),
        lines: n.kind === 'join' && n.name ? [n.name] : (n.lines ?? []),
        ...(n.stubs ? { stubs: n.stubs } : {}),
        ...(parent ? { parent } : {}),
        ...box,
      });
    }
  }
  const edges: LaidOutEdge[] = g.edges().map((e) => {
    const d = g.edge(e);
    const points = (d.points ?? []).map((p) => ({ x: round(p.x), y: round(p.y) }));
    const edge: LaidOutEdge = { from: e.v, to: e.w, kind: d.kind, points };
    if (d.text) edge.label = d.text;
    if (d.title) edge.title = d.title;
    if (d.text && d.x !== undefined && d.y !== undefined) {
      edge.labelAt = { x: round(d.x), y: round(d.y), width: round(d.width ?? 0), height: round(d.height ?? 0) };
    }
    return edge;
  });
  return fitted({ width: 0, height: 0, nodes, clusters, edges });
}

/**
 * dagre's size counts nodes and labels, not the bends of long edges, which can reach past
 * it: moves everything so that all of it, bends too, lies inside a margin of the size.
 */
function fitted(layout: GraphLayout): GraphLayout {
  const margin = 12;
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  const box = (x: number, y: number, w = 0, h = 0) => {
    minX = Math.min(minX, x - w / 2);
    maxX = Math.max(maxX, x + w / 2);
    minY = Math.min(minY, y - h / 2);
    maxY = Math.max(maxY, y + h / 2);
  };
  for (const n of [...layout.nodes, ...layout.clusters]) box(n.x, n.y, n.width, n.height);
  for (const e of layout.edges) {
    for (const p of e.points) box(p.x, p.y, 2, 2);
    if (e.labelAt) box(e.labelAt.x, e.labelAt.y, e.labelAt.width, e.labelAt.height);
  }
  const dx = round(margin - minX);
  const dy = round(margin - minY);
  const move = <T extends { x: number; y: number }>(p: T): T => ({ ...p, x: round(p.x + dx), y: round(p.y + dy) });
  return {
    width: Math.ceil(maxX - minX + 2 * margin),
    height: Math.ceil(maxY - minY + 2 * margin),
    nodes: layout.nodes.map(move),
    clusters: layout.clusters.map(move),
    edges: layout.edges.map((e) => ({ ...e, points: e.points.map(move), ...(e.labelAt ? { labelAt: move(e.labelAt) } : {}) })),
  };
}

// ---- Drawing ----

const INK = '#1b1b1b';
const LEGEND_H = 30;

interface Look {
  fill: string;
  stroke: string;
  strokeWidth: number;
  text: string;
  bold: boolean;
}

const LOOKS = {
  unvisited: { fill: '#f2f2f2', stroke: '#8c8c8c', strokeWidth: 1, text: '#3d3d3d', bold: false },
  visited: { fill: '#dff0e7', stroke: '#0b5e3c', strokeWidth: 1.5, text: INK, bold: false },
  current: { fill: '#fff3d6', stroke: '#b35c00', strokeWidth: 3.5, text: INK, bold: true },
  failed: { fill: '#fbe3e7', stroke: '#a0001c', strokeWidth: 3.5, text: '#8a0018', bold: true },
} satisfies Record<string, Look>;

type Status = keyof typeof LOOKS;

const STATUS_WORDS: Record<Status, Bilingual> = {
  unvisited: { id: 'belum dilalui', en: 'not visited' },
  visited: { id: 'sudah dilalui', en: 'visited' },
  current: { id: 'sedang di sini', en: 'current' },
  failed: { id: 'gagal', en: 'failed' },
};

function statusOf(name: string, marks: StateMarks): Status {
  if (marks.failed === name) return 'failed';
  if (marks.current === name) return 'current';
  if (marks.visited.has(name)) return 'visited';
  return 'unvisited';
}

type Point = { x: number; y: number };

/** Drops the waypoints a straight run passes through (a long edge has one per rank it crosses). */
function simplified(points: Point[]): Point[] {
  const out: Point[] = [];
  for (const p of points) {
    const a = out.at(-2);
    const b = out.at(-1);
    if (a && b && Math.abs((b.x - a.x) * (p.y - a.y) - (b.y - a.y) * (p.x - a.x)) < 0.5 * Math.hypot(p.x - a.x, p.y - a.y))
      out.pop();
    out.push(p);
  }
  return out;
}

function pathOf(points: Point[], dy: number): string {
  if (points.length === 0) return '';
  const p = simplified(points.map((q) => ({ x: q.x, y: round(q.y + dy) })));
  const first = p[0] as { x: number; y: number };
  if (p.length < 3) return `M${p.map((q) => `${q.x},${q.y}`).join(' L')}`;
  // Quadratic curves through the midpoints: smooth bends, still passing the layout's waypoints closely.
  let d = `M${first.x},${first.y}`;
  for (let i = 1; i < p.length - 1; i++) {
    const c = p[i] as { x: number; y: number };
    const n = p[i + 1] as { x: number; y: number };
    const mid = i === p.length - 2 ? n : { x: round((c.x + n.x) / 2), y: round((c.y + n.y) / 2) };
    d += ` Q${c.x},${c.y} ${mid.x},${mid.y}`;
  }
  return d;
}

function legend(lang: Lang, width: number): { svg: Html; height: number } {
  const items: Html[] = [];
  let x = 0;
  let y = 0;
  for (const status of ['visited', 'current', 'failed', 'unvisited'] as const) {
    const look = LOOKS[status];
    const text = STATUS_WORDS[status][lang];
    const w = 22 + textWidth(text, 12) + 16;
    if (x > 0 && x + w > width) {
      x = 0;
      y += 22;
    }
    items.push(
      html`<rect x="${x}" y="${y}" width="16" height="14" rx="3" fill="${look.fill}" stroke="${look.stroke}" stroke-width="${Math.min(look.strokeWidth, 2.5)}"/><text x="${x + 22}" y="${y + 11.5}" font-size="12" fill="${INK}">${text}</text>`,
    );
    x = round(x + w);
  }
  const text = WORDS.onError[lang];
  const w = 34 + textWidth(text, 12);
  if (x > 0 && x + w > width) {
    x = 0;
    y += 22;
  }
  items.push(
    html`<path d="M${x},${y + 7} L${x + 26},${y + 7}" stroke="#8a4b00" stroke-width="1.4" stroke-dasharray="5 4"/><text x="${x + 32}" y="${y + 11.5}" font-size="12" fill="${INK}">${text}</text>`,
  );
  return { svg: html`<g transform="translate(12,8)">${items}</g>`, height: y + 14 + 16 };
}

/**
 * The definition as an SVG graph with the marks of one execution. Throws
 * DefinitionUnreadableError when the definition is not ASL it can draw. The SVG has its
 * natural size in pixels (text stays readable on a phone); the page puts it in a box that
 * scrolls sideways (GRAPH_STYLE).
 */
export function renderStateGraph(definitionJson: string, marks: StateMarks, lang: Lang): Html {
  const layout = layoutStateGraph(definitionJson, lang);
  const width = Math.max(layout.width, 280);
  // The legend and the summary line stay within a phone's first view of the scrolling box.
  const key = legend(lang, Math.min(width - 24, 340));
  const said = html`<text x="12" y="${key.height + 14}" font-size="13" font-weight="700" fill="${INK}">${shortSummary(layout.nodes.filter((n) => n.kind === 'state').length, marks, lang)}</text>`;
  const top = Math.max(LEGEND_H, key.height) + 24;
  const height = layout.height + top;
  const dx = round((width - layout.width) / 2);

  const clusters = [...layout.clusters]
    .sort((a, b) => a.depth - b.depth)
    .map((c) => {
      // A Parallel branch is a dashed frame inside its Parallel's cluster.
      const branch = c.id.includes('#');
      const look = branch ? { fill: '#ffffff', stroke: '#8c8c8c' } : { fill: '#f7f9fb', stroke: '#7a8a99' };
      return html`<rect x="${round(c.x - c.width / 2)}" y="${round(c.y - c.height / 2 + top)}" width="${c.width}" height="${c.height}" rx="8" fill="${look.fill}" stroke="${look.stroke}"${new Html(branch ? ' stroke-dasharray="4 3"' : '')}/>`;
    });

  const edges = layout.edges.map((e) => {
    const catchEdge = e.kind === 'catch';
    const colour = catchEdge ? '#8a4b00' : '#5a5a5a';
    const line = html`<path d="${pathOf(e.points, top)}" fill="none" stroke="${colour}" stroke-width="1.4"${new Html(catchEdge ? ' stroke-dasharray="5 4"' : '')} marker-end="url(#sg-arrow${catchEdge ? '-catch' : ''})"/>`;
    const label =
      e.label && e.labelAt
        ? html`<rect x="${round(e.labelAt.x - e.labelAt.width / 2)}" y="${round(e.labelAt.y - e.labelAt.height / 2 + top)}" width="${e.labelAt.width}" height="${e.labelAt.height}" rx="3" fill="#ffffff" fill-opacity="0.92"/><text x="${e.labelAt.x}" y="${round(e.labelAt.y + top + 4)}" text-anchor="middle" font-size="${LABEL_SIZE}" fill="${catchEdge ? '#6b3a00' : '#3d3d3d'}">${e.label}</text>`
        : '';
    return html`<g>${e.title && html`<title>${e.title}</title>`}${line}${label}</g>`;
  });

  const nodes = layout.nodes.map((n) => {
    const x = round(n.x - n.width / 2);
    const y = round(n.y - n.height / 2 + top);
    const cy = round(n.y + top);
    if (n.kind === 'start' || n.kind === 'end') {
      return html`<g><rect x="${x}" y="${y}" width="${n.width}" height="${n.height}" rx="${n.height / 2}" fill="#ffffff" stroke="#5a5a5a" stroke-width="1.5"/><text x="${n.x}" y="${cy + 4.5}" text-anchor="middle" font-size="${NAME_SIZE}" font-weight="600" fill="${INK}">${n.lines[0]}</text></g>`;
    }
    if (n.kind === 'join') {
      return html`<g><title>${n.lines[0]}</title><rect x="${x}" y="${y}" width="${n.width}" height="${n.height}" rx="7" fill="#d9dee3" stroke="#7a8a99"/></g>`;
    }
    const name = n.name ?? '';
    const status = statusOf(name, marks);
    const look: Look = LOOKS[status];
    const times = marks.counts?.get(name) ?? 0;
    const timesText = times > 1 ? `×${times}` : '';
    const stub = n.stubs ? stubText(n.stubs, lang) : '';
    const stubTitle = n.stubs ? `; ${WORDS.onError[lang]} → ${n.stubs.join(', ')}` : '';
    const title = `${name} (${n.stateType}) — ${STATUS_WORDS[status][lang]}${times > 1 ? `, ${times}×` : ''}${stubTitle}`;
    const bottom = y + n.height - (stub ? STUB_H : 0);
    const firstLine = cy - (stub ? STUB_H / 2 : 0) - (n.lines.length * 16) / 2 - 2;
    const lines = n.lines.map(
      (l, i) =>
        html`<text x="${n.x}" y="${round(firstLine + 12 + i * 16)}" text-anchor="middle" font-size="${NAME_SIZE}" font-weight="${look.bold ? '700' : '600'}" fill="${look.text}">${l}</text>`,
    );
    return html`<g data-state="${name}" data-status="${status}"><title>${title}</title><rect x="${x}" y="${y}" width="${n.width}" height="${n.height}" rx="6" fill="${look.fill}" stroke="${look.stroke}" stroke-width="${look.strokeWidth}"/>${lines}<text x="${n.x}" y="${round(bottom - 8)}" text-anchor="middle" font-size="${TYPE_SIZE}" fill="#4a4a4a">${n.stateType}</text>${stub && html`<text x="${n.x}" y="${round(y + n.height - 6)}" text-anchor="middle" font-size="${TYPE_SIZE}" fill="#7a3f00">${stub}</text>`}${timesText && html`<text x="${round(x + n.width - 5)}" y="${y + 12}" text-anchor="end" font-size="${TYPE_SIZE}" font-weight="700" fill="${INK}">${timesText}</text>`}</g>`;
  });

  const states = layout.nodes.filter((n) => n.kind === 'state').length;
  const summary = ariaSummary(states, marks, lang);
  return html`<svg xmlns="http://www.w3.org/2000/svg" class="state-graph" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${summary}" font-family="system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', sans-serif">
<defs><marker id="sg-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#5a5a5a"/></marker><marker id="sg-arrow-catch" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#8a4b00"/></marker></defs>
${key.svg}
${said}
<g transform="translate(${dx},0)">
${clusters}
${edges}
${nodes}
</g>
</svg>`;
}

/** The line above the graph: where the execution is or failed, how much of the machine it went through. */
function shortSummary(states: number, marks: StateMarks, lang: Lang): string {
  const parts = [
    lang === 'id' ? `${marks.visited.size} dari ${states} status dilalui` : `${marks.visited.size} of ${states} states visited`,
  ];
  if (marks.current) parts.unshift(lang === 'id' ? `Sedang di ${marks.current}` : `Now at ${marks.current}`);
  if (marks.failed) parts.unshift(lang === 'id' ? `Gagal di ${marks.failed}` : `Failed at ${marks.failed}`);
  return parts.join(' · ');
}

function ariaSummary(states: number, marks: StateMarks, lang: Lang): string {
  const parts =
    lang === 'id'
      ? [`Graf mesin status: ${states} status, ${marks.visited.size} sudah dilalui`]
      : [`State machine graph: ${states} states, ${marks.visited.size} visited`];
  if (marks.current) parts.push(lang === 'id' ? `sedang di ${marks.current}` : `current: ${marks.current}`);
  if (marks.failed) parts.push(lang === 'id' ? `gagal di ${marks.failed}` : `failed at ${marks.failed}`);
  return parts.join('; ');
}

/**
 * The rules the console's stylesheet adds for the graph: its box scrolls (both ways, at most
 * most of a screen tall) instead of shrinking the text; on a phone the journey is four screens wide.
 */
export const GRAPH_STYLE =
  '.graph{overflow:auto;max-height:85vh;-webkit-overflow-scrolling:touch;margin:.5rem 0;border:1px solid #d6d6d6}.graph svg{display:block;max-width:none}';

// ---- Marks from an execution history ----

const ENDED_FAILING = new Set(['ExecutionFailed', 'ExecutionTimedOut', 'ExecutionAborted']);

/**
 * The marks of one execution from its history (all pages, in any order: events are sorted
 * by id and repeated ones dropped). A state entered and not exited is where a running or
 * waiting execution is; when the execution failed, timed out or was stopped, the last such
 * state is the one that ended it. A redriven execution runs again from there.
 */
export function marksFromHistory(events: HistoryEvent[]): StateMarks {
  const byId = new Map<number, HistoryEvent>();
  for (const e of events) if (e.id !== undefined) byId.set(e.id, e);
  const ordered = [...byId.values()].sort((a, b) => (a.id ?? 0) - (b.id ?? 0));

  const visited = new Set<string>();
  const counts = new Map<string, number>();
  /** Entered, not exited: names in the order they were entered (a Map's iterations can hold one name more than once). */
  const open: string[] = [];
  let ended: 'ok' | 'failed' | undefined;
  let failed: string | undefined;
  for (const e of ordered) {
    const type = e.type ?? '';
    if (type.endsWith('StateEntered') && e.stateEnteredEventDetails?.name) {
      const name = e.stateEnteredEventDetails.name;
      visited.add(name);
      counts.set(name, (counts.get(name) ?? 0) + 1);
      open.push(name);
    } else if (type.endsWith('StateExited') && e.stateExitedEventDetails?.name) {
      const at = open.lastIndexOf(e.stateExitedEventDetails.name);
      if (at >= 0) open.splice(at, 1);
    } else if (type === 'ExecutionSucceeded') {
      ended = 'ok';
    } else if (ENDED_FAILING.has(type)) {
      ended = 'failed';
      failed = open.at(-1);
    } else if (type === 'ExecutionRedriven') {
      // The redrive enters the failed state again; the entry that failed is over.
      open.length = 0;
      ended = undefined;
      failed = undefined;
    }
  }
  const marks: StateMarks = { visited, counts };
  if (ended === 'failed' && failed) marks.failed = failed;
  if (ended === undefined && open.length > 0) marks.current = open.at(-1);
  return marks;
}
