// DashboardsPage.tsx — /dashboards: seed 000's stage KPIs, the message
// funnel (all journeys or one) with its breakdown and daily chart, an
// event's series, an ad-hoc funnel, the segments scoreboard and cohorts —
// all for one date range (default: the last 30 days, workspace time zone).
// Every report exports CSV: the API's ?format=csv where it has one.
import { useEventNames } from '../eventNames';
import { useMemo, useState, type FormEvent, type ReactNode } from 'react';
import { api, apiText, qs } from '../api';
import { useFormat, useLocale, useT } from '../i18n';
import { ErrorBanner, Field, Loading, Page, useAsync } from '../ui';
import { Chart, PALETTE, type ChartSeries } from './Chart';
import { downloadCsv, toCsv } from './csv';
import { dashboardsDict } from './dashboards.i18n';
import { lastDays, rangeQuery, type Range } from './dates';
import { Funnel, type FunnelStep } from './Funnel';
import './dashboards.css';

type Q = { from: string; to: string };
type Row = Record<string, unknown> & { key?: string };
type Journey = { id: string; name: string; status: string };

const STAGES = ['activation', 'engagement', 'conversion', 'retention', 'reactivation'] as const;

const n = (v: unknown) => (typeof v === 'number' ? v : 0);

export default function DashboardsPage({ path }: { path: string }) {
  const t = useT(dashboardsDict);
  const eventNames = useEventNames();
  const { timezone } = useLocale();
  const [range, setRange] = useState<Range>(() => lastDays(30, timezone));
  const [draft, setDraft] = useState<Range>(range);
  const [rangeError, setRangeError] = useState('');
  const q = useMemo(() => rangeQuery(range.from, range.to, timezone), [range, timezone]);
  const apply = (e: FormEvent) => {
    e.preventDefault();
    if (!draft.from || !draft.to || draft.from > draft.to) {
      setRangeError(t('range.invalid'));
      return;
    }
    setRangeError('');
    setRange(draft);
  };
  const preset = (days: number) => {
    const r = lastDays(days, timezone);
    setDraft(r);
    setRange(r);
    setRangeError('');
  };
  void path;
  return (
    <Page title={t('title')}>
      <form className="db-range card" onSubmit={apply} aria-label={t('range')}>
        <Field id="db-from" label={t('range.from')} error={rangeError || undefined}>
          <input id="db-from" type="date" value={draft.from} max={draft.to} onChange={(e) => setDraft({ ...draft, from: e.target.value })} required />
        </Field>
        <Field id="db-to" label={t('range.to')}>
          <input id="db-to" type="date" value={draft.to} min={draft.from} onChange={(e) => setDraft({ ...draft, to: e.target.value })} required />
        </Field>
        <button type="submit" className="primary">
          {t('range.apply')}
        </button>
        <div className="db-presets" role="group" aria-label={t('range.presets')}>
          {[7, 30, 90].map((d) => (
            <button type="button" key={d} onClick={() => preset(d)}>
              {t('range.last', { n: d })}
            </button>
          ))}
        </div>
        <span className="muted small">{t('range.tz', { tz: timezone })}</span>
      </form>
      <nav className="db-toc" aria-label={t('toc')}>
        {['kpis', 'messages', 'series', 'funnel', 'segments', 'cohorts'].map((s) => (
          <a key={s} href={'#db-' + s}>
            {t('section.' + s)}
          </a>
        ))}
      </nav>
      <KpiSection q={q} />
      <MessagesSection q={q} />
      <SeriesSection q={q} />
      <AdhocFunnel q={q} />
      <SegmentsSection q={q} />
      <CohortsSection q={q} />
      <datalist id="db-events">
        {eventNames.map((e) => (
          <option key={e} value={e} />
        ))}
      </datalist>
    </Page>
  );
}

function Section({ id, title, actions, children }: { id: string; title: string; actions?: ReactNode; children: ReactNode }) {
  return (
    <section className="card db-section" id={'db-' + id} aria-labelledby={'db-' + id + '-title'}>
      <header className="db-section-head">
        <h2 id={'db-' + id + '-title'}>{title}</h2>
        {actions && <div className="db-actions">{actions}</div>}
      </header>
      {children}
    </section>
  );
}

/** A CSV export button: `get` returns the CSV text (from the API or built here). */
function ExportButton({ what, filename, get }: { what: string; filename: string; get: () => Promise<string> | string }) {
  const t = useT(dashboardsDict);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = async () => {
    setBusy(true);
    setError(null);
    try {
      downloadCsv(filename, await get());
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button type="button" data-testid="btn-export-csv" onClick={run} disabled={busy} aria-label={t('csv.label', { what })}>
        {t('csv')}
      </button>
      {error ? <ErrorBanner error={error} /> : null}
    </>
  );
}

// ---- KPIs ----------------------------------------------------------------------------------

type Kpi = {
  definition: { steps?: string[]; within?: { days: number }; inactive_days?: number };
  users?: number;
  converted?: number;
  active_users?: number;
  reactivated?: number;
  rate: number;
};

function KpiSection({ q }: { q: Q }) {
  const t = useT(dashboardsDict);
  const f = useFormat();
  const { data, error, loading } = useAsync((s) => api<{ kpis: Record<string, Kpi> }>('GET', 'analytics/kpis' + qs(q), undefined, s), [q.from, q.to]);
  return (
    <Section
      id="kpis"
      title={t('section.kpis')}
      actions={<ExportButton what={t('section.kpis')} filename="kpis" get={() => apiText('GET', 'analytics/kpis' + qs({ ...q, format: 'csv' }))} />}
    >
      <ErrorBanner error={error} />
      {loading && !data ? (
        <Loading />
      ) : (
        <div className="db-kpis">
          {STAGES.map((k) => {
            const v = data?.kpis[k];
            if (!v) return null;
            const d = v.definition;
            const def =
              k === 'reactivation'
                ? t('kpi.def.reactivation', { days: d.inactive_days ?? 30 })
                : t('kpi.def', { a: d.steps?.[0] ?? '', b: d.steps?.[1] ?? '', days: d.within?.days ?? 7 });
            const base = k === 'reactivation' ? v.active_users : v.users;
            const hit = k === 'reactivation' ? v.reactivated : v.converted;
            return (
              <article key={k} className="db-kpi" data-testid="kpi-card" tabIndex={0} aria-labelledby={`db-kpi-${k}`} title={`${f.num(hit)} / ${f.num(base)}`}>
                <h3 id={`db-kpi-${k}`}>{t('kpi.' + k)}</h3>
                <div className="db-kpi-value">{f.pct(v.rate)}</div>
                <div className="db-kpi-count">{t(k === 'reactivation' ? 'kpi.count.reactivation' : 'kpi.count', { hit: f.num(hit), base: f.num(base) })}</div>
                <p className="db-kpi-def">{def}</p>
              </article>
            );
          })}
        </div>
      )}
      <p className="muted small">{t('kpi.hint')}</p>
    </Section>
  );
}

// ---- messages: funnel, breakdown, daily --------------------------------------------------

const RATE_KEYS = ['open_rate', 'click_rate', 'click_to_open_rate', 'unsubscribe_rate', 'bounce_rate', 'complaint_rate'];

function sumRows(rows: Row[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rows) for (const [k, v] of Object.entries(r)) if (typeof v === 'number' && !k.endsWith('_rate')) out[k] = (out[k] || 0) + v;
  return out;
}

function MessagesSection({ q }: { q: Q }) {
  const t = useT(dashboardsDict);
  const f = useFormat();
  const [journey, setJourney] = useState('');
  const [by, setBy] = useState('channel');
  const journeys = useAsync((s) => api<{ data: Journey[] }>('GET', 'journeys?limit=1000', undefined, s), []);
  const totals = useAsync(
    async (s) => {
      const [m, a] = await Promise.all([
        api<{ data: Row[] }>('GET', 'analytics/messages' + qs({ ...q, by: journey ? 'journey' : 'channel', journey_id: journey || undefined }), undefined, s),
        api<{ data: Row[] }>('GET', 'analytics/attribution' + qs({ ...q, by: journey ? 'journey' : 'channel' }), undefined, s),
      ]);
      const att = journey ? a.data.filter((r) => r.key === journey) : a.data;
      return { m: sumRows(m.data), conversions: att.reduce((x, r) => x + n(r.conversions), 0), revenue: att.reduce((x, r) => x + n(r.revenue), 0) };
    },
    [q.from, q.to, journey],
  );
  const groupBy = !journey && (by === 'node' || by === 'variant') ? 'channel' : by;
  const breakdown = useAsync(
    (s) => api<{ data: Row[] }>('GET', 'analytics/messages' + qs({ ...q, by: groupBy, journey_id: journey || undefined }), undefined, s),
    [q.from, q.to, journey, groupBy],
  );
  const daily = useAsync(
    (s) => api<{ data: Row[] }>('GET', 'analytics/messages' + qs({ ...q, by: 'day', journey_id: journey || undefined }), undefined, s),
    [q.from, q.to, journey],
  );
  const stats = useAsync(
    (s) =>
      journey
        ? api<{ nodes: Record<string, { entered: number; waiting: number; exited: number; converted: number }> }>('GET', `journeys/${encodeURIComponent(journey)}/stats`, undefined, s)
        : Promise.resolve(null),
    [journey],
  );

  const m = totals.data?.m;
  const steps: FunnelStep[] = m
    ? [
        { label: t('m.sent'), value: n(m.unique_sent), extra: t('m.total', { n: f.num(m.sent) }) },
        // deliveries are known only from providers' webhooks: none at all means "not reported", not 0 %
        { label: t('m.delivered'), value: n(m.unique_delivered) || null, extra: t('m.deliveredHint') },
        { label: t('m.opened'), value: n(m.unique_opened), extra: t('m.machine', { n: f.num(m.unique_opened_machine) }) },
        { label: t('m.clicked'), value: n(m.unique_clicked), extra: t('m.machine', { n: f.num(m.unique_clicked_machine) }) },
        { label: t('m.converted'), value: totals.data!.conversions, extra: t('m.revenue', { n: f.num(totals.data!.revenue) }) },
      ]
    : [];
  const sent = m ? n(m.unique_sent) : 0;
  const rates = m
    ? [
        ['open_rate', n(m.unique_opened) / (sent || 1)],
        ['click_rate', n(m.unique_clicked) / (sent || 1)],
        ['click_to_open_rate', n(m.unique_clicked) / (n(m.unique_opened) || 1)],
        ['unsubscribe_rate', n(m.unique_unsubscribed) / (sent || 1)],
        ['bounce_rate', n(m.unique_bounced) / (sent || 1)],
        ['complaint_rate', n(m.unique_complained) / (sent || 1)],
      ]
    : [];

  // the daily chart: every UTC day of the range, zero where nothing was sent
  const chart = useMemo(() => {
    const rows = daily.data?.data || [];
    const byDay = new Map(rows.map((r) => [String(r.key).slice(0, 10), r]));
    const x: number[] = [];
    const cols = { sent: [] as number[], opened: [] as number[], clicked: [] as number[] };
    const start = Date.parse(q.from.slice(0, 10) + 'T00:00:00Z');
    const end = Date.parse(q.to.slice(0, 10) + 'T00:00:00Z');
    for (let d = start; d <= end; d += 86400000) {
      const r = byDay.get(new Date(d).toISOString().slice(0, 10));
      x.push(d / 1000);
      cols.sent.push(n(r?.unique_sent));
      cols.opened.push(n(r?.unique_opened));
      cols.clicked.push(n(r?.unique_clicked));
    }
    const series: ChartSeries[] = [
      { label: t('m.sent'), values: cols.sent, color: PALETTE[0] },
      { label: t('m.opened'), values: cols.opened, color: PALETTE[1] },
      { label: t('m.clicked'), values: cols.clicked, color: PALETTE[2] },
    ];
    return { x, series };
  }, [daily.data, q.from, q.to, t]);

  const cols = ['sent', 'delivered', 'opened', 'clicked', 'open_rate', 'click_rate', 'click_to_open_rate', 'unsubscribed', 'bounced', 'conversions', 'revenue'];
  const rows = breakdown.data?.data || [];
  const shownCols = cols.filter((c) => rows.some((r) => r[c] !== undefined && r[c] !== null));
  const journeyName = (id: string) => journeys.data?.data.find((j) => j.id === id)?.name || id;
  const groupLabel = (key: unknown) => {
    const k = String(key ?? '');
    if (groupBy === 'journey') return journeyName(k);
    if (groupBy === 'channel') return t('channel.' + k) !== 'channel.' + k ? t('channel.' + k) : k;
    if (groupBy === 'day') return k.slice(0, 10);
    return k || '—';
  };
  const messagesCsvQuery = qs({ ...q, by: groupBy, journey_id: journey || undefined, format: 'csv' });
  return (
    <Section
      id="messages"
      title={t('section.messages')}
      actions={
        <Field id="db-journey" label={t('m.journey')}>
          <select id="db-journey" value={journey} onChange={(e) => setJourney(e.target.value)}>
            <option value="">{t('m.allJourneys')}</option>
            {(journeys.data?.data || []).map((j) => (
              <option key={j.id} value={j.id}>
                {j.name} ({j.id})
              </option>
            ))}
          </select>
        </Field>
      }
    >
      <ErrorBanner error={totals.error || journeys.error} />
      <div className="db-two">
        <div>
          <div className="db-subhead">
            <h3>{journey ? t('m.funnelOf', { name: journeyName(journey) }) : t('m.funnelAll')}</h3>
            <ExportButton
              what={t('m.funnel')}
              filename={journey ? `funnel-${journey}` : 'funnel'}
              get={() =>
                toCsv(
                  steps.map((s, i) => ({
                    step: s.label,
                    count: s.value,
                    rate_from_previous: i ? (steps[i - 1].value ? (s.value || 0) / (steps[i - 1].value || 1) : 0) : 1,
                    rate_from_start: steps[0].value ? (s.value || 0) / (steps[0].value || 1) : 0,
                  })),
                )
              }
            />
          </div>
          {totals.loading && !m ? <Loading /> : <Funnel steps={steps} label={t('m.funnel')} />}
          {m && (
            <dl className="db-rates">
              {rates.map(([k, v]) => (
                <div key={k as string}>
                  <dt>{t('rate.' + k)}</dt>
                  <dd>{f.pct(v as number)}</dd>
                </div>
              ))}
            </dl>
          )}
          <p className="muted small">{t('m.hint', { days: 7 })}</p>
        </div>
        <div>
          <div className="db-subhead">
            <h3>{t('m.daily')}</h3>
            <ExportButton
              what={t('m.daily')}
              filename="messages-by-day"
              get={() => apiText('GET', 'analytics/messages' + qs({ ...q, by: 'day', journey_id: journey || undefined, format: 'csv' }))}
            />
          </div>
          <ErrorBanner error={daily.error} />
          {daily.loading && !daily.data ? <Loading /> : <Chart x={chart.x} series={chart.series} daily label={t('m.daily')} height={220} />}
          <p className="muted small">{t('m.utc')}</p>
        </div>
      </div>

      <div className="db-subhead">
        <h3>{t('m.breakdown')}</h3>
        <div className="db-actions">
          <label htmlFor="db-by" className="db-inline-label">
            {t('m.by')}
          </label>
          <select id="db-by" value={groupBy} onChange={(e) => setBy(e.target.value)}>
            {['channel', 'journey', 'template', 'day', ...(journey ? ['node', 'variant'] : [])].map((b) => (
              <option key={b} value={b}>
                {t('by.' + b)}
              </option>
            ))}
          </select>
          <ExportButton what={t('m.breakdown')} filename={`messages-by-${groupBy}`} get={() => apiText('GET', 'analytics/messages' + messagesCsvQuery)} />
        </div>
      </div>
      <ErrorBanner error={breakdown.error} />
      {breakdown.loading && !breakdown.data ? (
        <Loading />
      ) : rows.length === 0 ? (
        <p className="muted">{t('empty')}</p>
      ) : (
        <div className="db-scroll">
          <table>
            <thead>
              <tr>
                <th scope="col">{t('by.' + groupBy)}</th>
                {shownCols.map((c) => (
                  <th key={c} scope="col" className="num">
                    {t('col.' + c)}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={String(r.key)}>
                  <th scope="row">{groupLabel(r.key)}</th>
                  {shownCols.map((c) => (
                    <td key={c} className="num" title={c.endsWith('_rate') ? undefined : t('col.unique', { n: f.num(n(r['unique_' + c])) })}>
                      {RATE_KEYS.includes(c) || c.endsWith('_rate') ? f.pct(n(r[c])) : f.num(r[c] as number)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      {journey && (
        <>
          <div className="db-subhead">
            <h3>{t('m.steps')}</h3>
            <ExportButton
              what={t('m.steps')}
              filename={`journey-${journey}-steps`}
              get={() => toCsv(Object.entries(stats.data?.nodes || {}).map(([node, v]) => ({ node, ...v })), ['node', 'entered', 'waiting', 'exited', 'converted'])}
            />
          </div>
          <ErrorBanner error={stats.error} />
          {stats.data && <JourneySteps nodes={stats.data.nodes} />}
          <p className="muted small">{t('m.stepsHint')}</p>
        </>
      )}
    </Section>
  );
}

function JourneySteps({ nodes }: { nodes: Record<string, { entered: number; waiting: number; exited: number; converted: number }> }) {
  const t = useT(dashboardsDict);
  const f = useFormat();
  const list = Object.entries(nodes).sort((a, b) => b[1].entered - a[1].entered);
  const max = Math.max(1, ...list.map(([, v]) => v.entered));
  if (!list.length) return <p className="muted">{t('empty')}</p>;
  return (
    <div className="db-scroll">
      <table>
        <thead>
          <tr>
            <th scope="col">{t('col.node')}</th>
            <th scope="col">{t('col.entered')}</th>
            <th scope="col" className="num">
              {t('col.waiting')}
            </th>
            <th scope="col" className="num">
              {t('col.exited')}
            </th>
            <th scope="col" className="num">
              {t('col.converted')}
            </th>
          </tr>
        </thead>
        <tbody>
          {list.map(([node, v]) => (
            <tr key={node}>
              <th scope="row">
                <code>{node}</code>
              </th>
              <td className="db-barcell" title={f.num(v.entered)}>
                <span className="db-minibar" style={{ width: `${(v.entered / max) * 100}%` }} aria-hidden="true" />
                <span>{f.num(v.entered)}</span>
              </td>
              <td className="num">{f.num(v.waiting)}</td>
              <td className="num">{f.num(v.exited)}</td>
              <td className="num" title={v.entered ? f.pct(v.converted / v.entered) : undefined}>
                {f.num(v.converted)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

// ---- series --------------------------------------------------------------------------------

function SeriesSection({ q }: { q: Q }) {
  const t = useT(dashboardsDict);
  const [event, setEvent] = useState('Order Completed');
  const [input, setInput] = useState('Order Completed');
  const [interval, setIv] = useState<'hour' | 'day' | 'week'>('day');
  const { data, error, loading } = useAsync(
    (s) => api<{ data: { at: string; events: number; users: number }[] }>('GET', 'analytics/series' + qs({ ...q, event, interval }), undefined, s),
    [q.from, q.to, event, interval],
  );
  const chart = useMemo(() => {
    const pts = data?.data || [];
    return {
      x: pts.map((p) => Date.parse(p.at) / 1000),
      series: [
        { label: t('series.events'), values: pts.map((p) => p.events), color: PALETTE[0] },
        { label: t('series.users'), values: pts.map((p) => p.users), color: PALETTE[3] },
      ] as ChartSeries[],
    };
  }, [data, t]);
  const total = (data?.data || []).reduce((a, p) => a + p.events, 0);
  const f = useFormat();
  return (
    <Section
      id="series"
      title={t('section.series')}
      actions={<ExportButton what={t('section.series')} filename={`series-${event}-${interval}`} get={() => apiText('GET', 'analytics/series' + qs({ ...q, event, interval, format: 'csv' }))} />}
    >
      <form
        className="db-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (input.trim()) setEvent(input.trim());
        }}
      >
        <Field id="db-series-event" label={t('series.event')}>
          <input id="db-series-event" list="db-events" value={input} onChange={(e) => setInput(e.target.value)} onBlur={() => input.trim() && setEvent(input.trim())} />
        </Field>
        <Field id="db-series-interval" label={t('series.interval')}>
          <select id="db-series-interval" value={interval} onChange={(e) => setIv(e.target.value as 'hour' | 'day' | 'week')}>
            <option value="hour">{t('series.hour')}</option>
            <option value="day">{t('series.day')}</option>
            <option value="week">{t('series.week')}</option>
          </select>
        </Field>
        <button type="submit">{t('show')}</button>
      </form>
      <ErrorBanner error={error} />
      {loading && !data ? (
        <Loading />
      ) : (
        <>
          <p className="muted small">{t('series.total', { n: f.num(total), event })}</p>
          <Chart x={chart.x} series={chart.series} daily={interval !== 'hour'} label={t('series.label', { event })} testId="series-chart" height={260} />
        </>
      )}
    </Section>
  );
}

// ---- ad-hoc funnel -------------------------------------------------------------------------

type FunnelResp = { steps: { event: string; users: number; rate_from_previous: number; rate_from_start: number }[] };

function AdhocFunnel({ q }: { q: Q }) {
  const t = useT(dashboardsDict);
  const [steps, setSteps] = useState(['Email Sent', 'Email Opened', 'Email Link Clicked', 'Order Completed']);
  const [within, setWithin] = useState(7);
  const [unit, setUnit] = useState<'hours' | 'days' | 'weeks'>('days');
  const [result, setResult] = useState<FunnelResp | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [fieldErr, setFieldErr] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const body = () => ({ steps: steps.map((s) => s.trim()), within: { [unit]: within }, from: q.from, to: q.to });
  const run = async (e?: FormEvent) => {
    e?.preventDefault();
    setBusy(true);
    setError(null);
    setFieldErr({});
    try {
      setResult(await api<FunnelResp>('POST', 'analytics/funnel', body()));
    } catch (err) {
      const fe = err as { field?: string; message?: string };
      if (fe.field && (fe.field.startsWith('steps') || fe.field === 'within')) setFieldErr({ [fe.field]: fe.message || '' });
      else setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Section
      id="funnel"
      title={t('section.funnel')}
      actions={result && <ExportButton what={t('section.funnel')} filename="funnel" get={() => apiText('POST', 'analytics/funnel?format=csv', body())} />}
    >
      <form className="db-funnel-form" onSubmit={run}>
        <ol className="db-steps">
          {steps.map((s, i) => (
            <li key={i}>
              <Field id={`db-step-${i}`} label={t('funnel.step', { n: i + 1 })} error={fieldErr[`steps[${i}]`]}>
                <div className="db-step-row">
                  <input id={`db-step-${i}`} list="db-events" value={s} onChange={(e) => setSteps(steps.map((x, j) => (j === i ? e.target.value : x)))} required />
                  <button type="button" onClick={() => setSteps(steps.filter((_, j) => j !== i))} disabled={steps.length <= 2} aria-label={t('funnel.remove', { n: i + 1 })}>
                    ✕
                  </button>
                </div>
              </Field>
            </li>
          ))}
        </ol>
        {fieldErr.steps && (
          <div className="field-message" role="alert">
            {fieldErr.steps}
          </div>
        )}
        <div className="db-form">
          <button type="button" onClick={() => setSteps([...steps, ''])} disabled={steps.length >= 10}>
            {t('funnel.add')}
          </button>
          <Field id="db-within" label={t('funnel.within')} error={fieldErr.within}>
            <div className="db-step-row">
              <input id="db-within" type="number" min={1} max={100000} value={within} onChange={(e) => setWithin(Math.max(1, Number(e.target.value) || 1))} />
              <select aria-label={t('funnel.unit')} value={unit} onChange={(e) => setUnit(e.target.value as 'hours' | 'days' | 'weeks')}>
                <option value="hours">{t('unit.hours')}</option>
                <option value="days">{t('unit.days')}</option>
                <option value="weeks">{t('unit.weeks')}</option>
              </select>
            </div>
          </Field>
          <button type="submit" className="primary" disabled={busy}>
            {t('funnel.run')}
          </button>
        </div>
      </form>
      <ErrorBanner error={error} />
      {result && <Funnel steps={result.steps.map((s) => ({ label: s.event, value: s.users }))} label={t('section.funnel')} />}
      <p className="muted small">{t('funnel.hint')}</p>
    </Section>
  );
}

// ---- segments scoreboard -------------------------------------------------------------------

type SegRow = { segment_id: string; name: string; size: number; entered: number; events: number; users: number; rate: number };

function SegmentsSection({ q }: { q: Q }) {
  const t = useT(dashboardsDict);
  const f = useFormat();
  const [event, setEvent] = useState('Order Completed');
  const [input, setInput] = useState('Order Completed');
  const { data, error, loading } = useAsync((s) => api<{ data: SegRow[] }>('GET', 'analytics/segments' + qs({ ...q, event }), undefined, s), [q.from, q.to, event]);
  const rows = data?.data || [];
  const max = Math.max(1, ...rows.map((r) => r.size));
  return (
    <Section
      id="segments"
      title={t('section.segments')}
      actions={<ExportButton what={t('section.segments')} filename="segments" get={() => apiText('GET', 'analytics/segments' + qs({ ...q, event, format: 'csv' }))} />}
    >
      <form
        className="db-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (input.trim()) setEvent(input.trim());
        }}
      >
        <Field id="db-seg-event" label={t('segments.event')}>
          <input id="db-seg-event" list="db-events" value={input} onChange={(e) => setInput(e.target.value)} />
        </Field>
        <button type="submit">{t('show')}</button>
      </form>
      <ErrorBanner error={error} />
      {loading && !data ? (
        <Loading />
      ) : rows.length === 0 ? (
        <p className="muted">{t('segments.none')}</p>
      ) : (
        <div className="db-scroll">
          <table>
            <thead>
              <tr>
                <th scope="col">{t('col.segment')}</th>
                <th scope="col">{t('col.size')}</th>
                <th scope="col" className="num">
                  {t('col.entered')}
                </th>
                <th scope="col" className="num">
                  {t('col.events', { event })}
                </th>
                <th scope="col" className="num">
                  {t('col.users')}
                </th>
                <th scope="col" className="num">
                  {t('col.rate')}
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.segment_id}>
                  <th scope="row">
                    {r.name} <code className="muted small">{r.segment_id}</code>
                  </th>
                  <td className="db-barcell" title={f.num(r.size)}>
                    <span className="db-minibar" style={{ width: `${(r.size / max) * 100}%` }} aria-hidden="true" />
                    <span>{f.num(r.size)}</span>
                  </td>
                  <td className="num">{f.num(r.entered)}</td>
                  <td className="num">{f.num(r.events)}</td>
                  <td className="num">{f.num(r.users)}</td>
                  <td className="num" title={t('segments.rateHint', { users: f.num(r.users), size: f.num(r.size) })}>
                    {f.pct(r.rate)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <p className="muted small">{t('segments.hint')}</p>
    </Section>
  );
}

// ---- cohorts -------------------------------------------------------------------------------

type CohortRow = { cohort: number; start: string; users: number; returned: number[]; rates: number[] };

function CohortsSection({ q }: { q: Q }) {
  const t = useT(dashboardsDict);
  const f = useFormat();
  const [form, setForm] = useState({ first: 'Signed Up', again: 'Order Completed', period: 'week', periods: 8 });
  const [params, setParams] = useState(form);
  const query = { ...q, first: params.first, again: params.again, period: params.period, periods: params.periods };
  const { data, error, loading } = useAsync(
    (s) => api<{ data: CohortRow[] }>('GET', 'analytics/cohorts' + qs(query), undefined, s),
    [q.from, q.to, params.first, params.again, params.period, params.periods],
  );
  const rows = data?.data || [];
  const width = Math.max(0, ...rows.map((r) => r.rates.length));
  const { lang, timezone } = useLocale();
  const day = new Intl.DateTimeFormat(lang === 'ko' ? 'ko-KR' : 'en-GB', { timeZone: timezone || 'UTC', year: 'numeric', month: '2-digit', day: '2-digit' });
  return (
    <Section
      id="cohorts"
      title={t('section.cohorts')}
      actions={<ExportButton what={t('section.cohorts')} filename="cohorts" get={() => apiText('GET', 'analytics/cohorts' + qs({ ...query, format: 'csv' }))} />}
    >
      <form
        className="db-form"
        onSubmit={(e) => {
          e.preventDefault();
          setParams(form);
        }}
      >
        <Field id="db-co-first" label={t('cohorts.first')}>
          <input id="db-co-first" list="db-events" value={form.first} onChange={(e) => setForm({ ...form, first: e.target.value })} required />
        </Field>
        <Field id="db-co-again" label={t('cohorts.again')}>
          <input id="db-co-again" list="db-events" value={form.again} onChange={(e) => setForm({ ...form, again: e.target.value })} required />
        </Field>
        <Field id="db-co-period" label={t('cohorts.period')}>
          <select id="db-co-period" value={form.period} onChange={(e) => setForm({ ...form, period: e.target.value })}>
            <option value="day">{t('series.day')}</option>
            <option value="week">{t('series.week')}</option>
          </select>
        </Field>
        <Field id="db-co-periods" label={t('cohorts.periods')}>
          <input id="db-co-periods" type="number" min={1} max={52} value={form.periods} onChange={(e) => setForm({ ...form, periods: Math.min(52, Math.max(1, Number(e.target.value) || 1)) })} />
        </Field>
        <button type="submit">{t('show')}</button>
      </form>
      <ErrorBanner error={error} />
      {loading && !data ? (
        <Loading />
      ) : rows.length === 0 ? (
        <p className="muted">{t('empty')}</p>
      ) : (
        <div className="db-scroll">
          <table className="db-cohorts">
            <thead>
              <tr>
                <th scope="col">{t('cohorts.cohort')}</th>
                <th scope="col" className="num">
                  {t('col.users')}
                </th>
                {Array.from({ length: width }, (_, k) => (
                  <th key={k} scope="col" className="num">
                    {t(params.period === 'week' ? 'cohorts.week' : 'cohorts.day', { k })}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.cohort}>
                  <th scope="row">{day.format(new Date(r.start))}</th>
                  <td className="num">{f.num(r.users)}</td>
                  {Array.from({ length: width }, (_, k) => {
                    const rate = r.rates[k];
                    if (rate === undefined) return <td key={k} />;
                    return (
                      <td
                        key={k}
                        className="num db-heat"
                        style={{ background: `rgba(36, 86, 199, ${Math.min(0.45, rate * 0.45)})` }}
                        title={t('cohorts.cell', { n: f.num(r.returned[k]), users: f.num(r.users), p: f.pct(rate) })}
                      >
                        {f.pct(rate)}
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <p className="muted small">{t('cohorts.hint')}</p>
    </Section>
  );
}
