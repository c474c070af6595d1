// graph.ts — a journey definition (CONVENTIONS §5) as a graph for the canvas,
// and back. Pure functions, no React: the builder and the tests share them.
//
// Model: one canvas node per journey node, keyed by a stable uid (the node's
// id when it was loaded or created; renaming a node changes only its
// data.def.id, so the canvas never remounts it). The node's data.def is the
// journey node WITHOUT its references (next, timeout_next, else, the
// branches' and split variants' next): those live only in the edges, one
// edge per output handle. A pseudo node "@trigger" (an id no journey node can
// have) points at the start node.
import type { Edge, Node } from '@xyflow/react';
import dagre from '@dagrejs/dagre';

/* eslint-disable @typescript-eslint/no-explicit-any */
export type NodeType = 'send' | 'wait' | 'wait_event' | 'branch' | 'split' | 'update' | 'webhook' | 'slack' | 'goal' | 'exit';
export const NODE_TYPES: NodeType[] = ['send', 'wait', 'wait_event', 'branch', 'split', 'update', 'webhook', 'slack', 'goal', 'exit'];

export type JNodeDef = { id: string; type: NodeType; [key: string]: any };
export type Pos = { x: number; y: number };
export type JourneyDef = {
  name: string;
  trigger: Record<string, any>;
  nodes: JNodeDef[];
  start?: string;
  layout?: Record<string, Pos>;
  [key: string]: any;
};

export type JData = { def: JNodeDef };
export type JFlowNode = Node<JData, 'jnode'>;
export type TriggerFlowNode = Node<Record<string, never>, 'trigger'>;
export type FlowNode = JFlowNode | TriggerFlowNode;
export type FlowEdge = Edge;

export const TRIGGER_ID = '@trigger';
export const START_HANDLE = 'start';
export const NODE_W = 220;
export const NODE_H = 84;

/** A node id as the API accepts it (journey_def.c valid_node_id). */
export const NODE_ID_RE = /^[A-Za-z0-9_?:.-]{1,64}$/;

export type Output = { handle: string; kind: 'next' | 'timeout' | 'branch' | 'else' | 'variant'; index?: number };

const NEXT: Output[] = [{ handle: 'next', kind: 'next' }];
const NONE: Output[] = [];
const WAIT_EVENT: Output[] = [
  { handle: 'next', kind: 'next' },
  { handle: 'timeout_next', kind: 'timeout' },
];
const outputCache = new WeakMap<object, Output[]>();

/** The output handles of a node, in order: one per reference it can hold. */
export function outputsOf(def: JNodeDef): Output[] {
  switch (def.type) {
    case 'exit':
      return NONE;
    case 'wait_event':
      return WAIT_EVENT;
    case 'branch':
    case 'split': {
      const list = def.type === 'branch' ? def.branches : def.variants;
      const hit = outputCache.get(def);
      if (hit) return hit;
      const out: Output[] = [];
      const n = Array.isArray(list) ? list.length : 0;
      for (let i = 0; i < n; i++) out.push(def.type === 'branch' ? { handle: 'b' + i, kind: 'branch', index: i } : { handle: 'v' + i, kind: 'variant', index: i });
      if (def.type === 'branch') out.push({ handle: 'else', kind: 'else' });
      outputCache.set(def, out);
      return out;
    }
    default:
      return NEXT;
  }
}

/** The node id a handle of a (full) journey node points at. */
export function refOf(def: JNodeDef, handle: string): string | undefined {
  if (handle === 'next' || handle === 'timeout_next' || handle === 'else') {
    const v = def[handle];
    return typeof v === 'string' ? v : undefined;
  }
  const m = /^([bv])(\d+)$/.exec(handle);
  if (!m) return undefined;
  const list = m[1] === 'b' ? def.branches : def.variants;
  const v = Array.isArray(list) ? list[+m[2]]?.next : undefined;
  return typeof v === 'string' ? v : undefined;
}

/** A copy of def with the handle's reference set to `target` (or removed). */
export function setRef(def: JNodeDef, handle: string, target: string | undefined): JNodeDef {
  if (handle === 'next' || handle === 'timeout_next' || handle === 'else') {
    if (def[handle] === target) return def;
    const out = { ...def };
    if (target === undefined) delete out[handle];
    else out[handle] = target;
    return out;
  }
  const m = /^([bv])(\d+)$/.exec(handle);
  if (!m) return def;
  const key = m[1] === 'b' ? 'branches' : 'variants';
  const list: any[] = Array.isArray(def[key]) ? def[key] : [];
  const i = +m[2];
  if (i >= list.length || list[i]?.next === target) return def;
  const item = { ...list[i] };
  if (target === undefined) delete item.next;
  else item.next = target;
  const copy = list.slice();
  copy[i] = item;
  return { ...def, [key]: copy };
}

/** def without its references (they live in the edges). */
export function stripRefs(def: JNodeDef): JNodeDef {
  let out = def;
  for (const o of outputsOf(def)) out = setRef(out, o.handle, undefined);
  return out;
}

export function edgeId(source: string, handle: string): string {
  return source + '|' + handle;
}

export function makeEdge(source: string, handle: string, target: string): FlowEdge {
  return { id: edgeId(source, handle), source, sourceHandle: handle, target };
}

/** Height of a node box on the canvas (branches and splits list their ways). */
export function nodeHeight(def: JNodeDef | undefined): number {
  return def && (def.type === 'branch' || def.type === 'split') ? NODE_H + 12 : NODE_H;
}

/**
 * The canvas graph of a definition. Positions come from def.layout; when no
 * node has one the graph is laid out with dagre, and nodes missing from a
 * partial layout go in a row under the others.
 */
export function defToGraph(def: JourneyDef): { nodes: FlowNode[]; edges: FlowEdge[] } {
  const list = Array.isArray(def.nodes) ? def.nodes : [];
  const ids = new Set<string>();
  for (const n of list) ids.add(n.id);
  const layout = def.layout || {};
  const nodes: FlowNode[] = [];
  const edges: FlowEdge[] = [];
  let placed = 0;
  for (const n of list) {
    const p = layout[n.id];
    if (p && typeof p.x === 'number' && typeof p.y === 'number') placed++;
    nodes.push({ id: n.id, type: 'jnode', position: p ? { x: p.x, y: p.y } : { x: 0, y: 0 }, data: { def: stripRefs(n) } });
    for (const o of outputsOf(n)) {
      const t = refOf(n, o.handle);
      if (t !== undefined && ids.has(t)) edges.push(makeEdge(n.id, o.handle, t));
    }
  }
  const start = def.start ?? list[0]?.id;
  const trigger: TriggerFlowNode = { id: TRIGGER_ID, type: 'trigger', position: { x: 0, y: 0 }, data: {}, deletable: false };
  nodes.unshift(trigger);
  if (start !== undefined && ids.has(start)) edges.push(makeEdge(TRIGGER_ID, START_HANDLE, start));
  if (list.length > 0 && placed === 0) return { nodes: autoLayout(nodes, edges), edges };
  if (placed < list.length) {
    let maxY = -Infinity;
    let minX = Infinity;
    for (const n of list) {
      const p = layout[n.id];
      if (p) {
        maxY = Math.max(maxY, p.y);
        minX = Math.min(minX, p.x);
      }
    }
    let k = 0;
    for (let i = 1; i < nodes.length; i++) {
      const n = nodes[i] as JFlowNode;
      if (!layout[n.data.def.id]) nodes[i] = { ...n, position: { x: minX + k++ * (NODE_W + 40), y: maxY + 160 } };
    }
  }
  placeTrigger(nodes, edges);
  return { nodes, edges };
}

/** Puts the trigger card above the start node (its position is not saved). */
function placeTrigger(nodes: FlowNode[], edges: FlowEdge[]) {
  const ti = nodes.findIndex((n) => n.id === TRIGGER_ID);
  if (ti < 0) return;
  const te = edges.find((e) => e.source === TRIGGER_ID);
  const target = te ? nodes.find((n) => n.id === te.target) : nodes.find((n) => n.id !== TRIGGER_ID);
  const pos = target ? { x: target.position.x, y: target.position.y - 130 } : { x: 0, y: 0 };
  nodes[ti] = { ...nodes[ti], position: pos };
}

/**
 * The definition of a canvas graph: `base` gives every key but the nodes,
 * the start and the layout. References come from the edges (one per source
 * handle), ids from each node's data.def.id, positions (rounded) go into
 * "layout". `start` is left out when base had none and the trigger still
 * points at the first node, so a definition without it round-trips.
 */
export function graphToDef(base: JourneyDef, nodes: FlowNode[], edges: FlowEdge[]): JourneyDef {
  const idOf = new Map<string, string>();
  for (const n of nodes) if (n.type === 'jnode') idOf.set(n.id, (n as JFlowNode).data.def.id);
  const refs = new Map<string, Map<string, string>>();
  let startUid: string | undefined;
  for (const e of edges) {
    if (e.source === TRIGGER_ID) {
      startUid = e.target;
      continue;
    }
    let m = refs.get(e.source);
    if (!m) refs.set(e.source, (m = new Map()));
    m.set(e.sourceHandle || 'next', e.target);
  }
  const out: JNodeDef[] = [];
  const layout: Record<string, Pos> = {};
  for (const n of nodes) {
    if (n.type !== 'jnode') continue;
    let d = (n as JFlowNode).data.def;
    const r = refs.get(n.id);
    for (const o of outputsOf(d)) {
      const t = r?.get(o.handle);
      d = setRef(d, o.handle, t === undefined ? undefined : idOf.get(t));
    }
    out.push(d);
    layout[d.id] = { x: Math.round(n.position.x), y: Math.round(n.position.y) };
  }
  const def: JourneyDef = { ...base, nodes: out, layout };
  const start = startUid === undefined ? undefined : idOf.get(startUid);
  if (start === undefined || (base.start === undefined && start === out[0]?.id)) delete def.start;
  else def.start = start;
  return def;
}

/** Lays the graph out top to bottom with dagre; returns new node objects. */
export function autoLayout<N extends FlowNode>(nodes: N[], edges: FlowEdge[]): N[] {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: 'TB', nodesep: 40, ranksep: 70, marginx: 20, marginy: 20 });
  g.setDefaultEdgeLabel(() => ({}));
  const size = new Map<string, { w: number; h: number }>();
  for (const n of nodes) {
    const def = n.type === 'jnode' ? (n as JFlowNode).data.def : undefined;
    const s = { w: n.measured?.width ?? NODE_W, h: n.measured?.height ?? (n.type === 'trigger' ? 64 : nodeHeight(def)) };
    size.set(n.id, s);
    g.setNode(n.id, { width: s.w, height: s.h });
  }
  for (const e of edges) if (size.has(e.source) && size.has(e.target) && e.source !== e.target) g.setEdge(e.source, e.target);
  dagre.layout(g);
  return nodes.map((n) => {
    const p = g.node(n.id) as { x: number; y: number } | undefined;
    const s = size.get(n.id)!;
    return p ? { ...n, position: { x: Math.round(p.x - s.w / 2), y: Math.round(p.y - s.h / 2) } } : n;
  });
}

/* ---- errors ------------------------------------------------------------------------- */

/** Which node (by id, in `def`) and which path inside it an API field names:
 * "definition.nodes[3].branches[0].when" → {node: nodes[3].id, sub: "branches[0].when"}. */
export function fieldTarget(field: string | null | undefined, def: JourneyDef): { node?: string; sub: string } {
  let f = field || '';
  if (f.startsWith('definition.')) f = f.slice('definition.'.length);
  else if (f === 'definition') f = '';
  const m = /^nodes\[(\d+)\](?:\.(.*))?$/.exec(f);
  if (m) {
    const n = def.nodes[+m[1]];
    return { node: n?.id, sub: m[2] || '' };
  }
  return { sub: f };
}

/* ---- diff --------------------------------------------------------------------------- */

/** JSON text with keys sorted: equal for equal values whatever the key order. */
export function stableJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return '[' + v.map(stableJson).join(',') + ']';
  const keys = Object.keys(v as object).sort();
  return '{' + keys.map((k) => JSON.stringify(k) + ':' + stableJson((v as any)[k])).join(',') + '}';
}

export type DefDiff = {
  added: string[];
  removed: string[];
  changed: Record<string, string[]>;
  fields: string[];
};

/** What changed from `a` to `b`: nodes added, removed, changed (with the keys
 * that differ), and the journey's own keys (positions are not changes). */
export function diffDefs(a: JourneyDef, b: JourneyDef): DefDiff {
  const am = new Map<string, JNodeDef>();
  for (const n of a.nodes || []) am.set(n.id, n);
  const bm = new Map<string, JNodeDef>();
  for (const n of b.nodes || []) bm.set(n.id, n);
  const diff: DefDiff = { added: [], removed: [], changed: {}, fields: [] };
  for (const n of b.nodes || []) {
    const o = am.get(n.id);
    if (!o) {
      diff.added.push(n.id);
      continue;
    }
    const keys = new Set([...Object.keys(o), ...Object.keys(n)]);
    const ch: string[] = [];
    for (const k of keys) if (stableJson(o[k]) !== stableJson(n[k])) ch.push(k);
    if (ch.length) diff.changed[n.id] = ch;
  }
  for (const n of a.nodes || []) if (!bm.has(n.id)) diff.removed.push(n.id);
  const top = new Set([...Object.keys(a), ...Object.keys(b)]);
  top.delete('nodes');
  top.delete('layout');
  const startOf = (d: JourneyDef) => d.start ?? d.nodes?.[0]?.id;
  for (const k of top) {
    if (k === 'start' ? startOf(a) !== startOf(b) : stableJson(a[k]) !== stableJson(b[k])) diff.fields.push(k);
  }
  return diff;
}

/**
 * One graph showing both sides of a diff: b's nodes and edges, plus a's
 * removed nodes (at their old positions) and the edges that led to them.
 */
export function diffGraph(a: JourneyDef, b: JourneyDef, diff: DefDiff): { nodes: FlowNode[]; edges: FlowEdge[] } {
  const gb = defToGraph(b);
  if (!diff.removed.length) return gb;
  const ga = defToGraph(a);
  const removed = new Set(diff.removed);
  const have = new Set(gb.nodes.map((n) => n.id));
  const nodes = gb.nodes.slice();
  for (const n of ga.nodes) if (removed.has(n.id) && !have.has(n.id)) nodes.push(n);
  const edges = gb.edges.slice();
  const eids = new Set(edges.map((e) => e.id));
  for (const e of ga.edges) {
    if ((removed.has(e.source) || removed.has(e.target)) && !eids.has(e.id)) edges.push({ ...e, id: 'old:' + e.id });
  }
  return { nodes, edges };
}

/** A fresh node id for `type` that no node uses (as id or uid). */
export function freshId(type: string, taken: (id: string) => boolean): string {
  const base = type.replace('_', '-');
  for (let i = 1; ; i++) {
    const id = `${base}-${i}`;
    if (!taken(id)) return id;
  }
}

/** Durations as the API writes them: {"days":2,"hours":1}. */
export type Duration = Partial<Record<'weeks' | 'days' | 'hours' | 'minutes', number>>;
