// Registered counters against the real binary (docs/computed-traits.md
// "Registered counters"): tagging rules whose conditions filter events with
// `where` or sum a property are answered from per-user counter buckets —
// backfilled from events that arrived before the rule, kept by the engine
// for the ones after, surviving kill -9, and equal to a replay of the log
// (`cairn rebuild --check`).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { startServer, CAIRN_BIN } from './lib/server.mjs';

const expectStatus = (r, status, what = '') => assert.equal(r.status, status, `${what} → ${r.status} ${r.text}`);
const KRW = { property: 'currency', op: 'eq', value: 'KRW' };

async function waitFor(fn, what, ms = 5000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

async function waitApplied(srv) {
  return waitFor(async () => {
    const r = await srv.request('/readyz', { method: 'GET' });
    return r.body && r.body.applied === r.body.log_head;
  }, 'the engine to catch up', 30000);
}

async function tags(srv, userId) {
  const r = await srv.api(`/api/v1/users/${encodeURIComponent(userId)}`);
  expectStatus(r, 200, `profile ${userId}`);
  return r.body.tags ?? [];
}

async function members(srv, id) {
  const r = await srv.api(`/api/v1/segments/${id}/members?limit=1000`);
  expectStatus(r, 200, 'members');
  return r.body.data.map((m) => m.id);
}

async function rule(srv, body) {
  const r = await srv.api('/api/v1/tagging-rules', { method: 'POST', body });
  expectStatus(r, 201, `rule ${body.id}`);
}

function sql(dataDir, query) {
  const r = spawnSync('sqlite3', ['-json', `${dataDir}/state.db`, query], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim() ? JSON.parse(r.stdout) : [];
}

test('where and sum rules: backfilled, kept per event, survive kill -9, equal a replay', async () => {
  const srv = await startServer();
  try {
    const track = async (userId, event, properties) => {
      const r = await srv.track('/v1/track', { userId, event, properties });
      expectStatus(r, 200, `track ${event}`);
    };
    // before any rule: these must be found by the backfill
    await track('ctr-krw', 'Order Completed', { currency: 'KRW', revenue: 1500 });
    await track('ctr-usd', 'Order Completed', { currency: 'USD', revenue: 10 });
    await track('ctr-bulk', 'Product Added', { quantity: 3 });
    await waitApplied(srv);

    await rule(srv, {
      id: 'krw-repeat', name: 'Two KRW orders in 30 days',
      when: { condition: { event: 'Order Completed', where: KRW, count: { op: 'gte', value: 2 }, within: { days: 30 } } },
      add: ['krw-repeat'],
    });
    await rule(srv, {
      id: 'bulk', name: 'Five items added',
      when: { condition: { event: 'Product Added', sum: { property: 'quantity', op: 'gte', value: 5 } } },
      add: ['bulk'],
    });
    let r = await srv.api('/api/v1/segments', {
      method: 'POST',
      body: { id: 'krw-spenders', name: 'KRW spenders', condition: { event: 'Order Completed', where: KRW, sum: { property: 'revenue', op: 'gte', value: 2000 } } },
    });
    expectStatus(r, 201, 'segment');

    // one more KRW order: two with the backfilled one
    await track('ctr-krw', 'Order Completed', { currency: 'KRW', revenue: '700' });
    await waitFor(async () => (await tags(srv, 'ctr-krw')).includes('krw-repeat'), 'krw-repeat on the second KRW order');
    await waitFor(async () => (await members(srv, 'krw-spenders')).includes('ctr-krw'), 'segment member at 2200 KRW');
    await track('ctr-usd', 'Order Completed', { currency: 'USD', revenue: 10 });
    await track('ctr-bulk', 'Product Added', { quantity: '2' });
    await waitFor(async () => (await tags(srv, 'ctr-bulk')).includes('bulk'), 'bulk at 3 + 2 items');
    await waitApplied(srv);
    assert.ok(!(await tags(srv, 'ctr-usd')).includes('krw-repeat'), 'USD orders do not pass the filter');

    await srv.kill9();
    await srv.restart();
    await waitApplied(srv);
    assert.ok((await tags(srv, 'ctr-krw')).includes('krw-repeat'), 'the tag survives kill -9');
    assert.ok((await tags(srv, 'ctr-bulk')).includes('bulk'));
    assert.ok((await members(srv, 'krw-spenders')).includes('ctr-krw'), 'membership survives kill -9');
    // the restarted engine keeps counting
    await track('ctr-late', 'Order Completed', { currency: 'KRW' });
    await track('ctr-late', 'Order Completed', { currency: 'USD' });
    assert.ok(!(await tags(srv, 'ctr-late')).includes('krw-repeat'));
    await track('ctr-late', 'Order Completed', { currency: 'KRW' });
    await waitFor(async () => (await tags(srv, 'ctr-late')).includes('krw-repeat'), 'krw-repeat after the restart');
    await waitApplied(srv);
    const stopped = await srv.stop();
    assert.equal(stopped.code, 0, srv.stderrTail());

    // the rules' counters exist and hold every matching event (4 KRW orders, 3 + 2 items)
    const counters = sql(srv.dataDir,
      'SELECT c.name, c.where_text, c.property, coalesce(sum(d.count), 0) AS n, coalesce(sum(d.sum), 0) AS total'
      + ' FROM seg_counters c LEFT JOIN seg_counter_daily d ON d.counter_id = c.counter_id'
      + ' GROUP BY c.counter_id ORDER BY c.counter_id');
    const krw = counters.filter((c) => c.name === 'Order Completed' && c.where_text.includes('KRW'));
    assert.ok(krw.length >= 1, JSON.stringify(counters));
    for (const c of krw) assert.equal(c.n, 4, JSON.stringify(c));
    const bulk = counters.find((c) => c.name === 'Product Added' && c.property === 'quantity');
    assert.ok(bulk, JSON.stringify(counters));
    assert.equal(bulk.where_text, '');
    assert.equal(bulk.n, 2);
    assert.equal(bulk.total, 5);

    const check = spawnSync(CAIRN_BIN, ['rebuild', '--check', '--data', srv.dataDir], { encoding: 'utf8', timeout: 120000 });
    assert.equal(check.status, 0, check.stdout + check.stderr);
    assert.match(check.stdout, /no differences: \d+ profiles/);
  } finally {
    await srv.close();
  }
});

test('a filtered window ends with the clock: a USD order does not keep a KRW rule true', async () => {
  const start = '2026-03-02T10:00:00+09:00';
  const srv = await startServer({ extraArgs: ['--virtual-clock', start] });
  try {
    let now = Date.parse(start);
    const track = async (userId, event, properties) => {
      const r = await srv.track('/v1/track', { userId, event, properties, timestamp: new Date(now).toISOString() });
      expectStatus(r, 200, `track ${event}`);
    };
    const advance = async (days) => {
      const r = await srv.api('/api/v1/_clock', { method: 'POST', body: { advance: { days } } });
      expectStatus(r, 200, 'advance clock');
      now += days * 86400000;
    };
    await rule(srv, {
      id: 'krw-recent', name: 'KRW order in 30 days',
      when: { condition: { event: 'Order Completed', where: KRW, within: { days: 30 } } },
      add: ['krw-recent'], remove_when_false: true,
    });
    await track('ctr-window', 'Order Completed', { currency: 'KRW', revenue: 1000 });
    await waitFor(async () => (await tags(srv, 'ctr-window')).includes('krw-recent'), 'krw-recent');
    await advance(20);
    await track('ctr-window', 'Order Completed', { currency: 'USD', revenue: 1000 });
    await advance(10);
    assert.ok((await tags(srv, 'ctr-window')).includes('krw-recent'), 'day 30: the window includes its start');
    await advance(1);
    await waitFor(async () => !(await tags(srv, 'ctr-window')).includes('krw-recent'), 'removed on day 31');
  } finally {
    await srv.close();
  }
});
