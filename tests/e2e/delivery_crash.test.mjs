// Delivery survives kill -9 (issue 7; docs/delivery.md "Crashes"; dispatch.h invariant 1):
// 3,000 emails acknowledged by POST /api/v1/messages/send are all delivered to a real
// SMTP peer (tests/peers/smtp_peer.py) even though the server is killed with SIGKILL
// while it is sending them. Nothing acknowledged is lost; what the peer accepted but the
// dead server had not recorded yet is sent again after the restart (history
// "requeued") — at most the documented in-flight window: DLV_MAX_INFLIGHT (512)
// messages in flight plus one uncommitted batch of outcomes (CLAIM_BATCH, 256).
//
// The messages are queued with the kill switch on for email (held, nothing sent), so
// the whole 3,000 are in the outbox before the first one goes out; lifting the kill
// switch releases them at once. The real clock is used (no --virtual-clock).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import { expectStatus } from './lib/journeys.mjs';
import { startSmtpPeer, deliveryKit, historyOf, sleep } from './lib/delivery.mjs';

const TOTAL = 3000;
const QUEUE_CONCURRENCY = 32;
const KILL_AFTER = 300; // messages the peer has accepted when the server is killed
const WINDOW = 512 + 256; // DLV_MAX_INFLIGHT + one uncommitted batch
const DEADLINE_MS = 40000;

let srv, smtp, d;
before(async () => {
  smtp = await startSmtpPeer();
  srv = await startServer();
  d = deliveryKit(srv);
});
after(async () => {
  await srv?.close();
  await smtp?.close();
});

/** Runs fn(i) for i in [0, n) with at most `limit` at once. */
async function pool(n, limit, fn) {
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      await fn(i);
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
}

test('kill -9 while 3,000 emails go out: after the restart every one is delivered, duplicates within the in-flight window', async () => {
  const t0 = Date.now();
  await d.provider({
    channel: 'email', type: 'smtp', url: smtp.url, from: 'Shop <news@shop.example>', starttls: 0, concurrency: 16,
  });
  await d.setting('kill_switch', { global: false, channels: ['email'], journeys: [] });

  const ids = new Array(TOTAL);
  await pool(TOTAL, QUEUE_CONCURRENCY, async (i) => {
    const r = await d.api('/messages/send', {
      method: 'POST',
      body: {
        to: { email: `user${i}@x.example` }, channel: 'email', idempotency_key: `crash-${i}`,
        template: { subject: `주문 ${i} 안내`, text: `고객님, 주문 ${i}이(가) 접수되었습니다.` },
      },
    });
    assert.equal(r.status, 202, `send ${i} → ${r.status} ${r.text}`);
    ids[i] = r.body.id;
  });
  const queuedMs = Date.now() - t0;
  assert.equal(new Set(ids).size, TOTAL, 'one message per send');
  // the dispatcher holds each one (reason kill_switch) within a claim round or two
  const heldBy = Date.now() + 10000;
  for (;;) {
    const s = await d.stats();
    if (s.held === TOTAL) break;
    if (Date.now() > heldBy) throw new Error(`not all held: ${JSON.stringify(s)}`);
    await sleep(20);
  }
  assert.equal(smtp.count(), 0, 'nothing sent while the kill switch is on');

  // release them all and kill the server in the middle of the send
  await d.setting('kill_switch', { global: false, channels: [], journeys: [] });
  const deadline = Date.now() + DEADLINE_MS;
  while (smtp.count() < KILL_AFTER) {
    if (Date.now() > deadline) throw new Error(`the peer got only ${smtp.count()} messages:\n${srv.stderrTail()}`);
    await sleep(5);
  }
  const killed = await srv.kill9();
  assert.equal(killed.signal, 'SIGKILL');
  const atKill = smtp.count();
  assert.ok(atKill < TOTAL, `killed before the end (${atKill} delivered)`);

  await srv.restart();
  let stats;
  for (;;) {
    stats = await d.stats();
    if ((stats.sent ?? 0) >= TOTAL) break;
    if (Date.now() > deadline) throw new Error(`not all sent in time: ${JSON.stringify(stats)}\n${srv.stderrTail()}`);
    await sleep(100);
  }
  assert.deepEqual(stats, { sent: TOTAL }, 'every message sent, none failed or dead');

  // what the peer got: every recipient at least once
  const idx = smtp.index();
  const per = new Map();
  for (const e of idx) {
    assert.equal(e.rcpt_tos.length, 1);
    const rcpt = e.rcpt_tos[0];
    per.set(rcpt, (per.get(rcpt) ?? 0) + 1);
  }
  const missing = [];
  for (let i = 0; i < TOTAL; i++) if (!per.has(`user${i}@x.example`)) missing.push(i);
  assert.deepEqual(missing, [], 'nothing acknowledged is lost');
  assert.equal(per.size, TOTAL, 'no stray recipients');
  const duplicates = idx.length - TOTAL;
  console.log(`delivery crash: ${duplicates} duplicates (in-flight window)`);
  console.log(`delivery crash: queued ${TOTAL} in ${queuedMs} ms, killed at ${atKill} delivered, all sent after ${Date.now() - t0} ms`);
  assert.ok(duplicates >= 0);
  assert.ok(duplicates <= WINDOW, `${duplicates} duplicates > ${WINDOW} (DLV_MAX_INFLIGHT + one batch)`);

  // a message that went out twice was requeued by the restart, and says so
  const twice = [];
  for (let i = 0; i < TOTAL && twice.length < 20; i++) if (per.get(`user${i}@x.example`) > 1) twice.push(i);
  for (const i of twice) {
    const m = await d.message(ids[i]);
    assert.equal(m.status, 'sent');
    assert.ok(historyOf(m).includes('requeued'), `${ids[i]} history ${historyOf(m).join(',')} names the requeue`);
  }
  const none = expectStatus(await d.api('/messages?status=sending&limit=1'), 200, 'sending').data;
  assert.equal(none.length, 0, 'nothing left in flight');
});
