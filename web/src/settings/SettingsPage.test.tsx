import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { apiError, mockApi } from '../templates/testkit';
import SettingsPage from './SettingsPage';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const smsProvider = {
  id: 'prv_1', channel: 'sms', type: 'http', name: 'Aligo', priority: 0, disabled: false,
  config: { url: 'https://api.example/send' }, secrets: ['headers'], webhook_url: 'http://x/hooks/delivery/prv_1?s=abc',
  created_at: '2026-03-01T00:00:00.000Z', updated_at: '2026-03-01T00:00:00.000Z',
};

describe('Settings', () => {
  it('has a sub-navigation', () => {
    mockApi(() => ({ json: { data: [] } }));
    render(<SettingsPage path="/providers" />);
    const nav = screen.getByTestId('settings-nav');
    expect(within(nav).getAllByRole('link').map((a) => a.getAttribute('href'))).toEqual([
      '/settings/providers', '/settings/domains', '/settings/keys', '/settings/kill-switch', '/settings/tagging', '/settings/general',
    ]);
    expect(within(nav).getByText('Providers').getAttribute('aria-current')).toBe('page');
  });

  it('adds a provider with the fields of its type and shows a field error', async () => {
    const { calls } = mockApi(({ method, path, body }) => {
      if (method === 'GET' && path === 'providers') return { json: { data: [] } };
      if (method === 'POST' && path === 'providers') {
        if (!body.from) return apiError(422, 'invalid_provider', 'from is required: "Name <addr@domain>".', 'from');
        return { status: 201, json: { ...smsProvider, ...body, id: 'prv_2', config: {}, secrets: [] } };
      }
    });
    render(<SettingsPage path="/providers" />);
    fireEvent.click(await screen.findByTestId('btn-add-provider'));
    const form = screen.getByRole('form', { name: 'Add a provider' });
    expect(within(form).getByLabelText('Type', { selector: 'select' })).toHaveProperty('value', 'smtp');
    fireEvent.change(within(form).getByLabelText('URL *'), { target: { value: 'smtp://mx.example:587' } });
    fireEvent.change(within(form).getByLabelText('Password'), { target: { value: 'pw' } });
    fireEvent.click(within(form).getByText('Add provider'));
    expect(await within(form).findByText(/from is required/)).toBeTruthy();
    fireEvent.change(within(form).getByLabelText('From *'), { target: { value: 'Shop <news@shop.example>' } });
    fireEvent.click(within(form).getByText('Add provider'));
    await waitFor(() => expect(calls.filter((c) => c.method === 'POST')).toHaveLength(2));
    expect(calls.filter((c) => c.method === 'POST')[1].body).toEqual({
      channel: 'email', type: 'smtp', priority: 0, disabled: false, url: 'smtp://mx.example:587', from: 'Shop <news@shop.example>', password: 'pw',
    });
  });

  it('sends a test', async () => {
    const { calls } = mockApi(({ method, path }) => {
      if (method === 'GET' && path === 'providers') return { json: { data: [smsProvider] } };
      if (method === 'POST' && path === 'providers/prv_1/test') return { json: { ok: true, class: 'ok', status: 200, reply: '{"result":"ok"}', ms: 42 } };
    });
    render(<SettingsPage path="/providers" />);
    fireEvent.change(await screen.findByLabelText('Send a test to (phone)'), { target: { value: '010-1234-5678' } });
    fireEvent.click(screen.getByTestId('btn-send-test'));
    expect(await screen.findByText('Accepted.')).toBeTruthy();
    expect(calls.find((c) => c.path === 'providers/prv_1/test')!.body).toEqual({ to: '010-1234-5678' });
  });

  it('turns the global kill switch on at once', async () => {
    const { calls } = mockApi(({ method, path, body }) => {
      if (path === 'settings') return { json: { timezone: 'Asia/Seoul', kill_switch: { channels: ['sms'] } } };
      if (path.startsWith('journeys')) return { json: { data: [{ id: 'welcome', name: 'Welcome', status: 'live' }] } };
      if (path === 'messages/stats') return { json: { by_status: { held: 3 } } };
      if (method === 'PUT' && path === 'settings/kill_switch') return { json: { key: 'kill_switch', value: body.value } };
    });
    render(<SettingsPage path="/kill-switch" />);
    const sw = (await screen.findByTestId('kill-switch-global')) as HTMLInputElement;
    expect(sw.checked).toBe(false);
    fireEvent.click(sw);
    await waitFor(() => expect(calls.some((c) => c.method === 'PUT')).toBe(true));
    expect(calls.find((c) => c.method === 'PUT')!.body).toEqual({ value: { global: true, channels: ['sms'], journeys: [] } });
    await waitFor(() => expect(sw.checked).toBe(true));
  });

  it('lists tagging rules and saves an edited row whole', async () => {
    const rule = {
      id: 'hesitant', name: 'Hesitant', enabled: true,
      when: { event: 'Email Link Clicked', where: { property: 'link_kind', op: 'eq', value: 'purchase' } },
      unless: { event: 'Order Completed', within: { days: 3 } }, add: ['hesitant'], remove: [],
    };
    const { calls } = mockApi(({ method, path, body }) => {
      if (method === 'GET' && path.startsWith('tagging-rules')) return { json: { data: [rule], next_cursor: null } };
      if (method === 'PUT' && path === 'tagging-rules/hesitant') return { json: { ...rule, ...body } };
    });
    render(<SettingsPage path="/tagging" />);
    const table = await screen.findByTestId('tagging-table');
    expect(table.textContent).toContain('link_kind = "purchase"');
    expect(table.textContent).toContain('unless "Order Completed" within 3 days');
    fireEvent.click(within(table).getByText('Edit'));
    fireEvent.change(screen.getByLabelText('Within'), { target: { value: '5' } });
    fireEvent.change(screen.getByLabelText('Add tags'), { target: { value: 'hesitant, cart-risk' } });
    fireEvent.click(screen.getByText('Save'));
    await waitFor(() => expect(calls.some((c) => c.method === 'PUT')).toBe(true));
    expect(calls.find((c) => c.method === 'PUT')!.body).toEqual({
      name: 'Hesitant', enabled: true, add: ['hesitant', 'cart-risk'], remove: [],
      when: { event: 'Email Link Clicked', where: { property: 'link_kind', op: 'eq', value: 'purchase' } },
      unless: { event: 'Order Completed', within: { days: 5 } },
    });
  });

  it('says when the keys API is missing', async () => {
    mockApi(() => undefined);
    render(<SettingsPage path="/keys" />);
    expect(await screen.findByText(/does not have the keys API yet/)).toBeTruthy();
  });
});
