// SegmentsPage — live segments (docs/segments.md): the list with sizes, the
// editor with a live count as the condition changes, members and size over time.
// Paths: "/" list, "/new" create, "/<id>" detail.
import { useEffect, useMemo, useState, type FormEvent, type ReactNode } from 'react';
import { api, ApiError, qs } from '../api';
import { ConditionBuilder } from '../cond/ConditionBuilder';
import { conditionKey, fromCondition, serverPath, summarize, validate, type Condition, type LeafKind } from '../cond/cond';
import { CondOptionsContext, type CondOptions } from '../cond/options';
import { useFormat, useT } from '../i18n';
import { Link, navigate } from '../router';
import { ErrorBanner, Field, Loading, Page, useAsync, usePagedList } from '../ui';
import { segDict } from './segments.i18n';
import { SizeChart, type SizePoint } from './SizeChart';
import './segments.css';

export type Segment = { id: string; name: string; condition: Condition; size: number; created_at: string; updated_at: string };
type List<T> = { data: T[]; next_cursor: string | null };

/** A segment describes a user, not one event: no top-level property rules. */
export const SEGMENT_KINDS: readonly LeafKind[] = ['trait', 'event', 'segment', 'tag', 'consent', 'score', 'computed'];
const enc = encodeURIComponent;

export default function SegmentsPage({ path }: { path: string }) {
  const seg = path.split('/').filter(Boolean);
  if (seg.length === 0) return <SegmentList />;
  if (seg[0] === 'new' && seg.length === 1) return <SegmentEditor key="new" initial={null} />;
  return <SegmentDetail key={seg[0]} id={decodeURIComponent(seg[0])} />;
}

function SegmentList() {
  const t = useT(segDict);
  const f = useFormat();
  const [items, setItems] = useState<Segment[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const load = (c: string | null) => {
    setLoading(true);
    api<List<Segment>>('GET', 'segments' + qs({ limit: 100, cursor: c })).then(
      (r) => {
        setItems((prev) => (c ? [...prev, ...r.data] : r.data));
        setCursor(r.next_cursor);
        setError(null);
        setLoading(false);
      },
      (e) => {
        setError(e);
        setLoading(false);
      },
    );
  };
  useEffect(() => load(null), []);
  return (
    <Page
      title={t('title')}
      actions={
        <button type="button" className="primary" onClick={() => navigate('/segments/new')} data-testid="btn-new-segment">
          {t('new')}
        </button>
      }
    >
      <ErrorBanner error={error} />
      {loading && !items.length ? (
        <Loading />
      ) : items.length === 0 && !error ? (
        <div className="card">
          <p>{t('list.empty')}</p>
          <Link to="/segments/new">{t('list.create')}</Link>
        </div>
      ) : (
        <table className="seg-table">
          <thead>
            <tr>
              <th>{t('col.name')}</th>
              <th>{t('col.id')}</th>
              <th className="num">{t('col.size')}</th>
              <th>{t('col.condition')}</th>
              <th>{t('col.updated')}</th>
            </tr>
          </thead>
          <tbody>
            {items.map((s) => (
              <tr key={s.id} data-testid="segment-row">
                <td>
                  <Link to={`/segments/${enc(s.id)}`}>{s.name}</Link>
                </td>
                <td className="muted small">
                  <code>{s.id}</code>
                </td>
                <td className="num">{f.num(s.size)}</td>
                <td className="seg-summary small" title={summarize(s.condition, 2000)}>
                  {summarize(s.condition, 90)}
                </td>
                <td className="small">{f.time(s.updated_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {cursor && (
        <button type="button" onClick={() => load(cursor)} disabled={loading}>
          {t('more')}
        </button>
      )}
    </Page>
  );
}

function SegmentDetail({ id }: { id: string }) {
  const t = useT(segDict);
  const { data, error, loading, setData } = useAsync((s) => api<Segment>('GET', `segments/${enc(id)}`, undefined, s), [id]);
  const [rev, setRev] = useState(0);
  if (loading && !data) return <Loading />;
  if (error || !data)
    return (
      <Page title={t('title')}>
        <ErrorBanner error={error} />
        <Link to="/segments">{t('back')}</Link>
      </Page>
    );
  return (
    <SegmentEditor
      initial={data}
      onSaved={(s) => {
        setData(s);
        setRev((r) => r + 1);
      }}
    >
      <div className="seg-below">
        <History id={id} rev={rev} />
        <Members id={id} rev={rev} />
      </div>
    </SegmentEditor>
  );
}

type Preview = { status: 'idle' | 'incomplete' | 'loading' | 'ok' | 'error'; count?: number; sample?: string[]; error?: unknown };

/** The count for the condition being edited, asked ~300 ms after the last change; a newer edit cancels the older question. */
function useLivePreview(cond: Condition | null): Preview {
  const [p, setP] = useState<Preview>({ status: 'idle' });
  const key = conditionKey(cond);
  useEffect(() => {
    if (!cond) {
      setP({ status: 'idle' });
      return;
    }
    if (validate(fromCondition(cond), { kinds: SEGMENT_KINDS }).length) {
      setP({ status: 'incomplete' });
      return;
    }
    setP((old) => ({ ...old, status: 'loading', error: undefined }));
    const ctl = new AbortController();
    const timer = setTimeout(() => {
      api<{ count: number; sample: string[] }>('POST', 'segments/preview', { condition: cond }, ctl.signal).then(
        (r) => setP({ status: 'ok', count: r.count, sample: r.sample || [] }),
        (e) => {
          if ((e as Error).name !== 'AbortError') setP({ status: 'error', error: e });
        },
      );
    }, 300);
    return () => {
      clearTimeout(timer);
      ctl.abort();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  return p;
}

let flash = ''; // the "saved" notice survives the redirect from /segments/new to /segments/<id>

function SegmentEditor({ initial, onSaved, children }: { initial: Segment | null; onSaved?: (s: Segment) => void; children?: ReactNode }) {
  const t = useT(segDict);
  const f = useFormat();
  const [saved, setSaved] = useState<Segment | null>(initial);
  const [name, setName] = useState(initial?.name ?? '');
  const [id, setId] = useState('');
  const [cond, setCondState] = useState<Condition | null>(initial?.condition ?? null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [condErr, setCondErr] = useState<{ path: string; message: string } | null>(null);
  const [banner, setBanner] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState(() => {
    const m = flash;
    flash = '';
    return m;
  });
  const preview = useLivePreview(cond);

  const setCond = (c: Condition | null) => {
    setCondState(c);
    setCondErr(null);
    setNotice('');
  };
  const dirty = !saved || name !== saved.name || conditionKey(cond) !== conditionKey(saved.condition);
  // The preview's refusal is shown at the rule it names, like a save's.
  const previewErr = preview.status === 'error' && preview.error instanceof ApiError ? serverPath(preview.error.field) : null;
  const shownErr = condErr ?? (previewErr !== null ? { path: previewErr, message: (preview.error as ApiError).message } : null);
  const condOptions: CondOptions = useMemo(() => ({ kinds: SEGMENT_KINDS, error: shownErr }), [shownErr?.path, shownErr?.message]); // eslint-disable-line react-hooks/exhaustive-deps

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setBanner(null);
    setNotice('');
    const errs: Record<string, string> = {};
    if (!name.trim()) errs.name = t('err.name');
    if (!cond) errs.condition = t('err.condition');
    else if (validate(fromCondition(cond), { kinds: SEGMENT_KINDS }).length) errs.condition = t('err.conditionProblems');
    setErrors(errs);
    if (Object.keys(errs).length) return;
    setBusy(true);
    try {
      const s = saved
        ? await api<Segment>('PUT', `segments/${enc(saved.id)}`, { name, condition: cond })
        : await api<Segment>('POST', 'segments', { name, condition: cond, ...(id.trim() ? { id: id.trim() } : {}) });
      setSaved(s);
      setName(s.name);
      setCondState(s.condition);
      setNotice(t('saved', { n: f.num(s.size) }));
      onSaved?.(s);
      if (!saved) {
        flash = t('saved', { n: f.num(s.size) });
        navigate(`/segments/${enc(s.id)}`, true);
      }
    } catch (err) {
      const p = err instanceof ApiError ? serverPath(err.field) : null;
      if (err instanceof ApiError && p !== null) setCondErr({ path: p, message: err.message });
      else if (err instanceof ApiError && (err.field === 'name' || err.field === 'id')) setErrors({ [err.field]: err.message });
      else setBanner(err);
    } finally {
      setBusy(false);
    }
  };
  const archive = async () => {
    if (!saved || !window.confirm(t('archive.confirm', { name: saved.name }))) return;
    setBusy(true);
    try {
      await api('DELETE', `segments/${enc(saved.id)}`);
      navigate('/segments');
    } catch (err) {
      setBanner(err);
      setBusy(false);
    }
  };

  return (
    <Page
      title={saved ? saved.name : t('new.title')}
      actions={
        <>
          <Link to="/segments">{t('back')}</Link>
          {saved && (
            <button type="button" className="danger" onClick={archive} disabled={busy} data-testid="btn-archive-segment">
              {t('archive')}
            </button>
          )}
        </>
      }
    >
      <ErrorBanner error={banner} />
      {notice && (
        <div className="banner banner-ok" role="status">
          {notice}
        </div>
      )}
      <div className="seg-edit">
        <form className="card seg-form" onSubmit={save} noValidate>
          <Field label={t('field.name')} id="seg-name" error={errors.name}>
            <input id="seg-name" value={name} maxLength={200} onChange={(e) => setName(e.target.value)} aria-invalid={!!errors.name} data-testid="segment-name" />
          </Field>
          {saved ? (
            <p className="muted small">
              {t('field.id')}: <code>{saved.id}</code> · {t('created', { at: f.time(saved.created_at) })} · {t('updated', { at: f.time(saved.updated_at) })}
            </p>
          ) : (
            <Field label={t('field.id')} id="seg-id" error={errors.id} hint={t('field.idHint')}>
              <input id="seg-id" value={id} onChange={(e) => setId(e.target.value)} aria-invalid={!!errors.id} placeholder="at-risk" />
            </Field>
          )}
          <CondOptionsContext.Provider value={condOptions}>
            <ConditionBuilder value={cond} onChange={setCond} label={t('field.condition')} />
          </CondOptionsContext.Provider>
          {errors.condition && (
            <div className="field-message" role="alert">
              {errors.condition}
            </div>
          )}
          <div className="seg-buttons">
            <button type="submit" className="primary" disabled={busy || !dirty} data-testid="btn-save-segment">
              {busy ? t('saving') : saved ? t('save') : t('create')}
            </button>
            {dirty && saved && <span className="muted small">{t('unsaved')}</span>}
          </div>
        </form>
        <LiveCount preview={preview} savedSize={saved && !dirty ? saved.size : null} />
      </div>
      {children}
    </Page>
  );
}

function LiveCount({ preview, savedSize }: { preview: Preview; savedSize: number | null }) {
  const t = useT(segDict);
  const f = useFormat();
  const p = preview;
  return (
    <aside className="card seg-live" aria-label={t('live.title')}>
      <h2>{t('live.title')}</h2>
      <div className="seg-count" data-testid="segment-live-count" aria-live="polite" aria-busy={p.status === 'loading'} data-status={p.status}>
        {p.count !== undefined && p.status !== 'incomplete' && p.status !== 'idle' ? (
          <>
            <span className={'seg-count-n' + (p.status === 'loading' ? ' stale' : '')}>{f.num(p.count)}</span> <span className="muted">{t('live.users')}</span>
          </>
        ) : (
          <span className="muted">–</span>
        )}
      </div>
      <p className="muted small">
        {p.status === 'idle' && t('live.idle')}
        {p.status === 'incomplete' && t('live.incomplete')}
        {p.status === 'loading' && t('live.loading')}
        {p.status === 'ok' && t('live.ok')}
        {p.status === 'error' && !(p.error instanceof ApiError && serverPath(p.error.field) !== null) && <ErrorBanner error={p.error} />}
        {p.status === 'error' && p.error instanceof ApiError && serverPath(p.error.field) !== null && t('live.invalid')}
      </p>
      {savedSize !== null && <p className="small">{t('live.saved', { n: f.num(savedSize) })}</p>}
      {p.status === 'ok' && p.sample && p.sample.length > 0 && (
        <>
          <h3 className="small">{t('live.sample')}</h3>
          <ul className="seg-sample">
            {p.sample.map((u) => (
              <li key={u}>
                <Link to={`/people/${enc(u)}`}>{u}</Link>
              </li>
            ))}
          </ul>
        </>
      )}
    </aside>
  );
}

function Members({ id, rev }: { id: string; rev: number }) {
  const t = useT(segDict);
  const f = useFormat();
  const { rows, cursor, error, loading, load: loadPage } = usePagedList<{ id: string; entered_at: string }>();
  const load = (c: string | null, signal?: AbortSignal) => loadPage(`segments/${enc(id)}/members` + qs({ limit: 50, cursor: c }), c, signal);
  useEffect(() => {
    const c = new AbortController();
    load(null, c.signal);
    return () => c.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [id, rev]);
  return (
    <section className="card" aria-labelledby="seg-members-h">
      <div className="seg-section-head">
        <h2 id="seg-members-h">{t('members.title')}</h2>
        <span className="small">
          {t('members.export')}{' '}
          <a href={`/api/v1/segments/${enc(id)}/members/export?format=csv`} download>
            CSV
          </a>{' '}
          ·{' '}
          <a href={`/api/v1/segments/${enc(id)}/members/export?format=ndjson`} download>
            NDJSON
          </a>
        </span>
      </div>
      <ErrorBanner error={error} />
      {rows.length === 0 && !loading && !error ? (
        <p className="muted">{t('members.empty')}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>{t('members.user')}</th>
              <th>{t('members.entered')}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((m) => (
              <tr key={m.id} data-testid="segment-member">
                <td>
                  <Link to={`/people/${enc(m.id)}`}>{m.id}</Link>
                </td>
                <td>{f.time(m.entered_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {loading && <Loading />}
      {cursor && !loading && (
        <button type="button" onClick={() => load(cursor)}>
          {t('more')}
        </button>
      )}
    </section>
  );
}

function History({ id, rev }: { id: string; rev: number }) {
  const t = useT(segDict);
  const f = useFormat();
  const [days, setDays] = useState(30);
  const { data, error } = useAsync((s) => api<{ data: SizePoint[] }>('GET', `segments/${enc(id)}/history` + qs({ days }), undefined, s), [id, rev, days]);
  const pts = data?.data || [];
  return (
    <section className="card" aria-labelledby="seg-history-h">
      <div className="seg-section-head">
        <h2 id="seg-history-h">{t('history.title')}</h2>
        <label className="small">
          {t('history.days')}{' '}
          <select value={days} onChange={(e) => setDays(Number(e.target.value))}>
            {[7, 30, 90, 365].map((d) => (
              <option key={d} value={d}>
                {t('history.n', { n: d })}
              </option>
            ))}
          </select>
        </label>
      </div>
      <ErrorBanner error={error} />
      {pts.length > 0 ? (
        <>
          <SizeChart data={pts} label={t('history.label', { n: pts.length, last: f.num(pts[pts.length - 1].size) })} fmt={(n) => f.num(n)} />
          <details className="small">
            <summary>{t('history.table')}</summary>
            <table>
              <thead>
                <tr>
                  <th>{t('history.date')}</th>
                  <th className="num">{t('col.size')}</th>
                </tr>
              </thead>
              <tbody>
                {pts.map((p) => (
                  <tr key={p.date}>
                    <td>{p.date}</td>
                    <td className="num">{f.num(p.size)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </details>
        </>
      ) : (
        !error && <p className="muted">{t('history.empty')}</p>
      )}
    </section>
  );
}
