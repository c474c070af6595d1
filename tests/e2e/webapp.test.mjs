// The web app's server side: login sessions with CSRF, API keys, and the
// embedded app files (content types, caching, gzip, SPA fallback).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { existsSync, readFileSync } from 'node:fs';
import { startServer } from './lib/server.mjs';

describe('web app: login, CSRF, keys, files', () => {
  let srv;
  before(async () => { srv = await startServer(); });
  after(async () => { await srv?.close(); });

  const login = (email, password) => srv.request('/api/v1/session', { body: { email, password } });
  const cookieOf = (r) => (r.headers.get('set-cookie') || '').split(';')[0];

  test('the owner logs in with the printed account; a wrong password is a 401 at the field', async () => {
    const bad = await login(srv.creds.owner_email, 'not-it');
    assert.equal(bad.status, 401);
    assert.equal(bad.body.error.field, 'password');
    assert.match(bad.body.error.message, /cairn init/);
    assert.equal(bad.headers.get('set-cookie'), null);
    const unknown = await login('nobody@example.com', 'x');
    assert.equal(unknown.status, 401, 'an unknown email answers the same');
    assert.equal((await srv.request('/api/v1/session', { body: { email: 'a@b' } })).body.error.field, 'password');
    const r = await login(srv.creds.owner_email, srv.creds.owner_password);
    assert.equal(r.status, 200);
    const sc = r.headers.get('set-cookie');
    assert.match(sc, /^cairn_session=[0-9A-Za-z]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=1209600$/);
    assert.equal(r.body.member.email, srv.creds.owner_email);
    assert.equal(r.body.member.role, 'owner');
    assert.equal(r.body.workspace.timezone, 'Asia/Seoul');
    assert.match(r.body.csrf_token, /^[0-9A-Za-z]{32}$/);
  });

  test('the session cookie reads the API; a change needs the CSRF token; logout ends it; it survives a restart', async () => {
    const r = await login(srv.creds.owner_email, srv.creds.owner_password);
    const cookie = cookieOf(r), csrf = r.body.csrf_token;
    const seg = { name: 'VIP', condition: { tag: 'vip' } };
    const list = await srv.request('/api/v1/segments', { method: 'GET', headers: { Cookie: cookie } });
    assert.equal(list.status, 200);
    const noToken = await srv.request('/api/v1/segments', { headers: { Cookie: cookie }, body: seg });
    assert.equal(noToken.status, 403);
    assert.equal(noToken.body.error.code, 'csrf_failed');
    const wrong = await srv.request('/api/v1/segments', { headers: { Cookie: cookie, 'X-CSRF-Token': csrf.replace(/^./, (c) => (c === 'a' ? 'b' : 'a')) }, body: seg });
    assert.equal(wrong.status, 403);
    assert.equal((await srv.api('/api/v1/segments')).body.data.length, 0, 'nothing was created by refused requests');
    const ok = await srv.request('/api/v1/segments', { headers: { Cookie: cookie, 'X-CSRF-Token': csrf }, body: seg });
    assert.equal(ok.status, 201, ok.text);
    // a forged cookie is no session
    const forged = await srv.request('/api/v1/segments', { method: 'GET', headers: { Cookie: 'cairn_session=' + 'A'.repeat(43) } });
    assert.equal(forged.status, 401);
    // the session is stored (by hash): a restart keeps it
    await srv.restart();
    const again = await srv.request('/api/v1/session', { method: 'GET', headers: { Cookie: cookie } });
    assert.equal(again.status, 200);
    assert.equal(again.body.csrf_token, csrf);
    const out = await srv.request('/api/v1/session', { method: 'DELETE', headers: { Cookie: cookie, 'X-CSRF-Token': csrf } });
    assert.equal(out.status, 204);
    assert.match(out.headers.get('set-cookie'), /Max-Age=0/);
    assert.equal((await srv.request('/api/v1/segments', { method: 'GET', headers: { Cookie: cookie } })).status, 401);
    assert.equal((await srv.request('/api/v1/session', { method: 'GET', headers: { Cookie: cookie } })).status, 401);
  });

  test('API keys: listed without secrets, created once, revoked at once; the last key of a kind stays', async () => {
    const keys = await srv.api('/api/v1/keys');
    assert.equal(keys.status, 200);
    assert.deepEqual(keys.body.data.map((k) => k.kind).sort(), ['secret', 'write']);
    assert.ok(!keys.text.includes(srv.secretKey.slice(3)), 'no key is shown again');
    assert.equal(keys.body.data.find((k) => k.kind === 'secret').prefix, srv.secretKey.slice(0, 7), 'keys are told apart by their first characters');
    const made = await srv.api('/api/v1/keys', { method: 'POST', body: { kind: 'secret' } });
    assert.equal(made.status, 201);
    assert.match(made.body.key, /^sk_[0-9A-Za-z]{32}$/);
    assert.equal(made.body.prefix, made.body.key.slice(0, 7));
    assert.equal((await srv.api('/api/v1/segments', { auth: made.body.key })).status, 200);
    assert.equal((await srv.api('/api/v1/keys', { method: 'POST', body: { kind: 'admin' } })).body.error.field, 'kind');
    const del = await srv.api(`/api/v1/keys/${made.body.id}`, { method: 'DELETE' });
    assert.equal(del.status, 204);
    assert.equal((await srv.api('/api/v1/segments', { auth: made.body.key })).status, 401, 'revoked now, not in 5 s');
    const write = keys.body.data.find((k) => k.kind === 'write');
    const last = await srv.api(`/api/v1/keys/${write.id}`, { method: 'DELETE' });
    assert.equal(last.status, 409);
    assert.equal(last.body.error.code, 'last_key');
    assert.equal((await srv.api('/api/v1/keys/999999', { method: 'DELETE' })).status, 404);
  });

  test('"send test" of a file provider without a path writes into the data directory, never the working directory', async () => {
    const p = await srv.api('/api/v1/providers', { method: 'POST', body: { channel: 'email', type: 'file', from: 'Shop <shop@shop.example>' } });
    assert.equal(p.status, 201, p.text);
    const r = await srv.api(`/api/v1/providers/${p.body.id}/test`, { method: 'POST', body: { to: 'me@example.com' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.ok, true, r.text);
    const file = `${srv.dataDir}/outbox/email.jsonl`;
    assert.ok(existsSync(file), 'written beside the store');
    assert.match(readFileSync(file, 'utf8'), /"to":"me@example.com"/);
    assert.ok(!existsSync(`${process.cwd()}/outbox`), 'nothing in the working directory');
  });

  test('event names for pickers: distinct, sorted, Korean included', async () => {
    for (const [u, e] of [['n1', 'Order Completed'], ['n2', '장바구니 담기'], ['n1', 'Order Completed'], ['n3', 'Checkout Started']])
      assert.equal((await srv.track('/v1/track', { userId: u, event: e })).status, 200);
    const r = await srv.api('/api/v1/events/names');
    assert.equal(r.status, 200, r.text);
    for (const e of ['Checkout Started', 'Order Completed', '장바구니 담기']) assert.ok(r.body.data.includes(e), r.text);
    assert.deepEqual(r.body.data, [...new Set(r.body.data)].sort((a, b) => (Buffer.from(a) < Buffer.from(b) ? -1 : 1)), 'distinct, in byte order');
  });

  test('the app is served by the binary: index for app paths, hashed assets cached for a year, gzip, JSON 404 for APIs', async () => {
    const root = await fetch(srv.url + '/', { headers: { 'Accept-Encoding': 'identity' } });
    assert.equal(root.status, 200);
    assert.match(root.headers.get('content-type'), /^text\/html/);
    assert.equal(root.headers.get('cache-control'), 'no-cache');
    assert.match(root.headers.get('content-security-policy'), /default-src 'self'/);
    const html = await root.text();
    const js = /src="(\/assets\/index-[^"]+\.js)"/.exec(html)?.[1];
    assert.ok(js, html);
    const deep = await fetch(srv.url + '/journeys/12?x=1');
    assert.equal(deep.status, 200);
    assert.equal(await deep.text(), html, 'an app path gets index.html');
    // raw HTTP to see the gzip bytes as sent
    const { request } = await import('node:http');
    const raw = await new Promise((res, rej) => {
      request(srv.url + js, { headers: { 'Accept-Encoding': 'gzip, br' } }, (r) => {
        const chunks = [];
        r.on('data', (c) => chunks.push(c));
        r.on('end', () => res({ headers: r.headers, body: Buffer.concat(chunks), status: r.statusCode }));
      }).on('error', rej).end();
    });
    assert.equal(raw.status, 200);
    assert.equal(raw.headers['content-encoding'], 'gzip');
    assert.match(raw.headers['content-type'], /^text\/javascript/);
    assert.equal(raw.headers['cache-control'], 'public, max-age=31536000, immutable');
    const plain = gunzipSync(raw.body).toString();
    assert.match(plain, /createRoot|react/i);
    const etag = raw.headers.etag;
    const again = await fetch(srv.url + js, { headers: { 'If-None-Match': etag } });
    assert.equal(again.status, 304);
    const missing = await fetch(srv.url + '/assets/nope-123.js');
    assert.equal(missing.status, 404);
    const api = await fetch(srv.url + '/api/v1/nothing-here');
    assert.equal(api.status, 404);
    assert.equal((await api.json()).error.code, 'not_found');
    assert.equal((await fetch(srv.url + '/v1/nothing')).status, 404);
    assert.equal((await fetch(srv.url + '/favicon.svg')).headers.get('content-type'), 'image/svg+xml');
  });
});
