// SizeChart — a segment's size per day as a small inline SVG line (no chart library).
export type SizePoint = { date: string; size: number };

export function SizeChart({ data, label, fmt }: { data: SizePoint[]; label: string; fmt: (n: number) => string }) {
  const W = 640, H = 140, L = 48, R = 12, T = 10, B = 24;
  if (!data.length) return null;
  const max = Math.max(...data.map((d) => d.size), 1);
  const min = Math.min(...data.map((d) => d.size), 0);
  const span = max - min || 1;
  const x = (i: number) => L + (data.length === 1 ? (W - L - R) / 2 : (i * (W - L - R)) / (data.length - 1));
  const y = (v: number) => T + (H - T - B) * (1 - (v - min) / span);
  const pts = data.map((d, i) => `${x(i).toFixed(1)},${y(d.size).toFixed(1)}`).join(' ');
  const area = `${x(0).toFixed(1)},${y(min)} ${pts} ${x(data.length - 1).toFixed(1)},${y(min)}`;
  const last = data[data.length - 1];
  return (
    <svg className="size-chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={label}>
      <title>{label}</title>
      <line x1={L} x2={W - R} y1={y(min)} y2={y(min)} className="axis" />
      <line x1={L} x2={W - R} y1={y(max)} y2={y(max)} className="grid" />
      <text x={L - 6} y={y(max) + 4} textAnchor="end">{fmt(max)}</text>
      <text x={L - 6} y={y(min) + 4} textAnchor="end">{fmt(min)}</text>
      <text x={L} y={H - 6}>{data[0].date}</text>
      {data.length > 1 && <text x={W - R} y={H - 6} textAnchor="end">{last.date}</text>}
      <polygon points={area} className="area" />
      <polyline points={pts} className="line" />
      {data.length <= 120 &&
        data.map((d, i) => (
          <circle key={d.date} cx={x(i)} cy={y(d.size)} r={data.length > 40 ? 1.5 : 2.5} className="dot">
            <title>{`${d.date}: ${fmt(d.size)}`}</title>
          </circle>
        ))}
    </svg>
  );
}
