// General.tsx — /settings/general: the workspace's time zone, frequency
// caps per channel, the advertising footer's sender line and the stage KPI
// definitions; each saved on its own (PUT settings/<key>).
import { useEffect, useMemo, useState, type FormEvent, type ReactNode } from 'react';
import { api, ApiError } from '../api';
import { useT } from '../i18n';
import { ErrorBanner, Field, Loading, useAsync } from '../ui';
import { CHANNELS } from './providers';
import { settingsDict } from './settings.i18n';

type Settings = {
  timezone: string;
  frequency_caps: Record<string, { max: number; per: Record<string, number>; per_ms?: number; when_capped?: string }> | null;
  sender_info: string | null;
  kpis: Record<string, { steps?: string[]; within?: { days: number }; inactive_days?: number }> | null;
};

const UNITS = [
  ['weeks', 604800000],
  ['days', 86400000],
  ['hours', 3600000],
  ['minutes', 60000],
] as const;

type CapRow = { channel: string; max: string; n: string; unit: string; when: string };

function capsToRows(v: Settings['frequency_caps']): CapRow[] {
  return Object.entries(v || {}).map(([channel, c]) => {
    const ms = c.per_ms || UNITS.reduce((a, [u, m]) => a + (c.per?.[u] || 0) * m, 0);
    const [unit, m] = UNITS.find(([, m]) => ms % m === 0) || UNITS[1];
    return { channel, max: String(c.max), n: String(ms / m), unit, when: c.when_capped || 'wait' };
  });
}

/** One setting's form: its own save, its own errors. */
function SettingCard({ title, intro, onSave, children, testId }: { title: string; intro?: string; onSave: () => Promise<void>; children: ReactNode; testId?: string }) {
  const t = useT(settingsDict);
  const [busy, setBusy] = useState(false);
  const [ok, setOk] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setOk(false);
    setError(null);
    try {
      await onSave();
      setOk(true);
    } catch (err) {
      // an error naming a field is shown at the field by the card's own state
      if (!(err instanceof ApiError && err.field)) setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="card st-form" onSubmit={submit} aria-label={title} data-testid={testId}>
      <h3>{title}</h3>
      {intro && <p className="muted small">{intro}</p>}
      {children}
      <ErrorBanner error={error} />
      <div className="st-actions">
        <button type="submit" className="primary" disabled={busy}>
          {t('save')}
        </button>
        {ok && (
          <span className="st-ok" role="status">
            {t('savedOk')}
          </span>
        )}
      </div>
    </form>
  );
}

export function General() {
  const t = useT(settingsDict);
  const { data, error, loading } = useAsync((s) => api<Settings>('GET', 'settings', undefined, s), []);
  if (loading && !data) return <Loading />;
  if (!data) return <ErrorBanner error={error} />;
  return (
    <div>
      <div className="st-head">
        <h2>{t('general.title')}</h2>
      </div>
      <TimezoneCard initial={data.timezone} />
      <CapsCard initial={data.frequency_caps} />
      <SenderCard initial={data.sender_info} />
      <KpisCard initial={data.kpis} />
    </div>
  );
}

function TimezoneCard({ initial }: { initial: string }) {
  const t = useT(settingsDict);
  const [tz, setTz] = useState(initial || 'Asia/Seoul');
  const zones = useMemo(() => {
    try {
      return Intl.supportedValuesOf('timeZone');
    } catch {
      return ['Asia/Seoul', 'UTC'];
    }
  }, []);
  const [err, setErr] = useState<string>();
  return (
    <SettingCard
      title={t('general.timezone')}
      intro={t('general.timezoneIntro')}
      onSave={async () => {
        setErr(undefined);
        try {
          await api('PUT', 'settings/timezone', { value: tz.trim() });
        } catch (e) {
          if (e instanceof ApiError && e.field === 'value') setErr(e.message);
          throw e;
        }
      }}
    >
      <Field id="st-tz" label={t('general.timezone')} error={err} hint={t('general.timezoneHint')}>
        <input id="st-tz" list="st-tz-list" value={tz} onChange={(e) => setTz(e.target.value)} required />
      </Field>
      <datalist id="st-tz-list">
        {zones.map((z) => (
          <option key={z} value={z} />
        ))}
      </datalist>
    </SettingCard>
  );
}

function CapsCard({ initial }: { initial: Settings['frequency_caps'] }) {
  const t = useT(settingsDict);
  const [rows, setRows] = useState<CapRow[]>(() => capsToRows(initial));
  const [errs, setErrs] = useState<Record<string, string>>({});
  const put = (i: number, patch: Partial<CapRow>) => setRows(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  const unused = CHANNELS.filter((c) => !rows.some((r) => r.channel === c));
  const save = async () => {
    setErrs({});
    const value: Record<string, unknown> = {};
    const local: Record<string, string> = {};
    for (const r of rows) {
      const max = parseInt(r.max, 10);
      const n = parseInt(r.n, 10);
      if (!(max >= 1)) local['value.' + r.channel] = t('caps.badMax');
      else if (!(n >= 1 && n < 10000)) local['value.' + r.channel] = t('caps.badPer');
      value[r.channel] = { max, per: { [r.unit]: n }, when_capped: r.when };
    }
    if (Object.keys(local).length) {
      setErrs(local);
      throw new ApiError(0, 'invalid_field', t('caps.fix'));
    }
    try {
      const res = await api<{ value: Settings['frequency_caps'] }>('PUT', 'settings/frequency_caps', { value });
      setRows(capsToRows(res.value));
    } catch (e) {
      if (e instanceof ApiError && e.field?.startsWith('value.') && rows.some((r) => 'value.' + r.channel === e.field)) {
        setErrs({ [e.field]: e.message });
        throw e;
      }
      if (e instanceof ApiError) throw new ApiError(e.status, e.code, e.message);
      throw e;
    }
  };
  return (
    <SettingCard title={t('caps.title')} intro={t('caps.intro')} onSave={save}>
      {rows.length === 0 && <p className="muted">{t('caps.none')}</p>}
      {rows.length > 0 && (
        <table className="st-caps">
          <thead>
            <tr>
              <th scope="col">{t('caps.channel')}</th>
              <th scope="col">{t('caps.max')}</th>
              <th scope="col">{t('caps.per')}</th>
              <th scope="col">{t('caps.when')}</th>
              <th scope="col">
                <span className="sr-only">{t('actions')}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r, i) => {
              const e = errs['value.' + r.channel];
              return (
                <tr key={i} className={e ? 'st-row-error' : undefined}>
                  <td>
                    <select aria-label={t('caps.channel')} value={r.channel} onChange={(ev) => put(i, { channel: ev.target.value })}>
                      {CHANNELS.filter((c) => c === r.channel || !rows.some((x) => x.channel === c)).map((c) => (
                        <option key={c} value={c}>
                          {t('channel.' + c)}
                        </option>
                      ))}
                    </select>
                    {e && (
                      <div className="field-message" role="alert">
                        {e}
                      </div>
                    )}
                  </td>
                  <td>
                    <input aria-label={t('caps.maxOf', { ch: t('channel.' + r.channel) })} type="number" min={1} value={r.max} onChange={(ev) => put(i, { max: ev.target.value })} className="st-num" />
                  </td>
                  <td>
                    <span className="st-inline">
                      <input aria-label={t('caps.perOf', { ch: t('channel.' + r.channel) })} type="number" min={1} value={r.n} onChange={(ev) => put(i, { n: ev.target.value })} className="st-num" />
                      <select aria-label={t('caps.unit')} value={r.unit} onChange={(ev) => put(i, { unit: ev.target.value })}>
                        {UNITS.map(([u]) => (
                          <option key={u} value={u}>
                            {t('unit.' + u)}
                          </option>
                        ))}
                      </select>
                    </span>
                  </td>
                  <td>
                    <select aria-label={t('caps.when')} value={r.when} onChange={(ev) => put(i, { when: ev.target.value })}>
                      <option value="wait">{t('caps.wait')}</option>
                      <option value="skip">{t('caps.skip')}</option>
                    </select>
                  </td>
                  <td>
                    <button type="button" className="danger" onClick={() => setRows(rows.filter((_, j) => j !== i))} aria-label={t('caps.remove', { ch: t('channel.' + r.channel) })}>
                      ✕
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <button type="button" disabled={unused.length === 0} onClick={() => setRows([...rows, { channel: unused[0], max: '2', n: '7', unit: 'days', when: 'wait' }])}>
        {t('caps.add')}
      </button>
    </SettingCard>
  );
}

function SenderCard({ initial }: { initial: string | null }) {
  const t = useT(settingsDict);
  const [v, setV] = useState(initial || '');
  const [err, setErr] = useState<string>();
  return (
    <SettingCard
      title={t('sender.title')}
      intro={t('sender.intro')}
      onSave={async () => {
        setErr(undefined);
        if (!v.trim()) {
          setErr(t('sender.empty'));
          throw new ApiError(0, 'invalid_field', t('sender.empty'), 'value');
        }
        try {
          await api('PUT', 'settings/sender_info', { value: v.trim() });
        } catch (e) {
          if (e instanceof ApiError && e.field === 'value') setErr(e.message);
          throw e;
        }
      }}
    >
      <Field id="st-sender" label={t('sender.label')} error={err} hint={t('sender.hint')}>
        <textarea id="st-sender" rows={2} maxLength={1000} value={v} onChange={(e) => setV(e.target.value)} placeholder="(주)예시상점 · 서울시 중구 세종대로 1 · 02-000-0000" />
      </Field>
    </SettingCard>
  );
}

const STAGE_DEFAULTS: Record<string, { steps: [string, string]; days: number }> = {
  activation: { steps: ['Signed Up', 'Order Completed'], days: 7 },
  engagement: { steps: ['Email Sent', 'Email Link Clicked'], days: 3 },
  conversion: { steps: ['Product Added', 'Order Completed'], days: 3 },
  retention: { steps: ['Order Completed', 'Order Completed'], days: 30 },
};

function KpisCard({ initial }: { initial: Settings['kpis'] }) {
  const t = useT(settingsDict);
  const [v, setV] = useState(() => {
    const o: Record<string, { a: string; b: string; days: string }> = {};
    for (const [k, d] of Object.entries(STAGE_DEFAULTS)) {
      const cur = initial?.[k];
      o[k] = { a: cur?.steps?.[0] ?? d.steps[0], b: cur?.steps?.[1] ?? d.steps[1], days: String(cur?.within?.days ?? d.days) };
    }
    return { stages: o, inactive: String(initial?.reactivation?.inactive_days ?? 30) };
  });
  const [err, setErr] = useState<string>();
  useEffect(() => setErr(undefined), [v]);
  return (
    <SettingCard
      title={t('kpis.title')}
      intro={t('kpis.intro')}
      onSave={async () => {
        const value: Record<string, unknown> = {};
        for (const [k, s] of Object.entries(v.stages)) value[k] = { steps: [s.a.trim(), s.b.trim()], within: { days: parseInt(s.days, 10) || 1 } };
        value.reactivation = { inactive_days: parseInt(v.inactive, 10) || 30 };
        try {
          await api('PUT', 'settings/kpis', { value });
        } catch (e) {
          if (e instanceof ApiError && e.field === 'value') setErr(e.message);
          throw e;
        }
      }}
    >
      {err && (
        <div className="field-message" role="alert">
          {err}
        </div>
      )}
      <table className="st-kpis">
        <thead>
          <tr>
            <th scope="col">{t('kpis.stage')}</th>
            <th scope="col">{t('kpis.first')}</th>
            <th scope="col">{t('kpis.second')}</th>
            <th scope="col">{t('kpis.within')}</th>
          </tr>
        </thead>
        <tbody>
          {Object.entries(v.stages).map(([k, s]) => {
            const upd = (p: Partial<typeof s>) => setV({ ...v, stages: { ...v.stages, [k]: { ...s, ...p } } });
            return (
              <tr key={k}>
                <th scope="row">{t('kpi.' + k)}</th>
                <td>
                  <input aria-label={t('kpis.firstOf', { stage: t('kpi.' + k) })} value={s.a} onChange={(e) => upd({ a: e.target.value })} />
                </td>
                <td>
                  <input aria-label={t('kpis.secondOf', { stage: t('kpi.' + k) })} value={s.b} onChange={(e) => upd({ b: e.target.value })} />
                </td>
                <td>
                  <input aria-label={t('kpis.withinOf', { stage: t('kpi.' + k) })} type="number" min={1} max={3660} value={s.days} onChange={(e) => upd({ days: e.target.value })} className="st-num" />{' '}
                  {t('unit.days')}
                </td>
              </tr>
            );
          })}
          <tr>
            <th scope="row">{t('kpi.reactivation')}</th>
            <td colSpan={2} className="muted small">
              {t('kpis.reactivation')}
            </td>
            <td>
              <input aria-label={t('kpis.inactiveOf')} type="number" min={1} max={3660} value={v.inactive} onChange={(e) => setV({ ...v, inactive: e.target.value })} className="st-num" />{' '}
              {t('unit.days')}
            </td>
          </tr>
        </tbody>
      </table>
    </SettingCard>
  );
}
