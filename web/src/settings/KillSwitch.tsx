// KillSwitch.tsx — /settings/kill-switch: stop sending everything, a
// channel, or a journey (PUT settings/kill_switch). Each change applies at
// once; held messages are released, each sent once, when it is lifted.
import { useEffect, useState } from 'react';
import { api } from '../api';
import { useFormat, useT } from '../i18n';
import { ErrorBanner, Loading, useAsync } from '../ui';
import { CHANNELS } from './providers';
import { settingsDict } from './settings.i18n';

export type KillSwitchValue = { global: boolean; channels: string[]; journeys: string[] };

function normalize(v: unknown): KillSwitchValue {
  const o = (v && typeof v === 'object' ? v : {}) as Partial<KillSwitchValue>;
  return { global: !!o.global, channels: Array.isArray(o.channels) ? o.channels : [], journeys: Array.isArray(o.journeys) ? o.journeys : [] };
}

export function KillSwitch() {
  const t = useT(settingsDict);
  const f = useFormat();
  const settings = useAsync((s) => api<Record<string, unknown>>('GET', 'settings', undefined, s), []);
  const journeys = useAsync((s) => api<{ data: { id: string; name: string; status: string }[] }>('GET', 'journeys?limit=1000', undefined, s), []);
  const stats = useAsync((s) => api<{ by_status: Record<string, number> }>('GET', 'messages/stats', undefined, s), []);
  const [ks, setKs] = useState<KillSwitchValue | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    if (settings.data) setKs(normalize(settings.data.kill_switch));
  }, [settings.data]);

  const put = async (next: KillSwitchValue) => {
    const before = ks;
    setKs(next);
    setSaving(true);
    setError(null);
    setSaved(false);
    try {
      const r = await api<{ value: unknown }>('PUT', 'settings/kill_switch', { value: next });
      setKs(normalize(r.value));
      setSaved(true);
      stats.reload();
    } catch (e) {
      setKs(before);
      setError(e);
    } finally {
      setSaving(false);
    }
  };
  if (!ks) {
    return (
      <div>
        <h2>{t('kill.title')}</h2>
        <ErrorBanner error={settings.error} />
        {!settings.error && <Loading />}
      </div>
    );
  }
  const toggle = (list: string[], v: string, on: boolean) => (on ? [...new Set([...list, v])] : list.filter((x) => x !== v));
  const held = stats.data?.by_status?.held ?? 0;
  const known = journeys.data?.data || [];
  const extra = ks.journeys.filter((j) => !known.some((k) => k.id === j)); // stopped journeys no longer listed
  const anyStopped = ks.global || ks.channels.length > 0 || ks.journeys.length > 0;
  return (
    <div>
      <div className="st-head">
        <h2>{t('kill.title')}</h2>
      </div>
      <p className="muted">{t('kill.intro')}</p>
      <ErrorBanner error={error || journeys.error} />
      <div className={'card st-kill-global' + (ks.global ? ' st-kill-on' : '')}>
        <label className="st-switch">
          <input
            type="checkbox"
            role="switch"
            data-testid="kill-switch-global"
            checked={ks.global}
            disabled={saving}
            aria-describedby="st-kill-global-desc"
            onChange={(e) => put({ ...ks, global: e.target.checked })}
          />
          <span className="st-switch-track" aria-hidden="true" />
          <span className="st-switch-label">{t('kill.global')}</span>
        </label>
        <p id="st-kill-global-desc" className="small">
          {ks.global ? t('kill.globalOn') : t('kill.globalOff')}
        </p>
      </div>
      <div role="status" aria-live="polite" className="st-kill-status">
        {anyStopped ? (
          <div className="banner banner-error">{t('kill.held', { n: f.num(held) })}</div>
        ) : (
          <div className="banner banner-ok">{t('kill.allClear', { n: f.num(held) })}</div>
        )}
        {saved && <span className="muted small">{t('kill.saved')}</span>}
      </div>
      <fieldset className="card st-fieldset" disabled={saving}>
        <legend>{t('kill.channels')}</legend>
        <p className="muted small">{t('kill.channelsHint')}</p>
        <div className="st-checks">
          {CHANNELS.map((c) => (
            <label key={c} className="st-check">
              <input type="checkbox" checked={ks.channels.includes(c)} onChange={(e) => put({ ...ks, channels: toggle(ks.channels, c, e.target.checked) })} data-testid={'kill-switch-channel-' + c} />{' '}
              {t('channel.' + c)}
            </label>
          ))}
        </div>
      </fieldset>
      <fieldset className="card st-fieldset" disabled={saving}>
        <legend>{t('kill.journeys')}</legend>
        <p className="muted small">{t('kill.journeysHint')}</p>
        {journeys.loading && !journeys.data ? (
          <Loading />
        ) : known.length + extra.length === 0 ? (
          <p className="muted">{t('kill.noJourneys')}</p>
        ) : (
          <div className="st-checks st-checks-col">
            {known.map((j) => (
              <label key={j.id} className="st-check">
                <input type="checkbox" checked={ks.journeys.includes(j.id)} onChange={(e) => put({ ...ks, journeys: toggle(ks.journeys, j.id, e.target.checked) })} /> {j.name}{' '}
                <code className="muted small">{j.id}</code> <span className="muted small">({j.status})</span>
              </label>
            ))}
            {extra.map((id) => (
              <label key={id} className="st-check">
                <input type="checkbox" checked onChange={() => put({ ...ks, journeys: toggle(ks.journeys, id, false) })} /> <code>{id}</code>
              </label>
            ))}
          </div>
        )}
      </fieldset>
    </div>
  );
}
