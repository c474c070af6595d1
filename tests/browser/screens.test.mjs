// Every main screen opens on real data (seeded through the API) and is
// photographed: journeys, segments (the live count moving as a condition is
// edited), templates (SMS bytes, email preview), people, dashboards, and the
// settings pages. And bad input: the form says what is wrong at the field, in
// the API's words, and nothing is half-saved (checked through the API).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../e2e/lib/server.mjs';
import { journeyKit, expectStatus } from '../e2e/lib/journeys.mjs';
import { launch, newPageWith, login, screenshot, waitForText } from './lib/browser.mjs';

const START = '2026-03-02T10:00:00+09:00';

const PEOPLE = [
  ['u-jimin', { name: 'Jimin Kim', email: 'jimin@example.com', plan: 'pro', city: 'Seoul' }],
  ['u-minsu', { name: 'Minsu Park', email: 'minsu@example.com', plan: 'pro', city: 'Busan' }],
  ['u-hana', { name: 'Hana Lee', email: 'hana@example.com', plan: 'free', city: 'Seoul' }],
  ['u-sora', { name: 'Sora Choi', email: 'sora@example.com', plan: 'free', city: 'Incheon' }],
  ['u-dami', { name: '김다미', email: 'dami@example.com', plan: 'free', city: 'Seoul' }],
];

const send = (id, subject, next) => ({ id, type: 'send', channel: 'email', template: { subject, html: `<p>${subject}</p>` }, ...(next ? { next } : {}) });
const WELCOME = {
  name: 'Welcome series',
  trigger: { type: 'event', event: 'Signed Up' },
  nodes: [send('intro', 'brand intro', 'd2'), { id: 'd2', type: 'wait', duration: { days: 2 }, next: 'top3' }, send('top3', 'top 3')],
};
const CART = {
  name: 'Cart abandonment',
  trigger: { type: 'event', event: 'Checkout Started' },
  nodes: [{ id: 'wait-1h', type: 'wait', duration: { hours: 1 }, next: 'reminder' }, send('reminder', 'Your cart is waiting', 'done'), { id: 'done', type: 'exit' }],
};

describe('browser: every screen on real data, and bad input', () => {
  let srv, kit, browser, page;

  const api = async (path, opts, status = 200) => expectStatus(await srv.api(path, opts), status, `${opts?.method || 'GET'} ${path}`);
  const ids = async (path) => (await api(path)).data.map((x) => x.id).sort();

  before(async () => {
    srv = await startServer({ extraArgs: ['--virtual-clock', START] });
    kit = journeyKit(srv, START);
    for (const [id, traits] of PEOPLE) await kit.identify(id, { ...traits, timezone: 'Asia/Seoul' });
    for (const [id] of PEOPLE) await kit.track(id, 'Signed Up');
    await kit.advance({ hours: 3 });
    for (const [id] of PEOPLE.slice(0, 3)) await kit.track(id, 'Product Viewed', { sku: 'TEA-01' });
    for (const [id] of PEOPLE.slice(0, 2)) await kit.track(id, 'Order Completed', { order_id: 'A-' + id, revenue: 32000, currency: 'KRW' });
    await api('/api/v1/segments', { method: 'POST', body: { id: 'pro-users', name: 'Pro users', condition: { trait: 'plan', op: 'eq', value: 'pro' } } }, 201);
    await api('/api/v1/templates', {
      method: 'POST',
      body: {
        id: 'welcome-email', name: 'Welcome email', channel: 'email', locale: 'en-US',
        body: { subject: 'Welcome aboard, {{ user.first_name }}', html: '<h1>Hello {{ user.first_name }}</h1><p>Your first order ships free.</p>' },
      },
    }, 201);
    await api('/api/v1/templates', { method: 'POST', body: { id: 'cart-sms', name: 'Cart reminder SMS', channel: 'sms', body: { text: '{{ user.first_name }}님, 장바구니를 잊지 마세요' } } }, 201);
    await kit.createLive('welcome', WELCOME);
    await kit.create('cart', CART);
    await api('/api/v1/providers', { method: 'POST', body: { channel: 'email', type: 'file', name: 'Dev outbox', from: 'Shop <shop@example.com>', path: srv.dataDir + '/outbox' } }, 201);
    await api('/api/v1/domains', { method: 'POST', body: { domain: 'shop.example', selector: 's1', algorithm: 'ed25519' } }, 201);
    await api('/api/v1/tagging-rules', { method: 'POST', body: { id: 'buyer', name: 'Buyers', when: { event: 'Order Completed' }, add: ['buyer'] } }, 201);

    browser = await launch();
    page = await newPageWith(browser, { timezoneId: 'Asia/Seoul' });
    page.setDefaultTimeout(10000);
    await login(page, srv);
  });
  after(async () => {
    await browser?.close();
    await srv?.close();
  });

  const nav = async (name, path) => {
    await page.locator('nav.sidebar').getByRole('link', { name, exact: true }).click();
    await page.waitForURL((u) => u.pathname.startsWith(path));
  };

  test('journeys: the list with each journey\'s status', async () => {
    await nav('Journeys', '/journeys');
    const rows = page.locator('table.journey-table tbody tr');
    await rows.filter({ hasText: 'Welcome series' }).filter({ hasText: 'Live' }).waitFor();
    await rows.filter({ hasText: 'Cart abandonment' }).filter({ hasText: 'Draft' }).waitFor();
    assert.equal(await rows.count(), 2);
    await waitForText(rows.filter({ hasText: 'Welcome series' }).locator('td.num'), '1'); // live version
    await screenshot(page, '20-journeys');
  });

  test('segments: the list; the editor\'s live count moves as the condition is edited', async () => {
    await nav('Segments', '/segments');
    const row = page.getByTestId('segment-row').filter({ hasText: 'Pro users' });
    await row.waitFor();
    await waitForText(row.locator('td.num'), '2');
    await screenshot(page, '21-segments');

    await page.getByTestId('btn-new-segment').click();
    await page.waitForURL('**/segments/new');
    const count = page.getByTestId('segment-live-count');
    await count.and(page.locator('[data-status="idle"]')).waitFor();
    await page.getByTestId('segment-name').fill('Free plan in Seoul');
    await page.getByTestId('cond-add-rule').click();
    await page.getByLabel('Trait name').fill('plan');
    assert.equal(await page.getByLabel('Operator').inputValue(), 'eq');
    await page.getByLabel('Value', { exact: true }).fill('pro');
    await count.and(page.locator('[data-status="ok"]')).filter({ hasText: /^\s*2 users\s*$/ }).waitFor();
    await page.getByLabel('Value', { exact: true }).fill('free');
    await count.and(page.locator('[data-status="ok"]')).filter({ hasText: /^\s*3 users\s*$/ }).waitFor();
    // narrower: a second rule (the two now in an "all of these" group)
    await page.getByTestId('cond-add-rule').click();
    await page.getByLabel('Trait name').nth(1).fill('city');
    await page.getByLabel('Value', { exact: true }).nth(1).fill('Seoul');
    await count.and(page.locator('[data-status="ok"]')).filter({ hasText: /^\s*2 users\s*$/ }).waitFor();
    await page.locator('.seg-sample').getByRole('link', { name: 'u-hana' }).waitFor();
    await page.locator('.seg-sample').getByRole('link', { name: 'u-dami' }).waitFor();
    await screenshot(page, '22-segment-editor-live-count');

    await page.getByTestId('btn-save-segment').click();
    await page.waitForURL('**/segments/free-plan-in-seoul');
    await page.getByRole('heading', { level: 1, name: 'Free plan in Seoul' }).waitFor();
    const members = page.getByTestId('segment-member');
    await members.nth(1).waitFor();
    assert.deepEqual((await members.locator('a').allTextContents()).sort(), ['u-dami', 'u-hana']);
    const saved = await api('/api/v1/segments/free-plan-in-seoul');
    assert.deepEqual(saved.condition, { all: [{ trait: 'plan', op: 'eq', value: 'free' }, { trait: 'city', op: 'eq', value: 'Seoul' }] });
    assert.equal(saved.size, 2);
    assert.deepEqual(page.errors, []);
  });

  // The "Saved. Members now: N." notice survives the redirect from /segments/new to /segments/<id>.
  test('creating a segment confirms it with its size', async () => {
    await nav('Segments', '/segments');
    await page.getByTestId('btn-new-segment').click();
    await page.getByTestId('segment-name').fill('In Seoul');
    await page.getByTestId('cond-add-rule').click();
    await page.getByLabel('Trait name').fill('city');
    await page.getByLabel('Value', { exact: true }).fill('Seoul');
    await page.getByTestId('segment-live-count').and(page.locator('[data-status="ok"]')).filter({ hasText: /^\s*3 users\s*$/ }).waitFor();
    await page.getByTestId('btn-save-segment').click();
    await page.waitForURL('**/segments/in-seoul');
    await page.getByTestId('segment-member').nth(2).waitFor(); // the saved segment's page is there
    assert.equal(await page.getByRole('status').filter({ hasText: 'Saved. Members now: 3.' }).count(), 1, 'the create is confirmed');
  });

  test('bad input: a segment whose condition the server refuses is not created', async () => {
    const before = await ids('/api/v1/segments');
    await nav('Segments', '/segments');
    await page.getByTestId('btn-new-segment').click();
    await page.getByTestId('segment-name').fill('Members of nothing');
    await page.getByTestId('cond-add-rule').click();
    await page.getByLabel('Rule type').selectOption('segment');
    await page.getByLabel('Segment id').fill('no-such-segment');
    const refusal = "The condition uses segment 'no-such-segment', which does not exist in this workspace.";
    // the live count asks the server, which refuses: the reason is shown at the rule
    const atRule = page.locator('.cond-rule[data-kind="segment"] [role="alert"]');
    await waitForText(atRule, refusal);
    await page.getByTestId('segment-live-count').and(page.locator('[data-status="error"]')).waitFor();
    await page.getByText('The server refused the condition; see the message at the rule.').waitFor();
    // saving anyway: refused the same way, nothing created
    await page.getByTestId('btn-save-segment').click();
    await waitForText(atRule, refusal);
    await page.getByTestId('btn-save-segment').and(page.locator(':enabled')).waitFor(); // the save is over
    assert.equal(new URL(page.url()).pathname, '/segments/new');
    assert.deepEqual(await ids('/api/v1/segments'), before, 'no segment was created');
    await screenshot(page, '23-segment-refused');
    assert.deepEqual(page.errors, []);
  });

  test('templates: the list; an SMS counts its bytes as carriers do, SMS up to 90, then LMS', async () => {
    await nav('Templates', '/templates');
    await page.getByRole('link', { name: 'Welcome email' }).waitFor();
    await page.getByRole('link', { name: 'Cart reminder SMS' }).waitFor();
    await screenshot(page, '24-templates');

    await page.getByRole('link', { name: 'New template' }).click();
    await page.waitForURL('**/templates/new');
    await page.locator('#tp-channel').selectOption('sms');
    await page.locator('#tp-name').fill('Greeting SMS');
    const bytes = page.getByTestId('sms-bytes');
    // the preview counts the text as sent, with the sample user's first name (지민) filled in
    await page.getByTestId('template-body').fill('{{ user.first_name }}님 안녕하세요');
    await page.locator('.tp-bubble-sms').filter({ hasText: /^지민님 안녕하세요$/ }).waitFor();
    await waitForText(bytes, '17 / 90 bytes'); // 지민님 (6) + space (1) + 안녕하세요 (10)
    await page.getByText('Source: 28 characters · 34 bytes before variables are filled in').waitFor();
    // advertising: "(광고) " in front, 7 bytes more
    await page.getByLabel('Advertising ("(광고)")').check();
    await waitForText(bytes, '24 / 90 bytes');
    await page.getByLabel('Advertising ("(광고)")').uncheck();
    // 46 Hangul syllables: 92 bytes, an LMS
    await page.getByTestId('template-body').fill('가'.repeat(46));
    await waitForText(bytes, '92 / 2000 bytes');
    await waitForText(page.locator('.tp-kind [aria-current="true"]'), 'LMS');
    await page.getByTestId('template-body').fill('가'.repeat(45));
    await waitForText(bytes, '90 / 90 bytes');
    await waitForText(page.locator('.tp-kind [aria-current="true"]'), 'SMS');
    await screenshot(page, '25-template-sms');
    assert.deepEqual(page.errors, []);
  });

  test('templates: the email editor previews the message for a sample user', async () => {
    await page.goto(srv.url + '/templates'); // leave the unsaved SMS draft behind
    await page.getByRole('link', { name: 'Welcome email' }).click();
    await page.waitForURL('**/templates/welcome-email');
    await page.locator('#tp-f-body-subject').waitFor();
    assert.equal(await page.locator('#tp-f-body-subject').inputValue(), 'Welcome aboard, {{ user.first_name }}');
    const preview = page.getByTestId('template-preview');
    await waitForText(preview.locator('.tp-subject'), 'Welcome aboard, 지민');
    const body = page.frameLocator('iframe[title="Email preview"]').locator('body');
    await body.getByRole('heading', { name: 'Hello 지민' }).waitFor();
    await body.getByText('Your first order ships free.').waitFor();
    // an edit shows at once in the preview, nothing saved
    await page.locator('#tp-f-body-html').fill('<h1>Hello {{ user.first_name }}</h1><p>Free shipping this week.</p>');
    await body.getByText('Free shipping this week.').waitFor();
    await preview.getByRole('button', { name: 'Mobile' }).click();
    await preview.locator('.tp-email-frame.tp-mobile').waitFor();
    await screenshot(page, '26-template-email');
    assert.equal((await api('/api/v1/templates/welcome-email')).body.html, '<h1>Hello {{ user.first_name }}</h1><p>Your first order ships free.</p>');
    assert.deepEqual(page.errors, []);
  });

  test('bad input: a template with broken Liquid is refused at the field, none created', async () => {
    const before = await ids('/api/v1/templates');
    await page.goto(srv.url + '/templates/new');
    await page.locator('#tp-name').fill('Broken');
    await page.locator('#tp-f-body-subject').fill('Hello');
    await page.locator('#tp-f-body-html').fill('{% if user.vip %}<p>VIP</p>');
    const field = page.locator('.field', { has: page.locator('#tp-f-body-html') }).locator('.field-message');
    const message = "Liquid syntax error (line 1, column 1): 'if' tag was never closed.";
    await waitForText(field, 'Preview: ' + message); // already while typing, from the preview
    await page.getByTestId('btn-save-template').click();
    await waitForText(field, message); // the save's own refusal, in the API's words
    assert.equal(await page.locator('#tp-f-body-html').getAttribute('aria-invalid'), 'true');
    assert.equal(new URL(page.url()).pathname, '/templates/new');
    assert.deepEqual(await ids('/api/v1/templates'), before, 'no template was created');
    await screenshot(page, '27-template-liquid-error');
    assert.deepEqual(page.errors, []);
  });

  test('people: search finds people by any value, Korean too', async () => {
    await page.goto(srv.url + '/journeys'); // leave the refused draft behind
    await nav('People', '/people');
    const rows = page.getByTestId('person-row');
    await rows.nth(PEOPLE.length - 1).waitFor();
    assert.equal(await rows.count(), PEOPLE.length);
    await page.getByTestId('people-search').fill('Park');
    await rows.filter({ hasText: 'jimin@example.com' }).waitFor({ state: 'detached' }); // the answer is in
    await rows.filter({ hasText: 'minsu@example.com' }).waitFor();
    assert.equal(new URL(page.url()).searchParams.get('q'), 'Park');
    assert.equal(await rows.count(), 1);
    await page.getByTestId('people-search').fill('다미');
    await rows.filter({ hasText: 'minsu@example.com' }).waitFor({ state: 'detached' });
    await rows.filter({ hasText: 'dami@example.com' }).filter({ hasText: '김다미' }).waitFor();
    assert.equal(new URL(page.url()).searchParams.get('q'), '다미');
    assert.equal(await rows.count(), 1);
    await page.getByTestId('people-search').fill('example.com');
    await page.waitForURL((u) => u.searchParams.get('q') === 'example.com');
    await rows.nth(PEOPLE.length - 1).waitFor();
    await screenshot(page, '28-people-search');
    assert.deepEqual(page.errors, []);
  });

  test('dashboards: the stage KPIs for March', async () => {
    await nav('Dashboards', '/dashboards');
    await page.locator('#db-from').fill('2026-03-01');
    await page.locator('#db-to').fill('2026-03-31');
    await page.getByRole('button', { name: 'Apply', exact: true }).click();
    const cards = page.getByTestId('kpi-card');
    const activation = cards.filter({ has: page.getByRole('heading', { name: 'Activation' }) });
    // 5 signed up, 2 ordered within 7 days
    await waitForText(activation.locator('.db-kpi-value'), '40%');
    await waitForText(activation.locator('.db-kpi-count'), '2 of 5 users');
    assert.equal(await cards.count(), 5);
    const retention = cards.filter({ has: page.getByRole('heading', { name: 'Retention' }) });
    await waitForText(retention.locator('.db-kpi-count'), '0 of 2 users');
    await screenshot(page, '29-dashboards');
    assert.deepEqual(page.errors, []);
  });

  test('settings: providers; a provider with a bad URL is refused at the field, none created', async () => {
    await nav('Settings', '/settings');
    const card = page.locator('article.st-provider').filter({ hasText: 'Dev outbox' });
    await card.getByText('File (development)').waitFor();
    await screenshot(page, '30-settings-providers');

    const before = await ids('/api/v1/providers');
    await page.getByTestId('btn-add-provider').click();
    const form = page.getByRole('form', { name: 'Add a provider' });
    await form.locator('#st-pf-new-channel').selectOption('email');
    await form.locator('#st-pf-new-type').selectOption('http');
    await form.locator('#st-pf-new-name').fill('Mail API');
    await form.locator('#st-pf-new-url').fill('not a url');
    await form.locator('#st-pf-new-from').fill('Shop <shop@example.com>');
    await form.getByRole('button', { name: 'Add provider' }).click();
    const message = 'url must be an http:// or https:// URL with a host, not "not a url".';
    await waitForText(form.locator('.field', { has: page.locator('#st-pf-new-url') }).locator('.field-message'), message);
    assert.deepEqual(await ids('/api/v1/providers'), before, 'no provider was created');
    await form.waitFor(); // still open, as typed
    assert.equal(await form.locator('#st-pf-new-url').inputValue(), 'not a url');
    await screenshot(page, '31-provider-bad-url');
    await form.getByRole('button', { name: 'Cancel' }).click();
    assert.deepEqual(page.errors, []);
  });

  test('settings: sender domains, API keys, the kill switch, tagging rules', async () => {
    const sub = page.getByTestId('settings-nav');
    await sub.getByRole('link', { name: 'Sender domains' }).click();
    await page.getByRole('heading', { name: 'shop.example' }).waitFor();
    await page.locator('table.st-dns').getByText('s1._domainkey.shop.example').waitFor();
    await page.locator('table.st-dns').getByText(/^v=DKIM1; k=ed25519; p=/).waitFor();
    await screenshot(page, '32-settings-domains');

    await sub.getByRole('link', { name: 'API keys' }).click();
    const keys = page.locator('table tbody tr');
    await keys.nth(1).waitFor();
    assert.equal(await keys.count(), 2);
    const shown = {};
    for (const r of await keys.all()) shown[(await r.locator('td').nth(1).textContent()).trim()] = (await r.locator('code').textContent()).replace('…', '');
    assert.ok(srv.creds.write_key.startsWith(shown['Write key']), `the write key ${shown['Write key']}… is listed`);
    assert.ok(srv.creds.secret_key.startsWith(shown['Secret key']), `the secret key ${shown['Secret key']}… is listed`);
    await screenshot(page, '33-settings-keys');

    await sub.getByRole('link', { name: 'Kill switch' }).click();
    const global = page.getByTestId('kill-switch-global');
    await global.waitFor();
    assert.equal(await global.isChecked(), false);
    await page.getByText('Nothing is stopped. Held messages: 0.').waitFor();
    await page.locator('label.st-check').filter({ hasText: 'Welcome series' }).waitFor();
    // stop the email channel, and lift it again: the server has each state
    await page.getByTestId('kill-switch-channel-email').check();
    await page.getByText('Sending is stopped for part or all of the workspace. Held now: 0.').waitFor();
    assert.deepEqual((await api('/api/v1/settings')).kill_switch.channels, ['email']);
    await screenshot(page, '34-settings-kill-switch');
    await page.getByTestId('kill-switch-channel-email').uncheck();
    await page.getByText('Nothing is stopped. Held messages: 0.').waitFor();
    assert.deepEqual((await api('/api/v1/settings')).kill_switch.channels, []);

    await sub.getByRole('link', { name: 'Tagging rules' }).click();
    const rule = page.getByTestId('tagging-table').locator('tr[data-rule="buyer"]');
    await rule.getByText('Buyers').waitFor();
    await rule.getByText('Order Completed').waitFor();
    await rule.getByText('+ buyer').waitFor();
    await screenshot(page, '35-settings-tagging');
    assert.deepEqual(page.errors, []);
  });

  test('bad input: a journey saved with a broken step is not saved at all', async () => {
    const before = await api('/api/v1/journeys/cart');
    await nav('Journeys', '/journeys');
    await page.getByRole('link', { name: 'Cart abandonment' }).click();
    const wait = page.getByTestId('jnode-wait-1h');
    await wait.waitFor();
    // select the first step with the keyboard, and make its wait longer than the server allows
    await wait.locator('xpath=ancestor::div[contains(concat(" ", @class, " "), " react-flow__node ")][1]').press('Enter');
    const panel = page.getByTestId('node-panel');
    assert.equal(await panel.getByLabel('Node id').inputValue(), 'wait-1h');
    await panel.getByLabel('Wait for: hours').fill('100000000');
    await waitForText(wait.locator('.jnode-summary'), '100000000 h');
    await page.getByTestId('btn-save').click();
    const message = 'Node "wait-1h": This duration is longer than two years.';
    await page.getByText('Not saved: fix the problem marked below and save again (nothing was changed on the server).').waitFor();
    await waitForText(page.getByTestId('node-error-wait-1h'), message);
    // at the field: the duration's group in the panel
    await waitForText(panel.locator('fieldset.group', { has: page.getByLabel('Wait for: hours') }).locator('.field-message'), message);
    await page.getByTestId('dirty').waitFor(); // the edit is still here, unsaved
    const after = await api('/api/v1/journeys/cart');
    assert.equal(after.draft_rev, before.draft_rev, 'the draft revision did not move');
    assert.deepEqual(after.definition, before.definition, 'the stored draft is as it was');
    assert.equal(after.updated_at, before.updated_at);
    await screenshot(page, '36-journey-not-saved');
    assert.deepEqual(page.errors, []);
  });
});
