// format.ts — node and trigger summaries in words, for the canvas cards.
import type { Duration, JNodeDef } from './graph';

type T = (key: string, vars?: Record<string, string | number>) => string;

export function durText(d: Duration | undefined | null, t: T): string {
  if (!d || typeof d !== 'object') return '';
  const parts: string[] = [];
  for (const u of ['weeks', 'days', 'hours', 'minutes'] as const) {
    const n = d[u];
    if (typeof n === 'number' && n !== 0) parts.push(t('unit.' + u, { n }));
  }
  return parts.join(' ');
}

function templateText(tpl: unknown, t: T): string {
  if (typeof tpl === 'string') return tpl;
  if (tpl && typeof tpl === 'object') return t('summary.inline');
  return '';
}

function hostOf(url: unknown): string {
  if (typeof url !== 'string') return '';
  try {
    return new URL(url).host;
  } catch {
    return url.slice(0, 40);
  }
}

/** One line saying what a node does. */
export function nodeSummary(def: JNodeDef, t: T): string {
  switch (def.type) {
    case 'send': {
      const ch = t('channel.' + (def.channel || 'email'));
      if (Array.isArray(def.variants)) return `${ch} · ${t('summary.variants', { n: def.variants.length })}`;
      return `${ch} · ${templateText(def.template, t)}`;
    }
    case 'wait': {
      const parts: string[] = [];
      if (def.duration) parts.push(durText(def.duration, t));
      if (def.until) {
        const u = def.until;
        const days = Array.isArray(u.weekdays) ? u.weekdays.map((w: string) => t('weekday.' + w)).join(',') : '';
        parts.push(t('summary.until', { when: [u.time, days].filter(Boolean).join(' ') }));
      }
      return parts.join(' ') || t('summary.empty');
    }
    case 'wait_event':
      return t('summary.wait_event', { event: def.event || '?', d: durText(def.timeout, t) || '?' });
    case 'branch':
      return t('summary.branch', { n: Array.isArray(def.branches) ? def.branches.length : 0 });
    case 'split': {
      const v = Array.isArray(def.variants) ? def.variants.map((x: { name?: string; weight?: number }) => `${x.name} ${x.weight}`).join(' / ') : '';
      return def.holdout ? `${v} · ${t('summary.holdout', { n: def.holdout })}` : v;
    }
    case 'update': {
      const parts: string[] = [];
      if (Array.isArray(def.tags_add)) parts.push(...def.tags_add.map((x: string) => '+' + x));
      if (Array.isArray(def.tags_remove)) parts.push(...def.tags_remove.map((x: string) => '−' + x));
      if (def.set && typeof def.set === 'object') parts.push(t('summary.set', { n: Object.keys(def.set).length }));
      if (def.lifecycle) parts.push(t('lifecycle.' + def.lifecycle));
      if (def.score && typeof def.score === 'object')
        parts.push(...Object.entries(def.score).map(([k, v]) => `${k} ${(v as number) > 0 ? '+' : ''}${v}`));
      return parts.join(' ') || t('summary.empty');
    }
    case 'webhook':
      return hostOf(def.url);
    case 'slack':
      return String(def.channel || '');
    case 'goal':
      return t('summary.goal');
    case 'exit':
      return t('summary.exit');
  }
  return '';
}

/** One line saying what starts the journey. */
export function triggerSummary(trigger: Record<string, unknown> | undefined, t: T): string {
  if (!trigger || typeof trigger.type !== 'string') return t('summary.no_trigger');
  const type = t('trigger.' + trigger.type);
  switch (trigger.type) {
    case 'event':
      return `${type}: ${trigger.event || '?'}`;
    case 'segment_entered':
    case 'segment_exited':
    case 'broadcast':
      return `${type}: ${trigger.segment || '?'}`;
    case 'trait_changed':
    case 'date':
      return `${type}: ${trigger.trait || '?'}`;
    default:
      return type;
  }
}
