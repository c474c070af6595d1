// Durability: "200 only after the data is durable". Several concurrent clients
// stream events, the server is kill -9'd mid-stream and restarted on the same
// data dir; every acknowledged messageId must then be stored exactly once.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';

const CLIENTS = 8;
const KILL_AFTER_MS = 1500;
const MAX_REQUESTS_PER_CLIENT = 600; // bounds the stream even on a very fast machine

let srv;
before(async () => { srv = await startServer(); });
after(async () => { await srv?.close(); });

/**
 * Run CLIENTS concurrent loops; each calls send(client, n) → {path, body, ids}.
 * The first loop to see KILL_AFTER_MS elapsed (with something acknowledged)
 * kill -9s the server while the other loops still have requests in flight.
 */
async function streamAndKill(send) {
  const acked = new Set();
  const attempted = []; // {path, body, ids}
  const unexpected = [];
  const t0 = Date.now();
  let killing = null;
  let inFlightAtKill = 0;
  let inFlight = 0;

  async function loop(c) {
    for (let n = 0; n < MAX_REQUESTS_PER_CLIENT && !killing; n++) {
      const req = send(c, n);
      attempted.push(req);
      inFlight++;
      let r;
      try {
        r = await srv.track(req.path, req.body);
      } catch {
        inFlight--;
        return; // the server went away mid-request: not acknowledged
      }
      inFlight--;
      if (r.status === 200) for (const id of req.ids) acked.add(id);
      else if (!killing) unexpected.push(`${r.status} ${r.text}`);
      if (!killing && Date.now() - t0 >= KILL_AFTER_MS && acked.size > 0) {
        inFlightAtKill = inFlight;
        killing = srv.kill9();
      }
    }
  }
  await Promise.all(Array.from({ length: CLIENTS }, (_, c) => loop(c)));
  if (!killing) killing = srv.kill9(); // every loop hit its bound first
  const exit = await killing;
  return { acked, attempted, unexpected, exit, inFlightAtKill, ms: Date.now() - t0 };
}

function countIds(events) {
  const counts = new Map();
  for (const e of events) {
    assert.ok(e && typeof e === 'object', 'every stored event reads back as an object');
    counts.set(e.messageId, (counts.get(e.messageId) || 0) + 1);
  }
  return counts;
}

async function checkExactlyOnce(t, label, acked, attemptedIds) {
  const events = await srv.allEvents();
  const counts = countIds(events);
  const missing = [...acked].filter((id) => counts.get(id) !== 1);
  const dups = [...counts].filter(([, n]) => n > 1).map(([id]) => id);
  const strangers = [...counts.keys()].filter((id) => !attemptedIds.has(id));
  t.diagnostic(`${label}: ${acked.size} acknowledged, ${counts.size} stored, ${attemptedIds.size} attempted`);
  assert.deepEqual(missing.slice(0, 20), [], `${missing.length} acknowledged messageIds not stored exactly once`);
  assert.deepEqual(dups.slice(0, 20), [], `${dups.length} messageIds stored more than once`);
  assert.deepEqual(strangers.slice(0, 20), [], 'nothing stored that was never sent');
  return { events, counts };
}

test('kill -9 during concurrent batches: acknowledged events survive exactly once', async (t) => {
  const run = 'b';
  const send = (c, n) => {
    const userId = `crash-${run}-${c}-${n % 10}`;
    const batch = [{ type: 'identify', userId, anonymousId: `anon-${run}-${c}-${n % 10}`, traits: { client: c, last_batch: n }, messageId: `${run}-${c}-${n}-id` }];
    for (let i = 0; i < 24; i++) {
      batch.push({ type: 'track', userId, event: 'Crash Test', properties: { c, n, i }, messageId: `${run}-${c}-${n}-${i}` });
    }
    return { path: '/v1/batch', body: { batch }, ids: batch.map((m) => m.messageId) };
  };
  const res = await streamAndKill(send);
  t.diagnostic(`killed after ${res.ms} ms with ${res.inFlightAtKill} requests in flight; exit ${JSON.stringify(res.exit)}`);
  assert.deepEqual(res.unexpected, [], 'no non-200 answers before the kill');
  assert.equal(res.exit.signal, 'SIGKILL');
  assert.ok(res.acked.size >= 25, 'the stream got going before the kill');

  await srv.restart();
  const attemptedIds = new Set(res.attempted.flatMap((r) => r.ids));
  const { events } = await checkExactlyOnce(t, 'after restart', res.acked, attemptedIds);

  // the profiles were rebuilt from the log: each user's timeline holds exactly its stored events
  const perUser = new Map();
  for (const e of events) perUser.set(e.userId, (perUser.get(e.userId) || 0) + 1);
  const sample = [...perUser.keys()].filter((u) => u.startsWith(`crash-${run}-`)).slice(0, 12);
  for (const u of sample) {
    const tl = await srv.timeline(u);
    assert.equal(tl.length, perUser.get(u), `timeline of ${u}`);
    const p = await srv.user(u);
    assert.ok(p.anonymous_ids.includes(u.replace('crash-', 'anon-')), `${u} keeps its anonymous id`);
  }

  // clients retry everything they did not see acknowledged (and, to be sure, the rest too):
  // afterwards every attempted message is stored exactly once.
  const queue = [...res.attempted];
  const retryErrors = [];
  await Promise.all(Array.from({ length: CLIENTS }, async () => {
    for (let req = queue.shift(); req; req = queue.shift()) {
      const r = await srv.track(req.path, req.body);
      if (r.status !== 200) retryErrors.push(`${r.status} ${r.text}`);
    }
  }));
  assert.deepEqual(retryErrors.slice(0, 5), []);
  await checkExactlyOnce(t, 'after retries', attemptedIds, attemptedIds);
});

test('kill -9 during concurrent single /v1/track calls, twice in a row', async (t) => {
  for (const run of ['s1', 's2']) {
    const send = (c, n) => {
      const messageId = `${run}-${c}-${n}`;
      return { path: '/v1/track', body: { userId: `crash-${run}-${c}`, event: 'Single', properties: { n }, messageId }, ids: [messageId] };
    };
    const prior = await srv.allEvents();
    const res = await streamAndKill(send);
    t.diagnostic(`${run}: killed after ${res.ms} ms with ${res.inFlightAtKill} requests in flight`);
    assert.deepEqual(res.unexpected, []);
    assert.ok(res.acked.size > 0);
    await srv.restart();
    const attemptedIds = new Set([...prior.map((e) => e.messageId), ...res.attempted.flatMap((r) => r.ids)]);
    const acked = new Set([...prior.map((e) => e.messageId), ...res.acked]);
    const { events } = await checkExactlyOnce(t, run, acked, attemptedIds);
    for (let c = 0; c < CLIENTS; c++) {
      const u = `crash-${run}-${c}`;
      const stored = events.filter((e) => e.userId === u).length;
      if (stored > 0) assert.equal((await srv.timeline(u)).length, stored, `timeline of ${u}`);
    }
  }
});
