// The journey builder's main flow in a real browser, in order, on one server
// with a virtual clock: log in; draw seed 001's welcome series by dragging
// steps from the palette and connecting their handles; a broken graph gets its
// error on the node, then validates clean; the simulation steps through the
// path with the canvas lighting up; publish; a real user signs up through the
// Tracking API and the node counts move, also when the clock jumps two days;
// the user's profile shows the journey steps; everything again in Korean.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer } from '../e2e/lib/server.mjs';
import { journeyKit, expectStatus } from '../e2e/lib/journeys.mjs';
import { launch, newPageWith, login, screenshot, waitForText } from './lib/browser.mjs';

const START = '2026-03-02T10:00:00+09:00'; // a Monday, 10:00 in Seoul: outside quiet hours
const USER = 'u-hana';

// The welcome series (docs/journeys.md "An example", seed 001), as drawn: node
// id, palette type, where it goes on the canvas (flow coordinates of its top
// left corner: two columns under the trigger), and its settings.
const COL_L = -130;
const COL_R = 150;
const ROWS = [125, 230, 335, 440];
const STEPS = [
  { id: 'intro', type: 'send', at: [COL_L, ROWS[0]], subject: 'brand intro' },
  { id: 'd2', type: 'wait', at: [COL_L, ROWS[1]], days: 2 },
  { id: 'top3', type: 'send', at: [COL_L, ROWS[2]], subject: 'top 3' },
  { id: 'd5', type: 'wait', at: [COL_L, ROWS[3]], days: 3 },
  { id: 'problem', type: 'send', at: [COL_R, ROWS[0]], subject: 'problem solving' },
  { id: 'd7', type: 'wait', at: [COL_R, ROWS[1]], days: 2 },
  { id: 'reviews', type: 'send', at: [COL_R, ROWS[2]], subject: 'reviews + offer' },
  { id: 'done', type: 'exit', at: [COL_R, ROWS[3]] },
];
const html = (subject) => `<p>${subject}</p>`;

// What the simulator answers for a user who signs up at START (Asia/Seoul).
const SENT = 'sent email inline message';
const SIM_PATH = [
  ['intro', SENT],
  ['d2', 'waiting 2 days, until 2026-03-04T01:00:00.000Z (Wed 10:00 Asia/Seoul)'],
  ['top3', SENT],
  ['d5', 'waiting 3 days, until 2026-03-07T01:00:00.000Z (Sat 10:00 Asia/Seoul)'],
  ['problem', SENT],
  ['d7', 'waiting 2 days, until 2026-03-09T01:00:00.000Z (Mon 10:00 Asia/Seoul)'],
  ['reviews', SENT],
  ['done', 'exit'],
];

describe('browser: build, simulate and run the welcome series', () => {
  let srv, kit, browser, page, jid, outbox;

  before(async () => {
    srv = await startServer({ extraArgs: ['--virtual-clock', START] });
    kit = journeyKit(srv, START);
    outbox = join(srv.dataDir, 'outbox');
    // the file provider (docs/delivery.md): every email sent lands in <path>/email.jsonl
    expectStatus(
      await srv.api('/api/v1/providers', {
        method: 'POST',
        body: {
          channel: 'email', type: 'file', name: 'Dev outbox', path: outbox,
          from: 'Shop <shop@example.com>', sender_info: 'Shop Inc., 1 Sejong-daero, Seoul, 02-123-4567',
        },
      }),
      201,
      'add the file provider',
    );
    browser = await launch();
    // Seoul, like the workspace: the simulation's event time is typed as a local time
    page = await newPageWith(browser, { timezoneId: 'Asia/Seoul' });
    page.setDefaultTimeout(10000);
  });
  after(async () => {
    await browser?.close();
    await srv?.close();
  });

  const canvas = () => page.getByTestId('journey-canvas');
  const panel = () => page.getByTestId('node-panel');
  const node = (id) => page.getByTestId('jnode-' + id);

  /** The canvas transform: screen = pane's corner + (tx, ty) + s * flow. */
  async function viewport() {
    const style = await page.locator('.react-flow__viewport').getAttribute('style');
    const m = /translate\(([-\d.]+)px,\s*([-\d.]+)px\)\s*scale\(([-\d.]+)\)/.exec(style || '');
    assert.ok(m, `the canvas has a transform: ${style}`);
    const pane = await page.locator('.react-flow').boundingBox();
    return { x: pane.x + Number(m[1]), y: pane.y + Number(m[2]), s: Number(m[3]) };
  }
  async function waitForZoom(s) {
    await page.waitForFunction(
      (want) => {
        const m = /scale\(([-\d.]+)\)/.exec(document.querySelector('.react-flow__viewport')?.getAttribute('style') || '');
        return m && Math.abs(Number(m[1]) - want) < 0.001;
      },
      s,
    );
  }

  /** Drags a palette step onto the canvas so that its card's top-left corner lands at flow (fx, fy). */
  async function dropStep(type, [fx, fy]) {
    const v = await viewport();
    const box = await canvas().boundingBox();
    // the builder puts the card's corner at (drop − (110, 30)) in flow units (JourneyBuilder onDrop)
    const x = v.x + v.s * (fx + 110) - box.x;
    const y = v.y + v.s * (fy + 30) - box.y;
    await page.getByTestId('palette-' + type).dragTo(canvas(), { targetPosition: { x, y } });
  }

  /** The canvas id (uid) of the node shown as `id` (it keeps the id it was made with). */
  const uidOf = (id) => node(id).locator('xpath=ancestor::div[contains(concat(" ", @class, " "), " react-flow__node ")][1]').getAttribute('data-id');
  const edge = async (fromId, handle = 'next') => page.locator(`[data-testid="rf__edge-${await uidOf(fromId)}|${handle}"]`);

  /** Connects two nodes by dragging from the source handle of `fromId` to the target handle of `toId`. */
  async function connect(fromId, toId) {
    const a = await node(fromId).locator('.react-flow__handle.source').first().boundingBox();
    const b = await node(toId).locator('.react-flow__handle.target').boundingBox();
    await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
    await page.mouse.down();
    await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2, { steps: 5 });
    await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 5 });
    await page.mouse.up();
    await (await edge(fromId)).waitFor({ state: 'attached' });
  }

  async function validateOk() {
    await page.getByTestId('btn-validate').click();
    await page.getByRole('status').filter({ hasText: 'No problems: this journey can be published.' }).waitFor();
    assert.equal(await page.getByTestId('problem').count(), 0, 'no problems listed');
    assert.equal(await page.locator('[data-testid^="node-error-"]').count(), 0, 'no node shows an error');
  }

  // selects a card with the keyboard (focus + Enter, as xyflow offers): unlike a click at a
  // point, it cannot miss when a message above the canvas comes or goes meanwhile
  async function selectNode(id) {
    await node(id).locator('xpath=ancestor::div[contains(concat(" ", @class, " "), " react-flow__node ")][1]').press('Enter');
    await node(id).and(page.locator('.is-selected')).waitFor();
    await panel().waitFor();
    assert.equal(await panel().getByLabel('Node id').inputValue(), id);
  }

  test('a. log in through the form', async () => {
    await login(page, srv);
    await page.getByRole('link', { name: 'Journeys', exact: true }).waitFor();
  });

  test('b. draw the welcome series by drag and drop', async () => {
    await page.getByRole('link', { name: 'Journeys', exact: true }).click();
    await page.getByTestId('btn-new-journey').click();
    await page.waitForURL(/\/journeys\/[^/]+$/);
    jid = decodeURIComponent(new URL(page.url()).pathname.split('/').pop());
    await node('end').waitFor();
    await waitForZoom(1.2); // the first fitView of a new journey (its maxZoom)

    // the trigger, in the journey settings: an event, "Signed Up"
    await page.getByTestId('btn-journey-settings').click();
    const settings = page.getByTestId('settings-panel');
    await settings.getByLabel('Name *', { exact: true }).fill('Welcome series');
    assert.equal(await settings.getByLabel('Starts when *').inputValue(), 'event');
    await settings.getByLabel('Event name *', { exact: true }).fill('');
    await settings.getByLabel('Event name *', { exact: true }).fill('Signed Up');
    await page.getByRole('heading', { level: 1, name: 'Welcome series' }).waitFor();
    await node('@trigger').filter({ hasText: 'An event happens: Signed Up' }).waitFor();

    // a new journey comes with one exit step: remove it, the series is drawn from the palette
    await node('end').click();
    await panel().getByRole('button', { name: 'Delete this step' }).click();
    await node('end').waitFor({ state: 'detached' });

    // room for two columns of steps: zoom out twice (xyflow's buttons, ×1/1.2 each)
    await page.locator('.react-flow__controls-zoomout').click();
    await waitForZoom(1);
    await page.locator('.react-flow__controls-zoomout').click();
    await waitForZoom(1 / 1.2);

    for (const st of STEPS) {
      const before = await page.locator('.react-flow__node').count();
      await dropStep(st.type, st.at);
      await page.locator('.react-flow__node').nth(before).waitFor(); // one card more
      // the new step is selected: its panel is open
      const p = panel();
      await p.getByRole('heading', { name: st.type === 'send' ? 'Send message step' : st.type === 'wait' ? 'Wait step' : 'Exit step' }).waitFor();
      await p.getByLabel('Node id').fill(st.id);
      await node(st.id).waitFor();
      if (st.type === 'send') {
        assert.equal(await p.getByLabel('Channel *').inputValue(), 'email');
        await p.getByLabel('Subject *', { exact: true }).fill(st.subject);
        await p.getByLabel('HTML', { exact: true }).fill(html(st.subject));
        await p.getByLabel('Text', { exact: true }).fill(''); // the text part is made from the HTML
        await node(st.id).filter({ hasText: 'Email · inline message' }).waitFor();
      } else if (st.type === 'wait') {
        await p.getByLabel('Wait for: days').fill(String(st.days));
        await waitForText(node(st.id).locator('.jnode-summary'), `${st.days} d`);
      }
    }
    // the first step dropped on a canvas without steps became the start (the trigger points at it)
    await node('intro').filter({ hasText: 'Start' }).waitFor();
    await page.locator('[data-testid="rf__edge-@trigger|start"]').waitFor({ state: 'attached' });

    // connect the steps by dragging handle to handle (all but the last: see c.)
    for (let i = 0; i < STEPS.length - 2; i++) await connect(STEPS[i].id, STEPS[i + 1].id);
    await screenshot(page, '10-journey-drawn');
  });

  test('c. save and validate: a broken graph shows its error on the node; fixed, no errors', async () => {
    // "done" is not connected yet: nothing leads to it
    await page.getByTestId('btn-validate').click();
    await waitForText(page.getByTestId('node-error-done'), /no path from the start node "intro" leads here/);
    await page.getByRole('heading', { name: 'Problems (1)' }).waitFor();
    assert.equal(await page.locator('[data-testid^="node-error-"]').count(), 1, 'only the unreachable node is marked');
    await connect('reviews', 'done');

    // a send step without a template: the server refuses it, the error is on the node and at the field
    await selectNode('top3');
    await panel().getByRole('radio', { name: 'Saved template' }).check();
    await page.getByTestId('btn-validate').click();
    const missing = /"template" is empty: give the template id\./;
    await waitForText(page.getByTestId('node-error-top3'), missing);
    await panel().locator('.field-message').filter({ hasText: missing }).waitFor();
    await page.getByRole('alert').filter({ hasText: missing }).first().waitFor(); // the API's error, in words
    await screenshot(page, '11-journey-error-on-node');

    // fixed: the message written here again
    await panel().getByRole('radio', { name: 'Write it here' }).check();
    await panel().getByLabel('Subject *', { exact: true }).fill('top 3');
    await panel().getByLabel('HTML', { exact: true }).fill(html('top 3'));
    await page.getByTestId('node-error-top3').waitFor({ state: 'detached' });
    await panel().getByRole('button', { name: 'Close' }).click();

    await page.getByTestId('btn-save').click();
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    await page.getByTestId('dirty').waitFor({ state: 'detached' });
    await validateOk();

    // what was saved is the welcome series, as drawn
    const j = await kit.journey(jid);
    const def = j.definition;
    assert.equal(j.name, 'Welcome series');
    assert.equal(j.status, 'draft');
    assert.deepEqual(def.trigger, { type: 'event', event: 'Signed Up' });
    assert.equal(def.start, 'intro');
    assert.deepEqual(
      def.nodes.map((n) => [n.id, n.type, n.next ?? null]),
      STEPS.map((s, i) => [s.id, s.type, STEPS[i + 1]?.id ?? null]),
    );
    for (const s of STEPS) {
      const n = def.nodes.find((x) => x.id === s.id);
      if (s.type === 'send') {
        assert.equal(n.channel, 'email');
        assert.deepEqual(n.template, { subject: s.subject, html: html(s.subject) }, `${s.id}'s inline email`);
      }
      if (s.type === 'wait') assert.deepEqual(n.duration, { days: s.days }, `${s.id}'s duration`);
      assert.ok(def.layout[s.id], `${s.id} has a position`);
    }

    await page.getByTestId('btn-autolayout').click();
    await page.getByTestId('btn-save').click();
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    await screenshot(page, '12-journey-built');
    assert.deepEqual(page.errors, []);
  });

  // The publish checks look inside inline templates as a save would: an email step with
  // no subject, or with Liquid that does not parse, is marked on its node.
  async function validateMarks(id) {
    await page.getByTestId('btn-validate').click();
    // the verdict: the node marked, or "no problems" (the banner before this was "Saved.")
    await page.getByTestId('node-error-' + id).or(page.getByRole('status').filter({ hasText: 'No problems' })).first().waitFor();
    assert.equal(await page.getByTestId('node-error-' + id).count(), 1, `${id} is marked`);
  }
  async function restoreIntro() {
    await selectNode('intro');
    await panel().getByLabel('Subject *', { exact: true }).fill('brand intro');
    await panel().getByLabel('HTML', { exact: true }).fill(html('brand intro'));
    await panel().getByRole('button', { name: 'Close' }).click();
    await page.getByTestId('btn-save').click();
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    await page.getByTestId('dirty').waitFor({ state: 'detached' });
    assert.deepEqual((await kit.journey(jid)).definition.nodes[0].template, { subject: 'brand intro', html: html('brand intro') });
  }

  test('c2. an email step whose subject is emptied is marked on the node', async () => {
    await selectNode('intro');
    try {
      await panel().getByLabel('Subject *', { exact: true }).fill('');
      await validateMarks('intro');
    } finally {
      await restoreIntro();
    }
  });

  test('c3. an email step whose HTML has unclosed Liquid is marked on the node', async () => {
    await selectNode('intro');
    try {
      await panel().getByLabel('HTML', { exact: true }).fill('{% if user.vip %}<p>VIP</p>');
      // the step's own preview already says so (POST templates/preview)
      await panel().getByRole('alert').filter({ hasText: "'if' tag was never closed" }).waitFor();
      await validateMarks('intro');
    } finally {
      await restoreIntro();
    }
  });

  test('d. simulate: the steps are listed in order with their reasons, and the canvas lights up', async () => {
    await page.getByTestId('btn-simulate').click();
    const dialog = page.getByRole('dialog', { name: 'Simulate a user' });
    assert.equal(await dialog.getByLabel('Event 1: name').inputValue(), 'Signed Up', 'the trigger event is filled in');
    await dialog.getByLabel('Event 1: time').fill('2026-03-02T10:00'); // Seoul time (the page's zone)
    await dialog.getByTestId('btn-sim-run').click();
    await dialog.waitFor({ state: 'detached' });
    const sim = page.getByTestId('sim-panel');
    await sim.waitFor();
    // it plays by itself; start again and go one step at a time
    await sim.getByRole('button', { name: 'Restart' }).click();
    const steps = sim.getByTestId('sim-step');
    assert.equal(await steps.count(), SIM_PATH.length);
    for (let i = 0; i < SIM_PATH.length; i++) {
      const [id, reason] = SIM_PATH[i];
      assert.equal((await steps.nth(i).locator('.sim-step-head button').textContent()).trim(), id, `step ${i + 1} is ${id}`);
      assert.equal((await steps.nth(i).locator('.sim-reason').textContent()).trim(), reason, `${id}'s reason`);
      assert.equal(await steps.nth(i).getAttribute('data-state'), 'pending');
    }
    assert.equal(await page.locator('[data-sim]').count(), 0, 'nothing lit before the first step');
    for (let i = 0; i < SIM_PATH.length; i++) {
      await sim.getByTestId('btn-sim-step').click();
      const [id] = SIM_PATH[i];
      await page.locator(`[data-testid="sim-step"][data-state="current"]`).nth(0).and(steps.nth(i)).waitFor();
      await node(id).and(page.locator('[data-sim="current"]')).waitFor();
      for (let k = 0; k < i; k++) assert.equal(await node(SIM_PATH[k][0]).getAttribute('data-sim'), 'done', `${SIM_PATH[k][0]} is done`);
      for (let k = i + 1; k < SIM_PATH.length; k++) assert.equal(await node(SIM_PATH[k][0]).getAttribute('data-sim'), null, `${SIM_PATH[k][0]} not yet`);
      // the trigger's edge and one edge per step taken are lit
      assert.equal(await page.locator('.react-flow__edge.edge-lit').count(), i + 1, `edges lit after step ${i + 1}`);
    }
    assert.equal(await sim.getByTestId('btn-sim-step').isDisabled(), true, 'the last step reached');
    await steps.nth(0).locator('.sim-msg').filter({ hasText: 'brand intro' }).waitFor();
    await steps.nth(6).locator('.sim-msg').filter({ hasText: 'reviews + offer' }).waitFor();
    await sim.getByText('left: exit node').waitFor();
    await screenshot(page, '13-journey-simulation');
    await sim.getByRole('button', { name: 'Close' }).click();
    await page.locator('[data-sim]').first().waitFor({ state: 'detached' });
    assert.deepEqual(page.errors, []);
  });

  test('e. publish: the journey is live', async () => {
    await page.getByTestId('btn-publish').click();
    await page.getByRole('status').filter({ hasText: 'Published as version 1; the journey is live.' }).waitFor();
    await waitForText(page.getByTestId('journey-status'), 'Live');
    assert.equal((await kit.journey(jid)).status, 'live');
    await page.getByTestId('btn-pause').waitFor();
    for (const s of STEPS) await waitForText(page.getByTestId('count-entered-' + s.id), '0');
  });

  test('f. a sign-up through the Tracking API moves the counts; two days later the next email', async () => {
    await kit.identify(USER, { email: 'hana@example.com', first_name: 'Hana', last_name: 'Kim', timezone: 'Asia/Seoul', consent: { email: 'subscribed' } });
    await waitForText(page.getByTestId('count-entered-intro'), '0');
    await kit.track(USER, 'Signed Up', { plan: 'free' });
    await kit.settle(); // the first email handed to the provider
    // the builder polls the counts every 2 s
    await waitForText(page.getByTestId('count-entered-intro'), '1');
    await waitForText(page.getByTestId('count-entered-d2'), '1');
    await waitForText(page.getByTestId('count-waiting-d2'), '1');
    await waitForText(page.getByTestId('count-entered-top3'), '0');
    const sent = () => (existsSync(join(outbox, 'email.jsonl')) ? readFileSync(join(outbox, 'email.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)) : []);
    assert.deepEqual(sent().map((m) => [m.to, m.content.subject]), [['hana@example.com', 'brand intro']]);

    await kit.advance({ days: 2 });
    await waitForText(page.getByTestId('count-entered-top3'), '1');
    await waitForText(page.getByTestId('count-waiting-d2'), '0');
    await waitForText(page.getByTestId('count-waiting-d5'), '1');
    await waitForText(page.getByTestId('count-entered-problem'), '0');
    assert.deepEqual(sent().map((m) => m.content.subject), ['brand intro', 'top 3']);
    await screenshot(page, '14-journey-live-counts');
    assert.deepEqual(page.errors, []);
  });

  test('g. People: the user\'s profile shows the journey steps on the timeline', async () => {
    await page.getByRole('link', { name: 'People', exact: true }).click();
    await page.getByTestId('people-search').fill('hana');
    const row = page.getByTestId('person-row');
    await row.filter({ hasText: 'hana@example.com' }).waitFor();
    assert.equal(await row.count(), 1);
    await row.getByRole('link', { name: USER }).click();
    await page.getByRole('heading', { level: 1, name: 'Hana Kim' }).waitFor();
    const steps = page.locator('[data-testid="timeline-item"][data-kind="journey"]');
    await steps.nth(3).waitFor();
    const texts = (await steps.locator('.pp-tl-text').allTextContents()).map((s) => s.trim());
    // newest first: d5 and top3 happened at the same moment, two days after intro and d2
    assert.deepEqual(texts, [
      `${jid} v1 · d5 — waiting 3 days, until 2026-03-07T01:00:00.000Z (Sat 10:00 Asia/Seoul)`,
      `${jid} v1 · top3 — ${SENT}`,
      `${jid} v1 · d2 — waiting 2 days, until 2026-03-04T01:00:00.000Z (Wed 10:00 Asia/Seoul)`,
      `${jid} v1 · intro — ${SENT}`,
    ]);
    // and the two emails, sent
    const msgs = page.locator('[data-testid="timeline-item"][data-kind="message"]');
    await msgs.filter({ hasText: '“top 3”' }).filter({ hasText: 'sent' }).waitFor();
    await msgs.filter({ hasText: '“brand intro”' }).filter({ hasText: 'sent' }).waitFor();
    await page.getByRole('heading', { name: 'Timeline' }).scrollIntoViewIfNeeded();
    await screenshot(page, '15-profile-timeline');
    assert.deepEqual(page.errors, []);
  });

  test('h. in Korean: the profile and the builder', async () => {
    await page.locator('nav.sidebar button.lang-switch').click();
    await page.getByRole('link', { name: '여정', exact: true }).waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'ko');
    await page.getByRole('heading', { name: '타임라인' }).scrollIntoViewIfNeeded();
    const kinds = await page.locator('[data-testid="timeline-item"][data-kind="journey"] .pp-tl-kind').allTextContents();
    assert.deepEqual(kinds, ['여정', '여정', '여정', '여정']);
    await screenshot(page, '16-korean-profile');

    await page.getByRole('link', { name: '여정', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: '여정' }).waitFor();
    await page.getByRole('link', { name: 'Welcome series' }).click();
    await node('intro').waitFor();
    await page.getByRole('heading', { name: '단계', exact: true }).waitFor(); // the palette
    await waitForText(page.getByTestId('btn-save'), '저장');
    await waitForText(page.getByTestId('btn-publish'), '게시');
    await waitForText(page.getByTestId('journey-status'), '운영 중');
    await waitForText(page.getByTestId('palette-send'), '메시지 보내기');
    await node('intro').filter({ hasText: '메시지 보내기' }).waitFor();
    await node('intro').locator('.jnode-counts span[title="진입(방문)"]').filter({ hasText: /^진입\s*1$/ }).waitFor(); // the counts' label
    await waitForText(page.getByTestId('count-entered-intro'), '1');
    await screenshot(page, '17-korean-builder');
    assert.deepEqual(page.errors, []);
  });
});
