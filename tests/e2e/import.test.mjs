// Bulk import and export (issue 3, item 8) against the real binary: `cairn
// import` / `cairn export` on a running server's store, the import/export API,
// abort vs skip-bad, re-runs that store nothing twice, and round trips.

import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { startServer, uid, CAIRN_BIN } from './lib/server.mjs';

let srv;
let work;
before(async () => {
  srv = await startServer();
  work = mkdtempSync(join(tmpdir(), 'cairn-import-'));
});
after(async () => {
  await srv?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

function cairn(args, input) {
  return spawnSync(CAIRN_BIN, args, { encoding: 'utf8', timeout: 60000, input });
}

function file(name, text) {
  const p = join(work, name);
  writeFileSync(p, text);
  return p;
}

const csvPost = (path, body, headers = {}) =>
  srv.request(path, {
    method: 'POST',
    headers: { Authorization: `Bearer ${srv.secretKey}`, 'Content-Type': 'text/csv; charset=utf-8', ...headers },
    raw: body,
  });
const ndjsonPost = (path, lines, headers = {}) =>
  srv.request(path, {
    method: 'POST',
    headers: { Authorization: `Bearer ${srv.secretKey}`, 'Content-Type': 'application/x-ndjson', ...headers },
    raw: typeof lines === 'string' ? lines : lines.map((l) => JSON.stringify(l)).join('\n') + '\n',
  });
const status = async (id) => (await srv.api(`/api/v1/users/${encodeURIComponent(id)}`)).status;

describe('cairn import (CLI) beside a running server', () => {
  const p = uid('k');
  const csv =
    '\ufeffuser_id,email,name,phone,consent.email,tags,plan\r\n' +
    `${p}-1,kim@example.kr,김철수,010-1234-5678,subscribed,"vip, 서울",pro\r\n` +
    `${p}-2,lee@example.kr,"이영희, ""님""",,,,"two\nlines"\r\n`;

  test('a Korean CSV lands in profiles the API reads back', async () => {
    const r = cairn(['import', 'users', file('k.csv', csv), '--data', srv.dataDir]);
    assert.equal(r.status, 0, r.stderr);
    const summary = JSON.parse(r.stdout.trim());
    assert.deepEqual({ rows: summary.rows, imported: summary.imported, skipped: summary.skipped }, { rows: 2, imported: 2, skipped: 0 });
    assert.doesNotMatch(r.stderr, /\r|\x1b\[/, 'no progress bar when stderr is not a terminal');
    const u1 = await srv.user(`${p}-1`);
    assert.equal(u1.traits.name, '김철수');
    assert.equal(u1.traits.phone, '010-1234-5678');
    assert.equal(u1.traits.plan, 'pro', 'CSV values stay strings');
    assert.equal(u1.consent.email.status, 'subscribed');
    assert.equal(u1.consent.email.source, 'import');
    assert.deepEqual([...u1.tags].sort(), ['vip', '서울']);
    const u2 = await srv.user(`${p}-2`);
    assert.equal(u2.traits.name, '이영희, "님"');
    assert.equal(u2.traits.plan, 'two\nlines');
    assert.equal(u2.traits.phone, undefined, 'an empty cell sets nothing');
    const found = await srv.api(`/api/v1/users?q=${encodeURIComponent('김철수')}`);
    assert.ok(found.body.data.some((u) => u.id === `${p}-1`), 'Korean search finds the imported name');
  });

  test('running the same import again stores nothing twice', async () => {
    const before = await srv.eventCount();
    const r = cairn(['import', 'users', join(work, 'k.csv'), '--data', srv.dataDir]);
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout.trim());
    assert.equal(s.imported, 0);
    assert.equal(s.duplicates, 2);
    assert.equal(await srv.eventCount(), before);
  });

  test('one bad row aborts the whole import: exit 1, the line named, nothing stored', async () => {
    const q = uid('bad');
    const bad = `user_id,email,timezone\n${q}-1,a@x.kr,Asia/Seoul\n${q}-2,b@x.kr,Mars/Olympus\n${q}-3,c@x.kr,\n`;
    const before = await srv.eventCount();
    const r = cairn(['import', 'users', file('bad.csv', bad), '--data', srv.dataDir]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /line 3: traits\.timezone: must be an IANA time zone/);
    assert.match(r.stderr, /nothing was imported/);
    const s = JSON.parse(r.stdout.trim());
    assert.equal(s.aborted, true);
    assert.deepEqual(s.errors.map((e) => e.line), [3]);
    assert.equal(await srv.eventCount(), before, 'no event was stored');
    assert.equal(await status(`${q}-1`), 404, 'not even the good rows');

    const skip = cairn(['import', 'users', join(work, 'bad.csv'), '--skip-bad', '--data', srv.dataDir]);
    assert.equal(skip.status, 0, skip.stderr);
    assert.match(skip.stderr, /line 3: traits\.timezone/);
    const s2 = JSON.parse(skip.stdout.trim());
    assert.equal(s2.imported, 2);
    assert.equal(s2.skipped, 1);
    assert.equal(await status(`${q}-1`), 200);
    assert.equal(await status(`${q}-2`), 404);
    assert.equal(await status(`${q}-3`), 200);
  });

  test('events from stdin, --map, and usage errors', async () => {
    const q = uid('ev');
    const lines = [
      { type: 'identify', userId: q, traits: { name: '박' } },
      { type: 'track', userId: q, event: 'Order Completed', properties: { revenue: 59000, currency: 'KRW' }, timestamp: '2025-12-24T21:00:00+09:00' },
    ].map((l) => JSON.stringify(l)).join('\n');
    const r = cairn(['import', 'events', '-', '--data', srv.dataDir], lines);
    assert.equal(r.status, 0, r.stderr);
    const tl = await srv.timeline(q);
    assert.equal(tl.length, 2);
    const order = tl.find((e) => e.event === 'Order Completed');
    assert.equal(order.timestamp, '2025-12-24T12:00:00.000Z', 'the event keeps its own time');

    const m = cairn(['import', 'users', file('m.csv', `member_no,nm,secret\n${q}-m,홍길동,x\n`), '--map', 'member_no=user_id',
      '--map', 'nm=name', '--map', 'secret=', '--data', srv.dataDir]);
    assert.equal(m.status, 0, m.stderr);
    const u = await srv.user(`${q}-m`);
    assert.equal(u.traits.name, '홍길동');
    assert.equal(u.traits.secret, undefined);

    const flag = cairn(['import', 'users', 'x.csv', '--no-such-flag']);
    assert.equal(flag.status, 2);
    assert.match(flag.stderr, /usage: cairn import/);
    assert.equal(cairn(['import', 'things', 'x.csv']).status, 2);
    assert.equal(cairn(['import', 'users']).status, 2);
    assert.equal(cairn(['import', 'events', 'x.ndjson', '--format', 'csv']).status, 2);
    const missing = cairn(['import', 'users', join(work, 'nope.csv'), '--data', srv.dataDir]);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /cannot open/);
    assert.equal(cairn(['import', '--help']).status, 0);
  });
});

describe('import API', () => {
  test('CSV users: 200 with counts, profiles readable at once; re-post is all duplicates', async () => {
    const p = uid('api');
    const body = `user_id,email,name,lifecycle_stage\n${p}-1,a@x.kr,최민수,lead\n${p}-2,b@x.kr,정수빈,\n`;
    const r = await csvPost('/api/v1/import/users', body);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, { rows: 2, imported: 2, duplicates: 0, skipped: 0, errors: [] });
    const u = await srv.user(`${p}-1`);
    assert.equal(u.traits.name, '최민수');
    assert.equal(u.lifecycle_stage, 'lead');
    const again = await csvPost('/api/v1/import/users', body);
    assert.equal(again.status, 200);
    assert.equal(again.body.imported, 0);
    assert.equal(again.body.duplicates, 2);
  });

  test('a bad row in abort mode: 422, the line and reason, nothing stored; skip_bad imports the rest', async () => {
    const p = uid('api-bad');
    const body = `user_id,email\n${p}-1,a@x.kr\n${p}-2,"b@x.kr\n`;
    const before = await srv.eventCount();
    const r = await csvPost('/api/v1/import/users', body);
    assert.equal(r.status, 422, r.text);
    assert.equal(r.body.error.code, 'invalid_rows');
    assert.equal(r.body.imported, 0);
    assert.equal(r.body.aborted, true);
    assert.deepEqual(r.body.errors.map((e) => e.line), [3]);
    assert.match(r.body.errors[0].message, /never closed/);
    assert.equal(await srv.eventCount(), before);
    assert.equal(await status(`${p}-1`), 404);

    const s = await csvPost('/api/v1/import/users?skip_bad=true', body);
    assert.equal(s.status, 200, s.text);
    assert.equal(s.body.imported, 1);
    assert.equal(s.body.skipped, 1);
    assert.equal(s.body.errors[0].line, 3);
    assert.equal(await status(`${p}-1`), 200);
  });

  test('NDJSON users (gzip) and events; errors name their line', async () => {
    const p = uid('nd');
    const users = [
      { userId: `${p}-1`, traits: { email: 'x@x.kr', name: '윤', consent: { sms: 'unsubscribed' } } },
      { userId: `${p}-2`, anonymousId: `${p}-dev`, traits: { vip: true, points: 10 } },
    ].map((l) => JSON.stringify(l)).join('\n');
    const r = await srv.request('/api/v1/import/users', {
      method: 'POST',
      headers: { Authorization: `Bearer ${srv.secretKey}`, 'Content-Encoding': 'gzip', 'Content-Type': 'application/x-ndjson' },
      raw: gzipSync(Buffer.from(users)),
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.imported, 2);
    const u2 = await srv.user(`${p}-dev`);
    assert.equal(u2.id, `${p}-2`);
    assert.equal(u2.traits.points, 10, 'NDJSON keeps JSON types');
    assert.equal((await srv.user(`${p}-1`)).consent.sms.status, 'unsubscribed');

    const ev = await ndjsonPost('/api/v1/import/events', [
      { type: 'track', userId: `${p}-1`, event: 'Product Viewed', properties: { sku: 'A-1' } },
      { type: 'page', userId: `${p}-1`, name: '장바구니' },
    ]);
    assert.equal(ev.status, 200, ev.text);
    assert.equal(ev.body.imported, 2);
    assert.equal((await srv.timeline(`${p}-1`)).length, 3);

    const bad = await ndjsonPost('/api/v1/import/events', `{"type":"track","userId":"${p}-1","event":"A"}\n\n{"type":"track","userId":"${p}-1"}\n{oops\n`);
    assert.equal(bad.status, 422);
    assert.deepEqual(bad.body.errors.map((e) => e.line), [3, 4]);
    assert.match(bad.body.errors[0].message, /^event: track needs an event name/);
    assert.equal((await srv.timeline(`${p}-1`)).length, 3, 'the good line was not stored either');

    const csvEvents = await csvPost('/api/v1/import/events', 'type\ntrack\n');
    assert.equal(csvEvents.status, 400);
    const noKey = await srv.request('/api/v1/import/users', { method: 'POST', raw: 'user_id\nx\n', headers: { 'Content-Type': 'text/csv' } });
    assert.equal(noKey.status, 401);
    const badFlag = await csvPost('/api/v1/import/users?skip_bad=perhaps', 'user_id\nx\n');
    assert.equal(badFlag.status, 400);
    const noId = await csvPost('/api/v1/import/users', 'email\na@x\n');
    assert.equal(noId.status, 400);
    assert.match(noId.body.error.message, /no user_id column/);
  });
});

describe('export', () => {
  test('API: users as NDJSON and CSV, events as NDJSON', async () => {
    const p = uid('exp');
    await csvPost('/api/v1/import/users', `user_id,email,name,tags\n${p},e@x.kr,"서, 지우",vip\n`);
    const nd = await srv.api('/api/v1/export/users');
    assert.equal(nd.status, 200);
    assert.match(nd.headers.get('content-type'), /application\/x-ndjson/);
    const users = nd.text.trim().split('\n').map((l) => JSON.parse(l));
    const me = users.find((u) => u.id === p);
    assert.equal(me.traits.name, '서, 지우');
    assert.deepEqual(me.tags, ['vip']);

    const csv = await srv.api('/api/v1/export/users?format=csv');
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-type'), /text\/csv/);
    const lines = csv.text.replace(/^\ufeff/, '').split('\r\n');
    assert.equal(lines[0], 'user_id,anonymous_id,email,phone,name,first_name,last_name,lifecycle_stage,tags,created_at,traits');
    assert.ok(lines.includes(`${p},,e@x.kr,,"서, 지우",,,,"[""vip""]",,`), lines.filter((l) => l.startsWith(p)).join('\n'));

    const ev = await srv.api('/api/v1/export/events');
    assert.equal(ev.status, 200);
    const events = ev.text.trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(events.length > 0);
    assert.ok(events.every((e) => ['identify', 'track', 'page', 'screen', 'group', 'alias'].includes(e.type)));
    assert.equal((await srv.api('/api/v1/export/users?format=xml')).status, 400);
  });

  test('CLI: export streams to a file; the file imports into a fresh server unchanged', async () => {
    const out = join(work, 'users.ndjson');
    const r = cairn(['export', 'users', '--out', out, '--data', srv.dataDir]);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(existsSync(out));
    const text = readFileSync(out, 'utf8');
    const n = text.trim().split('\n').length;
    assert.match(r.stderr, new RegExp(`${n} users written`));
    const csvOut = cairn(['export', 'users', '--format', 'csv', '--no-bom', '--data', srv.dataDir]);
    assert.equal(csvOut.status, 0, csvOut.stderr);
    assert.match(csvOut.stdout, /^user_id,anonymous_id,email/);
    assert.equal(cairn(['export', 'events', '--format', 'csv', '--data', srv.dataDir]).status, 2);
    assert.equal(cairn(['export', 'users', '--bogus']).status, 2);

    const other = await startServer();
    try {
      const res = await other.request('/api/v1/import/users', {
        method: 'POST',
        headers: { Authorization: `Bearer ${other.secretKey}`, 'Content-Type': 'application/x-ndjson' },
        raw: text,
      });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.imported, n);
      const exported = text.trim().split('\n').map((l) => JSON.parse(l));
      for (const before of exported.filter((u) => u.id).slice(0, 20)) {
        const after = await other.user(before.id);
        assert.deepEqual(after.traits, before.traits, before.id);
        assert.deepEqual(after.tags, before.tags, before.id);
        assert.equal(after.lifecycle_stage, before.lifecycle_stage, before.id);
        assert.deepEqual([...after.anonymous_ids].sort(), [...before.anonymous_ids].sort(), before.id);
        for (const [ch, c] of Object.entries(before.consent)) {
          if (ch !== 'topics') assert.equal(after.consent[ch]?.status, c.status, `${before.id} consent ${ch}`);
        }
      }
    } finally {
      await other.close();
    }
  });
});
