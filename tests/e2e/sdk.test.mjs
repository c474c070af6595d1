// The real client libraries, pointed at cairn with only their host changed:
// @segment/analytics-node and @rudderstack/rudder-sdk-node. Then the profile
// and the timeline are read back through the management API.

import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { gunzipSync } from 'node:zlib';
import { Analytics as SegmentAnalytics } from '@segment/analytics-node';
import RudderAnalytics from '@rudderstack/rudder-sdk-node';
import { startServer, uid } from './lib/server.mjs';

let srv;
before(async () => { srv = await startServer(); });
after(async () => { await srv?.close(); });

// A loopback recording proxy in front of cairn: it shows the exact bytes and
// headers a client library sends (e.g. RudderStack's gzip + form content type).
async function recordingProxy(target) {
  const seen = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({ method: req.method, url: req.url, headers: req.headers, body });
      const up = http.request(target() + req.url, { method: req.method, headers: req.headers }, (ur) => {
        res.writeHead(ur.statusCode, ur.headers);
        ur.pipe(res);
      });
      up.on('error', (e) => { res.writeHead(502); res.end(String(e)); });
      up.end(body);
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    seen,
    close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(r); }),
  };
}

function countBy(list, key) {
  const m = new Map();
  for (const x of list) m.set(x[key], (m.get(x[key]) || 0) + 1);
  return m;
}

function assertExactlyOnce(events, messageIds, where) {
  const counts = countBy(events, 'messageId');
  for (const id of messageIds) {
    assert.equal(counts.get(id) || 0, 1, `${where}: messageId ${id} should be stored exactly once`);
  }
}

describe('@segment/analytics-node', () => {
  test('identify, track, page, screen, group, alias → profile and timeline', async () => {
    const anon = uid('seg-anon');
    const user = uid('seg-user');
    const prev = uid('seg-prev');
    const group = uid('seg-group');
    const email = `${user}@example.com`;
    const requests = [];
    const errors = [];
    const analytics = new SegmentAnalytics({
      writeKey: srv.writeKey,
      host: srv.url,
      flushAt: 3, // several HTTP batches
      flushInterval: 200,
      maxRetries: 0,
    });
    analytics.on('http_request', (r) => requests.push(r));
    analytics.on('error', (e) => errors.push(e));
    const sent = []; // {type, messageId}
    const cb = (type) => (err, ctx) => {
      if (err) errors.push(err);
      else sent.push({ type, messageId: ctx.event.messageId });
    };

    analytics.track({ anonymousId: anon, event: 'Product Viewed', properties: { sku: 'A-1', price: 12000 } }, cb('track'));
    analytics.page({ anonymousId: anon, category: 'Docs', name: 'Pricing', properties: { path: '/pricing' } }, cb('page'));
    analytics.identify({
      userId: user,
      anonymousId: anon,
      traits: {
        email,
        name: '김민준',
        plan: 'pro',
        consent: { email: 'subscribed', sms: 'unsubscribed', topics: { newsletter: 'subscribed' } },
      },
      context: { consent_source: 'signup_form' },
    }, cb('identify'));
    analytics.track({ userId: user, event: 'Order Completed', properties: { revenue: 50000, currency: 'KRW' } }, cb('track'));
    analytics.group({ userId: user, groupId: group, traits: { name: 'Acme', employees: 50 } }, cb('group'));
    analytics.screen({ userId: user, name: 'Home', properties: { tab: 'feed' } }, cb('screen'));
    analytics.alias({ userId: user, previousId: prev }, cb('alias'));
    await analytics.closeAndFlush({ timeout: 15000 });

    assert.deepEqual(errors, [], 'the SDK reported no delivery errors');
    assert.equal(sent.length, 7, 'every call was delivered');
    assert.ok(requests.length >= 2, `flushAt 3 → several requests (got ${requests.length})`);
    for (const r of requests) assert.match(r.url, /\/v1\/batch$/);

    const p = await srv.user(user);
    assert.equal(p.id, user);
    assert.ok(p.anonymous_ids.includes(anon), 'the anonymous id merged into the user');
    assert.ok(p.user_ids.includes(user));
    assert.ok(p.user_ids.includes(prev) || p.anonymous_ids.includes(prev), 'the aliased previousId belongs to the user');
    assert.equal(p.traits.email, email);
    assert.equal(p.traits.name, '김민준');
    assert.equal(p.traits.plan, 'pro');
    assert.equal(p.consent.email.status, 'subscribed');
    assert.equal(p.consent.email.source, 'signup_form');
    assert.ok(!Number.isNaN(Date.parse(p.consent.email.updated_at)));
    assert.equal(p.consent.sms.status, 'unsubscribed');
    assert.equal(p.consent.topics.newsletter.status, 'subscribed');
    const g = p.groups.find((x) => x.id === group);
    assert.ok(g, 'the group is on the profile');
    assert.equal(g.traits.name, 'Acme');
    assert.equal(g.traits.employees, 50);

    // the same profile through the anonymous id and through the alias
    assert.equal((await srv.user(anon)).id, user);
    assert.equal((await srv.user(prev)).id, user);

    const tl = await srv.timeline(user);
    assertExactlyOnce(tl, sent.map((s) => s.messageId), 'timeline');
    const byId = new Map(tl.map((e) => [e.messageId, e]));
    for (const s of sent) assert.equal(byId.get(s.messageId).type, s.type);
    const viewed = tl.find((e) => e.event === 'Product Viewed');
    assert.equal(viewed.anonymousId, anon, 'the earlier anonymous event is in the user timeline');
    assert.equal(viewed.properties.sku, 'A-1');
    assert.equal(tl.find((e) => e.type === 'page').name, 'Pricing');
    assert.equal(tl.find((e) => e.type === 'screen').name, 'Home');
    // newest first
    for (let i = 1; i < tl.length; i++) {
      assert.ok(Date.parse(tl[i - 1].timestamp) >= Date.parse(tl[i].timestamp), 'timeline is newest first');
    }
    // event times are the client's, corrected for skew: within a few seconds of now here
    for (const e of tl) assert.ok(Math.abs(Date.parse(e.timestamp) - Date.now()) < 60000, `timestamp ${e.timestamp}`);

    const orders = await srv.allEvents({ name: 'Order Completed' });
    assert.equal(orders.filter((e) => e.userId === user).length, 1);
  });

  test('200 events in batches of 20 are all stored exactly once', async () => {
    const user = uid('seg-bulk');
    const analytics = new SegmentAnalytics({ writeKey: srv.writeKey, host: srv.url, flushAt: 20, flushInterval: 200, maxRetries: 0 });
    const errors = [];
    const ids = [];
    analytics.on('error', (e) => errors.push(e));
    for (let i = 0; i < 200; i++) {
      analytics.track({ userId: user, event: 'Bulk', properties: { i } }, (err, ctx) => (err ? errors.push(err) : ids.push(ctx.event.messageId)));
    }
    await analytics.closeAndFlush({ timeout: 20000 });
    assert.deepEqual(errors, []);
    assert.equal(ids.length, 200);
    const tl = await srv.timeline(user);
    assert.equal(tl.length, 200);
    assertExactlyOnce(tl, ids, 'timeline');
    assert.deepEqual(new Set(tl.map((e) => e.properties.i)).size, 200);
  });
});

describe('@rudderstack/rudder-sdk-node', () => {
  async function drain(client) {
    for (let i = 0; i < 1000 && client.queue.length > 0; i++) await client.flush();
    if (client.pendingFlush) await client.pendingFlush;
  }

  test('gzip + form content type, identify/track/page/screen/group/alias → profile and timeline', async () => {
    const proxy = await recordingProxy(() => srv.url);
    try {
      const errors = [];
      const client = new RudderAnalytics(srv.writeKey, {
        dataPlaneUrl: proxy.url,
        flushAt: 4,
        flushInterval: 200,
        retryCount: 0,
        logLevel: 'error',
        errorHandler: (e) => errors.push(e),
      });
      const anon1 = uid('rs-anon1');
      const anon2 = uid('rs-anon2'); // a second device
      const user = uid('rs-user');
      const prev = uid('rs-prev');
      const group = uid('rs-group');
      const mids = [];
      const m = (type) => { const id = uid(`rs-${type}`); mids.push({ type, id }); return id; };
      const done = (err) => { if (err) errors.push(err); };
      const hourAgo = new Date(Date.now() - 3600_000);

      client.track({ anonymousId: anon1, event: 'Article Read', properties: { slug: 'hello' }, messageId: m('track') }, done);
      client.page({ anonymousId: anon1, name: 'Blog', properties: { path: '/blog' }, messageId: m('page') }, done);
      client.screen({ anonymousId: anon2, name: 'Onboarding', messageId: m('screen') }, done);
      // RudderStack sends originalTimestamp (and a per-message sentAt): an event from an hour ago
      client.track({ anonymousId: anon2, event: 'App Opened', originalTimestamp: hourAgo, messageId: m('track') }, done);
      client.identify({
        userId: user,
        anonymousId: anon1,
        traits: { email: `${user}@example.kr`, phone: '+82 10-1234-5678', first_name: '서연', consent: { email: 'unsubscribed', kakao: 'subscribed' } },
        messageId: m('identify'),
      }, done);
      client.identify({ userId: user, anonymousId: anon2, traits: { plan: 'team' }, messageId: m('identify') }, done);
      client.group({ userId: user, groupId: group, traits: { name: '카카오', industry: 'tech' }, messageId: m('group') }, done);
      client.alias({ userId: user, previousId: prev, messageId: m('alias') }, done);
      client.track({ userId: user, event: 'Signed Up', properties: { plan: 'team' }, messageId: m('track') }, done);
      await drain(client);

      assert.deepEqual(errors.map(String), [], 'RudderStack reported no delivery errors');
      assert.ok(proxy.seen.length >= 2, `several requests (got ${proxy.seen.length})`);
      for (const r of proxy.seen) {
        assert.equal(r.method, 'POST');
        assert.equal(r.url, '/v1/batch');
        assert.equal(r.headers['content-encoding'], 'gzip', 'RudderStack gzips by default');
        assert.doesNotThrow(() => JSON.parse(gunzipSync(r.body).toString('utf8')));
      }
      const cts = [...new Set(proxy.seen.map((r) => r.headers['content-type']))];
      // RudderStack's axios posts a Buffer, which goes out as form-urlencoded: cairn reads it as JSON anyway
      assert.deepEqual(cts, ['application/x-www-form-urlencoded'], `content types seen: ${cts}`);

      const p = await srv.user(user);
      assert.ok(p.anonymous_ids.includes(anon1) && p.anonymous_ids.includes(anon2), 'both devices merged');
      assert.ok(p.user_ids.includes(prev) || p.anonymous_ids.includes(prev), 'alias merged');
      assert.equal(p.traits.email, `${user}@example.kr`);
      assert.equal(p.traits.first_name, '서연');
      assert.equal(p.traits.plan, 'team');
      assert.equal(p.consent.email.status, 'unsubscribed');
      assert.equal(p.consent.email.source, 'api');
      assert.equal(p.consent.kakao.status, 'subscribed');
      const g = p.groups.find((x) => x.id === group);
      assert.ok(g, 'group on profile');
      assert.equal(g.traits.name, '카카오');
      for (const id of [anon1, anon2, prev]) assert.equal((await srv.user(id)).id, user);

      const tl = await srv.timeline(user);
      assertExactlyOnce(tl, mids.map((x) => x.id), 'timeline');
      const byId = new Map(tl.map((e) => [e.messageId, e]));
      for (const x of mids) assert.equal(byId.get(x.id).type, x.type);
      const opened = tl.find((e) => e.event === 'App Opened');
      const skew = Math.abs(Date.parse(opened.timestamp) - hourAgo.getTime());
      assert.ok(skew < 10000, `originalTimestamp honoured: stored ${opened.timestamp}, sent ${hourAgo.toISOString()}`);
      // the newest-first order puts the hour-old event after the others
      assert.equal(tl[tl.length - 1].messageId, opened.messageId);
    } finally {
      await proxy.close();
    }
  });

  test('RudderStack retries the same batch: stored once', async () => {
    const user = uid('rs-retry');
    const errors = [];
    const client = new RudderAnalytics(srv.writeKey, { dataPlaneUrl: srv.url, flushAt: 50, retryCount: 0, logLevel: 'error', errorHandler: (e) => errors.push(e) });
    const ids = [];
    for (let i = 0; i < 30; i++) {
      const messageId = uid('rs-r');
      ids.push(messageId);
      client.track({ userId: user, event: 'Retry Me', properties: { i }, messageId });
    }
    await drain(client);
    // the exact same messages once more, as a retrying client would send them
    for (let i = 0; i < 30; i++) client.track({ userId: user, event: 'Retry Me', properties: { i }, messageId: ids[i] });
    await drain(client);
    assert.deepEqual(errors.map(String), []);
    const tl = await srv.timeline(user);
    assert.equal(tl.length, 30);
    assertExactlyOnce(tl, ids, 'timeline');
  });
});
