// JourneysPage.tsx — "/journeys": the list of journeys and "New journey";
// "/journeys/<id>": the builder (its own chunk, so the list opens fast).
import { lazy, Suspense, useState } from 'react';
import { api } from '../api';
import { useFormat, useT } from '../i18n';
import { Link, navigate } from '../router';
import { ErrorBanner, Loading, Page, useAsync } from '../ui';
import type { JourneyDef } from './graph';
import { listDict } from './list.i18n';
import './journey-list.css';

const Builder = lazy(() => import('./JourneyBuilder'));

type Row = { id: string; name: string; status: string; live_version: number; created_at: string; updated_at: string };

/** The smallest journey the API accepts: an event trigger and one exit node. */
export function minimalDefinition(name: string): JourneyDef {
  return {
    name,
    trigger: { type: 'event', event: 'Signed Up' },
    nodes: [{ id: 'end', type: 'exit' }],
    layout: { end: { x: 0, y: 160 } },
  };
}

function JourneyList() {
  const t = useT(listDict);
  const fmt = useFormat();
  const [showArchived, setShowArchived] = useState(false);
  const { data, error, loading } = useAsync(
    (signal) => api<{ data: Row[] }>('GET', `journeys?limit=1000${showArchived ? '&archived=1' : ''}`, undefined, signal),
    [showArchived],
  );
  const [busy, setBusy] = useState(false);
  const [createError, setCreateError] = useState<unknown>(null);
  const create = async () => {
    setBusy(true);
    setCreateError(null);
    try {
      const name = t('list.new_name');
      const j = await api<{ id: string }>('POST', 'journeys', { name, definition: minimalDefinition(name) });
      navigate('/journeys/' + encodeURIComponent(j.id));
    } catch (e) {
      setCreateError(e);
      setBusy(false);
    }
  };
  const rows = data?.data || [];
  return (
    <Page
      title={t('list.title')}
      actions={
        <button type="button" className="primary" onClick={create} disabled={busy} data-testid="btn-new-journey">
          {t('list.new')}
        </button>
      }
    >
      <ErrorBanner error={createError || error} />
      <label className="inline-check small">
        <input type="checkbox" checked={showArchived} onChange={(e) => setShowArchived(e.target.checked)} /> {t('list.archived')}
      </label>
      {loading && !data ? (
        <Loading />
      ) : rows.length === 0 ? (
        <p className="muted">{t('list.empty')}</p>
      ) : (
        <table className="journey-table">
          <caption className="sr-only">{t('list.title')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('list.name')}</th>
              <th scope="col">{t('list.status')}</th>
              <th scope="col" className="num">
                {t('list.live_version')}
              </th>
              <th scope="col">{t('list.created')}</th>
              <th scope="col">{t('list.updated')}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.id}>
                <td>
                  <Link to={'/journeys/' + encodeURIComponent(r.id)}>{r.name}</Link>
                  <div className="muted small">{r.id}</div>
                </td>
                <td>
                  <span className={'badge status-' + r.status}>{t('status.' + r.status)}</span>
                </td>
                <td className="num">{r.live_version ? fmt.num(r.live_version) : '–'}</td>
                <td>{fmt.time(r.created_at)}</td>
                <td>{fmt.time(r.updated_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Page>
  );
}

export default function JourneysPage({ path }: { path: string }) {
  const id = path.split('/').filter(Boolean)[0];
  if (!id) return <JourneyList />;
  return (
    <Suspense fallback={<Loading />}>
      <Builder key={id} journeyId={decodeURIComponent(id)} />
    </Suspense>
  );
}
