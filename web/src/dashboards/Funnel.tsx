// Funnel.tsx — a funnel as horizontal bars (HTML): each step's count, its
// share of the first step, and on hover or focus the step-to-step rate.
import { useId } from 'react';
import { useFormat, useT } from '../i18n';
import { dashboardsDict } from './dashboards.i18n';

export type FunnelStep = { label: string; value: number | null; extra?: string };

export function Funnel({ steps, label }: { steps: FunnelStep[]; label: string }) {
  const t = useT(dashboardsDict);
  const f = useFormat();
  const id = useId();
  const first = steps[0]?.value || 0;
  const max = Math.max(1, ...steps.map((s) => s.value || 0));
  return (
    <ol className="db-funnel" data-testid="funnel" aria-label={label}>
      {steps.map((s, i) => {
        const v = s.value || 0;
        // the step before with a number (an unknown step, such as deliveries nobody reports, is skipped)
        let pi = i - 1;
        while (pi > 0 && steps[pi].value === null) pi--;
        const prev = pi >= 0 ? steps[pi].value || 0 : 0;
        const fromStart = first ? v / first : 0;
        const fromPrev = prev ? v / prev : 0;
        const tipId = `${id}-${i}`;
        return (
          <li key={i} className="db-funnel-step" tabIndex={0} aria-describedby={tipId}>
            <span className="db-funnel-label">{s.label}</span>
            <span className="db-funnel-track" aria-hidden="true">
              <span className="db-funnel-bar" style={{ width: `${(v / max) * 100}%` }} />
            </span>
            <span className="db-funnel-num">{s.value === null ? '–' : f.num(v)}</span>
            <span className="db-funnel-rate">{i === 0 || s.value === null ? '' : f.pct(fromStart)}</span>
            <span role="tooltip" id={tipId} className="db-tip">
              <b>{s.label}</b>: {s.value === null ? '–' : f.num(v)}
              {i > 0 && s.value !== null && (
                <>
                  <br />
                  {t('funnel.fromPrev', { p: f.pct(fromPrev), step: steps[pi].label })}
                  <br />
                  {t('funnel.fromStart', { p: f.pct(fromStart) })}
                </>
              )}
              {s.extra && (
                <>
                  <br />
                  {s.extra}
                </>
              )}
            </span>
          </li>
        );
      })}
    </ol>
  );
}
