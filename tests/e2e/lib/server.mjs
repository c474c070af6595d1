// Start a real cairn server for an e2e test: a fresh temp data dir, `cairn init`,
// `cairn serve` on port 0, and small HTTP helpers around it.
//
//   const srv = await startServer();
//   await srv.track('/v1/track', {userId: 'u1', event: 'Signed Up'});
//   const {status, body} = await srv.api('/api/v1/users/u1');
//   await srv.close();            // stop + remove the data dir (always call it, e.g. in after())
//
// Everything started here is also killed and removed when the node process exits,
// so a failing or aborted test never leaves a server or a temp dir behind.

import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { createInterface } from 'node:readline';

const here = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(here, '../../..');
export const CAIRN_BIN = process.env.CAIRN_BIN || join(REPO, 'build/cairn');

const START_TIMEOUT_MS = 15000;
const STOP_TIMEOUT_MS = 15000;

// ---- process-exit safety net ---------------------------------------------
const live = new Set(); // child processes still running
const dirs = new Set(); // temp dirs not yet removed
let exitHookInstalled = false;
function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const cleanup = () => {
    for (const child of live) {
      try { child.kill('SIGKILL'); } catch { /* already gone */ }
    }
    live.clear();
    for (const d of dirs) {
      try { rmSync(d, { recursive: true, force: true }); } catch { /* best effort */ }
    }
    dirs.clear();
  };
  process.on('exit', cleanup);
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.once(sig, () => { cleanup(); process.exit(130); });
  }
}

function withTimeout(promise, ms, what) {
  let t;
  const timer = new Promise((_, reject) => {
    t = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timer]).finally(() => clearTimeout(t));
}

/** Run `cairn init` on a data dir and return the parsed credentials. */
export function initStore(dataDir, listen = '127.0.0.1:0') {
  const out = execFileSync(CAIRN_BIN, ['init', '--data', dataDir, '--listen', listen], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: START_TIMEOUT_MS,
  });
  const lines = out.split('\n').map((l) => l.trim()).filter(Boolean);
  if (lines.length !== 1) throw new Error(`cairn init must print ONE line on stdout, got ${lines.length}: ${out}`);
  const creds = JSON.parse(lines[0]);
  for (const k of ['workspace', 'write_key', 'secret_key', 'owner_email', 'owner_password', 'url']) {
    if (typeof creds[k] !== 'string' || !creds[k]) throw new Error(`cairn init output lacks "${k}": ${lines[0]}`);
  }
  return creds;
}

/**
 * Start a server. Options:
 *   extraArgs: more `cairn serve` flags
 *   env: extra environment
 * Returns a handle; see the bottom of this function.
 */
export async function startServer({ extraArgs = [], env = {} } = {}) {
  installExitHook();
  const dataDir = mkdtempSync(join(tmpdir(), 'cairn-e2e-'));
  dirs.add(dataDir);
  let creds;
  try {
    creds = initStore(dataDir);
  } catch (e) {
    rmSync(dataDir, { recursive: true, force: true });
    dirs.delete(dataDir);
    throw e;
  }

  const state = { child: null, url: null, port: null, stderr: [], exited: null, starts: 0 };

  async function spawnServe() {
    const child = spawn(CAIRN_BIN, ['serve', '--data', dataDir, '--listen', '127.0.0.1:0', ...extraArgs], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    live.add(child);
    state.child = child;
    state.starts++;
    state.stderr = [];
    const exited = new Promise((res) => {
      child.once('exit', (code, signal) => {
        live.delete(child);
        res({ code, signal });
      });
    });
    state.exited = exited;
    createInterface({ input: child.stderr }).on('line', (l) => {
      state.stderr.push(l);
      if (state.stderr.length > 400) state.stderr.shift();
    });
    const listening = new Promise((res, rej) => {
      const rl = createInterface({ input: child.stdout });
      rl.on('line', (l) => {
        const m = /listening on (http:\/\/[^\s]+)/.exec(l);
        if (m) res(m[1].replace(/\/$/, ''));
      });
      exited.then(({ code, signal }) =>
        rej(new Error(`cairn serve exited before listening (code ${code}, signal ${signal}):\n${state.stderr.slice(-30).join('\n')}`)));
    });
    let url;
    try {
      url = await withTimeout(listening, START_TIMEOUT_MS, 'cairn serve to print "listening on"');
    } catch (e) {
      try { child.kill('SIGKILL'); } catch { /* gone */ }
      throw e;
    }
    state.url = url;
    state.port = Number(new URL(url).port);
    if (!(state.port > 0)) throw new Error(`"listening on" line has no real port: ${url}`);
    // bounded readiness poll
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      try {
        const r = await fetch(`${url}/healthz`);
        await r.arrayBuffer();
        if (r.status === 200) break;
      } catch { /* not yet */ }
      if (Date.now() > deadline) throw new Error(`/healthz not 200 within ${START_TIMEOUT_MS} ms`);
      await new Promise((r) => setImmediate(r));
    }
  }

  async function waitExit(signal) {
    const child = state.child;
    if (!child || !live.has(child)) return state.exited ? state.exited : { code: null, signal: null };
    child.kill(signal);
    try {
      return await withTimeout(state.exited, STOP_TIMEOUT_MS, `cairn to exit on ${signal}`);
    } catch (e) {
      child.kill('SIGKILL');
      await state.exited;
      throw e;
    }
  }

  async function request(path, { method = 'POST', headers = {}, body, raw } = {}) {
    const init = { method, headers: { ...headers } };
    if (raw !== undefined) init.body = raw;
    else if (body !== undefined) {
      init.body = JSON.stringify(body);
      if (!Object.keys(init.headers).some((h) => h.toLowerCase() === 'content-type')) init.headers['Content-Type'] = 'application/json';
    }
    const res = await fetch(state.url + path, init);
    const text = await res.text();
    let json;
    try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
    return { status: res.status, headers: res.headers, text, body: json };
  }

  const handle = {
    dataDir,
    creds,
    writeKey: creds.write_key,
    secretKey: creds.secret_key,
    get url() { return state.url; },
    get port() { return state.port; },
    get pid() { return state.child?.pid; },
    get starts() { return state.starts; },
    stderrTail(n = 30) { return state.stderr.slice(-n).join('\n'); },

    /** SIGTERM, wait for exit; resolves {code, signal}. */
    stop: () => waitExit('SIGTERM'),
    /** SIGKILL, wait for exit. */
    kill9: () => waitExit('SIGKILL'),
    /** Stop (SIGTERM) if running, then serve again on the same data dir (new port). */
    async restart() {
      if (state.child && live.has(state.child)) {
        const r = await waitExit('SIGTERM');
        if (r.code !== 0) throw new Error(`cairn exited ${r.code}/${r.signal} on SIGTERM:\n${handle.stderrTail()}`);
      }
      await spawnServe();
    },
    /** Stop, remove the data dir. Safe to call twice. */
    async close() {
      try {
        if (state.child && live.has(state.child)) await waitExit('SIGTERM');
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
        dirs.delete(dataDir);
      }
    },

    /** Raw request to the server. */
    request,
    /** Management API with the secret key. opts: {method='GET', body, headers, auth: key (null = none)} */
    api(path, { method = 'GET', body, headers = {}, auth } = {}) {
      const key = auth === undefined ? creds.secret_key : auth;
      const h = { ...headers };
      if (key !== null) h.Authorization = `Bearer ${key}`;
      return request(path, { method, body, headers: h });
    },
    /**
     * Tracking API. body is JSON-encoded unless opts.raw (Buffer/string) is given.
     * opts: {auth: write key (null = none), gzip: bool, headers, raw}
     */
    track(path, body, { auth, gzip = false, headers = {}, raw } = {}) {
      const key = auth === undefined ? creds.write_key : auth;
      const h = { 'Content-Type': 'application/json', ...headers };
      if (key !== null) h.Authorization = `Basic ${Buffer.from(`${key}:`).toString('base64')}`;
      let payload = raw !== undefined ? raw : JSON.stringify(body);
      if (gzip) {
        payload = gzipSync(Buffer.from(payload));
        h['Content-Encoding'] = 'gzip';
      }
      return request(path, { method: 'POST', headers: h, raw: payload });
    },

    /** Every stored event, newest first, following next_cursor (bounded). */
    async allEvents(query = '') {
      const out = [];
      let cursor = null;
      for (let page = 0; page < 10000; page++) {
        const qs = new URLSearchParams(query);
        qs.set('limit', '1000');
        if (cursor) qs.set('cursor', cursor);
        const r = await handle.api(`/api/v1/events?${qs}`);
        if (r.status !== 200) throw new Error(`GET /api/v1/events → ${r.status} ${r.text}`);
        out.push(...r.body.data);
        cursor = r.body.next_cursor;
        if (!cursor) return out;
      }
      throw new Error('GET /api/v1/events: too many pages');
    },
    async eventCount(query = '') {
      return (await handle.allEvents(query)).length;
    },
    /** A user's whole timeline, newest first, following next_cursor (bounded). */
    async timeline(id, limit = 1000) {
      const out = [];
      let cursor = null;
      for (let page = 0; page < 10000; page++) {
        const qs = new URLSearchParams({ limit: String(limit) });
        if (cursor) qs.set('cursor', cursor);
        const r = await handle.api(`/api/v1/users/${encodeURIComponent(id)}/events?${qs}`);
        if (r.status !== 200) throw new Error(`GET /api/v1/users/${id}/events → ${r.status} ${r.text}`);
        out.push(...r.body.data);
        cursor = r.body.next_cursor;
        if (!cursor) return out;
      }
      throw new Error('timeline: too many pages');
    },
    async user(id) {
      const r = await handle.api(`/api/v1/users/${encodeURIComponent(id)}`);
      if (r.status !== 200) throw new Error(`GET /api/v1/users/${id} → ${r.status} ${r.text}`);
      return r.body;
    },
  };

  try {
    await spawnServe();
  } catch (e) {
    await handle.close().catch(() => {});
    throw e;
  }
  return handle;
}

/** A unique id for this test run, handy to keep messageIds and user ids apart. */
let seq = 0;
export function uid(prefix = 'id') {
  seq++;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${seq}`;
}
