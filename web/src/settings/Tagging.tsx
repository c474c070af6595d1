// Tagging.tsx — /settings/tagging: the auto-tagging rules (seed 001's
// defaults included) as a table — trigger, condition, tags — each row
// editable in place (an expandable row with the condition builder), enabled
// or disabled with one click, archived, and new rules added.
import { useEventNames } from '../eventNames';
import { Fragment, useState, type FormEvent } from 'react';
import { api, ApiError } from '../api';
import { ConditionBuilder, type Condition } from '../cond/ConditionBuilder';
import { CondOptionsContext, type CondOptions } from '../cond/options';
import { useFormat, useT } from '../i18n';
import { ErrorBanner, Field, Loading, useAsync } from '../ui';
import { ConfirmButton } from './ConfirmButton';
import { settingsDict } from './settings.i18n';

type Within = Record<string, number>;
export type Rule = {
  id: string;
  name: string;
  enabled: boolean;
  when: { event?: string; where?: Condition; condition?: Condition };
  if?: Condition;
  unless?: { event: string; where?: Condition; within?: Within };
  add: string[];
  remove: string[];
  remove_when_false?: boolean;
  created_at?: string;
  updated_at?: string;
};

type Kind = 'event' | 'absence' | 'condition';

type Draft = {
  id: string;
  name: string;
  enabled: boolean;
  kind: Kind;
  event: string;
  where: Condition | null;
  ifc: Condition | null;
  unlessEvent: string;
  unlessWhere: Condition | null;
  withinN: string;
  withinUnit: string;
  condition: Condition | null;
  add: string;
  remove: string;
  removeWhenFalse: boolean;
};

export function kindOf(r: Rule): Kind {
  return r.when.condition ? 'condition' : r.unless ? 'absence' : 'event';
}

function draftOf(r?: Rule): Draft {
  const w = r?.unless?.within || { days: 3 };
  const [unit, n] = Object.entries(w)[0] || ['days', 3];
  return {
    id: r?.id || '',
    name: r?.name || '',
    enabled: r ? r.enabled : true,
    kind: r ? kindOf(r) : 'event',
    event: r?.when.event || '',
    where: r?.when.where || null,
    ifc: r?.if || null,
    unlessEvent: r?.unless?.event || 'Order Completed',
    unlessWhere: r?.unless?.where || null,
    withinN: String(n),
    withinUnit: unit,
    condition: r?.when.condition || null,
    add: (r?.add || []).join(', '),
    remove: (r?.remove || []).join(', '),
    removeWhenFalse: r ? !!r.remove_when_false : true,
  };
}

const tags = (s: string) =>
  s
    .split(/[,\n]/)
    .map((x) => x.trim())
    .filter(Boolean);

/** The rule as the API takes it (a whole "when": the server then drops the old unless/if/remove_when_false). */
export function bodyOf(d: Draft, isNew: boolean): Record<string, unknown> {
  const b: Record<string, unknown> = { name: d.name.trim() || undefined, enabled: d.enabled, add: tags(d.add), remove: tags(d.remove) };
  if (isNew && d.id.trim()) b.id = d.id.trim();
  if (d.kind === 'condition') {
    b.when = { condition: d.condition };
    b.remove_when_false = d.removeWhenFalse;
  } else {
    b.when = { event: d.event.trim(), ...(d.where ? { where: d.where } : {}) };
    if (d.ifc) b.if = d.ifc;
    if (d.kind === 'absence')
      b.unless = { event: d.unlessEvent.trim(), ...(d.unlessWhere ? { where: d.unlessWhere } : {}), within: { [d.withinUnit]: parseInt(d.withinN, 10) || 0 } };
  }
  return b;
}

const SLOTS = ['when.where', 'when.condition', 'when.event', 'unless.where', 'unless.within', 'unless.event', 'unless', 'if', 'add', 'remove_when_false', 'remove', 'name', 'id', 'enabled', 'when'];

/** The editor slot an error field belongs to ("when.where.op" → "when.where"), or null. */
export function slotOf(field: string | undefined): string | null {
  if (!field) return null;
  for (const s of SLOTS) if (field === s || field.startsWith(s + '.') || field.startsWith(s + '[')) return s;
  return null;
}

const OPS: Record<string, string> = { eq: '=', neq: '≠', gt: '>', gte: '≥', lt: '<', lte: '≤' };

/** A short, readable form of a condition for the table. */
export function describe(c: unknown): string {
  if (!c || typeof c !== 'object') return '';
  const o = c as Record<string, any>;
  if (Array.isArray(o.all)) return o.all.map(describe).join(' AND ');
  if (Array.isArray(o.any)) return '(' + o.any.map(describe).join(' OR ') + ')';
  if (o.not) return 'NOT ' + describe(o.not);
  const op = OPS[o.op] || o.op;
  for (const k of ['property', 'trait', 'computed', 'score']) if (o[k] !== undefined) return `${o[k]} ${op ?? ''} ${o.value === undefined ? '' : JSON.stringify(o.value)}`.trim();
  if (o.event) {
    let s = `"${o.event}"`;
    if (o.where) s += ` [${describe(o.where)}]`;
    if (o.count) s += ` ×${OPS[o.count.op] || o.count.op}${o.count.value}`;
    if (o.within) s += ` /${Object.entries(o.within).map(([u, n]) => `${n} ${u}`).join(' ')}`;
    return s;
  }
  if (o.tag) return `#${o.tag}`;
  if (o.segment) return `segment:${o.segment}`;
  if (o.consent) return `consent ${o.consent.channel}=${o.consent.is}`;
  return JSON.stringify(c);
}

export function Tagging() {
  const t = useT(settingsDict);
  const { data, error, loading, reload, setData } = useAsync((s) => api<{ data: Rule[] }>('GET', 'tagging-rules?limit=1000', undefined, s), []);
  const [open, setOpen] = useState<string | null>(null);
  const [adding, setAdding] = useState(false);
  const [banner, setBanner] = useState<unknown>(null);
  const rules = data?.data || [];
  const replace = (r: Rule) => setData({ data: rules.map((x) => (x.id === r.id ? r : x)) });
  const toggle = async (r: Rule, enabled: boolean) => {
    setBanner(null);
    replace({ ...r, enabled });
    try {
      replace(await api<Rule>('PUT', 'tagging-rules/' + encodeURIComponent(r.id), { enabled }));
    } catch (e) {
      replace(r);
      setBanner(e);
    }
  };
  const remove = async (r: Rule) => {
    setBanner(null);
    try {
      await api('DELETE', 'tagging-rules/' + encodeURIComponent(r.id));
      setOpen(null);
      reload();
    } catch (e) {
      setBanner(e);
    }
  };
  return (
    <div>
      <div className="st-head">
        <h2>{t('tagging.title')}</h2>
        <button type="button" className="primary" onClick={() => setAdding(true)} disabled={adding} aria-expanded={adding}>
          {t('tagging.add')}
        </button>
      </div>
      <p className="muted">{t('tagging.intro')}</p>
      <ErrorBanner error={error || banner} />
      {adding && (
        <div className="card">
          <RuleEditor
            onSaved={() => {
              setAdding(false);
              reload();
            }}
            onCancel={() => setAdding(false)}
          />
        </div>
      )}
      {loading && !data ? (
        <Loading />
      ) : (
        <table className="st-tagging" data-testid="tagging-table">
          <thead>
            <tr>
              <th scope="col">{t('tagging.enabled')}</th>
              <th scope="col">{t('tagging.rule')}</th>
              <th scope="col">{t('tagging.trigger')}</th>
              <th scope="col">{t('tagging.condition')}</th>
              <th scope="col">{t('tagging.tags')}</th>
              <th scope="col">{t('actions')}</th>
            </tr>
          </thead>
          <tbody>
            {rules.length === 0 && (
              <tr>
                <td colSpan={6} className="muted">
                  {t('tagging.none')}
                </td>
              </tr>
            )}
            {rules.map((r) => {
              const k = kindOf(r);
              const isOpen = open === r.id;
              return (
                <Fragment key={r.id}>
                  <tr className={(r.enabled ? '' : 'st-off ') + (isOpen ? 'st-open' : '')} data-rule={r.id}>
                    <td>
                      <input type="checkbox" checked={r.enabled} onChange={(e) => toggle(r, e.target.checked)} aria-label={t('tagging.enabledOf', { name: r.name })} />
                    </td>
                    <td>
                      <div className="st-rule-name">{r.name}</div>
                      <code className="muted small">{r.id}</code>
                    </td>
                    <td>
                      <span className={'st-badge st-kind-' + k}>{t('kind.' + k)}</span>{' '}
                      {k === 'condition' ? <code>{describe(r.when.condition)}</code> : <strong>{r.when.event}</strong>}
                      {r.when.where && (
                        <div className="small">
                          {t('tagging.where')} <code>{describe(r.when.where)}</code>
                        </div>
                      )}
                    </td>
                    <td className="small">
                      {r.unless && (
                        <div>
                          {t('tagging.unlessSummary', {
                            event: r.unless.event,
                            within: Object.entries(r.unless.within || {})
                              .map(([u, n]) => `${n} ${t('unit.' + u)}`)
                              .join(' '),
                          })}
                          {r.unless.where && <code> [{describe(r.unless.where)}]</code>}
                        </div>
                      )}
                      {r.if && (
                        <div>
                          {t('tagging.ifSummary')} <code>{describe(r.if)}</code>
                        </div>
                      )}
                      {k === 'condition' && <div>{r.remove_when_false ? t('tagging.rwfOn') : t('tagging.rwfOff')}</div>}
                      {!r.unless && !r.if && k !== 'condition' && <span className="muted">—</span>}
                    </td>
                    <td>
                      <div className="st-tags">
                        {r.add.map((x) => (
                          <span key={'a' + x} className="st-tag st-tag-add" title={t('tagging.addsTag')}>
                            + {x}
                          </span>
                        ))}
                        {r.remove.map((x) => (
                          <span key={'r' + x} className="st-tag st-tag-remove" title={t('tagging.removesTag')}>
                            − {x}
                          </span>
                        ))}
                      </div>
                    </td>
                    <td className="st-actions">
                      <button type="button" aria-expanded={isOpen} aria-controls={'st-rule-' + r.id} onClick={() => setOpen(isOpen ? null : r.id)}>
                        {isOpen ? t('close') : t('edit')}
                      </button>
                      <ConfirmButton label={t('delete')} question={t('tagging.deleteQ', { name: r.name })} yes={t('delete')} no={t('cancel')} onConfirm={() => remove(r)} />
                    </td>
                  </tr>
                  {isOpen && (
                    <tr className="st-editor-row" id={'st-rule-' + r.id}>
                      <td colSpan={6}>
                        <RuleEditor
                          rule={r}
                          onSaved={(saved) => {
                            replace(saved);
                            setOpen(null);
                          }}
                          onCancel={() => setOpen(null)}
                        />
                      </td>
                    </tr>
                  )}
                </Fragment>
              );
            })}
          </tbody>
        </table>
      )}
      <p className="muted small">{t('tagging.hint')}</p>
    </div>
  );
}

function RuleEditor({ rule, onSaved, onCancel }: { rule?: Rule; onSaved: (r: Rule) => void; onCancel: () => void }) {
  const t = useT(settingsDict);
  const eventNames = useEventNames();
  const f = useFormat();
  const isNew = !rule;
  const [d, setD] = useState<Draft>(() => draftOf(rule));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [errField, setErrField] = useState<string | undefined>();
  const [banner, setBanner] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const set = (p: Partial<Draft>) => setD((x) => ({ ...x, ...p }));
  const p = 'st-r-' + (rule?.id || 'new') + '-';
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setErrors({});
    setErrField(undefined);
    setBanner(null);
    if (d.kind === 'condition' && !d.condition) {
      setErrors({ 'when.condition': t('tagging.needCondition') });
      return;
    }
    setBusy(true);
    try {
      const body = bodyOf(d, isNew);
      const saved = isNew ? await api<Rule>('POST', 'tagging-rules', body) : await api<Rule>('PUT', 'tagging-rules/' + encodeURIComponent(rule.id), body);
      onSaved(saved);
    } catch (err) {
      const slot = err instanceof ApiError ? slotOf(err.field) : null;
      if (err instanceof ApiError && slot) {
        setErrors({ [slot]: err.message });
        setErrField(err.field);
      }
      else setBanner(err);
    } finally {
      setBusy(false);
    }
  };
  const err = (k: string) => errors[k];
  // what each builder may offer: "where" filters the event's properties only; a condition rule has no current event
  const kindsOf = (slot: string): CondOptions['kinds'] =>
    slot.endsWith('.where') ? ['property'] : slot === 'when.condition' ? ['trait', 'event', 'segment', 'tag', 'consent', 'score', 'computed'] : undefined;
  const condBox = (slot: string, label: string, value: Condition | null, onChange: (c: Condition | null) => void, hint?: string) => {
    const inner = errField && slotOf(errField) === slot ? errField.slice(slot.length).replace(/^\./, '') : null;
    return (
      <div className={'field' + (err(slot) ? ' field-error' : '')}>
        {/* the builder labels itself (its legend is `label`) and marks the rule a server error names */}
        <CondOptionsContext.Provider value={{ kinds: kindsOf(slot), error: inner !== null && err(slot) ? { path: inner, message: err(slot) } : null }}>
          <ConditionBuilder key={slot + d.kind} value={value} onChange={onChange} label={label} />
        </CondOptionsContext.Provider>
        {hint && !err(slot) && <div className="field-hint">{hint}</div>}
        {err(slot) && (
          <div className="field-message" role="alert">
            {err(slot)}
          </div>
        )}
      </div>
    );
  };
  return (
    <form className="st-rule-editor" onSubmit={submit} aria-label={isNew ? t('tagging.add') : t('tagging.editOf', { name: rule.name })}>
      {isNew && <h3>{t('tagging.add')}</h3>}
      <ErrorBanner error={banner} />
      <div className="st-grid">
        {isNew && (
          <Field id={p + 'id'} label={t('tagging.id')} error={err('id')} hint={t('tagging.idHint')}>
            <input id={p + 'id'} value={d.id} onChange={(e) => set({ id: e.target.value })} />
          </Field>
        )}
        <Field id={p + 'name'} label={t('tagging.name')} error={err('name')}>
          <input id={p + 'name'} value={d.name} onChange={(e) => set({ name: e.target.value })} maxLength={200} />
        </Field>
      </div>
      <fieldset className="st-fieldset">
        <legend>{t('tagging.kind')}</legend>
        <div className="st-checks">
          {(['event', 'absence', 'condition'] as Kind[]).map((k) => (
            <label key={k} className="st-check">
              <input type="radio" name={p + 'kind'} value={k} checked={d.kind === k} onChange={() => set({ kind: k })} /> {t('kind.' + k)}
            </label>
          ))}
        </div>
        <p className="muted small">{t('kind.hint.' + d.kind)}</p>
      </fieldset>
      {d.kind !== 'condition' ? (
        <>
          <Field id={p + 'event'} label={t('tagging.whenEvent') + ' *'} error={err('when.event') || err('when')}>
            <input id={p + 'event'} list="st-events" value={d.event} onChange={(e) => set({ event: e.target.value })} required />
          </Field>
          {condBox('when.where', t('tagging.whereLabel'), d.where, (c) => set({ where: c }), t('tagging.whereHint'))}
          {d.kind === 'absence' && (
            <fieldset className="st-fieldset">
              <legend>{t('tagging.unless')}</legend>
              {err('unless') && (
                <div className="field-message" role="alert">
                  {err('unless')}
                </div>
              )}
              <div className="st-grid">
                <Field id={p + 'uevent'} label={t('tagging.unlessEvent') + ' *'} error={err('unless.event')}>
                  <input id={p + 'uevent'} list="st-events" value={d.unlessEvent} onChange={(e) => set({ unlessEvent: e.target.value })} required />
                </Field>
                <Field id={p + 'within'} label={t('tagging.within')} error={err('unless.within')}>
                  <span className="st-inline">
                    <input id={p + 'within'} type="number" min={1} value={d.withinN} onChange={(e) => set({ withinN: e.target.value })} className="st-num" />
                    <select aria-label={t('tagging.withinUnit')} value={d.withinUnit} onChange={(e) => set({ withinUnit: e.target.value })}>
                      {['minutes', 'hours', 'days', 'weeks'].map((u) => (
                        <option key={u} value={u}>
                          {t('unit.' + u)}
                        </option>
                      ))}
                    </select>
                  </span>
                </Field>
              </div>
              {condBox('unless.where', t('tagging.unlessWhere'), d.unlessWhere, (c) => set({ unlessWhere: c }))}
            </fieldset>
          )}
          {condBox('if', t('tagging.ifLabel'), d.ifc, (c) => set({ ifc: c }), t('tagging.ifHint'))}
        </>
      ) : (
        <>
          {condBox('when.condition', t('tagging.conditionLabel') + ' *', d.condition, (c) => set({ condition: c }))}
          <label className="st-check">
            <input type="checkbox" checked={d.removeWhenFalse} onChange={(e) => set({ removeWhenFalse: e.target.checked })} /> {t('tagging.rwf')}
          </label>
          {err('remove_when_false') && (
            <div className="field-message" role="alert">
              {err('remove_when_false')}
            </div>
          )}
        </>
      )}
      <div className="st-grid">
        <Field id={p + 'add'} label={t('tagging.addTags')} error={err('add')} hint={d.kind === 'event' ? t('tagging.addHintEvent') : t('tagging.addHint')}>
          <input id={p + 'add'} value={d.add} onChange={(e) => set({ add: e.target.value })} placeholder="hesitant, interest:{{ event.properties.link_topic }}" />
        </Field>
        <Field id={p + 'remove'} label={t('tagging.removeTags')} error={err('remove')} hint={t('tagging.addHint')}>
          <input id={p + 'remove'} value={d.remove} onChange={(e) => set({ remove: e.target.value })} />
        </Field>
      </div>
      <label className="st-check">
        <input type="checkbox" checked={d.enabled} onChange={(e) => set({ enabled: e.target.checked })} /> {t('tagging.enabledLabel')}
      </label>
      <div className="st-actions">
        <button type="submit" className="primary" disabled={busy}>
          {isNew ? t('tagging.create') : t('save')}
        </button>
        <button type="button" onClick={onCancel}>
          {t('cancel')}
        </button>
        {rule?.updated_at && <span className="muted small">{t('updated', { t: f.time(rule.updated_at) })}</span>}
      </div>
      <datalist id="st-events">
        {eventNames.map((e) => (
          <option key={e} value={e} />
        ))}
      </datalist>
    </form>
  );
}
