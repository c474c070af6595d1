// Tracking endpoints against the real binary: an email goes through a real SMTP peer, and
// the links found in the received mail are requested for real — the open pixel, a click
// (302 to the original URL), the unsubscribe page and RFC 8058 one-click. Each hit is an
// event on the user's timeline; tampered, forged and replayed links never redirect or
// change anything.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { startServer } from './lib/server.mjs';
import { journeyKit, expectStatus } from './lib/journeys.mjs';
import { startSmtpPeer, checkMail, deliveryKit } from './lib/delivery.mjs';

const START = '2026-03-02T10:00:00+09:00';
const PUBLIC = 'https://cairn.example';
const BROWSER = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15';

describe('tracking: opens, clicks, unsubscribes from a real email', () => {
  let srv, j, d, smtp, provider;
  const links = {}; // per user: {pixel, clicks: [..], unsubscribe}

  // the server's own URL for a link that names the public URL
  const local = (u) => u.replace(PUBLIC, srv.url);
  const get = (u, headers = {}) => fetch(local(u), { redirect: 'manual', headers: { 'User-Agent': BROWSER, ...headers } });

  async function mailTo(user, email) {
    await j.identify(user, { name: user, email, consent: { email: 'subscribed' } });
    const r = await d.send({
      to: { user_id: user }, channel: 'email', transactional: false, advertising: true, topic: 'newsletter',
      template: {
        subject: '이번 주 소식',
        html: '<p><a href="https://shop.example/a?x=1&amp;y=2">기사</a> '
          + '<a data-kind="purchase" data-topic="skincare" href="https://shop.example/buy/7">구매</a></p>'
          + '<p><a data-notrack href="{{ links.preferences_url }}">수신 설정</a></p>',
      },
    });
    await j.settle();
    const entry = smtp.to(email).at(-1);
    assert.ok(entry, `a mail to ${email}`);
    const mail = await checkMail(smtp.file(entry));
    const hrefs = [...mail.html.matchAll(/href="([^"]+)"/g)].map((m) => m[1].replaceAll('&amp;', '&'));
    const pixel = /<img src="([^"]+\/t\/o\/[^"]+)"/.exec(mail.html)[1].replaceAll('&amp;', '&');
    const unsubscribe = /<(https:\/\/[^>]+)>/.exec(mail.list_unsubscribe)[1];
    const preferences = hrefs.find((h) => h.includes('/t/p/'));
    const messageIdHeader = mail.headers['message-id'][0];
    links[user] = { id: r.id, pixel, clicks: hrefs.filter((h) => h.includes('/t/c/')), unsubscribe, preferences, messageIdHeader };
    return links[user];
  }

  before(async () => {
    smtp = await startSmtpPeer();
    srv = await startServer({ extraArgs: ['--virtual-clock', START, '--public-url', PUBLIC] });
    j = journeyKit(srv, START);
    d = deliveryKit(srv);
    provider = await d.provider({ channel: 'email', type: 'smtp', url: smtp.url, from: 'Shop <news@shop.example>', starttls: 0,
      sender_info: '숲속상점, 서울, 02-123-4567' });
    await mailTo('minsu', 'minsu@x.example');
    await mailTo('jiyoung', 'jiyoung@x.example');
  });
  after(async () => {
    await srv?.close();
    await smtp?.close();
  });

  test('the open pixel: a GIF, Email Opened for the message; a privacy proxy is flagged as a machine', async () => {
    const l = links.minsu;
    const r = await get(l.pixel);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'image/gif');
    assert.match(r.headers.get('cache-control'), /no-store/);
    assert.equal((await r.arrayBuffer()).byteLength, 43);
    await get(l.pixel, { 'User-Agent': 'Mozilla/5.0' }); // Apple Mail Privacy Protection
    await j.barrier();
    const opens = await d.events('minsu', 'Email Opened');
    assert.equal(opens.length, 2);
    const human = opens.find((e) => e.properties.machine === false);
    const machine = opens.find((e) => e.properties.machine === true);
    assert.ok(human && machine, JSON.stringify(opens.map((e) => e.properties)));
    assert.equal(human.properties.message_id, l.id);
    assert.equal(human.properties.channel, 'email');
    assert.equal(human.properties.topic, 'newsletter');
    // a pixel with a bad signature still answers a GIF, and records nothing
    const bad = await get(l.pixel.replace(/s=[^&]+/, 's=AAAAAAAAAAAAAAAAAAAAAA'));
    assert.equal(bad.status, 200);
    await j.barrier();
    assert.equal((await d.events('minsu', 'Email Opened')).length, 2);
  });

  test('a click: 302 to the original URL, Email Link Clicked with the link kind and topic', async () => {
    const l = links.minsu;
    assert.equal(l.clicks.length, 2);
    const r1 = await get(l.clicks[0]);
    assert.equal(r1.status, 302);
    assert.equal(r1.headers.get('location'), 'https://shop.example/a?x=1&y=2');
    const r2 = await get(l.clicks[1]);
    assert.equal(r2.status, 302);
    assert.equal(r2.headers.get('location'), 'https://shop.example/buy/7');
    await j.barrier();
    const clicks = await d.events('minsu', 'Email Link Clicked');
    assert.equal(clicks.length, 2);
    const buy = clicks.find((e) => e.properties.url === 'https://shop.example/buy/7');
    assert.equal(buy.properties.link_kind, 'purchase');
    assert.equal(buy.properties.link_topic, 'skincare');
    assert.equal(buy.properties.machine, false);
    assert.equal(buy.properties.message_id, l.id);
    const art = clicks.find((e) => e.properties.url === 'https://shop.example/a?x=1&y=2');
    assert.equal(art.properties.link_kind, 'content');
  });

  test('tampered and forged links never redirect and record nothing', async () => {
    const l = links.minsu;
    const before = (await d.events('minsu', 'Email Link Clicked')).length;
    const u = new URL(l.clicks[1]);
    const tries = [];
    // open redirect: another destination with the same signature
    const evil = new URL(u); evil.searchParams.set('u', 'https://evil.example/phish'); tries.push(evil);
    const kind = new URL(u); kind.searchParams.set('k', 'content'); tries.push(kind);
    // flip the first character to a different one (a fixed 'x' would be the same 1 time in 64)
    const s0 = u.searchParams.get('s');
    const sig = new URL(u); sig.searchParams.set('s', (s0[0] === 'x' ? 'y' : 'x') + s0.slice(1)); tries.push(sig);
    const nosig = new URL(u); nosig.searchParams.delete('s'); tries.push(nosig);
    const other = new URL(u); other.pathname = `/t/c/${links.jiyoung.id}`; tries.push(other);
    const js = new URL(u); js.searchParams.set('u', 'javascript:alert(1)'); tries.push(js);
    for (const t of tries) {
      const r = await get(t.toString());
      assert.equal(r.status, 400, t.toString());
      assert.equal(r.headers.get('location'), null, t.toString());
      assert.match(await r.text(), /not valid/);
    }
    await j.barrier();
    assert.equal((await d.events('minsu', 'Email Link Clicked')).length, before);
  });

  test('unsubscribe: the page (Korean and English), one-click POST, consent recorded, later marketing refused', async () => {
    const l = links.jiyoung;
    const page = await get(l.unsubscribe, { 'Accept-Language': 'ko-KR,ko;q=0.9' });
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /수신 거부/);
    assert.match(html, /Unsubscribe/);
    assert.match(html, /<form method="post"/);
    // a replayed token for another user's message: refused, jiyoung's consent unchanged
    const forged = new URL(l.unsubscribe); forged.pathname = `/t/u/${links.minsu.id}`;
    const f = await fetch(local(forged.toString()), { method: 'POST', body: 'List-Unsubscribe=One-Click',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    assert.equal(f.status, 400);
    // RFC 8058: a POST of List-Unsubscribe=One-Click to the List-Unsubscribe URL
    const r = await fetch(local(l.unsubscribe), { method: 'POST', body: 'List-Unsubscribe=One-Click',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    assert.equal(r.status, 200);
    await j.barrier();
    const unsub = await d.events('jiyoung', 'Unsubscribed');
    assert.equal(unsub.length, 1);
    assert.equal(unsub[0].properties.message_id, l.id);
    assert.equal(unsub[0].properties.one_click, true);
    const profile = expectStatus(await srv.api('/api/v1/users/jiyoung'), 200, 'GET user');
    const consents = JSON.stringify(profile.consent);
    assert.match(consents, /newsletter/);
    assert.match(consents, /unsubscribed/);
    assert.match(consents, /unsubscribe_link/);
    // minsu is untouched
    assert.equal((await d.events('minsu', 'Unsubscribed')).length, 0);
    // the next newsletter to jiyoung is refused by consent; a transactional one still goes
    const again = await d.send({ to: { user_id: 'jiyoung' }, channel: 'email', transactional: false, topic: 'newsletter',
      template: { subject: 'again', text: 'x' } });
    const tx = await d.send({ to: { user_id: 'jiyoung' }, channel: 'email', topic: 'newsletter',
      template: { subject: '주문 확인', text: '주문이 접수되었습니다.' } });
    await j.settle();
    const m1 = await d.message(again.id);
    assert.equal(m1.status, 'failed');
    assert.match(m1.reason, /^consent: the user unsubscribed from the topic newsletter/);
    assert.equal((await d.message(tx.id)).status, 'sent');
  });

  test('the preference centre (links.preferences_url in the template): current choices, saved per channel and topic', async () => {
    const l = links.minsu;
    assert.match(l.preferences, /^https:\/\/cairn\.example\/t\/p\/msg_[0-9a-f]+\?s=/);
    const page = await get(l.preferences);
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /<input type="checkbox" name="email" checked>/);
    assert.match(html, /<input type="checkbox" name="sms">/);
    assert.match(html, /name="topic.newsletter" checked/);
    // keep email and the newsletter, say no to SMS and to advertising at night
    const r = await fetch(local(l.preferences), { method: 'POST', body: 'email=on&topic.newsletter=on',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    assert.equal(r.status, 200);
    await j.barrier();
    const c = expectStatus(await srv.api('/api/v1/users/minsu'), 200, 'GET user').consent;
    const flat = JSON.stringify(c);
    assert.match(flat, /"sms":\{"status":"unsubscribed"[^}]*"source":"preference_centre"/);
    assert.match(flat, /"email":\{"status":"subscribed"/);
    const unsub = await d.events('minsu', 'Unsubscribed');
    assert.deepEqual(unsub.map((e) => e.properties.channel).sort(), ['kakao', 'night', 'push', 'sms']);
    // a tampered preference link shows nothing of the user
    const bad = await get(l.preferences.replace(/s=.{4}/, 's=AAAA'));
    assert.equal(bad.status, 400);
  });

  test('delivery webhooks (SendGrid and generic): delivered, hard bounce, complaint — events, history, suppressions', async () => {
    const hook = provider.webhook_url;
    assert.match(hook, /^https:\/\/cairn\.example\/hooks\/delivery\/prv_[0-9a-f]+\?s=/);
    const post = (body, url = hook) => fetch(local(url), { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body),
      headers: { 'Content-Type': 'application/json' } });
    const m = links.minsu;
    // SendGrid's event webhook names the message by its Message-ID ("smtp-id", in angle brackets)
    const sg = await post([
      { email: 'minsu@x.example', event: 'processed', 'smtp-id': m.messageIdHeader },
      { email: 'minsu@x.example', event: 'delivered', 'smtp-id': m.messageIdHeader, response: '250 OK' },
      { email: 'minsu@x.example', event: 'bounce', type: 'bounce', 'smtp-id': m.messageIdHeader, reason: '550 5.1.1 user unknown' },
      { email: 'nobody@x.example', event: 'delivered', 'smtp-id': '<nothing@nowhere>' },
    ]);
    assert.equal(sg.status, 200);
    assert.deepEqual(await sg.json(), { recorded: 2, unknown: 1, ignored: 1 });
    // the generic shape: our message id
    const gen = await post({ events: [{ message_id: links.jiyoung.id, event: 'complained' }] });
    assert.deepEqual(await gen.json(), { recorded: 1, unknown: 0, ignored: 0 });
    await j.barrier();
    const delivered = await d.events('minsu', 'Email Delivered');
    assert.equal(delivered.length, 1);
    assert.equal(delivered[0].properties.message_id, m.id);
    const bounced = await d.events('minsu', 'Email Bounced');
    assert.equal(bounced.length, 1);
    assert.equal(bounced[0].properties.bounce_type, 'hard');
    assert.equal((await d.events('jiyoung', 'Email Marked as Spam')).length, 1);
    const sup = await d.suppressions();
    assert.deepEqual(sup.map((x) => [x.address, x.reason]).sort(),
      [['jiyoung@x.example', 'complaint'], ['minsu@x.example', 'hard bounce']]);
    const hist = (await d.message(m.id)).history.map((h) => h.status);
    assert.ok(hist.includes('delivered') && hist.includes('bounced'), hist.join(','));
    // not ours: a forged URL, a malformed body, too many events
    const forged = await post([{ event: 'delivered', message_id: m.id }], hook.replace(/s=.{3}/, 's=AAA'));
    assert.equal(forged.status, 401);
    assert.equal((await post('{not json')).status, 400);
    const many = Array.from({ length: 1001 }, () => ({ event: 'delivered', message_id: m.id }));
    assert.equal((await post(many)).status, 413);
    const huge = JSON.stringify([{ event: 'delivered', message_id: m.id, reason: 'x'.repeat(1100 * 1024) }]);
    assert.equal((await post(huge)).status, 413, 'a body over 1 MB is refused before it is read');
    await j.barrier();
    assert.equal((await d.events('minsu', 'Email Delivered')).length, 1, 'nothing recorded from refused requests');
  });

  test('analytics: the message report counts every reaction above from the rollups, JSON and CSV', async () => {
    await j.barrier();
    const r = expectStatus(await srv.api('/api/v1/analytics/messages?by=channel&from=2026-03-01&to=2026-03-31'), 200, 'report');
    assert.equal(r.data.length, 1);
    const e = r.data[0];
    assert.equal(e.key, 'email');
    // sent: minsu's and jiyoung's newsletters and jiyoung's order mail; the refused newsletter failed
    assert.deepEqual([e.sent, e.unique_sent, e.failed], [3, 3, 1]);
    assert.deepEqual([e.opened, e.unique_opened, e.opened_machine], [1, 1, 1], 'the proxy open is not a person');
    assert.deepEqual([e.clicked, e.unique_clicked], [2, 1]);
    assert.deepEqual([e.delivered, e.bounced, e.complained], [1, 1, 1]);
    assert.equal(e.unique_unsubscribed, 2);
    assert.equal(e.open_rate, 1 / 3);
    assert.equal(e.click_to_open_rate, 1);
    const csv = await srv.api('/api/v1/analytics/messages?by=channel&from=2026-03-01&to=2026-03-31&format=csv');
    assert.equal(csv.status, 200);
    const lines = csv.text.trim().split('\r\n');
    assert.match(lines[0], /^channel,sent,unique_sent,delivered,/);
    assert.match(lines[1], /^"email",3,3,1,1,1,1,2,1,/);
    const bad = await srv.api('/api/v1/analytics/messages?by=planet');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.field, 'by');
  });
});
