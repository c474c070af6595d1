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
    for (const [user, email] of [['minsu', 'minsu@x.example'], ['jiyoung', 'jiyoung@x.example']]) {
      await j.identify(user, { first_name: user === 'minsu' ? '민수' : '지영', email, consent: { email: 'subscribed' } });
      await j.track(user, 'Signed Up');
    }
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
