import { describe as group, expect, it } from 'vitest';
import { translate } from '../i18n';
import { peopleDict } from './people.i18n';
import { describe, eventItems, eventKind, mergeTimeline, messageItems, stepItems, type RawEvent, type RawMessage, type RawStep } from './timeline';

const t = (k: string, v?: Record<string, string | number>) => translate(peopleDict, 'en', k, v);
const tk = (k: string, v?: Record<string, string | number>) => translate(peopleDict, 'ko', k, v);
const ev = (o: Partial<RawEvent> & { timestamp: string }): RawEvent => ({ type: 'track', ...o });

group('kinds', () => {
  it('classifies events', () => {
    expect(eventKind(ev({ timestamp: '', event: 'Order Completed' }))).toBe('event');
    expect(eventKind(ev({ timestamp: '', event: 'Email Opened' }))).toBe('event');
    expect(eventKind(ev({ timestamp: '', event: 'Tag Added' }))).toBe('tag');
    expect(eventKind(ev({ timestamp: '', type: 'tags' }))).toBe('tag');
    expect(eventKind(ev({ timestamp: '', type: 'consent' }))).toBe('consent');
    expect(eventKind(ev({ timestamp: '', event: 'Unsubscribed' }))).toBe('consent');
    expect(eventKind(ev({ timestamp: '', type: 'identify' }))).toBe('event');
    expect(eventKind(ev({ timestamp: '', type: 'lifecycle' }))).toBe('event');
  });
});

group('merge', () => {
  const e = eventItems([
    ev({ messageId: 'e3', timestamp: '2026-03-01T10:00:00.000Z', event: 'C' }),
    ev({ messageId: 'e2', timestamp: '2026-03-01T08:00:00.000Z', event: 'B' }),
  ]);
  const m = messageItems([
    { id: 'm2', channel: 'email', status: 'sent', created_at: '2026-03-01T09:00:00.000Z' },
    { id: 'm1', channel: 'sms', status: 'failed', created_at: '2026-03-01T07:00:00.000Z' },
  ]);
  const j = stepItems([{ journey_id: 'w', version: 1, node: 'n', at: '2026-03-01T06:00:00.000Z', reason: 'r' }]);
  it('newest first across sources', () => {
    const r = mergeTimeline([{ items: e, more: false }, { items: m, more: false }, { items: j, more: false }]);
    expect(r.items.map((i) => i.key)).toEqual(['e:e3', 'm:m2', 'e:e2', 'm:m1', j[0].key]);
    expect(r.hidden).toBe(0);
  });
  it('waits for a source with older pages: nothing older than its oldest loaded item shows', () => {
    const r = mergeTimeline([{ items: e, more: true }, { items: m, more: false }, { items: j, more: false }]);
    expect(r.items.map((i) => i.key)).toEqual(['e:e3', 'm:m2', 'e:e2']);
    expect(r.hidden).toBe(2);
    expect(r.horizon).toBe(Date.parse('2026-03-01T08:00:00.000Z'));
  });
  it('the tightest horizon wins when several sources have more', () => {
    const r = mergeTimeline([{ items: e, more: true }, { items: m, more: true }]);
    expect(r.items.map((i) => i.key)).toEqual(['e:e3', 'm:m2', 'e:e2']);
  });
  it('a page that repeats an item does not show it twice; ties keep the source order', () => {
    const dup = eventItems([ev({ messageId: 'e3', timestamp: '2026-03-01T10:00:00.000Z', event: 'C' })]);
    const tie = messageItems([{ id: 'mt', channel: 'email', status: 'sent', created_at: '2026-03-01T10:00:00.000Z' }]);
    const r = mergeTimeline([{ items: [...e, ...dup], more: false }, { items: tie, more: false }]);
    expect(r.items.map((i) => i.key)).toEqual(['e:e3', 'm:mt', 'e:e2']);
  });
});

group('descriptions', () => {
  const one = (x: RawEvent) => describe(eventItems([x])[0], t);
  it('events', () => {
    expect(one(ev({ timestamp: 'x', event: 'Order Completed', properties: { revenue: 25800, currency: 'KRW', message_id: 'm' } }))).toBe('Order Completed — revenue: 25800, currency: KRW');
    expect(one(ev({ timestamp: 'x', event: 'Signed Up' }))).toBe('Signed Up');
    expect(one(ev({ timestamp: 'x', type: 'identify', traits: { name: 'a', plan: 'pro' } }))).toBe('Profile updated: name, plan');
    expect(one(ev({ timestamp: 'x', type: 'lifecycle', properties: { stage: 'mql' } }))).toBe('Lifecycle stage → mql');
    expect(one(ev({ timestamp: 'x', type: 'page', name: 'Pricing' }))).toBe('Viewed page Pricing');
  });
  it('tags with their reason', () => {
    expect(one(ev({ timestamp: 'x', type: 'tags', properties: { add: ['vip'], remove: ['trial'] } }))).toBe('Tags +vip −trial — changed by hand or through the API');
    expect(one(ev({ timestamp: 'x', type: 'tags', properties: { add: ['vip'], reason: 'import' } }))).toBe('Tags +vip — reason: import');
    expect(one(ev({ timestamp: 'x', event: 'Tag Added', properties: { tag: 'interest:marketing', rule_id: 'r', rule_name: 'Content click' } }))).toBe('Tag added: interest:marketing — rule: Content click');
  });
  it('consent', () => {
    expect(one(ev({ timestamp: 'x', type: 'consent', properties: { email: 'unsubscribed', topics: { newsletter: 'subscribed' }, source: 'admin' } }))).toBe(
      'Consent: Email unsubscribed, topic newsletter subscribed — source: admin',
    );
    expect(describe(eventItems([ev({ timestamp: 'x', type: 'consent', properties: { sms: 'subscribed' } })])[0], tk)).toBe('수신 동의: SMS 수신 동의');
  });
  it('messages and journey steps', () => {
    const msg: RawMessage = { id: 'm', channel: 'sms', status: 'failed', created_at: 'x', content: { text: '가입을 환영합니다!' }, reason: 'no phone', journey: { id: 'welcome', node: 'hello' } };
    expect(describe(messageItems([msg])[0], t)).toBe('SMS message failed — “가입을 환영합니다!” · journey welcome/hello · no phone');
    expect(describe(messageItems([{ ...msg, status: 'weird', reason: null }])[0], t)).toBe('SMS message weird — “가입을 환영합니다!” · journey welcome/hello');
    const st: RawStep = { journey_id: 'welcome', version: 2, node: 'wait2', at: 'x', reason: 'waiting 2 days' };
    expect(describe(stepItems([st])[0], t)).toBe('welcome v2 · wait2 — waiting 2 days');
  });
});
