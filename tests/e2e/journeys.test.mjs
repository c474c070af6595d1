// Journeys end to end (issue 6; SPEC §2; CONVENTIONS §0, §3, §5) through the
// real API: definitions are created, validated and published over HTTP, users
// arrive through the Tracking API, and time is the server's virtual clock
// (`serve --virtual-clock`, `POST /api/v1/_clock`). What the engine did is read
// back from GET /api/v1/users/{id}/journeys (each step with time and reason),
// GET /api/v1/messages (the queued, rendered outbox rows), the user's timeline
// (Journey Entered / Exited, Goal Reached) and GET …/stats, and is compared with
// POST …/simulate for the same events.
//
// The journeys here each start on their own trigger event, so the tests share one
// server without entering each other's users; each test starts at the next
// 10:00 in Seoul (or 22:00 for quiet hours) on the shared clock.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import { journeyKit, expectStatus, iso, kst, DAY, HOUR, MINUTE } from './lib/journeys.mjs';

const START = '2026-03-02T10:00:00+09:00';

let srv;
let j;
before(async () => {
  srv = await startServer({ extraArgs: ['--virtual-clock', START] });
  j = journeyKit(srv, START);
});
after(async () => { await srv?.close(); });

const email = (subject, html) => ({ subject, html });
const send = (id, template, next, extra = {}) => ({ id, type: 'send', channel: 'email', template, ...(next ? { next } : {}), ...extra });
const wait = (id, duration, next) => ({ id, type: 'wait', duration, next });
const exit = (id = 'end') => ({ id, type: 'exit' });

/** The engine's steps of a user as the simulator prints its path. */
const asPath = (steps) => steps.map((s) => ({ node: s.node, at: s.at, reason: s.reason }));

// ---------------------------------------------------------------------------
// seed 001: the welcome series

const WELCOME = {
  name: '환영 시리즈',
  trigger: { type: 'event', event: 'Signed Up' },
  entry: { reentry: 'never' },
  goal: { event: 'Order Completed', within: { days: 14 } },
  start: 'intro',
  nodes: [
    send('intro', 'welcome-intro', 'd2'),
    wait('d2', { days: 2 }, 'top3'),
    send('top3', 'welcome-top3', 'd5'),
    wait('d5', { days: 3 }, 'problem'),
    send('problem', email('{{ user.first_name | default: "고객" }}님, 이런 고민 있으신가요?',
      '<p>자주 묻는 문제와 해결 방법을 모았어요.</p>'), 'd7'),
    wait('d7', { days: 2 }, 'reviews'),
    send('reviews', 'welcome-reviews', 'done'),
    exit('done'),
  ],
};

async function welcomeTemplates() {
  await j.template('welcome-intro', 'email', {
    subject: '{{ user.first_name | default: "고객" }}님, cairn에 오신 것을 환영합니다',
    html: '<p>{{ user.first_name | default: "고객" }}님, 가입해 주셔서 감사합니다.</p>',
    text: '{{ user.first_name | default: "고객" }}님, 가입해 주셔서 감사합니다.',
  }, '환영 메일');
  await j.template('welcome-top3', 'email', {
    subject: '가장 사랑받는 상품 3가지',
    html: '<ol>{% for p in (1..3) %}<li>인기 상품 {{ p }}</li>{% endfor %}</ol>',
  }, '인기 상품 3');
  await j.template('welcome-reviews', 'email', {
    subject: '고객 후기와 {{ 10000 | money: "KRW" }} 할인 쿠폰',
    html: '<p>먼저 써 본 분들의 후기를 확인하고, 첫 주문에 {{ 10000 | money: "KRW" }} 할인을 받으세요.</p>',
  }, '후기와 혜택');
}

test('seed 001 welcome series: day 0 intro, day 2 top 3, day 5 problem solving, day 7 reviews + offer', async () => {
  await j.toNextLocal('10:00');
  const t0 = j.now;
  await welcomeTemplates();
  const created = await j.create('welcome', WELCOME);
  assert.equal(created.status, 'draft');
  assert.equal(created.live_version, 0);
  const pub = await j.publish('welcome');
  assert.equal(pub.version, 1);
  assert.equal(pub.status, 'live');

  await j.identify('minsu', { first_name: '민수', email: 'minsu@example.kr' });
  await j.track('minsu', 'Signed Up', { source: 'landing' });

  // one day at a time: how many messages minsu has at the end of each day
  const perDay = [(await j.sent('minsu', 'welcome')).length];
  for (let day = 1; day <= 8; day++) {
    await j.advance({ days: 1 });
    if (day === 1) {
      await j.identify('jiyoung', { first_name: '지영' });
      await j.track('jiyoung', 'Signed Up', { source: 'ad' });
    }
    perDay.push((await j.sent('minsu', 'welcome')).length);
  }
  assert.deepEqual(perDay, [1, 1, 2, 2, 2, 3, 3, 4, 4], 'messages by the end of day 0…8');

  // the outbox: rendered with minsu's data, queued at day 0, 2, 5, 7 (delivery then
  // refuses them: advertising without minsu's opt-in — see delivery.test.mjs)
  const msgs = await j.messages('minsu', 'welcome');
  assert.deepEqual(msgs.map((m) => m.journey.node), ['intro', 'top3', 'problem', 'reviews']);
  assert.deepEqual(msgs.map((m) => m.send_at), [0, 2, 5, 7].map((d) => iso(t0 + d * DAY)));
  assert.deepEqual(msgs.map((m) => m.template_id), ['welcome-intro', 'welcome-top3', null, 'welcome-reviews']);
  for (const m of msgs) {
    assert.equal(m.status, 'failed');
    assert.match(m.reason, /^consent: an advertising message needs the user's opt-in for email/);
    assert.equal(m.channel, 'email');
    assert.equal(m.user_id, 'minsu');
    assert.equal(m.advertising, true);
    assert.deepEqual({ id: m.journey.id, version: m.journey.version }, { id: 'welcome', version: 1 });
  }
  assert.equal(msgs[0].content.subject, '민수님, cairn에 오신 것을 환영합니다');
  assert.match(msgs[0].content.text, /^민수님, 가입해 주셔서 감사합니다/);
  assert.match(msgs[1].content.html, /<li>인기 상품 3<\/li>/);
  assert.equal(msgs[2].content.subject, '민수님, 이런 고민 있으신가요?');
  assert.match(msgs[3].content.subject, /10,000/);
  assert.match(msgs[3].content.html, /후기/);
  assert.equal(new Set(msgs.map((m) => m.id)).size, 4, 'every message has its own id');

  // the history: every step with its time and reason
  const steps = await j.steps('minsu', 'welcome');
  assert.deepEqual(steps.map((s) => s.node), ['intro', 'd2', 'top3', 'd5', 'problem', 'd7', 'reviews', 'done']);
  assert.deepEqual(steps.map((s) => s.at), [0, 0, 2, 2, 5, 5, 7, 7].map((d) => iso(t0 + d * DAY)));
  assert.ok(steps.every((s) => s.version === 1 && s.instance_id === steps[0].instance_id));
  assert.match(steps[0].reason, /sent email template 'welcome-intro'/);
  assert.match(steps[1].reason, /^waiting 2 days, until /);
  assert.ok(steps[1].reason.includes(iso(t0 + 2 * DAY)), steps[1].reason);
  assert.match(steps[3].reason, /^waiting 3 days/);
  assert.match(steps[4].reason, /sent email inline message/);
  assert.equal(steps[7].reason, 'exit');

  // jiyoung came a day later and is a day behind
  const jy = await j.messages('jiyoung', 'welcome');
  assert.deepEqual(jy.map((m) => m.send_at), [1, 3, 6, 8].map((d) => iso(t0 + d * DAY)));
  assert.equal(jy[0].content.subject, '지영님, cairn에 오신 것을 환영합니다');

  // lifecycle events on the timeline
  const tl = await j.timeline('minsu');
  const entered = tl.filter((e) => e.event === 'Journey Entered');
  const exited = tl.filter((e) => e.event === 'Journey Exited');
  assert.equal(entered.length, 1);
  assert.deepEqual(entered[0].properties, { journey_id: 'welcome', journey_version: 1 });
  assert.equal(entered[0].timestamp, iso(t0));
  assert.equal(exited.length, 1);
  assert.equal(exited[0].properties.reason, 'exit node');
  assert.equal(exited[0].properties.node_id, 'done');
  assert.equal(exited[0].timestamp, iso(t0 + 7 * DAY));

  // stats per node
  const stats = await j.stats('welcome');
  for (const n of ['intro', 'd2', 'top3', 'd5', 'problem', 'd7', 'reviews', 'done']) {
    assert.equal(stats[n]?.entered, 2, `${n} entered by both users: ${JSON.stringify(stats)}`);
    assert.equal(stats[n].waiting, 0);
  }
  assert.equal(stats.done.exited, 2);
  const jget = await j.journey('welcome');
  assert.equal(jget.status, 'live');
  assert.equal(jget.live_version, 1);

  // the simulator takes the same path for the same events
  const sim = await j.simulate('welcome', {
    user: { user_id: 'minsu', traits: { first_name: '민수', email: 'minsu@example.kr' } },
    events: [{ event: 'Signed Up', properties: { source: 'landing' }, timestamp: iso(t0) }],
  });
  assert.deepEqual(sim.path, asPath(steps));
  assert.deepEqual(sim.messages.map((m) => m.subject), msgs.map((m) => m.content.subject));
  assert.equal(sim.exited, 'exit node');
  assert.equal(sim.version, 1);
  const text = await srv.api('/api/v1/journeys/welcome/simulate?format=text', {
    method: 'POST', body: { user: { user_id: 'x', traits: { first_name: '민수' } }, events: [{ event: 'Signed Up', timestamp: iso(t0) }] },
  });
  expectStatus(text, 200, 'simulate as text');
  assert.match(text.text, /reviews/);
  assert.match(text.text, /민수님, cairn에 오신 것을 환영합니다/);

  // the timeline shows each journey step among the user's events, newest
  // first, paging without losing or repeating a step
  const items = [];
  let cursor = null;
  do {
    const q = `/api/v1/users/minsu/events?include=journeys&limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const page = expectStatus(await srv.api(q), 200, 'timeline with journeys');
    items.push(...page.data);
    cursor = page.next_cursor;
  } while (cursor);
  const tsteps = items.filter((x) => x.type === 'journey_step');
  assert.deepEqual(tsteps.map((x) => x.node), steps.map((x) => x.node).reverse(), 'every step once, newest first');
  assert.ok(tsteps.every((x) => x.journey_id === 'welcome' && x.reason));
  const times = items.map((x) => x.timestamp);
  assert.deepEqual(times, [...times].sort().reverse(), 'merged newest first');
  assert.ok(items.some((x) => x.event === 'Journey Entered'), 'events are there too');
});

test('one long advance does everything due by then (the welcome series in a single 7-day jump)', async () => {
  // CONVENTIONS §0: the clock "answers once everything due by then has been done"
  await j.toNextLocal('10:00');
  const t0 = j.now;
  await j.identify('jumper', { first_name: '도윤' });
  await j.track('jumper', 'Signed Up');
  await j.advance({ days: 7 });
  const msgs = await j.messages('jumper', 'welcome');
  assert.deepEqual(msgs.map((m) => [m.journey.node, m.send_at]),
    [['intro', iso(t0)], ['top3', iso(t0 + 2 * DAY)], ['problem', iso(t0 + 5 * DAY)], ['reviews', iso(t0 + 7 * DAY)]],
    'each wait is measured from when it was due, and everything due within the 7 days is done');
});

test('events acknowledged just before an advance happen at their own time', async () => {
  await j.toNextLocal('10:00');
  const t0 = j.now;
  const batch = [];
  for (let i = 0; i < 100; i++) {
    batch.push({ type: 'track', userId: `early-${i}`, event: 'Signed Up', timestamp: iso(t0), messageId: `early-${i}` });
  }
  expectStatus(await srv.track('/v1/batch', { batch }), 200, 'batch');
  await j.advance({ hours: 1 }); // no read barrier in between: the batch is acknowledged, so it happened at t0
  const late = [];
  for (let i = 0; i < 100; i++) {
    const m = await j.messages(`early-${i}`, 'welcome');
    if (m.length !== 1 || m[0].send_at !== iso(t0)) late.push(`early-${i}: ${m.map((x) => x.send_at).join(',')}`);
  }
  assert.deepEqual(late.slice(0, 5), [], `${late.length} of 100 users entered at the advanced time instead of ${iso(t0)}`);
});

// ---------------------------------------------------------------------------
// seed 000: cart abandonment, exit on Order Completed

test('seed 000 cart abandonment: exit on Order Completed', async () => {
  await j.toNextLocal('10:00');
  const t0 = j.now;
  await j.template('cart-reminder', 'email', {
    subject: '{{ user.first_name | default: "고객" }}님, 장바구니에 담긴 상품을 잊지 않으셨나요?',
    html: '<p>장바구니에 상품이 남아 있어요. 지금 주문을 완료하세요.</p>',
  }, '장바구니 알림');
  const pub = await j.createLive('cart', {
    name: '장바구니 이탈',
    trigger: { type: 'event', event: 'Checkout Started' },
    entry: { reentry: 'always' },
    exit_on: [{ event: 'Order Completed' }],
    start: 'w1',
    nodes: [
      wait('w1', { hours: 1 }, 'remind'),
      send('remind', 'cart-reminder', 'w2'),
      wait('w2', { days: 1 }, 'coupon'),
      send('coupon', email('10% 할인 쿠폰이 도착했어요', '<p>{{ user.first_name }}님, 코드 CART10으로 10% 할인받으세요.</p>'), 'end'),
      exit('end'),
    ],
  });
  assert.equal(pub.version, 1);

  const users = { buyer: '서연', leaver: '하준', late: '지우' };
  const events = { buyer: [], leaver: [], late: [], stranger: [] };
  const track = async (u, ev, props) => events[u].push(await j.track(u, ev, props));
  for (const [u, name] of Object.entries(users)) {
    await j.identify(u, { first_name: name });
    await track(u, 'Checkout Started', { cart_value: 59000, currency: 'KRW' });
  }
  await j.advance({ minutes: 30 });
  await track('buyer', 'Order Completed', { revenue: 59000, currency: 'KRW' });
  await track('stranger', 'Order Completed', { revenue: 1000, currency: 'KRW' });
  await j.advance({ minutes: 30 }); // t0 + 1h: reminders
  assert.deepEqual(await j.sent('leaver', 'cart'), ['remind']);
  assert.deepEqual(await j.sent('late', 'cart'), ['remind']);
  await j.advance({ hours: 1 });
  await track('late', 'Order Completed', { revenue: 59000, currency: 'KRW' });
  await j.advance({ hours: 23 }); // t0 + 1d 1h: the coupon for who is still there

  assert.deepEqual(await j.sent('buyer', 'cart'), [], 'the buyer got nothing');
  assert.deepEqual(await j.path('buyer', 'cart'), ['w1']);
  assert.deepEqual(await j.sent('late', 'cart'), ['remind']);
  assert.deepEqual(await j.path('late', 'cart'), ['w1', 'remind', 'w2']);
  const leaver = await j.messages('leaver', 'cart');
  assert.deepEqual(leaver.map((m) => [m.journey.node, m.send_at]), [['remind', iso(t0 + HOUR)], ['coupon', iso(t0 + DAY + HOUR)]]);
  assert.equal(leaver[0].content.subject, '하준님, 장바구니에 담긴 상품을 잊지 않으셨나요?');
  assert.match(leaver[1].content.html, /하준님, 코드 CART10/);
  assert.deepEqual(await j.path('leaver', 'cart'), ['w1', 'remind', 'w2', 'coupon', 'end']);
  assert.deepEqual(await j.steps('stranger'), [], 'an order alone enters nobody');

  const exitOf = async (u) => (await j.timeline(u)).filter((e) => e.event === 'Journey Exited').map((e) => [e.properties.reason, e.timestamp]);
  assert.deepEqual(await exitOf('buyer'), [['exit_on: Order Completed', iso(t0 + 30 * MINUTE)]]);
  assert.deepEqual(await exitOf('late'), [['exit_on: Order Completed', iso(t0 + 2 * HOUR)]]);
  assert.deepEqual(await exitOf('leaver'), [['exit node', iso(t0 + DAY + HOUR)]]);

  const stats = await j.stats('cart');
  assert.equal(stats.w1.entered, 3);
  assert.equal(stats.remind.entered, 2);
  assert.equal(stats.coupon.entered, 1);
  assert.equal(stats.w1.exited, 1, 'the buyer left at w1');
  assert.equal(stats.w2.exited, 1, 'the late buyer left at w2');
  assert.equal(stats.end.exited, 1);

  // the simulator agrees, user by user
  for (const u of Object.keys(users)) {
    const sim = await j.simulate('cart', { user: { user_id: u, traits: { first_name: users[u] } }, events: events[u] });
    assert.deepEqual(sim.path, asPath(await j.steps(u, 'cart')), `simulated path of ${u}`);
  }

  // re-entry "always": the buyer comes back to the checkout and is in again
  await track('buyer', 'Checkout Started', { cart_value: 12000, currency: 'KRW' });
  const again = await j.steps('buyer', 'cart');
  assert.equal(new Set(again.map((s) => s.instance_id)).size, 2);
  assert.equal(again.at(-1).node, 'w1');
});

// ---------------------------------------------------------------------------

test('pause holds users at their step; resume continues exactly where they were', async () => {
  await j.toNextLocal('10:00');
  const t0 = j.now;
  await j.createLive('trial', {
    name: 'Trial nurture',
    trigger: { type: 'event', event: 'Trial Started' },
    quiet_hours: false,
    start: 's1',
    nodes: [
      send('s1', email('체험을 시작했어요', '<p>첫날 안내</p>'), 'w'),
      wait('w', { days: 1 }, 's2'),
      send('s2', email('체험 둘째 날', '<p>둘째 날 안내</p>'), 'end'),
      exit(),
    ],
  });
  await j.track('p1', 'Trial Started');
  assert.deepEqual(await j.path('p1', 'trial'), ['s1', 'w']);
  await j.advance({ hours: 1 });

  let r = await srv.api('/api/v1/journeys/trial/pause', { method: 'POST' });
  assert.equal(expectStatus(r, 200, 'pause').status, 'paused');
  r = await srv.api('/api/v1/journeys/trial/pause', { method: 'POST' });
  assert.equal(r.status, 409, `pausing twice → ${r.status} ${r.text}`);

  await j.identify('p2', { first_name: '예준' });
  await j.track('p2', 'Trial Started');
  r = await srv.api('/api/v1/journeys/trial/enroll', { method: 'POST', body: { user_id: 'p2' } });
  assert.equal(r.status, 409, 'a paused journey takes no one');
  assert.equal(r.body.error.code, 'journey_not_live');

  await j.advance({ days: 2 }); // p1's timer (t0 + 1d) is overdue, but the journey is paused
  assert.deepEqual(await j.path('p1', 'trial'), ['s1', 'w'], 'held at the wait');
  assert.deepEqual(await j.sent('p1', 'trial'), ['s1']);
  assert.deepEqual(await j.steps('p2', 'trial'), [], 'no one enters a paused journey');
  assert.equal((await j.stats('trial')).w.waiting, 1);

  r = await srv.api('/api/v1/journeys/trial/resume', { method: 'POST' });
  assert.equal(expectStatus(r, 200, 'resume').status, 'live');
  await j.settle();
  const resumedAt = t0 + HOUR + 2 * DAY;
  const steps = await j.steps('p1', 'trial');
  assert.deepEqual(steps.map((s) => s.node), ['s1', 'w', 's2', 'end'], 'continues at the next step, once');
  assert.equal(steps[2].at, iso(resumedAt), 'the overdue timer fired at once on resume');
  const msgs = await j.messages('p1', 'trial');
  assert.deepEqual(msgs.map((m) => m.journey.node), ['s1', 's2'], 'no message twice, none lost');
  await j.advance({ days: 1 });
  assert.equal((await j.messages('p1', 'trial')).length, 2);
  assert.deepEqual(await j.steps('p2', 'trial'), [], 'the event seen while paused does not enter p2 afterwards');
  await j.track('p2', 'Trial Started');
  assert.deepEqual(await j.path('p2', 'trial'), ['s1', 'w'], 'live again: new users enter');
});

test('publish freezes an immutable version; users stay on the version they entered', async () => {
  await j.toNextLocal('10:00');
  const v1 = {
    name: 'Plan upsell',
    trigger: { type: 'event', event: 'Pricing Viewed' },
    quiet_hours: false,
    start: 'w',
    nodes: [wait('w', { days: 1 }, 's'), send('s', email('버전 1 안내', '<p>v1</p>'), 'end'), exit()],
  };
  await j.create('upsell', v1);
  let pub = await j.publish('upsell');
  assert.equal(pub.version, 1);
  assert.equal(pub.diff, null);
  await j.track('on-v1', 'Pricing Viewed');

  const v2 = structuredClone(v1);
  v2.nodes = [
    wait('w', { days: 1 }, 's'),
    send('s', email('버전 2 안내', '<p>v2</p>'), 'nudge'),
    send('nudge', email('버전 2 추가 안내', '<p>v2 extra</p>'), 'end'),
    exit(),
  ];
  let r = await srv.api('/api/v1/journeys/upsell', { method: 'PUT', body: { definition: v2, draft_rev: 1 } });
  assert.equal(expectStatus(r, 200, 'save draft').draft_rev, 2);
  r = await srv.api('/api/v1/journeys/upsell', { method: 'PUT', body: { definition: v1, draft_rev: 1 } });
  assert.equal(r.status, 409, `a stale draft_rev → ${r.status} ${r.text}`);
  let jget = await j.journey('upsell');
  assert.equal(jget.live_version, 1, 'saving a draft publishes nothing');
  assert.equal(jget.definition.nodes[1].template.subject, '버전 2 안내');

  pub = await j.publish('upsell');
  assert.equal(pub.version, 2);
  assert.deepEqual(pub.diff, { nodes_added: ['nudge'], nodes_removed: [], nodes_changed: ['s'], fields_changed: [] });
  await j.track('on-v2', 'Pricing Viewed');

  // a later draft changes neither version
  const v3 = structuredClone(v2);
  v3.nodes[1].template.subject = '버전 3 초안';
  expectStatus(await srv.api('/api/v1/journeys/upsell', { method: 'PUT', body: { definition: v3 } }), 200, 'save draft 3');

  const versions = expectStatus(await srv.api('/api/v1/journeys/upsell/versions'), 200, 'versions');
  assert.deepEqual(versions.data.map((v) => v.version), [2, 1]);
  const frozen1 = expectStatus(await srv.api('/api/v1/journeys/upsell/versions/1'), 200, 'version 1');
  assert.equal(frozen1.definition.nodes[1].template.subject, '버전 1 안내');
  assert.equal(frozen1.definition.nodes.length, 3);
  const frozen2 = expectStatus(await srv.api('/api/v1/journeys/upsell/versions/2'), 200, 'version 2');
  assert.equal(frozen2.definition.nodes[1].template.subject, '버전 2 안내');
  r = await srv.api('/api/v1/journeys/upsell/versions/9');
  assert.equal(r.status, 404);

  await j.advance({ days: 1 });
  const m1 = await j.messages('on-v1', 'upsell');
  assert.deepEqual(m1.map((m) => [m.journey.node, m.journey.version, m.content.subject]), [['s', 1, '버전 1 안내']]);
  assert.deepEqual(await j.path('on-v1', 'upsell'), ['w', 's', 'end']);
  assert.ok((await j.steps('on-v1', 'upsell')).every((s) => s.version === 1));
  // s and nudge are decided in the same instant: the list's order among them is not the step order
  const m2 = (await j.messages('on-v2', 'upsell')).sort((a, b) => (a.journey.node === 's' ? -1 : 1) - (b.journey.node === 's' ? -1 : 1));
  assert.deepEqual(m2.map((m) => [m.journey.node, m.journey.version, m.content.subject]),
    [['s', 2, '버전 2 안내'], ['nudge', 2, '버전 2 추가 안내']]);
  assert.ok((await j.steps('on-v2', 'upsell')).every((s) => s.version === 2));

  // simulate a given version, the live one, or the draft
  const ev = [{ event: 'Pricing Viewed', timestamp: iso(j.now) }];
  assert.equal((await j.simulate('upsell', { events: ev, version: 1 })).messages[0].subject, '버전 1 안내');
  assert.equal((await j.simulate('upsell', { events: ev })).messages[0].subject, '버전 2 안내');
  assert.equal((await j.simulate('upsell', { events: ev, draft: true })).messages[0].subject, '버전 3 초안');
});

test('migrate on request: users on an older version move to the live one at the same node', async () => {
  await j.toNextLocal('10:00');
  const t0 = j.now;
  const v1 = {
    name: 'Migration demo',
    trigger: { type: 'event', event: 'Migration Test' },
    quiet_hours: false,
    start: 'w1',
    nodes: [wait('w1', { hours: 2 }, 'w2'), wait('w2', { days: 1 }, 's'), send('s', email('예전 안내', '<p>old</p>'), 'end'), exit()],
  };
  await j.createLive('mig', v1);
  await j.track('mig-far', 'Migration Test');
  await j.advance({ hours: 3 }); // mig-far is at w2 now
  await j.track('mig-near', 'Migration Test'); // mig-near at w1 (due t0 + 5h)
  const v2 = { ...v1, nodes: [wait('w1', { hours: 2 }, 's'), send('s', email('새 안내', '<p>new</p>'), 'end'), exit()] };
  expectStatus(await srv.api('/api/v1/journeys/mig', { method: 'PUT', body: { definition: v2 } }), 200, 'draft v2');
  assert.equal((await j.publish('mig')).version, 2);
  const r = await srv.api('/api/v1/journeys/mig/migrate', { method: 'POST' });
  assert.deepEqual(expectStatus(r, 200, 'migrate'), { id: 'mig', moved: 1, exited: 1 });
  await j.advance({ days: 2 });
  const near = await j.messages('mig-near', 'mig');
  assert.deepEqual(near.map((m) => [m.journey.version, m.content.subject, m.send_at]), [[2, '새 안내', iso(t0 + 5 * HOUR)]],
    'moved at w1, kept its timer, went on in version 2');
  assert.deepEqual(await j.sent('mig-far', 'mig'), [], 'its node is gone in version 2: it left');
  const stats = await j.stats('mig');
  assert.equal(stats.w2.exited, 1);
  assert.equal(Object.values(stats).reduce((a, n) => a + n.waiting, 0), 0);
  // the same counts per version: both entered w1 on version 1; mig-near went on in version 2
  const byVersion = expectStatus(await srv.api('/api/v1/journeys/mig/stats'), 200, 'stats').versions;
  assert.equal(byVersion['1'].w1.entered, 2);
  assert.equal(byVersion['1'].w2.exited, 1);
  assert.equal(byVersion['2'].s.entered, 1);
  assert.equal(byVersion['1'].s, undefined, 'nobody reached s on version 1');
});

test('re-entry policy: never, always (not while in it), after N days', async () => {
  await j.toNextLocal('10:00');
  const mk = (trigger, reentry) => ({
    name: `Re-entry ${trigger}`,
    trigger: { type: 'event', event: trigger },
    entry: { reentry },
    quiet_hours: false,
    start: 's',
    nodes: [send('s', email('다시 만나요', '<p>hi</p>'), 'w'), wait('w', { days: 1 }, 'end'), exit()],
  });
  await j.createLive('re-never', mk('Re Never', 'never'));
  await j.createLive('re-always', mk('Re Always', 'always'));
  await j.createLive('re-after', mk('Re After', { after: { days: 3 } }));
  const instances = async (u, jid) => new Set((await j.steps(u, jid)).map((s) => s.instance_id)).size;
  const entered = async (u, jid) => (await j.timeline(u)).filter((e) => e.event === 'Journey Entered' && e.properties.journey_id === jid).length;

  for (const [ev, u] of [['Re Never', 'rn'], ['Re Always', 'ra'], ['Re After', 'rf']]) await j.track(u, ev);
  await j.advance({ hours: 1 });
  await j.track('ra', 'Re Always'); // still in it: not twice at once
  assert.equal(await instances('ra', 're-always'), 1);
  await j.advance({ days: 1 }); // everyone has left (t0 + 1d 1h)
  for (const [ev, u] of [['Re Never', 'rn'], ['Re Always', 'ra'], ['Re After', 'rf']]) await j.track(u, ev);
  assert.equal(await instances('rn', 're-never'), 1, 'never: once per user, ever');
  assert.equal(await instances('ra', 're-always'), 2, 'always: again once out');
  assert.equal(await instances('rf', 're-after'), 1, 'after 3 days: not after 1 day');
  await j.advance({ days: 2 }); // t0 + 3d 1h
  await j.track('rf', 'Re After');
  assert.equal(await instances('rf', 're-after'), 2, 'after 3 days: again');
  await j.track('rn', 'Re Never');
  assert.equal(await instances('rn', 're-never'), 1);
  assert.equal(await entered('rn', 're-never'), 1);
  assert.equal(await entered('ra', 're-always'), 2);
  assert.equal(await entered('rf', 're-after'), 2);
  assert.deepEqual((await j.messages('ra', 're-always')).map((m) => m.journey.node), ['s', 's']);
});

test('conversion goal within its window emits Goal Reached once', async () => {
  await j.toNextLocal('10:00');
  const t0 = j.now;
  await j.createLive('goal-demo', {
    name: 'Quote follow-up',
    trigger: { type: 'event', event: 'Quote Requested' },
    goal: { event: 'Order Completed', where: { property: 'revenue', op: 'gte', value: 10000 }, within: { days: 3 } },
    quiet_hours: false,
    start: 's',
    nodes: [send('s', email('견적서를 보내드려요', '<p>견적</p>'), 'w'), wait('w', { days: 5 }, 'end'), exit()],
  });
  const evs = { g1: [], g2: [], g3: [] };
  const track = async (u, e, p) => evs[u].push(await j.track(u, e, p));
  for (const u of Object.keys(evs)) await track(u, 'Quote Requested');
  await j.advance({ days: 1 });
  await track('g1', 'Order Completed', { revenue: 50000, currency: 'KRW' }); // within, big enough
  await track('g2', 'Order Completed', { revenue: 5000, currency: 'KRW' }); // too small
  await j.advance({ days: 1 });
  await track('g1', 'Order Completed', { revenue: 70000, currency: 'KRW' }); // converts once only
  await j.advance({ days: 2 });
  await track('g3', 'Order Completed', { revenue: 50000, currency: 'KRW' }); // day 4: outside the window
  await j.advance({ days: 2 });

  const goals = async (u) => (await j.timeline(u)).filter((e) => e.event === 'Goal Reached');
  const g1 = await goals('g1');
  assert.equal(g1.length, 1, 'Goal Reached once');
  assert.equal(g1[0].timestamp, iso(t0 + DAY));
  assert.deepEqual(g1[0].properties, { journey_id: 'goal-demo', journey_version: 1, node_id: 'w' });
  assert.deepEqual(await goals('g2'), []);
  assert.deepEqual(await goals('g3'), [], 'outside the window: no conversion');
  assert.deepEqual(await j.path('g1', 'goal-demo'), ['s', 'w', 'end'], 'a conversion does not end the journey');
  const stats = await j.stats('goal-demo');
  assert.equal(Object.values(stats).reduce((a, n) => a + n.converted, 0), 1);
  assert.equal(stats.w.converted, 1);

  const sim1 = await j.simulate('goal-demo', { user: { user_id: 'g1' }, events: evs.g1 });
  assert.equal(sim1.converted_at, iso(t0 + DAY));
  const sim3 = await j.simulate('goal-demo', { user: { user_id: 'g3' }, events: evs.g3 });
  assert.equal(sim3.converted_at, null);
});

test('branch on the condition language: clicked in the last 2 days → a different path', async () => {
  await j.toNextLocal('10:00');
  const t0 = j.now;
  await j.createLive('guide', {
    name: 'Guide follow-up',
    trigger: { type: 'event', event: 'Guide Downloaded' },
    quiet_hours: false,
    start: 'intro',
    nodes: [
      send('intro', email('가이드를 보내드려요', '<p>가이드</p>'), 'w'),
      wait('w', { days: 2 }, 'b'),
      {
        id: 'b', type: 'branch',
        branches: [
          { when: { event: 'Email Link Clicked', count: { op: 'gte', value: 1 }, within: { days: 2 } }, next: 'engaged' },
          { when: { trait: 'plan', op: 'eq', value: 'pro' }, next: 'pro' },
        ],
        else: 'nudge',
      },
      send('engaged', email('관심 가져 주셔서 감사해요', '<p>다음 단계</p>'), 'end'),
      send('pro', email('프로 플랜 전용 안내', '<p>pro</p>'), 'end'),
      send('nudge', email('가이드를 아직 못 보셨나요?', '<p>다시 보기</p>'), 'end'),
      exit(),
    ],
  });
  const evs = { clicker: [], oldclick: [], pro: [], quiet: [] };
  evs.oldclick.push(await j.track('oldclick', 'Email Link Clicked', { url: 'https://shop.example/a', link_kind: 'content' }));
  await j.advance({ days: 3 });
  const t1 = j.now;
  evs.pro.push(await j.identify('pro', { plan: 'pro' }));
  for (const u of Object.keys(evs)) evs[u].push(await j.track(u, 'Guide Downloaded'));
  await j.advance({ days: 1 });
  evs.clicker.push(await j.track('clicker', 'Email Link Clicked', { url: 'https://shop.example/g', link_kind: 'content' }));
  await j.advance({ days: 1 });

  const expectWay = { clicker: 'engaged', oldclick: 'nudge', pro: 'pro', quiet: 'nudge' };
  for (const [u, way] of Object.entries(expectWay)) {
    const steps = await j.steps(u, 'guide');
    assert.deepEqual(steps.map((s) => s.node), ['intro', 'w', 'b', way, 'end'], `path of ${u}`);
    assert.equal(steps[2].at, iso(t1 + 2 * DAY));
    if (way === 'engaged') assert.match(steps[2].reason, /^branch 1 held/);
    if (way === 'pro') assert.match(steps[2].reason, /^branch 2 held/);
    if (way === 'nudge') assert.equal(steps[2].reason, 'no branch held: else');
    assert.deepEqual(await j.sent(u, 'guide'), ['intro', way]);
    const sim = await j.simulate('guide', { user: { user_id: u }, events: evs[u] });
    assert.deepEqual(sim.path, asPath(steps), `simulated path of ${u}`);
  }
  assert.ok(t1 - t0 === 3 * DAY);
});

test('wait_event: the event moves the user on; without it the timeout branch', async () => {
  await j.toNextLocal('10:00');
  const t0 = j.now;
  await j.createLive('webinar', {
    name: 'Webinar follow-up',
    trigger: { type: 'event', event: 'Webinar Registered' },
    quiet_hours: false,
    start: 's',
    nodes: [
      send('s', email('웨비나 자료', '<p>자료</p>'), 'we'),
      { id: 'we', type: 'wait_event', event: 'Email Link Clicked', where: { property: 'link_kind', op: 'eq', value: 'purchase' },
        timeout: { days: 3 }, next: 'thanks', timeout_next: 'help' },
      send('thanks', email('구매 페이지를 보셨군요', '<p>감사</p>'), 'end'),
      send('help', email('도움이 필요하신가요?', '<p>상담</p>'), 'end'),
      exit(),
    ],
  });
  const evs = { buyer: [], idle: [] };
  for (const u of Object.keys(evs)) evs[u].push(await j.track(u, 'Webinar Registered'));
  await j.advance({ hours: 1 });
  evs.buyer.push(await j.track('buyer', 'Email Link Clicked', { link_kind: 'content', url: 'https://shop.example/blog' }));
  assert.deepEqual(await j.path('buyer', 'webinar'), ['s', 'we'], 'a click that does not match keeps waiting');
  await j.advance({ days: 1 });
  evs.buyer.push(await j.track('buyer', 'Email Link Clicked', { link_kind: 'purchase', url: 'https://shop.example/buy' }));
  await j.advance({ days: 3 });

  const b = await j.steps('buyer', 'webinar');
  assert.deepEqual(b.map((s) => s.node), ['s', 'we', 'we', 'thanks', 'end']);
  assert.equal(b[2].reason, 'Email Link Clicked happened');
  assert.equal(b[3].at, iso(t0 + DAY + HOUR));
  const i = await j.steps('idle', 'webinar');
  assert.deepEqual(i.map((s) => s.node), ['s', 'we', 'we', 'help', 'end'], 'the timeout branch');
  assert.equal(i[2].reason, 'no Email Link Clicked within 3 days: timeout');
  assert.equal(i[3].at, iso(t0 + 3 * DAY));
  assert.deepEqual(await j.sent('idle', 'webinar'), ['s', 'help']);
  for (const u of Object.keys(evs)) {
    const sim = await j.simulate('webinar', { user: { user_id: u }, events: evs[u] });
    assert.deepEqual(sim.path, asPath(await j.steps(u, 'webinar')), `simulated path of ${u}`);
  }
});

test('split is deterministic per user, with a holdout', async () => {
  await j.toNextLocal('10:00');
  await j.createLive('ab', {
    name: 'A/B 제목 실험',
    trigger: { type: 'manual' },
    quiet_hours: false,
    start: 'sp',
    nodes: [
      { id: 'sp', type: 'split', variants: [{ name: 'A', weight: 50, next: 'a' }, { name: 'B', weight: 50, next: 'b' }], holdout: 10 },
      send('a', email('A안: 오늘만 특가', '<p>A</p>')),
      send('b', email('B안: 놓치면 후회할 혜택', '<p>B</p>')),
    ],
  });
  const ids = Array.from({ length: 60 }, (_, i) => `ab-user-${i}`);
  expectStatus(await srv.track('/v1/batch', { batch: ids.map((u) => ({ type: 'identify', userId: u, traits: { n: 1 }, timestamp: iso(j.now) })) }), 200, 'identify');
  await j.barrier();
  const r = await srv.api('/api/v1/journeys/ab/enroll', { method: 'POST', body: { user_ids: ids } });
  assert.equal(expectStatus(r, 202, 'enroll').enrolled, 60);
  await j.settle();

  const count = { A: 0, B: 0, holdout: 0 };
  for (const u of ids) {
    const steps = await j.steps(u, 'ab');
    const sim = await j.simulate('ab', { user: { user_id: u }, events: [], start: iso(j.now) });
    assert.deepEqual(sim.path, asPath(steps), `${u}: the simulation picks the same variant`);
    const again = await j.simulate('ab', { user: { user_id: u }, events: [], start: iso(j.now + DAY) });
    assert.deepEqual(again.path.map((p) => p.reason), steps.map((s) => s.reason), `${u}: the same variant a day later`);
    const m = /^variant (A|B) |^holdout /.exec(steps[0].reason);
    assert.ok(m, steps[0].reason);
    const v = m[1] || 'holdout';
    count[v]++;
    assert.deepEqual(await j.sent(u, 'ab'), v === 'holdout' ? [] : [v.toLowerCase()]);
  }
  assert.ok(count.A > 10 && count.B > 10, JSON.stringify(count));
  assert.ok(count.holdout >= 1 && count.holdout <= 15, JSON.stringify(count));
  const stats = await j.stats('ab');
  assert.equal(stats.sp.entered, 60);
  assert.equal((stats.a?.entered ?? 0) + (stats.b?.entered ?? 0), 60 - count.holdout);
  assert.equal(stats.sp.exited, count.holdout, 'the holdout leaves at the split');
});

test('quiet hours: an advertising send decided at 22:00 KST is held until 08:00, never dropped', async () => {
  await j.toNextLocal('22:00');
  const t22 = j.now;
  await j.createLive('promo', {
    name: '프로모션',
    trigger: { type: 'event', event: 'Promo Viewed' },
    start: 's',
    nodes: [send('s', email('(광고) 주말 특가', '<p>특가</p>'), 'end'), exit()],
  });
  await j.createLive('notice', {
    name: '계정 안내',
    trigger: { type: 'event', event: 'Account Notice' },
    advertising: false,
    start: 's',
    nodes: [send('s', email('계정 보안 안내', '<p>안내</p>'), 'end'), exit()],
  });
  await j.identify('q-seoul', { first_name: '서준' });
  await j.identify('q-london', { first_name: 'Amy', timezone: 'Europe/London' });
  const evSeoul = await j.track('q-seoul', 'Promo Viewed');
  await j.track('q-info', 'Account Notice');
  await j.track('q-london', 'Promo Viewed'); // 13:00 in London

  const held = await j.steps('q-seoul', 'promo');
  assert.deepEqual(held.map((s) => s.node), ['s']);
  assert.match(held[0].reason, /^held by quiet hours \(21:00–08:00 local, advertising message\) until /);
  const release = t22 + 10 * HOUR; // 08:00 the next morning in Seoul
  assert.ok(held[0].reason.includes(iso(release)), held[0].reason);
  assert.deepEqual(await j.sent('q-seoul', 'promo'), []);
  assert.deepEqual((await j.messages('q-info', 'notice')).map((m) => [m.send_at, m.advertising]), [[iso(t22), false]],
    'an informational message is not held');
  assert.deepEqual((await j.messages('q-london', 'promo')).map((m) => m.send_at), [iso(t22)], 'quiet hours are the user\'s local time');

  await j.advance({ hours: 9, minutes: 59 });
  assert.deepEqual(await j.sent('q-seoul', 'promo'), [], 'still quiet at 07:59');
  await j.advance({ minutes: 1 });
  const msgs = await j.messages('q-seoul', 'promo');
  assert.deepEqual(msgs.map((m) => [m.journey.node, m.send_at]), [['s', iso(release)]], 'sent at 08:00, not dropped');
  assert.equal(msgs[0].content.subject, '(광고) 주말 특가');
  const steps = await j.steps('q-seoul', 'promo');
  assert.deepEqual(steps.map((s) => s.node), ['s', 's', 'end']);
  assert.match(steps[1].reason, /^sent email inline message/);
  const sim = await j.simulate('promo', { user: { user_id: 'q-seoul' }, events: [evSeoul] });
  assert.deepEqual(sim.path, asPath(steps));
});

test('stats count each user once per node (wait_event and held sends included)', async () => {
  // the webinar journey: two users each went through "we" once (a wait, then the event or the timeout)
  const web = await j.stats('webinar');
  assert.equal(web.s.entered, 2);
  assert.equal(web.thanks.entered + web.help.entered, 2);
  assert.equal(web.we.entered, 2, `we: ${JSON.stringify(web.we)}`);
  // the promo journey: q-seoul was held at "s" by quiet hours, then sent; q-london sent at once
  const promo = await j.stats('promo');
  assert.equal(promo.s.entered, 2, `s: ${JSON.stringify(promo.s)}`);
});

test('frequency caps per channel: wait holds the send, skip drops it', async () => {
  let r = await srv.api('/api/v1/settings/frequency_caps', { method: 'PUT', body: { value: { email: { max: 0, per: { days: 1 } } } } });
  assert.equal(r.status, 422);
  assert.equal(r.body.error.field, 'value.email');
  r = await srv.api('/api/v1/settings/nonsense', { method: 'PUT', body: { value: 1 } });
  assert.equal(r.status, 404);
  try {
    await j.toNextLocal('10:00');
    const t0 = j.now;
    r = await srv.api('/api/v1/settings/frequency_caps', { method: 'PUT', body: { value: { email: { max: 1, per: { days: 1 }, when_capped: 'wait' } } } });
    const set = expectStatus(r, 200, 'set caps');
    assert.equal(set.value.email.max, 1);
    assert.equal(set.value.email.when_capped, 'wait');
    const settings = expectStatus(await srv.api('/api/v1/settings'), 200, 'settings');
    assert.equal(settings.frequency_caps.email.max, 1);

    await j.createLive('capped', {
      name: 'Two emails at once',
      trigger: { type: 'event', event: 'Cap Test' },
      quiet_hours: false,
      start: 'first',
      nodes: [send('first', email('첫 번째 메일', '<p>1</p>'), 'second'), send('second', email('두 번째 메일', '<p>2</p>'), 'end'), exit()],
    });
    await j.track('cap-wait', 'Cap Test');
    let steps = await j.steps('cap-wait', 'capped');
    assert.deepEqual(steps.map((s) => s.node), ['first', 'second']);
    assert.match(steps[1].reason, /^held by the email frequency cap until /);
    assert.deepEqual(await j.sent('cap-wait', 'capped'), ['first']);
    await j.advance({ days: 1 });
    await j.advance({ minutes: 1 });
    const msgs = await j.messages('cap-wait', 'capped');
    assert.deepEqual(msgs.map((m) => m.journey.node), ['first', 'second'], 'held, then sent once the day is over');
    assert.ok(Date.parse(msgs[1].send_at) >= t0 + DAY, msgs[1].send_at);
    assert.ok(Date.parse(msgs[1].send_at) <= t0 + DAY + MINUTE, msgs[1].send_at);
    steps = await j.steps('cap-wait', 'capped');
    assert.deepEqual(steps.map((s) => s.node), ['first', 'second', 'second', 'end']);

    r = await srv.api('/api/v1/settings/frequency_caps', { method: 'PUT', body: { value: { email: { max: 1, per: { days: 1 }, when_capped: 'skip' } } } });
    expectStatus(r, 200, 'set caps to skip');
    await j.track('cap-skip', 'Cap Test');
    steps = await j.steps('cap-skip', 'capped');
    assert.deepEqual(steps.map((s) => s.node), ['first', 'second', 'end']);
    assert.equal(steps[1].reason, 'skipped: the email frequency cap is reached');
    assert.deepEqual(await j.sent('cap-skip', 'capped'), ['first']);
  } finally {
    expectStatus(await srv.api('/api/v1/settings/frequency_caps', { method: 'PUT', body: { value: {} } }), 200, 'clear caps');
  }
});

test('enrolment via POST …/enroll', async () => {
  await j.toNextLocal('10:00');
  const def = {
    name: 'VIP 초대',
    trigger: { type: 'manual' },
    quiet_hours: false,
    start: 's',
    nodes: [send('s', email('{{ user.first_name }}님을 VIP로 초대합니다', '<p>초대</p>'), 'end'), exit()],
  };
  await j.create('vip', def);
  let r = await srv.api('/api/v1/journeys/vip/enroll', { method: 'POST', body: { user_id: 'm1' } });
  assert.equal(r.status, 409, 'a draft takes no one');
  await j.publish('vip');
  for (const [u, n] of [['m1', '하은'], ['m2', '시우'], ['m3', '수아']]) await j.identify(u, { first_name: n });

  r = await srv.api('/api/v1/journeys/vip/enroll', { method: 'POST', body: { user_id: 'm1' } });
  assert.deepEqual(expectStatus(r, 202, 'enroll one'), { journey_id: 'vip', enrolled: 1, unknown: [] });
  r = await srv.api('/api/v1/journeys/vip/enroll', { method: 'POST', body: { user_ids: ['m2', 'm3', 'nobody'] } });
  assert.deepEqual(expectStatus(r, 202, 'enroll many'), { journey_id: 'vip', enrolled: 2, unknown: ['nobody'] });
  r = await srv.api('/api/v1/journeys/vip/enroll', { method: 'POST', body: { user_id: 'ghost' } });
  assert.equal(r.status, 404);
  assert.equal(r.body.error.code, 'user_not_found');
  r = await srv.api('/api/v1/journeys/vip/enroll', { method: 'POST', body: {} });
  assert.equal(r.status, 422);
  r = await srv.api('/api/v1/journeys/vip/enroll', { method: 'POST', body: { user_ids: ['m1', 7] } });
  assert.equal(r.status, 422);
  assert.equal(r.body.error.field, 'user_ids[1]');
  r = await srv.api('/api/v1/journeys/vip/enroll', { method: 'POST', body: { segment: 'no-such-segment' } });
  assert.equal(r.status, 404);
  r = await srv.api('/api/v1/journeys/nope/enroll', { method: 'POST', body: { user_id: 'm1' } });
  assert.equal(r.status, 404);
  await j.settle();

  const m1 = await j.messages('m1', 'vip');
  assert.deepEqual(m1.map((m) => m.content.subject), ['하은님을 VIP로 초대합니다']);
  assert.deepEqual(await j.sent('m2', 'vip'), ['s']);
  assert.deepEqual(await j.sent('m3', 'vip'), ['s']);
  // enrolling again respects the re-entry policy (never)
  r = await srv.api('/api/v1/journeys/vip/enroll', { method: 'POST', body: { user_id: 'm1' } });
  expectStatus(r, 202, 'enroll again');
  await j.settle();
  assert.equal((await j.messages('m1', 'vip')).length, 1);
  assert.deepEqual(await j.path('m1', 'vip'), ['s', 'end']);
});

test('GET /api/v1/messages pages through the outbox and filters', async () => {
  const all = await j.messages(null, 'welcome');
  assert.ok(all.length >= 8, `welcome messages: ${all.length}`);
  const seen = [];
  let cursor = null;
  for (let i = 0; i < 500; i++) {
    const qs = new URLSearchParams({ journey_id: 'welcome', limit: '3' });
    if (cursor) qs.set('cursor', cursor);
    const b = expectStatus(await srv.api(`/api/v1/messages?${qs}`), 200, 'page');
    assert.ok(b.data.length <= 3);
    seen.push(...b.data.map((m) => m.id));
    cursor = b.next_cursor;
    if (!cursor) break;
  }
  assert.equal(seen.length, all.length);
  assert.equal(new Set(seen).size, seen.length, 'no message twice across pages');
  assert.ok(all.every((m) => m.journey.id === 'welcome'));
  const mine = await j.messages('minsu');
  assert.ok(mine.every((m) => m.user_id === 'minsu'));
  let r = await srv.api('/api/v1/messages?user_id=no-such-user');
  assert.equal(r.status, 404);
  r = await srv.api('/api/v1/messages?cursor=garbage');
  assert.equal(r.status, 400);
  r = await srv.api('/api/v1/messages', { auth: null });
  assert.equal(r.status, 401);
  r = await srv.api('/api/v1/users/no-such-user/journeys');
  assert.equal(r.status, 404);
});

test('graph export: Graphviz DOT and Mermaid', async () => {
  let r = await srv.api('/api/v1/journeys/webinar/graph');
  expectStatus(r, 200, 'dot');
  assert.match(r.headers.get('content-type'), /text\/vnd\.graphviz/);
  assert.match(r.text, /^digraph/);
  for (const id of ['s', 'we', 'thanks', 'help']) assert.ok(r.text.includes(`"${id}"`), `node ${id} in ${r.text}`);
  assert.match(r.text, /"we" -> "help" \[label="[^"]*timeout[^"]*"\]/);
  r = await srv.api('/api/v1/journeys/guide/graph?format=mermaid');
  expectStatus(r, 200, 'mermaid');
  assert.match(r.text, /^flowchart/);
  assert.ok(r.text.includes('b -->'), r.text);
  r = await srv.api('/api/v1/journeys/upsell/graph?version=1');
  expectStatus(r, 200, 'graph of version 1');
  assert.ok(!r.text.includes('nudge'), 'version 1 had no nudge');
  r = await srv.api('/api/v1/journeys/upsell/graph?version=2');
  assert.ok(r.text.includes('nudge'));
  r = await srv.api('/api/v1/journeys/webinar/graph?format=png');
  assert.equal(r.status, 400);
  r = await srv.api('/api/v1/journeys/no-such-journey/graph');
  assert.equal(r.status, 404);
});

test('validation: 422 names the JSON path; publish lists every problem', async () => {
  const base = { name: 'Bad', trigger: { type: 'event', event: 'Never Happens' }, start: 'a' };
  const cases = [
    [{ ...base, nodes: [send('a', email('x', 'y'), 'b'), wait('b', { days: 1 }, 'nope')] }, 'definition.nodes[1].next'],
    [{ ...base, nodes: [{ id: 'a', type: 'teleport' }] }, 'definition.nodes[0].type'],
    [{ ...base, nodes: [{ id: 'a', type: 'branch', branches: [{ when: { trait: 'plan', op: 'equals', value: 'x' }, next: 'z' }], else: 'z' }, exit('z')] },
      'definition.nodes[0].branches[0].when.op'],
    [{ ...base, nodes: [wait('a', { fortnights: 1 }, 'z'), exit('z')] }, 'definition.nodes[0].duration.fortnights'],
    [{ name: 'Bad', start: 'a', nodes: [exit('a')] }, 'definition.trigger'],
    [{ ...base, entry: { reentry: 'sometimes' }, nodes: [exit('a')] }, 'definition.entry.reentry'],
    [{ ...base, nodes: [send('a', email('x', 'y'), 'z', { channel: 'pigeon' }), exit('z')] }, 'definition.nodes[0].channel'],
  ];
  for (const [def, field] of cases) {
    const r = await srv.api('/api/v1/journeys', { method: 'POST', body: { definition: def } });
    assert.equal(r.status, 422, `${field}: ${r.status} ${r.text}`);
    assert.equal(r.body.error.code, 'invalid_journey');
    assert.equal(r.body.error.field, field);
    assert.ok(r.body.error.message.length > 10);
  }

  // parses, but cannot be published
  await j.create('broken', {
    ...base,
    nodes: [
      send('a', 'no-such-template', 'b'),
      { id: 'b', type: 'branch', branches: [{ when: { all: [{ trait: 'plan', op: 'eq', value: 'pro' }, { trait: 'plan', op: 'eq', value: 'free' }] }, next: 'a' }], else: 'c' },
      { id: 'c', type: 'send', channel: 'email', template: email('x', 'y'), next: 'b' },
      exit('orphan'),
    ],
  });
  const v = expectStatus(await srv.api('/api/v1/journeys/broken/validate', { method: 'POST', body: {} }), 200, 'validate');
  assert.equal(v.ok, false);
  const codes = v.problems.map((p) => p.code).sort();
  assert.deepEqual(codes, ['condition_never_holds', 'loop_without_wait', 'missing_template', 'unreachable_node']);
  const r = await srv.api('/api/v1/journeys/broken/publish', { method: 'POST' });
  assert.equal(r.status, 422);
  assert.equal(r.body.error.code, 'invalid_journey');
  assert.deepEqual(r.body.error.problems, v.problems);
  const byCode = Object.fromEntries(r.body.error.problems.map((p) => [p.code, p]));
  assert.equal(byCode.missing_template.node, 'a');
  assert.equal(byCode.missing_template.field, 'nodes[0].template');
  assert.equal(byCode.unreachable_node.node, 'orphan');
  assert.equal(byCode.condition_never_holds.field, 'nodes[1].branches[0].when');
  assert.match(byCode.loop_without_wait.message, /loop/);
  const jget = await j.journey('broken');
  assert.equal(jget.status, 'draft');
  assert.equal(jget.live_version, 0, 'nothing was published');
  // the same checks on an unsaved definition
  const ok = expectStatus(await srv.api('/api/v1/journeys/broken/validate', {
    method: 'POST', body: { definition: { ...base, nodes: [send('a', 'welcome-intro', 'z'), exit('z')] } },
  }), 200, 'validate a good one');
  assert.deepEqual(ok, { ok: true, problems: [] });

  // simulation input errors name their path too
  let s = await srv.api('/api/v1/journeys/welcome/simulate', { method: 'POST', body: { events: [{ event: 'Signed Up', timestamp: 'yesterday' }] } });
  assert.equal(s.status, 422);
  assert.equal(s.body.error.field, 'events[0].timestamp');
  s = await srv.api('/api/v1/journeys/welcome/simulate', { method: 'POST', body: { user: { traits: [] } } });
  assert.equal(s.status, 422);
  assert.equal(s.body.error.field, 'user.traits');
});

test('archive: users leave, the journey is listed only with ?archived=1', async () => {
  await j.toNextLocal('10:00');
  await j.createLive('to-archive', {
    name: 'Short-lived',
    trigger: { type: 'event', event: 'Archive Test' },
    quiet_hours: false,
    start: 'w',
    nodes: [wait('w', { days: 3 }, 's'), send('s', email('x', 'y'), 'end'), exit()],
  });
  await j.track('arch-1', 'Archive Test');
  assert.equal((await j.stats('to-archive')).w.waiting, 1);
  const r = await srv.api('/api/v1/journeys/to-archive', { method: 'DELETE' });
  assert.equal(expectStatus(r, 200, 'archive').status, 'archived');
  const list = expectStatus(await srv.api('/api/v1/journeys?limit=1000'), 200, 'list');
  assert.ok(!list.data.some((x) => x.id === 'to-archive'));
  const arch = expectStatus(await srv.api('/api/v1/journeys?archived=1'), 200, 'list archived');
  assert.ok(arch.data.some((x) => x.id === 'to-archive'));
  await j.advance({ days: 4 });
  assert.deepEqual(await j.sent('arch-1', 'to-archive'), [], 'an archived journey sends nothing');
  assert.equal((await j.stats('to-archive')).w.waiting, 0);
  await j.track('arch-1', 'Archive Test');
  // the wait, then the exit the archive recorded at the same node; no new entry
  assert.deepEqual(await j.path('arch-1', 'to-archive'), ['w', 'w'], 'and takes no one');
});

test('webhook, slack, send variants, wait until a local time, goal node: as simulated', async () => {
  await j.toNextLocal('10:00');
  const t0 = j.now;
  await j.createLive('ops', {
    name: 'Ops notifications',
    trigger: { type: 'event', event: 'Demo Booked' },
    quiet_hours: false,
    start: 'v',
    nodes: [
      { id: 'v', type: 'send', channel: 'email', next: 'u',
        variants: [{ name: 'A', weight: 1, template: email('데모 예약 확인 A', '<p>A</p>') }, { name: 'B', weight: 1, template: email('데모 예약 확인 B', '<p>B</p>') }] },
      { id: 'u', type: 'wait', until: { time: '09:00' }, next: 'wh' },
      { id: 'wh', type: 'webhook', url: 'https://hooks.example.com/demo', body: '{"user":"{{ user.id }}","plan":"{{ user.plan }}"}', next: 'sl' },
      { id: 'sl', type: 'slack', channel: '#sales', text: '{{ user.id }}님 데모 예약', next: 'g' },
      { id: 'g', type: 'goal', next: 'end' },
      exit(),
    ],
  });
  const evs = [await j.identify('ops-1', { plan: 'pro' }), await j.track('ops-1', 'Demo Booked')];
  await j.advance({ days: 1 });
  const steps = await j.steps('ops-1', 'ops');
  assert.deepEqual(steps.map((s) => s.node), ['v', 'u', 'wh', 'sl', 'g', 'end']);
  assert.equal(steps[2].at, iso(t0 + 23 * HOUR), 'until 09:00 the next morning, Seoul time');
  const msgs = await j.messages('ops-1', 'ops');
  const by = Object.fromEntries(msgs.map((m) => [m.journey.node, m]));
  assert.ok(['A', 'B'].includes(by.v.journey.variant));
  assert.equal(by.v.content.subject, `데모 예약 확인 ${by.v.journey.variant}`);
  assert.deepEqual(by.wh.content, { body: '{"user":"ops-1","plan":"pro"}', url: 'https://hooks.example.com/demo' });
  assert.equal(by.wh.channel, 'webhook');
  assert.deepEqual(by.sl.content, { text: 'ops-1님 데모 예약', channel: '#sales' });
  const goal = (await j.timeline('ops-1')).filter((e) => e.event === 'Goal Reached');
  assert.deepEqual(goal.map((e) => e.properties), [{ journey_id: 'ops', journey_version: 1, node_id: 'g' }]);
  const sim = await j.simulate('ops', { user: { user_id: 'ops-1' }, events: evs });
  assert.deepEqual(sim.path, asPath(steps));
  assert.equal(sim.converted_at, iso(t0 + 23 * HOUR));
  // the same user always gets the same content variant
  const again = await j.simulate('ops', { user: { user_id: 'ops-1' }, events: evs.map((e) => ({ ...e, timestamp: iso(t0 + 9 * DAY) })) });
  assert.equal(again.messages[0].variant, by.v.journey.variant);
});

test('an anonymous visitor who enters and is then identified keeps going in the journey', async () => {
  await j.toNextLocal('10:00');
  const t0 = j.now;
  await j.createLive('anon-cart', {
    name: 'Anonymous cart',
    trigger: { type: 'event', event: 'Anon Checkout' },
    quiet_hours: false,
    start: 'w',
    nodes: [wait('w', { hours: 2 }, 's'), send('s', email('장바구니를 확인하세요', '<p>cart</p>'), 'end'), exit()],
  });
  await j.identify('known-buyer', { first_name: '민준' }); // signed up earlier on another device
  expectStatus(await srv.track('/v1/track', { anonymousId: 'anon-device-7', event: 'Anon Checkout', timestamp: iso(j.now) }), 200, 'anonymous track');
  await j.barrier();
  assert.deepEqual(await j.path('anon-device-7', 'anon-cart'), ['w']);
  await j.advance({ hours: 1 });
  // logs in: the anonymous profile merges into the known one
  expectStatus(await srv.track('/v1/identify', { userId: 'known-buyer', anonymousId: 'anon-device-7', timestamp: iso(j.now) }), 200, 'identify');
  await j.barrier();
  await j.advance({ hours: 2 });
  const msgs = await j.messages('known-buyer', 'anon-cart');
  assert.deepEqual(msgs.map((m) => [m.journey.node, m.send_at]), [['s', iso(t0 + 2 * HOUR)]], 'the step due after the merge happens');
  assert.deepEqual(await j.path('known-buyer', 'anon-cart'), ['w', 's', 'end']);
  assert.equal((await j.stats('anon-cart')).w.waiting, 0, 'no one is left waiting on a merged-away profile');
});

test('every way out emits Journey Exited with its reason (archive, migrate)', async () => {
  // CONVENTIONS §3: Journey Exited is one of the events the system emits; the
  // users the archive and migrate tests above saw leave
  const exits = async (u, jid) => (await j.timeline(u)).filter((e) => e.event === 'Journey Exited' && e.properties.journey_id === jid)
    .map((e) => e.properties.reason);
  assert.deepEqual(await exits('arch-1', 'to-archive'), ['archived']);
  const mig = await exits('mig-far', 'mig');
  assert.equal(mig.length, 1, JSON.stringify(mig));
  assert.match(mig[0], /^migrated: node (w2 )?removed$/);
});

// The update node has its own server: it writes the profile and logs what it did.
test('update node: tags, traits and lifecycle visible on the profile', async () => {
  const own = await startServer({ extraArgs: ['--virtual-clock', START] });
  try {
    const k = journeyKit(own, START);
    await k.createLive('upd', {
      name: '세미나 참석자',
      trigger: { type: 'event', event: 'Webinar Attended' },
      quiet_hours: false,
      start: 'u',
      nodes: [
        { id: 'u', type: 'update', tags_add: ['interest:marketing', '관심:세미나'], tags_remove: ['cold-lead'],
          set: { plan: 'trial', 등급: '실버' }, lifecycle: 'mql', next: 's' },
        send('s', email('{{ user.등급 }} 등급이 되셨어요', '<p>{{ user.plan }}</p>'), 'end'),
        exit(),
      ],
    });
    await k.identify('upd-1', { plan: 'free', first_name: '지호' });
    expectStatus(await own.api('/api/v1/users/upd-1/tags', { method: 'POST', body: { add: ['cold-lead'] } }), 200, 'tag');
    await k.barrier();
    await k.track('upd-1', 'Webinar Attended'); // waits (at most 2 s) until the engine applied it
    const p = await own.user('upd-1');
    assert.ok(!own.stderrTail(50).includes('engine batch failed'), `the engine is stuck:\n${own.stderrTail(2)}`);
    assert.deepEqual([...p.tags].sort(), ['interest:marketing', '관심:세미나'].sort(), `tags: ${JSON.stringify(p.tags)}`);
    assert.equal(p.traits.plan, 'trial');
    assert.equal(p.traits.등급, '실버');
    assert.equal(p.traits.first_name, '지호');
    assert.equal(p.lifecycle_stage, 'mql');
    const steps = await k.steps('upd-1', 'upd');
    assert.deepEqual(steps.map((s) => s.node), ['u', 's', 'end']);
    assert.equal(steps[0].reason, 'profile updated');
    const msgs = await k.messages('upd-1', 'upd');
    assert.equal(msgs[0]?.content.subject, '실버 등급이 되셨어요', 'the next step sees the updated traits');
    // the engine keeps going for everyone else
    await k.track('upd-2', 'Webinar Attended');
    assert.deepEqual(await k.path('upd-2', 'upd'), ['u', 's', 'end']);
    assert.ok(!own.stderrTail(50).includes('engine batch failed'), own.stderrTail(5));
  } finally {
    await own.close();
  }
});

// Many anonymous users in a wait, then merged into known profiles: their timers
// come due for instances whose profile is gone. The engine must still go on.
test('a thousand instances of merged-away profiles do not stop the engine', async () => {
  const own = await startServer({ extraArgs: ['--virtual-clock', START] });
  try {
    const k = journeyKit(own, START);
    await k.createLive('anon-wait', {
      name: 'Anonymous wait',
      trigger: { type: 'event', event: 'Anon Start' },
      quiet_hours: false,
      start: 'w',
      nodes: [wait('w', { hours: 2 }, 's'), send('s', email('x', 'y'), 'end'), exit()],
    });
    const N = 1001; // more than one tick batch (JNY_TICK_BATCH)
    const ts = iso(k.now);
    const batch = (f) => Array.from({ length: N }, (_, i) => f(i));
    expectStatus(await own.track('/v1/batch', { batch: batch((i) => ({ type: 'identify', userId: `known-${i}`, traits: { n: i }, timestamp: ts })) }), 200, 'known users');
    expectStatus(await own.track('/v1/batch', { batch: batch((i) => ({ type: 'track', anonymousId: `anon-${i}`, event: 'Anon Start', timestamp: ts })) }), 200, 'anonymous entries');
    await k.barrier();
    assert.equal((await k.stats('anon-wait')).w.waiting, N);
    expectStatus(await own.track('/v1/batch', { batch: batch((i) => ({ type: 'identify', userId: `known-${i}`, anonymousId: `anon-${i}`, timestamp: ts })) }), 200, 'log in');
    await k.barrier();
    const t = Date.now();
    await k.advance({ hours: 3 });
    const ms = Date.now() - t;
    await k.track('fresh', 'Anon Start');
    const r = await own.api('/api/v1/users/fresh/journeys');
    assert.equal(r.status, 200, `an event after the timers came due is never applied: ${r.text}`);
    assert.deepEqual(r.body.steps.map((s) => s.node), ['w']);
    assert.ok(ms < 5000, `the clock took ${ms} ms to answer`);
  } finally {
    await own.kill9().catch(() => {});
    await own.close();
  }
});
