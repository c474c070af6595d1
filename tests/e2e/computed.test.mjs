// Computed traits and condition evaluation against the real binary
// (docs/computed-traits.md): events through the Tracking API update the
// per-user aggregates; GET /api/v1/users/{id} shows "computed";
// POST /api/v1/users/{id}/evaluate answers a condition. The server runs on a
// virtual clock; "days ago" comes from event timestamps in the past.

import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, uid } from './lib/server.mjs';

const NOW = Date.parse('2026-03-02T10:00:00+09:00');
const DAY = 86400000;
const at = (ms) => new Date(ms).toISOString();

let srv;
before(async () => { srv = await startServer({ extraArgs: ['--virtual-clock', '2026-03-02T10:00:00+09:00'] }); });
after(async () => { await srv?.close(); });

const expectStatus = (r, status, what = '') => assert.equal(r.status, status, `${what} → ${r.status} ${r.text}`);

async function track(userId, event, { ago = 0, properties = {} } = {}) {
  const r = await srv.track('/v1/track', { userId, event, properties, timestamp: at(NOW - ago) });
  expectStatus(r, 200, `track ${event}`);
}

async function computed(userId) {
  const r = await srv.api(`/api/v1/users/${encodeURIComponent(userId)}`);
  expectStatus(r, 200, 'GET user');
  assert.equal(typeof r.body.computed, 'object', r.text);
  return r.body.computed;
}

async function evaluate(userId, condition) {
  return srv.api(`/api/v1/users/${encodeURIComponent(userId)}/evaluate`, { method: 'POST', body: { condition } });
}

async function holds(userId, condition) {
  const r = await evaluate(userId, condition);
  expectStatus(r, 200, `evaluate ${JSON.stringify(condition)}`);
  assert.equal(typeof r.body.result, 'boolean', r.text);
  return r.body.result;
}

const DISENGAGED = { computed: 'consecutive_unopened_emails', op: 'gte', value: 3 };

describe('computed traits through the Tracking API', () => {
  test('three unopened emails make the condition true; an open resets it', async () => {
    const u = uid('mail');
    for (let i = 0; i < 3; i++) await track(u, 'Email Sent', { ago: (3 - i) * 3600000 });
    let c = await computed(u);
    assert.equal(c.consecutive_unopened_emails, 3);
    assert.equal(c.email_sent_7d, 3);
    assert.equal(c.open_rate_30d, 0);
    assert.equal(await holds(u, DISENGAGED), true);

    await track(u, 'Email Opened', { ago: 1000 });
    c = await computed(u);
    assert.equal(c.consecutive_unopened_emails, 0);
    assert.equal(c.email_opened_7d, 1);
    assert.ok(Math.abs(c.open_rate_30d - 1 / 3) < 1e-9, `open_rate_30d ${c.open_rate_30d}`);
    assert.equal(await holds(u, DISENGAGED), false);

    await track(u, 'Email Sent');
    await track(u, 'Email Link Clicked');
    c = await computed(u);
    assert.equal(c.consecutive_unopened_emails, 0, 'a click resets too');
    assert.equal(c.email_clicked_30d, 1);
  });

  test('orders: count, revenue, last order, days since; 40-day-old events leave 30-day windows', async () => {
    const u = uid('buyer');
    await track(u, 'Order Completed', { ago: 40 * DAY, properties: { revenue: 30000, currency: 'KRW' } });
    await track(u, 'Order Completed', { ago: 5 * DAY, properties: { revenue: 15000, currency: 'KRW' } });
    await track(u, 'Email Sent', { ago: 40 * DAY });
    await track(u, 'Email Sent', { ago: 2 * DAY });
    const c = await computed(u);
    assert.equal(c.order_count, 2);
    assert.equal(c.revenue_total, 45000);
    assert.equal(Date.parse(c.last_order_at), NOW - 5 * DAY);
    assert.equal(c.days_since_last_order, 5);
    assert.equal(c.email_sent_30d, 1, 'the 40-day-old send is outside 30 days');
    assert.equal(c.email_sent_90d, 2);
    assert.equal(Date.parse(c.first_seen_at), NOW - 40 * DAY);

    assert.equal(await holds(u, { event: 'Order Completed', count: { op: 'eq', value: 1 }, within: { days: 30 } }), true);
    assert.equal(await holds(u, { event: 'Order Completed', sum: { property: 'revenue', op: 'gte', value: 45000 } }), true);
    assert.equal(await holds(u, { event: 'Order Completed', sum: { property: 'revenue', op: 'gte', value: 20000 }, within: { days: 30 } }), false);
    assert.equal(await holds(u, {
      event: 'Order Completed', where: { property: 'currency', op: 'eq', value: 'KRW' },
      count: { op: 'eq', value: 2 },
    }), true, 'a where filter (slow path)');
    assert.equal(await holds(u, { computed: 'days_since_last_order', op: 'lt', value: 7 }), true);
  });

  test('bad conditions are 422 naming the path; unknown users 404', async () => {
    const u = uid('bad');
    await track(u, 'Signed Up');
    let r = await evaluate(u, { all: [{ trait: 'plan', op: 'eq', value: 'pro' }, { event: 'X', count: { op: 'nope', value: 1 } }] });
    expectStatus(r, 422);
    assert.equal(r.body.error.code, 'invalid_condition', r.text);
    assert.equal(r.body.error.field, 'condition.all[1].count.op', r.text);
    r = await srv.api(`/api/v1/users/${u}/evaluate`, { method: 'POST', body: {} });
    expectStatus(r, 422);
    assert.equal(r.body.error.field, 'condition', r.text);
    r = await srv.api(`/api/v1/users/${u}/evaluate`, { method: 'POST', body: { condition: { tag: 'x' }, extra: 1 } });
    expectStatus(r, 422);
    r = await evaluate(uid('nobody'), { tag: 'x' });
    expectStatus(r, 404);
    r = await srv.api(`/api/v1/users/${u}/evaluate`, { method: 'POST', body: { condition: { tag: 'x' } }, auth: srv.writeKey });
    assert.ok(r.status === 401 || r.status === 403, `write key → ${r.status}`);
  });

  test('the aggregates survive a restart', async () => {
    const u = uid('durable');
    for (let i = 0; i < 4; i++) await track(u, 'Email Sent', { ago: 1000 * (10 - i) });
    await track(u, 'Order Completed', { ago: DAY, properties: { revenue: '2500.5' } });
    const before = await computed(u);
    assert.equal(before.consecutive_unopened_emails, 4);
    await srv.restart();
    const afterRestart = await computed(u);
    assert.deepEqual(afterRestart, before);
    assert.equal(afterRestart.revenue_total, 2500.5);
    assert.equal(await holds(u, DISENGAGED), true);
  });

  // last: it moves the shared virtual clock forward
  test('windows slide when the clock moves, with no new event', async () => {
    const u = uid('slide');
    await track(u, 'Order Completed', { ago: 25 * DAY, properties: { revenue: 1000 } });
    await track(u, 'Email Sent', { ago: 25 * DAY });
    const atRisk = { all: [{ event: 'Order Completed' },
      { event: 'Order Completed', count: { op: 'eq', value: 0 }, within: { days: 30 } }] };
    let c = await computed(u);
    assert.equal(c.email_sent_30d, 1);
    assert.equal(c.days_since_last_order, 25);
    assert.equal(await holds(u, atRisk), false);
    const r = await srv.api('/api/v1/_clock', { method: 'POST', body: { advance: { days: 6 } } });
    expectStatus(r, 200, 'advance the clock');
    c = await computed(u);
    assert.equal(c.email_sent_30d, 0, '31 days later the send has left the window');
    assert.equal(c.email_sent_90d, 1);
    assert.equal(c.days_since_last_order, 31);
    assert.equal(await holds(u, atRisk), true, 'at risk on day 31 without a new event');
  });
});
