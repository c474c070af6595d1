// ConditionBuilder — a visual editor for the whole condition language
// (docs/conditions.md), with a JSON view. The model and every rule it follows
// live in cond.ts; this file only draws it. Used by segments, journeys
// (branches, trigger filters) and tagging rules.
import { useEventNames } from '../eventNames';
import { createContext, useContext, useEffect, useId, useMemo, useRef, useState, type ReactNode } from 'react';
import { api } from '../api';
import { useT } from '../i18n';
import {
  addAtRoot, assignProblems, changeNumOp, changeOp, coerceScalar, COMPUTED_NAMES, conditionKey, CONSENT_CHANNELS,
  CONSENT_STATES, fromCondition, kindsFor, LEAF_KINDS, mapNode, moveNode, newGroup, newLeaf,
  NUM_OPS, parseConditionText, toCondition, typesFor, underPath, UNITS, unwrapNot, validate, VALUE_OPS, WHERE_OPS,
  wrapGroup, wrapNot, type CmpNode, type ConsentNode, type DurEntry, type EventNode, type LeafKind, type Node,
  type NumCmp, type NumOp, type Problem, type Scalar, type ScalarType, type ScoreNode, type Unit, type Val, type ValueOp,
} from './cond';
import { condDict } from './cond.i18n';
import { CondOptionsContext } from './options';
import './cond.css';

export type Condition = Record<string, unknown>;

type T = (key: string, vars?: Record<string, string | number>) => string;
type Editor = {
  t: T;
  /** Replace the node `id` with fn(node) (null removes it). */
  set: (id: string, fn: (n: Node) => Node | null) => void;
  edit: (fn: (root: Node | null) => Node | null) => void;
  problems: Map<string, Problem[]>;
  kinds: LeafKind[];
  focusId: string | null;
  setFocus: (id: string | null) => void;
};
const EditorContext = createContext<Editor>(null as unknown as Editor);

export function ConditionBuilder({ value, onChange, label }: { value: Condition | null; onChange: (c: Condition | null) => void; label?: string }) {
  const t = useT(condDict);
  const opts = useContext(CondOptionsContext);
  const uid = useId();
  const [root, setRoot] = useState<Node | null>(() => (value ? fromCondition(value) : null));
  const rootRef = useRef(root);
  rootRef.current = root;
  const emitted = useRef(conditionKey(value ?? null));
  const [mode, setMode] = useState<'builder' | 'json'>('builder');
  const [text, setText] = useState('');
  const [jsonError, setJsonError] = useState<string | null>(null);
  const [focusId, setFocus] = useState<string | null>(null);

  // A new value from outside (loaded, reset, edited elsewhere) replaces the model;
  // our own changes coming back do not (they would lose half-typed input).
  useEffect(() => {
    const k = conditionKey(value ?? null);
    if (k !== emitted.current) {
      emitted.current = k;
      setRoot(value ? fromCondition(value) : null);
      setText(value ? JSON.stringify(value, null, 2) : '');
      setJsonError(null);
    }
  }, [value]);

  const commit = (next: Node | null) => {
    rootRef.current = next;
    setRoot(next);
    const c = next ? toCondition(next) : null;
    emitted.current = conditionKey(c);
    onChange(c);
  };
  const kinds = kindsFor(false, opts.kinds);
  const local = useMemo(() => (root ? validate(root, { kinds: opts.kinds }) : []), [root, opts.kinds]);
  const all = useMemo(
    () => (opts.error ? [...local, { path: opts.error.path, code: 'server', message: opts.error.message }] : local),
    [local, opts.error],
  );
  const editor: Editor = {
    t,
    set: (id, fn) => commit(mapNode(rootRef.current, id, fn)),
    edit: (fn) => commit(fn(rootRef.current)),
    problems: useMemo(() => assignProblems(root, all), [root, all]),
    kinds,
    focusId,
    setFocus,
  };

  const toJson = () => {
    setText(root ? JSON.stringify(toCondition(root), null, 2) : '');
    setJsonError(null);
    setMode('json');
  };
  const onText = (s: string) => {
    setText(s);
    const r = parseConditionText(s);
    if (!r.ok) {
      setJsonError(r.code === 'json' ? t('json.invalid', { detail: r.detail || '' }) : t('json.notObject'));
      return;
    }
    setJsonError(null);
    const next = r.value ? fromCondition(r.value) : null;
    rootRef.current = next;
    setRoot(next);
    emitted.current = conditionKey(r.value);
    onChange(r.value);
  };
  const addRule = () => {
    const n = newLeaf(kinds[0] || 'trait');
    setFocus(n.id);
    editor.edit((r) => addAtRoot(r, n));
  };
  const addGroup = () => {
    const n = newLeaf(kinds[0] || 'trait');
    setFocus(n.id);
    editor.edit((r) => addAtRoot(r, newGroup('all', [n])));
  };

  return (
    <fieldset className="cond-builder" data-testid="cond-builder">
      <legend>{label || t('condition')}</legend>
      <div className="cond-modes" role="group" aria-label={t('mode.label')}>
        <button type="button" aria-pressed={mode === 'builder'} onClick={() => setMode('builder')}>
          {t('mode.builder')}
        </button>
        <button type="button" aria-pressed={mode === 'json'} onClick={toJson} data-testid="cond-json-toggle">
          {t('mode.json')}
        </button>
      </div>
      {mode === 'json' ? (
        <div className={'field' + (jsonError ? ' field-error' : '')}>
          <label htmlFor={uid + 'json'}>{t('json.label')}</label>
          <textarea
            id={uid + 'json'}
            className="cond-json"
            spellCheck={false}
            value={text}
            aria-invalid={!!jsonError}
            aria-describedby={jsonError ? uid + 'jsonerr' : undefined}
            onChange={(e) => onText(e.target.value)}
            data-testid="cond-json"
          />
          {jsonError && (
            <div className="field-message" role="alert" id={uid + 'jsonerr'}>
              {jsonError}
            </div>
          )}
          {!jsonError && all.length > 0 && (
            <ul className="cond-problems" aria-label={t('json.problems')}>
              {all.map((p, i) => (
                <li key={i}>
                  {problemText(p, t)} {p.path && <code>{t('at', { path: p.path })}</code>}
                </li>
              ))}
            </ul>
          )}
        </div>
      ) : (
        <EditorContext.Provider value={editor}>
          {root ? <NodeView node={root} path="" depth={1} where={false} isRoot /> : <p className="muted cond-empty">{t('empty')}</p>}
          {!root && editor.problems.size === 0 && opts.error && <Problems list={[{ path: '', code: 'server', message: opts.error.message }]} id={uid + 'e'} />}
          <div className="cond-add">
            <button type="button" onClick={addRule} data-testid="cond-add-rule">
              + {t('add.rule')}
            </button>
            <button type="button" onClick={addGroup} data-testid="cond-add-group">
              + {t('add.group')}
            </button>
          </div>
        </EditorContext.Provider>
      )}
    </fieldset>
  );
}

function problemText(p: Problem, t: T): string {
  return p.code === 'server' ? p.message || '' : t('err.' + p.code, p.vars);
}

function Problems({ list, id }: { list: Problem[]; id: string }) {
  const { t } = useContext(EditorContext) ?? { t: (k: string) => k };
  if (!list.length) return null;
  return (
    <ul className="cond-problems" id={id}>
      {list.map((p, i) => (
        <li key={i} role={p.code === 'server' ? 'alert' : undefined}>
          {problemText(p, t)}
        </li>
      ))}
    </ul>
  );
}

const join = (p: string, k: string) => (p ? p + '.' + k : k);

type Place = { index: number; count: number } | null;

function NodeView({ node, path, depth, where, isRoot, place = null, underNot = false }: {
  node: Node; path: string; depth: number; where: boolean; isRoot?: boolean; place?: Place; underNot?: boolean;
}) {
  const ed = useContext(EditorContext);
  const { t } = ed;
  const uid = useId();
  const probs = ed.problems.get(node.id) || [];
  const errId = uid + 'err';
  const bad = (p: string) => probs.some((x) => underPath(x.path, p));
  const aria = (p: string) => (bad(p) ? { 'aria-invalid': true, 'aria-describedby': errId } : {});
  const actions = <NodeActions node={node} place={place} underNot={underNot} />;

  if (node.kind === 'group') {
    const mp = join(path, node.mode);
    return (
      <div className={'cond-group cond-depth-' + (depth % 4)} role="group" aria-label={t('group.label') + ': ' + t('group.' + node.mode)}>
        <div className="cond-head">
          <select aria-label={t('group.mode')} value={node.mode} onChange={(e) => ed.set(node.id, (n) => ({ ...(n as typeof node), mode: e.target.value as 'all' | 'any' }))}>
            <option value="all">{t('group.all')}</option>
            <option value="any">{t('group.any')}</option>
          </select>
          {actions}
        </div>
        {node.children.length > 0 && (
          <ol className="cond-children">
            {node.children.map((c, i) => (
              <li key={c.id} className="cond-child">
                {i > 0 && <span className="cond-joiner" aria-hidden="true">{node.mode === 'all' ? 'AND' : 'OR'}</span>}
                <NodeView node={c} path={`${mp}[${i}]`} depth={depth + 1} where={where} place={{ index: i, count: node.children.length }} />
              </li>
            ))}
          </ol>
        )}
        <Problems list={probs} id={errId} />
        {!isRoot && <GroupAdd groupId={node.id} where={where} />}
      </div>
    );
  }
  if (node.kind === 'not') {
    return (
      <div className="cond-not" role="group" aria-label={t('not.label')}>
        <div className="cond-head">
          <strong className="cond-not-label">{t('not.title')}</strong>
          {actions}
        </div>
        <NodeView node={node.child} path={join(path, 'not')} depth={depth + 1} where={where} underNot />
        <Problems list={probs} id={errId} />
      </div>
    );
  }
  if (node.kind === 'raw') {
    return (
      <div className="cond-rule cond-raw">
        <div className="cond-head">
          <label htmlFor={uid + 'raw'}>{t('raw.label')}</label>
          {actions}
        </div>
        <textarea
          id={uid + 'raw'}
          className="cond-json"
          spellCheck={false}
          defaultValue={node.json}
          aria-invalid
          aria-describedby={errId}
          onChange={(e) => {
            const r = parseConditionText(e.target.value);
            if (r.ok && r.value) {
              const n = fromCondition(r.value);
              ed.set(node.id, () => (n.kind === 'raw' ? { ...n, id: node.id } : n));
            } else ed.set(node.id, (n) => ({ ...(n as typeof node), json: e.target.value }));
          }}
        />
        <Problems list={probs} id={errId} />
      </div>
    );
  }

  // a leaf
  const kinds: LeafKind[] = where ? ['property'] : ed.kinds.includes(node.kind) ? ed.kinds : [...ed.kinds, node.kind];
  const setLeaf = (fn: (n: Node) => Node) => ed.set(node.id, fn);
  return (
    <div className="cond-rule" data-kind={node.kind}>
      <div className="cond-line">
        <select
          aria-label={t('rule.kind')}
          value={node.kind}
          autoFocus={ed.focusId === node.id}
          onFocus={() => ed.focusId === node.id && ed.setFocus(null)}
          onChange={(e) => setLeaf((n) => ({ ...newLeaf(e.target.value as LeafKind, n), id: n.id }))}
        >
          {(kinds.length ? kinds : LEAF_KINDS).map((k) => (
            <option key={k} value={k}>
              {t('kind.' + k)}
            </option>
          ))}
        </select>
        <LeafFields node={node} path={path} where={where} aria={aria} />
        {actions}
      </div>
      {node.kind === 'event' && <EventExtras node={node} path={path} depth={depth} aria={aria} />}
      <Problems list={probs} id={errId} />
    </div>
  );
}

type Aria = (p: string) => Record<string, unknown>;

function NodeActions({ node, place, underNot }: { node: Node; place: Place; underNot: boolean }) {
  const { t, set, edit } = useContext(EditorContext);
  return (
    <span className="cond-actions">
      {place && (
        <>
          <button type="button" className="icon" aria-label={t('action.up')} title={t('action.up')} disabled={place.index === 0} onClick={() => edit((r) => moveNode(r, node.id, -1))}>
            ↑
          </button>
          <button type="button" className="icon" aria-label={t('action.down')} title={t('action.down')} disabled={place.index === place.count - 1} onClick={() => edit((r) => moveNode(r, node.id, 1))}>
            ↓
          </button>
        </>
      )}
      {node.kind === 'not' ? (
        <button type="button" onClick={() => edit((r) => unwrapNot(r, node.id))}>
          {t('action.unnot')}
        </button>
      ) : (
        !underNot && (
          <button type="button" onClick={() => edit((r) => wrapNot(r, node.id))}>
            {t('action.not')}
          </button>
        )
      )}
      {node.kind !== 'group' && (
        <button type="button" onClick={() => edit((r) => wrapGroup(r, node.id))}>
          {t('action.group')}
        </button>
      )}
      <button type="button" className="icon danger" aria-label={t('action.remove')} title={t('action.remove')} onClick={() => set(node.id, () => null)}>
        ×
      </button>
    </span>
  );
}

function GroupAdd({ groupId, where }: { groupId: string; where: boolean }) {
  const ed = useContext(EditorContext);
  const kind: LeafKind = where ? 'property' : ed.kinds[0] || 'trait';
  const add = (grp: boolean) => {
    const n = newLeaf(kind);
    ed.setFocus(n.id);
    ed.set(groupId, (g) => (g.kind === 'group' ? { ...g, children: [...g.children, grp ? newGroup('all', [n]) : n] } : g));
  };
  return (
    <div className="cond-add">
      <button type="button" onClick={() => add(false)} data-testid="cond-group-add-rule">
        + {ed.t('add.rule')}
      </button>
      <button type="button" onClick={() => add(true)} data-testid="cond-group-add-group">
        + {ed.t('add.group')}
      </button>
    </div>
  );
}

function LeafFields({ node, path, where, aria }: { node: Node; path: string; where: boolean; aria: Aria }) {
  const ed = useContext(EditorContext);
  const { t } = ed;
  const upd = <N extends Node>(fn: (n: N) => N) => ed.set(node.id, (n) => fn(n as N));
  const listId = useId();
  const eventNames = useEventNames();
  switch (node.kind) {
    case 'trait':
    case 'property':
    case 'computed': {
      const ops = where ? WHERE_OPS : VALUE_OPS;
      return (
        <>
          <input
            aria-label={t('name.' + node.kind)}
            className="cond-name"
            value={node.name}
            placeholder={node.kind === 'computed' ? 'consecutive_unopened_emails' : t('ph.' + node.kind)}
            list={node.kind === 'computed' ? listId : undefined}
            onChange={(e) => upd<CmpNode>((n) => ({ ...n, name: e.target.value }))}
            {...aria(join(path, node.kind))}
          />
          {node.kind === 'computed' && <Datalist id={listId} values={COMPUTED_NAMES} />}
          <select aria-label={t('op')} value={node.op} onChange={(e) => upd<CmpNode>((n) => ({ ...n, op: e.target.value as ValueOp, val: changeOp(n.val, e.target.value as ValueOp) }))} {...aria(join(path, 'op'))}>
            {(ops.includes(node.op) ? ops : [...ops, node.op]).map((o) => (
              <option key={o} value={o}>
                {t('op.' + o)}
              </option>
            ))}
          </select>
          <ValueInput val={node.val} op={node.op} path={join(path, 'value')} aria={aria} onChange={(val) => upd<CmpNode>((n) => ({ ...n, val }))} />
        </>
      );
    }
    case 'event':
      return (
        <>
          <input aria-label={t('name.event')} className="cond-name" value={node.event} placeholder={t('ph.event')} list={listId} onChange={(e) => upd<EventNode>((n) => ({ ...n, event: e.target.value }))} {...aria(join(path, 'event'))} />
          <Datalist id={listId} values={eventNames} />
        </>
      );
    case 'segment':
      return (
        <>
          <input aria-label={t('name.segment')} className="cond-name" value={node.segment} list={listId} onChange={(e) => upd<typeof node>((n) => ({ ...n, segment: e.target.value }))} {...aria(join(path, 'segment'))} />
          <SegmentDatalist id={listId} />
        </>
      );
    case 'tag':
      return <input aria-label={t('name.tag')} className="cond-name" value={node.tag} placeholder="interest:marketing" onChange={(e) => upd<typeof node>((n) => ({ ...n, tag: e.target.value }))} {...aria(join(path, 'tag'))} />;
    case 'consent':
      return (
        <>
          <select aria-label={t('consent.channel')} value={node.channel} onChange={(e) => upd<ConsentNode>((n) => ({ ...n, channel: e.target.value }))} {...aria(join(path, 'consent.channel'))}>
            {[...CONSENT_CHANNELS, 'topic'].map((c) => (
              <option key={c} value={c}>
                {t('channel.' + c)}
              </option>
            ))}
          </select>
          {node.channel === 'topic' && (
            <input aria-label={t('consent.topic')} value={node.topic} placeholder="newsletter" onChange={(e) => upd<ConsentNode>((n) => ({ ...n, topic: e.target.value }))} {...aria(join(path, 'consent.channel'))} />
          )}
          <select aria-label={t('consent.is')} value={node.is} onChange={(e) => upd<ConsentNode>((n) => ({ ...n, is: e.target.value as ConsentNode['is'] }))} {...aria(join(path, 'consent.is'))}>
            {CONSENT_STATES.map((s) => (
              <option key={s} value={s}>
                {t('state.' + s)}
              </option>
            ))}
          </select>
        </>
      );
    case 'score':
      return (
        <>
          <input aria-label={t('name.score')} className="cond-name" value={node.score} placeholder="lead" onChange={(e) => upd<ScoreNode>((n) => ({ ...n, score: e.target.value }))} {...aria(join(path, 'score'))} />
          <select aria-label={t('score.what')} value={node.percentile ? 'p' : 'v'} onChange={(e) => upd<ScoreNode>((n) => ({ ...n, percentile: e.target.value === 'p' }))}>
            <option value="v">{t('score.value')}</option>
            <option value="p">{t('score.percentile')}</option>
          </select>
          <NumCmpInput cmp={node.cmp} path={node.percentile ? join(path, 'percentile') : path} opLabel={t('score.op')} valueLabel={t('score.number')} aria={aria} onChange={(cmp) => upd<ScoreNode>((n) => ({ ...n, cmp }))} />
        </>
      );
    default:
      return null;
  }
}

function EventExtras({ node, path, depth, aria }: { node: EventNode; path: string; depth: number; aria: Aria }) {
  const ed = useContext(EditorContext);
  const { t } = ed;
  const upd = (fn: (n: EventNode) => EventNode) => ed.set(node.id, (n) => fn(n as EventNode));
  const wp = join(path, 'where');
  const addWhere = () => {
    const n = newLeaf('property');
    ed.setFocus(n.id);
    upd((e) => ({ ...e, where: addAtRoot(e.where, n) }));
  };
  return (
    <div className="cond-event">
      <div className="cond-line">
        <span className="cond-caption">{t('event.howOften')}</span>
        <select aria-label={t('event.howOften')} value={node.count ? 'count' : 'once'} onChange={(e) => upd((n) => ({ ...n, count: e.target.value === 'count' ? { op: 'gte', a: '1', b: '' } : null }))}>
          <option value="once">{t('event.once')}</option>
          <option value="count">{t('event.count')}</option>
        </select>
        {node.count && (
          <>
            <NumCmpInput cmp={node.count} whole path={join(path, 'count')} opLabel={t('event.countOp')} valueLabel={t('event.countValue')} aria={aria} onChange={(count) => upd((n) => ({ ...n, count }))} />
            <span>{t('event.times')}</span>
          </>
        )}
      </div>
      <div className="cond-line">
        <label className="cond-check">
          <input type="checkbox" checked={!!node.sum} onChange={(e) => upd((n) => ({ ...n, sum: e.target.checked ? { property: 'revenue', op: 'gte', a: '', b: '' } : null }))} />
          {t('event.sum')}
        </label>
        {node.sum && (
          <>
            <input aria-label={t('event.sumProperty')} className="cond-name" value={node.sum.property} onChange={(e) => upd((n) => ({ ...n, sum: { ...n.sum!, property: e.target.value } }))} {...aria(join(path, 'sum.property'))} />
            <NumCmpInput cmp={node.sum} path={join(path, 'sum')} opLabel={t('event.sumOp')} valueLabel={t('event.sumValue')} aria={aria} onChange={(c) => upd((n) => ({ ...n, sum: { ...c, property: n.sum!.property } }))} />
          </>
        )}
      </div>
      <div className="cond-line">
        <span className="cond-caption">{t('event.when')}</span>
        <select aria-label={t('event.when')} value={node.within ? 'within' : 'ever'} onChange={(e) => upd((n) => ({ ...n, within: e.target.value === 'within' ? [{ unit: 'days', n: '7' }] : null }))}>
          <option value="ever">{t('event.allTime')}</option>
          <option value="within">{t('event.within')}</option>
        </select>
        {node.within && <DurationInput d={node.within} path={join(path, 'within')} aria={aria} onChange={(within) => upd((n) => ({ ...n, within }))} />}
      </div>
      <div className="cond-where">
        {node.where ? (
          <>
            <div className="cond-head">
              <span className="cond-caption">{t('event.where')}</span>
              <button type="button" onClick={() => upd((n) => ({ ...n, where: null }))}>
                {t('event.removeFilter')}
              </button>
            </div>
            <NodeView node={node.where} path={wp} depth={depth + 1} where />
            {node.where.kind !== 'group' && (
              <button type="button" onClick={addWhere}>
                + {t('add.filter')}
              </button>
            )}
          </>
        ) : (
          <button type="button" onClick={addWhere}>
            + {t('add.filter')}
          </button>
        )}
      </div>
    </div>
  );
}

function ValueInput({ val, op, path, aria, onChange }: { val: Val; op: ValueOp; path: string; aria: Aria; onChange: (v: Val) => void }) {
  const { t } = useContext(EditorContext);
  const types = typesFor(op);
  const typeOf = val.arity === 'one' ? val.v.t : val.arity === 'two' ? val.lo.t : val.arity === 'list' ? val.items[0]?.t ?? types[0] : null;
  const typeSel =
    types.length > 1 && typeOf ? (
      <select
        aria-label={t('value.type')}
        className="cond-type"
        value={typeOf}
        onChange={(e) => {
          const nt = e.target.value as ScalarType;
          const c = (s: Scalar) => coerceScalar(s, [nt]);
          if (val.arity === 'one') onChange({ ...val, v: c(val.v) });
          else if (val.arity === 'two') onChange({ ...val, lo: c(val.lo), hi: c(val.hi) });
          else if (val.arity === 'list') onChange({ ...val, items: val.items.map(c) });
        }}
      >
        {types.map((ty) => (
          <option key={ty} value={ty}>
            {t('type.' + ty)}
          </option>
        ))}
      </select>
    ) : null;
  switch (val.arity) {
    case 'none':
      return null;
    case 'one':
      return (
        <>
          {typeSel}
          <ScalarInput s={val.v} label={t('value')} ariaProps={aria(path)} onChange={(v) => onChange({ ...val, v })} />
        </>
      );
    case 'two':
      return (
        <>
          {typeSel}
          <ScalarInput s={val.lo} label={t('value.low')} ariaProps={aria(path + '[0]')} onChange={(lo) => onChange({ ...val, lo })} />
          <span>{t('value.and')}</span>
          <ScalarInput s={val.hi} label={t('value.high')} ariaProps={aria(path + '[1]')} onChange={(hi) => onChange({ ...val, hi })} />
        </>
      );
    case 'list':
      return (
        <>
          {typeSel}
          <ListInput items={val.items} type={typeOf || 'text'} ariaProps={aria(path)} onChange={(items) => onChange({ ...val, items })} />
        </>
      );
    case 'duration':
      return <DurationInput d={val.d} path={path} aria={aria} onChange={(d) => onChange({ ...val, d })} />;
  }
}

function ScalarInput({ s, label, ariaProps, onChange }: { s: Scalar; label: string; ariaProps: Record<string, unknown>; onChange: (s: Scalar) => void }) {
  const { t } = useContext(EditorContext);
  if (s.t === 'bool')
    return (
      <select aria-label={label} value={s.s} onChange={(e) => onChange({ t: 'bool', s: e.target.value })} {...ariaProps}>
        <option value="true">{t('bool.true')}</option>
        <option value="false">{t('bool.false')}</option>
      </select>
    );
  return (
    <input
      aria-label={label}
      className={'cond-value cond-value-' + s.t}
      value={s.s}
      inputMode={s.t === 'number' ? 'decimal' : undefined}
      placeholder={s.t === 'date' ? t('ph.date') : undefined}
      onChange={(e) => onChange({ t: s.t, s: e.target.value })}
      {...ariaProps}
    />
  );
}

/** One value per line; the text is kept as typed (an empty last line while typing). */
function ListInput({ items, type, ariaProps, onChange }: { items: Scalar[]; type: ScalarType; ariaProps: Record<string, unknown>; onChange: (items: Scalar[]) => void }) {
  const { t } = useContext(EditorContext);
  const toItems = (text: string): Scalar[] =>
    text.split('\n').filter((l) => l !== '').map((l) => ({ t: type, s: type === 'bool' ? (l.trim() === 'false' ? 'false' : 'true') : l }));
  const [text, setText] = useState(() => items.map((s) => s.s).join('\n'));
  const joined = items.map((s) => s.s).join('\n');
  useEffect(() => {
    setText((cur) => (toItems(cur).map((s) => s.s).join('\n') === joined ? cur : joined));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [joined]);
  return (
    <span className="cond-list">
      <textarea
        aria-label={t('list.items')}
        rows={Math.min(6, Math.max(2, items.length + 1))}
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          onChange(toItems(e.target.value));
        }}
        {...ariaProps}
      />
      <span className="muted small">{t('list.count', { n: items.length })}</span>
    </span>
  );
}

function NumCmpInput({ cmp, path, whole, opLabel, valueLabel, aria, onChange }: {
  cmp: NumCmp; path: string; whole?: boolean; opLabel: string; valueLabel: string; aria: Aria; onChange: (c: NumCmp) => void;
}) {
  const { t } = useContext(EditorContext);
  const vp = join(path, 'value');
  return (
    <>
      <select aria-label={opLabel} value={cmp.op} onChange={(e) => onChange(changeNumOp(cmp, e.target.value as NumOp))} {...aria(join(path, 'op'))}>
        {NUM_OPS.map((o) => (
          <option key={o} value={o}>
            {t('op.' + o)}
          </option>
        ))}
      </select>
      <input aria-label={cmp.op === 'between' ? valueLabel + ' — ' + t('value.low') : valueLabel} className="cond-num" inputMode={whole ? 'numeric' : 'decimal'} value={cmp.a} onChange={(e) => onChange({ ...cmp, a: e.target.value })} {...aria(cmp.op === 'between' ? vp + '[0]' : vp)} />
      {cmp.op === 'between' && (
        <>
          <span>{t('value.and')}</span>
          <input aria-label={valueLabel + ' — ' + t('value.high')} className="cond-num" inputMode={whole ? 'numeric' : 'decimal'} value={cmp.b} onChange={(e) => onChange({ ...cmp, b: e.target.value })} {...aria(vp + '[1]')} />
        </>
      )}
    </>
  );
}

function DurationInput({ d, path, aria, onChange }: { d: DurEntry[]; path: string; aria: Aria; onChange: (d: DurEntry[]) => void }) {
  const { t } = useContext(EditorContext);
  const unused = UNITS.filter((u) => !d.some((e) => e.unit === u));
  const set = (i: number, e: DurEntry) => onChange(d.map((x, k) => (k === i ? e : x)));
  return (
    <span className="cond-duration">
      {d.map((e, i) => (
        <span key={i} className="cond-dur-entry">
          <input aria-label={t('dur.amount')} className="cond-num" inputMode="numeric" value={e.n} onChange={(ev) => set(i, { ...e, n: ev.target.value })} {...aria(path)} />
          <select aria-label={t('dur.unit')} value={e.unit} onChange={(ev) => set(i, { ...e, unit: ev.target.value as Unit })}>
            {UNITS.filter((u) => u === e.unit || unused.includes(u)).map((u) => (
              <option key={u} value={u}>
                {t('unit.' + u)}
              </option>
            ))}
          </select>
          {d.length > 1 && (
            <button type="button" className="icon" aria-label={t('dur.remove')} title={t('dur.remove')} onClick={() => onChange(d.filter((_, k) => k !== i))}>
              −
            </button>
          )}
        </span>
      ))}
      {unused.length > 0 && (
        <button type="button" className="icon" aria-label={t('dur.add')} title={t('dur.add')} onClick={() => onChange([...d, { unit: unused[unused.length - 1], n: '' }])}>
          +
        </button>
      )}
    </span>
  );
}

function Datalist({ id, values }: { id: string; values: readonly (string | { value: string; label?: string })[] }): ReactNode {
  return (
    <datalist id={id}>
      {values.map((v) => (typeof v === 'string' ? <option key={v} value={v} /> : <option key={v.value} value={v.value} label={v.label} />))}
    </datalist>
  );
}

let segmentList: Promise<{ value: string; label?: string }[]> | null = null;
function loadSegments() {
  if (!segmentList)
    segmentList = api<{ data: { id: string; name: string }[] }>('GET', 'segments?limit=1000').then(
      (r) => (r?.data || []).map((s) => ({ value: s.id, label: s.name })),
      () => {
        segmentList = null;
        return [];
      },
    );
  return segmentList;
}

function SegmentDatalist({ id }: { id: string }) {
  const [list, setList] = useState<{ value: string; label?: string }[]>([]);
  useEffect(() => {
    let live = true;
    loadSegments().then((l) => live && setList(l));
    return () => {
      live = false;
    };
  }, []);
  return <Datalist id={id} values={list} />;
}
