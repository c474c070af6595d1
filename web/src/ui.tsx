// ui.tsx — the few shared pieces every screen uses: a field with its error,
// the API error shown in words, loading, and a data hook.
import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import { api, ApiError } from './api';

/** A labelled form field; `error` is shown under it and announced. */
export function Field({ label, error, hint, children, id }: { label: string; error?: string; hint?: string; children: ReactNode; id?: string }) {
  return (
    <div className={'field' + (error ? ' field-error' : '')}>
      <label htmlFor={id}>{label}</label>
      {children}
      {hint && !error && <div className="field-hint">{hint}</div>}
      {error && (
        <div className="field-message" role="alert">
          {error}
        </div>
      )}
    </div>
  );
}

/** An error from the API (or anything else) in words, with its code. */
export function ErrorBanner({ error }: { error: unknown }) {
  if (!error) return null;
  const e = error as ApiError;
  return (
    <div className="banner banner-error" role="alert">
      {e.message || String(error)}
      {e.code && <span className="banner-code"> ({e.code})</span>}
    </div>
  );
}

export function Loading() {
  return <div className="loading" aria-busy="true">…</div>;
}

/** Loads data with `fn` whenever `deps` change; reload() runs it again. */
export function useAsync<T>(fn: (signal: AbortSignal) => Promise<T>, deps: unknown[]) {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const ctl = useRef<AbortController | null>(null);
  const run = useCallback(() => {
    ctl.current?.abort();
    const c = new AbortController();
    ctl.current = c;
    setLoading(true);
    fn(c.signal).then(
      (d) => {
        if (!c.signal.aborted) {
          setData(d);
          setError(null);
          setLoading(false);
        }
      },
      (e) => {
        if (!c.signal.aborted) {
          setError(e);
          setLoading(false);
        }
      },
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  useEffect(() => {
    run();
    return () => ctl.current?.abort();
  }, [run]);
  return { data, error, loading, reload: run, setData };
}

/** The field an ApiError names gets its message; everything else goes to the banner. */
export function fieldErrors(e: unknown): { fields: Record<string, string>; banner: unknown } {
  if (e instanceof ApiError && e.field) return { fields: { [e.field]: e.message }, banner: null };
  return { fields: {}, banner: e };
}

export function Page({ title, actions, children }: { title: string; actions?: ReactNode; children: ReactNode }) {
  return (
    <section className="page">
      <header className="page-head">
        <h1>{title}</h1>
        {actions && <div className="page-actions">{actions}</div>}
      </header>
      {children}
    </section>
  );
}

/** A list the API pages with next_cursor: load(path, null) starts it,
 * load(path, cursor) appends the next page; an aborted load changes nothing. */
export function usePagedList<T>() {
  const [rows, setRows] = useState<T[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const load = useCallback((path: string, after: string | null, signal?: AbortSignal) => {
    setLoading(true);
    api<{ data: T[]; next_cursor: string | null }>('GET', path, undefined, signal).then(
      (r) => {
        setRows((prev) => (after ? [...prev, ...r.data] : r.data));
        setCursor(r.next_cursor);
        setError(null);
        setLoading(false);
      },
      (e) => {
        if ((e as Error).name === 'AbortError') return;
        setError(e);
        setLoading(false);
      },
    );
  }, []);
  return { rows, cursor, error, loading, load };
}
