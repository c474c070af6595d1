// nodeTable.ts — every node type's keys (journey_def.c node_defs, docs/journeys.md)
// as the side panel's form: one row per key with its kind, label and whether
// it is required. The panel draws the form from this table; the references
// (kind "ref", and those inside branches / split variants) edit the edges.
import type { JNodeDef, NodeType } from './graph';

export type FieldKind =
  | 'text' // one line
  | 'liquid' // a Liquid text (textarea)
  | 'number'
  | 'duration' // {"days","hours","minutes"}
  | 'select'
  | 'template' // a send node's template (id or inline) or its A/B variants
  | 'condition' // a question about the user (branch "when")
  | 'where' // a filter on the event's properties
  | 'channels' // an ordered list of channels (fallback)
  | 'tags' // a list of texts
  | 'json' // an object, as JSON (update "set")
  | 'scores' // {"lead": 10}
  | 'until' // {"time","weekdays"}
  | 'bool3' // inherit / yes / no
  | 'branches'
  | 'split_variants'
  | 'ref'; // a reference to another node (an edge)

export type FieldSpec = {
  key: string;
  kind: FieldKind;
  label: string; // i18n key
  hint?: string; // i18n key
  required?: boolean;
  options?: readonly string[];
  optionPrefix?: string; // i18n key prefix for option labels
  min?: number;
  max?: number;
};

export const CHANNELS = ['email', 'sms', 'kakao', 'push', 'webhook', 'slack'] as const;
export type Channel = (typeof CHANNELS)[number];
export const LIFECYCLES = ['subscriber', 'lead', 'mql', 'sql', 'opportunity', 'customer', 'dormant'] as const;
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

/** The inline template keys of each channel (docs/templates-api.md "Body per channel"). */
export const TEMPLATE_KEYS: Record<Channel, { key: string; kind: 'text' | 'liquid' | 'json'; required?: boolean }[]> = {
  email: [
    { key: 'subject', kind: 'text', required: true },
    { key: 'preheader', kind: 'text' },
    { key: 'html', kind: 'liquid' },
    { key: 'text', kind: 'liquid' },
    { key: 'from', kind: 'text' },
  ],
  sms: [{ key: 'text', kind: 'liquid', required: true }],
  kakao: [
    { key: 'template_code', kind: 'text', required: true },
    { key: 'text', kind: 'liquid', required: true },
    { key: 'buttons', kind: 'json' },
    { key: 'fallback_text', kind: 'liquid' },
  ],
  push: [
    { key: 'title', kind: 'text' },
    { key: 'body', kind: 'liquid' },
    { key: 'data', kind: 'json' },
  ],
  webhook: [{ key: 'body', kind: 'liquid', required: true }],
  slack: [{ key: 'text', kind: 'liquid', required: true }],
};

export const nodeTable: Record<NodeType, { fields: FieldSpec[]; defaults: () => Omit<JNodeDef, 'id'> }> = {
  send: {
    fields: [
      { key: 'channel', kind: 'select', label: 'field.channel', required: true, options: CHANNELS, optionPrefix: 'channel.' },
      { key: 'template', kind: 'template', label: 'field.template', required: true },
      { key: 'fallback', kind: 'channels', label: 'field.fallback', hint: 'hint.fallback' },
      { key: 'advertising', kind: 'bool3', label: 'field.advertising', hint: 'hint.advertising_node' },
      { key: 'next', kind: 'ref', label: 'field.next' },
    ],
    defaults: () => ({ type: 'send', channel: 'email', template: { subject: 'Hello {{ user.first_name }}', text: 'Hello!' } }),
  },
  wait: {
    fields: [
      { key: 'duration', kind: 'duration', label: 'field.duration', hint: 'hint.wait' },
      { key: 'until', kind: 'until', label: 'field.until' },
      { key: 'next', kind: 'ref', label: 'field.next' },
    ],
    defaults: () => ({ type: 'wait', duration: { days: 1 } }),
  },
  wait_event: {
    fields: [
      { key: 'event', kind: 'text', label: 'field.event', required: true },
      { key: 'where', kind: 'where', label: 'field.where', hint: 'hint.where' },
      { key: 'timeout', kind: 'duration', label: 'field.timeout', required: true },
      { key: 'next', kind: 'ref', label: 'field.next_event' },
      { key: 'timeout_next', kind: 'ref', label: 'field.timeout_next' },
    ],
    defaults: () => ({ type: 'wait_event', event: 'Email Link Clicked', timeout: { days: 3 } }),
  },
  branch: {
    fields: [
      { key: 'branches', kind: 'branches', label: 'field.branches', required: true, hint: 'hint.branches' },
      { key: 'else', kind: 'ref', label: 'field.else' },
    ],
    defaults: () => ({ type: 'branch', branches: [{ when: { tag: 'vip' } }] }),
  },
  split: {
    fields: [
      { key: 'variants', kind: 'split_variants', label: 'field.variants', required: true, hint: 'hint.split' },
      { key: 'holdout', kind: 'number', label: 'field.holdout', hint: 'hint.holdout', min: 0, max: 99 },
    ],
    defaults: () => ({ type: 'split', variants: [{ name: 'A', weight: 50 }, { name: 'B', weight: 50 }], holdout: 0 }),
  },
  update: {
    fields: [
      { key: 'tags_add', kind: 'tags', label: 'field.tags_add' },
      { key: 'tags_remove', kind: 'tags', label: 'field.tags_remove' },
      { key: 'set', kind: 'json', label: 'field.set', hint: 'hint.set' },
      { key: 'lifecycle', kind: 'select', label: 'field.lifecycle', options: LIFECYCLES, optionPrefix: 'lifecycle.' },
      { key: 'score', kind: 'scores', label: 'field.score', hint: 'hint.score' },
      { key: 'next', kind: 'ref', label: 'field.next' },
    ],
    defaults: () => ({ type: 'update', tags_add: ['engaged'] }),
  },
  webhook: {
    fields: [
      { key: 'url', kind: 'text', label: 'field.url', required: true },
      { key: 'body', kind: 'liquid', label: 'field.body', hint: 'hint.liquid' },
      { key: 'next', kind: 'ref', label: 'field.next' },
    ],
    defaults: () => ({ type: 'webhook', url: 'https://example.com/hook' }),
  },
  slack: {
    fields: [
      { key: 'channel', kind: 'text', label: 'field.slack_channel', required: true, hint: 'hint.slack_channel' },
      { key: 'text', kind: 'liquid', label: 'field.text', required: true, hint: 'hint.liquid' },
      { key: 'next', kind: 'ref', label: 'field.next' },
    ],
    defaults: () => ({ type: 'slack', channel: '#general', text: 'New: {{ user.id }}' }),
  },
  goal: {
    fields: [{ key: 'next', kind: 'ref', label: 'field.next' }],
    defaults: () => ({ type: 'goal' }),
  },
  exit: { fields: [], defaults: () => ({ type: 'exit' }) },
};

export function defaultDef(type: NodeType, id: string): JNodeDef {
  return { id, ...nodeTable[type].defaults() } as JNodeDef;
}

export const TRIGGER_TYPES = ['event', 'segment_entered', 'segment_exited', 'trait_changed', 'date', 'content_published', 'manual', 'broadcast'] as const;
export type TriggerType = (typeof TRIGGER_TYPES)[number];

/** The trigger's keys per type (journey_def.c trigger_defs). */
export const triggerTable: Record<TriggerType, FieldSpec[]> = {
  event: [
    { key: 'event', kind: 'text', label: 'field.trigger_event', required: true },
    { key: 'where', kind: 'where', label: 'field.where', hint: 'hint.where' },
  ],
  segment_entered: [{ key: 'segment', kind: 'text', label: 'field.segment', required: true }],
  segment_exited: [{ key: 'segment', kind: 'text', label: 'field.segment', required: true }],
  trait_changed: [
    { key: 'trait', kind: 'text', label: 'field.trait', required: true },
    { key: 'from', kind: 'text', label: 'field.from', hint: 'hint.from_to' },
    { key: 'to', kind: 'text', label: 'field.to', hint: 'hint.from_to' },
  ],
  date: [
    { key: 'trait', kind: 'text', label: 'field.date_trait', required: true },
    { key: 'offset', kind: 'duration', label: 'field.offset', hint: 'hint.offset' },
    { key: 'at', kind: 'text', label: 'field.at_time', hint: 'hint.hhmm' },
  ],
  content_published: [],
  manual: [],
  broadcast: [
    { key: 'segment', kind: 'text', label: 'field.segment', required: true },
    { key: 'at', kind: 'text', label: 'field.broadcast_at', hint: 'hint.broadcast_at' },
    { key: 'cron', kind: 'text', label: 'field.cron', hint: 'hint.cron' },
  ],
};
