// TemplateField.tsx — a send node's message: a saved template picked from
// GET templates?channel=…, one written inline (the channel's body keys), or
// A/B variants of either; with a live preview (POST templates/preview).
import { memo, useEffect, useId, useState } from 'react';
import { api, ApiError } from '../api';
import { useT } from '../i18n';
import { Field } from '../ui';
import { Group, JsonInput, NumberInput, TextInput } from './fields';
import type { JNodeDef } from './graph';
import { journeyDict } from './journey.i18n';
import { TEMPLATE_KEYS, type Channel } from './nodeTable';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Tpl = string | Record<string, any>;
type TemplateRow = { id: string; name: string; channel: string };

const listCache = new Map<string, Promise<TemplateRow[]>>();
function templatesFor(channel: string): Promise<TemplateRow[]> {
  let p = listCache.get(channel);
  if (!p) {
    p = api<{ data: TemplateRow[] }>('GET', `templates?channel=${encodeURIComponent(channel)}&limit=1000`).then(
      (r) => r.data || [],
      (e) => {
        listCache.delete(channel);
        throw e;
      },
    );
    listCache.set(channel, p);
  }
  return p;
}

/** An inline body for `channel`, keeping what fits of `from`. */
export function inlineFor(channel: Channel, from?: Tpl): Record<string, any> {
  const keys = TEMPLATE_KEYS[channel];
  const out: Record<string, any> = {};
  if (from && typeof from === 'object') for (const k of keys) if (from[k.key] !== undefined) out[k.key] = from[k.key];
  for (const k of keys) if (k.required && out[k.key] === undefined) out[k.key] = '';
  if (!Object.keys(out).length) out[keys[0].key] = '';
  return out;
}

/** The send node's template part rewritten for a new channel. */
export function retargetTemplate(def: JNodeDef, channel: Channel): JNodeDef {
  const out: JNodeDef = { ...def, channel };
  if (def.template && typeof def.template === 'object') out.template = inlineFor(channel, def.template);
  if (Array.isArray(def.variants))
    out.variants = def.variants.map((v: any) => (v.template && typeof v.template === 'object' ? { ...v, template: inlineFor(channel, v.template) } : v));
  if (Array.isArray(def.fallback)) {
    const f = def.fallback.filter((c: string) => c !== channel);
    if (f.length) out.fallback = f;
    else delete out.fallback;
  }
  return out;
}

const SAMPLE = { user: { id: 'preview-user', first_name: '지민', name: '지민', email: 'jimin@example.com', timezone: 'Asia/Seoul' } };

/** Errors under `prefix` ("template", "variants[1].template") with the rest of their path. */
function errorsUnder(errors: Record<string, string>, prefix: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(errors)) {
    if (k === prefix) out[''] = v;
    else if (k.startsWith(prefix + '.')) out[k.slice(prefix.length + 1)] = v;
  }
  return out;
}

function Picker({ channel, value, onChange, errors, idLabel }: { channel: Channel; value: Tpl | undefined; onChange: (v: Tpl) => void; errors: Record<string, string>; idLabel: string }) {
  const t = useT(journeyDict);
  const id = useId();
  const [list, setList] = useState<TemplateRow[] | null>(null);
  const [listErr, setListErr] = useState<unknown>(null);
  const saved = typeof value === 'string';
  useEffect(() => {
    let live = true;
    templatesFor(channel).then(
      (l) => live && (setList(l), setListErr(null)),
      (e) => live && setListErr(e),
    );
    return () => {
      live = false;
    };
  }, [channel]);
  const setMode = (m: 'saved' | 'inline') => {
    if (m === 'saved') onChange(list && list.length ? list[0].id : '');
    else onChange(inlineFor(channel));
  };
  const body = !saved && value && typeof value === 'object' ? value : {};
  const setKey = (k: string, v: any, required?: boolean) => {
    const next = { ...body };
    if ((v === undefined || v === '') && !required) delete next[k];
    else next[k] = v ?? '';
    onChange(Object.keys(next).length ? next : inlineFor(channel));
  };
  return (
    <div className="picker">
      <div className="seg" role="radiogroup" aria-label={t('tpl.mode')}>
        <label>
          <input type="radio" name={id + 'mode'} checked={saved} onChange={() => setMode('saved')} /> {t('tpl.saved')}
        </label>
        <label>
          <input type="radio" name={id + 'mode'} checked={!saved} onChange={() => setMode('inline')} /> {t('tpl.inline')}
        </label>
      </div>
      {saved ? (
        <Field label={idLabel + ' *'} id={id} error={errors['']} hint={list && !list.length ? t('tpl.none_saved') : undefined}>
          <select id={id} value={value as string} onChange={(e) => onChange(e.target.value)} aria-required>
            {!(list || []).some((x) => x.id === value) && <option value={value as string}>{(value as string) || t('tpl.pick')}</option>}
            {(list || []).map((x) => (
              <option key={x.id} value={x.id}>
                {x.name} ({x.id})
              </option>
            ))}
          </select>
          {listErr ? <div className="field-hint">{(listErr as Error).message}</div> : null}
        </Field>
      ) : (
        <>
          {errors[''] && (
            <div className="field-message" role="alert">
              {errors['']}
            </div>
          )}
          {TEMPLATE_KEYS[channel].map((k) =>
            k.kind === 'json' ? (
              <JsonInput
                key={k.key}
                label={t('tplkey.' + k.key)}
                value={body[k.key]}
                expect={k.key === 'buttons' ? 'array' : 'object'}
                onChange={(v) => setKey(k.key, v)}
                error={errors[k.key]}
              />
            ) : (
              <TextInput
                key={k.key}
                label={t('tplkey.' + k.key)}
                value={body[k.key]}
                required={k.required}
                multiline={k.kind === 'liquid'}
                onChange={(v) => setKey(k.key, v, k.required)}
                error={errors[k.key]}
              />
            ),
          )}
        </>
      )}
    </div>
  );
}

export const TemplatePreview = memo(function TemplatePreview({ channel, value }: { channel: Channel; value: Tpl | undefined }) {
  const t = useT(journeyDict);
  const [res, setRes] = useState<any>(null);
  const [err, setErr] = useState<ApiError | Error | null>(null);
  const key = JSON.stringify([channel, value]);
  useEffect(() => {
    if (value === undefined || value === '') {
      setRes(null);
      setErr(null);
      return;
    }
    const ctl = new AbortController();
    const timer = setTimeout(() => {
      const req =
        typeof value === 'string'
          ? api('POST', `templates/${encodeURIComponent(value)}/preview`, { data: SAMPLE }, ctl.signal)
          : api('POST', 'templates/preview', { channel, body: value, data: SAMPLE }, ctl.signal);
      req.then(
        (r) => {
          setRes(r);
          setErr(null);
        },
        (e) => {
          if ((e as Error).name !== 'AbortError') {
            setErr(e);
            setRes(null);
          }
        },
      );
    }, 400);
    return () => {
      clearTimeout(timer);
      ctl.abort();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  const rendered = res?.rendered && typeof res.rendered === 'object' ? (res.rendered as Record<string, unknown>) : null;
  const missing: string[] = res?.variables?.missing || [];
  return (
    <section className="preview" aria-label={t('tpl.preview')} aria-live="polite">
      <h4>{t('tpl.preview')}</h4>
      {err && (
        <div className="field-message" role="alert">
          {(err as ApiError).field ? `${(err as ApiError).field}: ` : ''}
          {err.message}
        </div>
      )}
      {!err && !rendered && <div className="muted small">{t('tpl.preview_empty')}</div>}
      {rendered &&
        Object.entries(rendered).map(([k, v]) =>
          k === 'html' ? (
            <div key={k} className="preview-part">
              <div className="muted small">{t('tplkey.html')}</div>
              <iframe title={t('tpl.preview_html')} sandbox="" srcDoc={String(v ?? '')} className="preview-html" />
            </div>
          ) : (
            <div key={k} className="preview-part">
              <div className="muted small">{t('tplkey.' + k)}</div>
              <pre className="preview-text">{typeof v === 'string' ? v : JSON.stringify(v, null, 2)}</pre>
            </div>
          ),
        )}
      {missing.length > 0 && <div className="small warn">{t('tpl.missing', { vars: missing.join(', ') })}</div>}
    </section>
  );
});

/** The template part of a send node: one template, or variants. */
export function TemplateField({
  def,
  onChange,
  errors,
}: {
  def: JNodeDef;
  onChange: (next: JNodeDef) => void;
  errors: Record<string, string>;
}) {
  const t = useT(journeyDict);
  const id = useId();
  const channel = (def.channel || 'email') as Channel;
  const variants: any[] | null = Array.isArray(def.variants) ? def.variants : null;
  const [shown, setShown] = useState(0);
  const toVariants = () => {
    const next = { ...def };
    const first = def.template !== undefined && def.template !== '' ? def.template : inlineFor(channel);
    next.variants = [
      { name: 'A', weight: 50, template: first },
      { name: 'B', weight: 50, template: inlineFor(channel, typeof first === 'object' ? first : undefined) },
    ];
    delete next.template;
    onChange(next);
  };
  const toSingle = () => {
    const next = { ...def };
    next.template = variants && variants[0] ? variants[0].template : inlineFor(channel);
    delete next.variants;
    onChange(next);
  };
  const setVariant = (i: number, patch: Record<string, any>) => {
    const list = variants!.map((v, j) => (j === i ? { ...v, ...patch } : v));
    onChange({ ...def, variants: list });
  };
  const previewValue: Tpl | undefined = variants ? variants[Math.min(shown, variants.length - 1)]?.template : def.template;
  return (
    <Group legend={t('field.template')} required error={errors['variants'] && !variants ? errors['variants'] : undefined}>
      <label className="inline-check">
        <input type="checkbox" checked={!!variants} onChange={(e) => (e.target.checked ? toVariants() : toSingle())} id={id + 'ab'} />
        {t('tpl.ab')}
      </label>
      {!variants ? (
        <Picker channel={channel} value={def.template} onChange={(v) => onChange({ ...def, template: v })} errors={errorsUnder(errors, 'template')} idLabel={t('tpl.saved_pick')} />
      ) : (
        <>
          {errors['variants'] && (
            <div className="field-message" role="alert">
              {errors['variants']}
            </div>
          )}
          {variants.map((v, i) => {
            const ve = errorsUnder(errors, `variants[${i}]`);
            return (
              <fieldset key={i} className="item">
                <legend>{t('tpl.variant_n', { n: i + 1 })}</legend>
                <div className="row2">
                  <TextInput label={t('field.variant_name')} value={v.name} required onChange={(s) => setVariant(i, { name: s })} error={ve['name']} />
                  <NumberInput label={t('field.weight')} value={v.weight} min={1} max={10000} required onChange={(n) => setVariant(i, { weight: n })} error={ve['weight']} />
                </div>
                <Picker channel={channel} value={v.template} onChange={(tv) => setVariant(i, { template: tv })} errors={errorsUnder(ve, 'template')} idLabel={t('tpl.saved_pick')} />
                <div className="row">
                  <button type="button" onClick={() => setShown(i)} aria-pressed={shown === i}>
                    {t('tpl.preview_this')}
                  </button>
                  <button
                    type="button"
                    className="danger"
                    disabled={variants.length <= 1}
                    onClick={() => onChange({ ...def, variants: variants.filter((_, j) => j !== i) })}
                  >
                    {t('action.remove')}
                  </button>
                </div>
              </fieldset>
            );
          })}
          <button
            type="button"
            disabled={variants.length >= 16}
            onClick={() => onChange({ ...def, variants: [...variants, { name: String.fromCharCode(65 + (variants.length % 26)), weight: 50, template: inlineFor(channel) }] })}
          >
            {t('action.add_variant')}
          </button>
        </>
      )}
      <TemplatePreview channel={channel} value={previewValue} />
    </Group>
  );
}
