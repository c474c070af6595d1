// providers.ts — the provider settings per type, as src/deliver/provider.c's
// field table has them (which type has which field, which are secret and
// stored sealed, which are required), and the conversions between the form's
// strings and the API's values.

export type ProviderType = 'smtp' | 'http' | 'webhook' | 'file';
export type Kind = 'str' | 'int' | 'num' | 'headers' | 'list' | 'liquid' | 'starttls' | 'method';

export type PField = { key: string; kind: Kind; types: ProviderType[]; secret?: boolean; required?: ProviderType[]; advanced?: boolean };

const ALL: ProviderType[] = ['smtp', 'http', 'webhook', 'file'];

export const PROVIDER_FIELDS: PField[] = [
  { key: 'url', kind: 'str', types: ['smtp', 'http'], required: ['smtp', 'http'] },
  { key: 'from', kind: 'str', types: ['smtp', 'http', 'file'], required: ['smtp'] },
  { key: 'reply_to', kind: 'str', types: ['smtp', 'http', 'file'] },
  { key: 'username', kind: 'str', types: ['smtp'] },
  { key: 'password', kind: 'str', types: ['smtp'], secret: true },
  { key: 'starttls', kind: 'starttls', types: ['smtp'] },
  { key: 'method', kind: 'method', types: ['http'] },
  { key: 'headers', kind: 'headers', types: ['http'], secret: true },
  { key: 'body', kind: 'liquid', types: ['http'] },
  { key: 'success', kind: 'list', types: ['http'], advanced: true },
  { key: 'transient', kind: 'list', types: ['http'], advanced: true },
  { key: 'success_contains', kind: 'str', types: ['http'], advanced: true },
  { key: 'secret', kind: 'str', types: ['webhook'], secret: true },
  { key: 'path', kind: 'str', types: ['file'] },
  { key: 'sender_info', kind: 'str', types: ALL },
  { key: 'unsubscribe_mailto', kind: 'str', types: ['smtp', 'http', 'file'], advanced: true },
  { key: 'timeout_ms', kind: 'int', types: ALL, advanced: true },
  { key: 'concurrency', kind: 'int', types: ALL, advanced: true },
  { key: 'rate_per_sec', kind: 'num', types: ALL, advanced: true },
  { key: 'max_attempts', kind: 'int', types: ALL, advanced: true },
  { key: 'retry_base_ms', kind: 'int', types: ALL, advanced: true },
];

export const CHANNELS = ['email', 'sms', 'kakao', 'push', 'webhook', 'slack'] as const;

/** The types that can serve a channel (provider.c: smtp is email only, webhook only webhook, http anything but webhook). */
export function typesFor(channel: string): ProviderType[] {
  if (channel === 'email') return ['smtp', 'http', 'file'];
  if (channel === 'webhook') return ['webhook', 'file'];
  return ['http', 'file'];
}

export function fieldsFor(type: ProviderType): PField[] {
  return PROVIDER_FIELDS.filter((f) => f.types.includes(type));
}

export function isRequired(f: PField, type: ProviderType, channel: string): boolean {
  return !!f.required?.includes(type) || (f.key === 'from' && type === 'http' && channel === 'email');
}

export type Provider = {
  id: string;
  channel: string;
  type: ProviderType;
  name: string | null;
  priority: number;
  disabled: boolean;
  config: Record<string, unknown>;
  secrets: string[];
  webhook_url?: string;
  created_at: string;
  updated_at: string;
  secret?: string; // a webhook secret made on create, shown once
};

/** A config value as the form shows it. */
export function toInput(f: PField, v: unknown): string {
  if (v === undefined || v === null) return '';
  if (f.kind === 'list' && Array.isArray(v)) return v.join(', ');
  if (f.kind === 'headers' && typeof v === 'object') return Object.entries(v as Record<string, string>).map(([k, x]) => `${k}: ${x}`).join('\n');
  return String(v);
}

export class FormError extends Error {
  field: string;
  constructor(field: string, message: string) {
    super(message);
    this.field = field;
  }
}

/** The API value of a field's input (throws FormError with a message key for bad numbers or headers). */
export function fromInput(f: PField, s: string): unknown {
  const v = s.trim();
  switch (f.kind) {
    case 'int':
    case 'starttls': {
      if (!/^-?\d+$/.test(v)) throw new FormError(f.key, 'err.int');
      return parseInt(v, 10);
    }
    case 'num': {
      const n = Number(v);
      if (!isFinite(n)) throw new FormError(f.key, 'err.num');
      return n;
    }
    case 'list':
      return v
        .split(/[,\s]+/)
        .map((x) => x.trim())
        .filter(Boolean);
    case 'headers': {
      const o: Record<string, string> = {};
      for (const line of s.split('\n')) {
        if (!line.trim()) continue;
        const i = line.indexOf(':');
        if (i <= 0) throw new FormError(f.key, 'err.header');
        o[line.slice(0, i).trim()] = line.slice(i + 1).trim();
      }
      return o;
    }
    case 'liquid':
      return s;
    default:
      return v;
  }
}

export type FormState = {
  channel: string;
  type: ProviderType;
  name: string;
  priority: string;
  disabled: boolean;
  values: Record<string, string>;
  clearSecrets: Record<string, boolean>;
};

export function formOf(p: Provider): FormState {
  const values: Record<string, string> = {};
  for (const f of fieldsFor(p.type)) if (!f.secret) values[f.key] = toInput(f, p.config[f.key]);
  return { channel: p.channel, type: p.type, name: p.name || '', priority: String(p.priority ?? 0), disabled: p.disabled, values, clearSecrets: {} };
}

export function newForm(channel = 'email'): FormState {
  return { channel, type: typesFor(channel)[0], name: '', priority: '0', disabled: false, values: {}, clearSecrets: {} };
}

/** The body of a create (everything set) or, given the provider, of a PATCH (only what changed; an emptied setting is null). */
export function payloadOf(form: FormState, existing?: Provider): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!existing) {
    out.channel = form.channel;
    out.type = form.type;
  }
  if (!existing || form.name !== (existing.name || '')) if (form.name.trim() || existing) out.name = form.name.trim();
  if (!/^-?\d+$/.test(form.priority.trim())) throw new FormError('priority', 'err.int');
  const prio = parseInt(form.priority, 10);
  if (!existing || prio !== existing.priority) out.priority = prio;
  if (!existing || form.disabled !== existing.disabled) out.disabled = form.disabled;
  for (const f of fieldsFor(form.type)) {
    const s = form.values[f.key] ?? '';
    if (f.secret) {
      if (existing && form.clearSecrets[f.key]) out[f.key] = null;
      else if (s.trim()) out[f.key] = fromInput(f, s);
      continue;
    }
    if (!existing) {
      if (s.trim()) out[f.key] = fromInput(f, s);
      continue;
    }
    const before = toInput(f, existing.config[f.key]);
    if (s === before) continue;
    out[f.key] = s.trim() ? fromInput(f, s) : null;
  }
  return out;
}
