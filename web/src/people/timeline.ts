// timeline.ts — one user's unified timeline: events, messages, journey steps,
// tag and consent changes from three endpoints, merged newest first. Pure, so
// the merge and the one-line descriptions are unit-tested.

export type Kind = 'event' | 'message' | 'journey' | 'tag' | 'consent';
export const KINDS: Kind[] = ['event', 'message', 'journey', 'tag', 'consent'];

/** A stored message of GET users/{id}/events (Segment's spec, normalized). */
export type RawEvent = {
  type: string;
  event?: string;
  name?: string;
  messageId?: string;
  timestamp: string;
  properties?: Record<string, unknown>;
  traits?: Record<string, unknown>;
  previousId?: string;
  groupId?: string;
  userId?: string;
  anonymousId?: string;
  context?: Record<string, unknown>;
};
/** One of GET messages?user_id. */
export type RawMessage = {
  id: string;
  channel: string;
  status: string;
  created_at: string;
  sent_at?: string | null;
  send_at?: string | null;
  reason?: string | null;
  template_id?: string | null;
  topic?: string | null;
  content?: Record<string, unknown> | null;
  journey?: { id: string; version?: number; node?: string; variant?: string | null } | null;
  to?: string | null;
};
/** One of GET users/{id}/journeys → steps. */
export type RawStep = { journey_id: string; version: number; instance_id?: number; node: string; at: string; reason: string };

export type Item =
  | { kind: Kind; key: string; at: string; ms: number; src: 'event'; ev: RawEvent }
  | { kind: 'message'; key: string; at: string; ms: number; src: 'message'; msg: RawMessage }
  | { kind: 'journey'; key: string; at: string; ms: number; src: 'step'; step: RawStep };

const TAG_EVENTS = ['Tag Added', 'Tag Removed'];
const CONSENT_EVENTS = ['Unsubscribed'];

export function eventKind(e: RawEvent): Kind {
  if (e.type === 'tags') return 'tag';
  if (e.type === 'consent') return 'consent';
  if (e.type === 'journey_step') return 'journey';
  if (e.type === 'track' && e.event && TAG_EVENTS.includes(e.event)) return 'tag';
  if (e.type === 'track' && e.event && CONSENT_EVENTS.includes(e.event)) return 'consent';
  return 'event';
}

const ms = (t: string | null | undefined) => {
  const n = t ? Date.parse(t) : NaN;
  return isNaN(n) ? 0 : n;
};

export function eventItems(evs: RawEvent[]): Item[] {
  return evs.map((ev, i) => ({ kind: eventKind(ev), key: 'e:' + (ev.messageId || ev.timestamp + ':' + i), at: ev.timestamp, ms: ms(ev.timestamp), src: 'event' as const, ev }));
}
export function messageItems(msgs: RawMessage[]): Item[] {
  return msgs.map((msg) => ({ kind: 'message' as const, key: 'm:' + msg.id, at: msg.created_at, ms: ms(msg.created_at), src: 'message' as const, msg }));
}
export function stepItems(steps: RawStep[]): Item[] {
  return steps.map((step, i) => ({
    kind: 'journey' as const,
    key: `j:${step.journey_id}:${step.instance_id ?? ''}:${step.node}:${step.at}:${i}`,
    at: step.at,
    ms: ms(step.at),
    src: 'step' as const,
    step,
  }));
}

/** A source as loaded so far: its items newest first and whether older pages exist. */
export type Source = { items: Item[]; more: boolean };

/**
 * Merges the sources newest first. A source with older pages not yet loaded
 * sets a horizon: items of other sources older than its oldest loaded item
 * wait (hidden) until that source's next page is in, so the list never shows
 * a gap that fills in later. Ties keep the sources' order (events first).
 */
export function mergeTimeline(sources: Source[]): { items: Item[]; horizon: number | null; hidden: number } {
  let horizon: number | null = null;
  for (const s of sources) {
    if (!s.more || !s.items.length) continue;
    const oldest = Math.min(...s.items.map((i) => i.ms));
    horizon = horizon === null ? oldest : Math.max(horizon, oldest);
  }
  const all: { it: Item; o: number }[] = [];
  const seen = new Set<string>();
  let o = 0;
  for (const s of sources)
    for (const it of s.items) {
      if (seen.has(it.key)) continue;
      seen.add(it.key);
      all.push({ it, o: o++ });
    }
  all.sort((a, b) => b.it.ms - a.it.ms || a.o - b.o);
  const shown = horizon === null ? all : all.filter((x) => x.it.ms >= horizon!);
  return { items: shown.map((x) => x.it), horizon, hidden: all.length - shown.length };
}

type T = (key: string, vars?: Record<string, string | number>) => string;

/** t(prefix + value), or the value itself when the dictionary has no word for it. */
export function label(t: T, prefix: string, v: string): string {
  const s = t(prefix + v);
  return s === prefix + v ? v : s;
}

function short(v: unknown, max = 60): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s === undefined ? '' : s.length > max ? s.slice(0, max - 1) + '…' : s;
}
/** "k: v, k: v" of the first few properties, skipping the linking ids. */
export function propSummary(p: Record<string, unknown> | undefined, skip: string[] = [], n = 3): string {
  if (!p) return '';
  const hide = new Set(['message_id', 'journey_version', 'node_id', 'cause_event_id', 'campaign_id', 'content_id', ...skip]);
  const parts = Object.entries(p)
    .filter(([k, v]) => !hide.has(k) && v !== null && v !== undefined && v !== '')
    .slice(0, n)
    .map(([k, v]) => `${k}: ${short(v, 40)}`);
  return parts.join(', ');
}

function consentSummary(p: Record<string, unknown> | undefined, t: T): string {
  if (!p) return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(p)) {
    if (k === 'source') continue;
    if (k === 'topics' && v && typeof v === 'object') {
      for (const [topic, s] of Object.entries(v as Record<string, unknown>)) parts.push(`${t('tl.topic', { topic })} ${label(t, 'consent.', String(s))}`);
    } else parts.push(`${label(t, 'channel.', k)} ${label(t, 'consent.', String(v))}`);
  }
  return parts.join(', ');
}

/** The one line that says what happened. */
export function describe(it: Item, t: T): string {
  if (it.src === 'message') {
    const m = it.msg;
    const c = m.content || {};
    const what = short(c.subject ?? c.title ?? c.text ?? c.body ?? '', 60);
    let s = t('tl.message', { channel: label(t, 'channel.', m.channel), status: label(t, 'status.', m.status) });
    if (what) s += ` — “${what}”`;
    if (m.journey?.id) s += ' · ' + t('tl.fromJourney', { journey: m.journey.id + (m.journey.node ? '/' + m.journey.node : '') });
    if (m.reason) s += ' · ' + m.reason;
    return s;
  }
  if (it.src === 'step') {
    const st = it.step;
    return t('tl.step', { journey: st.journey_id, version: st.version, node: st.node }) + (st.reason ? ' — ' + st.reason : '');
  }
  const e = it.ev;
  const p = e.properties || {};
  switch (e.type) {
    case 'tags': {
      const add = Array.isArray(p.add) ? (p.add as string[]) : [];
      const rm = Array.isArray(p.remove) ? (p.remove as string[]) : [];
      const parts = [...add.map((x) => '+' + x), ...rm.map((x) => '−' + x)].join(' ');
      const reason = (p.reason as string) || (p.rule_name as string) || (p.source as string) || '';
      return t('tl.tags', { tags: parts || '–' }) + ' — ' + (reason ? t('tl.reason', { reason }) : t('tl.manual'));
    }
    case 'consent': {
      const src = (p.source as string) || (e.context?.consent_source as string) || '';
      return t('tl.consent', { what: consentSummary(p, t) || '–' }) + (src ? ' — ' + t('tl.source', { source: src }) : '');
    }
    case 'lifecycle':
      return t('tl.lifecycle', { stage: String(p.stage ?? '–') });
    case 'identify': {
      const traits = Object.keys(e.traits || {});
      const s = traits.length ? t('tl.identify', { traits: traits.slice(0, 6).join(', ') + (traits.length > 6 ? '…' : '') }) : t('tl.identifyNone');
      const consent = e.traits?.consent as Record<string, unknown> | undefined;
      return consent && typeof consent === 'object' ? s + ' — ' + t('tl.consent', { what: consentSummary(consent, t) }) : s;
    }
    case 'page':
    case 'screen':
      return t('tl.' + e.type, { name: e.name || (p.title as string) || (p.url as string) || (p.path as string) || '–' });
    case 'alias':
      return t('tl.alias', { id: e.previousId || '–' });
    case 'group':
      return t('tl.group', { id: e.groupId || '–' });
    case 'track': {
      const name = e.event || '–';
      if (name === 'Tag Added' || name === 'Tag Removed') {
        const reason = (p.rule_name as string) || (p.reason as string) || (p.rule_id as string) || '';
        return t(name === 'Tag Added' ? 'tl.tagAdded' : 'tl.tagRemoved', { tag: String(p.tag ?? '–') }) + ' — ' + (reason ? t('tl.rule', { rule: reason }) : t('tl.manual'));
      }
      if (name === 'Unsubscribed') {
        const what = [p.channel, p.topic].filter(Boolean).join(' / ');
        return t('tl.unsubscribed', { what: what || '–' });
      }
      const ps = propSummary(p);
      return ps ? `${name} — ${ps}` : name;
    }
    default:
      return `${e.type}${e.event ? ' ' + e.event : ''}`;
  }
}
