import { describe, expect, it } from 'vitest';
import {
  autoLayout,
  defToGraph,
  diffDefs,
  diffGraph,
  fieldTarget,
  graphToDef,
  outputsOf,
  stableJson,
  TRIGGER_ID,
  type FlowNode,
  type JFlowNode,
  type JourneyDef,
} from './graph';
import { defaultDef, nodeTable } from './nodeTable';

// Every node type with every key it takes (CONVENTIONS §5, journey_def.c).
const everyType: JourneyDef = {
  name: 'Every node',
  trigger: { type: 'event', event: 'Signed Up', where: { property: 'plan', op: 'eq', value: 'pro' } },
  entry: { reentry: { after: { days: 30 } } },
  exit_on: [{ event: 'Order Completed' }],
  goal: { event: 'Order Completed', within: { days: 7 } },
  quiet_hours: { start: '21:00', end: '08:00' },
  advertising: true,
  timezone: 'Asia/Seoul',
  start: 'intro',
  nodes: [
    { id: 'intro', type: 'send', channel: 'email', template: 'welcome-1', fallback: ['sms'], advertising: false, next: 'w2' },
    { id: 'w2', type: 'wait', duration: { days: 2 }, until: { time: '10:00', weekdays: ['mon', 'tue'] }, next: 'ab' },
    {
      id: 'ab',
      type: 'send',
      channel: 'sms',
      variants: [
        { name: 'short', weight: 70, template: 'promo-a' },
        { name: 'long', weight: 30, template: { text: 'Hi {{ user.first_name }}' } },
      ],
      next: 'clicked?',
    },
    {
      id: 'clicked?',
      type: 'wait_event',
      event: 'Email Link Clicked',
      where: { property: 'link_kind', op: 'eq', value: 'content' },
      timeout: { days: 5 },
      next: 'b',
      timeout_next: 's',
    },
    {
      id: 'b',
      type: 'branch',
      branches: [
        { when: { tag: 'vip' }, next: 'tag' },
        { when: { score: 'lead', op: 'gte', value: 70 }, next: 'wh' },
      ],
      else: 'sl',
    },
    {
      id: 's',
      type: 'split',
      variants: [
        { name: 'A', weight: 50, next: 'g' },
        { name: 'B', weight: 50, next: 'end' },
      ],
      holdout: 10,
    },
    {
      id: 'tag',
      type: 'update',
      tags_add: ['interest:marketing'],
      tags_remove: ['cold'],
      set: { k: 'v', gone: null },
      lifecycle: 'mql',
      score: { lead: 10 },
      next: 'end',
    },
    { id: 'wh', type: 'webhook', url: 'https://example.com/hook', body: '{"u":"{{ user.id }}"}', next: 'end' },
    { id: 'sl', type: 'slack', channel: '#sales', text: 'New lead {{ user.email }}', next: 'g' },
    { id: 'g', type: 'goal', next: 'end' },
    { id: 'end', type: 'exit' },
  ],
  layout: {},
};
everyType.nodes.forEach((n, i) => (everyType.layout![n.id] = { x: (i % 3) * 260, y: Math.floor(i / 3) * 160 }));

function jnodes(nodes: FlowNode[]): JFlowNode[] {
  return nodes.filter((n) => n.type === 'jnode') as JFlowNode[];
}

describe('defToGraph / graphToDef', () => {
  it('round-trips a definition with every node type exactly', () => {
    const { nodes, edges } = defToGraph(everyType);
    expect(jnodes(nodes)).toHaveLength(everyType.nodes.length);
    const back = graphToDef(everyType, nodes, edges);
    expect(back).toEqual(everyType);
    expect(stableJson(back)).toBe(stableJson(everyType));
  });

  it('round-trips each node type alone, with a target for each of its outputs', () => {
    for (const type of Object.keys(nodeTable) as (keyof typeof nodeTable)[]) {
      let n = defaultDef(type, 'x');
      for (const o of outputsOf(n)) {
        if (o.handle === 'next' || o.handle === 'timeout_next' || o.handle === 'else') n = { ...n, [o.handle]: 'end' };
        else if (o.kind === 'branch') n = { ...n, branches: n.branches.map((b: object) => ({ ...b, next: 'end' })) };
        else if (o.kind === 'variant') n = { ...n, variants: n.variants.map((v: object) => ({ ...v, next: 'end' })) };
      }
      const def: JourneyDef = {
        name: type,
        trigger: { type: 'manual' },
        nodes: [n, { id: 'end', type: 'exit' }],
        layout: { x: { x: 0, y: 0 }, end: { x: 0, y: 200 } },
      };
      const g = defToGraph(def);
      expect(g.edges.filter((e) => e.source === 'x')).toHaveLength(outputsOf(n).length);
      expect(graphToDef(def, g.nodes, g.edges)).toEqual(def);
    }
  });

  it('keeps references out of node data and in the edges, one per handle', () => {
    const { nodes, edges } = defToGraph(everyType);
    const b = jnodes(nodes).find((n) => n.id === 'b')!;
    expect(b.data.def.else).toBeUndefined();
    expect(b.data.def.branches.every((x: { next?: string }) => x.next === undefined)).toBe(true);
    const from = (id: string) => Object.fromEntries(edges.filter((e) => e.source === id).map((e) => [e.sourceHandle, e.target]));
    expect(from('b')).toEqual({ b0: 'tag', b1: 'wh', else: 'sl' });
    expect(from('s')).toEqual({ v0: 'g', v1: 'end' });
    expect(from('clicked?')).toEqual({ next: 'b', timeout_next: 's' });
    expect(from('end')).toEqual({});
    expect(from(TRIGGER_ID)).toEqual({ start: 'intro' });
    expect(outputsOf(b.data.def).map((o) => o.handle)).toEqual(['b0', 'b1', 'else']);
  });

  it('connecting a handle sets the reference; deleting an edge clears it', () => {
    const { nodes, edges } = defToGraph(everyType);
    const without = edges.filter((e) => !(e.source === 'b' && e.sourceHandle === 'b1') && !(e.source === 'w2' && e.sourceHandle === 'next'));
    const def = graphToDef(everyType, nodes, without);
    const b = def.nodes.find((n) => n.id === 'b')!;
    expect(b.branches[1]).toEqual({ when: { score: 'lead', op: 'gte', value: 70 } });
    expect(b.branches[0].next).toBe('tag');
    expect(def.nodes.find((n) => n.id === 'w2')!.next).toBeUndefined();
    const split = without.filter((e) => !(e.source === 's' && e.sourceHandle === 'v0'));
    split.push({ id: 's|v0', source: 's', sourceHandle: 'v0', target: 'tag' });
    const d2 = graphToDef(everyType, nodes, split);
    expect(d2.nodes.find((n) => n.id === 's')!.variants[0]).toEqual({ name: 'A', weight: 50, next: 'tag' });
  });

  it('follows a renamed node in every reference, the start and the layout', () => {
    const { nodes, edges } = defToGraph(everyType);
    const renamed = nodes.map((n) => (n.id === 'end' ? { ...n, data: { def: { ...(n as JFlowNode).data.def, id: 'finish' } } } : n)) as FlowNode[];
    const def = graphToDef(everyType, renamed, edges);
    expect(def.nodes.find((n) => n.id === 'g')!.next).toBe('finish');
    expect(def.nodes.find((n) => n.id === 's')!.variants[1].next).toBe('finish');
    expect(def.layout!.finish).toEqual(everyType.layout!.end);
    expect(def.layout!.end).toBeUndefined();
  });

  it('leaves start out when the definition had none, and sets it when moved', () => {
    const def: JourneyDef = { ...everyType };
    delete def.start;
    const g = defToGraph(def);
    expect(graphToDef(def, g.nodes, g.edges).start).toBeUndefined();
    const moved = g.edges.map((e) => (e.source === TRIGGER_ID ? { ...e, target: 'w2' } : e));
    expect(graphToDef(def, g.nodes, moved).start).toBe('w2');
  });

  it('lays out a definition without layout with dagre, top to bottom', () => {
    const def: JourneyDef = { ...everyType };
    delete def.layout;
    const { nodes } = defToGraph(def);
    const pos = Object.fromEntries(nodes.map((n) => [n.id, n.position]));
    expect(pos[TRIGGER_ID].y).toBeLessThan(pos.intro.y);
    expect(pos.intro.y).toBeLessThan(pos.w2.y);
    expect(pos.w2.y).toBeLessThan(pos.ab.y);
    expect(pos.b.y).toBeLessThan(pos.tag.y);
    // no two nodes on the same spot
    expect(new Set(nodes.map((n) => `${n.position.x},${n.position.y}`)).size).toBe(nodes.length);
    // and the positions go into "layout"
    const g = defToGraph(def);
    const back = graphToDef(def, g.nodes, g.edges);
    expect(Object.keys(back.layout!)).toEqual(def.nodes.map((n) => n.id));
    expect({ ...back, layout: undefined }).toEqual({ ...def, layout: undefined });
  });

  it('autoLayout puts a child under its parent', () => {
    const { nodes, edges } = defToGraph(everyType);
    const laid = autoLayout(nodes, edges);
    const y = (id: string) => laid.find((n) => n.id === id)!.position.y;
    expect(y('g')).toBeLessThan(y('end'));
    expect(laid).toHaveLength(nodes.length);
  });

  it('places nodes missing from a partial layout below the others', () => {
    const def: JourneyDef = { ...everyType, layout: { intro: { x: 0, y: 0 }, w2: { x: 0, y: 150 } } };
    const { nodes } = defToGraph(def);
    const end = nodes.find((n) => n.id === 'end')!;
    expect(end.position.y).toBeGreaterThan(150);
  });
});

function bigDef(n: number, withLayout: boolean): JourneyDef {
  const nodes: JourneyDef['nodes'] = [];
  for (let i = 0; i < n - 1; i++) {
    const next = `n${i + 1}`;
    if (i % 10 === 5) nodes.push({ id: `n${i}`, type: 'branch', branches: [{ when: { tag: 'vip' }, next }], else: `n${Math.min(i + 2, n - 1)}` });
    else if (i % 10 === 7) nodes.push({ id: `n${i}`, type: 'split', variants: [{ name: 'A', weight: 1, next }, { name: 'B', weight: 1, next: `n${Math.min(i + 3, n - 1)}` }], holdout: 0 });
    else if (i % 2) nodes.push({ id: `n${i}`, type: 'wait', duration: { days: 1 }, next });
    else nodes.push({ id: `n${i}`, type: 'send', channel: 'email', template: 'welcome-1', next });
  }
  nodes.push({ id: `n${n - 1}`, type: 'exit' });
  const def: JourneyDef = { name: 'big', trigger: { type: 'event', event: 'Signed Up' }, nodes };
  if (withLayout) def.layout = Object.fromEntries(nodes.map((x, i) => [x.id, { x: (i % 5) * 260, y: Math.floor(i / 5) * 140 }]));
  return def;
}

describe('a 200-node journey', () => {
  it('converts both ways in well under 50 ms', () => {
    const def = bigDef(200, true);
    defToGraph(def); // warm up
    const t0 = performance.now();
    const g = defToGraph(def);
    const back = graphToDef(def, g.nodes, g.edges);
    const ms = performance.now() - t0;
    expect(back).toEqual(def);
    expect(g.nodes).toHaveLength(201);
    expect(ms).toBeLessThan(25);
  });

  it('lays out 200 nodes without a layout in reasonable time', () => {
    const def = bigDef(200, false);
    const t0 = performance.now();
    const g = defToGraph(def);
    const ms = performance.now() - t0;
    expect(g.nodes).toHaveLength(201);
    expect(ms).toBeLessThan(1500);
  });
});

describe('errors and diffs', () => {
  it('maps an API field to the node and the path inside it', () => {
    expect(fieldTarget('definition.nodes[4].branches[0].when', everyType)).toEqual({ node: 'b', sub: 'branches[0].when' });
    expect(fieldTarget('nodes[1]', everyType)).toEqual({ node: 'w2', sub: '' });
    expect(fieldTarget('definition.trigger.segment', everyType)).toEqual({ sub: 'trigger.segment' });
  });

  it('diffs two definitions by node and field, ignoring positions and key order', () => {
    const a = everyType;
    const nodes = a.nodes.filter((n) => n.id !== 'wh').map((n) => (n.id === 'w2' ? { ...n, duration: { days: 3 } } : n.id === 'g' ? { next: 'end', type: 'goal', id: 'g' } as typeof n : n));
    nodes.push({ id: 'new', type: 'exit' });
    const b: JourneyDef = { ...a, name: 'Renamed', nodes, layout: { intro: { x: 5, y: 5 } } };
    const d = diffDefs(a, b);
    expect(d.added).toEqual(['new']);
    expect(d.removed).toEqual(['wh']);
    expect(d.changed).toEqual({ w2: ['duration'] });
    expect(d.fields).toEqual(['name']);
    const g = diffGraph(a, b, d);
    expect(g.nodes.some((n) => n.id === 'wh')).toBe(true);
    expect(g.nodes.some((n) => n.id === 'new')).toBe(true);
  });
});
