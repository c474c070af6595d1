// JourneyBuilder.tsx — the visual journey builder: palette, canvas (@xyflow/react),
// side panel; save (with draft_rev), validate (errors on the nodes),
// simulate (the path lights up), publish / pause / resume, versions with a
// visual diff, and live counts on every node of a live journey.
import '@xyflow/react/dist/style.css';
import './journey.css';
import {
  applyEdgeChanges,
  applyNodeChanges,
  Background,
  ControlButton,
  Controls,
  MarkerType,
  MiniMap,
  ReactFlow,
  ReactFlowProvider,
  useNodesInitialized,
  useReactFlow,
  type Connection,
  type EdgeChange,
  type NodeChange,
  type OnSelectionChangeParams,
} from '@xyflow/react';
import { useCallback, useEffect, useMemo, useRef, useState, type DragEvent } from 'react';
import { api, ApiError } from '../api';
import { useT } from '../i18n';
import { Link, navigate } from '../router';
import { ErrorBanner, Loading } from '../ui';
import { DecorContext, DecorStore, type Counts, type Decor } from './decor';
import { triggerSummary } from './format';
import {
  autoLayout,
  defToGraph,
  diffDefs,
  diffGraph,
  edgeId,
  fieldTarget,
  freshId,
  graphToDef,
  makeEdge,
  NODE_TYPES,
  NODE_W,
  START_HANDLE,
  TRIGGER_ID,
  type DefDiff,
  type FlowEdge,
  type FlowNode,
  type JFlowNode,
  type JNodeDef,
  type JourneyDef,
  type NodeType,
} from './graph';
import { journeyDict } from './journey.i18n';
import { nodeTypes, TriggerInfoContext } from './JourneyNode';
import { NodePanel, type HandleRemap, type PanelError } from './NodePanel';
import { defaultDef } from './nodeTable';
import { SettingsPanel, type Meta } from './SettingsPanel';
import { defaultSimInput, SimDialog, SimPanel, type SimInput, type SimResult } from './Simulate';
import { VersionsPanel } from './Versions';

/* eslint-disable @typescript-eslint/no-explicit-any */
export const SIM_STEP_MS = 600;
const POLL_MS = 2000;
const MAP_AUTO_MAX = 100;
const DND_TYPE = 'application/x-cairn-node';
const ZERO: Counts = { entered: 0, waiting: 0, exited: 0, converted: 0 };

export type JourneyInfo = { id: string; name: string; status: string; draft_rev: number; live_version: number; created_at?: string; updated_at?: string };
type JourneyRes = JourneyInfo & { definition: JourneyDef | null; stats?: Record<string, Counts> };
type Problem = { node: string | null; sub: string; message: string; code?: string; source: 'parse' | 'check' };
type Banner = { kind: 'ok' | 'error' | 'conflict'; text?: string; error?: unknown };
type DiffState = { diff: DefDiff; from: string; to: string; nodes: FlowNode[]; edges: FlowEdge[] };
type SimState = { result: SimResult; index: number; playing: boolean };

function pickInfo(j: JourneyRes): JourneyInfo {
  return { id: j.id, name: j.name, status: j.status, draft_rev: j.draft_rev, live_version: j.live_version, created_at: j.created_at, updated_at: j.updated_at };
}

function splitDef(def: JourneyDef): { meta: Meta; start: string | undefined } {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { nodes, layout, start, ...meta } = def;
  return { meta: meta as Meta, start };
}

export default function Builder({ journeyId }: { journeyId: string }) {
  return (
    <ReactFlowProvider>
      <BuilderInner journeyId={journeyId} />
    </ReactFlowProvider>
  );
}

function BuilderInner({ journeyId }: { journeyId: string }) {
  const t = useT(journeyDict);
  const rf = useReactFlow<FlowNode, FlowEdge>();
  const rfRef = useRef(rf);
  rfRef.current = rf;
  const [info, setInfo] = useState<JourneyInfo | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [meta, setMeta] = useState<Meta | null>(null);
  const [nodes, setNodes] = useState<FlowNode[]>([]);
  const [edges, setEdges] = useState<FlowEdge[]>([]);
  const [dirty, setDirty] = useState(false);
  const [selected, setSelected] = useState<string | null>(null);
  const [panel, setPanel] = useState<'auto' | 'settings' | 'sim' | 'versions'>('auto');
  const [problems, setProblems] = useState<Problem[]>([]);
  const [banner, setBanner] = useState<Banner | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [stats, setStats] = useState<Record<string, Counts> | null>(null);
  const [sim, setSim] = useState<SimState | null>(null);
  const [simOpen, setSimOpen] = useState(false);
  const [simInput, setSimInput] = useState<SimInput | null>(null);
  const [diff, setDiff] = useState<DiffState | null>(null);
  const [store] = useState(() => new DecorStore());
  const wrapper = useRef<HTMLDivElement>(null);
  const added = useRef(0);
  const fitted = useRef(false);

  // the latest state for stable callbacks
  const nodesRef = useRef(nodes);
  const edgesRef = useRef(edges);
  const metaRef = useRef(meta);
  const infoRef = useRef(info);
  const loadedStart = useRef<string | undefined>(undefined);
  const diffRef = useRef(diff);
  const dirtyRef = useRef(dirty);
  dirtyRef.current = dirty;
  nodesRef.current = nodes;
  edgesRef.current = edges;
  metaRef.current = meta;
  infoRef.current = info;
  diffRef.current = diff;

  const buildDef = useCallback((): JourneyDef => {
    const base = { ...(metaRef.current as JourneyDef) };
    if (loadedStart.current !== undefined) base.start = loadedStart.current;
    return graphToDef(base, nodesRef.current, edgesRef.current);
  }, []);

  /* ---- loading --------------------------------------------------------------------- */

  const applyJourney = useCallback((j: JourneyRes) => {
    const def: JourneyDef = j.definition || { name: j.name, trigger: { type: 'manual' }, nodes: [] };
    const g = defToGraph(def);
    const { meta: m, start } = splitDef(def);
    loadedStart.current = start;
    setMeta(m);
    setNodes(g.nodes);
    setEdges(g.edges);
    setInfo(pickInfo(j));
    setDirty(false);
    setProblems([]);
    setSelected(null);
    setDiff(null);
    if (j.stats) setStats(j.stats);
  }, []);

  const load = useCallback(
    async (fit = false) => {
      try {
        const j = await api<JourneyRes>('GET', `journeys/${encodeURIComponent(journeyId)}`);
        applyJourney(j);
        setLoadError(null);
        if (fit) fitted.current = false;
      } catch (e) {
        setLoadError(e);
      }
    },
    [journeyId, applyJourney],
  );

  useEffect(() => {
    load();
  }, [load]);

  // once the nodes of a (re)load are measured, show them all
  const initialized = useNodesInitialized();
  useEffect(() => {
    if (!initialized || fitted.current || !info) return;
    fitted.current = true;
    requestAnimationFrame(() => rfRef.current.fitView(fitViewOptions));
  }, [initialized, info]);

  /* ---- derived ---------------------------------------------------------------------- */

  const idsKey = useMemo(() => nodes.map((n) => n.id + '=' + (n.type === 'jnode' ? (n as JFlowNode).data.def.id : '')).join('\u0001'), [nodes]);
  const { uidOfId, options } = useMemo(() => {
    const uidOfId = new Map<string, string>();
    const options: { uid: string; id: string }[] = [];
    for (const n of nodesRef.current) {
      if (n.type !== 'jnode') continue;
      const id = (n as JFlowNode).data.def.id;
      uidOfId.set(id, n.id);
      options.push({ uid: n.id, id });
    }
    return { uidOfId, options };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [idsKey]);
  const startUid = useMemo(() => edges.find((e) => e.source === TRIGGER_ID)?.target, [edges]);
  const status = info?.status || 'draft';
  const showCounts = status === 'live' || status === 'paused';

  // decorations: errors, start, counts, simulation, diff
  useEffect(() => {
    const m = new Map<string, Decor>();
    const get = (uid: string) => {
      let d = m.get(uid);
      if (!d) m.set(uid, (d = {}));
      return d;
    };
    if (diff) {
      for (const id of diff.diff.added) get(id).diff = 'added';
      for (const id of diff.diff.removed) get(id).diff = 'removed';
      for (const id of Object.keys(diff.diff.changed)) get(id).diff = 'changed';
    } else {
      for (const p of problems) {
        const uid = p.node ? uidOfId.get(p.node) : p.sub.startsWith('trigger') ? TRIGGER_ID : undefined;
        if (!uid) continue;
        const d = get(uid);
        d.errors = [...(d.errors || []), p.message];
      }
      if (startUid) get(startUid).start = true;
      if (showCounts) for (const [id, uid] of uidOfId) get(uid).counts = stats?.[id] ? { ...ZERO, ...stats[id] } : ZERO;
      if (sim && sim.index >= 0) {
        get(TRIGGER_ID).sim = 'done';
        for (let i = 0; i <= sim.index && i < sim.result.path.length; i++) {
          const uid = uidOfId.get(sim.result.path[i].node);
          if (uid) get(uid).sim = i === sim.index ? 'current' : 'done';
        }
      }
    }
    store.set(m);
  }, [store, diff, problems, uidOfId, startUid, showCounts, stats, sim]);

  // the edges the simulation went along so far
  const litEdges = useMemo(() => {
    const s = new Set<string>();
    if (!sim || sim.index < 0) return s;
    const path = sim.result.path;
    const first = uidOfId.get(path[0]?.node);
    if (first && first === startUid) s.add(edgeId(TRIGGER_ID, START_HANDLE));
    const bySrc = new Map<string, FlowEdge[]>();
    for (const e of edges) {
      const l = bySrc.get(e.source);
      if (l) l.push(e);
      else bySrc.set(e.source, [e]);
    }
    for (let i = 1; i <= sim.index && i < path.length; i++) {
      const a = uidOfId.get(path[i - 1].node);
      const b = uidOfId.get(path[i].node);
      if (!a || !b || a === b) continue;
      for (const e of bySrc.get(a) || []) if (e.target === b) s.add(e.id);
    }
    return s;
  }, [sim, edges, uidOfId, startUid]);

  const shownEdges = useMemo(() => {
    if (diff) {
      const removed = new Set(diff.diff.removed);
      const addedSet = new Set(diff.diff.added);
      return diff.edges.map((e) =>
        removed.has(e.source) || removed.has(e.target) || e.id.startsWith('old:')
          ? { ...e, className: 'edge-removed' }
          : addedSet.has(e.source) || addedSet.has(e.target)
            ? { ...e, className: 'edge-added' }
            : e,
      );
    }
    if (!litEdges.size) return edges;
    return edges.map((e) => (litEdges.has(e.id) ? { ...e, className: 'edge-lit', animated: true } : e));
  }, [edges, litEdges, diff]);

  /* ---- canvas events ------------------------------------------------------------------ */

  const onNodesChange = useCallback((changes: NodeChange<FlowNode>[]) => {
    if (diffRef.current) {
      setDiff((d) => (d ? { ...d, nodes: applyNodeChanges(changes, d.nodes) } : d));
      return;
    }
    setNodes((ns) => applyNodeChanges(changes, ns));
    let edit = false;
    for (const c of changes) {
      if (c.type === 'remove') {
        edit = true;
        setSelected((s) => (s === c.id ? null : s));
      } else if (c.type === 'position' && c.position) edit = true;
    }
    if (edit) setDirty(true);
  }, []);

  const onEdgesChange = useCallback((changes: EdgeChange<FlowEdge>[]) => {
    if (diffRef.current) return;
    setEdges((es) => applyEdgeChanges(changes, es));
    if (changes.some((c) => c.type === 'remove')) setDirty(true);
  }, []);

  const onConnect = useCallback((c: Connection) => {
    if (diffRef.current || !c.source || !c.target || c.target === TRIGGER_ID) return;
    const handle = c.sourceHandle || (c.source === TRIGGER_ID ? START_HANDLE : 'next');
    setEdges((es) => [...es.filter((e) => !(e.source === c.source && (e.sourceHandle || 'next') === handle)), makeEdge(c.source, handle, c.target)]);
    setDirty(true);
  }, []);

  const onSelectionChange = useCallback(({ nodes: sel }: OnSelectionChangeParams<FlowNode, FlowEdge>) => {
    if (diffRef.current) return;
    if (sel.length === 1 && sel[0].type === 'jnode') {
      setSelected(sel[0].id);
      setPanel('auto');
    } else if (sel.length === 1 && sel[0].type === 'trigger') {
      setSelected(null);
      setPanel('settings');
    } else if (sel.length === 0) setSelected(null);
  }, []);

  const deselectAll = useCallback(() => {
    setNodes((ns) => (ns.some((n) => n.selected) ? ns.map((n) => (n.selected ? { ...n, selected: false } : n)) : ns));
    setSelected(null);
  }, []);

  /* ---- editing ------------------------------------------------------------------------ */

  const clearProblemsOf = useCallback((nodeId: string | null) => {
    setProblems((ps) => (ps.some((p) => p.node === nodeId) ? ps.filter((p) => p.node !== nodeId) : ps));
  }, []);

  const onNodeDefChange = useCallback(
    (uid: string, def: JNodeDef, remap?: HandleRemap) => {
      const old = nodesRef.current.find((n) => n.id === uid) as JFlowNode | undefined;
      setNodes((ns) => ns.map((n) => (n.id === uid ? ({ ...n, data: { ...(n as JFlowNode).data, def } } as JFlowNode) : n)));
      if (remap) {
        setEdges((es) =>
          es.flatMap((e) => {
            if (e.source !== uid || !e.sourceHandle || !(e.sourceHandle in remap)) return [e];
            const h = remap[e.sourceHandle];
            return h === null ? [] : [{ ...e, id: edgeId(uid, h), sourceHandle: h }];
          }),
        );
      }
      if (old) clearProblemsOf(old.data.def.id);
      setDirty(true);
    },
    [clearProblemsOf],
  );

  const onRef = useCallback((uid: string, handle: string, target: string | undefined) => {
    setEdges((es) => {
      const rest = es.filter((e) => !(e.source === uid && (e.sourceHandle || 'next') === handle));
      return target ? [...rest, makeEdge(uid, handle, target)] : rest;
    });
    setDirty(true);
  }, []);

  const onRename = useCallback((uid: string, id: string) => {
    setNodes((ns) => ns.map((n) => (n.id === uid ? ({ ...n, data: { ...(n as JFlowNode).data, def: { ...(n as JFlowNode).data.def, id } } } as JFlowNode) : n)));
    setDirty(true);
  }, []);

  const onSetStart = useCallback((uid: string | undefined) => {
    setEdges((es) => [...es.filter((e) => e.source !== TRIGGER_ID), ...(uid ? [makeEdge(TRIGGER_ID, START_HANDLE, uid)] : [])]);
    setDirty(true);
  }, []);

  const onDelete = useCallback((uid: string) => {
    const gone = nodesRef.current.find((n) => n.id === uid) as JFlowNode | undefined;
    if (gone) clearProblemsOf(gone.data.def.id);
    setNodes((ns) => ns.filter((n) => n.id !== uid));
    setEdges((es) => es.filter((e) => e.source !== uid && e.target !== uid));
    setSelected(null);
    setDirty(true);
  }, [clearProblemsOf]);

  const idTaken = useCallback((id: string, uid: string) => nodesRef.current.some((n) => n.type === 'jnode' && n.id !== uid && (n as JFlowNode).data.def.id === id), []);

  const onMetaChange = useCallback(
    (m: Meta) => {
      setMeta(m);
      clearProblemsOf(null);
      setDirty(true);
    },
    [clearProblemsOf],
  );

  const addNode = useCallback((type: NodeType, pos: { x: number; y: number }) => {
    const ns = nodesRef.current;
    const taken = new Set<string>();
    for (const n of ns) {
      taken.add(n.id);
      if (n.type === 'jnode') taken.add((n as JFlowNode).data.def.id);
    }
    const uid = freshId(type, (x) => taken.has(x));
    // not on top of another node: move down until the spot is free
    const p = { ...pos };
    for (let k = 0; k < 30 && ns.some((n) => Math.abs(n.position.x - p.x) < NODE_W + 10 && Math.abs(n.position.y - p.y) < 90); k++) p.y += 100;
    const node: JFlowNode = { id: uid, type: 'jnode', position: p, data: { def: defaultDef(type, uid) }, selected: true };
    setNodes((cur) => [...cur.map((n) => (n.selected ? { ...n, selected: false } : n)), node]);
    if (!ns.some((n) => n.type === 'jnode') && !edgesRef.current.some((e) => e.source === TRIGGER_ID)) setEdges((es) => [...es, makeEdge(TRIGGER_ID, START_HANDLE, uid)]);
    setSelected(uid);
    setPanel('auto');
    setDirty(true);
    // keep the new node in view
    const r = wrapper.current?.getBoundingClientRect();
    if (r && r.width > 0) {
      const f = rfRef.current;
      const tl = f.screenToFlowPosition({ x: r.left, y: r.top });
      const br = f.screenToFlowPosition({ x: r.right, y: r.bottom });
      if (p.x < tl.x || p.y < tl.y || p.x + NODE_W > br.x || p.y + 90 > br.y)
        requestAnimationFrame(() => f.setCenter(p.x + NODE_W / 2, p.y + 45, { zoom: f.getZoom(), duration: 200 }));
    }
  }, []);

  const addAtCentre = useCallback(
    (type: NodeType) => {
      const r = wrapper.current?.getBoundingClientRect();
      const k = added.current++ % 6;
      const c = r ? rfRef.current.screenToFlowPosition({ x: r.left + r.width / 2, y: r.top + r.height / 2 }) : { x: 0, y: 0 };
      addNode(type, { x: Math.round(c.x - NODE_W / 2 + k * 24), y: Math.round(c.y - 40 + k * 24) });
    },
    [addNode],
  );

  const onDragOver = useCallback((e: DragEvent) => {
    if (e.dataTransfer.types.includes(DND_TYPE)) {
      e.preventDefault();
      e.dataTransfer.dropEffect = 'move';
    }
  }, []);

  const onDrop = useCallback(
    (e: DragEvent) => {
      const type = e.dataTransfer.getData(DND_TYPE) as NodeType;
      if (!type || !NODE_TYPES.includes(type) || diffRef.current) return;
      e.preventDefault();
      const p = rfRef.current.screenToFlowPosition({ x: e.clientX, y: e.clientY });
      addNode(type, { x: Math.round(p.x - NODE_W / 2), y: Math.round(p.y - 30) });
    },
    [addNode],
  );

  const doAutoLayout = useCallback(() => {
    setNodes((ns) => autoLayout(ns, edgesRef.current));
    setDirty(true);
    requestAnimationFrame(() => rfRef.current.fitView({ padding: 0.2, duration: 200 }));
  }, []);

  const focusNode = useCallback(
    (nodeId: string) => {
      const list = diffRef.current ? diffRef.current.nodes : nodesRef.current;
      const n = list.find((x) => (x.type === 'jnode' ? (x as JFlowNode).data.def.id === nodeId : x.id === nodeId));
      if (!n) return;
      const w = n.measured?.width ?? NODE_W;
      const h = n.measured?.height ?? 80;
      rfRef.current.setCenter(n.position.x + w / 2, n.position.y + h / 2, { zoom: Math.max(rfRef.current.getZoom(), 0.8), duration: 250 });
      if (!diffRef.current) {
        setNodes((ns) => ns.map((x) => (x.id === n.id ? (x.selected ? x : { ...x, selected: true }) : x.selected ? { ...x, selected: false } : x)));
        setSelected(n.id);
        setPanel((p) => (p === 'sim' ? p : 'auto'));
      }
    },
    [],
  );

  /* ---- server actions ------------------------------------------------------------------ */

  const problemsFromError = useCallback((e: unknown, def: JourneyDef): boolean => {
    if (e instanceof ApiError && e.field && e.status === 422) {
      const tg = fieldTarget(e.field, def);
      setProblems((ps) => [{ node: tg.node ?? null, sub: tg.sub, message: e.message, code: e.code, source: 'parse' }, ...ps.filter((p) => p.source === 'check')]);
      return true;
    }
    return false;
  }, []);

  const save = useCallback(async (): Promise<boolean> => {
    const inf = infoRef.current;
    if (!inf || !metaRef.current) return false;
    const def = buildDef();
    setBusy('save');
    try {
      const j = await api<JourneyRes>('PUT', `journeys/${encodeURIComponent(inf.id)}`, { name: def.name, definition: def, draft_rev: inf.draft_rev });
      setInfo(pickInfo(j));
      setDirty(false);
      setProblems((ps) => ps.filter((p) => p.source === 'check'));
      setBanner({ kind: 'ok', text: t('msg.saved') });
      return true;
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) setBanner({ kind: 'conflict', error: e });
      else if (problemsFromError(e, def)) setBanner({ kind: 'error', text: t('msg.not_saved') });
      else setBanner({ kind: 'error', error: e });
      return false;
    } finally {
      setBusy(null);
    }
  }, [buildDef, problemsFromError, t]);

  const validate = useCallback(async (): Promise<boolean> => {
    const inf = infoRef.current;
    if (!inf) return false;
    const def = buildDef();
    setBusy('validate');
    try {
      const r = await api<{ ok: boolean; problems: { node: string | null; field: string; code: string; message: string }[] }>('POST', `journeys/${encodeURIComponent(inf.id)}/validate`, { definition: def });
      const ps: Problem[] = (r.problems || []).map((p) => {
        const tg = fieldTarget(p.field, def);
        return { node: p.node ?? tg.node ?? null, sub: tg.sub, message: p.message, code: p.code, source: 'check' };
      });
      setProblems(ps);
      setBanner(r.ok ? { kind: 'ok', text: t('msg.valid') } : { kind: 'error', text: t('msg.problems', { n: ps.length }) });
      return r.ok;
    } catch (e) {
      setProblems([]);
      problemsFromError(e, def);
      setBanner({ kind: 'error', error: e });
      return false;
    } finally {
      setBusy(null);
    }
  }, [buildDef, problemsFromError, t]);

  const publish = useCallback(async () => {
    const inf = infoRef.current;
    if (!inf) return;
    if (dirtyRef.current && !(await save())) return;
    if (!(await validate())) return;
    setBusy('publish');
    try {
      const r = await api<{ version: number }>('POST', `journeys/${encodeURIComponent(inf.id)}/publish`);
      const j = await api<JourneyRes>('GET', `journeys/${encodeURIComponent(inf.id)}`);
      setInfo(pickInfo(j));
      setBanner({ kind: 'ok', text: t('msg.published', { n: r.version }) });
    } catch (e) {
      problemsFromError(e, buildDef());
      setBanner({ kind: 'error', error: e });
    } finally {
      setBusy(null);
    }
  }, [save, validate, buildDef, problemsFromError, t]);

  const setStatus = useCallback(
    async (action: 'pause' | 'resume') => {
      const inf = infoRef.current;
      if (!inf) return;
      setBusy(action);
      try {
        const j = await api<JourneyRes>('POST', `journeys/${encodeURIComponent(inf.id)}/${action}`);
        setInfo((cur) => ({ ...pickInfo(j), draft_rev: cur?.draft_rev ?? j.draft_rev }));
        setBanner({ kind: 'ok', text: t(action === 'pause' ? 'msg.paused' : 'msg.resumed') });
      } catch (e) {
        setBanner({ kind: 'error', error: e });
      } finally {
        setBusy(null);
      }
    },
    [t],
  );

  // Ctrl/Cmd+S saves; leaving with unsaved changes asks first
  useEffect(() => {
    const key = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 's') {
        e.preventDefault();
        save();
      }
    };
    const unload = (e: BeforeUnloadEvent) => {
      if (dirtyRef.current) e.preventDefault();
    };
    window.addEventListener('keydown', key);
    window.addEventListener('beforeunload', unload);
    return () => {
      window.removeEventListener('keydown', key);
      window.removeEventListener('beforeunload', unload);
    };
  }, [save]);

  // an "ok" message goes away by itself
  useEffect(() => {
    if (banner?.kind !== 'ok') return;
    const h = setTimeout(() => setBanner(null), 4000);
    return () => clearTimeout(h);
  }, [banner]);

  /* ---- live counts ---------------------------------------------------------------------- */

  useEffect(() => {
    if (!showCounts) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let ctl: AbortController | null = null;
    const tick = async (first = false) => {
      timer = undefined;
      if (stopped || (document.hidden && !first)) return; // resumed by visibilitychange
      ctl = new AbortController();
      try {
        const s = await api<{ nodes: Record<string, Counts> }>('GET', `journeys/${encodeURIComponent(journeyId)}/stats`, undefined, ctl.signal);
        if (!stopped) setStats(s.nodes || {});
      } catch {
        /* keep the last counts; try again */
      }
      if (!stopped && !document.hidden) timer = setTimeout(tick, POLL_MS);
    };
    const onVis = () => {
      if (!document.hidden && !timer && !stopped) tick();
    };
    tick(true);
    document.addEventListener('visibilitychange', onVis);
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      ctl?.abort();
      document.removeEventListener('visibilitychange', onVis);
    };
  }, [showCounts, journeyId]);

  /* ---- simulation replay --------------------------------------------------------------------- */

  useEffect(() => {
    if (!sim?.playing) return;
    if (sim.index >= sim.result.path.length - 1) {
      setSim((s) => (s ? { ...s, playing: false } : s));
      return;
    }
    const h = setTimeout(() => setSim((s) => (s ? { ...s, index: s.index + 1 } : s)), SIM_STEP_MS);
    return () => clearTimeout(h);
  }, [sim]);

  const simCtl = useMemo(
    () => ({
      onPlay: () => setSim((s) => (s ? { ...s, playing: true, index: s.index >= s.result.path.length - 1 ? -1 : s.index } : s)),
      onPause: () => setSim((s) => (s ? { ...s, playing: false } : s)),
      onStep: () => setSim((s) => (s ? { ...s, playing: false, index: Math.min(s.index + 1, s.result.path.length - 1) } : s)),
      onAll: () => setSim((s) => (s ? { ...s, playing: false, index: s.result.path.length - 1 } : s)),
      onRestart: () => setSim((s) => (s ? { ...s, playing: false, index: -1 } : s)),
      onAgain: () => setSimOpen(true),
      onClose: () => {
        setSim(null);
        setPanel('auto');
      },
    }),
    [],
  );

  const onSimDone = useCallback((input: SimInput, result: SimResult) => {
    setSimInput(input);
    setSimOpen(false);
    setSim({ result, index: 0, playing: (result.path || []).length > 1 });
    setDiff(null);
    setPanel('sim');
  }, []);

  /* ---- versions and diff ------------------------------------------------------------------- */

  const onDiff = useCallback((a: JourneyDef, b: JourneyDef, from: string, to: string) => {
    const d = diffDefs(a, b);
    const g = diffGraph(a, b, d);
    setSim(null);
    setDiff({ diff: d, from, to, nodes: g.nodes, edges: g.edges });
    requestAnimationFrame(() => rfRef.current.fitView({ padding: 0.2 }));
  }, []);
  const onEndDiff = useCallback(() => {
    setDiff(null);
    requestAnimationFrame(() => rfRef.current.fitView({ padding: 0.2 }));
  }, []);
  const closeVersions = useCallback(() => {
    setDiff(null);
    setPanel('auto');
  }, []);
  const closePanel = useCallback(() => {
    deselectAll();
    setPanel('auto');
  }, [deselectAll]);
  const openSettings = useCallback(() => {
    deselectAll();
    setPanel('settings');
  }, [deselectAll]);

  /* ---- render ---------------------------------------------------------------------------- */

  const triggerInfo = useMemo(() => ({ summary: triggerSummary(meta?.trigger, t) }), [meta?.trigger, t]);
  const shownProblems = useMemo(() => problems.filter((p) => !p.node || uidOfId.has(p.node)), [problems, uidOfId]);
  const selectedNode = selected ? (nodes.find((n) => n.id === selected) as JFlowNode | undefined) : undefined;
  const selectedRefs = useMemo(() => {
    const r: Record<string, string | undefined> = {};
    if (selected) for (const e of edges) if (e.source === selected) r[e.sourceHandle || 'next'] = e.target;
    return r;
  }, [edges, selected]);
  const selectedId = selectedNode?.data.def.id;
  const nodeErrors = useMemo<PanelError[]>(() => problems.filter((p) => p.node === selectedId).map((p) => ({ sub: p.sub, message: p.message })), [problems, selectedId]);
  const journeyErrors = useMemo<PanelError[]>(() => problems.filter((p) => !p.node).map((p) => ({ sub: p.sub, message: p.message })), [problems]);
  // the overview map: on by default for mid-sized journeys (it redraws every node on every move)
  const [mapChoice, setMapChoice] = useState<boolean | null>(null);
  const mapOn = mapChoice ?? (nodes.length > 12 && nodes.length <= MAP_AUTO_MAX);
  const toggleMap = useCallback(() => setMapChoice((c) => !(c ?? (nodesRef.current.length > 12 && nodesRef.current.length <= MAP_AUTO_MAX))), []);
  const ariaLabelConfig = useMemo(
    () => ({
      'node.a11yDescription.default': t('rf.node_desc'),
      'node.a11yDescription.keyboardDisabled': t('rf.node_desc_nokeys'),
      'edge.a11yDescription.default': t('rf.edge_desc'),
      'controls.ariaLabel': t('rf.controls'),
      'controls.zoomIn.ariaLabel': t('rf.zoom_in'),
      'controls.zoomOut.ariaLabel': t('rf.zoom_out'),
      'controls.fitView.ariaLabel': t('rf.fit'),
      'controls.interactive.ariaLabel': t('rf.interactive'),
      'minimap.ariaLabel': t('rf.minimap'),
      'handle.ariaLabel': t('rf.handle'),
    }),
    [t],
  );

  if (loadError && !info)
    return (
      <section className="page">
        <p>
          <Link to="/journeys">← {t('list.back')}</Link>
        </p>
        <ErrorBanner error={loadError} />
      </section>
    );
  if (!info || !meta) return <Loading />;

  const readOnly = !!diff;
  const flowNodes = diff ? diff.nodes : nodes;
  let side;
  if (panel === 'sim' && sim) side = <SimPanel result={sim.result} index={sim.index} playing={sim.playing} {...simCtl} onPick={focusNode} />;
  else if (panel === 'versions')
    side = (
      <VersionsPanel
        journeyId={info.id}
        liveVersion={info.live_version}
        buildDef={buildDef}
        diff={diff}
        onDiff={onDiff}
        onEndDiff={onEndDiff}
        onPick={focusNode}
        onClose={closeVersions}
      />
    );
  else if (selectedNode && panel !== 'settings')
    side = (
      <NodePanel
        key={selectedNode.id}
        uid={selectedNode.id}
        def={selectedNode.data.def}
        refs={selectedRefs}
        options={options}
        isStart={startUid === selectedNode.id}
        errors={nodeErrors}
        idTaken={idTaken}
        onChange={onNodeDefChange}
        onRef={onRef}
        onRename={onRename}
        onSetStart={onSetStart}
        onDelete={onDelete}
        onClose={closePanel}
      />
    );
  else
    side = (
      <SettingsPanel
        meta={meta}
        errors={journeyErrors}
        options={options}
        startUid={startUid}
        onChange={onMetaChange}
        onSetStart={onSetStart}
        onClose={panel === 'settings' ? closePanel : undefined}
      />
    );

  return (
    <section className="builder" aria-label={t('builder.label', { name: meta.name || info.name })}>
      <header className="builder-head">
        <div className="builder-title">
          <Link
            to="/journeys"
            onClick={(e) => {
              if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
              e.preventDefault();
              if (!dirty || window.confirm(t('confirm.leave'))) navigate('/journeys');
            }}
          >
            ← {t('list.back')}
          </Link>
          <h1>{meta.name || info.name}</h1>
          <span className={'badge status-' + status} data-testid="journey-status">
            {t('status.' + status)}
          </span>
          {info.live_version > 0 && <span className="muted small">{t('builder.live_version', { n: info.live_version })}</span>}
          {dirty && (
            <span className="muted small" data-testid="dirty">
              {t('builder.unsaved')}
            </span>
          )}
        </div>
        <div className="builder-actions" role="toolbar" aria-label={t('builder.actions')}>
          <button type="button" onClick={openSettings} data-testid="btn-journey-settings" disabled={readOnly}>
            {t('btn.settings')}
          </button>
          <button type="button" onClick={doAutoLayout} data-testid="btn-autolayout" disabled={readOnly}>
            {t('btn.autolayout')}
          </button>
          <button type="button" onClick={() => validate()} data-testid="btn-validate" disabled={!!busy || readOnly}>
            {t('btn.validate')}
          </button>
          <button type="button" onClick={() => setSimOpen(true)} data-testid="btn-simulate" disabled={readOnly}>
            {t('btn.simulate')}
          </button>
          {sim && panel !== 'sim' && (
            <button type="button" onClick={() => setPanel('sim')} data-testid="btn-sim-results">
              {t('btn.sim_results')}
            </button>
          )}
          <button type="button" onClick={() => setPanel('versions')} data-testid="btn-versions" aria-pressed={panel === 'versions'}>
            {t('btn.versions')}
          </button>
          <button type="button" onClick={() => save()} data-testid="btn-save" disabled={!!busy || readOnly}>
            {busy === 'save' ? t('btn.saving') : t('btn.save')}
          </button>
          <button type="button" className="primary" onClick={() => publish()} data-testid="btn-publish" disabled={!!busy || readOnly}>
            {busy === 'publish' ? t('btn.publishing') : t('btn.publish')}
          </button>
          {status === 'live' && (
            <button type="button" onClick={() => setStatus('pause')} data-testid="btn-pause" disabled={!!busy}>
              {t('btn.pause')}
            </button>
          )}
          {status === 'paused' && (
            <button type="button" onClick={() => setStatus('resume')} data-testid="btn-resume" disabled={!!busy}>
              {t('btn.resume')}
            </button>
          )}
        </div>
      </header>
      <div aria-live="polite" className="builder-messages">
        {banner?.kind === 'ok' && (
          <div className="banner banner-ok" role="status">
            {banner.text}
          </div>
        )}
        {banner?.kind === 'error' && (banner.error ? <ErrorBanner error={banner.error} /> : <div className="banner banner-error">{banner.text}</div>)}
        {banner?.kind === 'conflict' && (
          <div className="banner banner-error" role="alert" data-testid="conflict">
            {t('msg.conflict')}{' '}
            <button type="button" onClick={() => load(true).then(() => setBanner(null))}>
              {t('btn.reload')}
            </button>{' '}
            <button type="button" className="link" onClick={() => setBanner(null)}>
              {t('action.keep_editing')}
            </button>
          </div>
        )}
        {shownProblems.length > 0 && !diff && (
          <section className="problems" aria-label={t('problems.title')}>
            <h2>{t('problems.title_n', { n: shownProblems.length })}</h2>
            <ul>
              {shownProblems.map((p, i) => (
                <li key={i} data-testid="problem">
                  {p.node ? (
                    <button type="button" className="link" onClick={() => focusNode(p.node!)}>
                      {p.node}
                    </button>
                  ) : (
                    <button type="button" className="link" onClick={openSettings}>
                      {t('problems.journey')}
                    </button>
                  )}
                  : {p.message}
                </li>
              ))}
            </ul>
          </section>
        )}
        {diff && (
          <div className="banner banner-diff" role="status">
            {t('versions.diff_title', { a: diff.from, b: diff.to })} — {t('versions.readonly')}{' '}
            <button type="button" onClick={onEndDiff}>
              {t('versions.back')}
            </button>
          </div>
        )}
      </div>
      <div className="builder-body">
        <nav className="palette" aria-label={t('palette.title')}>
          <h2>{t('palette.title')}</h2>
          <p className="muted small">{t('palette.hint')}</p>
          <ul>
            {NODE_TYPES.map((type) => (
              <li key={type}>
                <button
                  type="button"
                  className={'palette-item jnode-' + type}
                  data-testid={'palette-' + type}
                  draggable={!readOnly}
                  disabled={readOnly}
                  aria-label={t('palette.add', { type: t('type.' + type) })}
                  title={t('help.' + type)}
                  onDragStart={(e) => {
                    e.dataTransfer.setData(DND_TYPE, type);
                    e.dataTransfer.effectAllowed = 'move';
                  }}
                  onClick={() => addAtCentre(type)}
                >
                  <span className="palette-swatch" aria-hidden="true" />
                  {t('type.' + type)}
                </button>
              </li>
            ))}
          </ul>
        </nav>
        <div className="canvas" ref={wrapper} data-testid="journey-canvas" onDragOver={onDragOver} onDrop={onDrop}>
          <DecorContext.Provider value={store}>
            <TriggerInfoContext.Provider value={triggerInfo}>
              <ReactFlow<FlowNode, FlowEdge>
                nodes={flowNodes}
                edges={shownEdges}
                nodeTypes={nodeTypes}
                onNodesChange={onNodesChange}
                onEdgesChange={onEdgesChange}
                onConnect={onConnect}
                onSelectionChange={onSelectionChange}
                nodesDraggable={!readOnly}
                nodesConnectable={!readOnly}
                edgesFocusable={!readOnly}
                deleteKeyCode={readOnly ? null : ['Backspace', 'Delete']}
                defaultEdgeOptions={defaultEdgeOptions}
                onlyRenderVisibleElements={flowNodes.length > 60}
                fitView
                fitViewOptions={fitViewOptions}
                minZoom={0.1}
                ariaLabelConfig={ariaLabelConfig}
              >
                <Background gap={24} />
                <Controls>
                  <ControlButton onClick={toggleMap} aria-pressed={mapOn} aria-label={t('rf.toggle_map')} title={t('rf.toggle_map')} data-testid="btn-minimap">
                    ▦
                  </ControlButton>
                </Controls>
                {mapOn && <MiniMap pannable zoomable ariaLabel={t('rf.minimap')} />}
              </ReactFlow>
            </TriggerInfoContext.Provider>
          </DecorContext.Provider>
        </div>
        <aside className="side">{side}</aside>
      </div>
      {simOpen && (
        <SimDialog journeyId={info.id} initial={simInput || defaultSimInput(meta.trigger)} buildDef={buildDef} onClose={() => setSimOpen(false)} onDone={onSimDone} />
      )}
    </section>
  );
}

const defaultEdgeOptions = { markerEnd: { type: MarkerType.ArrowClosed, width: 16, height: 16 } };
const fitViewOptions = { padding: 0.2, maxZoom: 1.2 };
