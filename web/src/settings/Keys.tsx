// Keys.tsx — /settings/keys: the workspace's API keys (GET/POST/DELETE
// /api/v1/keys). A new key is shown once, in full; the list shows prefixes.
import { useState, type FormEvent } from 'react';
import { api, ApiError } from '../api';
import { useFormat, useT } from '../i18n';
import { ErrorBanner, Field, Loading, useAsync } from '../ui';
import { ConfirmButton } from './ConfirmButton';
import { CopyButton } from './CopyButton';
import { settingsDict } from './settings.i18n';

type Key = { id: string | number; kind: 'write' | 'secret'; prefix: string; created_at: string; revoked_at: string | null };
type NewKey = Key & { key: string };

export function Keys() {
  const t = useT(settingsDict);
  const f = useFormat();
  const { data, error, loading, reload } = useAsync((s) => api<{ data: Key[] }>('GET', 'keys', undefined, s), []);
  const [kind, setKind] = useState<'write' | 'secret'>('write');
  const [created, setCreated] = useState<NewKey | null>(null);
  const [banner, setBanner] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [showRevoked, setShowRevoked] = useState(false);
  const create = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setBanner(null);
    try {
      setCreated(await api<NewKey>('POST', 'keys', { kind }));
      reload();
    } catch (err) {
      setBanner(err);
    } finally {
      setBusy(false);
    }
  };
  const revoke = async (k: Key) => {
    setBanner(null);
    try {
      await api('DELETE', 'keys/' + encodeURIComponent(k.id));
      reload();
    } catch (err) {
      setBanner(err);
    }
  };
  const missing = error instanceof ApiError && error.status === 404;
  const keys = (data?.data || []).filter((k) => showRevoked || !k.revoked_at);
  return (
    <div>
      <div className="st-head">
        <h2>{t('keys.title')}</h2>
      </div>
      <p className="muted">{t('keys.intro')}</p>
      {missing ? (
        <div className="banner banner-error" role="alert">
          {t('keys.unavailable')}
        </div>
      ) : (
        <ErrorBanner error={error} />
      )}
      <form className="card st-form st-inline-form" onSubmit={create} aria-label={t('keys.create')}>
        <Field id="st-key-kind" label={t('keys.kind')} hint={t('keys.kind.hint.' + kind)}>
          <select id="st-key-kind" value={kind} onChange={(e) => setKind(e.target.value as 'write' | 'secret')}>
            <option value="write">{t('keys.kind.write')}</option>
            <option value="secret">{t('keys.kind.secret')}</option>
          </select>
        </Field>
        <button type="submit" className="primary" disabled={busy || missing}>
          {t('keys.create')}
        </button>
      </form>
      <ErrorBanner error={banner} />
      {created && (
        <div className="banner banner-ok" role="status">
          <p>
            <strong>{t('keys.once')}</strong>
          </p>
          <code className="st-secret" data-testid="new-key">
            {created.key}
          </code>{' '}
          <CopyButton text={created.key} label={t('copy')} copied={t('copied')} failed={t('copyFailed')} ariaLabel={t('keys.copy')} />{' '}
          <button type="button" onClick={() => setCreated(null)}>
            {t('done')}
          </button>
        </div>
      )}
      {loading && !data && !error ? (
        <Loading />
      ) : data ? (
        <>
          <label className="st-check">
            <input type="checkbox" checked={showRevoked} onChange={(e) => setShowRevoked(e.target.checked)} /> {t('keys.showRevoked')}
          </label>
          {keys.length === 0 ? (
            <p className="muted">{t('keys.none')}</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">{t('keys.prefix')}</th>
                  <th scope="col">{t('keys.kind')}</th>
                  <th scope="col">{t('keys.created')}</th>
                  <th scope="col">{t('keys.status')}</th>
                  <th scope="col">{t('actions')}</th>
                </tr>
              </thead>
              <tbody>
                {keys.map((k) => (
                  <tr key={k.id}>
                    <td>
                      <code>{k.prefix}…</code>
                    </td>
                    <td>{t('keys.kind.' + k.kind)}</td>
                    <td>{f.time(k.created_at)}</td>
                    <td>{k.revoked_at ? t('keys.revokedAt', { t: f.time(k.revoked_at) }) : <span className="st-ok">{t('keys.active')}</span>}</td>
                    <td>
                      {!k.revoked_at && (
                        <ConfirmButton
                          label={t('keys.revoke')}
                          question={t('keys.revokeQ', { prefix: k.prefix })}
                          yes={t('keys.revoke')}
                          no={t('cancel')}
                          onConfirm={() => revoke(k)}
                          ariaLabel={t('keys.revokeLabel', { prefix: k.prefix })}
                        />
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      ) : null}
    </div>
  );
}
