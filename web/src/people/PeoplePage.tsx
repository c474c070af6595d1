// PeoplePage — search people, and one person's profile with the unified
// timeline (events, messages, journey steps, tag and consent changes).
// Paths: "/" search (?q=…), "/<user id>" profile.
import { useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import { api, qs } from '../api';
import { useFormat, useT } from '../i18n';
import { Link } from '../router';
import { ErrorBanner, Field, fieldErrors, Loading, Page, useAsync, usePagedList } from '../ui';
import { peopleDict } from './people.i18n';
import {
  describe, eventItems, KINDS, label, mergeTimeline, messageItems, stepItems, type Item, type Kind, type RawEvent, type RawMessage, type RawStep,
} from './timeline';
import './people.css';

type ConsentEntry = { status: string; updated_at?: string; source?: string };
export type User = {
  id: string;
  anonymous_ids: string[];
  user_ids: string[];
  traits: Record<string, unknown>;
  consent: Record<string, ConsentEntry | Record<string, ConsentEntry>> & { topics?: Record<string, ConsentEntry> };
  tags: string[];
  lifecycle_stage: string | null;
  groups: { id: string; traits?: Record<string, unknown> }[];
  computed?: Record<string, unknown>;
  scores?: Record<string, unknown>;
  segments?: { id: string; name: string; entered_at: string }[];
  first_seen: string | null;
  last_seen: string | null;
  created_at: string;
  updated_at: string;
};
type List<T> = { data: T[]; next_cursor: string | null };
const enc = encodeURIComponent;

export default function PeoplePage({ path }: { path: string }) {
  const seg = path.split('/').filter(Boolean);
  if (!seg.length) return <Search />;
  const id = decodeURIComponent(seg.join('/'));
  return <Profile key={id} id={id} />;
}

export function displayName(u: Pick<User, 'traits'>): string {
  const tr = u.traits || {};
  const s = (v: unknown) => (typeof v === 'string' ? v : '');
  return s(tr.name) || [s(tr.first_name), s(tr.last_name)].filter(Boolean).join(' ');
}

function Search() {
  const t = useT(peopleDict);
  const f = useFormat();
  const [q, setQ] = useState(() => new URLSearchParams(location.search).get('q') || '');
  const [query, setQuery] = useState(q);
  const { rows, cursor, loading, error, load: loadPage } = usePagedList<User>();
  const ctl = useRef<AbortController | null>(null);

  useEffect(() => {
    const h = setTimeout(() => setQuery(q.trim()), 300);
    return () => clearTimeout(h);
  }, [q]);
  const load = (c: string | null) => {
    ctl.current?.abort();
    const a = new AbortController();
    ctl.current = a;
    loadPage('users' + qs({ q: query, limit: 50, cursor: c }), c, a.signal);
  };
  useEffect(() => {
    if (location.pathname === '/people') history.replaceState(null, '', '/people' + qs({ q: query }));
    load(null);
    return () => ctl.current?.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [query]);

  return (
    <Page title={t('title')}>
      <div className="field pp-search">
        <label htmlFor="people-q">{t('search.label')}</label>
        <input
          id="people-q"
          type="search"
          value={q}
          autoFocus
          placeholder={t('search.placeholder')}
          onChange={(e) => setQ(e.target.value)}
          data-testid="people-search"
          aria-describedby="people-q-hint"
        />
        <div className="field-hint" id="people-q-hint">
          {t('search.hint')}
        </div>
      </div>
      <ErrorBanner error={error} />
      <div aria-live="polite" className="sr-status">
        {loading ? t('search.searching') : ''}
      </div>
      {!loading && !error && rows.length === 0 ? (
        <p className="muted">{query ? t('search.none', { q: query }) : t('search.empty')}</p>
      ) : (
        rows.length > 0 && (
          <table className={'pp-results' + (loading ? ' stale' : '')}>
            <thead>
              <tr>
                <th>{t('col.id')}</th>
                <th>{t('col.email')}</th>
                <th>{t('col.name')}</th>
                <th>{t('col.lastSeen')}</th>
                <th>{t('col.tags')}</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((u) => (
                <tr key={u.id} data-testid="person-row">
                  <td>
                    <Link to={`/people/${enc(u.id)}`}>{u.id}</Link>
                    {!u.user_ids?.length && <span className="muted small"> ({t('anonymous')})</span>}
                  </td>
                  <td>{typeof u.traits?.email === 'string' ? u.traits.email : ''}</td>
                  <td>{displayName(u)}</td>
                  <td className="small">{f.time(u.last_seen)}</td>
                  <td>
                    <Tags tags={u.tags} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )
      )}
      {loading && !rows.length && <Loading />}
      {cursor && !loading && (
        <button type="button" onClick={() => load(cursor)}>
          {t('more')}
        </button>
      )}
    </Page>
  );
}

function Tags({ tags }: { tags: string[] | undefined }) {
  if (!tags?.length) return null;
  return (
    <ul className="pp-tags">
      {tags.map((x) => (
        <li key={x}>{x}</li>
      ))}
    </ul>
  );
}

/** The user's tags, each removable, a tag to add, and why (the reason goes onto the timeline). */
function TagEditor({ id, tags, onSaved }: { id: string; tags: string[]; onSaved: () => void }) {
  const t = useT(peopleDict);
  const [add, setAdd] = useState('');
  const [remove, setRemove] = useState<string[]>([]);
  const [reason, setReason] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [banner, setBanner] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const adding = add.trim();
  const save = async (e: FormEvent) => {
    e.preventDefault();
    if (!adding && !remove.length) return;
    setBusy(true);
    setBanner(null);
    setErrors({});
    try {
      await api('POST', `users/${enc(id)}/tags`, { add: adding ? [adding] : [], remove, ...(reason.trim() ? { reason: reason.trim() } : {}) });
      setAdd('');
      setRemove([]);
      setReason('');
      onSaved();
    } catch (err) {
      const { fields, banner: b } = fieldErrors(err);
      setErrors(fields.reason ? { reason: fields.reason } : fields.add || fields.remove ? { add: fields.add || fields.remove } : {});
      setBanner(fields.reason || fields.add || fields.remove ? null : b);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="pp-tag-editor" onSubmit={save} data-testid="tag-editor">
      {tags.length ? (
        <ul className="pp-tags">
          {tags.map((x) => (
            <li key={x} className={remove.includes(x) ? 'pp-tag-removed' : undefined}>
              {x}{' '}
              <button type="button" className="link" aria-pressed={remove.includes(x)} aria-label={t('tags.removeOne', { tag: x })}
                onClick={() => setRemove((r) => (r.includes(x) ? r.filter((y) => y !== x) : [...r, x]))}>
                ×
              </button>
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted small">{t('tags.none')}</p>
      )}
      <ErrorBanner error={banner} />
      <Field label={t('tags.add')} id={`tag-add-${id}`} error={errors.add}>
        <input id={`tag-add-${id}`} value={add} maxLength={200} onChange={(e) => setAdd(e.target.value)} placeholder="interest:marketing" />
      </Field>
      <Field label={t('tags.reason')} id={`tag-reason-${id}`} error={errors.reason}>
        <input id={`tag-reason-${id}`} value={reason} onChange={(e) => setReason(e.target.value)} />
      </Field>
      <button type="submit" disabled={busy || (!adding && !remove.length)} data-testid="btn-change-tags">
        {t('tags.apply')}
      </button>
    </form>
  );
}

function Profile({ id }: { id: string }) {
  const t = useT(peopleDict);
  const f = useFormat();
  const { data: u, error, loading, reload } = useAsync((s) => api<User>('GET', `users/${enc(id)}`, undefined, s), [id]);
  if (loading && !u) return <Loading />;
  if (error || !u)
    return (
      <Page title={id} actions={<Link to="/people">{t('back')}</Link>}>
        <ErrorBanner error={error} />
      </Page>
    );
  const name = displayName(u);
  return (
    <Page title={name || u.id} actions={<Link to="/people">{t('back')}</Link>}>
      <div className="pp-grid">
        <section className="card" aria-labelledby="pp-overview">
          <h2 id="pp-overview">{t('sec.overview')}</h2>
          <dl className="pp-dl">
            <dt>{t('f.id')}</dt>
            <dd>
              <code>{u.id}</code>
            </dd>
            {u.user_ids?.length > 1 && (
              <>
                <dt>{t('f.userIds')}</dt>
                <dd>{u.user_ids.join(', ')}</dd>
              </>
            )}
            {u.anonymous_ids?.length > 0 && (
              <>
                <dt>{t('f.anonymousIds')}</dt>
                <dd className="small">{u.anonymous_ids.join(', ')}</dd>
              </>
            )}
            <dt>{t('f.lifecycle')}</dt>
            <dd>
              <span className="pp-stage" data-testid="lifecycle-stage">
                {u.lifecycle_stage ? label(t, 'lifecycle.', u.lifecycle_stage) : t('lifecycle.none')}
              </span>
            </dd>
            <dt>{t('f.firstSeen')}</dt>
            <dd>{f.time(u.first_seen) || '–'}</dd>
            <dt>{t('f.lastSeen')}</dt>
            <dd>{f.time(u.last_seen) || '–'}</dd>
            <dt>{t('f.created')}</dt>
            <dd>{f.time(u.created_at)}</dd>
          </dl>
          <h3>{t('sec.tags')}</h3>
          <TagEditor id={u.id} tags={u.tags || []} onSaved={reload} />
          <h3>{t('sec.groups')}</h3>
          {u.groups?.length ? (
            <ul className="small">
              {u.groups.map((g) => (
                <li key={g.id}>
                  <code>{g.id}</code> {g.traits && Object.keys(g.traits).length > 0 && <span className="muted">{JSON.stringify(g.traits)}</span>}
                </li>
              ))}
            </ul>
          ) : (
            <p className="muted small">{t('groups.none')}</p>
          )}
        </section>
        <section className="card" aria-labelledby="pp-traits">
          <h2 id="pp-traits">{t('sec.traits')}</h2>
          <KeyValues obj={u.traits} empty={t('traits.none')} />
        </section>
        <section className="card" aria-labelledby="pp-consent">
          <h2 id="pp-consent">{t('sec.consent')}</h2>
          <Consent consent={u.consent} />
        </section>
        <section className="card" aria-labelledby="pp-segments">
          <h2 id="pp-segments">{t('sec.segments')}</h2>
          <UserSegments segments={u.segments} />
        </section>
        <section className="card" aria-labelledby="pp-scores">
          <h2 id="pp-scores">{t('sec.scores')}</h2>
          <Scores u={u} />
          <h2 id="pp-computed">{t('sec.computed')}</h2>
          <KeyValues obj={u.computed || {}} empty={t('computed.none')} computed skip={/^rfm_/} />
        </section>
      </div>
      <Timeline id={u.id} />
    </Page>
  );
}

function useValue() {
  const f = useFormat();
  return (k: string, v: unknown, computed = false): string => {
    if (v === null || v === undefined) return '–';
    if (typeof v === 'number') return computed && /_rate_|rate_\d+d$/.test(k) ? f.pct(v) : f.num(v, 2);
    if (typeof v === 'string') return computed && /_at$/.test(k) ? f.time(v) : v;
    if (typeof v === 'boolean') return String(v);
    return JSON.stringify(v);
  };
}

function KeyValues({ obj, empty, computed, skip }: { obj: Record<string, unknown>; empty: string; computed?: boolean; skip?: RegExp }) {
  const fmt = useValue();
  const entries = Object.entries(obj || {}).filter(([k]) => !skip || !skip.test(k));
  if (!entries.length) return <p className="muted small">{empty}</p>;
  return (
    <table className="pp-kv">
      <tbody>
        {entries.map(([k, v]) => (
          <tr key={k}>
            <th scope="row">
              <code>{k}</code>
            </th>
            <td className={typeof v === 'number' ? 'num' : ''}>{fmt(k, v, computed)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Scores({ u }: { u: User }) {
  const t = useT(peopleDict);
  const fmt = useValue();
  const c = u.computed || {};
  const rows: [string, unknown][] = [
    ...Object.entries(u.scores || {}),
    ...Object.entries(c).filter(([k, v]) => /^rfm_/.test(k) && v !== null),
  ];
  if (!rows.length) return <p className="muted small">{t('scores.none')}</p>;
  return (
    <table className="pp-kv">
      <tbody>
        {rows.map(([k, v]) => (
          <tr key={k}>
            <th scope="row">
              <code>{k}</code>
            </th>
            <td className="num">{fmt(k, v)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Consent({ consent }: { consent: User['consent'] }) {
  const t = useT(peopleDict);
  const f = useFormat();
  const rows: { key: string; label: string; e: ConsentEntry }[] = [];
  for (const [ch, e] of Object.entries(consent || {})) {
    if (ch === 'topics') continue;
    rows.push({ key: ch, label: label(t, 'channel.', ch), e: e as ConsentEntry });
  }
  for (const [topic, e] of Object.entries(consent?.topics || {})) rows.push({ key: 'topics.' + topic, label: `# ${topic}`, e });
  if (!rows.length) return <p className="muted small">{t('consent.none')}</p>;
  return (
    <table className="pp-consent">
      <thead>
        <tr>
          <th>{t('consent.col.channel')}</th>
          <th>{t('consent.col.status')}</th>
          <th>{t('consent.col.source')}</th>
          <th>{t('consent.col.time')}</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.key} data-testid="consent-row">
            <td>{r.label}</td>
            <td>
              <span className={'pp-status pp-status-' + r.e.status}>{label(t, 'consent.', r.e.status)}</span>
            </td>
            <td className="small">{r.e.source || '–'}</td>
            <td className="small">{f.time(r.e.updated_at) || '–'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The live segments the user is in now (the profile's "segments", kept by the engine). */
function UserSegments({ segments }: { segments?: { id: string; name: string; entered_at: string }[] }) {
  const t = useT(peopleDict);
  const f = useFormat();
  if (!segments || !segments.length) return <p className="muted small">{t('seg.none')}</p>;
  return (
    <ul className="pp-tags pp-segs" data-testid="user-segments">
      {segments.map((s) => (
        <li key={s.id} title={f.time(s.entered_at)}>
          <Link to={`/segments/${enc(s.id)}`}>{s.name}</Link>
        </li>
      ))}
    </ul>
  );
}

type Paged<T> = { items: T[]; cursor: string | null };

function Timeline({ id }: { id: string }) {
  const t = useT(peopleDict);
  const f = useFormat();
  const [events, setEvents] = useState<Paged<RawEvent>>({ items: [], cursor: null });
  const [msgs, setMsgs] = useState<Paged<RawMessage>>({ items: [], cursor: null });
  const [steps, setSteps] = useState<RawStep[]>([]);
  const [errors, setErrors] = useState<unknown[]>([]);
  const [loading, setLoading] = useState(true);
  const [show, setShow] = useState<Record<Kind, boolean>>({ event: true, message: true, journey: true, tag: true, consent: true });
  const [rev, setRev] = useState(0);

  const fetchEvents = (cursor: string | null) => api<List<RawEvent>>('GET', `users/${enc(id)}/events` + qs({ limit: 100, cursor }));
  const fetchMsgs = (cursor: string | null) => api<List<RawMessage>>('GET', 'messages' + qs({ user_id: id, limit: 100, cursor }));

  useEffect(() => {
    let live = true;
    setLoading(true);
    Promise.allSettled([fetchEvents(null), fetchMsgs(null), api<{ steps: RawStep[] }>('GET', `users/${enc(id)}/journeys`)]).then(([e, m, j]) => {
      if (!live) return;
      const errs: unknown[] = [];
      if (e.status === 'fulfilled') setEvents({ items: e.value.data, cursor: e.value.next_cursor });
      else errs.push(e.reason);
      if (m.status === 'fulfilled') setMsgs({ items: m.value.data, cursor: m.value.next_cursor });
      else errs.push(m.reason);
      if (j.status === 'fulfilled') setSteps(j.value.steps || []);
      else errs.push(j.reason);
      setErrors(errs);
      setLoading(false);
    });
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [id, rev]);

  const older = async () => {
    setLoading(true);
    const errs: unknown[] = [];
    await Promise.all([
      events.cursor &&
        fetchEvents(events.cursor).then(
          (r) => setEvents((p) => ({ items: [...p.items, ...r.data], cursor: r.next_cursor })),
          (e) => errs.push(e),
        ),
      msgs.cursor &&
        fetchMsgs(msgs.cursor).then(
          (r) => setMsgs((p) => ({ items: [...p.items, ...r.data], cursor: r.next_cursor })),
          (e) => errs.push(e),
        ),
    ]);
    setErrors(errs);
    setLoading(false);
  };

  const merged = useMemo(
    () =>
      mergeTimeline([
        { items: eventItems(events.items), more: !!events.cursor },
        { items: messageItems(msgs.items), more: !!msgs.cursor },
        { items: stepItems(steps), more: false },
      ]),
    [events, msgs, steps],
  );
  const counts = useMemo(() => {
    const c: Record<Kind, number> = { event: 0, message: 0, journey: 0, tag: 0, consent: 0 };
    for (const it of merged.items) c[it.kind]++;
    return c;
  }, [merged]);
  const items = merged.items.filter((it) => show[it.kind]);

  return (
    <section className="card pp-timeline" aria-labelledby="pp-tl">
      <div className="pp-tl-head">
        <h2 id="pp-tl">{t('sec.timeline')}</h2>
        <button type="button" onClick={() => setRev((r) => r + 1)} disabled={loading}>
          {t('tl.refresh')}
        </button>
      </div>
      <fieldset className="pp-filter">
        <legend>{t('tl.filter')}</legend>
        {KINDS.map((k) => (
          <label key={k} className={'pp-kind pp-kind-' + k}>
            <input type="checkbox" checked={show[k]} onChange={(e) => setShow((s) => ({ ...s, [k]: e.target.checked }))} data-testid={'timeline-filter-' + k} />
            {t('kind.' + k)} <span className="muted">({counts[k]})</span>
          </label>
        ))}
      </fieldset>
      {errors.length > 0 && (
        <div>
          <p className="small">{t('tl.partial')}</p>
          {errors.map((e, i) => (
            <ErrorBanner key={i} error={e} />
          ))}
        </div>
      )}
      {loading && !merged.items.length ? (
        <Loading />
      ) : items.length === 0 ? (
        <p className="muted">{merged.items.length ? t('tl.emptyFiltered') : t('tl.empty')}</p>
      ) : (
        <ol className="pp-tl">
          {items.map((it) => (
            <TimelineItem key={it.key} it={it} time={f.time(it.at, true)} text={describe(it, t)} kindLabel={t('kind.' + it.kind)} detailsLabel={t('tl.json')} />
          ))}
        </ol>
      )}
      {merged.hidden > 0 && <p className="muted small">{t('tl.hidden', { n: merged.hidden })}</p>}
      {(events.cursor || msgs.cursor) && (
        <button type="button" onClick={older} disabled={loading}>
          {t('tl.older')}
        </button>
      )}
    </section>
  );
}

function TimelineItem({ it, time, text, kindLabel, detailsLabel }: { it: Item; time: string; text: string; kindLabel: string; detailsLabel: string }) {
  const raw = it.src === 'event' ? it.ev : it.src === 'message' ? it.msg : it.step;
  const status = it.src === 'message' ? ' pp-msg-' + it.msg.status : '';
  return (
    <li className={'pp-tl-item pp-kind-' + it.kind + status} data-testid="timeline-item" data-kind={it.kind}>
      <time dateTime={it.at} className="pp-tl-time">
        {time}
      </time>
      <span className="pp-tl-kind">{kindLabel}</span>
      <span className="pp-tl-text">
        {text}
      </span>
      <details className="pp-tl-raw">
        <summary>{detailsLabel}</summary>
        <pre>{JSON.stringify(raw, null, 2)}</pre>
      </details>
    </li>
  );
}
