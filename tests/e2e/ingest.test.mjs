// Tracking API input handling (CONVENTIONS §1), identity, profiles and the read
// API (§2), against the real binary over HTTP.

import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import http from 'node:http';
import { startServer, uid } from './lib/server.mjs';

let srv;
before(async () => { srv = await startServer(); });
after(async () => { await srv?.close(); });

const ok = (r, what = '') => assert.equal(r.status, 200, `${what} → ${r.status} ${r.text}`);
const track = (userId, event, extra = {}) => ({ type: 'track', userId, event, messageId: uid('m'), ...extra });

// ---------------------------------------------------------------------------
// Bad input: each case has its status and error code, and nothing is stored.
// ---------------------------------------------------------------------------
const nested = (depth) => '{"userId":"u-deep","event":"Deep","properties":' + '{"a":'.repeat(depth) + '1' + '}'.repeat(depth) + '}';
const bytes = (...parts) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));
const big = (n) => 'x'.repeat(n);
const goodGzip = gzipSync(Buffer.from(JSON.stringify({ userId: 'u-gz', event: 'Gz' })));

const BAD = [
  // JSON itself
  { name: 'malformed JSON', path: '/v1/track', raw: '{"userId":"u-bad","event":', status: 400, code: 'invalid_json' },
  { name: 'not JSON at all', path: '/v1/track', raw: 'userId=u-bad&event=Form', status: 400, code: 'invalid_json' },
  { name: 'empty body', path: '/v1/track', raw: '', status: 400, code: 'invalid_json' },
  { name: 'body is an array', path: '/v1/track', raw: '[{"userId":"u-bad","event":"A"}]', status: 400, code: 'invalid_json' },
  { name: 'trailing garbage after the object', path: '/v1/track', raw: '{"userId":"u-bad","event":"A"} {"x":1}', status: 400, code: 'invalid_json' },
  { name: 'deeply nested JSON (depth 100)', path: '/v1/track', raw: nested(100), status: 400 },
  { name: 'deeply nested JSON inside a batch', path: '/v1/batch', raw: `{"batch":[${nested(100)}]}`, status: 400 },
  { name: 'invalid UTF-8 (0xff 0xfe)', path: '/v1/track', raw: bytes('{"userId":"u-', [0xff, 0xfe], '","event":"A"}'), status: 400 },
  { name: 'invalid UTF-8 (overlong 0xc0 0xaf)', path: '/v1/track', raw: bytes('{"userId":"u-bad","event":"', [0xc0, 0xaf], '"}'), status: 400 },
  { name: 'invalid UTF-8 (truncated 3-byte sequence)', path: '/v1/track', raw: bytes('{"userId":"u-bad","event":"', [0xe1, 0x84], '"}'), status: 400 },
  { name: 'lone surrogate escape', path: '/v1/track', raw: '{"userId":"u-\\ud800","event":"A"}', status: 400 },
  // wrong types
  { name: 'userId as object', path: '/v1/track', body: { userId: { id: 1 }, event: 'A' }, status: 400, field: /userId/ },
  { name: 'anonymousId as array', path: '/v1/track', body: { anonymousId: ['a'], event: 'A' }, status: 400, field: /anonymousId/ },
  { name: 'properties as array', path: '/v1/track', body: { userId: 'u-bad', event: 'A', properties: [1, 2] }, status: 400, field: /properties/ },
  { name: 'traits as string', path: '/v1/identify', body: { userId: 'u-bad', traits: 'vip' }, status: 400, field: /traits/ },
  { name: 'context as string', path: '/v1/track', body: { userId: 'u-bad', event: 'A', context: 'web' }, status: 400, field: /context/ },
  { name: 'event as number', path: '/v1/track', body: { userId: 'u-bad', event: 5 }, status: 400, field: /event/ },
  { name: 'timestamp not a date', path: '/v1/track', body: { userId: 'u-bad', event: 'A', timestamp: 'yesterday' }, status: 400, field: /timestamp/ },
  { name: 'messageId as number', path: '/v1/track', body: { userId: 'u-bad', event: 'A', messageId: 7 }, status: 400, field: /messageId/ },
  { name: 'consent trait with an unknown status', path: '/v1/identify', body: { userId: 'u-bad', traits: { consent: { email: 'maybe' } } }, status: [400, 422], field: /consent/ },
  // missing required fields
  { name: 'track without any id', path: '/v1/track', body: { event: 'A' }, status: 400, field: /userId|anonymousId/ },
  { name: 'identify without any id', path: '/v1/identify', body: { traits: { email: 'x@example.com' } }, status: 400, field: /userId|anonymousId/ },
  { name: 'page without any id', path: '/v1/page', body: { name: 'Home' }, status: 400, field: /userId|anonymousId/ },
  { name: 'empty-string ids only', path: '/v1/track', body: { userId: '', anonymousId: '', event: 'A' }, status: 400, field: /userId|anonymousId/ },
  { name: 'track without event', path: '/v1/track', body: { userId: 'u-bad' }, status: 400, field: /event/ },
  { name: 'track with an empty event', path: '/v1/track', body: { userId: 'u-bad', event: '' }, status: 400, field: /event/ },
  { name: 'alias without previousId', path: '/v1/alias', body: { userId: 'u-bad' }, status: 400, field: /previousId/ },
  { name: 'group without groupId', path: '/v1/group', body: { userId: 'u-bad', traits: { name: 'Acme' } }, status: 400, field: /groupId/ },
  // batches
  { name: 'batch is not an array', path: '/v1/batch', body: { batch: { type: 'track' } }, status: 400, field: /batch/ },
  { name: 'batch message with an unknown type', path: '/v1/batch', body: { batch: [{ type: 'bogus', userId: 'u-bad' }] }, status: 400, field: /^batch\[0\]/ },
  {
    name: 'batch with one bad message (index 2) is rejected whole',
    path: '/v1/batch',
    body: () => ({ batch: [
      { type: 'identify', userId: 'u-batch-bad', traits: { email: 'batch-bad@example.com' } },
      track('u-batch-bad', 'Fine'),
      { type: 'track', userId: { nope: true }, event: 'Bad' },
    ] }),
    status: 400,
    field: /^batch\[2\]\.userId$/,
    absentUsers: ['u-batch-bad'],
  },
  {
    name: 'batch with a track missing its event (index 1) is rejected whole',
    path: '/v1/batch',
    body: () => ({ batch: [track('u-batch-bad2', 'Fine'), { type: 'track', userId: 'u-batch-bad2' }, track('u-batch-bad2', 'Fine')] }),
    status: 400,
    field: /^batch\[1\]\.event$/,
    absentUsers: ['u-batch-bad2'],
  },
  {
    name: '/v1/import with one bad message is rejected whole',
    path: '/v1/import',
    body: () => ({ batch: [track('u-import-bad', 'Fine'), { type: 'alias', userId: 'u-import-bad' }] }),
    status: 400,
    field: /^batch\[1\]\.previousId$/,
    absentUsers: ['u-import-bad'],
  },
  {
    name: 'batch with a 150-character messageId',
    path: '/v1/batch',
    body: () => ({ batch: [track('u-mid-bad', 'Fine'), track('u-mid-bad', 'Long', { messageId: 'm'.repeat(150) })] }),
    status: [400, 413],
    field: /^batch\[1\]\.messageId$/,
    absentUsers: ['u-mid-bad'],
  },
  // ids and sizes
  { name: 'messageId of exactly 100 characters', path: '/v1/track', body: { userId: 'u-bad', event: 'A', messageId: 'm'.repeat(100) }, status: [400, 413], field: /messageId/ },
  { name: 'message over 32 KB', path: '/v1/track', body: { userId: 'u-bad', event: 'Big', properties: { blob: big(33 * 1024) } }, status: 413 },
  {
    name: 'one message over 32 KB inside a batch',
    path: '/v1/batch',
    body: () => ({ batch: [track('u-big-bad', 'Fine'), track('u-big-bad', 'Big', { properties: { blob: big(33 * 1024) } })] }),
    status: 413,
    absentUsers: ['u-big-bad'],
  },
  {
    name: 'request over 500 KB',
    path: '/v1/batch',
    body: () => ({ batch: Array.from({ length: 20 }, () => track('u-req-bad', 'Big', { properties: { blob: big(30 * 1024) } })) }),
    status: 413,
    absentUsers: ['u-req-bad'],
  },
  {
    name: 'gzip body that inflates past 500 KB',
    path: '/v1/batch',
    gzip: true,
    raw: () => JSON.stringify({ batch: [track('u-bomb-bad', 'Bomb')], padding: ' '.repeat(2 * 1024 * 1024) }),
    status: 413,
    absentUsers: ['u-bomb-bad'],
  },
  {
    name: 'batch of 2501 messages',
    path: '/v1/batch',
    body: () => ({ batch: Array.from({ length: 2501 }, () => track('u-many-bad', 'Many')) }),
    status: [400, 413],
    absentUsers: ['u-many-bad'],
  },
  // encoding
  { name: 'Content-Encoding: gzip but not gzip', path: '/v1/track', raw: '{"userId":"u-bad","event":"A"}', headers: { 'Content-Encoding': 'gzip' }, status: 400 },
  { name: 'Content-Encoding: deflate (unsupported)', path: '/v1/track', raw: '{"userId":"u-bad","event":"A"}', headers: { 'Content-Encoding': 'deflate' }, status: [400, 415] },
  { name: 'Content-Encoding: br (unsupported)', path: '/v1/track', raw: '{"userId":"u-bad","event":"A"}', headers: { 'Content-Encoding': 'br' }, status: [400, 415] },
  { name: 'truncated gzip', path: '/v1/track', raw: goodGzip.subarray(0, goodGzip.length - 6), headers: { 'Content-Encoding': 'gzip' }, status: 400 },
  // auth
  { name: 'wrong write key', path: '/v1/track', body: { userId: 'u-bad', event: 'A' }, auth: 'wk_not_a_real_key', status: 401, code: 'unauthorized' },
  { name: 'no write key', path: '/v1/track', body: { userId: 'u-bad', event: 'A' }, auth: null, status: 401, code: 'unauthorized' },
  { name: 'wrong writeKey in the body', path: '/v1/batch', body: { writeKey: 'wk_nope', batch: [{ type: 'track', userId: 'u-bad', event: 'A' }] }, auth: null, status: 401, code: 'unauthorized' },
  { name: 'secret key used as the write key', path: '/v1/track', body: { userId: 'u-bad', event: 'A' }, auth: 'SECRET', status: 401, code: 'unauthorized' },
  { name: 'write key as Bearer instead of Basic', path: '/v1/track', body: { userId: 'u-bad', event: 'A' }, auth: null, headers: { Authorization: 'Bearer WRITE' }, status: 401 },
];

describe('bad input is rejected with its status and nothing is stored', () => {
  before(async () => {
    // something already stored, so "unchanged" means something
    ok(await srv.track('/v1/batch', { batch: [track('u-seed', 'Seeded'), track('u-seed', 'Seeded')] }), 'seed');
  });

  for (const c of BAD) {
    test(c.name, async () => {
      const count0 = await srv.eventCount();
      const body = typeof c.body === 'function' ? c.body() : c.body;
      let raw = typeof c.raw === 'function' ? c.raw() : c.raw;
      let auth = c.auth === 'SECRET' ? srv.secretKey : c.auth;
      const headers = { ...(c.headers || {}) };
      if (headers.Authorization === 'Bearer WRITE') headers.Authorization = `Bearer ${srv.writeKey}`;
      const r = await srv.track(c.path, body, { raw, auth, headers, gzip: c.gzip });
      const want = Array.isArray(c.status) ? c.status : [c.status];
      assert.ok(want.includes(r.status), `status ${r.status} (want ${want.join('/')}): ${r.text}`);
      assert.match(r.headers.get('content-type') || '', /json/, 'errors are JSON');
      assert.ok(r.body?.error, `JSON error body: ${r.text}`);
      assert.match(r.body.error.code, /^[a-z][a-z0-9_]*$/, 'error.code is snake_case');
      assert.equal(typeof r.body.error.message, 'string');
      assert.ok(r.body.error.message.length > 10, 'a message a person can act on');
      if (c.code) assert.equal(r.body.error.code, c.code);
      if (c.field) assert.match(r.body.error.field || '', c.field, `error.field: ${r.text}`);
      assert.equal(await srv.eventCount(), count0, 'nothing was stored');
      for (const id of c.absentUsers || []) {
        const u = await srv.api(`/api/v1/users/${id}`);
        assert.equal(u.status, 404, `no profile ${id} was created: ${u.text}`);
      }
    });
  }
});

// A NUL escape is valid JSON. cairn may refuse it (400) or store it, but it must
// never acknowledge an event it cannot read back, or stall every later event.
test('a string holding \\u0000 is refused or stored faithfully, never poisons the log', async () => {
  const own = await startServer(); // its own store: a poisoned log must not spoil the other tests
  try {
    const r = await own.track('/v1/track', null, { raw: '{"userId":"u-nul","event":"Nul\\u0000Byte","properties":{"k":"a\\u0000b"}}' });
    assert.ok([200, 400].includes(r.status), `${r.status} ${r.text}`);
    ok(await own.track('/v1/identify', { userId: 'u-after-nul', traits: { email: 'after@example.com' } }), 'identify after');
    const after1 = await own.api('/api/v1/users/u-after-nul');
    assert.equal(after1.status, 200, `an event after the NUL one is applied: ${after1.text}\n${own.stderrTail(5)}`);
    const events = await own.allEvents();
    assert.ok(events.every((e) => e && typeof e === 'object'), `every stored event reads back as an object: ${JSON.stringify(events)}`);
    if (r.status === 200) {
      const e = events.find((x) => x.userId === 'u-nul');
      assert.equal(e?.event, 'Nul\u0000Byte');
      assert.equal(e?.properties?.k, 'a\u0000b');
    } else {
      assert.equal(events.length, 1);
    }
  } finally {
    await own.close();
  }
});

// ---------------------------------------------------------------------------
// Accepted input.
// ---------------------------------------------------------------------------
describe('accepted input', () => {
  test('gzip body', async () => {
    const u = uid('u-gzip');
    const m = uid('m');
    ok(await srv.track('/v1/track', { userId: u, event: 'Zipped', messageId: m, properties: { n: '한국어' } }, { gzip: true }));
    const tl = await srv.timeline(u);
    assert.equal(tl.length, 1);
    assert.equal(tl[0].messageId, m);
    assert.equal(tl[0].properties.n, '한국어');
  });

  test('gzip batch', async () => {
    const u = uid('u-gzipb');
    ok(await srv.track('/v1/batch', { batch: [track(u, 'A'), track(u, 'B')] }, { gzip: true }));
    assert.equal((await srv.timeline(u)).length, 2);
  });

  for (const ct of ['application/x-www-form-urlencoded', 'text/plain', 'application/octet-stream', undefined]) {
    test(`JSON body whatever the Content-Type says (${ct ?? 'none'})`, async () => {
      const u = uid('u-ct');
      const headers = ct ? { 'Content-Type': ct } : {};
      const r = await srv.request('/v1/track', {
        method: 'POST',
        headers: { Authorization: `Basic ${Buffer.from(`${srv.writeKey}:`).toString('base64')}`, ...headers },
        raw: Buffer.from(JSON.stringify({ userId: u, event: 'Typed' })),
      });
      ok(r);
      assert.equal((await srv.timeline(u)).length, 1);
    });
  }

  test('writeKey in the body instead of Basic auth', async () => {
    const u = uid('u-bodykey');
    ok(await srv.track('/v1/track', { writeKey: srv.writeKey, userId: u, event: 'Keyed' }, { auth: null }));
    ok(await srv.track('/v1/batch', { writeKey: srv.writeKey, batch: [track(u, 'Keyed2')] }, { auth: null }));
    assert.equal((await srv.timeline(u)).length, 2);
  });

  test('every endpoint stores its type; /v1/import behaves like /v1/batch', async () => {
    const u = uid('u-types');
    const a = uid('a-types');
    ok(await srv.track('/v1/identify', { userId: u, anonymousId: a, traits: { plan: 'free' } }));
    ok(await srv.track('/v1/track', { userId: u, event: 'T' }));
    ok(await srv.track('/v1/page', { userId: u, name: 'Home', properties: { url: 'https://x.example/' } }));
    ok(await srv.track('/v1/screen', { userId: u, name: 'Feed' }));
    ok(await srv.track('/v1/group', { userId: u, groupId: uid('g') }));
    ok(await srv.track('/v1/alias', { userId: u, previousId: uid('prev') }));
    ok(await srv.track('/v1/import', { batch: [track(u, 'Imported')] }));
    const tl = await srv.timeline(u);
    const types = tl.map((e) => e.type).sort();
    assert.deepEqual(types, ['alias', 'group', 'identify', 'page', 'screen', 'track', 'track']);
    for (const e of tl) {
      assert.equal(typeof e.messageId, 'string', 'a messageId is assigned when missing');
      assert.ok(e.messageId.length > 0 && e.messageId.length < 100);
      assert.match(e.receivedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.match(e.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    }
    assert.equal(new Set(tl.map((e) => e.messageId)).size, tl.length, 'assigned messageIds are unique');
  });

  test('messageId of 99 characters is accepted and kept', async () => {
    const u = uid('u-mid99');
    const m = `m${uid('x')}`.padEnd(99, 'z');
    ok(await srv.track('/v1/track', { userId: u, event: 'Long Id', messageId: m }));
    assert.equal((await srv.timeline(u))[0].messageId, m);
  });

  test('a message just under 32 KB is accepted', async () => {
    const u = uid('u-31k');
    ok(await srv.track('/v1/track', { userId: u, event: 'Big', properties: { blob: big(31 * 1024) } }));
    assert.equal((await srv.timeline(u))[0].properties.blob.length, 31 * 1024);
  });

  test('a batch of exactly 2500 messages is accepted', async () => {
    const u = uid('u-2500');
    const count0 = await srv.eventCount();
    const batch = Array.from({ length: 2500 }, (_, i) => track(u, 'Many', { properties: { i } }));
    ok(await srv.track('/v1/batch', { batch }));
    assert.equal(await srv.eventCount(), count0 + 2500);
    assert.equal((await srv.timeline(u)).length, 2500);
  });

  test('messageId idempotency: the same batch twice is stored once', async () => {
    const u = uid('u-idem');
    const batch = [track(u, 'Once'), track(u, 'Once'), { type: 'identify', userId: u, traits: { x: 1 }, messageId: uid('m') }];
    const count0 = await srv.eventCount();
    ok(await srv.track('/v1/batch', { batch }));
    ok(await srv.track('/v1/batch', { batch }), 'retry is acknowledged');
    ok(await srv.track('/v1/track', batch[0]), 'a single retry through /v1/track is acknowledged');
    assert.equal(await srv.eventCount(), count0 + 3);
    const tl = await srv.timeline(u);
    assert.deepEqual(tl.map((e) => e.messageId).sort(), batch.map((m) => m.messageId).sort());
  });

  test('messageId idempotency within one batch', async () => {
    const u = uid('u-idem1');
    const m = uid('m');
    ok(await srv.track('/v1/batch', { batch: [track(u, 'Dup', { messageId: m }), track(u, 'Dup', { messageId: m })] }));
    assert.equal((await srv.timeline(u)).length, 1);
  });

  test('a batch mixing new and already-stored messageIds stores only the new ones', async () => {
    const u = uid('u-idem2');
    const first = [track(u, 'A'), track(u, 'B')];
    ok(await srv.track('/v1/batch', { batch: first }));
    ok(await srv.track('/v1/batch', { batch: [...first, track(u, 'C')] }));
    const tl = await srv.timeline(u);
    assert.deepEqual(tl.map((e) => e.event).sort(), ['A', 'B', 'C']);
  });

  test('sentAt clock-skew correction: timestamp = receivedAt − (sentAt − timestamp)', async () => {
    const u = uid('u-skew');
    const t0 = Date.now();
    const sentAt = new Date(t0 + 3600_000); // client clock one hour fast
    const ts = new Date(sentAt.getTime() - 5000); // happened 5 s before it was sent
    ok(await srv.track('/v1/track', { userId: u, event: 'Skewed', timestamp: ts.toISOString(), sentAt: sentAt.toISOString() }));
    const t1 = Date.now();
    const [e] = await srv.timeline(u);
    const recv = Date.parse(e.receivedAt);
    assert.ok(recv >= t0 - 1000 && recv <= t1 + 1000, `receivedAt ${e.receivedAt} is the server's time`);
    const got = Date.parse(e.timestamp);
    assert.ok(Math.abs(got - (recv - 5000)) <= 2, `timestamp ${e.timestamp} ≈ receivedAt − 5 s (${new Date(recv - 5000).toISOString()})`);
  });

  test('sentAt at the batch level corrects every message (what analytics-node sends)', async () => {
    const u = uid('u-skewb');
    const sentAt = new Date(Date.now() - 7200_000); // client clock two hours slow
    const batch = [
      track(u, 'B1', { timestamp: new Date(sentAt.getTime() - 1000).toISOString() }),
      track(u, 'B2', { timestamp: new Date(sentAt.getTime() - 3000).toISOString() }),
    ];
    ok(await srv.track('/v1/batch', { batch, sentAt: sentAt.toISOString() }));
    const tl = await srv.timeline(u);
    for (const [name, back] of [['B1', 1000], ['B2', 3000]]) {
      const e = tl.find((x) => x.event === name);
      const diff = Date.parse(e.receivedAt) - Date.parse(e.timestamp);
      assert.ok(Math.abs(diff - back) <= 2, `${name}: receivedAt − timestamp = ${diff} ms, want ${back}`);
    }
  });

  test('without sentAt the timestamp is kept (normalised to UTC with milliseconds)', async () => {
    const u = uid('u-ts');
    ok(await srv.track('/v1/track', { userId: u, event: 'Past', timestamp: '2026-03-02T10:00:00+09:00' }));
    const [e] = await srv.timeline(u);
    assert.equal(e.timestamp, '2026-03-02T01:00:00.000Z');
  });

  test('originalTimestamp (RudderStack) gives the event time', async () => {
    const u = uid('u-ots');
    ok(await srv.track('/v1/track', { userId: u, event: 'Rudder', originalTimestamp: '2026-01-15T08:30:00.250Z' }));
    const [e] = await srv.timeline(u);
    assert.equal(e.timestamp, '2026-01-15T08:30:00.250Z');
  });

  test('receivedAt is set by the server, not the client', async () => {
    const u = uid('u-recv');
    const t0 = Date.now();
    ok(await srv.track('/v1/track', { userId: u, event: 'Recv', receivedAt: '2000-01-01T00:00:00.000Z' }));
    const [e] = await srv.timeline(u);
    assert.ok(Math.abs(Date.parse(e.receivedAt) - t0) < 60000, `receivedAt ${e.receivedAt}`);
  });

  test('numbers round-trip as sent (19.99 stays 19.99)', async () => {
    const u = uid('u-num');
    const props = { price: 19.99, rate: 0.1, tax: 1.1, small: 1.5e-7, count: 3, neg: -42, safe: 9007199254740991 };
    ok(await srv.track('/v1/track', { userId: u, event: 'Numbers', properties: props }));
    const [e] = await srv.timeline(u);
    assert.deepEqual(e.properties, props);
  });

  test('large numbers from JavaScript clients (JSON.stringify(1e19)) are accepted', async () => {
    const u = uid('u-bignum');
    // JSON.stringify writes 1e19 as "10000000000000000000": valid JSON, beyond int64
    const r = await srv.track('/v1/track', { userId: u, event: 'Big Number', properties: { order_no: 1e19, neg: -1e19 } });
    ok(r, 'valid JSON with an integer beyond int64');
    const [e] = await srv.timeline(u);
    assert.equal(e.properties.order_no, 1e19);
    assert.equal(e.properties.neg, -1e19);
  });

  function chunkedPost(path, buf) {
    return new Promise((resolve, reject) => {
      const url = new URL(srv.url + path);
      const req = http.request({
        host: url.hostname, port: url.port, path, method: 'POST',
        headers: { Authorization: `Basic ${Buffer.from(`${srv.writeKey}:`).toString('base64')}`, 'Transfer-Encoding': 'chunked' },
      }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => { text += c; });
        res.on('end', () => resolve({ status: res.statusCode, text }));
      });
      req.on('error', reject);
      for (let i = 0; i < buf.length; i += 16384) req.write(buf.subarray(i, i + 16384));
      req.end();
    });
  }

  test('chunked request bodies (no Content-Length): accepted, and the 500 KB limit still holds', async () => {
    const u = uid('u-chunked');
    const small = await chunkedPost('/v1/track', Buffer.from(JSON.stringify({ userId: u, event: 'Chunked' })));
    assert.equal(small.status, 200, small.text);
    assert.equal((await srv.timeline(u)).length, 1);
    const count0 = await srv.eventCount();
    const bigBody = Buffer.from(JSON.stringify({ batch: Array.from({ length: 25 }, () => track(u, 'Chunked Big', { properties: { blob: big(30 * 1024) } })) }));
    const r = await chunkedPost('/v1/batch', bigBody).catch((e) => ({ status: `error ${e.code}`, text: '' }));
    assert.equal(r.status, 413, r.text);
    assert.equal(await srv.eventCount(), count0);
  });
});

// ---------------------------------------------------------------------------
// Identity and profiles.
// ---------------------------------------------------------------------------
describe('identity and profiles', () => {
  test('identify merges an anonymous visitor into the user, earlier events included', async () => {
    const a = uid('anon');
    const u = uid('user');
    ok(await srv.track('/v1/batch', { batch: [
      { type: 'page', anonymousId: a, name: 'Landing', messageId: uid('m') },
      { type: 'track', anonymousId: a, event: 'Product Viewed', properties: { sku: 'S1' }, messageId: uid('m') },
    ] }));
    const pre = await srv.user(a);
    assert.deepEqual(pre.anonymous_ids, [a]);
    assert.deepEqual(pre.user_ids, []);
    ok(await srv.track('/v1/identify', { userId: u, anonymousId: a, traits: { email: `${u}@example.com`, plan: 'free', a: 1 } }));
    ok(await srv.track('/v1/identify', { userId: u, traits: { plan: 'pro', b: 2 } }));
    ok(await srv.track('/v1/track', { anonymousId: a, event: 'Added To Cart' }), 'a later anonymous event');

    const p = await srv.user(u);
    assert.equal(p.id, u);
    assert.deepEqual(p.anonymous_ids, [a]);
    assert.deepEqual(p.user_ids, [u]);
    assert.deepEqual(p.traits, { email: `${u}@example.com`, plan: 'pro', a: 1, b: 2 }, 'traits merged, later wins');
    assert.equal((await srv.user(a)).id, u, 'the anonymous id resolves to the user');
    for (const k of ['first_seen', 'last_seen', 'created_at', 'updated_at']) assert.ok(!Number.isNaN(Date.parse(p[k])), k);
    assert.ok(Date.parse(p.first_seen) <= Date.parse(p.last_seen));

    const tl = await srv.timeline(u);
    assert.deepEqual(tl.map((e) => e.event ?? e.name ?? e.type), ['Added To Cart', 'identify', 'identify', 'Product Viewed', 'Landing']);
    const tlAnon = await srv.timeline(a);
    assert.equal(tlAnon.length, 5, 'the timeline by anonymous id is the same person');
  });

  test('identify with traits on an anonymous profile, then the user: traits carried over', async () => {
    const a = uid('anon');
    const u = uid('user');
    ok(await srv.track('/v1/identify', { anonymousId: a, traits: { utm_source: 'naver' } }));
    ok(await srv.track('/v1/identify', { anonymousId: a, userId: u, traits: { email: `${u}@example.com` } }));
    const p = await srv.user(u);
    assert.equal(p.traits.utm_source, 'naver');
    assert.equal(p.traits.email, `${u}@example.com`);
  });

  test('two devices of one person', async () => {
    const phone = uid('dev-phone');
    const laptop = uid('dev-laptop');
    const u = uid('user');
    ok(await srv.track('/v1/track', { anonymousId: phone, event: 'App Opened' }));
    ok(await srv.track('/v1/track', { anonymousId: laptop, event: 'Page Viewed' }));
    ok(await srv.track('/v1/identify', { anonymousId: phone, userId: u }));
    ok(await srv.track('/v1/identify', { anonymousId: laptop, userId: u }));
    const p = await srv.user(u);
    assert.deepEqual([...p.anonymous_ids].sort(), [laptop, phone].sort());
    assert.equal((await srv.user(phone)).id, u);
    assert.equal((await srv.user(laptop)).id, u);
    const names = (await srv.timeline(u)).map((e) => e.event).filter(Boolean).sort();
    assert.deepEqual(names, ['App Opened', 'Page Viewed']);
  });

  test('alias merges an earlier user id into the new one', async () => {
    const old = uid('old-user');
    const neu = uid('new-user');
    ok(await srv.track('/v1/identify', { userId: old, traits: { email: `${old}@example.com`, city: '서울' } }));
    ok(await srv.track('/v1/track', { userId: old, event: 'Old Event' }));
    ok(await srv.track('/v1/alias', { previousId: old, userId: neu }));
    ok(await srv.track('/v1/identify', { userId: neu, traits: { city: '부산' } }));
    const p = await srv.user(neu);
    assert.ok(p.user_ids.includes(old) && p.user_ids.includes(neu), `user_ids ${p.user_ids}`);
    assert.equal(p.traits.email, `${old}@example.com`);
    assert.equal(p.traits.city, '부산');
    assert.equal((await srv.user(old)).id, p.id);
    const events = (await srv.timeline(neu)).map((e) => e.event || e.type);
    assert.ok(events.includes('Old Event'), `old events follow: ${events}`);
    assert.ok(events.includes('alias'));
  });

  test('alias of an anonymous id', async () => {
    const a = uid('anon');
    const u = uid('user');
    ok(await srv.track('/v1/track', { anonymousId: a, event: 'Before Alias' }));
    ok(await srv.track('/v1/alias', { previousId: a, userId: u }));
    assert.equal((await srv.user(a)).id, u);
    assert.ok((await srv.timeline(u)).some((e) => e.event === 'Before Alias'));
  });

  test('group with traits; traits merged on a second group call', async () => {
    const u = uid('user');
    const g = uid('acct');
    ok(await srv.track('/v1/group', { userId: u, groupId: g, traits: { name: 'Acme', plan: 'team' } }));
    ok(await srv.track('/v1/group', { userId: u, groupId: g, traits: { plan: 'enterprise', seats: 40 } }));
    const p = await srv.user(u);
    assert.equal(p.groups.length, 1);
    assert.deepEqual(p.groups[0], { id: g, traits: { name: 'Acme', plan: 'enterprise', seats: 40 } });
  });

  test('consent as the reserved trait, merged key by key, with time and source', async () => {
    const u = uid('user');
    const t0 = Date.now();
    ok(await srv.track('/v1/identify', {
      userId: u,
      traits: { email: `${u}@example.com`, consent: { email: 'subscribed', push: 'unknown', topics: { newsletter: 'subscribed', promo: 'unsubscribed' } } },
      context: { consent_source: 'checkout' },
    }));
    ok(await srv.track('/v1/identify', { userId: u, traits: { consent: { sms: 'subscribed', topics: { newsletter: 'unsubscribed' } } } }));
    const p = await srv.user(u);
    assert.equal(p.traits.consent, undefined, 'consent lives in the consent record, not the traits');
    assert.equal(p.traits.email, `${u}@example.com`);
    assert.equal(p.consent.email.status, 'subscribed');
    assert.equal(p.consent.email.source, 'checkout');
    assert.equal(p.consent.push.status, 'unknown');
    assert.equal(p.consent.sms.status, 'subscribed');
    assert.equal(p.consent.sms.source, 'api');
    assert.equal(p.consent.topics.newsletter.status, 'unsubscribed');
    assert.equal(p.consent.topics.promo.status, 'unsubscribed');
    assert.equal(p.consent.topics.promo.source, 'checkout');
    for (const c of [p.consent.email, p.consent.sms, p.consent.topics.newsletter]) {
      assert.match(c.updated_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.ok(Math.abs(Date.parse(c.updated_at) - t0) < 60000);
    }
  });

  test('consent via PUT /api/v1/users/{id}/consent', async () => {
    const u = uid('user');
    ok(await srv.track('/v1/identify', { userId: u, traits: { consent: { email: 'subscribed', sms: 'subscribed' } } }));
    const r = await srv.api(`/api/v1/users/${u}/consent`, { method: 'PUT', body: { email: 'unsubscribed', source: 'support_ticket' } });
    ok(r, 'PUT consent');
    const p = await srv.user(u);
    assert.deepEqual({ status: p.consent.email.status, source: p.consent.email.source }, { status: 'unsubscribed', source: 'support_ticket' });
    assert.equal(p.consent.sms.status, 'subscribed', 'other channels unchanged');
    assert.equal(p.consent.source, undefined, '"source" is the change\'s source, not a channel');
  });

  test('consent via PUT: topics, bad values and unknown users', async () => {
    const u = uid('user');
    ok(await srv.track('/v1/identify', { userId: u, traits: { consent: { topics: { newsletter: 'unsubscribed' } } } }));
    ok(await srv.api(`/api/v1/users/${u}/consent`, { method: 'PUT', body: { topics: { newsletter: 'subscribed' }, kakao: 'subscribed' } }));
    let p = await srv.user(u);
    assert.equal(p.consent.topics.newsletter.status, 'subscribed');
    assert.equal(p.consent.kakao.status, 'subscribed');
    const bad = await srv.api(`/api/v1/users/${u}/consent`, { method: 'PUT', body: { email: 'perhaps' } });
    assert.ok([400, 422].includes(bad.status), `${bad.status} ${bad.text}`);
    assert.ok(bad.body?.error?.code);
    p = await srv.user(u);
    assert.equal(p.consent.email, undefined, 'a refused change changes nothing');
    const missing = await srv.api(`/api/v1/users/${uid('nobody')}/consent`, { method: 'PUT', body: { email: 'subscribed' } });
    assert.equal(missing.status, 404);
  });

  test('tags add and remove', async () => {
    const u = uid('user');
    ok(await srv.track('/v1/identify', { userId: u, traits: {} }));
    ok(await srv.api(`/api/v1/users/${u}/tags`, { method: 'POST', body: { add: ['vip', 'interest:marketing', '관심:쇼핑'], remove: [] } }));
    ok(await srv.api(`/api/v1/users/${u}/tags`, { method: 'POST', body: { add: ['vip'], remove: ['interest:marketing'] } }));
    const p = await srv.user(u);
    assert.deepEqual([...p.tags].sort(), ['vip', '관심:쇼핑'].sort());
    const bad = await srv.api(`/api/v1/users/${u}/tags`, { method: 'POST', body: { add: 'vip' } });
    assert.ok([400, 422].includes(bad.status), bad.text);
    // a reason travels with the change onto the timeline
    ok(await srv.api(`/api/v1/users/${u}/tags`, { method: 'POST', body: { add: ['beta'], reason: '베타 테스터 모집 (CS 요청)' } }));
    const tl = await srv.timeline(u);
    const change = tl.find((e) => e.type === 'tags' && (e.properties?.add || []).includes('beta'));
    assert.ok(change, JSON.stringify(tl.slice(0, 3)));
    assert.equal(change.properties.reason, '베타 테스터 모집 (CS 요청)');
    const long = await srv.api(`/api/v1/users/${u}/tags`, { method: 'POST', body: { add: ['x'], reason: 'r'.repeat(201) } });
    assert.equal(long.status, 422);
    assert.equal(long.body.error.field, 'reason');
    assert.ok(!(await srv.user(u)).tags.includes('x'), 'a refused change changes nothing');
  });

  test('lifecycle stage via PUT and via the lifecycle_stage trait', async () => {
    const u = uid('user');
    ok(await srv.track('/v1/identify', { userId: u, traits: { lifecycle_stage: 'lead' } }));
    assert.equal((await srv.user(u)).lifecycle_stage, 'lead');
    ok(await srv.api(`/api/v1/users/${u}/lifecycle`, { method: 'PUT', body: { stage: 'mql' } }));
    assert.equal((await srv.user(u)).lifecycle_stage, 'mql');
    const bad = await srv.api(`/api/v1/users/${u}/lifecycle`, { method: 'PUT', body: { stage: 'wizard' } });
    assert.ok([400, 422].includes(bad.status), bad.text);
    assert.equal((await srv.user(u)).lifecycle_stage, 'mql');
  });

  test('concurrent identifies from 16 devices merge into one user', async () => {
    const u = uid('user');
    const anons = Array.from({ length: 16 }, (_, i) => uid(`dev${i}`));
    await Promise.all(anons.map(async (a, i) => {
      ok(await srv.track('/v1/track', { anonymousId: a, event: 'Before' }));
      ok(await srv.track('/v1/identify', { anonymousId: a, userId: u, traits: { [`t${i}`]: i } }));
      ok(await srv.track('/v1/track', { anonymousId: a, event: 'After' }));
    }));
    const p = await srv.user(u);
    assert.deepEqual([...p.anonymous_ids].sort(), [...anons].sort());
    assert.equal(Object.keys(p.traits).length, 16);
    assert.equal((await srv.timeline(u)).length, 48);
  });

  for (const id of ['홍길동', 'a b', 'a?b', 'a%b', 'a#b', "o'brien", 'a+b', 'org/42', 'x@example.com']) {
    test(`user id ${JSON.stringify(id)} works in API paths (percent-encoded)`, async () => {
      const uniq = `${id}-${uid('i')}`;
      ok(await srv.track('/v1/track', { userId: uniq, event: 'Odd Id' }));
      const r = await srv.api(`/api/v1/users/${encodeURIComponent(uniq)}`);
      assert.equal(r.status, 200, `GET /api/v1/users/${encodeURIComponent(uniq)} → ${r.text}`);
      assert.equal(r.body.id, uniq);
      const tl = await srv.api(`/api/v1/users/${encodeURIComponent(uniq)}/events`);
      assert.equal(tl.status, 200, tl.text);
      assert.equal(tl.body.data.length, 1);
    });
  }

  test('unknown user → 404 with a JSON error', async () => {
    const r = await srv.api(`/api/v1/users/${uid('ghost')}`);
    assert.equal(r.status, 404);
    assert.ok(r.body.error.code);
  });
});

// ---------------------------------------------------------------------------
// Search, lists and pagination.
// ---------------------------------------------------------------------------
describe('search and pagination', () => {
  const kim = uid('kim');
  const lee = uid('lee');
  before(async () => {
    ok(await srv.track('/v1/batch', { batch: [
      { type: 'identify', userId: kim, messageId: uid('m'), traits: { name: '김민준', email: 'Minjun.Kim@Example.co.kr', phone: '+82 10-2345-6789', city: '부산', favourite_color: 'teal' } },
      { type: 'identify', userId: lee, messageId: uid('m'), traits: { name: '이서연', email: 'seoyeon@example.com', phone: '+82 10-9999-0000', city: '서울' } },
    ] }));
  });
  const search = async (q) => {
    const r = await srv.api(`/api/v1/users?q=${encodeURIComponent(q)}`);
    ok(r, `search ${q}`);
    return r.body.data.map((x) => x.id);
  };
  for (const [label, q, who] of [
    ['user id', () => kim, () => kim],
    ['email', () => 'Minjun.Kim@Example.co.kr', () => kim],
    ['email, other case', () => 'minjun.kim@example.co.kr', () => kim],
    ['phone', () => '+82 10-2345-6789', () => kim],
    ['phone, Korean form', () => '010-2345-6789', () => kim],
    ['part of a phone number', () => '2345-67', () => kim],
    ['part of an email, other case', () => 'KIM@EXAMPLE', () => kim],
    ['Korean full name', () => '김민준', () => kim],
    ['Korean given name', () => '민준', () => kim],
    ['Korean trait value', () => '서울', () => lee],
    ['any trait', () => 'teal', () => kim],
  ]) {
    test(`search by ${label}`, async () => {
      const ids = await search(q());
      assert.ok(ids.includes(who()), `${q()} → ${JSON.stringify(ids)}`);
      const other = who() === kim ? lee : kim;
      assert.ok(!ids.includes(other), `${q()} does not find the other person`);
    });
  }
  test('search treats % and _ literally', async () => {
    // lee has no % or _ anywhere (id, traits or keys): a LIKE wildcard must not match lee
    for (const q of ['%', '_', '%%', '_%_']) {
      const ids = await search(q);
      assert.ok(!ids.includes(lee), `q=${q} matched ${JSON.stringify(ids.slice(0, 5))}`);
    }
  });

  test('search matches values, not the JSON syntax around them', async () => {
    for (const q of ['"', ':', '{', '","', '":"']) {
      const ids = await search(q);
      assert.ok(!ids.includes(kim) && !ids.includes(lee), `q=${q} matched ${JSON.stringify(ids.slice(0, 5))}`);
    }
  });

  test('search with no match', async () => {
    assert.deepEqual(await search(`zz-${uid('none')}`), []);
  });

  test('timeline pagination with next_cursor, newest first, including equal timestamps', async () => {
    const u = uid('u-page');
    const base = Date.parse('2026-02-01T00:00:00.000Z');
    const batch = [];
    for (let i = 0; i < 7; i++) batch.push(track(u, `E${i}`, { timestamp: new Date(base + i * 1000).toISOString() }));
    for (let i = 0; i < 5; i++) batch.push(track(u, `Same${i}`, { timestamp: new Date(base + 10_000).toISOString() }));
    ok(await srv.track('/v1/batch', { batch }));
    const seen = [];
    let cursor = null;
    let pages = 0;
    for (; pages < 50; pages++) {
      const qs = new URLSearchParams({ limit: '3' });
      if (cursor) qs.set('cursor', cursor);
      const r = await srv.api(`/api/v1/users/${u}/events?${qs}`);
      ok(r);
      assert.ok(r.body.data.length <= 3);
      seen.push(...r.body.data);
      cursor = r.body.next_cursor;
      if (!cursor) break;
    }
    assert.ok(pages >= 3, 'several pages');
    assert.equal(seen.length, 12);
    assert.equal(new Set(seen.map((e) => e.messageId)).size, 12, 'no event twice across pages');
    assert.deepEqual(seen.slice(5).map((e) => e.event), ['E6', 'E5', 'E4', 'E3', 'E2', 'E1', 'E0']);
    assert.deepEqual(seen.slice(0, 5).map((e) => e.event).sort(), ['Same0', 'Same1', 'Same2', 'Same3', 'Same4']);
  });

  test('GET /api/v1/events?name= filters and paginates', async () => {
    const name = uid('Named Event');
    const u = uid('u-named');
    ok(await srv.track('/v1/batch', { batch: [...Array.from({ length: 5 }, () => track(u, name)), track(u, 'Other')] }));
    const all = await srv.allEvents({ name });
    assert.equal(all.length, 5);
    assert.ok(all.every((e) => e.event === name));
    const p1 = await srv.api(`/api/v1/events?name=${encodeURIComponent(name)}&limit=2`);
    ok(p1);
    assert.equal(p1.body.data.length, 2);
    assert.ok(p1.body.next_cursor);
  });

  test('list limits: default 50, 1..1000, bad cursor', async () => {
    const u = uid('u-limits');
    ok(await srv.track('/v1/batch', { batch: Array.from({ length: 60 }, () => track(u, 'Limits')) }));
    const r = await srv.api('/api/v1/events');
    ok(r);
    assert.equal(r.body.data.length, 50, 'default limit 50 (the store holds more)');
    for (const bad of ['0', '1001', 'abc']) {
      const b = await srv.api(`/api/v1/events?limit=${bad}`);
      assert.equal(b.status, 400, `limit=${bad}`);
    }
    const c = await srv.api('/api/v1/events?cursor=not-a-cursor');
    assert.equal(c.status, 400);
  });

  test('read API needs the secret key', async () => {
    assert.equal((await srv.api('/api/v1/events', { auth: null })).status, 401);
    assert.equal((await srv.api('/api/v1/events', { auth: srv.writeKey })).status, 401);
    assert.equal((await srv.api('/api/v1/events', { auth: 'sk_wrong' })).status, 401);
  });

  test('health, readiness, metrics, OpenAPI', async () => {
    const h = await srv.request('/healthz', { method: 'GET' });
    assert.equal(h.status, 200);
    const rd = await srv.request('/readyz', { method: 'GET' });
    assert.equal(rd.status, 200);
    const m = await srv.request('/metrics', { method: 'GET' });
    assert.equal(m.status, 200);
    assert.match(m.text, /^# (HELP|TYPE) /m);
    const o = await srv.request('/api/openapi.json', { method: 'GET' });
    assert.equal(o.status, 200);
    assert.match(o.body.openapi, /^3\./);
    for (const p of ['/v1/track', '/v1/batch', '/api/v1/users/{id}', '/api/v1/events']) assert.ok(o.body.paths[p], `OpenAPI has ${p}`);
  });
});

// ---------------------------------------------------------------------------
// Restart: everything survives, idempotency included.
// ---------------------------------------------------------------------------
test('restart: data, profiles and idempotency survive SIGTERM + serve', async () => {
  const u = uid('u-restart');
  const a = uid('a-restart');
  const batch = [
    { type: 'track', anonymousId: a, event: 'Before Restart', messageId: uid('m') },
    { type: 'identify', anonymousId: a, userId: u, traits: { name: '박지훈', consent: { email: 'subscribed' } }, messageId: uid('m') },
  ];
  ok(await srv.track('/v1/batch', { batch }));
  ok(await srv.api(`/api/v1/users/${u}/tags`, { method: 'POST', body: { add: ['kept'] } }));
  ok(await srv.api(`/api/v1/users/${u}/lifecycle`, { method: 'PUT', body: { stage: 'customer' } }));
  const count0 = await srv.eventCount();
  const prof0 = await srv.user(u);
  const tl0 = await srv.timeline(u);

  await srv.restart(); // throws unless SIGTERM exits 0

  assert.equal(await srv.eventCount(), count0);
  assert.deepEqual(await srv.user(u), prof0);
  assert.deepEqual(await srv.timeline(u), tl0);
  assert.equal((await srv.user(a)).id, u);
  assert.ok((await srv.api(`/api/v1/users?q=${encodeURIComponent('박지훈')}`)).body.data.some((x) => x.id === u));
  ok(await srv.track('/v1/batch', { batch }), 'a retry after the restart');
  assert.equal(await srv.eventCount(), count0, 'the retry is still recognised');
  ok(await srv.track('/v1/track', { userId: u, event: 'After Restart' }));
  assert.equal(await srv.eventCount(), count0 + 1);
});
