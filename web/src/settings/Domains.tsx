// Domains.tsx — /settings/domains: sender domains and their DKIM keys. Adding
// one makes the key pair; the DNS TXT record to publish is shown with copy
// buttons (the private key never leaves the server).
import { useState, type FormEvent } from 'react';
import { api, ApiError } from '../api';
import { useFormat, useT } from '../i18n';
import { ErrorBanner, Field, Loading, useAsync } from '../ui';
import { ConfirmButton } from './ConfirmButton';
import { CopyButton } from './CopyButton';
import { settingsDict } from './settings.i18n';

type Domain = {
  domain: string;
  selector: string;
  algorithm: 'rsa' | 'ed25519';
  dns_records: { type: string; name: string; value: string }[];
  created_at?: string;
};

export function Domains() {
  const t = useT(settingsDict);
  const f = useFormat();
  const { data, error, loading, reload } = useAsync((s) => api<{ data: Domain[] }>('GET', 'domains', undefined, s), []);
  const [form, setForm] = useState({ domain: '', selector: 'cairn', algorithm: 'rsa' });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [banner, setBanner] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [added, setAdded] = useState<string | null>(null);
  const add = async (e: FormEvent) => {
    e.preventDefault();
    setErrors({});
    setBanner(null);
    setBusy(true);
    try {
      const d = await api<Domain>('POST', 'domains', { domain: form.domain.trim(), selector: form.selector.trim() || undefined, algorithm: form.algorithm });
      setAdded(d.domain);
      setForm({ domain: '', selector: form.selector, algorithm: form.algorithm });
      reload();
    } catch (err) {
      if (err instanceof ApiError && err.field && ['domain', 'selector', 'algorithm'].includes(err.field)) setErrors({ [err.field]: err.message });
      else setBanner(err);
    } finally {
      setBusy(false);
    }
  };
  const remove = async (d: Domain) => {
    setBanner(null);
    try {
      await api('DELETE', 'domains/' + encodeURIComponent(d.domain));
      reload();
    } catch (err) {
      setBanner(err);
    }
  };
  const copyProps = { label: t('copy'), copied: t('copied'), failed: t('copyFailed') };
  return (
    <div>
      <div className="st-head">
        <h2>{t('domains.title')}</h2>
      </div>
      <p className="muted">{t('domains.intro')}</p>
      <form className="card st-form" onSubmit={add} aria-label={t('domains.add')}>
        <h3>{t('domains.add')}</h3>
        <div className="st-grid">
          <Field id="st-d-domain" label={t('domains.domain') + ' *'} error={errors.domain} hint={t('domains.domainHint')}>
            <input id="st-d-domain" value={form.domain} onChange={(e) => setForm({ ...form, domain: e.target.value })} placeholder="mail.example.com" required />
          </Field>
          <Field id="st-d-selector" label={t('domains.selector')} error={errors.selector} hint={t('domains.selectorHint')}>
            <input id="st-d-selector" value={form.selector} onChange={(e) => setForm({ ...form, selector: e.target.value })} />
          </Field>
          <Field id="st-d-alg" label={t('domains.algorithm')} error={errors.algorithm}>
            <select id="st-d-alg" value={form.algorithm} onChange={(e) => setForm({ ...form, algorithm: e.target.value })}>
              <option value="rsa">{t('domains.rsa')}</option>
              <option value="ed25519">{t('domains.ed25519')}</option>
            </select>
          </Field>
        </div>
        <button type="submit" className="primary" disabled={busy}>
          {t('domains.create')}
        </button>
      </form>
      {added && (
        <div className="banner banner-ok" role="status">
          {t('domains.added', { domain: added })}
        </div>
      )}
      <ErrorBanner error={error || banner} />
      {loading && !data ? (
        <Loading />
      ) : (data?.data || []).length === 0 ? (
        <p className="muted">{t('domains.none')}</p>
      ) : (
        (data?.data || []).map((d) => (
          <article key={d.domain} className="card" aria-labelledby={'st-dom-' + d.domain}>
            <header className="st-provider-head">
              <div>
                <h3 id={'st-dom-' + d.domain}>{d.domain}</h3>
                <div className="muted small">
                  {t('domains.selector')}: <code>{d.selector}</code> · {d.algorithm === 'rsa' ? 'RSA-2048' : 'Ed25519'}
                  {d.created_at && <> · {t('created', { t: f.time(d.created_at) })}</>}
                </div>
              </div>
              <ConfirmButton label={t('delete')} question={t('domains.deleteQ', { domain: d.domain })} yes={t('delete')} no={t('cancel')} onConfirm={() => remove(d)} />
            </header>
            <table className="st-dns">
              <thead>
                <tr>
                  <th scope="col">{t('dns.type')}</th>
                  <th scope="col">{t('dns.name')}</th>
                  <th scope="col">{t('dns.value')}</th>
                </tr>
              </thead>
              <tbody>
                {d.dns_records.map((r) => (
                  <tr key={r.name}>
                    <td>{r.type}</td>
                    <td>
                      <code className="st-break">{r.name}</code> <CopyButton text={r.name} {...copyProps} ariaLabel={t('dns.copyName', { name: r.name })} />
                    </td>
                    <td>
                      <code className="st-break st-dns-value">{r.value}</code> <CopyButton text={r.value} {...copyProps} ariaLabel={t('dns.copyValue', { name: r.name })} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            <p className="muted small">{t('domains.publish')}</p>
          </article>
        ))
      )}
    </div>
  );
}
