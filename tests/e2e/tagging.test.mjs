// Auto-tagging rules against the real binary (docs/tagging.md): seed 001's
// default rules moved by events through the Tracking API and by the virtual
// clock, Tag Added / Removed on the timeline with the rule that caused them,
// the tagging-rules resource (validation, PUT taking effect), and survival
// across a restart.

import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';

const NOW = Date.parse('2026-03-02T10:00:00+09:00');
const clock = { now: NOW };
const at = (ms) => new Date(ms).toISOString();
const expectStatus = (r, status, what = '') => assert.equal(r.status, status, `${what} → ${r.status} ${r.text}`);

let srv;
before(async () => { srv = await startServer({ extraArgs: ['--virtual-clock', '2026-03-02T10:00:00+09:00'] }); });
after(async () => { await srv?.close(); });

async function advance(days) {
  const r = await srv.api('/api/v1/_clock', { method: 'POST', body: { advance: { days } } });
  expectStatus(r, 200, 'advance clock');
  clock.now += days * 86400000;
}

async function track(userId, event, properties = {}) {
  const r = await srv.track('/v1/track', { userId, event, properties, timestamp: at(clock.now) });
  expectStatus(r, 200, `track ${event}`);
}

async function tags(userId) {
  const r = await srv.api(`/api/v1/users/${encodeURIComponent(userId)}`, { method: 'GET' });
  expectStatus(r, 200, 'profile');
  return r.body.tags ?? r.body.data?.tags ?? [];
}

async function timeline(userId) {
  const r = await srv.api(`/api/v1/users/${encodeURIComponent(userId)}/events?limit=200`, { method: 'GET' });
  expectStatus(r, 200, 'timeline');
  return r.body.data.map((e) => ({ name: e.event ?? e.name, props: e.properties ?? e.body?.properties ?? {} }));
}

async function waitFor(fn, what, ms = 5000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

const hasTag = (u, t) => waitFor(async () => (await tags(u)).includes(t), `${u} tagged ${t}`);
const lacksTag = (u, t) => waitFor(async () => !(await tags(u)).includes(t), `${u} not tagged ${t}`);

describe('default rules (seed 001)', () => {
  test('every workspace has them, editable', async () => {
    const r = await srv.api('/api/v1/tagging-rules', { method: 'GET' });
    expectStatus(r, 200);
    const ids = r.body.data.map((x) => x.id);
    for (const id of ['disengaged', 'interest-topic', 'hesitant', 'review-target', 'order-clears-hesitant'])
      assert.ok(ids.includes(id), `default rule ${id} in ${ids}`);
    const h = r.body.data.find((x) => x.id === 'hesitant');
    assert.deepEqual(h.unless, { event: 'Order Completed', within: { days: 3 } });
  });

  test('3 unopened emails → disengaged; Email Opened removes it', async () => {
    const u = 'tg-disengaged';
    await track(u, 'Email Sent');
    await track(u, 'Email Sent');
    assert.ok(!(await tags(u)).includes('disengaged'));
    await track(u, 'Email Sent');
    await hasTag(u, 'disengaged');
    const tl = await waitFor(async () => {
      const t = await timeline(u);
      return t.find((e) => e.name === 'Tag Added' && e.props.tag === 'disengaged') && t;
    }, 'Tag Added on the timeline');
    const added = tl.find((e) => e.name === 'Tag Added' && e.props.tag === 'disengaged');
    assert.equal(added.props.rule_id, 'disengaged');
    assert.ok(added.props.rule_name);
    assert.ok(added.props.cause_event_id);
    await track(u, 'Email Opened');
    await lacksTag(u, 'disengaged');
    await waitFor(async () => (await timeline(u)).find((e) => e.name === 'Tag Removed' && e.props.rule_id === 'disengaged'),
      'Tag Removed on the timeline');
  });

  test('content click → interest:<topic>', async () => {
    const u = 'tg-interest';
    await track(u, 'Email Link Clicked', { link_kind: 'content', link_topic: 'marketing' });
    await hasTag(u, 'interest:marketing');
    await track(u, 'Email Link Clicked', { link_kind: 'content' }); // no topic: nothing
    const t = await tags(u);
    assert.deepEqual(t.filter((x) => x.startsWith('interest:')), ['interest:marketing']);
  });

  test('review click → review-target', async () => {
    const u = 'tg-review';
    await track(u, 'Email Link Clicked', { link_kind: 'review' });
    await hasTag(u, 'review-target');
    const tl = await timeline(u);
    assert.ok(tl.find((e) => e.name === 'Tag Added' && e.props.rule_id === 'review-target'));
  });

  test('purchase click, no order in 3 days → hesitant; an order removes it; an order in time prevents it', async () => {
    const late = 'tg-hesitant';
    const buyer = 'tg-buyer';
    await track(late, 'Email Link Clicked', { link_kind: 'purchase' });
    await track(buyer, 'Email Link Clicked', { link_kind: 'purchase' });
    await advance(1);
    await track(buyer, 'Order Completed', { revenue: 39000, currency: 'KRW' });
    await advance(1);
    assert.ok(!(await tags(late)).includes('hesitant'), 'not before 3 days');
    await advance(2);
    await hasTag(late, 'hesitant');
    assert.ok(!(await tags(buyer)).includes('hesitant'), 'an order within 3 days cancels it');
    const tl = await timeline(late);
    const added = tl.find((e) => e.name === 'Tag Added' && e.props.tag === 'hesitant');
    assert.equal(added.props.rule_id, 'hesitant');
    assert.ok(added.props.due_at);
    await track(late, 'Order Completed', { revenue: 10000, currency: 'KRW' });
    await lacksTag(late, 'hesitant');
    const tl2 = await timeline(late);
    assert.ok(tl2.find((e) => e.name === 'Tag Removed' && e.props.rule_id === 'order-clears-hesitant'));
  });
});

describe('tagging-rules resource', () => {
  test('422 names the path; 409 on a taken id; 404 unknown', async () => {
    let r = await srv.api('/api/v1/tagging-rules', { method: 'POST', body: { id: 'bad', when: { event: 'X', where: { property: 'a', op: 'nope', value: 1 } }, add: ['x'] } });
    expectStatus(r, 422);
    assert.equal(r.body.error.field, 'when.where.op');
    r = await srv.api('/api/v1/tagging-rules', { method: 'POST', body: { id: 'bad', when: { event: 'X' }, add: ['{{ user.name }}'] } });
    expectStatus(r, 422);
    assert.equal(r.body.error.field, 'add[0]');
    r = await srv.api('/api/v1/tagging-rules', { method: 'POST', body: { id: 'bad', when: { event: 'X' }, unless: { event: 'Y', within: { days: 0 } }, add: ['x'] } });
    expectStatus(r, 422);
    assert.equal(r.body.error.field, 'unless.within');
    r = await srv.api('/api/v1/tagging-rules', { method: 'POST', body: { id: 'bad', when: { condition: { tag: 'a', op: 'eq' } }, add: ['x'] } });
    expectStatus(r, 422);
    r = await srv.api('/api/v1/tagging-rules', { method: 'POST', body: { id: 'hesitant', when: { event: 'X' }, add: ['x'] } });
    expectStatus(r, 409);
    r = await srv.api('/api/v1/tagging-rules/nope', { method: 'GET' });
    expectStatus(r, 404);
  });

  test('create, PUT takes effect, delete archives', async () => {
    let r = await srv.api('/api/v1/tagging-rules', { method: 'POST', body: { id: 'signup', name: 'Signed up', when: { event: 'Signed Up' }, add: ['new'] } });
    expectStatus(r, 201);
    assert.equal(r.body.id, 'signup');
    await track('tg-put-1', 'Signed Up');
    await hasTag('tg-put-1', 'new');
    r = await srv.api('/api/v1/tagging-rules/signup', { method: 'PUT', body: { add: ['fresh:{{ event.properties.plan }}'] } });
    expectStatus(r, 200);
    assert.deepEqual(r.body.add, ['fresh:{{ event.properties.plan }}']);
    assert.equal(r.body.name, 'Signed up');
    await track('tg-put-2', 'Signed Up', { plan: 'pro' });
    await hasTag('tg-put-2', 'fresh:pro');
    assert.ok(!(await tags('tg-put-2')).includes('new'));
    r = await srv.api('/api/v1/tagging-rules?limit=2', { method: 'GET' });
    expectStatus(r, 200);
    assert.equal(r.body.data.length, 2);
    assert.ok(r.body.next_cursor);
    r = await srv.api('/api/v1/tagging-rules/signup', { method: 'DELETE' });
    expectStatus(r, 200);
    await track('tg-put-3', 'Signed Up', { plan: 'pro' });
    r = await srv.api('/api/v1/tagging-rules/signup', { method: 'GET' });
    expectStatus(r, 404);
    assert.ok(!(await tags('tg-put-3')).includes('fresh:pro'));
  });

  test('edits and pending timers survive a restart', async () => {
    let r = await srv.api('/api/v1/tagging-rules/review-target', { method: 'PUT', body: { add: ['review-fan'] } });
    expectStatus(r, 200);
    await track('tg-restart', 'Email Link Clicked', { link_kind: 'purchase' });
    await srv.restart();
    // a restarted server starts its virtual clock again: put it back
    r = await srv.api('/api/v1/_clock', { method: 'POST', body: { set: at(clock.now) } });
    expectStatus(r, 200, 'set clock');
    r = await srv.api('/api/v1/tagging-rules/review-target', { method: 'GET' });
    expectStatus(r, 200);
    assert.deepEqual(r.body.add, ['review-fan']);
    await track('tg-restart', 'Email Link Clicked', { link_kind: 'review' });
    await hasTag('tg-restart', 'review-fan');
    await advance(4);
    await hasTag('tg-restart', 'hesitant');
  });
});
