// TemplateEditor.tsx — one template: its fields per channel with Liquid
// highlighting, a live preview (debounced POST templates/preview of the
// draft, for sample data or a real user), save as a new version (409 when
// someone saved since: nothing is written, the user chooses), versions and
// archive. An API error naming a field is shown at that field.
import { useCallback, useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import { api, ApiError } from '../api';
import { useFormat, useT } from '../i18n';
import { Link, navigate } from '../router';
import { ErrorBanner, Field, Loading, Page } from '../ui';
import { ConfirmButton } from '../settings/ConfirmButton';
import { LiquidEditor } from './LiquidEditor';
import {
  BUTTON_TYPES,
  CHANNEL_FIELDS,
  CHANNELS,
  emptyDraft,
  fromTemplate,
  MAIN_FIELD,
  MAX_BUTTONS,
  MULTILINE,
  SAMPLE_DATA,
  toBody,
  toPayload,
  type Button,
  type Channel,
  type Draft,
  type Template,
  type Version,
} from './model';
import { EmailPreview, KakaoPreview, PlainPreview, PushPreview, SmsPreview } from './Previews';
import { measureSms } from './sms';
import { templatesDict } from './templates.i18n';

type PreviewResult = {
  rendered: Record<string, unknown>;
  variables: { used: string[]; missing: string[] };
  filters: { unknown: string[] };
};

let flash: string | null = null; // the "saved" message survives the redirect after a create

const PREVIEW_DELAY = 400;

function channelOf(s: string | null): Channel {
  return (CHANNELS as readonly string[]).includes(s || '') ? (s as Channel) : 'email';
}

/** Every error field the form can show next to an input. */
function shownFields(d: Draft, isNew: boolean): Set<string> {
  const s = new Set(['name', 'locale', 'channel']);
  if (isNew) s.add('id');
  for (const f of CHANNEL_FIELDS[d.channel]) s.add('body.' + f);
  if (d.channel === 'kakao') {
    s.add('body.buttons');
    d.buttons.forEach((b, i) => {
      s.add(`body.buttons[${i}]`);
      for (const k of Object.keys(b)) s.add(`body.buttons[${i}].${k}`);
    });
  }
  if (d.channel === 'push') {
    s.add('body.data');
    for (const { key } of d.data) s.add('body.data.' + key);
  }
  return s;
}

export function TemplateEditor({ id }: { id: string | null }) {
  const t = useT(templatesDict);
  const f = useFormat();
  const isNew = id === null;
  const [loaded, setLoaded] = useState<Template | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [draft, setDraft] = useState<Draft>(() => emptyDraft(channelOf(new URLSearchParams(location.search).get('channel'))));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [banner, setBanner] = useState<unknown>(null);
  const [okMessage, setOkMessage] = useState<string | null>(() => {
    const m = flash;
    flash = null;
    return m;
  });
  const [saving, setSaving] = useState(false);
  const [conflict, setConflict] = useState<number | null>(null);
  const [versionsKey, setVersionsKey] = useState(0);

  useEffect(() => {
    if (isNew) return;
    const c = new AbortController();
    api<Template>('GET', 'templates/' + encodeURIComponent(id), undefined, c.signal).then(
      (tpl) => {
        setLoaded(tpl);
        setDraft(fromTemplate(tpl));
      },
      (e) => {
        if ((e as Error).name !== 'AbortError') setLoadError(e);
      },
    );
    return () => c.abort();
  }, [id, isNew]);

  const baseline = useMemo(() => JSON.stringify(loaded ? toPayload(fromTemplate(loaded)) : toPayload(emptyDraft(draft.channel))), [loaded, draft.channel]);
  const dirty = JSON.stringify(toPayload(draft)) !== baseline || (isNew && draft.id !== '');
  useEffect(() => {
    if (!dirty) return;
    const warn = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [dirty]);

  const set = (patch: Partial<Draft>) => {
    setDraft((d) => ({ ...d, ...patch }));
    setOkMessage(null);
  };
  const setField = (k: string, v: string) => {
    setDraft((d) => ({ ...d, fields: { ...d.fields, [k]: v } }));
    setOkMessage(null);
  };

  // ---- live preview ----
  const [userId, setUserId] = useState('');
  const [sample, setSample] = useState(() => JSON.stringify(SAMPLE_DATA, null, 2));
  const [strict, setStrict] = useState(false);
  const [advertising, setAdvertising] = useState(false);
  const [preview, setPreview] = useState<PreviewResult | null>(null);
  const [previewError, setPreviewError] = useState<ApiError | null>(null);
  const [previewing, setPreviewing] = useState(false);
  const previewKey = JSON.stringify({ c: draft.channel, b: toBody(draft), userId: userId.trim(), sample, strict });
  useEffect(() => {
    const c = new AbortController();
    const timer = setTimeout(async () => {
      let data: Record<string, unknown>;
      try {
        data = sample.trim() ? JSON.parse(sample) : {};
        if (!data || typeof data !== 'object' || Array.isArray(data)) throw new Error();
      } catch {
        setPreviewError(new ApiError(0, 'invalid_json', t('preview.badSample'), 'data'));
        return;
      }
      const uid = userId.trim();
      const req: Record<string, unknown> = { channel: draft.channel, body: toBody(draft), mode: strict ? 'strict' : 'lax' };
      if (uid) {
        req.user_id = uid;
        if (data.event) req.event = data.event;
      } else req.data = data;
      setPreviewing(true);
      try {
        const r = await api<PreviewResult>('POST', 'templates/preview', req, c.signal);
        setPreview(r);
        setPreviewError(null);
      } catch (e) {
        if ((e as Error).name === 'AbortError') return;
        setPreviewError(e instanceof ApiError ? e : new ApiError(0, 'error', String(e)));
      } finally {
        if (!c.signal.aborted) setPreviewing(false);
      }
    }, PREVIEW_DELAY);
    return () => {
      clearTimeout(timer);
      c.abort();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [previewKey]);

  // ---- save ----
  const shown = shownFields(draft, isNew);
  const showError = (e: unknown) => {
    if (e instanceof ApiError && e.field && shown.has(e.field)) {
      setErrors({ [e.field]: e.message });
      setBanner(null);
    } else {
      setErrors({});
      setBanner(e instanceof ApiError && e.field ? new ApiError(e.status, e.code, `${e.field}: ${e.message}`) : e);
    }
  };
  const save = async (version?: number) => {
    if (saving) return;
    setSaving(true);
    setErrors({});
    setBanner(null);
    setOkMessage(null);
    setConflict(null);
    try {
      const p = toPayload(draft);
      if (isNew) {
        const created = await api<Template>('POST', 'templates', { ...p, id: draft.id.trim() || undefined });
        flash = t('saved', { v: created.version });
        setLoaded(created); // not dirty while the route changes
        setDraft(fromTemplate(created));
        navigate('/templates/' + encodeURIComponent(created.id), true);
        return;
      }
      const updated = await api<Template>('PUT', 'templates/' + encodeURIComponent(id), { ...p, version: version ?? loaded?.version });
      const same = loaded && updated.version === loaded.version;
      setLoaded(updated);
      setDraft(fromTemplate(updated));
      setOkMessage(same ? t('savedSame') : t('saved', { v: updated.version }));
      setVersionsKey((k) => k + 1);
    } catch (e) {
      if (e instanceof ApiError && e.status === 409 && e.code === 'version_conflict' && !isNew) {
        try {
          const latest = await api<Template>('GET', 'templates/' + encodeURIComponent(id));
          setConflict(latest.version);
        } catch (e2) {
          setBanner(e2);
        }
      } else showError(e);
    } finally {
      setSaving(false);
    }
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save();
  };
  const loadLatest = async () => {
    if (isNew) return;
    try {
      const latest = await api<Template>('GET', 'templates/' + encodeURIComponent(id));
      setLoaded(latest);
      setDraft(fromTemplate(latest));
      setConflict(null);
      setVersionsKey((k) => k + 1);
    } catch (e) {
      setBanner(e);
    }
  };
  const archive = async () => {
    if (isNew) return;
    try {
      await api('DELETE', 'templates/' + encodeURIComponent(id));
      setLoaded(null);
      navigate('/templates');
    } catch (e) {
      setBanner(e);
    }
  };
  // Ctrl/⌘+S saves
  const saveRef = useRef(save);
  saveRef.current = save;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 's') {
        e.preventDefault();
        saveRef.current();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  if (!isNew && loadError) {
    return (
      <Page title={t('title')}>
        <ErrorBanner error={loadError} />
        <Link to="/templates">{t('back')}</Link>
      </Page>
    );
  }
  if (!isNew && !loaded) return <Loading />;

  const err = (k: string) => errors[k] ?? (previewError?.field === k ? t('preview.errorAt', { m: previewError.message }) : undefined);
  const fieldId = (k: string) => 'tp-f-' + k.replace(/[^a-z0-9]/gi, '-');

  const renderField = (k: string) => {
    const key = 'body.' + k;
    const label = t(`field.${draft.channel}.${k}`) !== `field.${draft.channel}.${k}` ? t(`field.${draft.channel}.${k}`) : t('field.' + k);
    const hintKey = `hint.${draft.channel}.${k}`;
    const hint = t(hintKey) !== hintKey ? t(hintKey) : undefined;
    const main = MAIN_FIELD[draft.channel] === k;
    const value = draft.fields[k] ?? '';
    return (
      <Field key={k} id={fieldId(key)} label={label + (isRequired(draft.channel, k) ? ' *' : '')} error={err(key)} hint={hint}>
        {MULTILINE.has(k) ? (
          <LiquidEditor
            id={fieldId(key)}
            value={value}
            onChange={(v) => setField(k, v)}
            rows={main ? (draft.channel === 'email' ? 16 : 8) : 5}
            invalid={!!err(key)}
            testId={main ? 'template-body' : undefined}
          />
        ) : (
          <input id={fieldId(key)} className="tp-wide mono-liquid" value={value} onChange={(e) => setField(k, e.target.value)} aria-invalid={!!err(key) || undefined} />
        )}
        {(draft.channel === 'sms' && k === 'text') || (draft.channel === 'kakao' && k === 'fallback_text' && value) ? (
          <div className="field-hint">
            {t('sms.source', { n: value.length })} <SourceBytes text={value} advertising={advertising} />
          </div>
        ) : null}
      </Field>
    );
  };

  const rendered = preview?.rendered;
  return (
    <Page
      title={isNew ? t('newTitle') : draft.name || String(id)}
      actions={
        <>
          <Link to="/templates" className="button-link">
            {t('back')}
          </Link>
          {!isNew && (
            <ConfirmButton label={t('archive')} question={t('archive.confirm', { name: draft.name || String(id) })} yes={t('archive')} no={t('cancel')} onConfirm={archive} testId="btn-archive-template" />
          )}
          <button type="submit" form="tp-form" className="primary" data-testid="btn-save-template" disabled={saving || (!dirty && !isNew)}>
            {saving ? t('saving') : isNew ? t('create') : t('save')}
          </button>
        </>
      }
    >
      {!isNew && loaded && (
        <p className="muted small tp-meta">
          <code>{loaded.id}</code> · {t('versionOf', { v: loaded.version })} · {t('updatedAt', { t: f.time(loaded.updated_at) })}
          {dirty && <strong className="tp-dirty"> · {t('unsaved')}</strong>}
        </p>
      )}
      {okMessage && (
        <div className="banner banner-ok" role="status">
          {okMessage}
        </div>
      )}
      {conflict !== null && (
        <div className="banner banner-error" role="alert">
          <p>{t('conflict', { latest: conflict, mine: loaded?.version ?? '?' })}</p>
          <div className="tp-row">
            <button type="button" onClick={loadLatest}>
              {t('conflict.load', { v: conflict })}
            </button>
            <button type="button" onClick={() => save(conflict)}>
              {t('conflict.overwrite')}
            </button>
          </div>
        </div>
      )}
      <ErrorBanner error={banner} />
      <div className="tp-layout">
        <form id="tp-form" className="tp-form card" onSubmit={submit} noValidate>
          <div className="tp-grid2">
            <Field id="tp-name" label={t('field.name') + ' *'} error={err('name')}>
              <input id="tp-name" value={draft.name} onChange={(e) => set({ name: e.target.value })} required maxLength={200} aria-invalid={!!err('name') || undefined} />
            </Field>
            {isNew ? (
              <Field id="tp-id" label={t('field.id')} error={err('id')} hint={t('hint.id')}>
                <input id="tp-id" value={draft.id} onChange={(e) => set({ id: e.target.value })} maxLength={64} pattern="[a-z0-9][a-z0-9_-]*" aria-invalid={!!err('id') || undefined} />
              </Field>
            ) : (
              <div className="field">
                <span className="tp-label">{t('field.id')}</span>
                <code className="tp-readonly">{id}</code>
              </div>
            )}
            <Field id="tp-channel" label={t('field.channel')} error={err('channel')} hint={isNew ? undefined : t('hint.channelFixed')}>
              <select id="tp-channel" value={draft.channel} disabled={!isNew} onChange={(e) => set({ channel: e.target.value as Channel })}>
                {CHANNELS.map((c) => (
                  <option key={c} value={c}>
                    {t('channel.' + c)}
                  </option>
                ))}
              </select>
            </Field>
            <Field id="tp-locale" label={t('field.locale')} error={err('locale')} hint={t('hint.locale')}>
              <input id="tp-locale" value={draft.locale} onChange={(e) => set({ locale: e.target.value })} maxLength={35} placeholder="ko-KR" />
            </Field>
          </div>
          <h2>{t('content')}</h2>
          {CHANNEL_FIELDS[draft.channel].map((k) => (draft.channel === 'kakao' && k === 'fallback_text' ? null : renderField(k)))}
          {draft.channel === 'kakao' && (
            <>
              <ButtonsEditor buttons={draft.buttons} onChange={(buttons) => set({ buttons })} err={err} />
              {renderField('fallback_text')}
            </>
          )}
          {draft.channel === 'push' && <DataEditor data={draft.data} onChange={(data) => set({ data })} err={err} />}
          <p className="muted small">{t('hint.liquid')}</p>
        </form>
        <aside className="tp-preview card" aria-labelledby="tp-preview-title">
          <h2 id="tp-preview-title">
            {t('preview')} {previewing && <span className="muted small" aria-live="polite">{t('preview.rendering')}</span>}
          </h2>
          <div className="tp-preview-controls">
            <Field id="tp-user" label={t('preview.user')} hint={t('preview.userHint')} error={previewError?.field === 'user_id' ? previewError.message : undefined}>
              <input id="tp-user" value={userId} onChange={(e) => setUserId(e.target.value)} placeholder="u-1001" autoComplete="off" />
            </Field>
            <div className="tp-row">
              <label className="tp-check">
                <input type="checkbox" checked={strict} onChange={(e) => setStrict(e.target.checked)} /> {t('preview.strict')}
              </label>
              {(draft.channel === 'sms' || draft.channel === 'kakao' || draft.channel === 'email') && (
                <label className="tp-check">
                  <input type="checkbox" checked={advertising} onChange={(e) => setAdvertising(e.target.checked)} /> {t('preview.advertising')}
                </label>
              )}
            </div>
            <details>
              <summary>{userId.trim() ? t('preview.sampleEvent') : t('preview.sample')}</summary>
              <Field id="tp-sample" label={t('preview.sampleLabel')} error={previewError?.field === 'data' ? previewError.message : undefined}>
                <textarea id="tp-sample" rows={10} value={sample} onChange={(e) => setSample(e.target.value)} spellCheck={false} />
              </Field>
            </details>
          </div>
          <div data-testid="template-preview" className="tp-preview-body">
            {previewError && previewError.field !== 'user_id' && previewError.field !== 'data' && (
              <div className="banner banner-error" role="alert">
                {previewError.field && <strong>{previewError.field}: </strong>}
                {previewError.message}
              </div>
            )}
            {previewError?.field === 'user_id' && <p className="muted">{t('preview.fixUser')}</p>}
            {draft.channel === 'sms' && <SmsPreview text={rendered && !previewError ? String(rendered.text ?? '') : draft.fields.text || ''} advertising={advertising} />}
            {rendered && draft.channel === 'email' && <EmailPreview rendered={rendered} advertising={advertising} />}
            {rendered && draft.channel === 'kakao' && <KakaoPreview rendered={rendered} advertising={advertising} />}
            {rendered && draft.channel === 'push' && <PushPreview rendered={rendered} />}
            {rendered && (draft.channel === 'webhook' || draft.channel === 'slack') && (
              <PlainPreview text={String(rendered[draft.channel === 'webhook' ? 'body' : 'text'] ?? '')} />
            )}
            {preview && (preview.variables.missing.length > 0 || preview.filters.unknown.length > 0) && (
              <div className="tp-warnings small">
                {preview.variables.missing.length > 0 && <p>{t('preview.missing', { v: preview.variables.missing.join(', ') })}</p>}
                {preview.filters.unknown.length > 0 && <p>{t('preview.unknownFilters', { v: preview.filters.unknown.join(', ') })}</p>}
              </div>
            )}
            {preview && preview.variables.used.length > 0 && (
              <p className="muted small">{t('preview.used', { v: preview.variables.used.join(', ') })}</p>
            )}
          </div>
        </aside>
      </div>
      {!isNew && loaded && (
        <VersionsPanel
          id={loaded.id}
          latest={loaded.version}
          reloadKey={versionsKey}
          onRestore={(v) => {
            set(fromTemplate({ id: loaded.id, name: v.name, channel: v.channel, locale: v.locale, body: v.body }));
            setOkMessage(t('versions.restored', { v: v.version }));
          }}
        />
      )}
    </Page>
  );
}

function isRequired(channel: Channel, k: string): boolean {
  return (
    (channel === 'email' && k === 'subject') ||
    (channel === 'sms' && k === 'text') ||
    (channel === 'kakao' && (k === 'template_code' || k === 'text')) ||
    ((channel === 'webhook' || channel === 'slack') && (k === 'body' || k === 'text'))
  );
}

function SourceBytes({ text, advertising }: { text: string; advertising: boolean }) {
  // the source's own count, before Liquid is filled in (the preview counts the rendered text)
  const t = useT(templatesDict);
  return <>{t('sms.sourceBytes', { n: measureSms(text, advertising).bytes })}</>;
}

function ButtonsEditor({ buttons, onChange, err }: { buttons: Button[]; onChange: (b: Button[]) => void; err: (k: string) => string | undefined }) {
  const t = useT(templatesDict);
  const put = (i: number, k: string, v: string) => onChange(buttons.map((b, j) => (j === i ? { ...b, [k]: v } : b)));
  const move = (i: number, d: number) => {
    const b = [...buttons];
    [b[i], b[i + d]] = [b[i + d], b[i]];
    onChange(b);
  };
  return (
    <fieldset className="tp-fieldset">
      <legend>{t('buttons')}</legend>
      {err('body.buttons') && (
        <div className="field-message" role="alert">
          {err('body.buttons')}
        </div>
      )}
      {buttons.length === 0 && <p className="muted small">{t('buttons.none')}</p>}
      {buttons.map((b, i) => {
        const p = `body.buttons[${i}]`;
        const id = (k: string) => `tp-btn-${i}-${k}`;
        return (
          <div key={i} className="tp-button-row">
            <Field id={id('name')} label={t('buttons.name', { n: i + 1 })} error={err(p + '.name') || err(p)}>
              <input id={id('name')} value={b.name} onChange={(e) => put(i, 'name', e.target.value)} maxLength={14 * 4} />
            </Field>
            <Field id={id('type')} label={t('buttons.type')} error={err(p + '.type')}>
              <select id={id('type')} value={b.type} onChange={(e) => put(i, 'type', e.target.value)}>
                <option value="">—</option>
                {BUTTON_TYPES.map((x) => (
                  <option key={x} value={x}>
                    {x} · {t('buttons.type.' + x)}
                  </option>
                ))}
              </select>
            </Field>
            {(b.type === 'WL' || b.type === '' || b.url_mobile) && (
              <Field id={id('url_mobile')} label={t('buttons.urlMobile')} error={err(p + '.url_mobile')}>
                <input id={id('url_mobile')} value={b.url_mobile} onChange={(e) => put(i, 'url_mobile', e.target.value)} placeholder="https://" />
              </Field>
            )}
            {(b.type === 'WL' || b.url_pc) && (
              <Field id={id('url_pc')} label={t('buttons.urlPc')} error={err(p + '.url_pc')}>
                <input id={id('url_pc')} value={b.url_pc} onChange={(e) => put(i, 'url_pc', e.target.value)} placeholder="https://" />
              </Field>
            )}
            {b.type === 'AL' && (
              <>
                <Field id={id('scheme_android')} label={t('buttons.android')} error={err(p + '.scheme_android')}>
                  <input id={id('scheme_android')} value={b.scheme_android || ''} onChange={(e) => put(i, 'scheme_android', e.target.value)} />
                </Field>
                <Field id={id('scheme_ios')} label={t('buttons.ios')} error={err(p + '.scheme_ios')}>
                  <input id={id('scheme_ios')} value={b.scheme_ios || ''} onChange={(e) => put(i, 'scheme_ios', e.target.value)} />
                </Field>
              </>
            )}
            <div className="tp-button-actions">
              <button type="button" onClick={() => move(i, -1)} disabled={i === 0} aria-label={t('buttons.up', { n: i + 1 })}>
                ↑
              </button>
              <button type="button" onClick={() => move(i, 1)} disabled={i === buttons.length - 1} aria-label={t('buttons.down', { n: i + 1 })}>
                ↓
              </button>
              <button type="button" className="danger" onClick={() => onChange(buttons.filter((_, j) => j !== i))} aria-label={t('buttons.remove', { n: i + 1 })}>
                ✕
              </button>
            </div>
          </div>
        );
      })}
      <button type="button" onClick={() => onChange([...buttons, { name: '', type: 'WL', url_mobile: '', url_pc: '' }])} disabled={buttons.length >= MAX_BUTTONS}>
        {t('buttons.add', { n: buttons.length, max: MAX_BUTTONS })}
      </button>
    </fieldset>
  );
}

function DataEditor({
  data,
  onChange,
  err,
}: {
  data: { key: string; value: string }[];
  onChange: (d: { key: string; value: string }[]) => void;
  err: (k: string) => string | undefined;
}) {
  const t = useT(templatesDict);
  const put = (i: number, patch: Partial<{ key: string; value: string }>) => onChange(data.map((d, j) => (j === i ? { ...d, ...patch } : d)));
  return (
    <fieldset className="tp-fieldset">
      <legend>{t('field.push.data')}</legend>
      {err('body.data') && (
        <div className="field-message" role="alert">
          {err('body.data')}
        </div>
      )}
      {data.map((d, i) => (
        <div key={i} className="tp-kv-row">
          <Field id={`tp-data-k-${i}`} label={t('data.key', { n: i + 1 })}>
            <input id={`tp-data-k-${i}`} value={d.key} onChange={(e) => put(i, { key: e.target.value })} />
          </Field>
          <Field id={`tp-data-v-${i}`} label={t('data.value', { n: i + 1 })} error={err('body.data.' + d.key)}>
            <input id={`tp-data-v-${i}`} value={d.value} onChange={(e) => put(i, { value: e.target.value })} />
          </Field>
          <button type="button" className="danger" onClick={() => onChange(data.filter((_, j) => j !== i))} aria-label={t('data.remove', { n: i + 1 })}>
            ✕
          </button>
        </div>
      ))}
      <button type="button" onClick={() => onChange([...data, { key: '', value: '' }])}>
        {t('data.add')}
      </button>
    </fieldset>
  );
}

function VersionsPanel({ id, latest, reloadKey, onRestore }: { id: string; latest: number; reloadKey: number; onRestore: (v: Version) => void }) {
  const t = useT(templatesDict);
  const f = useFormat();
  const [list, setList] = useState<Version[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const load = useCallback(
    async (after: string | null) => {
      try {
        const r = await api<{ data: Version[]; next_cursor: string | null }>(
          'GET',
          `templates/${encodeURIComponent(id)}/versions?limit=20${after ? '&cursor=' + encodeURIComponent(after) : ''}`,
        );
        setList((l) => (after && l ? [...l, ...r.data] : r.data));
        setCursor(r.next_cursor);
        setError(null);
      } catch (e) {
        setError(e);
      }
    },
    [id],
  );
  useEffect(() => {
    load(null);
  }, [load, reloadKey, latest]);
  const restore = async (n: number) => {
    try {
      const v = await api<Version>('GET', `templates/${encodeURIComponent(id)}/versions/${n}`);
      onRestore(v);
      window.scrollTo({ top: 0, behavior: 'smooth' });
    } catch (e) {
      setError(e);
    }
  };
  return (
    <section className="card tp-versions" aria-labelledby="tp-versions-title">
      <h2 id="tp-versions-title">{t('versions')}</h2>
      <ErrorBanner error={error} />
      {!list ? (
        <Loading />
      ) : (
        <table>
          <thead>
            <tr>
              <th className="num">{t('list.version')}</th>
              <th>{t('field.name')}</th>
              <th>{t('versions.savedAt')}</th>
              <th>{t('list.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {list.map((v) => (
              <tr key={v.version}>
                <td className="num">
                  {v.version} {v.latest && <span className="tp-badge">{t('versions.latest')}</span>}
                </td>
                <td>{v.name}</td>
                <td>{f.time(v.created_at)}</td>
                <td>
                  {!v.latest && (
                    <button type="button" onClick={() => restore(v.version)}>
                      {t('versions.restore')}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {cursor && (
        <button type="button" onClick={() => load(cursor)}>
          {t('list.more')}
        </button>
      )}
      <p className="muted small">{t('versions.hint')}</p>
    </section>
  );
}

