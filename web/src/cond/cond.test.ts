import { describe, expect, it } from 'vitest';
import {
  addAtRoot, addChild, assignProblems, changeNumOp, changeOp, conditionKey, fromCondition, isDate, mapNode, moveNode,
  newGroup, newLeaf, nodePaths, parseConditionText, removeNode, serverPath, summarize, toCondition, unwrapNot, validate,
  wrapGroup, wrapNot, type CmpNode, type Condition, type EventNode, type GroupNode, type Node, type Val,
} from './cond';

const rt = (c: Condition) => toCondition(fromCondition(c));
const codes = (c: Condition, opts = {}) => validate(fromCondition(c), opts).map((p) => `${p.path}:${p.code}`);

describe('every leaf kind round-trips', () => {
  const leaves: Condition[] = [
    { trait: 'plan', op: 'eq', value: 'pro' },
    { trait: 'plan', op: 'eq', value: '42' }, // a text that looks like a number stays text
    { trait: 'age', op: 'ne', value: 42 },
    { trait: 'vip', op: 'eq', value: true },
    { trait: 'vip', op: 'ne', value: false },
    { trait: 'score', op: 'gt', value: 10 },
    { trait: 'score', op: 'gte', value: 2.5 },
    { trait: 'name', op: 'lt', value: '가' },
    { trait: 'n', op: 'lte', value: -3 },
    { trait: 'lifecycle', op: 'in', value: ['customer', 'opportunity'] },
    { trait: 'n', op: 'not_in', value: [1, 2, 3] },
    { trait: 'tags', op: 'contains', value: 'sale' },
    { trait: 'phone', op: 'starts_with', value: '010' },
    { trait: 'email', op: 'ends_with', value: '@example.com' },
    { trait: 'email', op: 'exists' },
    { trait: 'email', op: 'not_exists' },
    { trait: 'n', op: 'between', value: [10, 20] },
    { trait: 'created_at', op: 'between', value: ['2026-02-01T00:00:00+09:00', '2026-02-28T23:59:59+09:00'] },
    { trait: 'name', op: 'between', value: ['a', 'm'] },
    { trait: 'trial_ends_at', op: 'before', value: '2026-03-02' },
    { trait: 'trial_ends_at', op: 'after', value: 1767225600000 },
    { trait: 'last_order_at', op: 'within_last', value: { days: 30 } },
    { trait: 'last_order_at', op: 'not_within_last', value: { weeks: 1, days: 2, hours: 3, minutes: 4 } },
    { trait: 'address.city', op: 'starts_with', value: '서울' },
    { property: 'revenue', op: 'gte', value: 50000 },
    { property: 'link_topic', op: 'exists' },
    { computed: 'consecutive_unopened_emails', op: 'gte', value: 3 },
    { event: 'Signed Up' },
    { event: 'Product Viewed', where: { property: 'category', op: 'eq', value: 'shoes' }, count: { op: 'gte', value: 3 }, within: { days: 7 } },
    { event: 'Order Completed', count: { op: 'eq', value: 0 }, within: { days: 30 } },
    { event: 'Order Completed', count: { op: 'between', value: [2, 5] } },
    { event: 'Order Completed', sum: { property: 'revenue', op: 'gte', value: 100000 } },
    { event: 'Order Completed', where: { all: [{ property: 'currency', op: 'eq', value: 'KRW' }, { not: { property: 'coupon', op: 'exists' } }] }, sum: { property: 'revenue', op: 'between', value: [1, 2.5] }, count: { op: 'gt', value: 1 }, within: { days: 1, hours: 12 } },
    { segment: 'vip' },
    { tag: 'interest:marketing' },
    { consent: { channel: 'email', is: 'subscribed' } },
    { consent: { channel: 'night', is: 'unknown' } },
    { consent: { channel: 'topics.newsletter', is: 'unsubscribed' } },
    { score: 'lead', op: 'gte', value: 70 },
    { score: 'lead', op: 'between', value: [20, 40] },
    { score: 'lead', percentile: { op: 'gte', value: 80 } },
  ];
  for (const c of leaves)
    it(conditionKey(c), () => {
      const n = fromCondition(c);
      expect(n.kind).not.toBe('raw');
      expect(rt(c)).toEqual(c);
      expect(validate(n)).toEqual([]);
    });

  it('keeps value types exactly', () => {
    expect(rt({ trait: 'x', op: 'eq', value: '3' })).toEqual({ trait: 'x', op: 'eq', value: '3' });
    expect(rt({ trait: 'x', op: 'eq', value: 3 })).toEqual({ trait: 'x', op: 'eq', value: 3 });
    expect(rt({ trait: 'x', op: 'in', value: ['a', 1, true] })).toEqual({ trait: 'x', op: 'in', value: ['a', 1, true] });
  });
});

describe('nested groups', () => {
  const nested: Condition = {
    all: [
      { trait: 'plan', op: 'eq', value: 'pro' },
      { any: [{ tag: 'vip' }, { not: { any: [{ segment: 'churned' }, { all: [{ score: 'lead', percentile: { op: 'gte', value: 80 } }] }] } }] },
      { not: { tag: 'disengaged' } },
      { event: 'Product Viewed', where: { any: [{ property: 'a', op: 'eq', value: 1 }, { all: [{ property: 'b', op: 'exists' }] }] } },
    ],
  };
  it('round-trips', () => {
    expect(rt(nested)).toEqual(nested);
    expect(validate(fromCondition(nested))).toEqual([]);
  });
  it('gives every node its JSON path, where filters included', () => {
    const root = fromCondition(nested);
    const paths = [...nodePaths(root).values()];
    expect(paths).toContain('all[1].any[1].not.any[1].all[0]');
    expect(paths).toContain('all[3].where.any[1].all[0]');
    expect(paths).toContain('all[2].not');
  });
  it('edits: add, remove, wrap, unwrap, move', () => {
    let root: Node | null = null;
    const a = newLeaf('tag');
    root = addAtRoot(root, a);
    expect(root).toBe(a);
    const b = newLeaf('segment');
    root = addAtRoot(root, b);
    expect(root.kind).toBe('group');
    expect((root as GroupNode).children.map((c) => c.id)).toEqual([a.id, b.id]);
    root = moveNode(root, b.id, -1);
    expect((root as GroupNode).children.map((c) => c.id)).toEqual([b.id, a.id]);
    root = wrapNot(root, a.id);
    expect(toCondition(root!)).toEqual({ all: [{ segment: '' }, { not: { tag: '' } }] });
    const notId = ((root as GroupNode).children[1]).id;
    root = unwrapNot(root, notId);
    expect(toCondition(root!)).toEqual({ all: [{ segment: '' }, { tag: '' }] });
    root = wrapGroup(root, a.id, 'any');
    const inner = (root as GroupNode).children[1] as GroupNode;
    root = addChild(root, inner.id, newLeaf('consent'));
    expect(toCondition(root!)).toEqual({ all: [{ segment: '' }, { any: [{ tag: '' }, { consent: { channel: 'email', is: 'subscribed' } }] }] });
    // removing the only child of a not removes the not too
    root = wrapNot(root, b.id);
    root = removeNode(root, b.id);
    expect(toCondition(root!)).toEqual({ all: [{ any: [{ tag: '' }, { consent: { channel: 'email', is: 'subscribed' } }] }] });
    // removing the root leaves nothing
    expect(removeNode(root, root!.id)).toBeNull();
  });
  it('edits inside an event filter', () => {
    const root = fromCondition({ event: 'A', where: { property: 'x', op: 'eq', value: 1 } }) as EventNode;
    const w = root.where!;
    const r2 = removeNode(root, w.id) as EventNode;
    expect(toCondition(r2)).toEqual({ event: 'A' });
    const r3 = mapNode(root, w.id, (n) => ({ ...(n as CmpNode), name: 'y' }));
    expect(toCondition(r3!)).toEqual({ event: 'A', where: { property: 'y', op: 'eq', value: 1 } });
  });
});

describe('operator changes reset values correctly', () => {
  const one = (s: string, t: 'text' | 'number' | 'bool' | 'date' = 'text'): Val => ({ arity: 'one', v: { t, s } });
  it('to exists drops the value', () => {
    expect(changeOp(one('pro'), 'exists')).toEqual({ arity: 'none' });
    const n = { ...(newLeaf('trait') as CmpNode), name: 'plan', op: 'exists' as const, val: changeOp(one('pro'), 'exists') };
    expect(toCondition(n)).toEqual({ trait: 'plan', op: 'exists' });
  });
  it('from exists gives an empty value of the right kind', () => {
    expect(changeOp({ arity: 'none' }, 'eq')).toEqual(one(''));
    expect(changeOp({ arity: 'none' }, 'gt')).toEqual(one('', 'number'));
    expect(changeOp({ arity: 'none' }, 'before')).toEqual(one('', 'date'));
    expect(changeOp({ arity: 'none' }, 'in')).toEqual({ arity: 'list', items: [] });
    expect(changeOp({ arity: 'none' }, 'within_last')).toEqual({ arity: 'duration', d: [{ unit: 'days', n: '' }] });
  });
  it('one value becomes the list, the low end, and back', () => {
    const list = changeOp(one('pro'), 'in');
    expect(list).toEqual({ arity: 'list', items: [{ t: 'text', s: 'pro' }] });
    expect(changeOp(list, 'eq')).toEqual(one('pro'));
    const two = changeOp(one('10', 'number'), 'between');
    expect(two).toEqual({ arity: 'two', lo: { t: 'number', s: '10' }, hi: { t: 'number', s: '' } });
    expect(changeOp(two, 'lt')).toEqual(one('10', 'number'));
    expect(changeOp(one(''), 'in')).toEqual({ arity: 'list', items: [] });
  });
  it('values that do not fit the new operator are emptied', () => {
    expect(changeOp(one('pro'), 'gt')).toEqual(one('pro')); // text orders too
    expect(changeOp(one('true', 'bool'), 'gt')).toEqual(one('', 'number'));
    expect(changeOp(one('42', 'number'), 'starts_with')).toEqual(one('42'));
    expect(changeOp(one('pro'), 'before')).toEqual(one('', 'date'));
    expect(changeOp(one('2026-03-01'), 'after')).toEqual(one('2026-03-01', 'date'));
    expect(changeOp(one('2026-03-01', 'date'), 'eq')).toEqual(one('2026-03-01'));
    expect(changeOp(one('5'), 'within_last')).toEqual({ arity: 'duration', d: [{ unit: 'days', n: '' }] });
    expect(changeOp({ arity: 'duration', d: [{ unit: 'days', n: '30' }] }, 'not_within_last')).toEqual({ arity: 'duration', d: [{ unit: 'days', n: '30' }] });
    expect(changeOp({ arity: 'duration', d: [{ unit: 'days', n: '30' }] }, 'eq')).toEqual(one(''));
  });
  it('number comparisons keep the first value', () => {
    expect(changeNumOp({ op: 'gte', a: '3', b: '' }, 'between')).toEqual({ op: 'between', a: '3', b: '' });
    expect(changeNumOp({ op: 'between', a: '3', b: '9' }, 'eq')).toEqual({ op: 'eq', a: '3', b: '' });
  });
  it('changing the kind keeps the name, operator and value between trait, property and computed', () => {
    const t = fromCondition({ trait: 'plan', op: 'eq', value: 'pro' });
    expect(toCondition({ ...newLeaf('computed', t), id: t.id })).toEqual({ computed: 'plan', op: 'eq', value: 'pro' });
    expect(toCondition(newLeaf('tag', t))).toEqual({ tag: '' });
  });
});

describe('invalid input is reported', () => {
  it('at the JSON path the server would name', () => {
    expect(codes({ trait: '', op: 'eq', value: 'x' })).toEqual(['trait:name_required']);
    expect(codes({ all: [] })).toEqual(['all:group_empty']);
    expect(codes({ all: [{ tag: 'a' }, { event: 'A', count: { op: 'gte', value: 1.5 } }] })).toEqual(['all[1].count.value:whole']);
    expect(codes({ event: 'A', count: { op: 'gte', value: -1 } })).toEqual(['count.value:whole']);
    expect(codes({ event: 'A', sum: { property: 'r', op: 'gte', value: 'abc' } })).toEqual(['sum.value:number']);
    expect(codes({ trait: 'n', op: 'between', value: [3, 1] })).toEqual(['value:low_high']);
    expect(codes({ trait: 'd', op: 'between', value: ['2026-03-02', '2026-03-01'] })).toEqual(['value:low_high']);
    expect(codes({ trait: 'd', op: 'before', value: 'yesterday' })).toEqual(['value:date']);
    expect(codes({ trait: 'x', op: 'in', value: [] })).toEqual(['value:list_empty']);
    expect(codes({ trait: 'x', op: 'within_last', value: { days: 0 } })).toEqual(['value:duration_zero']);
    expect(codes({ trait: 'x', op: 'within_last', value: { days: 1.5 } })).toEqual(['value.days:duration_whole']);
    expect(codes({ trait: 'x', op: 'within_last', value: { weeks: 6000 } })).toEqual(['value:duration_long']);
    expect(codes({ event: 'A', within: { hours: 0 } })).toEqual(['within:duration_zero']);
    expect(codes({ score: 'lead', percentile: { op: 'gte', value: 101 } })).toEqual(['percentile.value:range']);
    expect(codes({ score: 'lead', op: 'gte', value: 'x' })).toEqual(['value:number']);
    expect(codes({ consent: { channel: 'topics.', is: 'subscribed' } })).toEqual(['consent.channel:topic_required']);
    expect(codes({ not: { event: 'A', where: { tag: 'x' } } })).toEqual(['not.where.tag:where_kind']);
    expect(codes({ event: 'A', where: { property: 'at', op: 'within_last', value: { days: 1 } } })).toEqual(['where.op:where_window']);
    expect(codes({ property: 'x', op: 'exists' }, { kinds: ['trait', 'event'] })).toEqual(['property:kind_here']);
  });
  it('a number field holding text', () => {
    const n = fromCondition({ trait: 'x', op: 'gt', value: 1 }) as CmpNode;
    const bad = { ...n, val: { arity: 'one' as const, v: { t: 'number' as const, s: '12a' } } };
    expect(validate(bad).map((p) => p.code)).toEqual(['number']);
    expect(toCondition(bad)).toEqual({ trait: 'x', op: 'gt', value: '12a' }); // as typed: the server refuses it too
  });
  it('what the builder cannot show is kept as raw JSON', () => {
    for (const [c, reason] of [
      [{ trait: 'x', op: 'eq', valeu: 1 }, 'shape'],
      [{ trait: 'x', op: 'eqq', value: 1 }, 'op'],
      [{ trait: 'x', op: 'eq', value: { a: 1 } }, 'value'],
      [{ tag: 'a', segment: 'b' }, 'two_kinds'],
      [{}, 'no_kind'],
      [{ event: 'A', within: { years: 1 } }, 'duration'],
    ] as [Condition, string][]) {
      const n = fromCondition(c);
      expect(n.kind).toBe('raw');
      expect(validate(n).map((p) => p.code)).toEqual(['raw_' + reason]);
      expect(toCondition(n)).toEqual(c); // nothing lost
    }
    // a bad part inside a good group stays a raw part of it
    const g = fromCondition({ all: [{ tag: 'a' }, 5] });
    expect(validate(g).map((p) => `${p.path}:${p.code}`)).toEqual(['all[1]:raw_not_object']);
  });
  it('JSON text', () => {
    expect(parseConditionText('')).toEqual({ ok: true, value: null });
    expect(parseConditionText('{"tag":"a"}')).toEqual({ ok: true, value: { tag: 'a' } });
    const r = parseConditionText('{"tag":');
    expect(r.ok).toBe(false);
    expect(!r.ok && r.code).toBe('json');
    expect(parseConditionText('[1]')).toEqual({ ok: false, code: 'not_object' });
  });
  it('server faults go to the deepest node that holds them', () => {
    const root = fromCondition({ all: [{ tag: 'a' }, { event: 'A', count: { op: 'gte', value: 1 } }] }) as GroupNode;
    const m = assignProblems(root, [
      { path: 'all[1].count.op', code: 'server', message: 'no' },
      { path: 'all', code: 'group_empty' },
      { path: '', code: 'server', message: 'whole' },
    ]);
    expect(m.get(root.children[1].id)?.map((p) => p.path)).toEqual(['all[1].count.op']);
    expect(m.get(root.id)?.map((p) => p.path)).toEqual(['all', '']);
    expect(serverPath('condition.all[1].count.op')).toBe('all[1].count.op');
    expect(serverPath('condition')).toBe('');
    expect(serverPath('name')).toBeNull();
  });
  it('dates as the server reads them', () => {
    for (const d of ['2026-03-01', '2026-03-01T09:00:00+09:00', '2026-03-01T00:00:00.000Z', '2026-03-01 09:00', '2026-03-01T09:00:00+0900'])
      expect(isDate(d)).toBe(true);
    for (const d of ['2026-13-01', '2026-3-1', 'March 1', '2026-03-01T25:00:00Z', '']) expect(isDate(d)).toBe(false);
  });
});

describe('summary', () => {
  it('reads like the condition', () => {
    expect(summarize({ all: [{ trait: 'plan', op: 'eq', value: 'pro' }, { not: { tag: 'vip' } }] })).toBe('(plan eq "pro" AND NOT tag vip)');
    expect(summarize({ event: 'A', count: { op: 'gte', value: 3 }, within: { days: 7 } })).toBe('event "A" count gte 3 within 7 days');
  });
  it('new groups are empty all groups', () => {
    expect(toCondition(newGroup())).toEqual({ all: [] });
  });
});
