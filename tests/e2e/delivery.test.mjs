// Delivery end to end (issue 7; CONVENTIONS §0–3): messages queued through the real
// API (POST /api/v1/messages/send, journeys) leave the real binary over real sockets
// to real peers — tests/peers/smtp_peer.py (aiosmtpd) for email, tests/peers/
// http_peer.mjs for SMS / Kakao / push / Slack gateways and webhooks — and what
// arrived is checked there: the stored .eml strictly parsed and DKIM-verified by
// tests/peers/mail_check.py with the TXT record POST /domains returned, HTTP bodies
// and Standard Webhooks signatures checked with node:crypto.
//
// Time is the server's virtual clock (`serve --virtual-clock`): POST /api/v1/_clock
// answers once every due message was handed to its provider and the outcome recorded,
// so nothing here sleeps. One server per describe block; every test uses its own
// users, and the HTTP tests start by removing the providers of their channels (a
// channel's providers all take part in failover, so a leftover one would change the
// outcome).

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startServer } from './lib/server.mjs';
import { journeyKit, expectStatus, iso, kst, MINUTE, HOUR } from './lib/journeys.mjs';
import {
  startSmtpPeer, checkMail, deliveryKit, historyOf, entriesOf, verifyWebhook, webhookSignature, euckrBytes,
  closedPort, filesContaining,
} from './lib/delivery.mjs';
import { startHttpPeer } from '../peers/http_peer.mjs';

const START = '2026-03-02T10:00:00+09:00';
const PUBLIC = 'https://cairn.example';
const SENDER_INFO = '(주)숲속상점 · 서울특별시 중구 세종대로 110 · 02-1234-5678';

const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The tracked click link of url in an HTML body (hrefs write & as &amp;). */
function clickLinkRe(msgId, url, kind) {
  const u = escapeRe(encodeURIComponent(url));
  return new RegExp(`href="${escapeRe(PUBLIC)}/t/c/${msgId}\\?u=${u}&amp;k=${kind}&amp;s=[A-Za-z0-9_-]{22}"`);
}

// ---------------------------------------------------------------------------
// email over SMTP

describe('email over a real SMTP peer', () => {
  let srv, j, d, smtp, rsa, ed, provider;

  before(async () => {
    smtp = await startSmtpPeer({ reject: ['gone@x.example:550'] });
    srv = await startServer({ extraArgs: ['--virtual-clock', START, '--public-url', PUBLIC] });
    j = journeyKit(srv, START);
    d = deliveryKit(srv);
    provider = await d.provider({
      channel: 'email', type: 'smtp', url: smtp.url, from: '숲속상점 <news@shop.example>', starttls: 0,
      sender_info: SENDER_INFO, unsubscribe_mailto: 'unsubscribe@shop.example',
    });
    rsa = await d.domain({ domain: 'shop.example', selector: 's1', algorithm: 'rsa' });
    ed = await d.domain({ domain: 'ed.example', selector: 'ed1', algorithm: 'ed25519' });
  });
  after(async () => {
    await srv?.close();
    await smtp?.close();
  });

  test('sender domains: DNS records for rsa and ed25519, listed, 409 when they exist', async () => {
    assert.equal(provider.type, 'smtp');
    assert.match(provider.id, /^prv_/);
    assert.deepEqual(provider.secrets, []);
    assert.equal(provider.config.url, smtp.url);
    for (const [dom, name, k] of [[rsa, 's1._domainkey.shop.example', 'rsa'], [ed, 'ed1._domainkey.ed.example', 'ed25519']]) {
      assert.equal(dom.dns_records.length, 1);
      assert.equal(dom.dns_records[0].type, 'TXT');
      assert.equal(dom.dns_records[0].name, name);
      assert.match(dom.dns_records[0].value, new RegExp(`^v=DKIM1; k=${k}; p=[A-Za-z0-9+/=]+$`));
    }
    const again = await d.api('/domains', { method: 'POST', body: { domain: 'shop.example', selector: 's2' } });
    assert.equal(again.status, 409, again.text);
    assert.equal(again.body.error.field, 'domain');
    const list = expectStatus(await d.api('/domains'), 200, 'GET /domains').data;
    assert.deepEqual(list.map((x) => x.domain).sort(), ['ed.example', 'shop.example']);
    for (const x of list) assert.ok(!JSON.stringify(x).includes('PRIVATE'), 'no key in the listing');
    const one = expectStatus(await d.api('/domains/ed.example'), 200, 'GET /domains/ed.example');
    assert.equal(one.algorithm, 'ed25519');
    assert.equal(one.selector, 'ed1');
  });

  test('an advertising email in Korean: strict MIME, DKIM (rsa and ed25519), one-click unsubscribe, footer, tracked links', async () => {
    await j.identify('minsu', {
      name: '김민수', email: 'minsu@x.example',
      consent: { email: 'subscribed' },
    });
    const html = (who) => '<html><body><h1>{{ user.name }}님, 봄맞이 세일이 시작됐어요</h1>'
      + '<p>최대 <b>50%</b> 할인 &amp; 무료 배송. 지금 확인해 보세요!</p>'
      + '<p><a href="https://shop.example/spring?utm=mail&amp;v=2">세일 보러 가기</a></p>'
      + `<p><a data-kind="purchase" href="https://shop.example/buy/42?from=${who}">바로 구매하기</a></p>`
      + '</body></html>';
    const sent = [];
    for (const [who, from, dom] of [['rsa', undefined, rsa], ['ed', '에드 <hello@ed.example>', ed]]) {
      const template = { subject: '🌸 봄맞이 세일 — 최대 50% 할인', html: html(who) };
      if (from) template.from = from;
      const r = await d.send({ to: { user_id: 'minsu' }, channel: 'email', transactional: false, advertising: true, template });
      assert.equal(r.status, 'queued');
      assert.equal(r.duplicate, false);
      assert.match(r.id, /^msg_/);
      sent.push({ id: r.id, dom, who, from: from ? 'hello@ed.example' : 'news@shop.example' });
    }
    await j.settle();

    const mails = smtp.to('minsu@x.example');
    assert.equal(mails.length, 2, 'both emails reached the SMTP peer, once each');
    const checked = await Promise.all(sent.map((s) => {
      const entry = mails.find((e) => e.mail_from === s.from);
      assert.ok(entry, `an email from ${s.from}`);
      assert.deepEqual(entry.rcpt_tos, ['minsu@x.example']);
      return checkMail(smtp.file(entry), s.dom.dns_records); // rejects on any MIME defect
    }));
    for (const [i, s] of sent.entries()) {
      const m = checked[i];

      // DKIM, with the TXT record the API returned
      assert.equal(m.dkim.present, true);
      assert.equal(m.dkim.valid, true, `DKIM (${s.who}) verifies: ${m.dkim.error}`);
      assert.equal(m.dkim.tags.a, s.who === 'rsa' ? 'rsa-sha256' : 'ed25519-sha256');
      assert.equal(m.dkim.tags.d, s.dom.domain);
      assert.equal(m.dkim.tags.s, s.dom.selector);
      for (const h of ['from', 'to', 'subject', 'date', 'message-id', 'list-unsubscribe', 'list-unsubscribe-post']) {
        assert.ok(m.dkim.signed_headers.includes(h), `${h} is signed (h=${m.dkim.signed_headers.join(':')})`);
      }

      // headers: Korean decoded, advertising prefix once
      assert.equal(m.subject, '(광고) 🌸 봄맞이 세일 — 최대 50% 할인');
      assert.equal(m.to_addresses.length, 1);
      assert.deepEqual(m.to_addresses[0], { display_name: '김민수', addr_spec: 'minsu@x.example' });
      assert.equal(m.from_addresses[0].addr_spec, s.from);
      assert.equal(m.headers['message-id'].length, 1);
      assert.equal(m.content_type, 'multipart/alternative');
      assert.ok(!m.raw.bare_lf && !m.raw.bare_cr, 'CRLF line ends only');
      assert.ok(m.raw.max_line_length <= 998, `line length ${m.raw.max_line_length}`);
      assert.equal(m.raw.eight_bit, false, '7-bit on the wire');

      // RFC 8058 one-click unsubscribe, plus the mailto
      const unsub = new RegExp(`^<${escapeRe(PUBLIC)}/t/u/${s.id}\\?s=[A-Za-z0-9_-]{22}>`);
      assert.match(m.list_unsubscribe, unsub);
      assert.ok(m.list_unsubscribe.includes('<mailto:unsubscribe@shop.example>'), m.list_unsubscribe);
      assert.equal(m.list_unsubscribe_post, 'List-Unsubscribe=One-Click');

      // parts: text/plain made from the HTML, then text/html
      assert.deepEqual(m.parts.map((p) => p.content_type), ['text/plain', 'text/html']);
      assert.ok(m.parts.every((p) => p.charset === 'utf-8'));
      assert.ok(m.text.includes('김민수님, 봄맞이 세일이 시작됐어요'), m.text);
      assert.ok(m.text.includes('최대 50% 할인 & 무료 배송'), 'entities decoded in the text part');
      assert.ok(!/<[a-z]/i.test(m.text), 'no tags in the text part');
      assert.ok(m.html.includes('<h1>김민수님, 봄맞이 세일이 시작됐어요</h1>'));

      // footer with the sender line and a free opt-out, in both parts
      assert.ok(m.text.includes(SENDER_INFO), 'text footer carries sender_info');
      assert.ok(m.html.includes(SENDER_INFO), 'html footer carries sender_info');
      assert.ok(m.text.indexOf(SENDER_INFO) > m.text.indexOf('바로 구매하기'), 'the footer is at the end');
      assert.match(m.text, /수신거부/);

      // tracked links: every http(s) href rewritten, data-kind travels as k=
      assert.match(m.html, clickLinkRe(s.id, 'https://shop.example/spring?utm=mail&v=2', 'content'));
      assert.match(m.html, clickLinkRe(s.id, `https://shop.example/buy/42?from=${s.who}`, 'purchase'));
      assert.ok(!m.html.includes('href="https://shop.example'), 'no untracked link left');
      assert.match(m.html, new RegExp(`<img src="${escapeRe(PUBLIC)}/t/o/${s.id}\\.gif\\?s=[A-Za-z0-9_-]{22}"`));
      assert.ok(m.text.includes(`${PUBLIC}/t/c/${s.id}?u=`), 'the text part links through the click link too');

      // the message row and its history
      const row = await d.message(s.id);
      assert.equal(row.status, 'sent');
      assert.equal(row.channel, 'email');
      assert.equal(row.to, 'minsu@x.example');
      assert.equal(row.provider_id, provider.id);
      assert.equal(row.user_id, 'minsu');
      assert.equal(row.advertising, true);
      assert.equal(row.transactional, false);
      assert.equal(row.sent_at, iso(j.now));
      assert.deepEqual(historyOf(row), ['queued', 'sent']);
      assert.equal(entriesOf(row)[1].provider_id, provider.id);
    }

    // Email Sent on the timeline, one per message
    const events = await d.events('minsu', 'Email Sent');
    assert.deepEqual(events.map((e) => e.properties.message_id).sort(), sent.map((s) => s.id).sort());
    for (const e of events) {
      assert.equal(e.properties.channel, 'email');
      assert.equal(e.properties.provider_id, provider.id);
      assert.equal(e.timestamp, iso(j.now));
    }
  });

  test('a transactional email has no advertising prefix, no footer; an idempotency key queues it once', async () => {
    await j.identify('jiyoung', { name: '이지영', email: 'jiyoung@x.example' });
    const body = {
      to: { user_id: 'jiyoung' }, channel: 'email', idempotency_key: 'order-1001-receipt',
      template: { subject: '주문 {{ data.order }} 영수증', text: '{{ user.name }}님, 결제가 완료되었습니다. 금액: {{ data.amount | money: "KRW" }}' },
      data: { order: 'A-1001', amount: 39000 },
    };
    const first = await d.send(body);
    const again = await d.send(body, 200);
    assert.equal(again.id, first.id);
    assert.equal(again.duplicate, true);
    await j.settle();
    const mails = smtp.to('jiyoung@x.example');
    assert.equal(mails.length, 1);
    const m = await checkMail(smtp.file(mails[0]), rsa.dns_records);
    assert.equal(m.dkim.valid, true, m.dkim.error);
    assert.equal(m.subject, '주문 A-1001 영수증');
    assert.ok(m.text.startsWith('이지영님, 결제가 완료되었습니다.'), m.text);
    assert.ok(m.text.includes('39,000'), m.text);
    assert.ok(!m.text.includes(SENDER_INFO), 'no advertising footer');
    assert.equal(m.html, null, 'a text-only template has no html part');
    assert.equal((await d.message(first.id)).status, 'sent');
  });

  test('POST /providers/{id}/test sends one message now through the SMTP peer', async () => {
    const before = smtp.count();
    const r = expectStatus(await d.api(`/providers/${provider.id}/test`, { method: 'POST', body: { to: 'ops@x.example' } }), 200, 'provider test');
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal(r.class, 'success');
    assert.equal(r.status, 250);
    assert.equal(typeof r.ms, 'number');
    const idx = await smtp.waitFor(before + 1);
    const entry = idx.find((e) => e.rcpt_tos.includes('ops@x.example'));
    assert.ok(entry, 'the test message arrived');
    const m = await checkMail(smtp.file(entry), rsa.dns_records);
    assert.match(m.subject, /test/i);
    const bad = await d.api(`/providers/${provider.id}/test`, { method: 'POST', body: { to: 'not-an-email' } });
    assert.equal(bad.status, 422, bad.text);
  });

  test('a journey sends through SMTP: Email Sent carries journey_id, journey_version and node_id', async () => {
    await j.createLive('order-thanks', {
      name: '주문 감사 메일',
      trigger: { type: 'event', event: 'Order Completed' },
      start: 'thanks',
      nodes: [
        { id: 'thanks', type: 'send', channel: 'email', next: 'end', template: {
          subject: '{{ user.name }}님, 주문해 주셔서 감사합니다',
          html: '<p>주문번호 {{ event.properties.order_id }}이(가) 접수되었습니다.</p>'
            + '<p><a data-kind="review" href="https://shop.example/review/{{ event.properties.order_id }}">후기 남기기</a></p>',
        } },
        { id: 'end', type: 'exit' },
      ],
    });
    await j.identify('sora', { name: '박소라', email: 'sora@x.example', consent: { email: 'subscribed' } });
    await j.track('sora', 'Order Completed', { order_id: 'B-77', revenue: 52000, currency: 'KRW' });
    await j.settle();

    const msgs = await j.messages('sora', 'order-thanks');
    assert.equal(msgs.length, 1);
    const row = await d.message(msgs[0].id);
    assert.equal(row.status, 'sent', `${row.status}: ${row.reason}`);
    assert.deepEqual(historyOf(row), ['queued', 'sent']);
    assert.deepEqual({ id: row.journey.id, version: row.journey.version, node: row.journey.node },
      { id: 'order-thanks', version: 1, node: 'thanks' });

    const mails = smtp.to('sora@x.example');
    assert.equal(mails.length, 1);
    const m = await checkMail(smtp.file(mails[0]), rsa.dns_records);
    assert.equal(m.dkim.valid, true, m.dkim.error);
    assert.equal(m.subject, '(광고) 박소라님, 주문해 주셔서 감사합니다', 'journey messages are advertising by default');
    assert.ok(m.text.includes('주문번호 B-77이(가) 접수되었습니다.'), m.text);
    assert.match(m.html, clickLinkRe(row.id, 'https://shop.example/review/B-77', 'review'));

    const sent = await d.events('sora', 'Email Sent');
    assert.equal(sent.length, 1);
    assert.equal(sent[0].properties.message_id, row.id);
    assert.equal(sent[0].properties.journey_id, 'order-thanks');
    assert.equal(sent[0].properties.journey_version, 1);
    assert.equal(sent[0].properties.node_id, 'thanks');
    assert.equal(sent[0].properties.channel, 'email');
  });

  test('hard bounce: 550 fails the message, suppresses the address, emits Email Bounced; the next send is refused before SMTP', async () => {
    await j.identify('gone', { name: '없는사람', email: 'gone@x.example' });
    const first = await d.send({ to: { user_id: 'gone' }, channel: 'email', template: { subject: '안내', text: '안내 메일입니다' } });
    await j.settle();
    const row = await d.message(first.id);
    assert.equal(row.status, 'failed');
    assert.match(row.reason, /^550\b/);
    assert.deepEqual(historyOf(row), ['queued', 'failed']);
    assert.equal(smtp.to('gone@x.example').length, 0, 'nothing accepted for gone@');

    const sup = (await d.suppressions()).filter((s) => s.address === 'gone@x.example');
    assert.equal(sup.length, 1);
    assert.equal(sup[0].channel, 'email');
    assert.equal(sup[0].reason, 'hard bounce');

    const bounced = await d.events('gone', 'Email Bounced');
    assert.equal(bounced.length, 1);
    assert.equal(bounced[0].properties.message_id, first.id);
    assert.equal(bounced[0].properties.bounce_type, 'hard');
    const failedEv = await d.events('gone', 'Message Failed');
    assert.equal(failedEv.length, 1);
    assert.equal(failedEv[0].properties.channel, 'email');
    assert.equal(failedEv[0].properties.status, 'failed');

    // again, to the bare address: refused by the suppression list, the peer sees nothing
    const count = smtp.count();
    const second = await d.send({ to: { email: 'gone@x.example' }, channel: 'email', template: { subject: '다시', text: '다시 안내' } });
    await j.settle();
    const row2 = await d.message(second.id);
    assert.equal(row2.status, 'failed');
    assert.match(row2.reason, /suppressed/);
    assert.equal(row2.provider_id, null, 'no provider was tried');
    assert.equal(smtp.count(), count, 'nothing reached the peer');

    // lifting the suppression lets the address be tried again (and bounce again)
    expectStatus(await d.api('/suppressions/email/gone@x.example', { method: 'DELETE' }), 200, 'unsuppress');
    assert.equal((await d.suppressions()).filter((s) => s.address === 'gone@x.example').length, 0);
  });

  test('consent: unsubscribed email fails a non-transactional send; transactional still goes; advertising needs opt-in', async () => {
    await j.identify('optout', { email: 'optout@x.example', consent: { email: 'unsubscribed' } });
    await j.identify('unknown', { email: 'unknown@x.example' });
    const news = await d.send({ to: { user_id: 'optout' }, channel: 'email', transactional: false, template: { subject: '뉴스레터', text: '이번 주 소식' } });
    const ad = await d.send({ to: { user_id: 'unknown' }, channel: 'email', transactional: false, advertising: true, template: { subject: '광고', text: '할인' } });
    await j.settle();
    for (const [id, user] of [[news.id, 'optout'], [ad.id, 'unknown']]) {
      const row = await d.message(id);
      assert.equal(row.status, 'failed');
      assert.match(row.reason, /^consent/);
      const ev = await d.events(user, 'Message Failed');
      assert.equal(ev.length, 1);
      assert.equal(ev[0].properties.message_id, id);
      assert.match(ev[0].properties.reason, /^consent/);
    }
    assert.equal(smtp.to('optout@x.example').length, 0);
    assert.equal(smtp.to('unknown@x.example').length, 0);

    const receipt = await d.send({ to: { user_id: 'optout' }, channel: 'email', template: { subject: '영수증', text: '결제 완료' } });
    await j.settle();
    assert.equal((await d.message(receipt.id)).status, 'sent');
    assert.equal(smtp.to('optout@x.example').length, 1);
  });
});

// ---------------------------------------------------------------------------
// HTTP gateways: SMS, Kakao, push, Slack, webhooks

describe('HTTP providers (SMS, Kakao, push, Slack, webhooks)', () => {
  let srv, j, d, peer;

  before(async () => {
    peer = await startHttpPeer();
    srv = await startServer({ extraArgs: ['--virtual-clock', START, '--public-url', PUBLIC] });
    j = journeyKit(srv, START);
    d = deliveryKit(srv);
  });
  after(async () => {
    await srv?.close();
    await peer?.close();
  });

  /** A fresh start for a test: only its own providers, an empty peer log, 10:00 in Seoul. */
  async function fresh(...channels) {
    for (const ch of channels) await d.clearProviders(ch);
    peer.reset();
    await j.toNextLocal('10:00');
  }
  const bodiesAt = (path) => peer.requests.filter((r) => r.path === path).map((r) => r.body);

  test('SMS: 500 is retried with backoff; the retry carries the same body', async () => {
    await fresh('sms');
    const prv = await d.provider({ channel: 'sms', type: 'http', url: `${peer.url}/sms-retry`, retry_base_ms: 1000 });
    peer.script('/sms-retry', [{ status: 500, body: 'gateway down' }, { status: 200, body: { message_id: 'gw-1' } }]);
    await j.identify('retry-user', { phone: '010-2222-3333' });
    const t0 = j.now;
    const { id } = await d.send({ to: { user_id: 'retry-user' }, channel: 'sms', template: { text: '[숲속상점] 주문하신 상품이 발송되었습니다.' } });
    await j.settle();

    let row = await d.message(id);
    assert.equal(row.status, 'queued', 'waiting for its retry');
    assert.equal(row.attempts, 1);
    assert.match(row.reason, /500/);
    const due = Date.parse(row.send_at) - t0;
    assert.ok(due >= 800 && due <= 1200, `retry after 1000 ms ± 20 %, got ${due}`);
    assert.deepEqual(historyOf(row), ['queued', 'retried']);
    assert.equal(bodiesAt('/sms-retry').length, 1);

    await j.advance({ minutes: 1 });
    row = await d.message(id);
    assert.equal(row.status, 'sent');
    assert.deepEqual(historyOf(row), ['queued', 'retried', 'sent']);
    assert.equal(entriesOf(row)[2].provider_id, prv.id);
    assert.equal(row.sent_at, row.send_at, 'sent when the retry came due');
    const bodies = bodiesAt('/sms-retry');
    assert.equal(bodies.length, 2);
    assert.equal(bodies[0], bodies[1], 'the retry sends the same bytes');
    const text = '[숲속상점] 주문하신 상품이 발송되었습니다.';
    assert.deepEqual(JSON.parse(bodies[0]), { to: '+821022223333', text, type: 'sms', bytes: euckrBytes(text) });
    assert.equal(peer.requests[0].headers['content-type'], 'application/json');
    const ev = await d.events('retry-user', 'Message Sent');
    assert.equal(ev.length, 1);
    assert.equal(ev[0].properties.message_id, id);
    assert.equal(ev[0].properties.channel, 'sms');
    assert.equal(ev[0].properties.provider_id, prv.id);
  });

  test('SMS: 429 with Retry-After waits that long', async () => {
    await fresh('sms');
    await d.provider({ channel: 'sms', type: 'http', url: `${peer.url}/sms-429`, retry_base_ms: 1000 });
    peer.script('/sms-429', [{ status: 429, headers: { 'Retry-After': '120' } }, { status: 200 }]);
    await j.identify('busy-user', { phone: '+82 10-3333-4444' });
    const t0 = j.now;
    const { id } = await d.send({ to: { user_id: 'busy-user' }, channel: 'sms', template: { text: '인증번호 [123456]' } });
    await j.settle();
    let row = await d.message(id);
    assert.equal(row.status, 'queued');
    assert.equal(row.send_at, iso(t0 + 120000), 'Retry-After: 120 beats the 1 s backoff');
    await j.advance({ minutes: 1 });
    assert.equal((await d.message(id)).status, 'queued', 'not before Retry-After');
    assert.equal(bodiesAt('/sms-429').length, 1);
    await j.advance({ minutes: 1 });
    row = await d.message(id);
    assert.equal(row.status, 'sent');
    assert.equal(row.sent_at, iso(t0 + 120000));
    assert.equal(bodiesAt('/sms-429').length, 2);
    assert.equal(JSON.parse(bodiesAt('/sms-429')[0]).to, '+821033334444');
  });

  test('SMS: 400 is permanent: failed at once, Message Failed on the timeline', async () => {
    await fresh('sms');
    const prv = await d.provider({ channel: 'sms', type: 'http', url: `${peer.url}/sms-400` });
    peer.script('/sms-400', [{ status: 400, body: { error: 'invalid recipient' } }]);
    await j.identify('bad-number', { phone: '01044445555' });
    const { id } = await d.send({ to: { user_id: 'bad-number' }, channel: 'sms', template: { text: '안내 문자' } });
    await j.settle();
    const row = await d.message(id);
    assert.equal(row.status, 'failed');
    assert.match(row.reason, /400/);
    assert.deepEqual(historyOf(row), ['queued', 'failed']);
    assert.equal(bodiesAt('/sms-400').length, 1, 'not retried');
    const ev = await d.events('bad-number', 'Message Failed');
    assert.equal(ev.length, 1);
    assert.equal(ev[0].properties.message_id, id);
    assert.equal(ev[0].properties.channel, 'sms');
    assert.equal(ev[0].properties.status, 'failed');
    assert.equal(ev[0].properties.provider_id, prv.id);
    assert.match(ev[0].properties.reason, /400/);
    assert.equal((await d.events('bad-number', 'Message Sent')).length, 0);
  });

  test('SMS: always 500 with max_attempts 2 → dead, listed; replay (one, then in bulk) sends once the gateway is back', async () => {
    await fresh('sms');
    await d.provider({ channel: 'sms', type: 'http', url: `${peer.url}/sms-dead`, retry_base_ms: 1000, max_attempts: 2 });
    peer.script('/sms-dead', [{ status: 503, body: 'maintenance' }]);
    await j.identify('dead-1', { phone: '010-5555-0001' });
    await j.identify('dead-2', { phone: '010-5555-0002' });
    const a = await d.send({ to: { user_id: 'dead-1' }, channel: 'sms', template: { text: '첫 번째' } });
    const b = await d.send({ to: { user_id: 'dead-2' }, channel: 'sms', template: { text: '두 번째' } });
    await j.settle();
    assert.equal((await d.message(a.id)).status, 'queued');
    await j.advance({ minutes: 1 });
    for (const m of [a, b]) {
      const row = await d.message(m.id);
      assert.equal(row.status, 'dead');
      assert.equal(row.attempts, 2);
      assert.match(row.reason, /gave up after 2 attempts/);
      assert.deepEqual(historyOf(row), ['queued', 'retried', 'dead']);
    }
    assert.equal(bodiesAt('/sms-dead').length, 4);
    const dead = (await d.messages({ status: 'dead', channel: 'sms' })).map((m) => m.id);
    assert.ok(dead.includes(a.id) && dead.includes(b.id), 'GET /messages?status=dead lists both');
    const ev = await d.events('dead-1', 'Message Failed');
    assert.equal(ev.length, 1);
    assert.equal(ev[0].properties.status, 'dead');

    assert.equal((await d.api('/messages/msg_nope/replay', { method: 'POST' })).status, 404);

    peer.script('/sms-dead', [{ status: 200, body: { id: 'ok' } }]);
    const one = await d.api(`/messages/${a.id}/replay`, { method: 'POST' });
    assert.equal(one.status, 202, one.text);
    assert.deepEqual(one.body, { replayed: 1 });
    await j.settle();
    let row = await d.message(a.id);
    assert.equal(row.status, 'sent');
    assert.deepEqual(historyOf(row), ['queued', 'retried', 'dead', 'replayed', 'sent']);
    assert.equal((await d.message(b.id)).status, 'dead', 'only the one replayed');
    const conflict = await d.api(`/messages/${a.id}/replay`, { method: 'POST' });
    assert.equal(conflict.status, 409, `a sent message cannot be replayed: ${conflict.text}`);

    const bulk = await d.api('/messages/replay', { method: 'POST', body: { status: 'dead', channel: 'sms' } });
    assert.equal(bulk.status, 202, bulk.text);
    assert.deepEqual(bulk.body, { replayed: 1 });
    await j.settle();
    row = await d.message(b.id);
    assert.equal(row.status, 'sent');
    assert.equal(bodiesAt('/sms-dead').length, 6, 'each replay sent once');
    assert.equal((await d.messages({ status: 'dead' })).length, 0);
  });

  test('failover: the first SMS provider answers 500, the second sends in the same clock step', async () => {
    await fresh('sms');
    const first = await d.provider({ channel: 'sms', type: 'http', name: 'primary', priority: 0, url: `${peer.url}/sms-primary`, retry_base_ms: 60000 });
    const second = await d.provider({ channel: 'sms', type: 'http', name: 'secondary', priority: 1, url: `${peer.url}/sms-secondary`, retry_base_ms: 60000 });
    peer.script('/sms-primary', [{ status: 500, body: 'primary down' }]);
    await j.identify('fo-user', { phone: '010-6666-7777' });
    const t0 = j.now;
    const { id } = await d.send({ to: { user_id: 'fo-user' }, channel: 'sms', template: { text: '장애 조치 테스트' } });
    await j.settle();
    assert.equal(j.now, t0, 'the clock did not move');
    const row = await d.message(id);
    assert.equal(row.status, 'sent');
    assert.equal(row.provider_id, second.id);
    assert.equal(row.sent_at, iso(t0));
    assert.deepEqual(historyOf(row), ['queued', 'retried', 'sent']);
    assert.equal(entriesOf(row)[1].provider_id, first.id);
    assert.match(entriesOf(row)[1].reason, /500/);
    assert.equal(entriesOf(row)[2].provider_id, second.id);
    assert.equal(bodiesAt('/sms-primary').length, 1);
    assert.equal(bodiesAt('/sms-secondary').length, 1);
    assert.equal(bodiesAt('/sms-primary')[0], bodiesAt('/sms-secondary')[0]);
    const ev = await d.events('fo-user', 'Message Sent');
    assert.equal(ev.length, 1);
    assert.equal(ev[0].properties.provider_id, second.id);
  });

  test('a provider changed at the instant of its previous write is used with its new settings', async () => {
    await fresh('sms');
    const prv = await d.provider({ channel: 'sms', type: 'http', url: `${peer.url}/sms-old` });
    await j.identify('patch-user', { phone: '010-8888-9999' });
    const a = await d.send({ to: { user_id: 'patch-user' }, channel: 'sms', template: { text: '변경 전' } });
    await j.settle(); // the dispatcher has loaded the provider
    assert.equal((await d.message(a.id)).status, 'sent');
    assert.equal(bodiesAt('/sms-old').length, 1);

    // the virtual clock has not moved: updated_at stays the same
    const patched = await d.patchProvider(prv.id, { url: `${peer.url}/sms-new` });
    assert.equal(patched.config.url, `${peer.url}/sms-new`);
    const b = await d.send({ to: { user_id: 'patch-user' }, channel: 'sms', template: { text: '변경 후' } });
    await j.settle();
    assert.equal((await d.message(b.id)).status, 'sent');
    assert.deepEqual(bodiesAt('/sms-new').map((x) => JSON.parse(x).text), ['변경 후'], 'sent to the new url');
    assert.equal(bodiesAt('/sms-old').length, 1, 'not to the old one');
  });

  test('Kakao AlimTalk → SMS fallback: lms for a long Korean text, sms for a short one, bytes exact', async () => {
    await fresh('sms', 'kakao');
    const kakao = await d.provider({ channel: 'kakao', type: 'http', url: `${peer.url}/kakao` });
    const sms = await d.provider({ channel: 'sms', type: 'http', url: `${peer.url}/sms-fallback` });
    peer.script('/kakao', [{ status: 400, body: { code: 'K101', message: '템플릿이 없습니다' } }]);
    await j.identify('kakao-user', { phone: '010-7777-8888' });

    const long = '[숲속상점] 주문하신 상품이 오늘 발송되었습니다. 배송 조회는 마이페이지에서 하실 수 있습니다. 항상 이용해 주셔서 감사합니다.';
    const exactly90 = '가'.repeat(45);
    const just91 = `${'가'.repeat(45)}!`;
    const cases = [[long, 'lms'], ['[숲속상점] 발송 완료', 'sms'], [exactly90, 'sms'], [just91, 'lms']];
    assert.ok(euckrBytes(long) > 90);
    assert.equal(euckrBytes(exactly90), 90);
    const ids = [];
    for (const [text] of cases) {
      const r = await d.send({
        to: { user_id: 'kakao-user' }, channel: 'kakao',
        template: { template_code: 'ORDER_SHIPPED', text: '주문하신 상품이 발송되었습니다.', buttons: [{ type: 'WL', name: '배송 조회', url_mobile: 'https://shop.example/track' }], fallback_text: text },
      });
      ids.push(r.id);
    }
    await j.settle();

    const kbodies = bodiesAt('/kakao').map((b) => JSON.parse(b));
    assert.equal(kbodies.length, cases.length);
    for (const [text, type] of cases) {
      const k = kbodies.find((b) => b.fallback.text === text);
      assert.ok(k, `a kakao request with fallback ${text.slice(0, 10)}…`);
      assert.deepEqual(k, {
        to: '+821077778888', kind: 'alimtalk', template_code: 'ORDER_SHIPPED', text: '주문하신 상품이 발송되었습니다.',
        buttons: [{ type: 'WL', name: '배송 조회', url_mobile: 'https://shop.example/track' }],
        fallback: { type, text },
      });
    }
    const sbodies = bodiesAt('/sms-fallback').map((b) => JSON.parse(b));
    assert.equal(sbodies.length, cases.length, 'one fallback SMS per failed Kakao message');
    for (let i = 0; i < cases.length; i++) {
      const [text, type] = cases[i];
      const krow = await d.message(ids[i]);
      assert.equal(krow.status, 'failed');
      assert.equal(krow.provider_id, kakao.id);
      const srow = await d.message(`${ids[i]}-sms`);
      assert.equal(srow.channel, 'sms');
      assert.equal(srow.fallback_of, ids[i]);
      assert.deepEqual(srow.content, { text });
      assert.equal(srow.status, 'sent');
      assert.equal(srow.provider_id, sms.id);
      assert.equal(srow.user_id, 'kakao-user');
      const body = sbodies.find((b) => b.text === text);
      assert.deepEqual(body, { to: '+821077778888', text, type, bytes: euckrBytes(text) });
    }
    const failed = await d.events('kakao-user', 'Message Failed');
    assert.equal(failed.length, cases.length);
    assert.ok(failed.every((e) => e.properties.channel === 'kakao'));
    const sent = await d.events('kakao-user', 'Message Sent');
    assert.deepEqual(sent.map((e) => e.properties.message_id).sort(), ids.map((x) => `${x}-sms`).sort());
  });

  test('quiet hours: advertising SMS at 22:00 KST is held until 08:00; night consent, another zone or transactional go at once', async () => {
    await fresh('sms');
    await d.provider({ channel: 'sms', type: 'http', url: `${peer.url}/sms-night` });
    await j.identify('sleeper', { phone: '010-1000-0001', consent: { sms: 'subscribed' } });
    await j.identify('owl', { phone: '010-1000-0002', consent: { sms: 'subscribed', night: 'subscribed' } });
    await j.identify('londoner', { phone: '010-1000-0003', timezone: 'Europe/London', consent: { sms: 'subscribed' } });
    const day = iso(j.now + 9 * HOUR).slice(0, 10);
    await j.setTo(kst(`${day}T22:00`));
    const morning = kst(`${day}T22:00`) + 10 * HOUR; // 08:00 the next day

    const ad = (user) => d.send({ to: { user_id: user }, channel: 'sms', transactional: false, advertising: true, template: { text: '봄 신상품 20% 할인' } });
    const held = await ad('sleeper');
    const owl = await ad('owl');
    const london = await ad('londoner');
    const tx = await d.send({ to: { user_id: 'sleeper' }, channel: 'sms', template: { text: '비밀번호가 변경되었습니다' } });
    await j.settle();

    let row = await d.message(held.id);
    assert.equal(row.status, 'held');
    assert.match(row.reason, /quiet hours/);
    assert.equal(row.send_at, iso(morning), 'held until 08:00 KST');
    assert.deepEqual(historyOf(row), ['queued', 'held']);
    for (const m of [owl, london, tx]) assert.equal((await d.message(m.id)).status, 'sent');
    const texts = () => peer.requests.map((r) => r.json);
    assert.deepEqual(texts().map((b) => [b.to, b.text]).sort(), [
      ['+821010000001', '비밀번호가 변경되었습니다'],
      ['+821010000002', '(광고) 봄 신상품 20% 할인'],
      ['+821010000003', '(광고) 봄 신상품 20% 할인'],
    ]);

    await j.setTo(morning - MINUTE);
    assert.equal((await d.message(held.id)).status, 'held', 'still held at 07:59');
    await j.setTo(morning);
    row = await d.message(held.id);
    assert.equal(row.status, 'sent');
    assert.equal(row.sent_at, iso(morning));
    assert.deepEqual(historyOf(row), ['queued', 'held', 'sent']);
    const last = texts().filter((b) => b.to === '+821010000001');
    assert.deepEqual(last.map((b) => b.text).sort(), ['(광고) 봄 신상품 20% 할인', '비밀번호가 변경되었습니다']);
    assert.equal(last.find((b) => b.text.startsWith('(광고)')).bytes, euckrBytes('(광고) 봄 신상품 20% 할인'));
  });

  test('kill switch on sms: held (kill_switch), nothing sent, other channels unaffected; lifted → each sent exactly once', async () => {
    await fresh('sms', 'slack');
    await d.provider({ channel: 'sms', type: 'http', url: `${peer.url}/sms-kill` });
    await d.provider({ channel: 'slack', type: 'http', url: `${peer.url}/slack-kill` });
    await j.identify('ks-1', { phone: '010-3000-0001' });
    await j.identify('ks-2', { phone: '010-3000-0002' });
    await d.setting('kill_switch', { global: false, channels: ['sms'], journeys: [] });
    try {
      const ids = [];
      for (const [u, t] of [['ks-1', '첫 번째 알림'], ['ks-2', '두 번째 알림'], ['ks-1', '세 번째 알림']]) {
        ids.push((await d.send({ to: { user_id: u }, channel: 'sms', template: { text: t } })).id);
      }
      const slack = await d.send({ to: { user_id: 'ks-1' }, channel: 'slack', template: { text: '슬랙은 계속' } });
      await j.settle();
      await j.advance({ hours: 1 });
      for (const id of ids) {
        const row = await d.message(id);
        assert.equal(row.status, 'held');
        assert.equal(row.reason, 'kill_switch');
        assert.equal(row.send_at, null, 'held until released');
      }
      assert.equal(bodiesAt('/sms-kill').length, 0, 'nothing reached the SMS gateway');
      assert.equal((await d.message(slack.id)).status, 'sent', 'slack is not stopped');
      assert.equal(bodiesAt('/slack-kill').length, 1);

      await d.setting('kill_switch', { global: false, channels: [], journeys: [] });
      await j.settle();
      await j.advance({ hours: 1 });
      for (const id of ids) {
        const row = await d.message(id);
        assert.equal(row.status, 'sent');
        assert.deepEqual(historyOf(row), ['queued', 'held', 'resumed', 'sent']);
      }
      const texts = bodiesAt('/sms-kill').map((b) => JSON.parse(b).text).sort();
      assert.deepEqual(texts, ['두 번째 알림', '세 번째 알림', '첫 번째 알림'], 'each exactly once');
    } finally {
      await d.setting('kill_switch', { global: false, channels: [], journeys: [] });
    }
  });

  test('webhook node of a journey: Standard Webhooks signature verifies; Slack node and send API post {"text"}', async () => {
    await fresh('webhook', 'slack');
    const wh = await d.provider({ channel: 'webhook', type: 'webhook' });
    assert.match(wh.secret, /^whsec_[A-Za-z0-9+/]+=*$/, 'the secret is shown once, at creation');
    assert.deepEqual(wh.secrets, ['secret']);
    const shown = expectStatus(await d.api(`/providers/${wh.id}`), 200, 'GET webhook provider');
    assert.equal(shown.secret, undefined, 'never shown again');
    assert.ok(!JSON.stringify(await d.providers()).includes(wh.secret.slice(6)));
    const slackPrv = await d.provider({ channel: 'slack', type: 'http', url: `${peer.url}/slack` });

    await j.createLive('crm-hook', {
      name: 'CRM 연동',
      trigger: { type: 'event', event: 'Lead Created' },
      start: 'wh',
      nodes: [
        { id: 'wh', type: 'webhook', url: `${peer.url}/hooks/crm`, body: '{"lead":"{{ event.properties.lead_id }}","user":"{{ user.id }}","name":"{{ user.name }}"}', next: 'sl' },
        { id: 'sl', type: 'slack', channel: '#sales', text: '새 리드: {{ user.name }} ({{ event.properties.lead_id }})', next: 'end' },
        { id: 'end', type: 'exit' },
      ],
    });
    await j.identify('lead-1', { name: '최가람' });
    await j.track('lead-1', 'Lead Created', { lead_id: 'L-9' });
    await j.settle();

    const hooks = peer.requests.filter((r) => r.path === '/hooks/crm');
    assert.equal(hooks.length, 1);
    const h = hooks[0];
    assert.deepEqual(JSON.parse(h.body), { lead: 'L-9', user: 'lead-1', name: '최가람' });
    const msgs = await j.messages('lead-1', 'crm-hook');
    const hookMsg = msgs.find((m) => m.channel === 'webhook');
    assert.ok(hookMsg);
    assert.equal(h.headers['webhook-id'], hookMsg.id);
    assert.match(h.headers['webhook-timestamp'], /^\d+$/);
    assert.equal(h.headers['webhook-signature'], webhookSignature(wh.secret, h.headers['webhook-id'], h.headers['webhook-timestamp'], h.body));
    assert.equal(verifyWebhook(wh.secret, h.headers, h.body), true);
    assert.equal(verifyWebhook(wh.secret, h.headers, `${h.body} `), false, 'a changed body does not verify');
    assert.equal(hookMsg.status, 'sent');
    assert.equal(hookMsg.to, `${peer.url}/hooks/crm`);

    const slackReqs = peer.requests.filter((r) => r.path === '/slack');
    assert.equal(slackReqs.length, 1);
    assert.deepEqual(slackReqs[0].json, { text: '새 리드: 최가람 (L-9)', channel: '#sales' });
    assert.equal(msgs.find((m) => m.channel === 'slack').status, 'sent');

    const ev = await d.events('lead-1', 'Message Sent');
    assert.deepEqual(ev.map((e) => e.properties.channel).sort(), ['slack', 'webhook']);
    for (const e of ev) {
      assert.equal(e.properties.journey_id, 'crm-hook');
      assert.equal(e.properties.node_id, e.properties.channel === 'webhook' ? 'wh' : 'sl');
    }

    // Slack through the send API: exactly {"text"}
    const s = await d.send({ to: { user_id: 'lead-1' }, channel: 'slack', template: { text: '*주간 리포트* 준비 완료' } });
    await j.settle();
    const direct = peer.requests.filter((r) => r.path === '/slack');
    assert.equal(direct.length, 2);
    assert.deepEqual(direct[1].json, { text: '*주간 리포트* 준비 완료' });
    assert.equal((await d.message(s.id)).provider_id, slackPrv.id);

    // a webhook through the send API has no url (only a journey node gives one): never posted
    const before = peer.requests.length;
    const direct2 = await d.api('/messages/send', { method: 'POST', body: { to: { user_id: 'lead-1' }, channel: 'webhook', template: { body: '{"x":1}' } } });
    if (direct2.status === 202) {
      await j.settle();
      const row = await d.message(direct2.body.id);
      assert.equal(row.status, 'failed');
      assert.match(row.reason, /no url/);
    } else {
      assert.equal(direct2.status, 422, direct2.text);
    }
    assert.equal(peer.requests.length, before);
  });

  test('push: FCM v1 payload {"message":{"token",…}} to the push token trait', async () => {
    await fresh('push');
    await d.provider({ channel: 'push', type: 'http', url: `${peer.url}/fcm` });
    await j.identify('phone-user', { push_token: 'fcm-token-abc' });
    const { id } = await d.send({ to: { user_id: 'phone-user' }, channel: 'push', template: { title: '배송 출발', body: '오늘 도착 예정입니다', data: { order: 'C-3' } } });
    await j.settle();
    assert.equal((await d.message(id)).status, 'sent');
    const reqs = peer.requests.filter((r) => r.path === '/fcm');
    assert.equal(reqs.length, 1);
    const m = reqs[0].json.message;
    assert.equal(m.token, 'fcm-token-abc');
    assert.deepEqual(m.notification, { title: '배송 출발', body: '오늘 도착 예정입니다' });
    assert.deepEqual(m.data, { order: 'C-3' });
  });

  test('bad input is refused with 422 and the field; nothing is queued', async () => {
    await fresh();
    await j.identify('valid-user', { email: 'valid@x.example' });
    const before = await d.stats();
    const cases = [
      [{ to: { email: 'not-an-email' }, channel: 'email', template: { subject: 's', text: 't' } }, 'to.email'],
      [{ to: { phone: 'abc' }, channel: 'sms', template: { text: 't' } }, 'to.phone'],
      [{ to: { user_id: 'valid-user' }, channel: 'sms', template: { text: 't' } }, 'to'],
      [{ to: {}, channel: 'email', template: { subject: 's', text: 't' } }, 'to'],
      [{ to: { email: 'a@x.example' }, channel: 'email', template: { text: 'no subject' } }, null],
      [{ to: { email: 'a@x.example' }, channel: 'email', transactional: 'yes', template: { subject: 's', text: 't' } }, 'transactional'],
      [{ to: { email: 'a@x.example' }, channel: 'email', send_at: 'tomorrow', template: { subject: 's', text: 't' } }, 'send_at'],
    ];
    for (const [body, field] of cases) {
      const r = await d.api('/messages/send', { method: 'POST', body });
      assert.equal(r.status, 422, `${JSON.stringify(body)} → ${r.status} ${r.text}`);
      if (field) assert.equal(r.body.error.field, field, r.text);
      assert.match(r.body.error.code, /^[a-z_]+$/);
      assert.ok(r.body.error.message.length > 10);
    }
    const providers = [
      [{ channel: 'sms', type: 'http', url: 'ftp://x' }, 'url'],
      [{ channel: 'email', type: 'smtp', url: 'smtp://', from: 'Shop <a@shop.example>' }, 'url'],
      [{ channel: 'email', type: 'smtp', url: 'smtp://user:pw@127.0.0.1:25', from: 'Shop <a@shop.example>' }, 'url'],
      [{ channel: 'email', type: 'smtp', url: 'smtp://127.0.0.1:25', from: 'no address' }, 'from'],
      [{ channel: 'sms', type: 'smtp', url: 'smtp://127.0.0.1:25' }, 'type'],
      [{ channel: 'sms', type: 'http', url: 'http://127.0.0.1:9/x', timeout_ms: 50 }, 'timeout_ms'],
      [{ channel: 'sms', type: 'http', url: 'http://127.0.0.1:9/x', max_attempts: 0 }, 'max_attempts'],
      [{ channel: 'sms', type: 'http', url: 'http://127.0.0.1:9/x', success: ['ok'] }, 'success'],
      [{ channel: 'sms', type: 'http', url: 'http://127.0.0.1:9/x', body: '{{ payload | json ' }, 'body'],
      [{ channel: 'webhook', type: 'webhook', secret: 'plain' }, 'secret'],
      [{ channel: 'sms', type: 'pigeon' }, 'type'],
    ];
    const nprov = (await d.providers()).length;
    for (const [body, field] of providers) {
      const r = await d.api('/providers', { method: 'POST', body });
      assert.equal(r.status, 422, `${JSON.stringify(body)} → ${r.status} ${r.text}`);
      assert.equal(r.body.error.field, field, r.text);
    }
    assert.equal((await d.providers()).length, nprov, 'no provider made');
    assert.deepEqual(await d.stats(), before, 'nothing queued');
  });

  test('a send to an unknown user or template is refused with 422 naming the field (docs/delivery.md), nothing queued', async () => {
    await j.barrier();
    const before = await d.stats();
    const user = await d.api('/messages/send', { method: 'POST', body: { to: { user_id: 'nobody-at-all' }, channel: 'email', template: { subject: 's', text: 't' } } });
    const tpl = await d.api('/messages/send', { method: 'POST', body: { to: { email: 'a@x.example' }, channel: 'email', template: 'no-such-template' } });
    assert.deepEqual(await d.stats(), before, 'nothing queued');
    const got = [[user.status, user.body?.error?.field], [tpl.status, tpl.body?.error?.field]];
    assert.deepEqual(got, [[422, 'to.user_id'], [422, 'template']],
      `unknown user → ${user.status} ${user.text}; unknown template → ${tpl.status} ${tpl.text}`);
  });

  test('secrets: passwords and header values are never shown and never stored in clear', async () => {
    await fresh('push');
    const password = 's3cret-Passw0rd';
    const token = 'tok-123';
    const smtpPrv = await d.provider({ channel: 'email', type: 'smtp', url: 'smtp://127.0.0.1:2525', from: 'Shop <a@shop.example>', username: 'shop', password, starttls: 0 });
    const httpPrv = await d.provider({ channel: 'push', type: 'http', url: `${peer.url}/push-auth`, headers: { Authorization: `Bearer ${token}` } });
    assert.deepEqual(smtpPrv.secrets, ['password']);
    assert.deepEqual(httpPrv.secrets, ['headers']);
    assert.equal(smtpPrv.config.username, 'shop');
    assert.equal(smtpPrv.config.password, undefined);
    assert.equal(httpPrv.config.headers, undefined);

    // a PATCH that does not name the secret keeps it
    const patched = await d.patchProvider(httpPrv.id, { name: 'FCM gateway', timeout_ms: 5000 });
    assert.deepEqual(patched.secrets, ['headers']);
    assert.equal(patched.name, 'FCM gateway');

    // the header is really sent
    await j.identify('secret-user', { push_token: 'tok-device' });
    await d.send({ to: { user_id: 'secret-user' }, channel: 'push', template: { title: 't', body: 'b' } });
    await j.settle();
    const req = peer.requests.find((r) => r.path === '/push-auth');
    assert.ok(req, 'the push went out');
    assert.equal(req.headers.authorization, `Bearer ${token}`);

    const reads = [
      await d.api('/providers'), await d.api(`/providers/${smtpPrv.id}`), await d.api(`/providers/${httpPrv.id}`),
      await d.api('/providers?channel=email'),
    ];
    for (const r of reads) {
      assert.equal(r.status, 200);
      assert.ok(!r.text.includes(password), 'no password in a GET');
      assert.ok(!r.text.includes(token), 'no header value in a GET');
    }
    assert.ok(!srv.stderrTail(400).includes(password) && !srv.stderrTail(400).includes(token), 'not in the log');
    await j.barrier();
    assert.ok(existsSync(join(srv.dataDir, 'state.db')) && existsSync(join(srv.dataDir, 'state.db-wal')));
    assert.ok(filesContaining(srv.dataDir, 'smtp://127.0.0.1:2525').length > 0, 'the search finds what is stored in clear (the url)');
    for (const needle of [password, token]) {
      assert.deepEqual(filesContaining(srv.dataDir, needle), [], `"${needle}" is in no file of the data dir (state.db, its -wal, …)`);
    }
    await d.clearProviders('email');
  });
});

// ---------------------------------------------------------------------------
// restart

describe('restart', () => {
  let srv, j, d, smtp;
  before(async () => {
    smtp = await startSmtpPeer();
    srv = await startServer({ extraArgs: ['--virtual-clock', START] });
    j = journeyKit(srv, START);
    d = deliveryKit(srv);
  });
  after(async () => {
    await srv?.close();
    await smtp?.close();
  });

  test('messages queued while the provider is down survive a restart and are each sent once after it is fixed', async () => {
    // The restarted server's virtual clock starts again at START; the provider is made a
    // minute later so that the PATCH after the restart has another updated_at (a PATCH at
    // the instant of the previous write is not seen by the dispatcher: see the test
    // "a provider changed at the instant of its previous write …" above).
    await j.advance({ minutes: 1 });
    const down = await closedPort();
    const prv = await d.provider({ channel: 'email', type: 'smtp', url: `smtp://127.0.0.1:${down}`, from: 'Shop <news@shop.example>', starttls: 0, retry_base_ms: 60000 });
    const n = 8;
    const ids = [];
    for (let i = 0; i < n; i++) {
      ids.push((await d.send({ to: { email: `restart${i}@x.example` }, channel: 'email', template: { subject: `재시작 ${i}`, text: `본문 ${i}` } })).id);
    }
    await j.settle();
    for (const id of ids) {
      const row = await d.message(id);
      assert.equal(row.status, 'queued', `${id}: ${row.reason}`);
      assert.ok(Date.parse(row.send_at) > j.now, 'due later');
    }
    assert.equal(smtp.count(), 0);

    const stop = await srv.stop();
    assert.equal(stop.code, 0, `SIGTERM exits 0 (${stop.code}/${stop.signal}):\n${srv.stderrTail()}`);
    await srv.restart();
    assert.deepEqual(await d.stats(), { queued: n }, 'all still queued after the restart');

    await d.patchProvider(prv.id, { url: smtp.url });
    await j.advance({ minutes: 5 });
    assert.deepEqual(await d.stats(), { sent: n });
    const idx = smtp.index();
    assert.equal(idx.length, n, 'each sent once');
    assert.deepEqual(idx.map((e) => e.rcpt_tos[0]).sort(), ids.map((_, i) => `restart${i}@x.example`).sort());
    for (const id of ids) {
      const row = await d.message(id);
      assert.equal(row.status, 'sent');
      assert.equal(historyOf(row).filter((s) => s === 'sent').length, 1);
    }

    // and after another restart nothing is sent again
    await srv.restart();
    await j.advance({ hours: 2 });
    assert.equal(smtp.count(), n);
  });
});
