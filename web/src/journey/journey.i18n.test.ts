import { describe, expect, it } from 'vitest';
import { CHANNELS, LIFECYCLES, nodeTable, TEMPLATE_KEYS, TRIGGER_TYPES, triggerTable, WEEKDAYS } from './nodeTable';
import { NODE_TYPES } from './graph';
import { journeyDict } from './journey.i18n';

const sources = import.meta.glob(['./*.tsx', './*.ts', '!./*.test.ts'], { query: '?raw', import: 'default', eager: true }) as Record<string, string>;

describe('the journey dictionary', () => {
  it('has every English key in Korean, and nothing only in Korean', () => {
    const en = Object.keys(journeyDict.en);
    const ko = Object.keys(journeyDict.ko);
    expect(en.filter((k) => !(k in journeyDict.ko))).toEqual([]);
    expect(ko.filter((k) => !(k in journeyDict.en))).toEqual([]);
  });

  it('has every key the code uses', () => {
    const used = new Set<string>();
    for (const src of Object.values(sources)) {
      for (const m of src.matchAll(/\bt\('([a-z_]+\.[a-z_.]+)'/g)) if (!m[1].endsWith('.')) used.add(m[1]);
      for (const m of src.matchAll(/(?:label|hint): '([a-z_]+\.[a-z_]+)'/g)) used.add(m[1]);
    }
    const dyn: [string, readonly string[]][] = [
      ['type.', NODE_TYPES],
      ['help.', NODE_TYPES],
      ['channel.', CHANNELS],
      ['lifecycle.', LIFECYCLES],
      ['weekday.', WEEKDAYS],
      ['unit.', ['weeks', 'days', 'hours', 'minutes']],
      ['dur.', ['days', 'hours', 'minutes']],
      ['trigger.', TRIGGER_TYPES],
      ['trigger_help.', TRIGGER_TYPES],
      ['reentry.', ['never', 'always', 'after']],
      ['quiet.', ['default', 'off', 'custom']],
      ['status.', ['draft', 'live', 'paused', 'archived']],
      ['diff.', ['added', 'removed', 'changed']],
      ['tplkey.', Object.values(TEMPLATE_KEYS).flatMap((l) => l.map((k) => k.key))],
    ];
    for (const [p, vals] of dyn) for (const v of vals) used.add(p + v);
    for (const spec of Object.values(nodeTable)) for (const f of spec.fields) used.add(f.label);
    for (const list of Object.values(triggerTable)) for (const f of list) used.add(f.label);
    const missing = [...used].filter((k) => !(k in journeyDict.en));
    expect(missing).toEqual([]);
    expect(used.size).toBeGreaterThan(200);
  });
});
