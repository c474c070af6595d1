// api.ts — the one way the app talks to cairn: the management API under
// /api/v1 with the session cookie, and the CSRF token on every change.
// Errors come back as ApiError carrying the server's code, message and field
// (CONVENTIONS §2), so a form can show the message at the field.

export class ApiError extends Error {
  status: number;
  code: string;
  field?: string;
  /** The whole error object, for answers that carry more (a publish's "problems"). */
  detail?: Record<string, any>;
  constructor(status: number, code: string, message: string, field?: string, detail?: Record<string, any>) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field || undefined;
    this.detail = detail;
  }
}

let csrfToken = '';
let onUnauthorized: (() => void) | null = null;

export function setCsrf(token: string) {
  csrfToken = token;
}
export function setUnauthorizedHandler(fn: () => void) {
  onUnauthorized = fn;
}

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

async function request(method: Method, path: string, body?: unknown, signal?: AbortSignal): Promise<Response> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (method !== 'GET') headers['X-CSRF-Token'] = csrfToken;
  let payload: BodyInit | undefined;
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const url = path.startsWith('/') ? path : `/api/v1/${path}`;
  let res: Response;
  try {
    res = await fetch(url, { method, headers, body: payload, credentials: 'same-origin', signal });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError(0, 'network', 'cairn cannot be reached; check that the server is running.');
  }
  if (res.ok) return res;
  let code = 'http_' + res.status;
  let message = `The server answered ${res.status}.`;
  let field: string | undefined;
  let detail: Record<string, any> | undefined;
  try {
    const j = await res.json();
    if (j && j.error) {
      code = j.error.code || code;
      message = j.error.message || message;
      field = j.error.field || undefined;
      detail = j.error;
    }
  } catch {
    /* not JSON: keep the status line */
  }
  if (res.status === 401 && onUnauthorized && !url.endsWith('/session')) onUnauthorized();
  throw new ApiError(res.status, code, message, field, detail);
}

/** JSON in, JSON out. `path` is relative to /api/v1 ("segments/12") or absolute ("/api/v1/…"). */
export async function api<T = any>(method: Method, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const res = await request(method, path, body, signal);
  if (res.status === 204) return undefined as T;
  const ct = res.headers.get('Content-Type') || '';
  return (ct.includes('json') ? res.json() : res.text()) as Promise<T>;
}

/** The raw text of a response (CSV exports, Graphviz, text simulation). */
export async function apiText(method: Method, path: string, body?: unknown): Promise<string> {
  const res = await request(method, path, body);
  return res.text();
}

/** Query string from an object, skipping empty values. */
export function qs(params: Record<string, string | number | boolean | undefined | null>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') u.set(k, String(v));
  const s = u.toString();
  return s ? '?' + s : '';
}

export type Session = {
  member: { email: string; role: string };
  workspace: { name: string; timezone: string };
  csrf_token: string;
};
