// NodePanel.tsx — the side panel for the selected node: its id, whether it
// is the start, and a form drawn from nodeTable (conditions with the visual
// condition builder; references as selects, so a node can be connected by
// keyboard too). API errors for the node are shown at their field.
import { useEventNames } from '../eventNames';
import { memo, useEffect, useId, useState } from 'react';
import { useT } from '../i18n';
import { CondField } from './Cond';
import { Field } from '../ui';
import {
  Bool3Input,
  DurationInput,
  Group,
  JsonInput,
  NumberInput,
  RefSelect,
  ScoresInput,
  SelectInput,
  TagsInput,
  TextInput,
  UntilInput,
  type NodeOption,
} from './fields';
import { NODE_ID_RE, type JNodeDef } from './graph';
import { journeyDict } from './journey.i18n';
import { CHANNELS, nodeTable, type Channel, type FieldSpec } from './nodeTable';
import { retargetTemplate, TemplateField } from './TemplateField';

/* eslint-disable @typescript-eslint/no-explicit-any */
export type HandleRemap = Record<string, string | null>;
export type PanelError = { sub: string; message: string };

export type NodePanelProps = {
  uid: string;
  def: JNodeDef;
  refs: Record<string, string | undefined>;
  options: NodeOption[];
  isStart: boolean;
  errors: PanelError[];
  readOnly?: boolean;
  idTaken: (id: string, uid: string) => boolean;
  onChange: (uid: string, def: JNodeDef, remap?: HandleRemap) => void;
  onRef: (uid: string, handle: string, target: string | undefined) => void;
  onRename: (uid: string, id: string) => void;
  onSetStart: (uid: string) => void;
  onDelete: (uid: string) => void;
  onClose: () => void;
};

/** The first path segment of an error's sub path: "branches[0].when" → "branches". */
function headOf(sub: string): string {
  const m = /^[^.[]+/.exec(sub);
  return m ? m[0] : '';
}

/** Errors as a map from the path below `key` ("" for the key itself). */
function errorsFor(errors: PanelError[], key: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of errors) {
    if (headOf(e.sub) !== key) continue;
    let rest = e.sub.slice(key.length);
    if (rest.startsWith('.')) rest = rest.slice(1);
    if (!(rest in out)) out[rest] = e.message;
  }
  return out;
}

/** The first message at or under a path ("" = the key itself). */
function firstUnder(m: Record<string, string>, prefix = ''): string | undefined {
  for (const [k, v] of Object.entries(m)) if (k === prefix || k.startsWith(prefix ? prefix + '.' : '') || (prefix && k.startsWith(prefix + '['))) return v;
  return undefined;
}

/** The error at or under `prefix` as {path inside the condition, message}. */
function condError(m: Record<string, string>, prefix = ''): { path: string; message: string } | null {
  for (const [k, v] of Object.entries(m)) {
    if (k === prefix) return { path: '', message: v };
    if (!prefix || k.startsWith(prefix + '.') || k.startsWith(prefix + '[')) return { path: (prefix ? k.slice(prefix.length) : k).replace(/^\./, ''), message: v };
  }
  return null;
}

function NodeIdInput({ uid, id, idTaken, onRename, readOnly }: { uid: string; id: string; idTaken: NodePanelProps['idTaken']; onRename: NodePanelProps['onRename']; readOnly?: boolean }) {
  const t = useT(journeyDict);
  const inputId = useId();
  const [text, setText] = useState(id);
  useEffect(() => setText(id), [id]);
  const problem = !NODE_ID_RE.test(text) ? t('error.node_id') : text !== id && idTaken(text, uid) ? t('error.node_id_taken', { id: text }) : undefined;
  return (
    <Field label={t('field.id')} id={inputId} error={problem} hint={t('hint.node_id')}>
      <input
        id={inputId}
        value={text}
        readOnly={readOnly}
        aria-invalid={!!problem}
        onChange={(e) => {
          const v = e.target.value;
          setText(v);
          if (NODE_ID_RE.test(v) && !idTaken(v, uid)) onRename(uid, v);
        }}
        onBlur={() => setText(id)}
      />
    </Field>
  );
}

function BranchesEditor({ p }: { p: NodePanelProps }) {
  const t = useT(journeyDict);
  const { def, uid } = p;
  const list: any[] = Array.isArray(def.branches) ? def.branches : [];
  const errs = errorsFor(p.errors, 'branches');
  // bumped when branches move or go, so each condition editor shows its own branch again
  const [gen, setGen] = useState(0);
  const set = (next: any[], remap?: HandleRemap) => {
    if (remap) setGen((g) => g + 1);
    p.onChange(uid, { ...def, branches: next }, remap);
  };
  const remove = (i: number) => {
    const remap: HandleRemap = {};
    for (let j = i; j < list.length; j++) remap['b' + j] = j === i ? null : 'b' + (j - 1);
    set(
      list.filter((_, j) => j !== i),
      remap,
    );
  };
  const move = (i: number, d: -1 | 1) => {
    const j = i + d;
    if (j < 0 || j >= list.length) return;
    const next = list.slice();
    [next[i], next[j]] = [next[j], next[i]];
    set(next, { ['b' + i]: 'b' + j, ['b' + j]: 'b' + i });
  };
  return (
    <Group legend={t('field.branches')} required hint={t('hint.branches')} error={errs['']}>
      <ol className="items">
        {list.map((b, i) => (
          <li key={i} className="item">
            <div className="item-head">
              <strong>{t('branch.n', { n: i + 1 })}</strong>
              <span className="row">
                <button type="button" aria-label={t('action.move_up_n', { n: i + 1 })} disabled={i === 0 || p.readOnly} onClick={() => move(i, -1)}>
                  ↑
                </button>
                <button type="button" aria-label={t('action.move_down_n', { n: i + 1 })} disabled={i === list.length - 1 || p.readOnly} onClick={() => move(i, 1)}>
                  ↓
                </button>
                <button type="button" className="danger" aria-label={t('action.remove_branch_n', { n: i + 1 })} disabled={list.length <= 1 || p.readOnly} onClick={() => remove(i)}>
                  ×
                </button>
              </span>
            </div>
            <div className="cond-wrap">
              <CondField
                key={uid + ':' + i + ':' + gen}
                label={t('field.when_n', { n: i + 1 })}
                value={b.when}
                onChange={(c) => set(list.map((x, j) => (j === i ? { ...x, when: c } : x)))}
                error={condError(errs, `[${i}].when`)}
              />
            </div>
            <RefSelect
              label={t('field.branch_next_n', { n: i + 1 })}
              value={p.refs['b' + i]}
              options={p.options}
              self={uid}
              onChange={(v) => p.onRef(uid, 'b' + i, v)}
              error={errs[`[${i}].next`]}
            />
          </li>
        ))}
      </ol>
      <button type="button" disabled={list.length >= 32 || p.readOnly} onClick={() => set([...list, { when: { tag: 'vip' } }])}>
        {t('action.add_branch')}
      </button>
    </Group>
  );
}

function SplitEditor({ p }: { p: NodePanelProps }) {
  const t = useT(journeyDict);
  const { def, uid } = p;
  const list: any[] = Array.isArray(def.variants) ? def.variants : [];
  const errs = errorsFor(p.errors, 'variants');
  const set = (next: any[], remap?: HandleRemap) => p.onChange(uid, { ...def, variants: next }, remap);
  const remove = (i: number) => {
    const remap: HandleRemap = {};
    for (let j = i; j < list.length; j++) remap['v' + j] = j === i ? null : 'v' + (j - 1);
    set(
      list.filter((_, j) => j !== i),
      remap,
    );
  };
  const total = list.reduce((s, v) => s + (typeof v.weight === 'number' ? v.weight : 0), 0);
  return (
    <Group legend={t('field.variants')} required hint={t('hint.split')} error={errs['']}>
      <ol className="items">
        {list.map((v, i) => (
          <li key={i} className="item">
            <div className="row2">
              <TextInput
                label={t('field.variant_name_n', { n: i + 1 })}
                value={v.name}
                required
                onChange={(s) => set(list.map((x, j) => (j === i ? { ...x, name: s } : x)))}
                error={errs[`[${i}].name`]}
              />
              <NumberInput
                label={t('field.weight_n', { n: i + 1 })}
                value={v.weight}
                min={1}
                max={10000}
                required
                onChange={(n) => set(list.map((x, j) => (j === i ? { ...x, weight: n } : x)))}
                error={errs[`[${i}].weight`]}
                hint={total > 0 && typeof v.weight === 'number' ? t('hint.share', { pct: Math.round((v.weight * 100) / total) }) : undefined}
              />
            </div>
            <RefSelect
              label={t('field.variant_next_n', { n: i + 1 })}
              value={p.refs['v' + i]}
              options={p.options}
              self={uid}
              onChange={(x) => p.onRef(uid, 'v' + i, x)}
              error={errs[`[${i}].next`]}
            />
            <button type="button" className="danger" disabled={list.length <= 1 || p.readOnly} onClick={() => remove(i)}>
              {t('action.remove_variant_n', { n: i + 1 })}
            </button>
          </li>
        ))}
      </ol>
      <button
        type="button"
        disabled={list.length >= 16 || p.readOnly}
        onClick={() => {
          let k = list.length;
          const names = new Set(list.map((x) => x.name));
          let name = String.fromCharCode(65 + (k % 26));
          while (names.has(name)) name = 'V' + ++k;
          set([...list, { name, weight: 50 }]);
        }}
      >
        {t('action.add_variant')}
      </button>
    </Group>
  );
}

function FieldRow({ f, p }: { f: FieldSpec; p: NodePanelProps }) {
  const eventNames = useEventNames();
  const t = useT(journeyDict);
  const { def, uid } = p;
  const errs = errorsFor(p.errors, f.key);
  const error = firstUnder(errs);
  const label = t(f.label);
  const hint = f.hint ? t(f.hint) : undefined;
  const set = (v: any) => {
    const next = { ...def };
    if (v === undefined || v === null || (typeof v === 'string' && v === '' && !f.required)) delete next[f.key];
    else next[f.key] = v;
    p.onChange(uid, next);
  };
  const v = def[f.key];
  switch (f.kind) {
    case 'text':
      return <TextInput label={label} value={v} onChange={set} required={f.required} error={error} hint={hint} suggestions={f.key === 'event' ? eventNames : undefined} />;
    case 'liquid':
      return <TextInput label={label} value={v} onChange={set} required={f.required} error={error} hint={hint} multiline />;
    case 'number':
      return <NumberInput label={label} value={v} onChange={set} min={f.min} max={f.max} required={f.required} error={error} hint={hint} />;
    case 'duration':
      return <DurationInput label={label} value={v} onChange={set} required={f.required} error={error} hint={hint} />;
    case 'until':
      return <UntilInput label={label} value={v} onChange={set} error={error} />;
    case 'select':
      if (f.key === 'channel' && def.type === 'send')
        return (
          <SelectInput
            label={label}
            value={v}
            required
            options={CHANNELS.map((c) => ({ value: c, label: t('channel.' + c) }))}
            onChange={(c) => c && p.onChange(uid, retargetTemplate(def, c as Channel))}
            error={error}
          />
        );
      return (
        <SelectInput
          label={label}
          value={v}
          required={f.required}
          empty={f.required ? undefined : t('select.none')}
          options={(f.options || []).map((o) => ({ value: o, label: f.optionPrefix ? t(f.optionPrefix + o) : o }))}
          onChange={set}
          error={error}
          hint={hint}
        />
      );
    case 'template':
      return (
        <TemplateField
          def={def}
          onChange={(next) => p.onChange(uid, next)}
          errors={{ ...Object.fromEntries(Object.entries(errorsFor(p.errors, 'template')).map(([k, m]) => [k ? 'template.' + k : 'template', m])), ...Object.fromEntries(Object.entries(errorsFor(p.errors, 'variants')).map(([k, m]) => [k ? 'variants' + (k.startsWith('[') ? '' : '.') + k : 'variants', m])) }}
        />
      );
    case 'condition':
    case 'where':
      return <CondField key={uid + f.key} label={label} value={v} where={f.kind === 'where'} onChange={set} error={condError(errs)} hint={hint} />;
    case 'channels':
      return (
        <TagsInput
          label={label}
          value={v}
          onChange={set}
          error={error}
          hint={hint}
          options={CHANNELS.filter((c) => c !== def.channel).map((c) => ({ value: c, label: t('channel.' + c) }))}
        />
      );
    case 'tags':
      return <TagsInput label={label} value={v} onChange={set} error={error} hint={hint} />;
    case 'json':
      return <JsonInput label={label} value={v} onChange={set} error={error} hint={hint} />;
    case 'scores':
      return <ScoresInput label={label} value={v} onChange={set} error={error} hint={hint} />;
    case 'bool3':
      return <Bool3Input label={label} value={v} onChange={set} error={error} hint={hint} />;
    case 'branches':
      return <BranchesEditor p={p} />;
    case 'split_variants':
      return <SplitEditor p={p} />;
    case 'ref':
      return <RefSelect label={label} value={p.refs[f.key]} options={p.options} self={uid} onChange={(x) => p.onRef(uid, f.key, x)} error={error} />;
  }
  return null;
}

function NodePanelView(p: NodePanelProps) {
  const t = useT(journeyDict);
  const { def, uid } = p;
  const spec = nodeTable[def.type];
  const known = new Set(['id', 'type', ...(spec?.fields.map((f) => f.key) || [])]);
  const general = p.errors.filter((e) => !e.sub || !known.has(headOf(e.sub)) || headOf(e.sub) === 'type');
  return (
    <section className="panel node-panel" data-testid="node-panel" aria-labelledby="node-panel-title">
      <header className="panel-head">
        <h2 id="node-panel-title">{t('panel.node_title', { type: t('type.' + def.type) })}</h2>
        <button type="button" className="link" onClick={p.onClose}>
          {t('action.close')}
        </button>
      </header>
      {general.map((e, i) => (
        <div key={i} className="banner banner-error" role="alert">
          {e.message}
        </div>
      ))}
      <fieldset disabled={p.readOnly} className="bare">
        <NodeIdInput uid={uid} id={def.id} idTaken={p.idTaken} onRename={p.onRename} readOnly={p.readOnly} />
        <div className="start-row">
          {p.isStart ? (
            <span className="badge badge-start">{t('node.is_start')}</span>
          ) : (
            <button type="button" onClick={() => p.onSetStart(uid)}>
              {t('action.make_start')}
            </button>
          )}
        </div>
        {spec?.fields.map((f) => <FieldRow key={f.key} f={f} p={p} />)}
        {def.type === 'wait' && !def.duration && !def.until && <div className="field-hint warn">{t('hint.wait_needs_one')}</div>}
        {def.type === 'update' && !['tags_add', 'tags_remove', 'set', 'lifecycle', 'score'].some((k) => def[k] !== undefined) && (
          <div className="field-hint warn">{t('hint.update_needs_one')}</div>
        )}
        {def.type === 'exit' && <p className="muted">{t('hint.exit')}</p>}
        <div className="panel-foot">
          <button type="button" className="danger" onClick={() => p.onDelete(uid)}>
            {t('action.delete_node')}
          </button>
        </div>
      </fieldset>
    </section>
  );
}

export const NodePanel = memo(NodePanelView);
