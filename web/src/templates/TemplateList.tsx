// TemplateList.tsx — templates grouped by channel, filtered by channel,
// archived ones on request (and restorable: creating the id again restores
// it as its next version).
import { useState } from 'react';
import { api, qs } from '../api';
import { useFormat, useT } from '../i18n';
import { Link, navigate } from '../router';
import { ErrorBanner, Loading, Page, useAsync } from '../ui';
import { CHANNELS, type Channel, type Template, type Version } from './model';
import { templatesDict } from './templates.i18n';

type ListResp = { data: Template[]; next_cursor: string | null };

export function TemplateList() {
  const t = useT(templatesDict);
  const f = useFormat();
  const params = new URLSearchParams(location.search);
  const [channel, setChannel] = useState<Channel | ''>((params.get('channel') as Channel) || '');
  const [archived, setArchived] = useState(false);
  const [extra, setExtra] = useState<Template[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const { data, error, loading } = useAsync<ListResp>(
    async (signal) => {
      setExtra([]);
      const r = await api<ListResp>('GET', 'templates' + qs({ channel, archived: archived || undefined, limit: 200 }), undefined, signal);
      setCursor(r.next_cursor);
      return r;
    },
    [channel, archived],
  );
  const items = [...(data?.data || []), ...extra];
  const more = async () => {
    try {
      const r = await api<ListResp>('GET', 'templates' + qs({ channel, archived: archived || undefined, limit: 200, cursor }));
      setExtra((x) => [...x, ...r.data]);
      setCursor(r.next_cursor);
    } catch (e) {
      setActionError(e);
    }
  };
  const restore = async (tpl: Template) => {
    setBusy(tpl.id);
    setActionError(null);
    try {
      const v = await api<{ data: Version[] }>('GET', `templates/${encodeURIComponent(tpl.id)}/versions?limit=1&include=body`);
      const last = v.data[0];
      await api('POST', 'templates', { id: tpl.id, name: last.name, channel: last.channel, locale: last.locale, body: last.body });
      navigate('/templates/' + encodeURIComponent(tpl.id));
    } catch (e) {
      setActionError(e);
      setBusy(null);
    }
  };
  const groups = CHANNELS.map((c) => ({ c, rows: items.filter((x) => x.channel === c) })).filter((g) => g.rows.length);
  return (
    <Page
      title={t('title')}
      actions={
        <Link to={'/templates/new' + (channel ? '?channel=' + channel : '')} className="button-link primary">
          {t('new')}
        </Link>
      }
    >
      <div className="tp-filters">
        <div role="group" aria-label={t('filter.channel')} className="tp-tabs">
          <button type="button" aria-pressed={channel === ''} onClick={() => setChannel('')}>
            {t('filter.all')}
          </button>
          {CHANNELS.map((c) => (
            <button type="button" key={c} aria-pressed={channel === c} onClick={() => setChannel(c)}>
              {t('channel.' + c)}
            </button>
          ))}
        </div>
        <label className="tp-check">
          <input type="checkbox" checked={archived} onChange={(e) => setArchived(e.target.checked)} /> {t('filter.archived')}
        </label>
      </div>
      <ErrorBanner error={error || actionError} />
      {loading && !data ? (
        <Loading />
      ) : items.length === 0 ? (
        <p className="muted">{archived ? t('list.noneArchived') : t('list.none')}</p>
      ) : (
        groups.map((g) => (
          <section key={g.c} className="tp-group" aria-labelledby={'tp-g-' + g.c}>
            <h2 id={'tp-g-' + g.c}>
              {t('channel.' + g.c)} <span className="muted small">({g.rows.length})</span>
            </h2>
            <table>
              <thead>
                <tr>
                  <th>{t('field.name')}</th>
                  <th>{t('field.id')}</th>
                  <th>{t('field.locale')}</th>
                  <th className="num">{t('list.version')}</th>
                  <th>{archived ? t('list.archivedAt') : t('list.updated')}</th>
                  {archived && <th>{t('list.actions')}</th>}
                </tr>
              </thead>
              <tbody>
                {g.rows.map((x) => (
                  <tr key={x.id}>
                    <td>{archived ? x.name : <Link to={'/templates/' + encodeURIComponent(x.id)}>{x.name}</Link>}</td>
                    <td>
                      <code>{x.id}</code>
                    </td>
                    <td>{x.locale || '—'}</td>
                    <td className="num">{x.version}</td>
                    <td>{f.time(archived ? x.archived_at : x.updated_at)}</td>
                    {archived && (
                      <td>
                        <button type="button" onClick={() => restore(x)} disabled={busy === x.id}>
                          {t('list.restore')}
                        </button>
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        ))
      )}
      {cursor && (
        <button type="button" onClick={more}>
          {t('list.more')}
        </button>
      )}
      {loading && data && <span className="muted small"> …</span>}
    </Page>
  );
}
