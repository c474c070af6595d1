import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import SegmentsPage from './SegmentsPage';

type Route = [string, RegExp, (body: any, url: string) => [number, unknown]];
function mockApi(routes: Route[]) {
  const calls: { method: string; url: string; body: any }[] = [];
  const f = vi.fn(async (url: string, init: RequestInit) => {
    const method = init?.method || 'GET';
    const body = init?.body ? JSON.parse(String(init.body)) : undefined;
    calls.push({ method, url, body });
    const r = routes.find(([m, re]) => m === method && re.test(url));
    const [status, json] = r ? r[2](body, url) : [404, { error: { code: 'not_found', message: 'nothing' } }];
    return new Response(JSON.stringify(json), { status, headers: { 'Content-Type': 'application/json' } });
  });
  vi.stubGlobal('fetch', f);
  return calls;
}

beforeEach(() => history.replaceState(null, '', '/segments/new'));
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('SegmentsPage', () => {
  it('lists segments with their size', async () => {
    mockApi([['GET', /\/segments\?/, () => [200, { data: [{ id: 'vip', name: 'VIP', condition: { tag: 'vip' }, size: 1234, created_at: '', updated_at: '' }], next_cursor: null }]]]);
    render(<SegmentsPage path="/" />);
    expect(await screen.findByText('VIP')).toBeTruthy();
    expect(screen.getByText('1,234')).toBeTruthy();
  });

  it('counts live as the condition is edited, and saves', async () => {
    let saveAnswer: [number, unknown] = [422, { error: { code: 'invalid_condition', field: 'condition.value', message: 'Not that value.' } }];
    const calls = mockApi([
      ['POST', /segments\/preview$/, () => [200, { count: 2, sample: ['u1', 'u2'] }]],
      ['POST', /segments$/, () => saveAnswer],
      ['GET', /segments/, () => [200, { data: [], next_cursor: null }]],
    ]);
    render(<SegmentsPage path="/new" />);
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'Pro' } });
    fireEvent.click(screen.getByTestId('cond-add-rule'));
    fireEvent.change(screen.getByLabelText('Trait name'), { target: { value: 'plan' } });
    fireEvent.change(screen.getByLabelText('Value'), { target: { value: 'pro' } });
    await waitFor(() => expect(screen.getByTestId('segment-live-count').textContent).toContain('2'));
    const previews = calls.filter((c) => c.url.endsWith('segments/preview'));
    expect(previews).toHaveLength(1); // debounced: one question for the last edit
    expect(previews[0].body).toEqual({ condition: { trait: 'plan', op: 'eq', value: 'pro' } });
    expect(screen.getByRole('link', { name: 'u2' }).getAttribute('href')).toBe('/people/u2');

    // refused: the message goes to the rule it names, nothing navigates
    fireEvent.click(screen.getByTestId('btn-save-segment'));
    expect(await screen.findByText('Not that value.')).toBeTruthy();
    expect(screen.getByLabelText('Value').getAttribute('aria-invalid')).toBe('true');
    expect(location.pathname).toBe('/segments/new');

    saveAnswer = [409, { error: { code: 'segment_exists', field: 'id', message: 'Taken.' } }];
    fireEvent.click(screen.getByTestId('btn-save-segment'));
    expect(await screen.findByText('Taken.')).toBeTruthy();

    saveAnswer = [201, { id: 'pro', name: 'Pro', condition: { trait: 'plan', op: 'eq', value: 'pro' }, size: 2, created_at: '', updated_at: '' }];
    fireEvent.click(screen.getByTestId('btn-save-segment'));
    await waitFor(() => expect(location.pathname).toBe('/segments/pro'));
    const saves = calls.filter((c) => c.method === 'POST' && c.url.endsWith('/segments'));
    expect(saves.at(-1)!.body).toEqual({ name: 'Pro', condition: { trait: 'plan', op: 'eq', value: 'pro' } });
  });

  it('does not send an incomplete condition', async () => {
    const calls = mockApi([['GET', /segments/, () => [200, { data: [], next_cursor: null }]]]);
    render(<SegmentsPage path="/new" />);
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'X' } });
    fireEvent.click(screen.getByTestId('cond-add-rule'));
    fireEvent.click(screen.getByTestId('btn-save-segment'));
    expect(await screen.findByText('Fix the problems marked in the condition first.')).toBeTruthy();
    await new Promise((r) => setTimeout(r, 400));
    expect(calls.filter((c) => c.method === 'POST')).toEqual([]);
    expect(screen.getByTestId('segment-live-count').getAttribute('data-status')).toBe('incomplete');
  });
});
