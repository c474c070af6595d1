// browser.mjs — Debian's Chromium driven by playwright-core against the real
// binary: a server (tests/e2e/lib/server.mjs), a logged-in page, screenshots
// saved as test artefacts (ARTIFACTS, default build/artifacts).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { REPO } from '../../e2e/lib/server.mjs';

export const ARTIFACTS = process.env.ARTIFACTS || join(REPO, 'build/artifacts');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

export async function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-dev-shm-usage', '--disable-gpu',
      '--no-first-run', '--disable-component-update', '--disable-sync'],
  });
}

/** A page in a fresh context (1440×900, a laptop screen) with the given browser language. */
export function newPage(browser, { locale = 'en-US' } = {}) {
  return newPageWith(browser, { locale });
}

/** Logs in through the form with the owner account `cairn init` printed. */
export async function login(page, srv) {
  await page.goto(srv.url + '/');
  await page.locator('#login-email').fill(srv.creds.owner_email);
  await page.locator('#login-password').fill(srv.creds.owner_password);
  await page.locator('form.login-card button[type=submit]').click();
  await page.locator('nav.sidebar').waitFor();
}

export async function screenshot(page, name) {
  const dir = join(ARTIFACTS, 'screenshots');
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: false });
}

/**
 * Like newPage, with any more browser-context options (e.g. timezoneId, so
 * that what the app reads from <input type="datetime-local"> is a known time).
 */
export async function newPageWith(browser, { locale = 'en-US', ...options } = {}) {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale, ...options });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  // the browser logs every 4xx answer as an error; the ones the app expects
  // (401 before login, 4xx it shows in words) are not faults of the page
  page.on('console', (m) => {
    if (m.type() === 'error' && !/the server responded with a status of 4\d\d/.test(m.text())) errors.push(m.text());
  });
  page.errors = errors;
  return page;
}

/** Waits until the locator's whole text is `text` (a string, exact after trimming, or a RegExp). */
export async function waitForText(locator, text, { timeout } = {}) {
  const re = text instanceof RegExp ? text : new RegExp('^\\s*' + String(text).replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '\\s*$');
  await locator.filter({ hasText: re }).first().waitFor({ timeout });
}
