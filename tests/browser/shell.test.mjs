// The shell in a real browser: login (and a wrong password shown in words),
// Korean from the browser and the switch, every main screen reachable by its
// link, the session kept across a reload and a server restart, logout.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../e2e/lib/server.mjs';
import { launch, newPage, login, screenshot } from './lib/browser.mjs';

describe('browser: the shell', () => {
  let srv, browser;
  before(async () => {
    srv = await startServer();
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    await srv?.close();
  });

  test('a wrong password is shown at the form; the right one opens the app', async () => {
    const page = await newPage(browser);
    await page.goto(srv.url + '/people');
    await page.locator('#login-email').fill(srv.creds.owner_email);
    await page.locator('#login-password').fill('wrong password');
    await page.locator('form.login-card button[type=submit]').click();
    await page.getByRole('alert').filter({ hasText: 'email or password is not right' }).waitFor();
    await screenshot(page, '00-login-error');
    await page.locator('#login-password').fill(srv.creds.owner_password);
    await page.locator('form.login-card button[type=submit]').click();
    await page.locator('nav.sidebar').waitFor();
    assert.equal(new URL(page.url()).pathname, '/people', 'the deep link survives the login');
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });

  test('Korean from the browser, switchable, remembered', async () => {
    const page = await newPage(browser, { locale: 'ko-KR' });
    await page.goto(srv.url + '/');
    await page.getByRole('heading', { name: 'cairn 로그인' }).waitFor();
    await login(page, srv);
    await page.getByRole('link', { name: '여정' }).waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'ko');
    await page.locator('nav.sidebar button.lang-switch').click();
    await page.getByRole('link', { name: 'Journeys' }).waitFor();
    await page.reload();
    await page.getByRole('link', { name: 'Journeys' }).waitFor();
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });

  test('every main screen opens from the sidebar; the session survives a reload and a restart; logout ends it', async () => {
    const page = await newPage(browser);
    await login(page, srv);
    for (const [name, path] of [['Journeys', '/journeys'], ['Segments', '/segments'], ['Templates', '/templates'],
      ['People', '/people'], ['Dashboards', '/dashboards'], ['Settings', '/settings']]) {
      await page.getByRole('link', { name, exact: true }).click();
      await page.waitForURL((u) => u.pathname.startsWith(path));
      await page.locator('main.content h1').first().waitFor();
    }
    await srv.restart();
    await page.goto(srv.url + '/segments');
    await page.locator('nav.sidebar').waitFor();
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.locator('#login-email').waitFor();
    await page.reload();
    await page.locator('#login-email').waitFor();
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });
});
