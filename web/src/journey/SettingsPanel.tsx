// SettingsPanel.tsx — the journey as a whole: its name, the trigger (type,
// event and "where"), re-entry, exit events, the goal, quiet hours, the start
// node. Shown when no node is selected or with "Journey settings".
import { useEventNames } from '../eventNames';
import { memo, useEffect, useId, useState } from 'react';
import { api } from '../api';
import { useT } from '../i18n';
import { CondField } from './Cond';
import { DurationInput, Group, SelectInput, TextInput, type NodeOption } from './fields';
import type { JourneyDef } from './graph';
import { journeyDict } from './journey.i18n';
import type { PanelError } from './NodePanel';
import { TRIGGER_TYPES, triggerTable, type TriggerType } from './nodeTable';

/* eslint-disable @typescript-eslint/no-explicit-any */
export type Meta = Omit<JourneyDef, 'nodes' | 'layout' | 'start'>;

function err(errors: PanelError[], path: string): string | undefined {
  for (const e of errors) if (e.sub === path || e.sub.startsWith(path + '.') || e.sub.startsWith(path + '[')) return e.message;
  return undefined;
}

/** trait_changed from / to: empty = any value; JSON for numbers, true/false, null; else text. */
function parseLoose(s: string): unknown {
  if (s === '') return undefined;
  if (/^(null|true|false|-?\d+(\.\d+)?)$/.test(s.trim())) return JSON.parse(s.trim());
  return s;
}
function showLoose(v: unknown): string {
  if (v === undefined) return '';
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

/** An event filter ("where") with the server's error inside it. */
function Where({ label, value, onChange, errors, path, hint, k }: { label: string; value: any; onChange: (c: any) => void; errors: PanelError[]; path: string; hint?: string; k: string }) {
  let error: { path: string; message: string } | null = null;
  for (const e of errors) {
    if (e.sub === path) error = { path: '', message: e.message };
    else if (e.sub.startsWith(path + '.') || e.sub.startsWith(path + '[')) error = { path: e.sub.slice(path.length).replace(/^\./, ''), message: e.message };
    if (error) break;
  }
  return <CondField key={k} label={label} value={value} where onChange={onChange} error={error} hint={hint} />;
}

function setKey<T extends Record<string, any>>(o: T, k: string, v: unknown): T {
  const next: Record<string, any> = { ...o };
  if (v === undefined) delete next[k];
  else next[k] = v;
  return next as T;
}

let segmentCache: Promise<string[]> | null = null;
function segmentIds(): Promise<string[]> {
  if (!segmentCache)
    segmentCache = api<{ data: { id: string }[] }>('GET', 'segments?limit=1000').then(
      (r) => (r.data || []).map((s) => s.id),
      () => {
        segmentCache = null;
        return [];
      },
    );
  return segmentCache;
}

export type SettingsPanelProps = {
  meta: Meta;
  errors: PanelError[];
  options: NodeOption[];
  startUid: string | undefined;
  readOnly?: boolean;
  onChange: (meta: Meta) => void;
  onSetStart: (uid: string | undefined) => void;
  onClose?: () => void;
};

function SettingsPanelView({ meta, errors, options, startUid, readOnly, onChange, onSetStart, onClose }: SettingsPanelProps) {
  const t = useT(journeyDict);
  const eventNames = useEventNames();
  const id = useId();
  const [segments, setSegments] = useState<string[]>([]);
  useEffect(() => {
    segmentIds().then(setSegments);
  }, []);
  const trig: Record<string, any> = meta.trigger && typeof meta.trigger === 'object' ? meta.trigger : { type: 'event' };
  const ttype = (trig.type as TriggerType) || 'event';
  const setTrig = (next: Record<string, any>) => onChange({ ...meta, trigger: next });
  const changeType = (type: string | undefined) => {
    if (!type) return;
    const keys = new Set((triggerTable[type as TriggerType] || []).map((f) => f.key));
    const next: Record<string, any> = { type };
    for (const [k, v] of Object.entries(trig)) if (keys.has(k)) next[k] = v;
    setTrig(next);
  };
  const entry = meta.entry && typeof meta.entry === 'object' ? meta.entry : {};
  const reentry = entry.reentry;
  const reMode = reentry && typeof reentry === 'object' ? 'after' : reentry || 'never';
  const exitOn: any[] = Array.isArray(meta.exit_on) ? meta.exit_on : [];
  const goal = meta.goal && typeof meta.goal === 'object' ? meta.goal : null;
  const qh = meta.quiet_hours;
  const qhMode = qh === false ? 'off' : qh && typeof qh === 'object' ? 'custom' : 'default';
  const general = errors.filter((e) => !e.sub);
  return (
    <section className="panel settings-panel" data-testid="settings-panel" aria-labelledby={id + 'title'}>
      <header className="panel-head">
        <h2 id={id + 'title'}>{t('panel.settings_title')}</h2>
        {onClose && (
          <button type="button" className="link" onClick={onClose}>
            {t('action.close')}
          </button>
        )}
      </header>
      {general.map((e, i) => (
        <div key={i} className="banner banner-error" role="alert">
          {e.message}
        </div>
      ))}
      <fieldset disabled={readOnly} className="bare">
        <TextInput label={t('field.name')} value={meta.name} required onChange={(v) => onChange({ ...meta, name: v })} error={err(errors, 'name')} />

        <Group legend={t('panel.trigger')} error={ttype && err(errors, 'trigger.type')}>
          <SelectInput
            label={t('field.trigger_type')}
            value={ttype}
            required
            options={TRIGGER_TYPES.map((x) => ({ value: x, label: t('trigger.' + x) }))}
            onChange={changeType}
            hint={t('trigger_help.' + ttype)}
          />
          {triggerTable[ttype]?.map((f) => {
            const e = err(errors, 'trigger.' + f.key);
            const label = t(f.label);
            const hint = f.hint ? t(f.hint) : undefined;
            if (f.kind === 'where') return <Where key={f.key} k={'trigger-where'} label={label} value={trig.where} onChange={(c) => setTrig(setKey(trig, 'where', c))} errors={errors} path="trigger.where" hint={hint} />;
            if (f.kind === 'duration')
              return <DurationInput key={f.key} label={label} value={trig[f.key]} signed onChange={(d) => setTrig(setKey(trig, f.key, d))} error={e} hint={hint} />;
            if (f.key === 'from' || f.key === 'to')
              return <TextInput key={f.key} label={label} value={showLoose(trig[f.key])} onChange={(s) => setTrig(setKey(trig, f.key, parseLoose(s)))} error={e} hint={hint} />;
            if (f.key === 'segment')
              return (
                <div key={f.key}>
                  <TextInput label={label} value={trig.segment} required onChange={(s) => setTrig(setKey(trig, 'segment', s || undefined))} error={e} hint={hint} />
                  {segments.length > 0 && (
                    <div className="chips-line small">
                      {segments.slice(0, 12).map((s) => (
                        <button type="button" key={s} className="chip" onClick={() => setTrig(setKey(trig, 'segment', s))}>
                          {s}
                        </button>
                      ))}
                    </div>
                  )}
                </div>
              );
            return <TextInput key={f.key} label={label} value={trig[f.key]} required={f.required} onChange={(s) => setTrig(setKey(trig, f.key, s === '' && !f.required ? undefined : s))} error={e} hint={hint} suggestions={f.key === 'event' ? eventNames : undefined} />;
          })}
        </Group>

        <SelectInput
          label={t('field.start')}
          value={startUid}
          empty={t('start.first')}
          options={options.map((o) => ({ value: o.uid, label: o.id }))}
          onChange={onSetStart}
          error={err(errors, 'start')}
        />

        <Group legend={t('field.reentry')} error={err(errors, 'entry')}>
          <SelectInput
            label={t('field.reentry_mode')}
            value={reMode}
            options={['never', 'always', 'after'].map((x) => ({ value: x, label: t('reentry.' + x) }))}
            onChange={(m) => onChange({ ...meta, entry: { ...entry, reentry: m === 'after' ? { after: { days: 30 } } : m } })}
          />
          {reMode === 'after' && (
            <DurationInput
              label={t('field.reentry_after')}
              value={(reentry as any).after}
              required
              onChange={(d) => onChange({ ...meta, entry: { ...entry, reentry: { after: d ?? { days: 1 } } } })}
            />
          )}
        </Group>

        <Group legend={t('field.exit_on')} hint={t('hint.exit_on')} error={err(errors, 'exit_on')}>
          {exitOn.map((x, i) => (
            <fieldset key={i} className="item">
              <legend>{t('exit_on.n', { n: i + 1 })}</legend>
              <TextInput
                label={t('field.exit_event_n', { n: i + 1 })}
                value={x.event}
                required
                onChange={(s) => onChange({ ...meta, exit_on: exitOn.map((y, j) => (j === i ? { ...y, event: s } : y)) })}
                error={err(errors, `exit_on[${i}].event`)}
              />
              <Where
                k={'exit-' + i + '-' + exitOn.length}
                label={t('field.exit_where_n', { n: i + 1 })}
                value={x.where}
                onChange={(c) => onChange({ ...meta, exit_on: exitOn.map((y, j) => (j === i ? setKey(y, 'where', c) : y)) })}
                errors={errors}
                path={`exit_on[${i}].where`}
              />
              <button
                type="button"
                className="danger"
                onClick={() => {
                  const next = exitOn.filter((_, j) => j !== i);
                  onChange(setKey(meta, 'exit_on', next.length ? next : undefined));
                }}
              >
                {t('action.remove_exit_n', { n: i + 1 })}
              </button>
            </fieldset>
          ))}
          <button type="button" disabled={exitOn.length >= 32} onClick={() => onChange({ ...meta, exit_on: [...exitOn, { event: 'Order Completed' }] })}>
            {t('action.add_exit')}
          </button>
        </Group>

        <Group legend={t('field.goal')} hint={t('hint.goal')} error={goal ? undefined : err(errors, 'goal')}>
          <label className="inline-check">
            <input
              type="checkbox"
              checked={!!goal}
              onChange={(e) => onChange(setKey(meta, 'goal', e.target.checked ? { event: 'Order Completed', within: { days: 7 } } : undefined))}
            />
            {t('goal.enabled')}
          </label>
          {goal && (
            <>
              <TextInput label={t('field.goal_event')} value={goal.event} required onChange={(s) => onChange({ ...meta, goal: { ...goal, event: s } })} error={err(errors, 'goal.event')} />
              <Where k="goal-where" label={t('field.goal_where')} value={goal.where} onChange={(c) => onChange({ ...meta, goal: setKey(goal, 'where', c) })} errors={errors} path="goal.where" />
              <DurationInput label={t('field.goal_within')} value={goal.within} onChange={(d) => onChange({ ...meta, goal: setKey(goal, 'within', d) })} error={err(errors, 'goal.within')} hint={t('hint.goal_within')} />
            </>
          )}
        </Group>

        <Group legend={t('field.quiet_hours')} error={err(errors, 'quiet_hours')}>
          <SelectInput
            label={t('field.quiet_mode')}
            value={qhMode}
            options={['default', 'off', 'custom'].map((x) => ({ value: x, label: t('quiet.' + x) }))}
            onChange={(m) => onChange(setKey(meta, 'quiet_hours', m === 'off' ? false : m === 'custom' ? { start: '21:00', end: '08:00' } : undefined))}
          />
          {qhMode === 'custom' && (
            <div className="row2">
              <TextInput label={t('field.quiet_start')} type="time" value={(qh as any).start} onChange={(s) => onChange({ ...meta, quiet_hours: { ...(qh as any), start: s } })} />
              <TextInput label={t('field.quiet_end')} type="time" value={(qh as any).end} onChange={(s) => onChange({ ...meta, quiet_hours: { ...(qh as any), end: s } })} />
            </div>
          )}
        </Group>

        <label className="inline-check">
          <input type="checkbox" checked={meta.advertising !== false} onChange={(e) => onChange({ ...meta, advertising: e.target.checked })} />
          {t('field.advertising_journey')}
        </label>
        <div className="field-hint">{t('hint.advertising')}</div>

        <TextInput
          label={t('field.timezone')}
          value={meta.timezone}
          placeholder="Asia/Seoul"
          onChange={(s) => onChange(setKey(meta, 'timezone', s || undefined))}
          error={err(errors, 'timezone')}
          hint={t('hint.timezone')}
        />
      </fieldset>
    </section>
  );
}

export const SettingsPanel = memo(SettingsPanelView);
