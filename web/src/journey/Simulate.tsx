// Simulate.tsx — "what would happen to this user": a dialog for the user and
// their events, POST journeys/{id}/simulate with the canvas's definition, and
// the replay of the returned path step by step (the canvas lights up).
import { memo, useId, useState } from 'react';
import { api, ApiError } from '../api';
import { useFormat, useT } from '../i18n';
import { ErrorBanner, Field } from '../ui';
import type { JourneyDef } from './graph';
import { journeyDict } from './journey.i18n';
import { Modal } from './Modal';

/* eslint-disable @typescript-eslint/no-explicit-any */
export type SimStep = { node: string; at: string; reason: string };
export type SimMessage = { node: string; channel: string; at: string; template: string | null; variant: string | null; subject: string | null; body: string | null; error?: string };
export type SimResult = {
  entered_at: string | null;
  path: SimStep[];
  messages: SimMessage[];
  converted_at: string | null;
  exited: string | null;
  waiting_at?: { node: string; until: string | null } | null;
};

type EventRow = { event: string; time: string; props: string };
export type SimInput = { userId: string; traits: string; tags: string; events: EventRow[] };

function pad(n: number) {
  return String(n).padStart(2, '0');
}
/** A Date as the value of <input type="datetime-local"> (the browser's zone). */
export function toLocalInput(d: Date): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function defaultSimInput(trigger: Record<string, any> | undefined, now = new Date()): SimInput {
  const events: EventRow[] = [];
  const time = toLocalInput(now);
  if (trigger?.type === 'event' && trigger.event) events.push({ event: trigger.event, time, props: '' });
  else if ((trigger?.type === 'segment_entered' || trigger?.type === 'segment_exited') && trigger.segment)
    events.push({ event: trigger.type === 'segment_entered' ? 'Segment Entered' : 'Segment Exited', time, props: JSON.stringify({ segment_id: trigger.segment }) });
  return {
    userId: 'sim-user',
    traits: JSON.stringify({ first_name: '지민', email: 'jimin@example.com', timezone: 'Asia/Seoul' }, null, 2),
    tags: '',
    events,
  };
}

function parseObj(s: string): { ok: true; v: Record<string, any> | undefined } | { ok: false } {
  if (!s.trim()) return { ok: true, v: undefined };
  try {
    const v = JSON.parse(s);
    if (v && typeof v === 'object' && !Array.isArray(v)) return { ok: true, v };
  } catch {
    /* below */
  }
  return { ok: false };
}

export function SimDialog({
  journeyId,
  initial,
  buildDef,
  onClose,
  onDone,
}: {
  journeyId: string;
  initial: SimInput;
  buildDef: () => JourneyDef;
  onClose: () => void;
  onDone: (input: SimInput, result: SimResult) => void;
}) {
  const t = useT(journeyDict);
  const id = useId();
  const [input, setInput] = useState<SimInput>(initial);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [banner, setBanner] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const setRow = (i: number, patch: Partial<EventRow>) => setInput({ ...input, events: input.events.map((r, j) => (j === i ? { ...r, ...patch } : r)) });
  const run = async () => {
    const errs: Record<string, string> = {};
    const traits = parseObj(input.traits);
    if (!traits.ok) errs['user.traits'] = t('error.json_object');
    const events: any[] = [];
    input.events.forEach((r, i) => {
      const props = parseObj(r.props);
      if (!props.ok) errs[`events[${i}].properties`] = t('error.json_object');
      const d = new Date(r.time);
      if (!r.time || isNaN(d.getTime())) errs[`events[${i}].timestamp`] = t('error.time');
      if (!r.event.trim()) errs[`events[${i}].event`] = t('error.required');
      events.push({ type: 'track', event: r.event.trim(), timestamp: isNaN(d.getTime()) ? r.time : d.toISOString(), ...(props.ok && props.v ? { properties: props.v } : {}) });
    });
    setErrors(errs);
    if (Object.keys(errs).length) return;
    const tags = input.tags
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const user: Record<string, any> = { user_id: input.userId || 'sim-user' };
    if (traits.ok && traits.v) user.traits = traits.v;
    if (tags.length) user.tags = tags;
    setBusy(true);
    setBanner(null);
    try {
      const res = await api<SimResult>('POST', `journeys/${encodeURIComponent(journeyId)}/simulate`, { user, events, definition: buildDef() });
      onDone(input, res);
    } catch (e) {
      if (e instanceof ApiError && e.field && !e.field.startsWith('definition')) setErrors({ [e.field]: e.message });
      else setBanner(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal title={t('sim.title')} onClose={onClose} wide>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          run();
        }}
      >
        <p className="muted small">{t('sim.intro')}</p>
        <ErrorBanner error={banner} />
        <div className="row2">
          <Field label={t('sim.user_id')} id={id + 'uid'} error={errors['user.user_id']}>
            <input id={id + 'uid'} value={input.userId} onChange={(e) => setInput({ ...input, userId: e.target.value })} />
          </Field>
          <Field label={t('sim.tags')} id={id + 'tags'} hint={t('hint.comma')} error={errors['user.tags']}>
            <input id={id + 'tags'} value={input.tags} onChange={(e) => setInput({ ...input, tags: e.target.value })} />
          </Field>
        </div>
        <Field label={t('sim.traits')} id={id + 'traits'} error={errors['user.traits'] || errors['user']}>
          <textarea id={id + 'traits'} className="mono" value={input.traits} onChange={(e) => setInput({ ...input, traits: e.target.value })} />
        </Field>
        <fieldset className="group">
          <legend>{t('sim.events')}</legend>
          <p className="field-hint">{t('sim.events_hint')}</p>
          {errors['events'] && (
            <div className="field-message" role="alert">
              {errors['events']}
            </div>
          )}
          {input.events.map((r, i) => (
            <fieldset key={i} className="item sim-event">
              <legend>{t('sim.event_n', { n: i + 1 })}</legend>
              <div className="row3">
                <Field label={t('sim.event_name_n', { n: i + 1 })} id={`${id}e${i}`} error={errors[`events[${i}].event`] || errors[`events[${i}]`]}>
                  <input id={`${id}e${i}`} value={r.event} onChange={(e) => setRow(i, { event: e.target.value })} />
                </Field>
                <Field label={t('sim.event_time_n', { n: i + 1 })} id={`${id}t${i}`} error={errors[`events[${i}].timestamp`]}>
                  <input id={`${id}t${i}`} type="datetime-local" value={r.time} onChange={(e) => setRow(i, { time: e.target.value })} />
                </Field>
                <button type="button" className="danger" onClick={() => setInput({ ...input, events: input.events.filter((_, j) => j !== i) })}>
                  {t('action.remove_event_n', { n: i + 1 })}
                </button>
              </div>
              <Field label={t('sim.event_props_n', { n: i + 1 })} id={`${id}p${i}`} error={errors[`events[${i}].properties`]}>
                <textarea id={`${id}p${i}`} className="mono short" value={r.props} placeholder='{"revenue": 50000}' onChange={(e) => setRow(i, { props: e.target.value })} />
              </Field>
            </fieldset>
          ))}
          <button
            type="button"
            onClick={() => {
              const last = input.events[input.events.length - 1];
              const base = last && !isNaN(new Date(last.time).getTime()) ? new Date(new Date(last.time).getTime() + 86400000) : new Date();
              setInput({ ...input, events: [...input.events, { event: 'Email Opened', time: toLocalInput(base), props: '' }] });
            }}
          >
            {t('action.add_event')}
          </button>
        </fieldset>
        <div className="modal-actions">
          <button type="button" onClick={onClose}>
            {t('action.cancel')}
          </button>
          <button type="submit" className="primary" disabled={busy} data-testid="btn-sim-run">
            {busy ? t('sim.running') : t('sim.run')}
          </button>
        </div>
      </form>
    </Modal>
  );
}

export type SimPanelProps = {
  result: SimResult;
  index: number;
  playing: boolean;
  onPlay: () => void;
  onPause: () => void;
  onStep: () => void;
  onAll: () => void;
  onRestart: () => void;
  onAgain: () => void;
  onClose: () => void;
  onPick: (nodeId: string) => void;
};

function SimPanelView({ result, index, playing, onPlay, onPause, onStep, onAll, onRestart, onAgain, onClose, onPick }: SimPanelProps) {
  const t = useT(journeyDict);
  const fmt = useFormat();
  const steps = result.path || [];
  const done = index >= steps.length - 1;
  const cur = steps[index];
  const msgsFor = (s: SimStep) => (result.messages || []).filter((m) => m.node === s.node && m.at === s.at);
  return (
    <section className="panel sim-panel" data-testid="sim-panel" aria-labelledby="sim-panel-title">
      <header className="panel-head">
        <h2 id="sim-panel-title">{t('sim.result_title')}</h2>
        <button type="button" className="link" onClick={onClose}>
          {t('action.close')}
        </button>
      </header>
      <div className="sim-controls" role="toolbar" aria-label={t('sim.controls')}>
        {playing ? (
          <button type="button" onClick={onPause} data-testid="btn-sim-pause">
            {t('sim.pause')}
          </button>
        ) : (
          <button type="button" className="primary" onClick={onPlay} disabled={!steps.length || done} data-testid="btn-sim-play">
            {t('sim.play')}
          </button>
        )}
        <button type="button" onClick={onStep} disabled={!steps.length || done} data-testid="btn-sim-step">
          {t('sim.step')}
        </button>
        <button type="button" onClick={onAll} disabled={!steps.length || done} data-testid="btn-sim-all">
          {t('sim.all')}
        </button>
        <button type="button" onClick={onRestart} disabled={index < 0}>
          {t('sim.restart')}
        </button>
        <button type="button" onClick={onAgain}>
          {t('sim.again')}
        </button>
      </div>
      <div className="sr-only" aria-live="polite">
        {cur ? t('sim.announce', { n: index + 1, total: steps.length, node: cur.node, reason: cur.reason }) : ''}
      </div>
      <dl className="sim-summary small">
        <dt>{t('sim.entered')}</dt>
        <dd>{result.entered_at ? fmt.time(result.entered_at, true) : t('sim.not_entered')}</dd>
        {result.converted_at && (
          <>
            <dt>{t('sim.converted')}</dt>
            <dd>{fmt.time(result.converted_at, true)}</dd>
          </>
        )}
        <dt>{t('sim.outcome')}</dt>
        <dd>
          {result.exited
            ? t('sim.exited', { reason: result.exited })
            : result.waiting_at
              ? t('sim.waiting', { node: result.waiting_at.node, until: result.waiting_at.until ? fmt.time(result.waiting_at.until, true) : '–' })
              : '–'}
        </dd>
      </dl>
      {steps.length === 0 && <p className="muted">{t('sim.no_steps')}</p>}
      <ol className="sim-steps">
        {steps.map((s, i) => (
          <li
            key={i}
            data-testid="sim-step"
            data-state={i < index ? 'done' : i === index ? 'current' : 'pending'}
            aria-current={i === index ? 'step' : undefined}
            className={'sim-step ' + (i < index ? 'done' : i === index ? 'current' : 'pending')}
          >
            <div className="sim-step-head">
              <span className="sim-n">{i + 1}</span>
              <button type="button" className="link" onClick={() => onPick(s.node)}>
                {s.node}
              </button>
              <time dateTime={s.at} className="muted small">
                {fmt.time(s.at, true)}
              </time>
            </div>
            <div className="sim-reason">{s.reason}</div>
            {msgsFor(s).map((m, k) => (
              <div key={k} className="sim-msg small">
                <b>{t('channel.' + m.channel)}</b>
                {m.variant ? ` [${m.variant}]` : ''} {m.subject ? m.subject + ' — ' : ''}
                {m.error ? <span className="warn">{m.error}</span> : (m.body || '').replace(/<[^>]*>/g, ' ').slice(0, 160)}
              </div>
            ))}
          </li>
        ))}
      </ol>
    </section>
  );
}

export const SimPanel = memo(SimPanelView);
