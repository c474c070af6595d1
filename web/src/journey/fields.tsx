// fields.tsx — the small editors the side panels are made of: durations,
// "until" times, tag lists, JSON objects, score changes, node references.
// Every input has a label (getByLabel finds it) and errors sit under it.
import { useEffect, useId, useState, type ReactNode } from 'react';
import { useT } from '../i18n';
import { Field } from '../ui';
import type { Duration } from './graph';
import { journeyDict } from './journey.i18n';
import { WEEKDAYS } from './nodeTable';

/* eslint-disable @typescript-eslint/no-explicit-any */

export function FieldMessage({ error, hint }: { error?: string; hint?: string }) {
  return (
    <>
      {hint && !error && <div className="field-hint">{hint}</div>}
      {error && (
        <div className="field-message" role="alert">
          {error}
        </div>
      )}
    </>
  );
}

export function Group({ legend, error, hint, children, required }: { legend: string; error?: string; hint?: string; children: ReactNode; required?: boolean }) {
  return (
    <fieldset className={'group' + (error ? ' field-error' : '')}>
      <legend>
        {legend}
        {required && <span aria-hidden="true"> *</span>}
      </legend>
      {children}
      <FieldMessage error={error} hint={hint} />
    </fieldset>
  );
}

export function TextInput({
  label,
  value,
  onChange,
  error,
  hint,
  required,
  placeholder,
  multiline,
  type = 'text',
  suggestions,
}: {
  label: string;
  value: string | undefined;
  onChange: (v: string) => void;
  error?: string;
  hint?: string;
  required?: boolean;
  placeholder?: string;
  multiline?: boolean;
  type?: string;
  suggestions?: string[]; /* offered as a datalist (event names) */
}) {
  const id = useId();
  return (
    <Field label={label + (required ? ' *' : '')} id={id} error={error} hint={hint}>
      {multiline ? (
        <textarea id={id} value={value ?? ''} onChange={(e) => onChange(e.target.value)} aria-required={required} placeholder={placeholder} spellCheck={false} />
      ) : (
        <input id={id} type={type} value={value ?? ''} onChange={(e) => onChange(e.target.value)} aria-required={required} placeholder={placeholder} list={suggestions ? id + '-list' : undefined} />
      )}
      {suggestions && (
        <datalist id={id + '-list'}>
          {suggestions.map((s) => (
            <option key={s} value={s} />
          ))}
        </datalist>
      )}
    </Field>
  );
}

export function NumberInput({
  label,
  value,
  onChange,
  error,
  hint,
  min,
  max,
  required,
}: {
  label: string;
  value: number | undefined;
  onChange: (v: number | undefined) => void;
  error?: string;
  hint?: string;
  min?: number;
  max?: number;
  required?: boolean;
}) {
  const id = useId();
  return (
    <Field label={label + (required ? ' *' : '')} id={id} error={error} hint={hint}>
      <input
        id={id}
        type="number"
        inputMode="numeric"
        step={1}
        min={min}
        max={max}
        value={value ?? ''}
        aria-required={required}
        onChange={(e) => onChange(e.target.value === '' ? undefined : Math.trunc(Number(e.target.value)))}
      />
    </Field>
  );
}

export function SelectInput({
  label,
  value,
  options,
  onChange,
  error,
  hint,
  required,
  empty,
}: {
  label: string;
  value: string | undefined;
  options: { value: string; label: string }[];
  onChange: (v: string | undefined) => void;
  error?: string;
  hint?: string;
  required?: boolean;
  empty?: string;
}) {
  const id = useId();
  return (
    <Field label={label + (required ? ' *' : '')} id={id} error={error} hint={hint}>
      <select id={id} value={value ?? ''} onChange={(e) => onChange(e.target.value === '' ? undefined : e.target.value)} aria-required={required}>
        {empty !== undefined && <option value="">{empty}</option>}
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </Field>
  );
}

/** {"days","hours","minutes"}; weeks are shown as days. `signed` allows negative (all units one sign). */
export function DurationInput({
  label,
  value,
  onChange,
  error,
  hint,
  required,
  signed,
}: {
  label: string;
  value: Duration | undefined;
  onChange: (v: Duration | undefined) => void;
  error?: string;
  hint?: string;
  required?: boolean;
  signed?: boolean;
}) {
  const t = useT(journeyDict);
  const id = useId();
  const v = value || {};
  const days = (v.days ?? 0) + (v.weeks ?? 0) * 7;
  const shown: Record<string, number | undefined> = { days: days || undefined, hours: v.hours || undefined, minutes: v.minutes || undefined };
  const set = (unit: string, n: number | undefined) => {
    const next: Record<string, number | undefined> = { ...shown, [unit]: n };
    const out: Duration = {};
    for (const u of ['days', 'hours', 'minutes'] as const) {
      const x = next[u];
      if (x !== undefined && !isNaN(x) && x !== 0) out[u] = signed ? x : Math.abs(x);
    }
    onChange(Object.keys(out).length ? out : undefined);
  };
  return (
    <Group legend={label} error={error} hint={hint} required={required}>
      <div className="duration">
        {(['days', 'hours', 'minutes'] as const).map((u) => (
          <label key={u} htmlFor={id + u} className="duration-unit">
            <input
              id={id + u}
              type="number"
              step={1}
              min={signed ? undefined : 0}
              value={shown[u] ?? ''}
              onChange={(e) => set(u, e.target.value === '' ? undefined : Math.trunc(Number(e.target.value)))}
              aria-label={`${label}: ${t('dur.' + u)}`}
            />
            <span>{t('dur.' + u)}</span>
          </label>
        ))}
      </div>
    </Group>
  );
}

/** A wait's "until": a local time and/or weekdays. */
export function UntilInput({ label, value, onChange, error }: { label: string; value: any; onChange: (v: any) => void; error?: string }) {
  const t = useT(journeyDict);
  const id = useId();
  const v = value && typeof value === 'object' ? value : {};
  const days: string[] = Array.isArray(v.weekdays) ? v.weekdays : [];
  const emit = (next: { time?: string; weekdays?: string[] }) => {
    const out: { time?: string; weekdays?: string[] } = {};
    if (next.time) out.time = next.time;
    if (next.weekdays && next.weekdays.length) out.weekdays = WEEKDAYS.filter((d) => next.weekdays!.includes(d));
    onChange(Object.keys(out).length ? out : undefined);
  };
  return (
    <Group legend={label} error={error} hint={t('hint.until')}>
      <label htmlFor={id} className="inline-label">
        {t('field.until_time')}
      </label>
      <input id={id} type="time" value={v.time ?? ''} onChange={(e) => emit({ time: e.target.value, weekdays: days })} />
      <div className="weekdays" role="group" aria-label={t('field.weekdays')}>
        {WEEKDAYS.map((d) => (
          <label key={d} className="weekday">
            <input
              type="checkbox"
              checked={days.includes(d)}
              onChange={(e) => emit({ time: v.time, weekdays: e.target.checked ? [...days, d] : days.filter((x) => x !== d) })}
            />
            {t('weekday.' + d)}
          </label>
        ))}
      </div>
    </Group>
  );
}

/** A list of texts as chips; with `options`, picked from a list (order kept). */
export function TagsInput({
  label,
  value,
  onChange,
  error,
  hint,
  options,
}: {
  label: string;
  value: string[] | undefined;
  onChange: (v: string[] | undefined) => void;
  error?: string;
  hint?: string;
  options?: { value: string; label: string }[];
}) {
  const t = useT(journeyDict);
  const id = useId();
  const list = Array.isArray(value) ? value : [];
  const [draft, setDraft] = useState('');
  const add = (s: string) => {
    const parts = s
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x && !list.includes(x));
    if (parts.length) onChange([...list, ...parts]);
    setDraft('');
  };
  const remove = (x: string) => {
    const next = list.filter((y) => y !== x);
    onChange(next.length ? next : undefined);
  };
  const left = options?.filter((o) => !list.includes(o.value));
  return (
    <div className={'field' + (error ? ' field-error' : '')}>
      <label htmlFor={id}>{label}</label>
      {list.length > 0 && (
        <ul className="chips" aria-label={label}>
          {list.map((x) => (
            <li key={x} className="chip">
              {options?.find((o) => o.value === x)?.label ?? x}
              <button type="button" className="chip-x" aria-label={t('action.remove_item', { item: x })} onClick={() => remove(x)}>
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      {options ? (
        <select
          id={id}
          value=""
          onChange={(e) => {
            if (e.target.value) onChange([...list, e.target.value]);
          }}
        >
          <option value="">{t('action.add_choice')}</option>
          {left!.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
      ) : (
        <div className="row">
          <input
            id={id}
            value={draft}
            onChange={(e) => setDraft(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' || e.key === ',') {
                e.preventDefault();
                add(draft);
              }
            }}
            onBlur={() => draft.trim() && add(draft)}
            placeholder={t('hint.tags_placeholder')}
          />
          <button type="button" onClick={() => add(draft)} disabled={!draft.trim()}>
            {t('action.add')}
          </button>
        </div>
      )}
      <FieldMessage error={error} hint={hint} />
    </div>
  );
}

/** An object as JSON text; the value changes only when the text parses. */
export function JsonInput({
  label,
  value,
  onChange,
  error,
  hint,
  expect = 'object',
}: {
  label: string;
  value: unknown;
  onChange: (v: any) => void;
  error?: string;
  hint?: string;
  expect?: 'object' | 'array' | 'any';
}) {
  const t = useT(journeyDict);
  const id = useId();
  const [text, setText] = useState(() => (value === undefined ? '' : JSON.stringify(value, null, 2)));
  const [bad, setBad] = useState<string | undefined>();
  // a value changed elsewhere (another node picked, a reload) replaces the text
  useEffect(() => {
    setText((cur) => {
      try {
        const parsed = cur.trim() ? JSON.parse(cur) : undefined;
        if (JSON.stringify(parsed) === JSON.stringify(value)) return cur;
      } catch {
        /* the text does not parse: the user is typing */
        return cur;
      }
      return value === undefined ? '' : JSON.stringify(value, null, 2);
    });
  }, [value]);
  const change = (s: string) => {
    setText(s);
    if (!s.trim()) {
      setBad(undefined);
      onChange(undefined);
      return;
    }
    try {
      const v = JSON.parse(s);
      const ok = expect === 'any' || (expect === 'array' ? Array.isArray(v) : v !== null && typeof v === 'object' && !Array.isArray(v));
      if (!ok) {
        setBad(t(expect === 'array' ? 'error.json_array' : 'error.json_object'));
        return;
      }
      setBad(undefined);
      onChange(v);
    } catch (e) {
      setBad(t('error.json', { msg: (e as Error).message }));
    }
  };
  return (
    <Field label={label} id={id} error={bad || error} hint={hint}>
      <textarea id={id} value={text} onChange={(e) => change(e.target.value)} spellCheck={false} className="mono" />
    </Field>
  );
}

/** Score changes {"lead": 10}: rows of a score name and a whole number. */
export function ScoresInput({ label, value, onChange, error, hint }: { label: string; value: any; onChange: (v: any) => void; error?: string; hint?: string }) {
  const t = useT(journeyDict);
  const rows: [string, number][] = value && typeof value === 'object' ? Object.entries(value) : [];
  const emit = (r: [string, number][]) => {
    const o: Record<string, number> = {};
    for (const [k, v] of r) o[k] = v;
    onChange(r.length ? o : undefined);
  };
  return (
    <Group legend={label} error={error} hint={hint}>
      {rows.map(([k, v], i) => (
        <div className="row" key={i}>
          <input
            aria-label={t('field.score_name', { n: i + 1 })}
            value={k}
            onChange={(e) => emit(rows.map((r, j) => (j === i ? [e.target.value, r[1]] : r)))}
          />
          <input
            aria-label={t('field.score_change', { n: i + 1 })}
            type="number"
            step={1}
            min={-100}
            max={100}
            value={v}
            onChange={(e) => emit(rows.map((r, j) => (j === i ? [r[0], Math.trunc(Number(e.target.value))] : r)))}
          />
          <button type="button" aria-label={t('action.remove_item', { item: k || String(i + 1) })} onClick={() => emit(rows.filter((_, j) => j !== i))}>
            ×
          </button>
        </div>
      ))}
      <button type="button" onClick={() => emit([...rows, [rows.length ? `score${rows.length + 1}` : 'lead', 10]])}>
        {t('action.add_score')}
      </button>
    </Group>
  );
}

/** true / false / inherit (absent). */
export function Bool3Input({ label, value, onChange, hint, error }: { label: string; value: boolean | undefined; onChange: (v: boolean | undefined) => void; hint?: string; error?: string }) {
  const t = useT(journeyDict);
  return (
    <SelectInput
      label={label}
      value={value === undefined ? undefined : value ? 'true' : 'false'}
      empty={t('bool.inherit')}
      options={[
        { value: 'true', label: t('bool.yes') },
        { value: 'false', label: t('bool.no') },
      ]}
      onChange={(v) => onChange(v === undefined ? undefined : v === 'true')}
      hint={hint}
      error={error}
    />
  );
}

export type NodeOption = { uid: string; id: string };

/** Where a handle leads: another node, or nowhere (the user leaves there). */
export function RefSelect({
  label,
  value,
  options,
  self,
  onChange,
  error,
}: {
  label: string;
  value: string | undefined;
  options: NodeOption[];
  self?: string;
  onChange: (uid: string | undefined) => void;
  error?: string;
}) {
  const t = useT(journeyDict);
  return (
    <SelectInput
      label={label}
      value={value}
      empty={t('ref.none')}
      options={options.map((o) => ({ value: o.uid, label: o.uid === self ? t('ref.self', { id: o.id }) : o.id }))}
      onChange={onChange}
      error={error}
    />
  );
}
