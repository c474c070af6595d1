// Providers.tsx — /settings/providers: the providers of each channel, added
// and edited with the fields of their type (secrets never shown: typed to
// replace, or cleared), removed, and tried with "send test".
import { useState, type FormEvent } from 'react';
import { api, ApiError } from '../api';
import { useFormat, useT } from '../i18n';
import { ErrorBanner, Field, Loading, useAsync } from '../ui';
import { LiquidEditor } from '../templates/LiquidEditor';
import { ConfirmButton } from './ConfirmButton';
import { CopyButton } from './CopyButton';
import {
  CHANNELS,
  fieldsFor,
  FormError,
  formOf,
  isRequired,
  newForm,
  payloadOf,
  typesFor,
  type FormState,
  type PField,
  type Provider,
  type ProviderType,
} from './providers';
import { settingsDict } from './settings.i18n';

type TestResult = { ok: boolean; class?: string; status?: number; reply?: string; ms?: number };

export function Providers() {
  const t = useT(settingsDict);
  const { data, error, loading, reload } = useAsync((s) => api<{ data: Provider[] }>('GET', 'providers', undefined, s), []);
  const [adding, setAdding] = useState(false);
  const [editing, setEditing] = useState<string | null>(null);
  const [shownSecret, setShownSecret] = useState<{ name: string; secret: string } | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const list = data?.data || [];
  const byChannel = CHANNELS.map((c) => ({ c, rows: list.filter((p) => p.channel === c).sort((a, b) => a.priority - b.priority) }));
  const remove = async (p: Provider) => {
    setActionError(null);
    try {
      await api('DELETE', 'providers/' + encodeURIComponent(p.id));
      reload();
    } catch (e) {
      setActionError(e);
    }
  };
  const saved = (p: Provider) => {
    setAdding(false);
    setEditing(null);
    if (p.secret) setShownSecret({ name: p.name || p.id, secret: p.secret });
    reload();
  };
  return (
    <div>
      <div className="st-head">
        <h2>{t('providers.title')}</h2>
        <button type="button" className="primary" data-testid="btn-add-provider" onClick={() => setAdding(true)} disabled={adding} aria-expanded={adding}>
          {t('providers.add')}
        </button>
      </div>
      <p className="muted">{t('providers.intro')}</p>
      {shownSecret && (
        <div className="banner banner-ok" role="status">
          <p>{t('providers.secretOnce', { name: shownSecret.name })}</p>
          <code className="st-secret">{shownSecret.secret}</code> <CopyButton text={shownSecret.secret} label={t('copy')} copied={t('copied')} failed={t('copyFailed')} />{' '}
          <button type="button" onClick={() => setShownSecret(null)}>
            {t('done')}
          </button>
        </div>
      )}
      <ErrorBanner error={error || actionError} />
      {adding && <ProviderForm onSaved={saved} onCancel={() => setAdding(false)} />}
      {loading && !data ? (
        <Loading />
      ) : (
        byChannel.map(({ c, rows }) => (
          <section key={c} className="st-channel" aria-labelledby={'st-ch-' + c}>
            <h3 id={'st-ch-' + c}>{t('channel.' + c)}</h3>
            {rows.length === 0 ? (
              <p className="muted small">{t('providers.none')}</p>
            ) : (
              rows.map((p) =>
                editing === p.id ? (
                  <ProviderForm key={p.id} existing={p} onSaved={saved} onCancel={() => setEditing(null)} />
                ) : (
                  <ProviderCard key={p.id} p={p} onEdit={() => setEditing(p.id)} onDelete={() => remove(p)} />
                ),
              )
            )}
          </section>
        ))
      )}
    </div>
  );
}

function ProviderCard({ p, onEdit, onDelete }: { p: Provider; onEdit: () => void; onDelete: () => void }) {
  const t = useT(settingsDict);
  const f = useFormat();
  const shown = fieldsFor(p.type).filter((x) => !x.secret && p.config[x.key] !== undefined);
  return (
    <article className="card st-provider" aria-labelledby={'st-p-' + p.id}>
      <header className="st-provider-head">
        <div>
          <h4 id={'st-p-' + p.id}>
            {p.name || p.id} <span className="st-badge">{t('type.' + p.type)}</span>
            {p.disabled && <span className="st-badge st-badge-off">{t('providers.disabled')}</span>}
          </h4>
          <div className="muted small">
            <code>{p.id}</code> · {t('providers.priority', { n: p.priority })} · {t('updated', { t: f.time(p.updated_at) })}
          </div>
        </div>
        <div className="st-actions">
          <button type="button" onClick={onEdit}>
            {t('edit')}
          </button>
          <ConfirmButton label={t('delete')} question={t('providers.deleteQ', { name: p.name || p.id })} yes={t('delete')} no={t('cancel')} onConfirm={onDelete} />
        </div>
      </header>
      <dl className="st-config">
        {shown.map((x) => (
          <div key={x.key}>
            <dt>{t('pf.' + x.key)}</dt>
            <dd>{Array.isArray(p.config[x.key]) ? (p.config[x.key] as unknown[]).join(', ') : String(p.config[x.key])}</dd>
          </div>
        ))}
        {p.secrets.length > 0 && (
          <div>
            <dt>{t('providers.secrets')}</dt>
            <dd>{p.secrets.map((s) => t('pf.' + s)).join(', ')} — {t('providers.secretsSealed')}</dd>
          </div>
        )}
        {p.webhook_url && (
          <div>
            <dt>{t('providers.webhookUrl')}</dt>
            <dd className="st-url">
              <code>{p.webhook_url}</code> <CopyButton text={p.webhook_url} label={t('copy')} copied={t('copied')} failed={t('copyFailed')} ariaLabel={t('providers.copyWebhook')} />
            </dd>
          </div>
        )}
      </dl>
      <SendTest p={p} />
    </article>
  );
}

function SendTest({ p }: { p: Provider }) {
  const t = useT(settingsDict);
  const [to, setTo] = useState('');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<TestResult | null>(null);
  const [error, setError] = useState<unknown>(null);
  const id = 'st-test-' + p.id;
  const send = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setResult(null);
    setError(null);
    try {
      setResult(await api<TestResult>('POST', `providers/${encodeURIComponent(p.id)}/test`, { to: to.trim() }));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const fieldErr = error instanceof ApiError && error.field === 'to' ? error.message : undefined;
  return (
    <form className="st-test" onSubmit={send}>
      <Field id={id} label={t('test.to.' + (p.channel === 'email' ? 'email' : p.channel === 'sms' || p.channel === 'kakao' ? 'phone' : p.channel === 'webhook' ? 'url' : 'other'))} error={fieldErr}>
        <div className="st-inline">
          <input
            id={id}
            value={to}
            onChange={(e) => setTo(e.target.value)}
            type={p.channel === 'email' ? 'email' : 'text'}
            placeholder={p.channel === 'email' ? 'you@example.com' : p.channel === 'sms' || p.channel === 'kakao' ? '010-1234-5678' : p.channel === 'webhook' ? 'https://' : ''}
            autoComplete="off"
          />
          <button type="submit" data-testid="btn-send-test" disabled={busy}>
            {busy ? t('test.sending') : t('test.send')}
          </button>
        </div>
      </Field>
      {!fieldErr && <ErrorBanner error={error} />}
      {result && (
        <div className={'banner ' + (result.ok ? 'banner-ok' : 'banner-error')} role="status">
          <strong>{result.ok ? t('test.ok') : t('test.failed')}</strong>{' '}
          {[
            result.class !== undefined && t('test.class', { v: result.class }),
            result.status !== undefined && result.status !== 0 && t('test.status', { v: result.status }),
            result.ms !== undefined && t('test.ms', { v: result.ms }),
          ]
            .filter(Boolean)
            .join(' · ')}
          {result.reply && <pre className="st-reply">{result.reply}</pre>}
        </div>
      )}
    </form>
  );
}

function ProviderForm({ existing, onSaved, onCancel }: { existing?: Provider; onSaved: (p: Provider) => void; onCancel: () => void }) {
  const t = useT(settingsDict);
  const [form, setForm] = useState<FormState>(() => (existing ? formOf(existing) : newForm()));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [banner, setBanner] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const fields = fieldsFor(form.type);
  const setValue = (k: string, v: string) => setForm((f) => ({ ...f, values: { ...f.values, [k]: v } }));
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setErrors({});
    setBanner(null);
    let body: Record<string, unknown>;
    try {
      body = payloadOf(form, existing);
    } catch (err) {
      if (err instanceof FormError) {
        setErrors({ [err.field]: t(err.message) });
        return;
      }
      throw err;
    }
    if (existing && Object.keys(body).length === 0) {
      onCancel();
      return;
    }
    setBusy(true);
    try {
      const p = existing
        ? await api<Provider>('PATCH', 'providers/' + encodeURIComponent(existing.id), body)
        : await api<Provider>('POST', 'providers', body);
      onSaved(p);
    } catch (err) {
      const known = new Set(['channel', 'type', 'name', 'priority', 'disabled', ...fields.map((f) => f.key)]);
      if (err instanceof ApiError && err.field && known.has(err.field)) setErrors({ [err.field]: err.message });
      else setBanner(err);
    } finally {
      setBusy(false);
    }
  };
  const fid = (k: string) => `st-pf-${existing?.id || 'new'}-${k}`;
  const input = (f: PField) => {
    const id = fid(f.key);
    const v = form.values[f.key] ?? '';
    const has = existing?.secrets.includes(f.key);
    const label = t('pf.' + f.key) + (isRequired(f, form.type, form.channel) && !(f.secret && has) ? ' *' : '');
    const hint = f.secret ? (has ? t('pf.secretSet') : t('pf.secretNew')) + ' ' + t('pfh.' + f.key) : t('pfh.' + f.key);
    let control;
    if (f.kind === 'starttls') {
      control = (
        <select id={id} value={v} onChange={(e) => setValue(f.key, e.target.value)}>
          <option value="">{t('pf.default')}</option>
          <option value="0">{t('starttls.0')}</option>
          <option value="1">{t('starttls.1')}</option>
          <option value="2">{t('starttls.2')}</option>
        </select>
      );
    } else if (f.kind === 'method') {
      control = (
        <select id={id} value={v} onChange={(e) => setValue(f.key, e.target.value)}>
          <option value="">{t('pf.default')} (POST)</option>
          <option value="POST">POST</option>
          <option value="PUT">PUT</option>
        </select>
      );
    } else if (f.kind === 'liquid') {
      control = <LiquidEditor id={id} value={v} onChange={(x) => setValue(f.key, x)} rows={5} invalid={!!errors[f.key]} />;
    } else if (f.kind === 'headers') {
      control = <textarea id={id} rows={3} value={v} onChange={(e) => setValue(f.key, e.target.value)} placeholder="Authorization: Bearer …" spellCheck={false} autoComplete="off" />;
    } else {
      control = (
        <input
          id={id}
          value={v}
          type={f.key === 'password' ? 'password' : f.kind === 'int' || f.kind === 'num' ? 'number' : 'text'}
          step={f.kind === 'num' ? 'any' : undefined}
          onChange={(e) => setValue(f.key, e.target.value)}
          autoComplete={f.secret ? 'new-password' : 'off'}
          placeholder={has ? '••••••••' : ''}
        />
      );
    }
    return (
      <Field key={f.key} id={id} label={label} error={errors[f.key]} hint={hint}>
        {control}
        {f.secret && has && (
          <label className="st-check">
            <input type="checkbox" checked={!!form.clearSecrets[f.key]} onChange={(e) => setForm((s) => ({ ...s, clearSecrets: { ...s.clearSecrets, [f.key]: e.target.checked } }))} />{' '}
            {t('pf.clearSecret')}
          </label>
        )}
      </Field>
    );
  };
  return (
    <form className="card st-form" onSubmit={submit} aria-label={existing ? t('providers.editTitle', { name: existing.name || existing.id }) : t('providers.add')}>
      <h3>{existing ? t('providers.editTitle', { name: existing.name || existing.id }) : t('providers.add')}</h3>
      <ErrorBanner error={banner} />
      <div className="st-grid">
        <Field id={fid('channel')} label={t('providers.channel')} error={errors.channel}>
          <select
            id={fid('channel')}
            value={form.channel}
            disabled={!!existing}
            onChange={(e) => {
              const channel = e.target.value;
              setForm((s) => ({ ...s, channel, type: typesFor(channel).includes(s.type) ? s.type : typesFor(channel)[0] }));
            }}
          >
            {CHANNELS.map((c) => (
              <option key={c} value={c}>
                {t('channel.' + c)}
              </option>
            ))}
          </select>
        </Field>
        <Field id={fid('type')} label={t('providers.type')} error={errors.type} hint={existing ? t('providers.fixed') : t('type.hint.' + form.type)}>
          <select id={fid('type')} value={form.type} disabled={!!existing} onChange={(e) => setForm((s) => ({ ...s, type: e.target.value as ProviderType }))}>
            {typesFor(form.channel).map((x) => (
              <option key={x} value={x}>
                {t('type.' + x)}
              </option>
            ))}
          </select>
        </Field>
        <Field id={fid('name')} label={t('providers.name')} error={errors.name}>
          <input id={fid('name')} value={form.name} onChange={(e) => setForm((s) => ({ ...s, name: e.target.value }))} />
        </Field>
        <Field id={fid('priority')} label={t('providers.priorityLabel')} error={errors.priority} hint={t('providers.priorityHint')}>
          <input id={fid('priority')} type="number" value={form.priority} onChange={(e) => setForm((s) => ({ ...s, priority: e.target.value }))} />
        </Field>
      </div>
      <label className="st-check">
        <input type="checkbox" checked={form.disabled} onChange={(e) => setForm((s) => ({ ...s, disabled: e.target.checked }))} /> {t('providers.disabledLabel')}
      </label>
      <div className="st-grid">{fields.filter((f) => !f.advanced && f.kind !== 'liquid' && f.kind !== 'headers').map(input)}</div>
      {fields.filter((f) => !f.advanced && (f.kind === 'liquid' || f.kind === 'headers')).map(input)}
      <details className="st-advanced" open={fields.some((f) => f.advanced && errors[f.key]) || undefined}>
        <summary>{t('providers.advanced')}</summary>
        <div className="st-grid">{fields.filter((f) => f.advanced).map(input)}</div>
      </details>
      <div className="st-actions">
        <button type="submit" className="primary" disabled={busy}>
          {existing ? t('save') : t('providers.create')}
        </button>
        <button type="button" onClick={onCancel}>
          {t('cancel')}
        </button>
      </div>
    </form>
  );
}
