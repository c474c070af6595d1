// Previews.tsx — each channel as the recipient sees it: email in an
// isolated iframe (sandboxed, no scripts) at desktop or mobile width, SMS as
// a phone bubble with its EUC-KR byte count, AlimTalk as a Kakao chat
// bubble with buttons, push as a notification.
import { useState } from 'react';
import { useT } from '../i18n';
import { LMS_MAX_BYTES, measureSms, SMS_MAX_BYTES } from './sms';
import { templatesDict } from './templates.i18n';

type Rendered = Record<string, unknown>;
const str = (v: unknown) => (typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v));

function emailDoc(html: string): string {
  return (
    '<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">' +
    '<base target="_blank"><style>body{margin:0;padding:12px;font-family:system-ui,sans-serif;color:#1c2430;background:#fff}img{max-width:100%}</style>' +
    '</head><body>' +
    html +
    '</body></html>'
  );
}

export function EmailPreview({ rendered, advertising }: { rendered: Rendered; advertising: boolean }) {
  const t = useT(templatesDict);
  const [width, setWidth] = useState<'desktop' | 'mobile'>('desktop');
  const [part, setPart] = useState<'html' | 'text'>('html');
  const html = str(rendered.html);
  const text = str(rendered.text);
  const showHtml = part === 'html' && html !== '';
  let subject = str(rendered.subject);
  if (advertising && subject && !subject.trimStart().startsWith('(광고)')) subject = '(광고) ' + subject.trimStart();
  return (
    <div className="tp-email">
      <div className="tp-toolbar" role="group" aria-label={t('preview.width')}>
        <button type="button" aria-pressed={width === 'desktop'} onClick={() => setWidth('desktop')}>
          {t('preview.desktop')}
        </button>
        <button type="button" aria-pressed={width === 'mobile'} onClick={() => setWidth('mobile')}>
          {t('preview.mobile')}
        </button>
        <span className="tp-sep" />
        <button type="button" aria-pressed={part === 'html'} onClick={() => setPart('html')} disabled={!html}>
          HTML
        </button>
        <button type="button" aria-pressed={part === 'text'} onClick={() => setPart('text')}>
          {t('preview.textPart')}
        </button>
      </div>
      <div className={'tp-email-frame tp-' + width}>
        <dl className="tp-email-head">
          {rendered.from !== undefined && (
            <>
              <dt>{t('field.from')}</dt>
              <dd>{str(rendered.from)}</dd>
            </>
          )}
          <dt>{t('field.subject')}</dt>
          <dd className="tp-subject">{subject || <span className="muted">{t('preview.noSubject')}</span>}</dd>
          {rendered.preheader !== undefined && (
            <>
              <dt>{t('field.preheader')}</dt>
              <dd className="muted">{str(rendered.preheader)}</dd>
            </>
          )}
        </dl>
        {showHtml ? (
          <iframe title={t('preview.emailFrame')} sandbox="" srcDoc={emailDoc(html)} className="tp-iframe" />
        ) : (
          <pre className="tp-text-part">{text || (html ? t('preview.textFromHtml') : t('preview.empty'))}</pre>
        )}
      </div>
    </div>
  );
}

export function SmsCounter({ text, advertising }: { text: string; advertising: boolean }) {
  const t = useT(templatesDict);
  const m = measureSms(text, advertising);
  const max = m.kind === 'sms' ? SMS_MAX_BYTES : LMS_MAX_BYTES;
  return (
    <div className={'tp-sms-count tp-' + m.kind}>
      <div className="tp-kind" role="group" aria-label={t('sms.kind')}>
        <span className={m.kind === 'sms' ? 'on' : ''} aria-current={m.kind === 'sms' || undefined}>
          SMS
        </span>
        <span className={m.kind !== 'sms' ? 'on' : ''} aria-current={m.kind !== 'sms' || undefined}>
          LMS
        </span>
      </div>
      <span data-testid="sms-bytes" aria-live="polite">
        {t('sms.bytes', { n: m.bytes, max })}
      </span>
      <meter min={0} max={max} value={Math.min(m.bytes, max)} aria-label={t('sms.meter')} />
      {m.kind === 'too_long' && (
        <span className="tp-warn" role="alert">
          {t('sms.tooLong', { max: LMS_MAX_BYTES })}
        </span>
      )}
    </div>
  );
}

export function SmsPreview({ text, advertising }: { text: string; advertising: boolean }) {
  const t = useT(templatesDict);
  const m = measureSms(text, advertising);
  return (
    <div className="tp-phone">
      <div className="tp-phone-screen">
        <div className="tp-phone-head">{m.kind === 'sms' ? t('sms.headSms') : t('sms.headLms')}</div>
        <div className="tp-bubble tp-bubble-sms">{m.text || <span className="muted">{t('preview.empty')}</span>}</div>
      </div>
      <SmsCounter text={text} advertising={advertising} />
    </div>
  );
}

export function KakaoPreview({ rendered, advertising }: { rendered: Rendered; advertising: boolean }) {
  const t = useT(templatesDict);
  const buttons = Array.isArray(rendered.buttons) ? (rendered.buttons as Record<string, unknown>[]) : [];
  const text = str(rendered.text);
  const fallback = str(rendered.fallback_text);
  return (
    <div className="tp-kakao">
      <div className="tp-kakao-chat">
        <div className="tp-kakao-profile" aria-hidden="true">
          ●
        </div>
        <div className="tp-kakao-msg">
          <div className="tp-kakao-channel">{t('kakao.channel')}</div>
          <div className="tp-kakao-bubble">
            <div className="tp-kakao-head">{t('kakao.arrived')}</div>
            <div className="tp-kakao-body">{text || <span className="muted">{t('preview.empty')}</span>}</div>
            {buttons.length > 0 && (
              <div className="tp-kakao-buttons">
                {buttons.map((b, i) => (
                  <span key={i} className="tp-kakao-button" title={str(b.url_mobile || b.url_pc)}>
                    {str(b.name) || '—'}
                  </span>
                ))}
              </div>
            )}
          </div>
          <div className="small muted">
            {t('kakao.chars', { n: [...text].length, max: 1000 })}
            {rendered.template_code ? ' · ' + t('kakao.code', { code: str(rendered.template_code) }) : ''}
          </div>
        </div>
      </div>
      {fallback && (
        <div className="tp-kakao-fallback">
          <h3 className="small">{t('kakao.fallback')}</h3>
          <SmsPreview text={fallback} advertising={advertising} />
        </div>
      )}
    </div>
  );
}

export function PushPreview({ rendered }: { rendered: Rendered }) {
  const t = useT(templatesDict);
  const data = rendered.data && typeof rendered.data === 'object' ? (rendered.data as Record<string, unknown>) : null;
  return (
    <div className="tp-push">
      <div className="tp-push-card">
        <strong>{str(rendered.title)}</strong>
        <div>{str(rendered.body) || (!rendered.title && <span className="muted">{t('preview.empty')}</span>)}</div>
      </div>
      {data && Object.keys(data).length > 0 && (
        <dl className="tp-kv small">
          {Object.entries(data).map(([k, v]) => (
            <div key={k}>
              <dt>{k}</dt>
              <dd>{str(v)}</dd>
            </div>
          ))}
        </dl>
      )}
    </div>
  );
}

export function PlainPreview({ text }: { text: string }) {
  const t = useT(templatesDict);
  return <pre className="tp-text-part">{text || t('preview.empty')}</pre>;
}
