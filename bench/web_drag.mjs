// bench/web_drag.mjs — row 20: dragging a node of a 200-node journey in the
// builder, in Debian's Chromium (headless, playwright-core), measured two
// ways: frames drawn per second in Chromium's performance trace
// (devtools.timeline "DrawFrame" events while the drag runs) and the page's
// own requestAnimationFrame intervals (p50/p95, frames over 20 ms). The same
// drag on a 5-node journey is the peer: the canvas's own cost.
//
//   node bench/web_drag.mjs            (standalone; CAIRN_BIN or build/cairn)
//   import { benchDrag } from './web_drag.mjs'
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const require = createRequire(import.meta.url);
const { chromium } = require('playwright-core');

/** A journey of n nodes: send/wait pairs in a chain with a branch every 10 nodes, laid out on a grid. */
export function bigJourney(n) {
  const nodes = [];
  const layout = {};
  const id = (i) => `n${i}`;
  for (let i = 0; i < n - 1; i++) {
    const next = id(i + 1);
    let node;
    if (i % 10 === 9) node = { id: id(i), type: 'branch', branches: [{ when: { trait: 'plan', op: 'eq', value: 'pro' }, next }], else: next };
    else if (i % 2 === 0) node = { id: id(i), type: 'send', channel: 'email', template: { subject: `Mail ${i}`, html: `<p>${i}</p>` }, next };
    else node = { id: id(i), type: 'wait', duration: { days: 1 }, next };
    nodes.push(node);
    layout[id(i)] = { x: (i % 10) * 260, y: Math.floor(i / 10) * 160 };
  }
  nodes.push({ id: id(n - 1), type: 'exit' });
  layout[id(n - 1)] = { x: ((n - 1) % 10) * 260, y: Math.floor((n - 1) / 10) * 160 };
  return { name: `Drag ${n}`, trigger: { type: 'event', event: 'Signed Up' }, start: 'n0', nodes, layout };
}

async function startCairn(bin, dir) {
  const creds = JSON.parse(execFileSync(bin, ['init', '--data', dir, '--listen', '127.0.0.1:0'], { encoding: 'utf8' }));
  const child = spawn(bin, ['serve', '--data', dir, '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((res, rej) => {
    child.stdout.on('data', (d) => {
      const m = /listening on (http:\/\/\S+)/.exec(String(d));
      if (m) res(m[1]);
    });
    child.on('exit', (c) => rej(new Error(`cairn serve exited ${c}`)));
  });
  return { child, url, creds };
}

async function api(srv, method, p, body) {
  const r = await fetch(srv.url + p, { method, headers: { Authorization: `Bearer ${srv.creds.secret_key}`, 'Content-Type': 'application/json' }, body: body && JSON.stringify(body) });
  const j = await r.json();
  if (!r.ok) throw new Error(`${method} ${p}: ${JSON.stringify(j)}`);
  return j;
}

const pct = (a, q) => { const s = [...a].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(q * s.length))]; };

/** One drag of node n<k> over ~2 s of 16 ms mouse steps; the trace's frames and the page's rAF intervals. */
async function measure(browser, srv, journeyId, nodeId) {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  await page.goto(srv.url + '/');
  await page.locator('#login-email').fill(srv.creds.owner_email);
  await page.locator('#login-password').fill(srv.creds.owner_password);
  await page.locator('form.login-card button[type=submit]').click();
  await page.locator('nav.sidebar').waitFor();
  await page.goto(`${srv.url}/journeys/${journeyId}`);
  const node = page.getByTestId(`jnode-${nodeId}`);
  await node.waitFor();
  if (process.env.DRAG_CSS) await page.addStyleTag({ content: process.env.DRAG_CSS }); // experiments
  await page.waitForTimeout(800); // fitView and first paints settle
  const box = await node.boundingBox();
  const x0 = box.x + box.width / 2, y0 = box.y + box.height / 2;
  await page.evaluate(() => {
    window.__frames = [];
    const loop = (t) => { window.__frames.push(t); if (window.__frames.length < 100000) window.__raf = requestAnimationFrame(loop); };
    window.__raf = requestAnimationFrame(loop);
  });
  await browser.startTracing(page, { categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline.frame'] });
  // The drag runs inside the page, one mouse move per animation frame for
  // 2 s (as a hand would at 60 Hz): moves sent one by one from here would
  // arrive only as fast as the protocol's round trips, and the frame rate
  // measured would be the input's, not the canvas's.
  const seconds = await page.evaluate(async ({ x0, y0, id }) => {
    const el = document.querySelector(`[data-testid="jnode-${id}"]`);
    const opts = (x, y, buttons) => ({ bubbles: true, cancelable: true, view: window, clientX: x, clientY: y, screenX: x, screenY: y, button: 0, buttons });
    el.dispatchEvent(new MouseEvent('mousedown', opts(x0, y0, 1)));
    const t0 = performance.now();
    await new Promise((done) => {
      const step = (t) => {
        const i = (t - t0) / 16.7;
        window.dispatchEvent(new MouseEvent('mousemove', opts(x0 + Math.sin(i / 12) * 200, y0 + i * 1.5, 1)));
        if (t - t0 < 2000) requestAnimationFrame(step);
        else done();
      };
      requestAnimationFrame(step);
    });
    window.dispatchEvent(new MouseEvent('mouseup', opts(x0, y0, 0)));
    return (performance.now() - t0) / 1000;
  }, { x0, y0, id: nodeId });
  const moved = await node.boundingBox();
  if (Math.abs(moved.y - box.y) < 20) throw new Error('the node did not move: the synthetic drag was not taken');
  const trace = JSON.parse((await browser.stopTracing()).toString());
  const raf = await page.evaluate(() => { cancelAnimationFrame(window.__raf); return window.__frames; });
  await context.close();
  const events = trace.traceEvents || trace;
  if (process.env.DRAG_PROFILE) {
    const by = new Map();
    for (const e of events) if (e.dur) by.set(e.name, (by.get(e.name) || 0) + e.dur / 1000);
    console.log(nodeId, [...by].sort((a, b) => b[1] - a[1]).slice(0, 18).map(([k, v]) => `${k} ${v.toFixed(0)}ms`).join(', '));
  }
  const draws = events.filter((e) => e.name === 'DrawFrame' || e.name === 'Graphics.Pipeline' && e.args?.step === 'SubmitCompositorFrame');
  const ts = draws.map((e) => e.ts).sort((a, b) => a - b);
  const traceFps = ts.length > 1 ? (ts.length - 1) / ((ts[ts.length - 1] - ts[0]) / 1e6) : 0;
  const gaps = raf.slice(1).map((t, i) => t - raf[i]);
  const long = events.filter((e) => e.name === 'RunTask' && e.dur > 50000).length;
  return { seconds, traceFrames: ts.length, traceFps, rafFps: gaps.length / (gaps.reduce((a, b) => a + b, 0) / 1000), p50: pct(gaps, 0.5), p95: pct(gaps, 0.95), over20: gaps.filter((g) => g > 20).length, frames: gaps.length, longTasks: long };
}

export async function benchDrag({ bin = process.env.CAIRN_BIN || path.join(root, 'build/cairn'), sizes = [5, 200] } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-drag-'));
  const srv = await startCairn(bin, dir);
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-dev-shm-usage'] });
  const out = {};
  try {
    for (const n of sizes) {
      const def = bigJourney(n);
      const j = await api(srv, 'POST', '/api/v1/journeys', { name: def.name, definition: def });
      out[n] = await measure(browser, srv, j.id, `n${Math.min(n - 1, 44)}`);
    }
  } finally {
    await browser.close();
    srv.child.kill('SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = await benchDrag();
  for (const [n, m] of Object.entries(r))
    console.log(`${n} nodes: trace ${m.traceFps.toFixed(1)} fps (${m.traceFrames} frames), rAF ${m.rafFps.toFixed(1)} fps, p50 ${m.p50.toFixed(1)} ms, p95 ${m.p95.toFixed(1)} ms, >20 ms: ${m.over20}/${m.frames}, long tasks ${m.longTasks}, drag ${m.seconds.toFixed(2)} s`);
}
