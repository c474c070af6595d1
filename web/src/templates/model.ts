// model.ts — templates as the API has them (docs/templates-api.md) and the
// editor's draft of one: every body field a string, Kakao buttons and push
// data as lists, so inputs stay controlled; toBody() gives the API's shape.

export const CHANNELS = ['email', 'sms', 'kakao', 'push', 'webhook', 'slack'] as const;
export type Channel = (typeof CHANNELS)[number];

export type Template = {
  id: string;
  name: string;
  channel: Channel;
  locale: string | null;
  version: number;
  body?: Record<string, unknown>;
  created_at: string;
  updated_at: string;
  archived_at: string | null;
};

export type Version = { id: string; version: number; latest: boolean; name: string; channel: Channel; locale: string | null; created_at: string; body?: Record<string, unknown> };

export type Button = { name: string; type: string; url_mobile: string; url_pc: string; [k: string]: string };

export type Draft = {
  id: string;
  name: string;
  channel: Channel;
  locale: string;
  fields: Record<string, string>; // the string fields of the body
  buttons: Button[]; // kakao
  data: { key: string; value: string }[]; // push
};

/** The string fields of each channel's body, in the order the form shows them. */
export const CHANNEL_FIELDS: Record<Channel, string[]> = {
  email: ['subject', 'preheader', 'from', 'html', 'text'],
  sms: ['text'],
  kakao: ['template_code', 'text', 'fallback_text'],
  push: ['title', 'body'],
  webhook: ['body'],
  slack: ['text'],
};

/** The field that is the message itself (the big editor, data-testid="template-body"). */
export const MAIN_FIELD: Record<Channel, string> = {
  email: 'html',
  sms: 'text',
  kakao: 'text',
  push: 'body',
  webhook: 'body',
  slack: 'text',
};

/** Fields edited with the Liquid editor (the others are one-line inputs). */
export const MULTILINE = new Set(['html', 'text', 'fallback_text', 'body']);

export const BUTTON_TYPES = ['WL', 'AL', 'DS', 'BK', 'MD', 'AC'];
export const MAX_BUTTONS = 5;

export function emptyDraft(channel: Channel = 'email'): Draft {
  return { id: '', name: '', channel, locale: '', fields: {}, buttons: [], data: [] };
}

export function fromTemplate(t: Pick<Template, 'id' | 'name' | 'channel' | 'locale' | 'body'>): Draft {
  const body = t.body || {};
  const fields: Record<string, string> = {};
  for (const k of CHANNEL_FIELDS[t.channel] || []) if (typeof body[k] === 'string') fields[k] = body[k] as string;
  const buttons = Array.isArray(body.buttons)
    ? (body.buttons as Record<string, unknown>[]).map((b) => {
        const out: Button = { name: '', type: '', url_mobile: '', url_pc: '' };
        for (const [k, v] of Object.entries(b || {})) if (typeof v === 'string') out[k] = v;
        return out;
      })
    : [];
  const data =
    body.data && typeof body.data === 'object' && !Array.isArray(body.data)
      ? Object.entries(body.data as Record<string, unknown>).map(([key, value]) => ({ key, value: String(value ?? '') }))
      : [];
  return { id: t.id, name: t.name, channel: t.channel, locale: t.locale || '', fields, buttons, data };
}

/** The body as the API takes it: empty fields left out. */
export function toBody(d: Draft): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const k of CHANNEL_FIELDS[d.channel]) {
    const v = d.fields[k];
    if (v !== undefined && v !== '') body[k] = v;
  }
  if (d.channel === 'kakao' && d.buttons.length) {
    body.buttons = d.buttons.map((b) => {
      const o: Record<string, string> = {};
      for (const [k, v] of Object.entries(b)) if (v !== '' || k === 'name') o[k] = v;
      return o;
    });
  }
  if (d.channel === 'push' && d.data.length) {
    const o: Record<string, string> = {};
    for (const { key, value } of d.data) if (key) o[key] = value;
    body.data = o;
  }
  return body;
}

/** What a save sends (and what "unsaved changes" compares). */
export function toPayload(d: Draft): { name: string; channel: Channel; locale: string | null; body: Record<string, unknown> } {
  return { name: d.name, channel: d.channel, locale: d.locale.trim() || null, body: toBody(d) };
}

/** A sample user for previews when no real user id is given. */
export const SAMPLE_DATA = {
  user: {
    id: 'sample-1',
    first_name: '지민',
    last_name: '김',
    name: '김지민',
    email: 'jimin@example.com',
    phone: '+821012345678',
    locale: 'ko-KR',
    timezone: 'Asia/Seoul',
    tags: ['vip'],
  },
  event: { event: 'Order Completed', properties: { order_id: 'A-1001', revenue: 32000, currency: 'KRW' } },
};
