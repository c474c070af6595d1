import { describe, expect, it } from 'vitest';
import { condDict } from './cond.i18n';
import { segDict } from '../segments/segments.i18n';
import { peopleDict } from '../people/people.i18n';
import { LEAF_KINDS, NUM_OPS, UNITS, VALUE_OPS, CONSENT_CHANNELS, CONSENT_STATES } from './cond';

describe('dictionaries', () => {
  for (const [name, d] of [['cond', condDict], ['segments', segDict], ['people', peopleDict]] as const)
    it(`${name}: Korean and English have the same keys`, () => {
      expect(Object.keys(d.ko).sort()).toEqual(Object.keys(d.en).sort());
      for (const [k, v] of Object.entries(d.ko)) expect(v, k).toBeTruthy();
    });
  it('every operator, kind, unit, channel and state has a word', () => {
    const keys = [
      ...VALUE_OPS.map((o) => 'op.' + o), ...NUM_OPS.map((o) => 'op.' + o), ...LEAF_KINDS.map((k) => 'kind.' + k),
      ...UNITS.map((u) => 'unit.' + u), ...CONSENT_CHANNELS.map((c) => 'channel.' + c), 'channel.topic',
      ...CONSENT_STATES.map((s) => 'state.' + s), 'type.text', 'type.number', 'type.bool', 'type.date',
    ];
    for (const k of keys) expect(condDict.en[k], k).toBeTruthy();
  });
});
