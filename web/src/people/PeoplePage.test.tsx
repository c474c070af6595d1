import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import PeoplePage from './PeoplePage';

type Route = [string, RegExp, (body: any, url: string) => [number, unknown]];
function mockApi(routes: Route[]) {
  const calls: { method: string; url: string; body: any }[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init: RequestInit) => {
      const method = init?.method || 'GET';
      const body = init?.body ? JSON.parse(String(init.body)) : undefined;
      calls.push({ method, url, body });
      const r = routes.find(([m, re]) => m === method && re.test(url));
      const [status, json] = r ? r[2](body, url) : [404, { error: { code: 'not_found', message: 'nothing' } }];
      return new Response(JSON.stringify(json), { status, headers: { 'Content-Type': 'application/json' } });
    }),
  );
  return calls;
}
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const user = {
  id: 'u2', anonymous_ids: [], user_ids: ['u2'], traits: { email: 'kim@example.kr', name: '김철수', plan: 'free' },
  consent: { email: { status: 'unsubscribed', updated_at: '2026-03-01T00:00:00.000Z', source: 'admin' }, topics: { newsletter: { status: 'subscribed', updated_at: '2026-03-01T00:00:00.000Z', source: 'api' } } },
  tags: ['vip'], lifecycle_stage: 'mql', groups: [], computed: { order_count: 1, open_rate_30d: 0.5, rfm_score: '545' },
  segments: [{ id: 'free', name: 'Free plan', entered_at: '2026-03-01T00:00:00.000Z' }, { id: 'free-vip', name: 'Free VIPs', entered_at: '2026-03-02T00:00:00.000Z' }],
  first_seen: '2026-03-01T00:00:00.000Z', last_seen: '2026-03-02T00:00:00.000Z', created_at: '2026-03-01T00:00:00.000Z', updated_at: '2026-03-01T00:00:00.000Z',
};

describe('PeoplePage', () => {
  it('searches', async () => {
    history.replaceState(null, '', '/people');
    const calls = mockApi([['GET', /\/users\?/, (_b, url) => [200, { data: url.includes('q=kim') ? [user] : [], next_cursor: null }]]]);
    render(<PeoplePage path="/" />);
    fireEvent.change(screen.getByTestId('people-search'), { target: { value: 'kim' } });
    const rows = await screen.findAllByTestId('person-row');
    expect(rows).toHaveLength(1);
    expect(within(rows[0]).getByText('kim@example.kr')).toBeTruthy();
    expect(within(rows[0]).getByRole('link', { name: 'u2' }).getAttribute('href')).toBe('/people/u2');
    expect(calls.filter((c) => c.url.includes('q=k')).map((c) => c.url)).toEqual(['/api/v1/users?q=kim&limit=50']);
    expect(location.search).toBe('?q=kim');
  });

  it('shows the profile and the unified timeline', async () => {
    const calls = mockApi([
      ['GET', /\/users\/u2$/, () => [200, user]],
      ['GET', /\/users\/u2\/events/, () => [200, { data: [
        { type: 'tags', messageId: 't1', properties: { add: ['vip'] }, timestamp: '2026-03-02T05:00:00.000Z' },
        { type: 'consent', messageId: 'c1', properties: { email: 'unsubscribed', source: 'admin' }, timestamp: '2026-03-02T04:00:00.000Z' },
        { type: 'track', event: 'Email Opened', messageId: 'o1', properties: { message_id: 'm1' }, timestamp: '2026-03-02T03:00:00.000Z' },
        { type: 'track', event: 'Signed Up', messageId: 's1', timestamp: '2026-03-01T00:00:00.000Z' },
      ], next_cursor: null }]],
      ['GET', /\/messages\?user_id=u2/, () => [200, { data: [{ id: 'm1', channel: 'email', status: 'sent', created_at: '2026-03-02T02:00:00.000Z', content: { subject: 'Hello' } }], next_cursor: null }]],
      ['GET', /\/users\/u2\/journeys/, () => [200, { user_id: 'u2', steps: [{ journey_id: 'welcome', version: 1, node: 'hello', at: '2026-03-02T01:00:00.000Z', reason: 'sent email' }] }]],
    ]);
    render(<PeoplePage path="/u2" />);
    expect(await screen.findByRole('heading', { name: '김철수' })).toBeTruthy();
    const items = await screen.findAllByTestId('timeline-item');
    expect(items.map((i) => i.getAttribute('data-kind'))).toEqual(['tag', 'consent', 'event', 'message', 'journey', 'event']);
    expect(items[3].textContent).toContain('Email message sent — “Hello”');
    expect(items[4].textContent).toContain('welcome v1 · hello — sent email');
    fireEvent.click(screen.getByTestId('timeline-filter-event'));
    expect(screen.getAllByTestId('timeline-item').map((i) => i.getAttribute('data-kind'))).toEqual(['tag', 'consent', 'message', 'journey']);
    // consent per channel and topic
    expect(screen.getAllByTestId('consent-row').map((r) => r.textContent)).toEqual([expect.stringContaining('unsubscribed'), expect.stringContaining('# newsletter')]);
    expect(screen.getByTestId('lifecycle-stage').textContent).toBe('MQL');
    // segments: the profile names them
    expect(screen.getByTestId('user-segments').textContent).toContain('Free VIPs');
    expect(screen.getByRole('link', { name: 'Free VIPs' }).getAttribute('href')).toBe('/segments/free-vip');
    expect(calls.some((c) => c.url.endsWith('/evaluate'))).toBe(false);
  });

  it('changes tags with a reason; a refused reason is shown at its field and nothing changes', async () => {
    let tags = ['vip'];
    const calls = mockApi([
      ['GET', /\/users\/u2$/, () => [200, { ...user, tags }]],
      ['GET', /\/users\/u2\/events/, () => [200, { data: [], next_cursor: null }]],
      ['GET', /\/messages\?user_id=u2/, () => [200, { data: [], next_cursor: null }]],
      ['GET', /\/users\/u2\/journeys/, () => [200, { user_id: 'u2', steps: [] }]],
      ['POST', /\/users\/u2\/tags$/, (b) => {
        if (b.reason && b.reason.length > 10) return [422, { error: { code: 'invalid_reason', message: 'too long a reason', field: 'reason' } }];
        tags = [...tags.filter((x) => !b.remove.includes(x)), ...b.add];
        return [200, { ...user, tags }];
      }],
    ]);
    render(<PeoplePage path="/u2" />);
    const editor = await screen.findByTestId('tag-editor');
    fireEvent.click(within(editor).getByRole('button', { name: 'Remove the tag vip' }));
    fireEvent.change(within(editor).getByLabelText('Add a tag'), { target: { value: 'beta' } });
    fireEvent.change(within(editor).getByLabelText('Why (shown on the timeline)'), { target: { value: 'a reason much too long' } });
    fireEvent.click(within(editor).getByTestId('btn-change-tags'));
    expect(await within(editor).findByText('too long a reason')).toBeTruthy();
    expect(tags).toEqual(['vip']);
    fireEvent.change(within(editor).getByLabelText('Why (shown on the timeline)'), { target: { value: 'CS 요청' } });
    fireEvent.click(within(editor).getByTestId('btn-change-tags'));
    await screen.findByText('beta');
    const posts = calls.filter((c) => c.method === 'POST');
    expect(posts.at(-1)!.body).toEqual({ add: ['beta'], remove: ['vip'], reason: 'CS 요청' });
    expect(tags).toEqual(['beta']);
  });
});
