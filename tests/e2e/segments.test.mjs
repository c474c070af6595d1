// Live segments against the real binary (docs/segments.md): the segments
// resource, membership moved by events through the Tracking API and by the
// virtual clock, Segment Entered / Exited on the timeline, preview, export,
// history, and survival across a restart.

import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, uid } from './lib/server.mjs';

const NOW = Date.parse('2026-03-02T10:00:00+09:00');
const at = (ms) => new Date(ms).toISOString();

let srv;
before(async () => { srv = await startServer({ extraArgs: ['--virtual-clock', '2026-03-02T10:00:00+09:00'] }); });
after(async () => { await srv?.close(); });

const expectStatus = (r, status, what = '') => assert.equal(r.status, status, `${what} → ${r.status} ${r.text}`);

const AT_RISK = {
  all: [
    { event: 'Order Completed', count: { op: 'gte', value: 1 } },
    { event: 'Order Completed', count: { op: 'eq', value: 0 }, within: { days: 30 } },
  ],
};

async function clockNow() {
  // the virtual clock only moves when told; keep our own copy
  return clock.now;
}
const clock = { now: NOW };

async function advance(days) {
  const r = await srv.api('/api/v1/_clock', { method: 'POST', body: { advance: { days } } });
  expectStatus(r, 200, 'advance clock');
  clock.now += days * 86400000;
}

async function track(userId, event, properties = {}) {
  const r = await srv.track('/v1/track', { userId, event, properties, timestamp: at(await clockNow()) });
  expectStatus(r, 200, `track ${event}`);
}

async function identify(userId, traits) {
  const r = await srv.track('/v1/identify', { userId, traits, timestamp: at(await clockNow()) });
  expectStatus(r, 200, 'identify');
}

async function members(id) {
  const out = [];
  let cursor = null;
  do {
    const r = await srv.api(`/api/v1/segments/${id}/members?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { method: 'GET' });
    expectStatus(r, 200, 'members');
    out.push(...r.body.data.map((m) => m.id));
    cursor = r.body.next_cursor;
  } while (cursor);
  return out;
}

async function timelineNames(userId) {
  const r = await srv.api(`/api/v1/users/${encodeURIComponent(userId)}/events?limit=100`, { method: 'GET' });
  expectStatus(r, 200, 'timeline');
  return r.body.data.map((e) => ({ name: e.event ?? e.name, props: e.properties ?? e.body?.properties }));
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

describe('segments resource', () => {
  test('422 names the path of a bad condition; 409 on a taken id; 404 unknown', async () => {
    let r = await srv.api('/api/v1/segments', { method: 'POST', body: { name: 'Bad', condition: { all: [{ event: 'X', count: { op: 'nope', value: 1 } }] } } });
    expectStatus(r, 422);
    assert.equal(r.body.error.field, 'condition.all[0].count.op');
    r = await srv.api('/api/v1/segments', { method: 'POST', body: { name: 'No condition' } });
    expectStatus(r, 422);
    assert.equal(r.body.error.field, 'condition');
    r = await srv.api('/api/v1/segments', { method: 'POST', body: { id: 'dup', name: 'Dup', condition: { tag: 'x' } } });
    expectStatus(r, 201);
    r = await srv.api('/api/v1/segments', { method: 'POST', body: { id: 'dup', name: 'Dup', condition: { tag: 'x' } } });
    expectStatus(r, 409);
    r = await srv.api('/api/v1/segments/nope', { method: 'GET' });
    expectStatus(r, 404);
    r = await srv.api('/api/v1/segments/dup', { method: 'DELETE' });
    expectStatus(r, 200);
    r = await srv.api('/api/v1/segments/dup', { method: 'GET' });
    expectStatus(r, 404);
  });

  test('a trait segment: filled on save, entered on identify, listed, exported, preview counts', async () => {
    const a = uid('pro'), b = uid('free'), c = uid('later');
    await identify(a, { plan: 'pro' });
    await identify(b, { plan: 'free' });
    const cond = { trait: 'plan', op: 'eq', value: 'pro' };
    let r = await srv.api('/api/v1/segments/preview', { method: 'POST', body: { condition: cond } });
    expectStatus(r, 200, 'preview');
    assert.ok(r.body.count >= 1);
    assert.ok(r.body.sample.includes(a));
    assert.ok(!r.body.sample.includes(b));

    r = await srv.api('/api/v1/segments', { method: 'POST', body: { name: 'Pro plan', condition: cond } });
    expectStatus(r, 201, 'create');
    const id = r.body.id;
    assert.equal(id, 'pro-plan');
    assert.equal(r.body.size, r.body.size | 0);
    const size0 = r.body.size;
    assert.ok((await members(id)).includes(a));

    await identify(c, { plan: 'pro' });
    const names = await waitFor(async () => {
      const t = await timelineNames(c);
      return t.some((e) => e.name === 'Segment Entered') && t;
    }, 'Segment Entered on identify');
    const entered = names.find((e) => e.name === 'Segment Entered');
    assert.equal(entered.props.segment_id, id);
    assert.equal(entered.props.segment_name, 'Pro plan');
    r = await srv.api(`/api/v1/segments/${id}`, { method: 'GET' });
    expectStatus(r, 200);
    assert.equal(r.body.size, size0 + 1);

    await identify(b, { plan: 'pro' });
    await identify(a, { plan: 'free' });
    await waitFor(async () => (await timelineNames(a)).some((e) => e.name === 'Segment Exited'), 'Segment Exited');
    const m = await members(id);
    assert.ok(m.includes(b) && m.includes(c) && !m.includes(a), JSON.stringify(m));
    // a profile names the segments it is in now (the web app's People page)
    const inB = (await srv.api(`/api/v1/users/${b}`, { method: 'GET' })).body.segments;
    assert.deepEqual(inB.map((x) => [x.id, x.name]), [[id, 'Pro plan']]);
    assert.match(inB[0].entered_at, /^\d{4}-\d\d-\d\dT/);
    assert.deepEqual((await srv.api(`/api/v1/users/${a}`, { method: 'GET' })).body.segments, []);

    r = await srv.api('/api/v1/segments?limit=1', { method: 'GET' });
    expectStatus(r, 200, 'list');
    assert.equal(r.body.data.length, 1);
    assert.equal(typeof r.body.data[0].size, 'number');

    r = await srv.api(`/api/v1/segments/${id}/members/export?format=csv`, { method: 'GET' });
    expectStatus(r, 200, 'export csv');
    assert.match(r.text, /^id,entered_at\r\n/);
    assert.ok(r.text.includes(b));
    r = await srv.api(`/api/v1/segments/${id}/members/export?format=ndjson`, { method: 'GET' });
    expectStatus(r, 200, 'export ndjson');
    const lines = r.text.trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(lines.some((l) => l.id === c));

    r = await srv.api(`/api/v1/segments/${id}/history`, { method: 'GET' });
    expectStatus(r, 200, 'history');
    assert.equal(r.body.data.at(-1).size, m.length);

    // PUT: a new condition recomputes membership
    r = await srv.api(`/api/v1/segments/${id}`, { method: 'PUT', body: { condition: { trait: 'plan', op: 'eq', value: 'free' } } });
    expectStatus(r, 200, 'put');
    const m2 = await members(id);
    assert.ok(m2.includes(a) && !m2.includes(b), JSON.stringify(m2));
  });
});

describe('time windows on the virtual clock', () => {
  test('at risk: enters on day 31 without an event, exits on a new order, survives a restart', async () => {
    const u = uid('buyer');
    await track(u, 'Order Completed', { revenue: 30000, currency: 'KRW' });
    let r = await srv.api('/api/v1/segments', { method: 'POST', body: { id: 'at-risk', name: 'At risk', condition: AT_RISK } });
    expectStatus(r, 201, 'create at risk');
    assert.ok(!(await members('at-risk')).includes(u));

    await advance(31);
    assert.ok((await members('at-risk')).includes(u), 'member on day 31');
    let t = await timelineNames(u);
    assert.ok(t.some((e) => e.name === 'Segment Entered' && e.props.segment_id === 'at-risk'), JSON.stringify(t));

    await track(u, 'Order Completed', { revenue: 10000, currency: 'KRW' });
    await waitFor(async () => !(await members('at-risk')).includes(u), 'exit after an order');
    t = await waitFor(async () => {
      const tl = await timelineNames(u);
      return tl.some((e) => e.name === 'Segment Exited' && e.props.segment_id === 'at-risk') && tl;
    }, 'Segment Exited');

    await advance(31);
    assert.ok((await members('at-risk')).includes(u), 'member again 31 days later');

    await srv.restart();
    clock.now = NOW; // a restarted server starts its virtual clock again
    r = await srv.api('/api/v1/segments/at-risk', { method: 'GET' });
    expectStatus(r, 200, 'get after restart');
    assert.ok(r.body.size >= 1);
    assert.ok((await members('at-risk')).includes(u), 'membership survives a restart');
  });
});
