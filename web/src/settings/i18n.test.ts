// Every visible string of templates, dashboards and settings in both
// languages: the dictionaries have the same keys, nothing empty, and every
// key the code asks for (literally, or built from a known list) exists.
import { describe, expect, it } from 'vitest';
import type { Dict } from '../i18n';
import { dashboardsDict } from '../dashboards/dashboards.i18n';
import { templatesDict } from '../templates/templates.i18n';
import { settingsDict } from './settings.i18n';
import { PROVIDER_FIELDS } from './providers';

const CHANNELS = ['email', 'sms', 'kakao', 'push', 'webhook', 'slack'];
const dirs: [string, Dict, string[]][] = [
  [
    'templates',
    templatesDict,
    [
      ...CHANNELS.map((c) => 'channel.' + c),
      ...['WL', 'AL', 'DS', 'BK', 'MD', 'AC'].map((b) => 'buttons.type.' + b),
      ...['subject', 'preheader', 'from', 'html', 'text', 'template_code', 'fallback_text', 'title', 'body'].map((f) => 'field.' + f),
    ],
  ],
  [
    'dashboards',
    dashboardsDict,
    [
      ...CHANNELS.map((c) => 'channel.' + c),
      ...['activation', 'engagement', 'conversion', 'retention', 'reactivation'].map((k) => 'kpi.' + k),
      'kpi.count.reactivation',
      ...['kpis', 'messages', 'series', 'funnel', 'segments', 'cohorts'].map((s) => 'section.' + s),
      ...['channel', 'journey', 'template', 'day', 'node', 'variant'].map((b) => 'by.' + b),
      ...['sent', 'delivered', 'opened', 'clicked', 'open_rate', 'click_rate', 'click_to_open_rate', 'unsubscribed', 'bounced', 'conversions', 'revenue'].map((c) => 'col.' + c),
      ...['open_rate', 'click_rate', 'click_to_open_rate', 'unsubscribe_rate', 'bounce_rate', 'complaint_rate'].map((r) => 'rate.' + r),
      'cohorts.day',
      'cohorts.week',
    ],
  ],
  [
    'settings',
    settingsDict,
    [
      ...CHANNELS.map((c) => 'channel.' + c),
      ...PROVIDER_FIELDS.flatMap((f) => ['pf.' + f.key, 'pfh.' + f.key]),
      ...['smtp', 'http', 'webhook', 'file'].flatMap((x) => ['type.' + x, 'type.hint.' + x]),
      ...['event', 'absence', 'condition'].flatMap((k) => ['kind.' + k, 'kind.hint.' + k]),
      ...['minutes', 'hours', 'days', 'weeks'].map((u) => 'unit.' + u),
      ...['email', 'phone', 'url', 'other'].map((x) => 'test.to.' + x),
      ...['write', 'secret'].flatMap((k) => ['keys.kind.' + k, 'keys.kind.hint.' + k]),
      ...['activation', 'engagement', 'conversion', 'retention', 'reactivation'].map((k) => 'kpi.' + k),
      ...['providers', 'domains', 'keys', 'kill', 'tagging', 'general'].map((k) => 'nav.' + k),
      'err.int',
      'err.num',
      'err.header',
    ],
  ],
];

// the sources as text, through Vite (no Node types needed)
const sources = import.meta.glob(['../templates/*.{ts,tsx}', '../dashboards/*.{ts,tsx}', './*.{ts,tsx}'], { query: '?raw', import: 'default', eager: true }) as Record<string, string>;

function literalKeys(dir: string): string[] {
  const keys = new Set<string>();
  for (const [file, src] of Object.entries(sources)) {
    const inDir = dir === 'settings' ? file.startsWith('./') : file.startsWith(`../${dir}/`);
    if (!inDir || file.includes('.test.') || file.endsWith('.i18n.ts')) continue;
    for (const m of src.matchAll(/\bt\('([a-zA-Z0-9_.]+)'[,)]/g)) keys.add(m[1]);
  }
  expect(keys.size).toBeGreaterThan(50);
  return [...keys];
}

describe.each(dirs)('%s dictionary', (dir, dict, dynamic) => {
  it('has the same keys in Korean and English, none empty', () => {
    expect(Object.keys(dict.ko).sort()).toEqual(Object.keys(dict.en).sort());
    for (const [k, v] of [...Object.entries(dict.en), ...Object.entries(dict.ko)]) expect(v, k).toBeTruthy();
  });
  it('has every key the code uses', () => {
    const missing = [...literalKeys(dir), ...dynamic].filter((k) => !(k in dict.en));
    expect(missing).toEqual([]);
  });
  it('keeps the {placeholders} of each string in both languages', () => {
    for (const k of Object.keys(dict.en)) {
      const vars = (s: string) => (s.match(/\{[a-z]+\}/g) || []).sort();
      expect(vars(dict.ko[k] || ''), k).toEqual(vars(dict.en[k]));
    }
  });
});
