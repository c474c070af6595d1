// Versions.tsx — the published versions (GET journeys/{id}/versions): pick
// two, or a version and the draft on the canvas, and see the difference on
// the canvas (added green, removed red and ghosted, changed amber) with the
// fields that changed on each node.
import { memo, useEffect, useId, useState } from 'react';
import { api } from '../api';
import { useFormat, useT } from '../i18n';
import { ErrorBanner, Loading } from '../ui';
import type { DefDiff, JourneyDef } from './graph';
import { journeyDict } from './journey.i18n';

type VersionRow = { version: number; published_at: string };

export type VersionsPanelProps = {
  journeyId: string;
  liveVersion: number;
  buildDef: () => JourneyDef;
  diff: { diff: DefDiff; from: string; to: string } | null;
  onDiff: (a: JourneyDef, b: JourneyDef, from: string, to: string) => void;
  onEndDiff: () => void;
  onPick: (nodeId: string) => void;
  onClose: () => void;
};

function VersionsPanelView({ journeyId, liveVersion, buildDef, diff, onDiff, onEndDiff, onPick, onClose }: VersionsPanelProps) {
  const t = useT(journeyDict);
  const fmt = useFormat();
  const id = useId();
  const [list, setList] = useState<VersionRow[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [from, setFrom] = useState<string>('');
  const [to, setTo] = useState<string>('draft');
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    const ctl = new AbortController();
    api<{ data: VersionRow[] }>('GET', `journeys/${encodeURIComponent(journeyId)}/versions?limit=1000`, undefined, ctl.signal).then(
      (r) => {
        const rows = (r.data || []).slice().sort((a, b) => b.version - a.version);
        setList(rows);
        if (rows.length) setFrom(String(liveVersion || rows[0].version));
      },
      (e) => (e as Error).name !== 'AbortError' && setError(e),
    );
    return () => ctl.abort();
  }, [journeyId, liveVersion]);
  const load = async (key: string): Promise<JourneyDef> => {
    if (key === 'draft') return buildDef();
    const r = await api<{ definition: JourneyDef }>('GET', `journeys/${encodeURIComponent(journeyId)}/versions/${key}`);
    return r.definition;
  };
  const label = (key: string) => (key === 'draft' ? t('versions.draft') : t('versions.v', { n: key }));
  const show = async () => {
    setBusy(true);
    setError(null);
    try {
      const [a, b] = await Promise.all([load(from), load(to)]);
      onDiff(a, b, label(from), label(to));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const options = [{ value: 'draft', label: t('versions.draft') }, ...(list || []).map((v) => ({ value: String(v.version), label: `${t('versions.v', { n: v.version })} · ${fmt.time(v.published_at)}${v.version === liveVersion ? ' · ' + t('versions.live') : ''}` }))];
  const d = diff?.diff;
  const nothing = d && !d.added.length && !d.removed.length && !Object.keys(d.changed).length && !d.fields.length;
  return (
    <section className="panel versions-panel" data-testid="versions-panel" aria-labelledby={id + 'title'}>
      <header className="panel-head">
        <h2 id={id + 'title'}>{t('versions.title')}</h2>
        <button type="button" className="link" onClick={onClose}>
          {t('action.close')}
        </button>
      </header>
      <ErrorBanner error={error} />
      {!list && !error && <Loading />}
      {list && list.length === 0 && <p className="muted">{t('versions.none')}</p>}
      {list && (
        <>
          <ul className="version-list">
            {list.map((v) => (
              <li key={v.version}>
                <b>{t('versions.v', { n: v.version })}</b> <span className="muted small">{fmt.time(v.published_at)}</span>
                {v.version === liveVersion && <span className="badge badge-live">{t('versions.live')}</span>}
              </li>
            ))}
          </ul>
          <div className="row2">
            <div className="field">
              <label htmlFor={id + 'from'}>{t('versions.from')}</label>
              <select id={id + 'from'} value={from} onChange={(e) => setFrom(e.target.value)}>
                {!from && <option value="">–</option>}
                {options.map((o) => (
                  <option key={o.value} value={o.value}>
                    {o.label}
                  </option>
                ))}
              </select>
            </div>
            <div className="field">
              <label htmlFor={id + 'to'}>{t('versions.to')}</label>
              <select id={id + 'to'} value={to} onChange={(e) => setTo(e.target.value)}>
                {options.map((o) => (
                  <option key={o.value} value={o.value}>
                    {o.label}
                  </option>
                ))}
              </select>
            </div>
          </div>
          <div className="row">
            <button type="button" className="primary" disabled={!from || !to || busy} onClick={show} data-testid="btn-show-diff">
              {t('versions.show')}
            </button>
            {diff && (
              <button type="button" onClick={onEndDiff} data-testid="btn-end-diff">
                {t('versions.back')}
              </button>
            )}
          </div>
        </>
      )}
      {diff && d && (
        <div className="diff-report" aria-live="polite">
          <h3>{t('versions.diff_title', { a: diff.from, b: diff.to })}</h3>
          <div className="legend small">
            <span className="legend-added">{t('diff.added')}</span>
            <span className="legend-removed">{t('diff.removed')}</span>
            <span className="legend-changed">{t('diff.changed')}</span>
          </div>
          {nothing && <p className="muted">{t('versions.same')}</p>}
          {d.fields.length > 0 && (
            <p>
              {t('versions.fields')}: <code>{d.fields.join(', ')}</code>
            </p>
          )}
          <ul className="diff-list">
            {d.added.map((n) => (
              <li key={'a' + n} className="diff-added" data-testid="diff-item">
                <button type="button" className="link" onClick={() => onPick(n)}>
                  {n}
                </button>{' '}
                — {t('diff.added')}
              </li>
            ))}
            {d.removed.map((n) => (
              <li key={'r' + n} className="diff-removed" data-testid="diff-item">
                <button type="button" className="link" onClick={() => onPick(n)}>
                  {n}
                </button>{' '}
                — {t('diff.removed')}
              </li>
            ))}
            {Object.entries(d.changed).map(([n, f]) => (
              <li key={'c' + n} className="diff-changed" data-testid="diff-item">
                <button type="button" className="link" onClick={() => onPick(n)}>
                  {n}
                </button>{' '}
                — {t('diff.changed')}: <code>{f.join(', ')}</code>
              </li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}

export const VersionsPanel = memo(VersionsPanelView);
