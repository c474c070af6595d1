// Issue 5's crash proof: kill -9 while events are being applied; after a
// restart every profile, tag, consent, computed trait and segment membership
// equals a full recomputation from the event log (`cairn rebuild --check`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { startServer, CAIRN_BIN } from './lib/server.mjs';

function rebuildCheck(dataDir) {
  return spawnSync(CAIRN_BIN, ['rebuild', '--check', '--data', dataDir], { encoding: 'utf8', timeout: 120000 });
}

async function waitApplied(srv) {
  for (let i = 0; i < 600; i++) {
    const r = await srv.request('/readyz');
    if (r.body && r.body.applied === r.body.log_head) return r.body;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error('the engine did not catch up within 30 s');
}

function batchFor(client, n) {
  const batch = [];
  for (let i = 0; i < 20; i++) {
    const u = `rb-${(client * 7919 + n * 31 + i) % 150}`;
    const k = (n + i) % 6;
    if (k === 0) batch.push({ type: 'identify', userId: u, anonymousId: `dev-${u}`, traits: { plan: n % 2 ? 'pro' : 'free', name: '사용자', consent: { email: i % 2 ? 'subscribed' : 'unsubscribed' } } });
    else if (k === 1) batch.push({ type: 'track', userId: u, event: 'Email Sent' });
    else if (k === 2) batch.push({ type: 'track', userId: u, event: 'Email Opened' });
    else if (k === 3) batch.push({ type: 'track', userId: u, event: 'Order Completed', properties: { revenue: 1000 + i } });
    else if (k === 4) batch.push({ type: 'track', anonymousId: `anon-${client}-${n}-${i}`, event: 'Product Viewed' });
    else batch.push({ type: 'alias', previousId: `anon-${client}-${n - 1}-${i - 1}`, userId: u });
  }
  return { batch };
}

test('kill -9 mid-apply, restart: derived state equals a replay of the log', async () => {
  const srv = await startServer();
  try {
    for (const [id, condition] of [
      ['buyers', { event: 'Order Completed', count: { op: 'gte', value: 2 } }],
      ['pro', { trait: 'plan', op: 'eq', value: 'pro' }],
      ['engaged', { all: [{ event: 'Email Opened', count: { op: 'gte', value: 1 }, within: { days: 7 } }, { consent: { channel: 'email', is: 'subscribed' } }] }],
    ]) {
      const r = await srv.api('/api/v1/segments', { method: 'POST', body: { id, name: id, condition } });
      assert.equal(r.status, 201, r.text);
    }
    let stop = false;
    let acked = 0;
    const clients = [...Array(6).keys()].map(async (c) => {
      for (let n = 0; !stop && n < 5000; n++) {
        try {
          const r = await srv.track('/v1/batch', batchFor(c, n));
          if (r.status === 200) acked++;
        } catch {
          return; // the server died under us
        }
      }
    });
    await new Promise((res) => setTimeout(res, 1500));
    await srv.kill9();
    stop = true;
    await Promise.all(clients);
    assert.ok(acked > 10, `only ${acked} batches acknowledged before the kill`);

    await srv.restart();
    await waitApplied(srv);
    const st = await srv.stop();
    assert.equal(st.code, 0);

    const check = rebuildCheck(srv.dataDir);
    assert.equal(check.status, 0, check.stdout + check.stderr);
    assert.match(check.stdout, /no differences: \d+ profiles/);
  } finally {
    await srv.close();
  }
});

test('rebuild --check reports a difference and changes nothing', async () => {
  const srv = await startServer();
  try {
    await srv.track('/v1/identify', { userId: 'rb-x', traits: { name: '김' } });
    const t = await srv.api('/api/v1/users/rb-x/tags', { method: 'POST', body: { add: ['vip'] } });
    assert.equal(t.status, 200);
    await srv.stop();
    // tamper with the derived state behind cairn's back
    const tamper = spawnSync('sqlite3', [`${srv.dataDir}/state.db`, "DELETE FROM profile_tags WHERE tag = 'vip'"], { encoding: 'utf8' });
    assert.equal(tamper.status, 0, tamper.stderr);
    const check = rebuildCheck(srv.dataDir);
    assert.equal(check.status, 1);
    assert.match(check.stdout, /u:rb-x tags: live \[\], replay \["vip"\]/);
    // the live store was only read
    assert.equal(rebuildCheck(srv.dataDir).status, 1);
    const usage = spawnSync(CAIRN_BIN, ['rebuild'], { encoding: 'utf8' });
    assert.equal(usage.status, 2);
  } finally {
    await srv.close();
  }
});
