// The builder in jsdom against a fake API: loading, counts, selecting and
// renaming a node, adding from the palette, validation errors on nodes,
// save with draft_rev (and 409), simulation replay, publish.
import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { LocaleContext } from '../i18n';
import JourneysPage from './JourneysPage';

/* eslint-disable @typescript-eslint/no-explicit-any */
beforeAll(() => {
  class RO {
    cb: any;
    constructor(cb: any) {
      this.cb = cb;
    }
    observe(target: Element) {
      this.cb([{ target }], this);
    }
    unobserve() {}
    disconnect() {}
  }
  (globalThis as any).ResizeObserver = RO;
  class DOMMatrixReadOnly {
    m22: number;
    constructor(transform?: string) {
      const scale = transform?.match(/scale\(([1-9.]+)\)/)?.[1];
      this.m22 = scale !== undefined ? +scale : 1;
    }
  }
  (globalThis as any).DOMMatrixReadOnly = DOMMatrixReadOnly;
  Object.defineProperties(HTMLElement.prototype, {
    offsetHeight: { get() { return parseFloat(this.style.height) || 80; }, configurable: true },
    offsetWidth: { get() { return parseFloat(this.style.width) || 220; }, configurable: true },
  });
  (SVGElement.prototype as any).getBBox = () => ({ x: 0, y: 0, width: 0, height: 0 });
});

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

const definition = {
  name: 'Demo welcome',
  trigger: { type: 'event', event: 'Signed Up' },
  entry: { reentry: 'never' },
  start: 'hello',
  nodes: [
    { id: 'hello', type: 'send', channel: 'sms', template: { text: 'Hi' }, next: 'wait2' },
    { id: 'wait2', type: 'wait', duration: { days: 2 }, next: 'b' },
    { id: 'b', type: 'branch', branches: [{ when: { tag: 'vip' }, next: 'done' }], else: 'done' },
    { id: 'done', type: 'exit' },
  ],
  layout: { hello: { x: 0, y: 0 }, wait2: { x: 0, y: 150 }, b: { x: 0, y: 300 }, done: { x: 0, y: 450 } },
};

type Call = { method: string; url: string; body: any };

function fakeApi(opts: { status?: string; putStatus?: number } = {}) {
  const calls: Call[] = [];
  let rev = 1;
  let status = opts.status || 'live';
  const journey = () => ({ id: 'demo', name: 'Demo welcome', status, draft_rev: rev, live_version: 1, created_at: '2026-03-02T01:00:00.000Z', updated_at: '2026-03-02T01:00:00.000Z', definition, stats: {} });
  const json = (body: unknown, code = 200) => new Response(JSON.stringify(body), { status: code, headers: { 'Content-Type': 'application/json' } });
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init: RequestInit) => {
      const method = init?.method || 'GET';
      const body = init?.body ? JSON.parse(String(init.body)) : undefined;
      calls.push({ method, url, body });
      const path = url.replace('/api/v1/', '').split('?')[0];
      if (method === 'GET' && path === 'journeys/demo') return json(journey());
      if (method === 'GET' && path === 'journeys/demo/stats') return json({ id: 'demo', nodes: { hello: { entered: 12, waiting: 0, exited: 0, converted: 3 }, wait2: { entered: 12, waiting: 7, exited: 0, converted: 0 } }, versions: {} });
      if (method === 'PUT' && path === 'journeys/demo') {
        if (opts.putStatus === 409) return json({ error: { code: 'draft_changed', message: 'The draft changed.', field: 'draft_rev' } }, 409);
        rev++;
        return json(journey());
      }
      if (method === 'POST' && path === 'journeys/demo/validate')
        return json({ ok: false, problems: [{ node: 'b', field: 'definition.nodes[2].branches[0].when', code: 'condition_never_holds', message: 'Node "b": this can never be true.' }] });
      if (method === 'POST' && path === 'journeys/demo/simulate')
        return json({
          entered_at: '2026-03-02T10:00:00.000Z',
          path: [
            { node: 'hello', at: '2026-03-02T10:00:00.000Z', reason: 'sent sms inline message' },
            { node: 'wait2', at: '2026-03-02T10:00:00.000Z', reason: 'waiting 2 days' },
            { node: 'b', at: '2026-03-04T10:00:00.000Z', reason: 'else' },
            { node: 'done', at: '2026-03-04T10:00:00.000Z', reason: 'exit' },
          ],
          messages: [{ node: 'hello', channel: 'sms', at: '2026-03-02T10:00:00.000Z', template: null, variant: null, subject: null, body: 'Hi' }],
          converted_at: null,
          exited: 'exit node',
        });
      if (method === 'POST' && path === 'journeys/demo/pause') {
        status = 'paused';
        return json(journey());
      }
      if (method === 'POST' && path === 'templates/preview') return json({ rendered: { text: 'Hi' }, variables: { used: [], missing: [] } });
      return json({ error: { code: 'not_found', message: 'nothing here' } }, 404);
    }),
  );
  return calls;
}

function renderBuilder() {
  return render(
    <LocaleContext.Provider value={{ lang: 'en', setLang: () => {}, timezone: 'UTC' }}>
      <JourneysPage path="/demo" />
    </LocaleContext.Provider>,
  );
}

function nodeWrapper(id: string): HTMLElement {
  return screen.getByTestId('jnode-' + id).closest('.react-flow__node') as HTMLElement;
}

describe('the journey builder', () => {
  it('shows the nodes, the status and live counts', async () => {
    fakeApi();
    renderBuilder();
    expect(await screen.findByTestId('jnode-hello', {}, { timeout: 5000 })).toBeTruthy();
    expect(screen.getByTestId('jnode-done')).toBeTruthy();
    expect(screen.getByTestId('journey-status').textContent).toBe('Live');
    await waitFor(() => expect(screen.getByTestId('count-entered-hello').textContent).toBe('12'));
    expect(screen.getByTestId('count-waiting-wait2').textContent).toBe('7');
    expect(screen.getByTestId('count-converted-hello').textContent).toBe('3');
    expect(screen.getByTestId('count-entered-done').textContent).toBe('0');
    expect(screen.getByTestId('btn-pause')).toBeTruthy();
    for (const t of ['send', 'wait', 'wait_event', 'branch', 'split', 'update', 'webhook', 'slack', 'goal', 'exit']) expect(screen.getByTestId('palette-' + t)).toBeTruthy();
  });

  it('edits a node in the side panel and saves the definition with draft_rev', async () => {
    const calls = fakeApi({ status: 'draft' });
    renderBuilder();
    await screen.findByTestId('jnode-wait2', {}, { timeout: 5000 });
    fireEvent.click(nodeWrapper('wait2'));
    const panel = await screen.findByTestId('node-panel');
    const id = within(panel).getByLabelText('Node id') as HTMLInputElement;
    expect(id.value).toBe('wait2');
    fireEvent.change(id, { target: { value: 'pause-2d' } });
    expect(await screen.findByTestId('jnode-pause-2d')).toBeTruthy();
    fireEvent.change(within(panel).getByLabelText('Wait for: days'), { target: { value: '3' } });
    fireEvent.click(screen.getByTestId('btn-save'));
    await waitFor(() => expect(calls.some((c) => c.method === 'PUT')).toBe(true));
    const put = calls.find((c) => c.method === 'PUT')!;
    expect(put.body.draft_rev).toBe(1);
    const nodes = put.body.definition.nodes;
    expect(nodes.find((n: any) => n.id === 'hello').next).toBe('pause-2d');
    expect(nodes.find((n: any) => n.id === 'pause-2d')).toEqual({ id: 'pause-2d', type: 'wait', duration: { days: 3 }, next: 'b' });
    expect(put.body.definition.layout['pause-2d']).toEqual({ x: 0, y: 150 });
    expect(put.body.definition.start).toBe('hello');
  });

  it('adds a node from the palette by keyboard (Enter = click) and connects it from the panel', async () => {
    const calls = fakeApi({ status: 'draft' });
    renderBuilder();
    await screen.findByTestId('jnode-hello', {}, { timeout: 5000 });
    fireEvent.click(screen.getByTestId('palette-slack'));
    expect(await screen.findByTestId('jnode-slack-1')).toBeTruthy();
    const panel = await screen.findByTestId('node-panel');
    fireEvent.change(within(panel).getByLabelText('Next step'), { target: { value: 'done' } });
    fireEvent.click(screen.getByTestId('btn-save'));
    await waitFor(() => expect(calls.some((c) => c.method === 'PUT')).toBe(true));
    const put = calls.find((c) => c.method === 'PUT')!;
    expect(put.body.definition.nodes.at(-1)).toEqual({ id: 'slack-1', type: 'slack', channel: '#general', text: 'New: {{ user.id }}', next: 'done' });
  });

  it('shows validation problems on their node', async () => {
    fakeApi({ status: 'draft' });
    renderBuilder();
    await screen.findByTestId('jnode-b', {}, { timeout: 5000 });
    fireEvent.click(screen.getByTestId('btn-validate'));
    const err = await screen.findByTestId('node-error-b');
    expect(err.textContent).toContain('never be true');
    expect(nodeWrapper('b').querySelector('.jnode')!.className).toContain('has-error');
  });

  it('tells the user when the draft changed elsewhere (409)', async () => {
    fakeApi({ status: 'draft', putStatus: 409 });
    renderBuilder();
    await screen.findByTestId('jnode-b', {}, { timeout: 5000 });
    fireEvent.click(screen.getByTestId('btn-save'));
    const c = await screen.findByTestId('conflict');
    expect(within(c).getByRole('button', { name: 'Reload' })).toBeTruthy();
  });

  it('simulates and replays the path step by step', async () => {
    const calls = fakeApi({ status: 'draft' });
    renderBuilder();
    await screen.findByTestId('jnode-hello', {}, { timeout: 5000 });
    fireEvent.click(screen.getByTestId('btn-simulate'));
    const dialog = await screen.findByRole('dialog');
    expect((within(dialog).getByLabelText('Event 1: name') as HTMLInputElement).value).toBe('Signed Up');
    fireEvent.click(within(dialog).getByTestId('btn-sim-run'));
    await waitFor(() => expect(screen.getAllByTestId('sim-step')).toHaveLength(4));
    const sim = calls.find((c) => c.url.endsWith('/simulate'))!;
    expect(sim.body.events[0].event).toBe('Signed Up');
    expect(sim.body.definition.nodes).toHaveLength(4);
    const pause = screen.queryByTestId('btn-sim-pause');
    if (pause) fireEvent.click(pause);
    fireEvent.click(screen.getByRole('button', { name: 'Restart' }));
    expect(screen.getAllByTestId('sim-step').map((s) => s.dataset.state)).toEqual(['pending', 'pending', 'pending', 'pending']);
    fireEvent.click(screen.getByTestId('btn-sim-step'));
    await waitFor(() => expect(screen.getByTestId('jnode-hello').dataset.sim).toBe('current'));
    fireEvent.click(screen.getByTestId('btn-sim-step'));
    await waitFor(() => expect(screen.getByTestId('jnode-wait2').dataset.sim).toBe('current'));
    expect(screen.getByTestId('jnode-hello').dataset.sim).toBe('done');
    expect(screen.getAllByTestId('sim-step').map((s) => s.dataset.state)).toEqual(['done', 'current', 'pending', 'pending']);
    expect(screen.getAllByTestId('sim-step')[0].textContent).toContain('sent sms inline message');
    fireEvent.click(screen.getByTestId('btn-sim-all'));
    await waitFor(() => expect(screen.getByTestId('jnode-done').dataset.sim).toBe('current'));
  });

  it('pauses a live journey', async () => {
    const calls = fakeApi({ status: 'live' });
    renderBuilder();
    await screen.findByTestId('jnode-hello', {}, { timeout: 5000 });
    await act(async () => {
      fireEvent.click(screen.getByTestId('btn-pause'));
    });
    await waitFor(() => expect(screen.getByTestId('journey-status').textContent).toBe('Paused'));
    expect(calls.some((c) => c.method === 'POST' && c.url.endsWith('/pause'))).toBe(true);
    expect(screen.getByTestId('btn-resume')).toBeTruthy();
  });
});
