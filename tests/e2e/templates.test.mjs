// The templates resource (CONVENTIONS §2, §6; docs/templates-api.md) against the
// real binary: CRUD, immutable versions and optimistic concurrency, Liquid
// validation on save, preview for a real user or sample data, and restart.

import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, uid } from './lib/server.mjs';

let srv;
before(async () => { srv = await startServer(); });
after(async () => { await srv?.close(); });

const T = '/api/v1/templates';
const expectStatus = (r, status, what = '') => assert.equal(r.status, status, `${what} → ${r.status} ${r.text}`);
const expectError = (r, status, code, field) => {
  expectStatus(r, status, `expected ${status} ${code}`);
  assert.equal(r.body?.error?.code, code, r.text);
  assert.equal(typeof r.body.error.message, 'string');
  if (field !== undefined) assert.equal(r.body.error.field, field, r.text);
};
const tid = (p = 't') => uid(p).toLowerCase().replace(/[^a-z0-9_-]/g, '-').slice(0, 64);

const emailBody = (subject = 'Hello {{ user.first_name }}') => ({
  subject,
  preheader: 'A preheader',
  html: '<p>Hi {{ user.first_name | default: "there" }}</p>',
  text: 'Hi {{ user.first_name | default: "there" }}',
  from: 'Cairn <hello@example.com>',
});

async function create(tpl) {
  const r = await srv.api(T, { method: 'POST', body: tpl });
  expectStatus(r, 201, `create ${tpl.id}`);
  return r.body;
}

// ---------------------------------------------------------------------------
describe('CRUD', () => {
  test('create, read, list, update, delete (archive) and restore', async () => {
    const id = tid('welcome');
    const r = await srv.api(T, { method: 'POST', body: { id, name: '환영 메일', channel: 'email', locale: 'ko-KR', body: emailBody() } });
    expectStatus(r, 201);
    assert.equal(r.headers.get('location'), `${T}/${id}`);
    assert.equal(r.body.id, id);
    assert.equal(r.body.version, 1);
    assert.equal(r.body.name, '환영 메일');
    assert.equal(r.body.channel, 'email');
    assert.equal(r.body.locale, 'ko-KR');
    assert.deepEqual(r.body.body, emailBody());
    assert.match(r.body.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(r.body.archived_at, null);

    const got = await srv.api(`${T}/${id}`);
    expectStatus(got, 200);
    assert.deepEqual(got.body, r.body, 'GET returns what POST answered');

    const list = await srv.api(`${T}?limit=1000`);
    expectStatus(list, 200);
    const item = list.body.data.find((t) => t.id === id);
    assert.ok(item, 'the list has it');
    assert.equal(item.body, undefined, 'lists leave bodies out');
    const withBody = await srv.api(`${T}?limit=1000&include=body`);
    assert.deepEqual(withBody.body.data.find((t) => t.id === id).body, emailBody());

    const up = await srv.api(`${T}/${id}`, { method: 'PUT', body: { version: 1, body: emailBody('Welcome, {{ user.first_name }}') } });
    expectStatus(up, 200);
    assert.equal(up.body.version, 2);
    assert.equal(up.body.name, '환영 메일', 'omitted fields keep their value');
    assert.equal(up.body.locale, 'ko-KR');
    assert.equal(up.body.created_at, r.body.created_at);
    assert.equal((await srv.api(`${T}/${id}`)).body.body.subject, 'Welcome, {{ user.first_name }}');

    // locale: null clears it
    const clr = await srv.api(`${T}/${id}`, { method: 'PUT', body: { locale: null } });
    expectStatus(clr, 200);
    assert.equal(clr.body.locale, null);
    assert.equal(clr.body.version, 3);

    const del = await srv.api(`${T}/${id}`, { method: 'DELETE' });
    expectStatus(del, 200);
    assert.match(del.body.archived_at, /Z$/);
    expectError(await srv.api(`${T}/${id}`), 404, 'template_archived');
    expectError(await srv.api(`${T}/${id}`, { method: 'DELETE' }), 404, 'template_not_found');
    expectError(await srv.api(`${T}/${id}`, { method: 'PUT', body: { name: 'x' } }), 404, 'template_archived');
    const live = await srv.api(`${T}?limit=1000`);
    assert.ok(!live.body.data.some((t) => t.id === id), 'an archived template leaves the list');
    const arch = await srv.api(`${T}?limit=1000&archived=true`);
    assert.ok(arch.body.data.some((t) => t.id === id && t.archived_at), '…and is listed with archived=true');
    // history stays readable (messages sent with it can be shown)
    const v1 = await srv.api(`${T}/${id}/versions/1`);
    expectStatus(v1, 200);
    assert.deepEqual(v1.body.body, emailBody());

    // creating the id again restores it; the numbering continues
    const again = await srv.api(T, { method: 'POST', body: { id, name: 'Back', channel: 'email', body: emailBody('Back') } });
    expectStatus(again, 201);
    assert.equal(again.body.version, 4);
    assert.equal((await srv.api(`${T}/${id}`)).body.name, 'Back');
  });

  test('a second create with the same id is 409; bad ids are 422; no id makes one', async () => {
    const id = tid('dup');
    await create({ id, name: 'A', channel: 'sms', body: { text: 'hi' } });
    expectError(await srv.api(T, { method: 'POST', body: { id, name: 'B', channel: 'sms', body: { text: 'yo' } } }), 409, 'template_exists', 'id');
    assert.equal((await srv.api(`${T}/${id}`)).body.name, 'A', 'the first one is untouched');
    for (const bad of ['Welcome', '-x', 'a b', 'x'.repeat(65), '환영', 'a/b', '']) {
      expectError(await srv.api(T, { method: 'POST', body: { id: bad, name: 'x', channel: 'sms', body: { text: 'x' } } }), 422, 'invalid_id', 'id');
    }
    const gen = await srv.api(T, { method: 'POST', body: { name: 'Cart Reminder (KR)', channel: 'sms', body: { text: 'x' } } });
    expectStatus(gen, 201);
    assert.match(gen.body.id, /^cart-reminder-kr(-[a-z0-9]{6})?$/);
    const gen2 = await srv.api(T, { method: 'POST', body: { name: 'Cart Reminder (KR)', channel: 'sms', body: { text: 'y' } } });
    expectStatus(gen2, 201);
    assert.notEqual(gen2.body.id, gen.body.id, 'a generated id never takes an existing one');
    const kr = await srv.api(T, { method: 'POST', body: { name: '장바구니 알림', channel: 'kakao', body: { template_code: 'CART_01', text: 'x' } } });
    expectStatus(kr, 201);
    assert.match(kr.body.id, /^[a-z0-9][a-z0-9_-]{0,63}$/);
  });

  test('every channel shape saves; unknown channel, unknown body key, wrong types and missing fields are 422', async () => {
    const shapes = {
      email: emailBody(),
      sms: { text: '[cairn] {{ user.first_name }}님 주문이 접수되었습니다' },
      kakao: { template_code: 'ORDER_01', text: '#{이름}님', buttons: [{ name: '주문 조회', type: 'WL', url_mobile: 'https://shop.example/o/{{ event.properties.order_id }}' }], fallback_text: '주문 완료' },
      push: { title: '{{ user.first_name }}님', body: '새 소식', data: { deep_link: 'app://o/{{ event.properties.order_id }}' } },
      webhook: { body: '{"user":{{ user | json }}}' },
      slack: { text: 'New signup: {{ user.email }}' },
    };
    for (const [channel, body] of Object.entries(shapes)) {
      const c = await create({ id: tid(channel), name: channel, channel, body });
      assert.deepEqual(c.body, body, channel);
    }
    const bad = (channel, body) => srv.api(T, { method: 'POST', body: { name: 'x', channel, body } });
    expectError(await bad('fax', { text: 'x' }), 422, 'unknown_channel', 'channel');
    expectError(await bad(undefined, { text: 'x' }), 422, 'missing_field', 'channel');
    expectError(await bad('sms', { text: 'x', subject: 'y' }), 422, 'unknown_field', 'body.subject');
    expectError(await bad('email', { subject: 'x' }), 422, 'missing_field', 'body.html');
    expectError(await bad('email', { html: 'x' }), 422, 'missing_field', 'body.subject');
    expectError(await bad('sms', { text: '' }), 422, 'missing_field', 'body.text');
    expectError(await bad('sms', { text: 5 }), 422, 'invalid_field', 'body.text');
    expectError(await bad('sms', 'hello'), 422, 'invalid_field', 'body');
    expectError(await bad('kakao', { template_code: 'A', text: 'x', buttons: [{ type: 'WL' }] }), 422, 'missing_field', 'body.buttons[0].name');
    expectError(await bad('push', { title: 'x', data: { n: 1 } }), 422, 'invalid_field', 'body.data.n');
    expectError(await srv.api(T, { method: 'POST', body: { name: 'x', channel: 'sms', body: { text: 'x' }, colour: 'red' } }), 422, 'unknown_field', 'colour');
    expectError(await srv.api(T, { method: 'POST', body: { channel: 'sms', body: { text: 'x' } } }), 422, 'missing_field', 'name');
    expectError(await srv.api(T, { method: 'POST', body: { name: 'x', channel: 'sms', locale: 'korean!', body: { text: 'x' } } }), 422, 'invalid_field', 'locale');
    expectError(await srv.api(T, { method: 'POST', raw: '{"name":', headers: { 'Content-Type': 'application/json' } }), 400, 'invalid_json');
  });

  test('a large HTML body is accepted', async () => {
    const html = `<html><body>${'<p>{{ user.first_name }}님, 안녕하세요</p>\n'.repeat(6000)}</body></html>`;
    assert.ok(html.length > 200_000);
    const c = await create({ id: tid('big'), name: 'Big', channel: 'email', body: { subject: 's', html } });
    assert.equal(c.body.html.length, html.length);
  });

  test('the secret key is required', async () => {
    expectStatus(await srv.api(T, { auth: null }), 401);
    expectStatus(await srv.api(T, { auth: srv.writeKey }), 401, 'a write key is not enough');
    expectStatus(await srv.api(`${T}/preview`, { method: 'POST', auth: null, body: { channel: 'sms', body: { text: 'x' } } }), 401);
  });

  test('list pages through every template once and filters by channel', async () => {
    const prefix = tid('page');
    const ids = [];
    for (let i = 0; i < 7; i++) {
      const id = `${prefix}-${i}`;
      ids.push(id);
      await create({ id, name: `P${i}`, channel: i % 2 ? 'sms' : 'slack', body: { text: `n${i}` } });
    }
    const seen = [];
    let cursor = null;
    let pages = 0;
    do {
      const qs = new URLSearchParams({ limit: '3' });
      if (cursor) qs.set('cursor', cursor);
      const r = await srv.api(`${T}?${qs}`);
      expectStatus(r, 200);
      assert.ok(r.body.data.length <= 3);
      seen.push(...r.body.data.map((t) => t.id));
      cursor = r.body.next_cursor;
      pages++;
    } while (cursor && pages < 100);
    assert.equal(new Set(seen).size, seen.length, 'no template twice');
    for (const id of ids) assert.ok(seen.includes(id), `${id} listed`);
    const sorted = [...seen].sort();
    assert.deepEqual(seen, sorted, 'ordered by id');

    const sms = await srv.api(`${T}?channel=sms&limit=1000`);
    expectStatus(sms, 200);
    assert.ok(sms.body.data.every((t) => t.channel === 'sms'));
    assert.equal(sms.body.data.filter((t) => t.id.startsWith(prefix)).length, 3);
    expectError(await srv.api(`${T}?channel=fax`), 400, 'unknown_channel', 'channel');
    expectError(await srv.api(`${T}?limit=0`), 400, 'bad_limit');
    expectError(await srv.api(`${T}?cursor=nonsense`), 400, 'bad_cursor');
  });
});

// ---------------------------------------------------------------------------
describe('versions and optimistic concurrency', () => {
  test('each save is a new immutable version; a stale version is 409', async () => {
    const id = tid('ver');
    await create({ id, name: 'V', channel: 'sms', body: { text: 'one' } });
    // Alice and Bob both load version 1
    const alice = await srv.api(`${T}/${id}`, { method: 'PUT', body: { version: 1, body: { text: 'two (alice)' } } });
    expectStatus(alice, 200);
    assert.equal(alice.body.version, 2);
    const bob = await srv.api(`${T}/${id}`, { method: 'PUT', body: { version: 1, body: { text: 'two (bob)' } } });
    expectError(bob, 409, 'version_conflict', 'version');
    assert.match(bob.body.error.message, /version 2/);
    assert.equal((await srv.api(`${T}/${id}`)).body.body.text, 'two (alice)', 'the stale save changed nothing');
    // Bob reloads and saves on top of version 2
    const bob2 = await srv.api(`${T}/${id}`, { method: 'PUT', body: { version: 2, body: { text: 'three (bob)' } } });
    expectStatus(bob2, 200);
    assert.equal(bob2.body.version, 3);
    // a retried save (same content, the version it had) is harmless: no new version
    const retry = await srv.api(`${T}/${id}`, { method: 'PUT', body: { version: 2, body: { text: 'three (bob)' } } });
    expectStatus(retry, 200);
    assert.equal(retry.body.version, 3);
    // without "version" the last writer wins
    const blind = await srv.api(`${T}/${id}`, { method: 'PUT', body: { body: { text: 'four' } } });
    assert.equal(blind.body.version, 4);

    // the versions list: newest first, paginated
    const seen = [];
    let cursor = null;
    do {
      const qs = new URLSearchParams({ limit: '3', include: 'body' });
      if (cursor) qs.set('cursor', cursor);
      const r = await srv.api(`${T}/${id}/versions?${qs}`);
      expectStatus(r, 200);
      seen.push(...r.body.data);
      cursor = r.body.next_cursor;
    } while (cursor);
    assert.deepEqual(seen.map((v) => v.version), [4, 3, 2, 1]);
    assert.deepEqual(seen.map((v) => v.body.text), ['four', 'three (bob)', 'two (alice)', 'one']);
    assert.deepEqual(seen.map((v) => v.latest), [true, false, false, false]);
    const noBody = await srv.api(`${T}/${id}/versions`);
    assert.equal(noBody.body.data[0].body, undefined);

    const v2 = await srv.api(`${T}/${id}/versions/2`);
    expectStatus(v2, 200);
    assert.equal(v2.body.version, 2);
    assert.equal(v2.body.body.text, 'two (alice)');
    expectError(await srv.api(`${T}/${id}/versions/9`), 404, 'version_not_found');
    expectError(await srv.api(`${T}/${id}/versions/abc`), 400, 'bad_version');
    expectError(await srv.api(`${T}/nope-${id}/versions`), 404, 'template_not_found');
    expectError(await srv.api(`${T}/${id}`, { method: 'PUT', body: { version: 'two' } }), 422, 'invalid_field', 'version');
    expectError(await srv.api(`${T}/${id}`, { method: 'PUT', body: { id: 'other' } }), 422, 'invalid_id', 'id');
  });

  test('concurrent saves without a version each get their own version', async () => {
    const id = tid('race');
    await create({ id, name: 'R', channel: 'sms', body: { text: '0' } });
    const n = 12;
    const rs = await Promise.all(Array.from({ length: n }, (_, i) =>
      srv.api(`${T}/${id}`, { method: 'PUT', body: { body: { text: `w${i}` } } })));
    for (const r of rs) expectStatus(r, 200);
    assert.deepEqual(rs.map((r) => r.body.version).sort((a, b) => a - b), Array.from({ length: n }, (_, i) => i + 2));
    const latest = await srv.api(`${T}/${id}`);
    assert.equal(latest.body.version, n + 1);
  });
});

// ---------------------------------------------------------------------------
describe('Liquid validation on save', () => {
  test('a syntax error is 422 naming the field with line and column; nothing is stored', async () => {
    const id = tid('syntax');
    const html = '<p>Hello</p>\n<p>{% if user.vip %}VIP{% endfor %}</p>';
    const r = await srv.api(T, { method: 'POST', body: { id, name: 'Broken', channel: 'email', body: { subject: 'ok', html } } });
    expectError(r, 422, 'template_syntax', 'body.html');
    assert.match(r.body.error.message, /line 2, column \d+/);
    expectError(await srv.api(`${T}/${id}`), 404, 'template_not_found');

    // on update: the version does not move
    await create({ id, name: 'Fine', channel: 'email', body: { subject: 'ok', html: '<p>fine</p>' } });
    const up = await srv.api(`${T}/${id}`, { method: 'PUT', body: { version: 1, body: { subject: 'Hi {{ user.first_name ', html: '<p/>' } } });
    expectError(up, 422, 'template_syntax', 'body.subject');
    assert.match(up.body.error.message, /line 1, column \d+/);
    assert.equal((await srv.api(`${T}/${id}`)).body.version, 1);

    const btn = await srv.api(T, { method: 'POST', body: { name: 'K', channel: 'kakao', body: { template_code: 'A', text: 'ok', buttons: [{ name: 'go', url_mobile: 'https://x/{% if %}' }] } } });
    expectError(btn, 422, 'template_syntax', 'body.buttons[0].url_mobile');
    const unknownTag = await srv.api(T, { method: 'POST', body: { name: 'S', channel: 'slack', body: { text: 'a\nb\n  {% frobnicate %}' } } });
    expectError(unknownTag, 422, 'template_syntax', 'body.text');
    assert.match(unknownTag.body.error.message, /line 3, column 3/);
  });
});

// ---------------------------------------------------------------------------
describe('preview', () => {
  const koId = 'u-kr-preview';
  before(async () => {
    const r = await srv.track('/v1/identify', {
      userId: koId,
      traits: { first_name: '민수', last_name: '김', email: 'minsu@example.com', plan: 'pro', city: '서울' },
    });
    expectStatus(r, 200, 'identify');
    expectStatus(await srv.api(`/api/v1/users/${koId}/tags`, { method: 'POST', body: { add: ['vip', 'interest:marketing'] } }), 200, 'tags');
  });

  test('with a real user identified through the Tracking API (Korean traits, KRW money)', async () => {
    const id = tid('ko');
    await create({
      id, name: '환영', channel: 'email', locale: 'ko-KR',
      body: {
        subject: '{{ user.first_name }}님, 안녕하세요',
        html: '<p>{{ user.last_name }}{{ user.first_name }}님 ({{ user.email }}), 적립금 {{ 15000 | money: "KRW" }}</p>'
          + '<p>{{ user.tags | join: "," }} / {{ user.id }} / {{ user.city }}</p><a href="{{ links.unsubscribe_url }}">수신거부</a>',
        text: '{{ user.first_name | size }}글자',
      },
    });
    const r = await srv.api(`${T}/${id}/preview`, { method: 'POST', body: { user_id: koId } });
    expectStatus(r, 200);
    assert.equal(r.body.rendered.subject, '민수님, 안녕하세요');
    assert.match(r.body.rendered.html, /김민수님 \(minsu@example\.com\), 적립금 ₩15,000/);
    assert.match(r.body.rendered.html, /interest:marketing,vip \/ u-kr-preview \/ 서울/);
    assert.match(r.body.rendered.html, /href="http[^"]+"/, 'links are provided');
    assert.equal(r.body.rendered.text, '2글자', 'Korean counts characters');
    assert.deepEqual(r.body.variables.missing, []);
    assert.ok(r.body.variables.used.includes('user.first_name'));
    assert.deepEqual(r.body.template, { id, version: 1, channel: 'email', locale: 'ko-KR' });

    // a user who does not exist
    expectError(await srv.api(`${T}/${id}/preview`, { method: 'POST', body: { user_id: 'nobody-here' } }), 404, 'user_not_found', 'user_id');
    // a template that does not exist
    expectError(await srv.api(`${T}/no-such-${id}/preview`, { method: 'POST', body: { user_id: koId } }), 404, 'template_not_found');
  });

  test('a user identified just before the preview is seen (read after write)', async () => {
    const id = tid('fresh');
    await create({ id, name: 'F', channel: 'sms', body: { text: '{{ user.first_name }}님 반갑습니다' } });
    const userId = uid('fresh-user');
    expectStatus(await srv.track('/v1/identify', { userId, traits: { first_name: '지우' } }), 200);
    const r = await srv.api(`${T}/${id}/preview`, { method: 'POST', body: { user_id: userId } });
    expectStatus(r, 200);
    assert.equal(r.body.rendered.text, '지우님 반갑습니다');
  });

  test('with sample data and an event', async () => {
    const id = tid('sample');
    await create({
      id, name: 'Order', channel: 'kakao',
      body: {
        template_code: 'ORDER_01',
        text: '{{ user.first_name }}님, 주문 {{ event.properties.order_id }} ({{ event.properties.revenue | money: "KRW" }})',
        buttons: [{ name: '주문 조회', type: 'WL', url_mobile: 'https://shop.example/o/{{ event.properties.order_id | url_encode }}' }],
      },
    });
    const r = await srv.api(`${T}/${id}/preview`, {
      method: 'POST',
      body: { data: { user: { first_name: '서연' } }, event: { event: 'Order Completed', properties: { order_id: 'A-1', revenue: 52000 } } },
    });
    expectStatus(r, 200);
    assert.equal(r.body.rendered.text, '서연님, 주문 A-1 (₩52,000)');
    assert.equal(r.body.rendered.template_code, 'ORDER_01');
    assert.deepEqual(r.body.rendered.buttons, [{ name: '주문 조회', type: 'WL', url_mobile: 'https://shop.example/o/A-1' }]);
    assert.deepEqual(r.body.variables.missing, []);

    // sample data overrides traits of the real user
    const mix = await srv.api(`${T}/${id}/preview`, { method: 'POST', body: { user_id: koId, data: { user: { first_name: '테스트' } } } });
    expectStatus(mix, 200);
    assert.match(mix.body.rendered.text, /^테스트님/);
  });

  test('lists the variables the data does not provide; strict mode makes them errors', async () => {
    const id = tid('missing');
    await create({
      id, name: 'M', channel: 'email',
      body: { subject: 'Hi {{ user.first_name }} {{ user.nickname }}', html: '{{ content.title }} {{ user.first_name | shout }}' },
    });
    const r = await srv.api(`${T}/${id}/preview`, { method: 'POST', body: { data: { user: { first_name: 'Ann' } } } });
    expectStatus(r, 200);
    assert.equal(r.body.rendered.subject, 'Hi Ann ', 'lax: a missing variable renders empty');
    assert.deepEqual(r.body.variables.missing, ['user.nickname', 'content.title']);
    assert.deepEqual(r.body.filters.unknown, ['shout']);

    const strict = await srv.api(`${T}/${id}/preview`, { method: 'POST', body: { data: { user: { first_name: 'Ann' } }, mode: 'strict' } });
    expectError(strict, 422, 'template_error', 'body.subject');
    assert.match(strict.body.error.message, /nickname/);
    assert.match(strict.body.error.message, /line 1/);
    expectError(await srv.api(`${T}/${id}/preview`, { method: 'POST', body: { mode: 'loose' } }), 422, 'invalid_field', 'mode');
    expectError(await srv.api(`${T}/${id}/preview`, { method: 'POST', body: { userId: koId } }), 422, 'unknown_field', 'userId');
    expectError(await srv.api(`${T}/${id}/preview`, { method: 'POST', body: { data: [1] } }), 422, 'invalid_field', 'data');
  });

  test('a render error is 422 naming the field', async () => {
    const id = tid('renderr');
    await create({ id, name: 'E', channel: 'push', body: { title: 'ok', body: 'line one\n{{ 10 | divided_by: user.zero }}' } });
    const r = await srv.api(`${T}/${id}/preview`, { method: 'POST', body: { data: { user: { zero: 0 } } } });
    expectError(r, 422, 'template_error', 'body.body');
    assert.match(r.body.error.message, /line 2/);
  });

  test('an older version, a time for dates, and partials from other templates', async () => {
    const footer = tid('footer');
    await create({ id: footer, name: 'Footer', channel: 'email', body: { subject: '-', html: '<footer>{{ workspace.name }}</footer>', text: '-- {{ workspace.name }}' } });
    const id = tid('old');
    await create({ id, name: 'O', channel: 'email', body: { subject: 'v1 {{ "now" | date: "%Y-%m-%d %H:%M", "Asia/Seoul" }}', html: `x{% render '${footer}' %}`, text: `y{% render '${footer}' %}` } });
    await srv.api(`${T}/${id}`, { method: 'PUT', body: { body: { subject: 'v2', html: 'x' } } });
    const r = await srv.api(`${T}/${id}/preview`, { method: 'POST', body: { version: 1, now: '2026-03-02T01:00:00Z' } });
    expectStatus(r, 200);
    assert.equal(r.body.template.version, 1);
    assert.equal(r.body.rendered.subject, 'v1 2026-03-02 10:00');
    assert.equal(r.body.rendered.html, 'x<footer>default</footer>', 'render takes the same field of the partial');
    assert.equal(r.body.rendered.text, 'y-- default');
    const latest = await srv.api(`${T}/${id}/preview`, { method: 'POST', body: {} });
    assert.equal(latest.body.rendered.subject, 'v2');
    expectError(await srv.api(`${T}/${id}/preview`, { method: 'POST', body: { version: 7 } }), 404, 'version_not_found');
  });

  test('an unsaved body (the editor\'s live preview)', async () => {
    const r = await srv.api(`${T}/preview`, {
      method: 'POST',
      body: { channel: 'email', body: { html: '<h1>{{ user.first_name }}님</h1>' }, user_id: koId },
    });
    expectStatus(r, 200);
    assert.deepEqual(r.body.rendered, { html: '<h1>민수님</h1>' }, 'a draft need not be complete');
    assert.equal(r.body.template.id, null);
    const bad = await srv.api(`${T}/preview`, { method: 'POST', body: { channel: 'sms', body: { text: 'a\n{% unless user.vip %}' } } });
    expectError(bad, 422, 'template_syntax', 'body.text');
    assert.match(bad.body.error.message, /line 2, column \d+/);
    // junk Shopify's lax parser ignores renders in lax mode; strict mode rejects it
    const junk = { channel: 'sms', body: { text: 'a\n{{ user.first_name | }}' }, data: { user: { first_name: 'x' } } };
    expectStatus(await srv.api(`${T}/preview`, { method: 'POST', body: junk }), 200);
    const strictJunk = await srv.api(`${T}/preview`, { method: 'POST', body: { ...junk, mode: 'strict' } });
    expectError(strictJunk, 422, 'template_syntax', 'body.text');
    assert.match(strictJunk.body.error.message, /line 2, column \d+/);
    expectError(await srv.api(`${T}/preview`, { method: 'POST', body: { channel: 'sms', body: { html: 'x' } } }), 422, 'unknown_field', 'body.html');
    expectError(await srv.api(`${T}/preview`, { method: 'POST', body: { body: { text: 'x' } } }), 422, 'missing_field', 'channel');
  });
});

// ---------------------------------------------------------------------------
describe('durability', () => {
  test('templates, versions and archives survive a restart', async () => {
    const id = tid('durable');
    const gone = tid('gone');
    await create({ id, name: '지속', channel: 'sms', body: { text: '{{ user.first_name }}님 v1' } });
    await srv.api(`${T}/${id}`, { method: 'PUT', body: { version: 1, body: { text: '{{ user.first_name }}님 v2' } } });
    await create({ id: gone, name: 'Gone', channel: 'sms', body: { text: 'x' } });
    expectStatus(await srv.api(`${T}/${gone}`, { method: 'DELETE' }), 200);

    await srv.restart();

    const got = await srv.api(`${T}/${id}`);
    expectStatus(got, 200);
    assert.equal(got.body.version, 2);
    assert.equal(got.body.name, '지속');
    const vs = await srv.api(`${T}/${id}/versions?include=body`);
    assert.deepEqual(vs.body.data.map((v) => v.body.text), ['{{ user.first_name }}님 v2', '{{ user.first_name }}님 v1']);
    expectError(await srv.api(`${T}/${gone}`), 404, 'template_archived');
    const p = await srv.api(`${T}/${id}/preview`, { method: 'POST', body: { user_id: 'u-kr-preview' } });
    expectStatus(p, 200);
    assert.equal(p.body.rendered.text, '민수님 v2');
    const up = await srv.api(`${T}/${id}`, { method: 'PUT', body: { version: 2, body: { text: 'v3' } } });
    assert.equal(up.body.version, 3, 'numbering continues after a restart');
  });
});
