import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import TemplatesPage from './TemplatesPage';
import { apiError, mockApi } from './testkit';

const sms = {
  id: 'ship-sms', name: 'Shipping', channel: 'sms', locale: null, version: 3,
  body: { text: '{{ user.first_name }}님, 출발했어요' },
  created_at: '2026-03-01T00:00:00.000Z', updated_at: '2026-03-02T00:00:00.000Z', archived_at: null,
};

beforeEach(() => {
  history.replaceState(null, '', '/templates/ship-sms');
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('TemplateEditor', () => {
  it('previews the draft, counts SMS bytes and saves a new version', async () => {
    const { calls } = mockApi(({ method, path, body }) => {
      if (method === 'GET' && path === 'templates/ship-sms') return { json: sms };
      if (method === 'GET' && path.startsWith('templates/ship-sms/versions')) return { json: { data: [], next_cursor: null } };
      if (method === 'POST' && path === 'templates/preview') return { json: { rendered: { text: body.body.text.replace('{{ user.first_name }}', '지민') }, variables: { used: ['user.first_name'], missing: [] }, filters: { unknown: [] } } };
      if (method === 'PUT' && path === 'templates/ship-sms') return { json: { ...sms, version: 4, body: body.body } };
    });
    render(<TemplatesPage path="/ship-sms" />);
    const ta = (await screen.findByTestId('template-body')) as HTMLTextAreaElement;
    expect(ta.value).toBe(sms.body.text);
    await waitFor(() => expect(screen.getByTestId('sms-bytes').textContent).toBe('18 / 90 bytes'), { timeout: 3000 });
    fireEvent.change(ta, { target: { value: 'a'.repeat(91) } });
    await waitFor(() => expect(screen.getByTestId('sms-bytes').textContent).toBe('91 / 2000 bytes'), { timeout: 3000 });
    expect(screen.getByTestId('template-preview').textContent).toContain('LMS');
    fireEvent.click(screen.getByTestId('btn-save-template'));
    await screen.findByText('Saved as version 4.');
    const put = calls.find((c) => c.method === 'PUT')!;
    expect(put.body).toEqual({ name: 'Shipping', channel: 'sms', locale: null, body: { text: 'a'.repeat(91) }, version: 3 });
  });

  it('shows a stale save as a conflict and writes nothing until asked', async () => {
    let puts = 0;
    mockApi(({ method, path, body }) => {
      if (method === 'GET' && path === 'templates/ship-sms') return { json: puts ? { ...sms, version: 5 } : sms };
      if (method === 'GET' && path.startsWith('templates/ship-sms/versions')) return { json: { data: [], next_cursor: null } };
      if (method === 'POST' && path === 'templates/preview') return { json: { rendered: { text: 'x' }, variables: { used: [], missing: [] }, filters: { unknown: [] } } };
      if (method === 'PUT') {
        puts++;
        if (body.version === 3) return apiError(409, 'version_conflict', 'Version 5 was saved since.', 'version');
        return { json: { ...sms, version: 6, body: body.body } };
      }
    });
    render(<TemplatesPage path="/ship-sms" />);
    const ta = await screen.findByTestId('template-body');
    fireEvent.change(ta, { target: { value: 'changed' } });
    fireEvent.click(screen.getByTestId('btn-save-template'));
    await screen.findByText(/Someone saved version 5 after you opened version 3/);
    fireEvent.click(screen.getByText('Save mine as the next version anyway'));
    await screen.findByText('Saved as version 6.');
    expect(puts).toBe(2);
  });

  it('puts an API error at its field', async () => {
    history.replaceState(null, '', '/templates/new?channel=email');
    const { calls } = mockApi(({ method, path }) => {
      if (method === 'POST' && path === 'templates/preview') return { json: { rendered: {}, variables: { used: [], missing: [] }, filters: { unknown: [] } } };
      if (method === 'POST' && path === 'templates') return apiError(422, 'template_syntax', "Liquid syntax error (line 1, column 4): 'endif' without a matching 'if'.", 'body.subject');
    });
    render(<TemplatesPage path="/new" />);
    fireEvent.change(screen.getByLabelText('Name *'), { target: { value: 'Welcome' } });
    fireEvent.change(screen.getByLabelText('Subject *'), { target: { value: 'Hi {% endif %}' } });
    fireEvent.change(screen.getByTestId('template-body'), { target: { value: '<p>Hi</p>' } });
    await act(async () => {
      fireEvent.click(screen.getByTestId('btn-save-template'));
    });
    const msg = await screen.findByText(/without a matching 'if'/);
    expect(msg.closest('.field')?.querySelector('label')?.textContent).toBe('Subject *');
    const post = calls.find((c) => c.method === 'POST' && c.path === 'templates')!;
    expect(post.body).toMatchObject({ name: 'Welcome', channel: 'email', body: { subject: 'Hi {% endif %}', html: '<p>Hi</p>' } });
    expect(post.body.id).toBeUndefined();
  });
});
