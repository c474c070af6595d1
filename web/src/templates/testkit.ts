// testkit.ts — for component tests: a fetch that answers /api/v1 calls
// from a handler and records them. (Test-only; imported by *.test.tsx.)
import { vi } from 'vitest';

export type Call = { method: string; path: string; body: any };
export type Reply = { status?: number; json?: unknown; text?: string } | undefined;

export function mockApi(handler: (c: Call) => Reply | Promise<Reply>) {
  const calls: Call[] = [];
  const fetchMock = vi.fn(async (url: string, init?: RequestInit) => {
    const u = new URL(url, 'http://localhost');
    const c: Call = {
      method: init?.method || 'GET',
      path: u.pathname.replace(/^\/api\/v1\//, '') + u.search,
      body: init?.body ? JSON.parse(String(init.body)) : undefined,
    };
    calls.push(c);
    const r = (await handler(c)) || { status: 404, json: { error: { code: 'not_found', message: 'nothing at ' + c.path } } };
    const status = r.status ?? 200;
    const body = r.text ?? JSON.stringify(r.json ?? {});
    return new Response(status === 204 ? null : body, { status, headers: { 'Content-Type': r.text !== undefined ? 'text/csv' : 'application/json' } });
  });
  vi.stubGlobal('fetch', fetchMock);
  return { calls, fetchMock };
}

export const apiError = (status: number, code: string, message: string, field?: string): Reply => ({ status, json: { error: { code, message, field } } });
