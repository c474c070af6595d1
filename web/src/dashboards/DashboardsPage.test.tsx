import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { mockApi } from '../templates/testkit';
import DashboardsPage from './DashboardsPage';

// uPlot draws on a canvas jsdom does not have; the wrapper's own logic is what is under test here
vi.mock('uplot', () => {
  class FakePlot {
    width = 600;
    constructor(_o: unknown, _d: unknown, el: HTMLElement) {
      el.appendChild(document.createElement('canvas'));
    }
    setSize() {}
    destroy() {}
    static tzDate(d: Date) {
      return d;
    }
  }
  return { default: FakePlot };
});

beforeAll(() => {
  vi.stubGlobal('ResizeObserver', class { observe() {} disconnect() {} });
  URL.createObjectURL = vi.fn(() => 'blob:x');
  URL.revokeObjectURL = vi.fn();
});
afterEach(() => cleanup());

const kpi = (users: number, converted: number, steps: string[], days: number) => ({ definition: { steps, within: { days } }, users, converted, rate: users ? converted / users : 0 });

describe('DashboardsPage', () => {
  it('shows KPI cards, the message funnel, the series chart, and exports CSV from the API', async () => {
    const { calls } = mockApi(({ path }) => {
      const p = path.split('?')[0];
      if (p === 'analytics/kpis' && path.includes('format=csv')) return { text: 'key,rate\r\nactivation,0.5\r\n' };
      if (p === 'analytics/kpis')
        return {
          json: {
            kpis: {
              activation: kpi(60, 30, ['Signed Up', 'Order Completed'], 7),
              engagement: kpi(61, 16, ['Email Sent', 'Email Link Clicked'], 3),
              conversion: kpi(44, 27, ['Product Added', 'Order Completed'], 3),
              retention: kpi(36, 19, ['Order Completed', 'Order Completed'], 30),
              reactivation: { definition: { inactive_days: 30 }, active_users: 63, reactivated: 0, rate: 0 },
            },
          },
        };
      if (p === 'journeys') return { json: { data: [{ id: 'welcome', name: 'Welcome', status: 'live' }] } };
      if (p === 'analytics/messages' && path.includes('by=day')) return { json: { data: [{ key: '2026-03-02T00:00:00.000Z', unique_sent: 5, unique_opened: 2, unique_clicked: 1 }] } };
      if (p === 'analytics/messages')
        return { json: { data: [{ key: 'email', sent: 120, unique_sent: 100, unique_delivered: 90, unique_opened: 40, unique_clicked: 10, open_rate: 0.4, click_rate: 0.1 }] } };
      if (p === 'analytics/attribution') return { json: { data: [{ key: 'email', conversions: 4, revenue: 100000 }] } };
      if (p === 'analytics/series') return { json: { data: [{ at: '2026-03-01T15:00:00.000Z', events: 3, users: 2 }] } };
      if (p === 'analytics/segments') return { json: { data: [] } };
      if (p === 'analytics/cohorts') return { json: { data: [] } };
    });
    render(<DashboardsPage path="/" />);
    await waitFor(() => expect(screen.getAllByTestId('kpi-card')).toHaveLength(5));
    expect(screen.getAllByTestId('kpi-card')[0].textContent).toContain('50%');
    expect(screen.getAllByTestId('kpi-card')[0].textContent).toContain('30 of 60 users');
    const funnel = (await screen.findAllByTestId('funnel'))[0];
    await waitFor(() => expect(funnel.querySelectorAll('li')).toHaveLength(5));
    expect(funnel.textContent).toContain('100');
    expect(funnel.textContent).toContain('4');
    expect(await screen.findByTestId('series-chart')).toBeTruthy();
    // the default range is 30 days ending today
    const kpiCall = calls.find((c) => c.path.startsWith('analytics/kpis'))!;
    const q = new URLSearchParams(kpiCall.path.split('?')[1]);
    expect((Date.parse(q.get('to')!) - Date.parse(q.get('from')!)) / 86400000).toBeCloseTo(30, 1);
    fireEvent.click(screen.getAllByTestId('btn-export-csv')[0]);
    await waitFor(() => expect(calls.some((c) => c.path.startsWith('analytics/kpis') && c.path.includes('format=csv'))).toBe(true));
  });
});
