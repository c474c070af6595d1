// Chart.tsx — the one wrapper around uPlot (tiny and fast): time series as
// lines, times in the workspace's zone, the values under the cursor in a
// tooltip and the legend, and the same numbers as a table for screen
// readers and keyboard users.
import { useEffect, useMemo, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { useFormat, useLocale, useT } from '../i18n';
import { dashboardsDict } from './dashboards.i18n';

export type ChartSeries = { label: string; values: (number | null)[]; color: string };

export const PALETTE = ['#2456c7', '#1e7b34', '#b35900', '#8e24aa', '#b3261e', '#00838f'];

type Props = {
  /** unix seconds */
  x: number[];
  series: ChartSeries[];
  height?: number;
  /** whether the x values are days (labels without the time) */
  daily?: boolean;
  label: string;
  testId?: string;
};

function tooltipPlugin(render: (u: uPlot, idx: number) => string): uPlot.Plugin {
  let tip: HTMLDivElement;
  return {
    hooks: {
      init: (u) => {
        tip = document.createElement('div');
        tip.className = 'db-tooltip';
        tip.style.display = 'none';
        u.over.appendChild(tip);
        u.over.addEventListener('mouseleave', () => (tip.style.display = 'none'));
      },
      setCursor: (u) => {
        const idx = u.cursor.idx;
        if (idx === null || idx === undefined || u.cursor.left === undefined || u.cursor.left < 0) {
          tip.style.display = 'none';
          return;
        }
        tip.innerHTML = render(u, idx);
        tip.style.display = 'block';
        const w = u.over.clientWidth;
        const left = u.cursor.left;
        tip.style.left = (left > w / 2 ? left - tip.offsetWidth - 12 : left + 12) + 'px';
        tip.style.top = Math.max(0, (u.cursor.top || 0) - 10) + 'px';
      },
    },
  };
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

export function Chart({ x, series, height = 240, daily, label, testId }: Props) {
  const t = useT(dashboardsDict);
  const f = useFormat();
  const { lang, timezone } = useLocale();
  const wrap = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const fmtX = useMemo(() => {
    const df = new Intl.DateTimeFormat(lang === 'ko' ? 'ko-KR' : 'en-GB', {
      timeZone: timezone || 'UTC',
      month: '2-digit',
      day: '2-digit',
      ...(daily ? { weekday: 'short' } : { hour: '2-digit', minute: '2-digit', hour12: false }),
    });
    return (s: number) => df.format(new Date(s * 1000));
  }, [lang, timezone, daily]);

  useEffect(() => {
    const el = wrap.current;
    if (!el) return;
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), timezone || 'UTC'),
      scales: { x: { time: true }, y: { range: (_u, min, max) => [Math.min(0, min), max > 0 ? max * 1.1 : 1] } },
      series: [
        { label: t('chart.time'), value: (_u, v) => (v === null ? '–' : fmtX(v)) },
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: 2,
          fill: s.color + '1a',
          points: { show: x.length <= 62, size: 5 },
          value: (_u: uPlot, v: number | null) => f.num(v, 2),
        })),
      ],
      axes: [
        { stroke: '#5a6472', grid: { stroke: '#e6e9ee' }, ticks: { stroke: '#d5dae1' } },
        { stroke: '#5a6472', grid: { stroke: '#e6e9ee' }, ticks: { stroke: '#d5dae1' }, values: (_u, vals) => vals.map((v) => f.num(v, 2)), size: 56 },
      ],
      legend: { show: true, live: true },
      cursor: { points: { size: 8 }, drag: { x: false, y: false } },
      plugins: [
        tooltipPlugin((u, idx) => {
          const rows = series
            .map((s, i) => `<div><span class="db-swatch" style="background:${s.color}"></span>${esc(s.label)}: <b>${f.num(u.data[i + 1][idx] as number, 2)}</b></div>`)
            .join('');
          return `<div class="db-tooltip-x">${esc(fmtX(u.data[0][idx] as number))}</div>${rows}`;
        }),
      ],
    };
    const u = new uPlot(opts, [x, ...series.map((s) => s.values)] as uPlot.AlignedData, el);
    plot.current = u;
    const ro = new ResizeObserver(() => {
      const w = el.clientWidth;
      if (w > 0 && Math.abs(w - u.width) > 1) u.setSize({ width: w, height });
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [x, series, height, timezone, fmtX, f, t]);

  return (
    <figure className="db-chart" data-testid={testId} aria-label={label}>
      <div ref={wrap} className="db-chart-canvas" role="img" aria-label={label} />
      <details className="db-chart-table">
        <summary>{t('chart.asTable')}</summary>
        <div className="db-scroll">
          <table>
            <caption className="sr-only">{label}</caption>
            <thead>
              <tr>
                <th scope="col">{t('chart.time')}</th>
                {series.map((s) => (
                  <th key={s.label} scope="col" className="num">
                    {s.label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {x.map((v, i) => (
                <tr key={v}>
                  <th scope="row">{fmtX(v)}</th>
                  {series.map((s) => (
                    <td key={s.label} className="num">
                      {f.num(s.values[i], 2)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}
