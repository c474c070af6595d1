// Seed 001 end to end with the shipped example: `cairn examples load solo-marketer`, a real SMTP
// server, a virtual clock. A subscriber signs up and gets the welcome series (day 0, 2, 5, 7);
// clicking a marketing link in the first mail tags them interest:marketing (a default tagging
// rule), which starts the topic follow-up: marketing cases two days later and, without a click
// in five days, the "might help" mail. A second subscriber who never clicks gets only the series.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';

import { startServer, CAIRN_BIN } from './lib/server.mjs';
import { journeyKit, expectStatus, kst } from './lib/journeys.mjs';
import { startSmtpPeer, checkMail, deliveryKit } from './lib/delivery.mjs';
import { startHttpPeer } from '../peers/http_peer.mjs';
import { Analytics as SegmentAnalytics } from '@segment/analytics-node';

/** Sends identify + track calls through @segment/analytics-node (only its host changed),
 * then waits until cairn has applied them. */
async function viaSegment(srv, j, calls) {
  const analytics = new SegmentAnalytics({ writeKey: srv.writeKey, host: srv.url, flushAt: 20, flushInterval: 50, maxRetries: 0 });
  for (const [kind, userId, a, b] of calls) {
    if (kind === 'identify') analytics.identify({ userId, traits: a });
    else analytics.track({ userId, event: a, properties: b || {} }); // timestamp: now, as cairn corrects skew with sentAt
  }
  await analytics.closeAndFlush({ timeout: 15000 });
  await j.barrier();
}

const START = '2026-03-02T10:00:00+09:00';
const PUBLIC = 'https://cairn.example';
const DAY = 86400000;

describe('examples: solo-marketer (seed 001)', () => {
  let srv, j, d, smtp;

  before(async () => {
    smtp = await startSmtpPeer();
    srv = await startServer({ extraArgs: ['--virtual-clock', START, '--public-url', PUBLIC] });
    await srv.stop();
    const out = execFileSync(CAIRN_BIN, ['examples', 'load', 'solo-marketer', '--data', srv.dataDir], { encoding: 'utf8' });
    assert.deepEqual(JSON.parse(out), { example: 'solo-marketer', templates: { created: 7, unchanged: 0 }, journeys: { created: 2, unchanged: 0 } });
    const again = execFileSync(CAIRN_BIN, ['examples', 'load', 'solo-marketer', '--data', srv.dataDir], { encoding: 'utf8' });
    assert.deepEqual(JSON.parse(again).journeys, { created: 0, unchanged: 2 }, 'loading twice changes nothing');
    await srv.restart();
    j = journeyKit(srv, START);
    d = deliveryKit(srv);
    await d.provider({ channel: 'email', type: 'smtp', url: smtp.url, from: '콘텐츠 연구소 <hello@lab.example>', starttls: 0,
      sender_info: '콘텐츠 연구소, 서울시 마포구, 02-000-0000' });
  });
  after(async () => {
    await srv?.close();
    await smtp?.close();
  });

  test('list names it; an unknown example is refused', () => {
    const list = execFileSync(CAIRN_BIN, ['examples', 'list'], { encoding: 'utf8' });
    assert.match(list, /^solo-marketer\s+1인 마케터/m);
    assert.throws(() => execFileSync(CAIRN_BIN, ['examples', 'load', 'nope', '--data', srv.dataDir], { stdio: 'pipe' }),
      /there is no example 'nope'/);
  });

  test('welcome series, a click, interest:marketing, topic follow-up and the non-clicker mail', async () => {
    const live = expectStatus(await srv.api('/api/v1/journeys'), 200, 'journeys').data.map((x) => [x.id, x.status]).sort();
    assert.deepEqual(live, [['topic-follow-up', 'live'], ['welcome-series', 'live']]);
    const t0 = kst('2026-03-02T10:00:00');
    // the two sign-ups come in through the real Segment client
    await viaSegment(srv, j, [
      ['identify', 'minsu', { first_name: '민수', email: 'minsu@x.example', consent: { email: 'subscribed' } }],
      ['identify', 'jiyoung', { first_name: '지영', email: 'jiyoung@x.example', consent: { email: 'subscribed' } }],
      ['track', 'minsu', 'Signed Up'],
      ['track', 'jiyoung', 'Signed Up'],
    ]);
    await j.settle();
    // day 0: minsu opens the intro and clicks the marketing link in it
    const intro = smtp.to('minsu@x.example');
    assert.equal(intro.length, 1);
    const mail = await checkMail(smtp.file(intro[0]));
    assert.match(mail.subject, /민수님, 반가워요/);
    const link = [...mail.html.matchAll(/href="([^"]+)"/g)].map((m) => m[1].replaceAll('&amp;', '&'))
      .find((h) => h.includes('/t/c/') && h.includes('marketing-basics'));
    assert.ok(link, 'a tracked link to the marketing article');
    const r = await fetch(link.replace(PUBLIC, srv.url), { redirect: 'manual', headers: { 'User-Agent': 'Mozilla/5.0 (Windows NT 10.0) Chrome/126' } });
    assert.equal(r.status, 302);
    await j.settle();
    const tags = expectStatus(await srv.api('/api/v1/users/minsu'), 200, 'minsu').tags.map((t) => t.tag ?? t);
    assert.ok(tags.includes('interest:marketing'), `tags: ${JSON.stringify(tags)}`);

    for (let day = 1; day <= 8; day++) await j.advance({ days: 1 });
    const sentTo = async (user) => (await d.messages({ user_id: user, status: 'sent' }))
      .map((m) => [m.template_id, Math.round((Date.parse(m.sent_at) - t0) / DAY)])
      .sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]));
    assert.deepEqual(await sentTo('minsu'), [
      ['welcome-intro', 0], ['topic-marketing', 2], ['welcome-top3', 2], ['welcome-problem', 5],
      ['might-help', 7], ['welcome-reviews', 7],
    ]);
    assert.deepEqual(await sentTo('jiyoung'), [
      ['welcome-intro', 0], ['welcome-top3', 2], ['welcome-problem', 5], ['welcome-reviews', 7],
    ], 'no click, no topic follow-up');
    assert.equal(smtp.to('minsu@x.example').length, 6, 'every mail reached the SMTP server once');

    // the numbers: per template, one human click on the intro
    const rep = expectStatus(await srv.api('/api/v1/analytics/messages?by=template&from=2026-03-01&to=2026-03-31'), 200, 'report');
    const intro2 = rep.data.find((x) => x.key === 'welcome-intro');
    assert.deepEqual([intro2.sent, intro2.unique_clicked], [2, 1]);
    assert.equal(intro2.click_rate, 0.5);
    const stats = expectStatus(await srv.api('/api/v1/journeys/topic-follow-up/stats'), 200, 'stats').nodes;
    assert.equal(stats['might-help'].entered, 1);
    assert.equal(stats.marketing.entered, 1);

    // a funnel over the same days: sign-up → mail → click → order, each within a week of signing up
    const f = expectStatus(await srv.api('/api/v1/analytics/funnel', { method: 'POST', body: {
      steps: ['Signed Up', 'Email Sent', 'Email Link Clicked', 'Order Completed'], within: { days: 7 },
      from: '2026-03-01', to: '2026-03-31' } }), 200, 'funnel');
    assert.deepEqual(f.steps.map((x) => [x.event, x.users]),
      [['Signed Up', 2], ['Email Sent', 2], ['Email Link Clicked', 1], ['Order Completed', 0]]);
    assert.equal(f.steps[2].rate_from_start, 0.5);
    const bad = await srv.api('/api/v1/analytics/funnel', { method: 'POST', body: { steps: ['Signed Up'] } });
    assert.equal(bad.status, 422);
    assert.equal(bad.body.error.field, 'steps');
  });
});

// Seed 000 with the growth-team example: onboarding by AlimTalk (SMS when it fails), cart
// abandonment (the user's preferred channel; an order ends it), payment-failure reminder,
// retention after 14 quiet days (advertising push held by the night rule) and win-back at 30.
describe('examples: growth-team (seed 000)', () => {
  let srv, j, d, smtp, peer;
  const at = (path) => peer.requests.filter((r) => r.path === path).map((r) => r.json);

  before(async () => {
    smtp = await startSmtpPeer();
    peer = await startHttpPeer();
    srv = await startServer({ extraArgs: ['--virtual-clock', START, '--public-url', PUBLIC] });
    await srv.stop();
    execFileSync(CAIRN_BIN, ['examples', 'load', 'growth-team', '--data', srv.dataDir], { encoding: 'utf8' });
    await srv.restart();
    j = journeyKit(srv, START);
    d = deliveryKit(srv);
    await d.provider({ channel: 'email', type: 'smtp', url: smtp.url, from: '숲속상점 <hello@shop.example>', starttls: 0,
      sender_info: '숲속상점, 서울시 성동구, 02-000-0000' });
    for (const ch of ['kakao', 'sms', 'push']) await d.provider({ channel: ch, type: 'http', url: `${peer.url}/${ch}` });
    peer.script('/kakao', [{ status: 400, body: { code: 'K105', message: 'template not approved' } }, { status: 200, body: { id: 'k1' } }]);
  });
  after(async () => {
    await srv?.close();
    await smtp?.close();
    await peer?.close();
  });

  const person = (phone, extra = {}) => ({ name: extra.name, phone, email: `${phone.replaceAll('-', '')}@x.example`,
    push_token: `tok-${phone}`, consent: { email: 'subscribed', sms: 'subscribed', kakao: 'subscribed', push: 'subscribed' }, ...extra });

  test('onboarding: the AlimTalk fails (template not approved) and the SMS fallback goes out', async () => {
    await j.identify('hana', person('010-1111-2222', { name: '하나' }));
    await j.track('hana', 'Signed Up');
    await j.settle();
    assert.equal(at('/kakao').length, 1);
    assert.equal(at('/kakao')[0].template_code, 'WELCOME_01');
    const sms = at('/sms');
    assert.equal(sms.length, 1);
    assert.equal(sms[0].to, '+821011112222');
    assert.match(sms[0].text, /^\[숲속상점\] 하나님, 가입을 환영합니다!/);
    assert.equal(sms[0].type, 'sms');
    const msgs = await d.messages({ user_id: 'hana' });
    const kakao = msgs.find((m) => m.channel === 'kakao');
    assert.equal(kakao.status, 'failed');
    assert.equal(msgs.find((m) => m.channel === 'sms').fallback_of, kakao.id);
  });

  test('cart abandonment: AlimTalk an hour later; the preferred channel wins; an order ends it', async () => {
    await j.identify('joon', person('010-3333-4444', { name: '준' }));
    await j.identify('sora', person('010-5555-6666', { name: '소라', preferred_channel: 'sms' }));
    await j.identify('mina', person('010-7777-8888', { name: '미나' }));
    await viaSegment(srv, j, ['joon', 'sora', 'mina'].map((u) => ['track', u, 'Product Added', { name: '캠핑 의자', price: 59000 }]));
    await j.advance({ minutes: 30 });
    await j.track('mina', 'Order Completed', { revenue: 59000, currency: 'KRW' });
    await j.advance({ minutes: 31 });
    const kakao = at('/kakao').filter((k) => k.template_code === 'CART_01');
    assert.deepEqual(kakao.map((k) => k.to), ['+821033334444'], 'joon by AlimTalk; sora prefers SMS; mina ordered');
    assert.match(kakao[0].text, /준님, 장바구니에 담아 두신 캠핑 의자/);
    const soraSms = at('/sms').filter((x) => x.to === '+821055556666');
    assert.equal(soraSms.length, 1);
    assert.match(soraSms[0].text, /캠핑 의자/);
    const rerouted = (await d.messages({ user_id: 'sora' })).find((m) => m.channel === 'kakao');
    assert.equal(rerouted.status, 'rerouted');
  });

  test('payment failure: an SMS at once', async () => {
    await j.track('joon', 'Payment Failed', { order_id: 'A-1' });
    await j.settle();
    const sms = at('/sms').filter((x) => x.to === '+821033334444');
    assert.equal(sms.length, 1);
    assert.match(sms[0].text, /결제가 완료되지 않았습니다/);
    // joon pays after all: the order is credited to the last message that touched him
    await j.track('joon', 'Order Completed', { revenue: 45000, currency: 'KRW' });
    await j.settle();
    const att = expectStatus(await srv.api('/api/v1/analytics/attribution?by=template&from=2026-03-01&to=2026-03-31'),
      200, 'attribution');
    assert.deepEqual(att.data, [{ key: 'payment-failed', conversions: 1, revenue: 45000 }]);
    assert.equal(att.window_days, 7);
    // the message funnel from the rollups: sent → opened → clicked → converted
    const rep = expectStatus(await srv.api('/api/v1/analytics/messages?by=template&from=2026-03-01&to=2026-03-31'), 200, 'report');
    const pf = rep.data.find((x) => x.key === 'payment-failed');
    assert.deepEqual([pf.unique_sent, pf.unique_opened, pf.unique_clicked, pf.conversions, pf.revenue], [1, 0, 0, 1, 45000]);
    assert.equal(pf.conversion_rate, 1);
  });

  test('retention after 14 quiet days: the advertising push waits for the morning; win-back at 30 days', async () => {
    // mina ordered at 10:30 (above); night orders at 22:30 KST the same day
    await j.setTo(kst('2026-03-02T22:30:00'));
    await j.identify('night', person('010-9999-0000', { name: '밤' }));
    await j.track('night', 'Order Completed', { revenue: 12000, currency: 'KRW' });
    await j.setTo(kst('2026-03-16T23:00:00'));
    const pushes = () => at('/push').map((p) => p.message.token);
    assert.deepEqual(pushes().sort(), ['tok-010-3333-4444', 'tok-010-7777-8888'],
      "mina's and joon's pushes went out in the day; night's is held");
    // the journey holds it at the send node until 08:00 local (and says so)
    const steps = expectStatus(await srv.api('/api/v1/users/night/journeys'), 200, 'steps').steps;
    assert.match(steps.find((x) => x.node === 'retain').reason, /quiet hours/);
    await j.setTo(kst('2026-03-17T08:01:00'));
    assert.deepEqual(pushes().sort(), ['tok-010-3333-4444', 'tok-010-7777-8888', 'tok-010-9999-0000']);
    // 16 more quiet days: the 30-day win-back email
    await j.setTo(kst('2026-04-01T12:00:00'));
    const winback = smtp.to('01077778888@x.example');
    assert.equal(winback.length, 1);
    const mail = await checkMail(smtp.file(winback[0]));
    assert.match(mail.subject, /^\(광고\) 미나님, 다시 만나고 싶어요/);
  });

  test("the stage KPIs of seed 000 over March, and a definition changed in the settings", async () => {
    const k = expectStatus(await srv.api('/api/v1/analytics/kpis?from=2026-03-01&to=2026-03-31'), 200, 'kpis').kpis;
    assert.deepEqual([k.activation.users, k.activation.converted], [1, 0], 'hana signed up and never ordered');
    assert.deepEqual([k.conversion.users, k.conversion.converted], [3, 2], 'mina and joon of three carts ordered');
    assert.equal(k.conversion.rate, 2 / 3);
    assert.deepEqual([k.retention.users, k.retention.converted], [3, 0]);
    assert.deepEqual(k.retention.definition, { steps: ['Order Completed', 'Order Completed'], within: { days: 30 } });
    assert.equal(k.reactivation.reactivated, 0, 'everyone is new');
    assert.deepEqual([k.engagement.users, k.engagement.converted], [2, 0], 'hana and sora got an email; nobody clicked');
    expectStatus(await srv.api('/api/v1/settings/kpis', { method: 'PUT', body: { value: {
      activation: { steps: ['Signed Up', 'Payment Failed'], within: { days: 3 } }, reactivation: { inactive_days: 60 } } } }),
    200, 'kpis setting');
    const k2 = expectStatus(await srv.api('/api/v1/analytics/kpis?from=2026-03-01&to=2026-03-31'), 200, 'kpis').kpis;
    assert.deepEqual(k2.activation.definition, { steps: ['Signed Up', 'Payment Failed'], within: { days: 3 } });
    assert.equal(k2.reactivation.definition.inactive_days, 60);
    const bad = await srv.api('/api/v1/settings/kpis', { method: 'PUT', body: { value: { activation: { steps: ['x'] } } } });
    assert.equal(bad.status, 422);

    // a daily series and carts as cohorts (who ordered, day by day after their first cart)
    const series = expectStatus(await srv.api('/api/v1/analytics/series?event=Order%20Completed&interval=day'
      + '&from=2026-03-01T00:00:00Z&to=2026-03-03T23:59:59Z'), 200, 'series').data;
    assert.deepEqual(series.map((p) => [p.at.slice(0, 10), p.events, p.users]),
      [['2026-03-01', 0, 0], ['2026-03-02', 3, 3], ['2026-03-03', 0, 0]]);
    const cohorts = expectStatus(await srv.api('/api/v1/analytics/cohorts?first=Product%20Added&again=Order%20Completed'
      + '&period=day&periods=2&from=2026-03-01T00:00:00Z&to=2026-03-31T00:00:00Z'), 200, 'cohorts').data;
    assert.equal(cohorts.length, 1);
    assert.equal(cohorts[0].start.slice(0, 10), '2026-03-02');
    assert.equal(cohorts[0].users, 3);
    assert.deepEqual(cohorts[0].returned, [2, 0, 0]);
    assert.equal((await srv.api('/api/v1/analytics/series?event=x&interval=minute')).status, 400);

    // a scoreboard: cart users as a segment, and how many of them ordered in March
    expectStatus(await srv.api('/api/v1/segments', { method: 'POST', body: { id: 'carts', name: '장바구니 사용자',
      condition: { event: 'Product Added' } } }), 201, 'segment');
    const board = expectStatus(await srv.api('/api/v1/analytics/segments?from=2026-03-01&to=2026-03-31'), 200, 'board').data;
    const carts = board.find((x) => x.segment_id === 'carts');
    assert.deepEqual([carts.size, carts.users, carts.events], [3, 2, 2]);
    assert.equal(carts.rate, 2 / 3);
    // every report also as CSV
    const csv = await srv.api('/api/v1/analytics/kpis?from=2026-03-01&to=2026-03-31&format=csv');
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-type'), /^text\/csv/);
    const lines = csv.text.trim().split('\r\n');
    assert.equal(lines[0], 'key,definition,users,converted,rate');
    assert.match(lines.find((l) => l.startsWith('"conversion"')), /^"conversion",".*",3,2,0\.6667$/);
    const scsv = await srv.api('/api/v1/analytics/segments?from=2026-03-01&to=2026-03-31&format=csv');
    assert.match(scsv.text, /^segment_id,name,size,entered,events,users,rate\r\n"carts","장바구니 사용자",3,/);
    assert.equal((await srv.api('/api/v1/analytics/series?event=x&format=xml')).status, 400);
  });
});
