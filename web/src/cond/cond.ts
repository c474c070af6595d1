// cond.ts — the condition language (CONVENTIONS §4, docs/conditions.md) as an
// editable model: JSON → nodes (fromCondition), nodes → JSON (toCondition),
// local checks that mirror the server's (validate), and the pure edits the
// builder makes. No React here, so all of it is unit-tested.

export type Condition = Record<string, unknown>;

export const VALUE_OPS = [
  'eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'not_in', 'contains', 'starts_with', 'ends_with',
  'exists', 'not_exists', 'between', 'before', 'after', 'within_last', 'not_within_last',
] as const;
export type ValueOp = (typeof VALUE_OPS)[number];
/** Operators for counts, sums, scores and percentiles (numbers only). */
export const NUM_OPS = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'between'] as const;
export type NumOp = (typeof NUM_OPS)[number];
/** Inside an event's `where`: no time windows (they go in `within`). */
export const WHERE_OPS: readonly ValueOp[] = VALUE_OPS.filter((o) => o !== 'within_last' && o !== 'not_within_last');
export const UNITS = ['weeks', 'days', 'hours', 'minutes'] as const;
export type Unit = (typeof UNITS)[number];
export const CONSENT_CHANNELS = ['email', 'sms', 'kakao', 'push', 'night'] as const;
export const CONSENT_STATES = ['subscribed', 'unsubscribed', 'unknown'] as const;
export type ConsentState = (typeof CONSENT_STATES)[number];
export const LEAF_KINDS = ['trait', 'property', 'event', 'segment', 'tag', 'consent', 'score', 'computed'] as const;
export type LeafKind = (typeof LEAF_KINDS)[number];
const KIND_KEYS = ['all', 'any', 'not', ...LEAF_KINDS] as const;

export const MAX_DEPTH = 16;
export const MAX_LIST = 1000;
const MAX_DURATION_MIN = 100 * 365 * 24 * 60 + 25 * 24 * 60; // 100 years, leap days included

/** Names the engine keeps (docs/computed-traits.md), offered as suggestions. */
export const COMPUTED_NAMES = [
  'first_seen_at', 'last_seen_at',
  'email_sent_7d', 'email_sent_30d', 'email_sent_90d',
  'email_opened_7d', 'email_opened_30d', 'email_opened_90d',
  'email_clicked_7d', 'email_clicked_30d', 'email_clicked_90d',
  'open_rate_30d', 'click_rate_30d', 'consecutive_unopened_emails',
  'order_count', 'revenue_total', 'last_order_at', 'days_since_last_order',
  'rfm_r', 'rfm_f', 'rfm_m', 'rfm_score',
];
export { KNOWN_EVENTS } from '../eventNames';

// ---- the model ---------------------------------------------------------------

export type ScalarType = 'text' | 'number' | 'bool' | 'date';
/** One value as typed: `s` is the input's text, `t` what it becomes in JSON. */
export type Scalar = { t: ScalarType; s: string };
export type DurEntry = { unit: Unit; n: string };
export type Val =
  | { arity: 'none' }
  | { arity: 'one'; v: Scalar }
  | { arity: 'two'; lo: Scalar; hi: Scalar }
  | { arity: 'list'; items: Scalar[] }
  | { arity: 'duration'; d: DurEntry[] };
export type Arity = Val['arity'];
/** A number comparison (count, sum, score, percentile); `b` only for between. */
export type NumCmp = { op: NumOp; a: string; b: string };

export type GroupNode = { id: string; kind: 'group'; mode: 'all' | 'any'; children: Node[] };
export type NotNode = { id: string; kind: 'not'; child: Node };
export type CmpNode = { id: string; kind: 'trait' | 'property' | 'computed'; name: string; op: ValueOp; val: Val };
export type EventNode = {
  id: string;
  kind: 'event';
  event: string;
  where: Node | null;
  count: NumCmp | null;
  sum: (NumCmp & { property: string }) | null;
  within: DurEntry[] | null;
};
export type SegmentNode = { id: string; kind: 'segment'; segment: string };
export type TagNode = { id: string; kind: 'tag'; tag: string };
/** `channel` is email…night or "topic" (then `topic` names it: topics.<topic>). */
export type ConsentNode = { id: string; kind: 'consent'; channel: string; topic: string; is: ConsentState };
export type ScoreNode = { id: string; kind: 'score'; score: string; percentile: boolean; cmp: NumCmp };
/** JSON the builder cannot show as fields (kept as text, never lost). */
export type RawNode = { id: string; kind: 'raw'; json: string; reason: string };
export type Node = GroupNode | NotNode | CmpNode | EventNode | SegmentNode | TagNode | ConsentNode | ScoreNode | RawNode;

let seq = 0;
export function newId(): string {
  return 'c' + ++seq;
}

// ---- operators ------------------------------------------------------------------

export function arityOf(op: ValueOp): Arity {
  switch (op) {
    case 'exists':
    case 'not_exists':
      return 'none';
    case 'between':
      return 'two';
    case 'in':
    case 'not_in':
      return 'list';
    case 'within_last':
    case 'not_within_last':
      return 'duration';
    default:
      return 'one';
  }
}

/** The kinds of value an operator accepts, the default first. */
export function typesFor(op: ValueOp): ScalarType[] {
  switch (op) {
    case 'eq':
    case 'ne':
    case 'contains':
    case 'in':
    case 'not_in':
      return ['text', 'number', 'bool'];
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      return ['number', 'text'];
    case 'starts_with':
    case 'ends_with':
      return ['text'];
    case 'before':
    case 'after':
      return ['date', 'number'];
    case 'between':
      return ['number', 'text', 'date'];
    default:
      return [];
  }
}

export function isPlainNumber(s: string): boolean {
  return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s) && isFinite(Number(s));
}
export function isWhole(s: string): boolean {
  return /^\d+$/.test(s);
}
export function isDate(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})([Tt ](\d{2}):(\d{2})(:(\d{2}))?([.,]\d+)?([Zz]|[+-]\d{2}(:?\d{2})?)?)?$/.exec(s);
  if (!m) return false;
  const mo = +m[2], d = +m[3];
  if (mo < 1 || mo > 12 || d < 1 || d > 31) return false;
  if (m[4] && (+m[5] > 23 || +m[6] > 59 || (m[8] !== undefined && +m[8] > 60))) return false;
  return true;
}

function validFor(s: Scalar, t: ScalarType): boolean {
  if (s.s === '') return true;
  switch (t) {
    case 'number':
      return isPlainNumber(s.s);
    case 'bool':
      return s.s === 'true' || s.s === 'false';
    case 'date':
      return isDate(s.s);
    default:
      return s.t !== 'bool';
  }
}

/** A value carried to an operator that takes other types: kept when it still fits, else emptied. */
export function coerceScalar(s: Scalar, allowed: ScalarType[]): Scalar {
  if (allowed.includes(s.t)) return s;
  let t = allowed[0];
  if (s.t === 'date' && allowed.includes('text')) t = 'text';
  else if (s.t === 'text' && allowed.includes('date') && isDate(s.s)) t = 'date';
  else if (s.t === 'text' && allowed.includes('number') && isPlainNumber(s.s)) t = 'number';
  else if (s.t === 'number' && allowed.includes('text')) t = 'text';
  if (t === 'bool') return { t, s: 'true' };
  return { t, s: validFor(s, t) ? s.s : '' };
}

export function emptyVal(op: ValueOp): Val {
  const types = typesFor(op);
  switch (arityOf(op)) {
    case 'none':
      return { arity: 'none' };
    case 'one':
      return { arity: 'one', v: { t: types[0], s: '' } };
    case 'two':
      return { arity: 'two', lo: { t: types[0], s: '' }, hi: { t: types[0], s: '' } };
    case 'list':
      return { arity: 'list', items: [] };
    case 'duration':
      return { arity: 'duration', d: [{ unit: 'days', n: '' }] };
  }
}

/** The value after the operator changes: what still fits is kept (eq "pro" → in ["pro"], between keeps its low end…), the rest reset. */
export function changeOp(val: Val, op: ValueOp): Val {
  const arity = arityOf(op);
  const types = typesFor(op);
  if (arity === 'none') return { arity: 'none' };
  if (arity === 'duration') return val.arity === 'duration' ? val : emptyVal(op);
  const first: Scalar | null =
    val.arity === 'one' ? val.v : val.arity === 'two' ? val.lo : val.arity === 'list' ? val.items[0] ?? null : null;
  if (arity === 'one') return { arity, v: first ? coerceScalar(first, types) : { t: types[0], s: '' } };
  if (arity === 'two') {
    if (val.arity === 'two') {
      const lo = coerceScalar(val.lo, types);
      return { arity, lo, hi: coerceScalar({ t: val.hi.t, s: val.hi.s }, [lo.t]) };
    }
    const lo = first ? coerceScalar(first, types) : { t: types[0], s: '' };
    return { arity, lo, hi: { t: lo.t, s: '' } };
  }
  // list
  if (val.arity === 'list') return { arity, items: val.items.map((s) => coerceScalar(s, types)) };
  return { arity, items: first && first.s !== '' ? [coerceScalar(first, types)] : [] };
}

export function changeNumOp(c: NumCmp, op: NumOp): NumCmp {
  return { op, a: c.a, b: op === 'between' ? c.b : '' };
}

// ---- new nodes ---------------------------------------------------------------------

export function newLeaf(kind: LeafKind, from?: Node): Node {
  const id = newId();
  const name = from && (from.kind === 'trait' || from.kind === 'property' || from.kind === 'computed') ? from.name : '';
  switch (kind) {
    case 'trait':
    case 'property':
    case 'computed':
      if (from && (from.kind === 'trait' || from.kind === 'property' || from.kind === 'computed'))
        return { id, kind, name, op: from.op, val: from.val };
      return { id, kind, name, op: 'eq', val: emptyVal('eq') };
    case 'event':
      return { id, kind, event: '', where: null, count: null, sum: null, within: null };
    case 'segment':
      return { id, kind, segment: '' };
    case 'tag':
      return { id, kind, tag: '' };
    case 'consent':
      return { id, kind, channel: 'email', topic: '', is: 'subscribed' };
    case 'score':
      return { id, kind, score: '', percentile: false, cmp: { op: 'gte', a: '', b: '' } };
  }
}

export function newGroup(mode: 'all' | 'any' = 'all', children: Node[] = []): GroupNode {
  return { id: newId(), kind: 'group', mode, children };
}

/** The leaf kinds allowed at a place: inside `where` only property conditions. */
export function kindsFor(where: boolean, allowed?: readonly LeafKind[]): LeafKind[] {
  if (where) return ['property'];
  return LEAF_KINDS.filter((k) => !allowed || allowed.includes(k));
}

// ---- JSON → model ---------------------------------------------------------------------

type R<T> = T | { bad: string };
const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const bad = (x: unknown): x is { bad: string } => isObj(x) && typeof (x as { bad?: unknown }).bad === 'string' && Object.keys(x).length === 1;

function raw(j: unknown, reason: string): RawNode {
  return { id: newId(), kind: 'raw', json: JSON.stringify(j, null, 2) ?? 'null', reason };
}

function onlyKeys(o: Record<string, unknown>, keys: string[]): string | null {
  for (const k of Object.keys(o)) if (!keys.includes(k)) return k;
  return null;
}

function scalarFrom(x: unknown, op: ValueOp): R<Scalar> {
  const types = typesFor(op);
  if (typeof x === 'string') {
    if (types.includes('date') && !types.includes('text')) return { t: 'date', s: x };
    if (op === 'between' && isDate(x)) return { t: 'date', s: x };
    return { t: 'text', s: x };
  }
  if (typeof x === 'number' && isFinite(x)) return { t: 'number', s: String(x) };
  if (typeof x === 'boolean') return { t: 'bool', s: String(x) };
  return { bad: 'value' };
}

function durFrom(x: unknown): R<DurEntry[]> {
  if (!isObj(x)) return { bad: 'duration' };
  const out: DurEntry[] = [];
  for (const [k, v] of Object.entries(x)) {
    if (!(UNITS as readonly string[]).includes(k)) return { bad: 'duration' };
    if (typeof v !== 'number' && typeof v !== 'string') return { bad: 'duration' };
    out.push({ unit: k as Unit, n: String(v) });
  }
  out.sort((a, b) => UNITS.indexOf(a.unit) - UNITS.indexOf(b.unit));
  return out.length ? out : [{ unit: 'days', n: '' }];
}

function valFrom(op: ValueOp, x: unknown, has: boolean): R<Val> {
  const arity = arityOf(op);
  switch (arity) {
    case 'none':
      return has ? { bad: 'value' } : { arity };
    case 'one': {
      if (!has) return emptyVal(op);
      const v = scalarFrom(x, op);
      return bad(v) ? v : { arity, v };
    }
    case 'two': {
      if (!has) return emptyVal(op);
      if (!Array.isArray(x) || x.length !== 2) return { bad: 'value' };
      const lo = scalarFrom(x[0], op), hi = scalarFrom(x[1], op);
      if (bad(lo)) return lo;
      if (bad(hi)) return hi;
      if (lo.t === 'date' || hi.t === 'date') {
        if (lo.t === 'text') lo.t = 'date';
        if (hi.t === 'text') hi.t = 'date';
      }
      return { arity, lo, hi };
    }
    case 'list': {
      if (!has) return emptyVal(op);
      if (!Array.isArray(x)) return { bad: 'value' };
      const items: Scalar[] = [];
      for (const e of x) {
        const s = scalarFrom(e, op);
        if (bad(s)) return s;
        items.push(s);
      }
      return { arity, items };
    }
    case 'duration': {
      if (!has) return emptyVal(op);
      const d = durFrom(x);
      return bad(d) ? d : { arity, d };
    }
  }
}

function numCmpFrom(x: unknown, extra: string[] = []): R<NumCmp> {
  if (!isObj(x)) return { bad: 'shape' };
  if (onlyKeys(x, ['op', 'value', ...extra])) return { bad: 'key' };
  return numCmpOf(x.op, x.value, 'value' in x);
}

function numCmpOf(op: unknown, value: unknown, has: boolean): R<NumCmp> {
  if (typeof op !== 'string' || !(NUM_OPS as readonly string[]).includes(op)) return { bad: 'op' };
  const s = (v: unknown): string | null => (typeof v === 'number' ? String(v) : typeof v === 'string' ? v : null);
  if (!has) return { op: op as NumOp, a: '', b: '' };
  if (op === 'between') {
    if (!Array.isArray(value) || value.length !== 2) return { bad: 'value' };
    const a = s(value[0]), b = s(value[1]);
    if (a === null || b === null) return { bad: 'value' };
    return { op, a, b };
  }
  const a = s(value);
  if (a === null) return { bad: 'value' };
  return { op: op as NumOp, a, b: '' };
}

/** JSON → model. Never throws: what cannot be shown as fields becomes a raw node. */
export function fromCondition(j: unknown, depth = 1): Node {
  if (!isObj(j)) return raw(j, 'not_object');
  const kinds = KIND_KEYS.filter((k) => k in j);
  if (kinds.length !== 1) return raw(j, kinds.length ? 'two_kinds' : 'no_kind');
  if (depth > MAX_DEPTH) return raw(j, 'too_deep');
  const kind = kinds[0];
  const id = newId();
  switch (kind) {
    case 'all':
    case 'any': {
      if (onlyKeys(j, [kind]) || !Array.isArray(j[kind])) return raw(j, 'shape');
      return { id, kind: 'group', mode: kind, children: (j[kind] as unknown[]).map((c) => fromCondition(c, depth + 1)) };
    }
    case 'not':
      if (onlyKeys(j, ['not'])) return raw(j, 'shape');
      return { id, kind: 'not', child: fromCondition(j.not, depth + 1) };
    case 'trait':
    case 'property':
    case 'computed': {
      if (onlyKeys(j, [kind, 'op', 'value']) || typeof j[kind] !== 'string') return raw(j, 'shape');
      const op = j.op;
      if (typeof op !== 'string' || !(VALUE_OPS as readonly string[]).includes(op)) return raw(j, 'op');
      const val = valFrom(op as ValueOp, j.value, 'value' in j);
      if (bad(val)) return raw(j, val.bad);
      return { id, kind, name: j[kind] as string, op: op as ValueOp, val };
    }
    case 'event': {
      if (onlyKeys(j, ['event', 'where', 'count', 'sum', 'within']) || typeof j.event !== 'string') return raw(j, 'shape');
      const n: EventNode = { id, kind: 'event', event: j.event, where: null, count: null, sum: null, within: null };
      if ('where' in j) n.where = fromCondition(j.where, depth + 1);
      if ('count' in j) {
        const c = numCmpFrom(j.count);
        if (bad(c)) return raw(j, c.bad);
        n.count = c;
      }
      if ('sum' in j) {
        const sm = j.sum;
        if (!isObj(sm) || typeof sm.property !== 'string') return raw(j, 'shape');
        const c = numCmpFrom(sm, ['property']);
        if (bad(c)) return raw(j, c.bad);
        n.sum = { ...c, property: sm.property };
      }
      if ('within' in j) {
        const d = durFrom(j.within);
        if (bad(d)) return raw(j, d.bad);
        n.within = d;
      }
      return n;
    }
    case 'segment':
    case 'tag': {
      if (onlyKeys(j, [kind]) || typeof j[kind] !== 'string') return raw(j, 'shape');
      return kind === 'segment' ? { id, kind, segment: j.segment as string } : { id, kind, tag: j.tag as string };
    }
    case 'consent': {
      const c = j.consent;
      if (onlyKeys(j, ['consent']) || !isObj(c) || onlyKeys(c, ['channel', 'is'])) return raw(j, 'shape');
      if (typeof c.channel !== 'string' || !(CONSENT_STATES as readonly string[]).includes(c.is as string)) return raw(j, 'shape');
      const topic = c.channel.startsWith('topics.');
      return { id, kind: 'consent', channel: topic ? 'topic' : c.channel, topic: topic ? c.channel.slice(7) : '', is: c.is as ConsentState };
    }
    case 'score': {
      if (onlyKeys(j, ['score', 'op', 'value', 'percentile']) || typeof j.score !== 'string') return raw(j, 'shape');
      if ('percentile' in j) {
        if ('op' in j || 'value' in j) return raw(j, 'shape');
        const c = numCmpFrom(j.percentile);
        if (bad(c)) return raw(j, c.bad);
        return { id, kind: 'score', score: j.score, percentile: true, cmp: c };
      }
      const c = numCmpOf(j.op, j.value, 'value' in j);
      if (bad(c)) return raw(j, c.bad);
      return { id, kind: 'score', score: j.score, percentile: false, cmp: c };
    }
  }
  return raw(j, 'shape');
}

// ---- model → JSON -------------------------------------------------------------------------

function scalarJson(s: Scalar): unknown {
  if (s.t === 'number') return isPlainNumber(s.s) ? Number(s.s) : s.s;
  if (s.t === 'bool') return s.s === 'true';
  return s.s;
}
function numJson(s: string): unknown {
  return isPlainNumber(s) ? Number(s) : s;
}
export function durJson(d: DurEntry[]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const e of d) if (e.n !== '') o[e.unit] = isWhole(e.n) ? Number(e.n) : e.n;
  return o;
}
function numCmpJson(c: NumCmp): { op: NumOp; value: unknown } {
  return { op: c.op, value: c.op === 'between' ? [numJson(c.a), numJson(c.b)] : numJson(c.a) };
}
function valJson(v: Val): unknown {
  switch (v.arity) {
    case 'none':
      return undefined;
    case 'one':
      return scalarJson(v.v);
    case 'two':
      return [scalarJson(v.lo), scalarJson(v.hi)];
    case 'list':
      return v.items.map(scalarJson);
    case 'duration':
      return durJson(v.d);
  }
}

/** Model → JSON, as typed: a number field holding "12a" stays the text "12a" (validate() reports it). */
export function toCondition(n: Node): Condition {
  switch (n.kind) {
    case 'group':
      return { [n.mode]: n.children.map(toCondition) };
    case 'not':
      return { not: toCondition(n.child) };
    case 'trait':
    case 'property':
    case 'computed': {
      const o: Condition = { [n.kind]: n.name, op: n.op };
      if (n.val.arity !== 'none') o.value = valJson(n.val);
      return o;
    }
    case 'event': {
      const o: Condition = { event: n.event };
      if (n.where) o.where = toCondition(n.where);
      if (n.count) o.count = numCmpJson(n.count);
      if (n.sum) o.sum = { property: n.sum.property, ...numCmpJson(n.sum) };
      if (n.within) o.within = durJson(n.within);
      return o;
    }
    case 'segment':
      return { segment: n.segment };
    case 'tag':
      return { tag: n.tag };
    case 'consent':
      return { consent: { channel: n.channel === 'topic' ? 'topics.' + n.topic : n.channel, is: n.is } };
    case 'score':
      return n.percentile ? { score: n.score, percentile: numCmpJson(n.cmp) } : { score: n.score, ...numCmpJson(n.cmp) };
    case 'raw':
      try {
        const j = JSON.parse(n.json);
        return isObj(j) ? j : { raw: j };
      } catch {
        return { raw: n.json };
      }
  }
}

/** JSON text with sorted keys: equal conditions give equal keys. */
export function conditionKey(c: unknown): string {
  return JSON.stringify(c, (_k, v) =>
    isObj(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]])) : v,
  ) ?? 'null';
}

/** Raw JSON text → a condition, or the reason it is not one. Empty text is "no condition". */
export function parseConditionText(text: string): { ok: true; value: Condition | null } | { ok: false; code: 'json' | 'not_object'; detail?: string } {
  if (!text.trim()) return { ok: true, value: null };
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (e) {
    return { ok: false, code: 'json', detail: (e as Error).message };
  }
  if (!isObj(j)) return { ok: false, code: 'not_object' };
  return { ok: true, value: j };
}

// ---- checks ---------------------------------------------------------------------------------

/** A fault at a JSON path like the server's ("all[1].count.op", without "condition."). */
export type Problem = { path: string; code: string; vars?: Record<string, string | number>; message?: string };

const join = (p: string, k: string) => (p ? p + '.' + k : k);

function checkScalar(s: Scalar, path: string, out: Problem[]) {
  if (s.t === 'number' && !isPlainNumber(s.s)) out.push({ path, code: 'number' });
  else if (s.t === 'date' && !isDate(s.s)) out.push({ path, code: 'date' });
  else if (s.t === 'bool' && s.s !== 'true' && s.s !== 'false') out.push({ path, code: 'bool' });
}

function checkDur(d: DurEntry[], path: string, out: Problem[]) {
  let minutes = 0;
  const per: Record<Unit, number> = { weeks: 7 * 24 * 60, days: 24 * 60, hours: 60, minutes: 1 };
  for (const e of d) {
    if (e.n === '') continue;
    if (!isWhole(e.n)) {
      out.push({ path: join(path, e.unit), code: 'duration_whole' });
      return;
    }
    minutes += Number(e.n) * per[e.unit];
  }
  if (minutes <= 0) out.push({ path, code: 'duration_zero' });
  else if (minutes > MAX_DURATION_MIN) out.push({ path, code: 'duration_long' });
}

function checkNumCmp(c: NumCmp, path: string, whole: boolean, range: [number, number] | null, out: Problem[]) {
  const vals = c.op === 'between' ? [c.a, c.b] : [c.a];
  vals.forEach((s, i) => {
    const p = c.op === 'between' ? `${join(path, 'value')}[${i}]` : join(path, 'value');
    if (whole ? !isWhole(s) : !isPlainNumber(s)) out.push({ path: p, code: whole ? 'whole' : 'number' });
    else if (range && (Number(s) < range[0] || Number(s) > range[1])) out.push({ path: p, code: 'range', vars: { lo: range[0], hi: range[1] } });
  });
  if (c.op === 'between' && isPlainNumber(c.a) && isPlainNumber(c.b) && Number(c.a) > Number(c.b))
    out.push({ path: join(path, 'value'), code: 'low_high' });
}

function checkName(s: string, path: string, out: Problem[]) {
  if (!s.trim()) out.push({ path, code: 'name_required' });
  else if (new TextEncoder().encode(s).length > 256) out.push({ path, code: 'name_long' });
}

/** Local checks, the same faults the server refuses (the server stays the judge). */
export function validate(n: Node, opts: { where?: boolean; kinds?: readonly LeafKind[] } = {}, path = '', depth = 1, out: Problem[] = []): Problem[] {
  const where = !!opts.where;
  if (depth > MAX_DEPTH) {
    out.push({ path, code: 'too_deep', vars: { n: MAX_DEPTH } });
    return out;
  }
  if (n.kind !== 'group' && n.kind !== 'not' && n.kind !== 'raw') {
    if (where && n.kind !== 'property') {
      out.push({ path: join(path, n.kind), code: 'where_kind' });
      return out;
    }
    if (!where && opts.kinds && !opts.kinds.includes(n.kind)) out.push({ path: join(path, n.kind), code: 'kind_here' });
  }
  switch (n.kind) {
    case 'group':
      if (!n.children.length) out.push({ path: join(path, n.mode), code: 'group_empty' });
      n.children.forEach((c, i) => validate(c, opts, `${join(path, n.mode)}[${i}]`, depth + 1, out));
      break;
    case 'not':
      validate(n.child, opts, join(path, 'not'), depth + 1, out);
      break;
    case 'raw':
      out.push({ path, code: 'raw_' + n.reason });
      break;
    case 'trait':
    case 'property':
    case 'computed': {
      checkName(n.name, join(path, n.kind), out);
      if (where && (n.op === 'within_last' || n.op === 'not_within_last')) out.push({ path: join(path, 'op'), code: 'where_window' });
      const vp = join(path, 'value');
      const v = n.val;
      if (v.arity === 'one') checkScalar(v.v, vp, out);
      else if (v.arity === 'two') {
        checkScalar(v.lo, vp + '[0]', out);
        checkScalar(v.hi, vp + '[1]', out);
        if (v.lo.t === 'number' && v.hi.t === 'number' && isPlainNumber(v.lo.s) && isPlainNumber(v.hi.s) && Number(v.lo.s) > Number(v.hi.s))
          out.push({ path: vp, code: 'low_high' });
        else if (v.lo.t === 'date' && v.hi.t === 'date' && isDate(v.lo.s) && isDate(v.hi.s) && Date.parse(v.lo.s) > Date.parse(v.hi.s))
          out.push({ path: vp, code: 'low_high' });
      } else if (v.arity === 'list') {
        if (!v.items.length) out.push({ path: vp, code: 'list_empty' });
        else if (v.items.length > MAX_LIST) out.push({ path: vp, code: 'list_long', vars: { n: MAX_LIST } });
        v.items.forEach((s, i) => checkScalar(s, `${vp}[${i}]`, out));
      } else if (v.arity === 'duration') checkDur(v.d, vp, out);
      break;
    }
    case 'event':
      checkName(n.event, join(path, 'event'), out);
      if (n.where) validate(n.where, { where: true }, join(path, 'where'), depth + 1, out);
      if (n.count) checkNumCmp(n.count, join(path, 'count'), true, null, out);
      if (n.sum) {
        checkName(n.sum.property, join(path, 'sum.property'), out);
        checkNumCmp(n.sum, join(path, 'sum'), false, null, out);
      }
      if (n.within) checkDur(n.within, join(path, 'within'), out);
      break;
    case 'segment':
      checkName(n.segment, join(path, 'segment'), out);
      break;
    case 'tag':
      checkName(n.tag, join(path, 'tag'), out);
      break;
    case 'consent':
      if (n.channel === 'topic' ? !n.topic.trim() : !(CONSENT_CHANNELS as readonly string[]).includes(n.channel))
        out.push({ path: join(path, 'consent.channel'), code: n.channel === 'topic' ? 'topic_required' : 'channel' });
      break;
    case 'score':
      checkName(n.score, join(path, 'score'), out);
      checkNumCmp(n.cmp, n.percentile ? join(path, 'percentile') : path, false, n.percentile ? [0, 100] : null, out);
      break;
  }
  return out;
}

/** Every node's JSON path (for placing faults). */
export function nodePaths(root: Node | null, path = '', out = new Map<string, string>()): Map<string, string> {
  if (!root) return out;
  out.set(root.id, path);
  if (root.kind === 'group') root.children.forEach((c, i) => nodePaths(c, `${join(path, root.mode)}[${i}]`, out));
  else if (root.kind === 'not') nodePaths(root.child, join(path, 'not'), out);
  else if (root.kind === 'event' && root.where) nodePaths(root.where, join(path, 'where'), out);
  return out;
}

export function underPath(p: string, base: string): boolean {
  return base === '' || p === base || p.startsWith(base + '.') || p.startsWith(base + '[');
}

/** Each fault goes to the deepest node whose path it lies under. */
export function assignProblems(root: Node | null, problems: Problem[]): Map<string, Problem[]> {
  const paths = nodePaths(root);
  const out = new Map<string, Problem[]>();
  for (const pr of problems) {
    let best: string | null = null;
    let bestLen = -1;
    for (const [id, p] of paths) {
      if (underPath(pr.path, p) && p.length > bestLen) {
        best = id;
        bestLen = p.length;
      }
    }
    if (best) out.set(best, [...(out.get(best) || []), pr]);
  }
  return out;
}

/** A server error's field ("condition.all[1].count.op") as a path inside the condition. */
export function serverPath(field: string | undefined, prefix = 'condition'): string | null {
  if (!field) return null;
  if (field === prefix) return '';
  if (field.startsWith(prefix + '.') || field.startsWith(prefix + '[')) return field.slice(prefix.length).replace(/^\./, '');
  return null;
}

// ---- edits ---------------------------------------------------------------------------------

/** Replaces the node `id` (anywhere, `where` filters included) with fn(node); fn may return null to remove it. */
export function mapNode(root: Node | null, id: string, fn: (n: Node) => Node | null): Node | null {
  if (!root) return null;
  if (root.id === id) return fn(root);
  switch (root.kind) {
    case 'group': {
      let changed = false;
      const children: Node[] = [];
      for (const c of root.children) {
        const m = mapNode(c, id, fn);
        if (m !== c) changed = true;
        if (m) children.push(m);
      }
      return changed ? { ...root, children } : root;
    }
    case 'not': {
      const m = mapNode(root.child, id, fn);
      if (m === root.child) return root;
      return m ? { ...root, child: m } : null; // a not without its condition goes too
    }
    case 'event': {
      if (!root.where) return root;
      const m = mapNode(root.where, id, fn);
      return m === root.where ? root : { ...root, where: m };
    }
    default:
      return root;
  }
}

export const removeNode = (root: Node | null, id: string) => mapNode(root, id, () => null);
export const replaceNode = (root: Node | null, id: string, n: Node) => mapNode(root, id, () => n);
export const wrapNot = (root: Node | null, id: string) => mapNode(root, id, (n) => ({ id: newId(), kind: 'not', child: n }));
export const unwrapNot = (root: Node | null, id: string) => mapNode(root, id, (n) => (n.kind === 'not' ? n.child : n));
export const wrapGroup = (root: Node | null, id: string, mode: 'all' | 'any' = 'all') => mapNode(root, id, (n) => newGroup(mode, [n]));

/** Adds a condition to the group `id`. */
export function addChild(root: Node | null, id: string, child: Node): Node | null {
  return mapNode(root, id, (n) => (n.kind === 'group' ? { ...n, children: [...n.children, child] } : n));
}

/** Adds at the top: the first condition becomes the root; a second one makes the root an "all" group. */
export function addAtRoot(root: Node | null, child: Node): Node {
  if (!root) return child;
  if (root.kind === 'group') return { ...root, children: [...root.children, child] };
  return newGroup('all', [root, child]);
}

/** Moves the node `id` one place up (-1) or down (+1) inside its group. */
export function moveNode(root: Node | null, id: string, by: -1 | 1): Node | null {
  if (!root) return null;
  const walk = (n: Node): Node => {
    if (n.kind === 'group') {
      const i = n.children.findIndex((c) => c.id === id);
      if (i >= 0) {
        const j = i + by;
        if (j < 0 || j >= n.children.length) return n;
        const children = n.children.slice();
        [children[i], children[j]] = [children[j], children[i]];
        return { ...n, children };
      }
      const children = n.children.map(walk);
      return children.some((c, k) => c !== n.children[k]) ? { ...n, children } : n;
    }
    if (n.kind === 'not') {
      const c = walk(n.child);
      return c === n.child ? n : { ...n, child: c };
    }
    if (n.kind === 'event' && n.where) {
      const w = walk(n.where);
      return w === n.where ? n : { ...n, where: w };
    }
    return n;
  };
  return walk(root);
}

/** A one-line summary of a condition, for lists (not translated: it reads like the JSON). */
export function summarize(c: unknown, max = 120): string {
  const s = (x: unknown): string => {
    if (!isObj(x)) return JSON.stringify(x);
    if (Array.isArray(x.all)) return '(' + x.all.map(s).join(' AND ') + ')';
    if (Array.isArray(x.any)) return '(' + x.any.map(s).join(' OR ') + ')';
    if ('not' in x) return 'NOT ' + s(x.not);
    for (const k of ['trait', 'property', 'computed'])
      if (k in x) return `${k === 'trait' ? '' : k + ':'}${String(x[k])} ${String(x.op)}${'value' in x ? ' ' + JSON.stringify(x.value) : ''}`;
    if ('event' in x) {
      let t = `event "${String(x.event)}"`;
      if (isObj(x.count)) t += ` count ${String(x.count.op)} ${JSON.stringify(x.count.value)}`;
      if (isObj(x.sum)) t += ` sum(${String(x.sum.property)}) ${String(x.sum.op)} ${JSON.stringify(x.sum.value)}`;
      if (isObj(x.within)) t += ' within ' + Object.entries(x.within).map(([u, n]) => `${n} ${u}`).join(' ');
      if ('where' in x) t += ' where ' + s(x.where);
      return t;
    }
    if ('segment' in x) return `segment ${String(x.segment)}`;
    if ('tag' in x) return `tag ${String(x.tag)}`;
    if (isObj(x.consent)) return `consent ${String(x.consent.channel)} ${String(x.consent.is)}`;
    if ('score' in x)
      return isObj(x.percentile)
        ? `score ${String(x.score)} percentile ${String(x.percentile.op)} ${JSON.stringify(x.percentile.value)}`
        : `score ${String(x.score)} ${String(x.op)} ${JSON.stringify(x.value)}`;
    return JSON.stringify(x);
  };
  const out = s(c);
  return out.length > max ? out.slice(0, max - 1) + '…' : out;
}
