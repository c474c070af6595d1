// Helpers for the delivery e2e tests (tests/e2e/delivery.test.mjs,
// tests/e2e/delivery_crash.test.mjs): the real SMTP peer (tests/peers/smtp_peer.py)
// spawned with --exit-with-parent, its index.jsonl read back, the strict MIME + DKIM
// checker (tests/peers/mail_check.py), and small wrappers around the delivery API
// (providers, domains, sends, messages, suppressions, settings). The virtual clock is
// moved with journeyKit (lib/journeys.mjs), which also stamps events with its time.
//
//   const smtp = await startSmtpPeer({ reject: ['gone@x.example:550'] });
//   const d = deliveryKit(srv);
//   const prv = await d.provider({ channel: 'email', type: 'smtp', url: smtp.url, from: 'Shop <news@shop.example>', starttls: 0 });
//   const { id } = await d.send({ to: { email: 'a@x.example' }, channel: 'email', template: { subject: 'hi', text: 'hi' } });
//   await j.settle();                       // journeyKit's zero clock advance: the send is done
//   const mail = smtp.index();              // [{n, mail_from, rcpt_tos, file, size}]
//   const parsed = await checkMail(smtp.file(mail[0]), dom.dns_records);
//
// Also: closedPort() (a port that refuses connections: a provider that is down),
// filesContaining(dir, needle) (secrets at rest), webhookSignature / verifyWebhook
// (Standard Webhooks with node:crypto), euckrBytes (the SMS length a carrier counts).
//
// The Python peers need Debian's python3-aiosmtpd / python3-dkim / python3-nacl, which
// import only under /usr/bin/python3 (tests/peers/README.md).

import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { REPO } from './server.mjs';
import { expectStatus } from './journeys.mjs';

export const PYTHON = '/usr/bin/python3';
export const SMTP_PEER = join(REPO, 'tests/peers/smtp_peer.py');
export const MAIL_CHECK = join(REPO, 'tests/peers/mail_check.py');

const PEER_START_MS = 15000;

// ---- the SMTP peer ------------------------------------------------------------------------

const peers = new Set();
let exitHook = false;
function installExitHook() {
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    for (const p of peers) {
      try { p.child.kill('SIGKILL'); } catch { /* gone */ }
      try { rmSync(p.dir, { recursive: true, force: true }); } catch { /* best effort */ }
    }
  });
}

/**
 * Starts tests/peers/smtp_peer.py on a free loopback port with a fresh directory.
 * opts: reject (['addr:code', …]), countOnly.
 * Returns {port, url ('smtp://127.0.0.1:PORT'), dir, index(), count(), file(entry),
 * waitFor(n, {timeout}), close()}.
 */
export async function startSmtpPeer({ reject = [], countOnly = false } = {}) {
  installExitHook();
  const dir = mkdtempSync(join(tmpdir(), 'cairn-smtp-'));
  const args = [SMTP_PEER, '--dir', dir, '--port', '0', '--exit-with-parent'];
  if (reject.length) args.push('--reject', ...reject);
  if (countOnly) args.push('--count-only');
  const child = spawn(PYTHON, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr = [];
  createInterface({ input: child.stderr }).on('line', (l) => {
    stderr.push(l);
    if (stderr.length > 100) stderr.shift();
  });
  const exited = new Promise((res) => child.once('exit', (code, signal) => res({ code, signal })));
  const peer = { child, dir };
  peers.add(peer);
  let timer;
  const port = await Promise.race([
    new Promise((res) => createInterface({ input: child.stdout }).on('line', (l) => {
      const m = /^listening (\d+)$/.exec(l);
      if (m) res(Number(m[1]));
    })),
    exited.then(({ code, signal }) => {
      throw new Error(`smtp_peer.py exited before listening (${code}/${signal}):\n${stderr.join('\n')}`);
    }),
    new Promise((_, rej) => { timer = setTimeout(() => rej(new Error('smtp_peer.py did not print "listening <port>"')), PEER_START_MS); }),
  ]).finally(() => clearTimeout(timer));

  const indexPath = join(dir, 'index.jsonl');
  const api = {
    port,
    dir,
    url: `smtp://127.0.0.1:${port}`,
    /** Every complete index line (a last line without its newline is still being written). */
    index() {
      if (!existsSync(indexPath)) return [];
      const text = readFileSync(indexPath, 'utf8');
      const end = text.lastIndexOf('\n');
      if (end < 0) return [];
      return text.slice(0, end).split('\n').filter(Boolean).map((l) => JSON.parse(l));
    },
    count() { return api.index().length; },
    /** Path of the stored .eml of an index entry. */
    file(entry) { return join(dir, entry.file); },
    /** The raw bytes of an index entry's message. */
    raw(entry) { return readFileSync(join(dir, entry.file)); },
    /** Entries to rcpt (case-insensitive). */
    to(rcpt) { return api.index().filter((e) => e.rcpt_tos.some((r) => r.toLowerCase() === rcpt.toLowerCase())); },
    /** Waits (bounded) until the index has at least n entries; returns them. */
    async waitFor(n, { timeout = 10000 } = {}) {
      const deadline = Date.now() + timeout;
      for (;;) {
        const idx = api.index();
        if (idx.length >= n) return idx;
        if (Date.now() > deadline) throw new Error(`smtp peer: ${idx.length} of ${n} messages within ${timeout} ms`);
        await sleep(20);
      }
    },
    stderrTail() { return stderr.join('\n'); },
    async close() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      peers.delete(peer);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return api;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A loopback port nothing listens on (bound, then closed): connections are refused. */
export function closedPort() {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

/** The files under dir (not recursive) whose bytes contain needle: [name, …]. */
export function filesContaining(dir, needle) {
  const want = Buffer.from(needle);
  const hits = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (!statSync(path).isFile()) continue;
    if (readFileSync(path).includes(want)) hits.push(name);
  }
  return hits;
}

// ---- mail_check.py -----------------------------------------------------------------------

/** DKIM TXT records (the dns_records of POST /domains) as mail_check's --dkim-txt args. */
function dkimArgs(records) {
  const out = [];
  for (const r of records) out.push('--dkim-txt', `${r.name}=${r.value}`);
  return out;
}

/**
 * Runs mail_check.py on one .eml; resolves with its JSON. A parse defect (exit 1) fails
 * the test with the checker's stderr. records: [{name, value}] served as DNS TXT.
 */
export function checkMail(file, records = []) {
  return new Promise((resolve, reject) => {
    execFile(PYTHON, [MAIL_CHECK, file, ...dkimArgs(records)], { encoding: 'utf8', timeout: 30000, maxBuffer: 16 << 20 },
      (e, stdout, stderr) => {
        if (e) reject(new Error(`mail_check.py ${file} failed (exit ${e.code}):\n${stderr || e.message}`));
        else resolve(JSON.parse(stdout));
      });
  });
}

// ---- Standard Webhooks -------------------------------------------------------------------

/** The v1 signature of a Standard Webhooks request (secret "whsec_<base64>"). */
export function webhookSignature(secret, id, ts, body) {
  assert.ok(secret.startsWith('whsec_'), `secret ${secret} is whsec_…`);
  const key = Buffer.from(secret.slice(6), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest('base64')}`;
}

/** True when one of the header's space-separated signatures matches. */
export function verifyWebhook(secret, headers, body) {
  const id = headers['webhook-id'], ts = headers['webhook-timestamp'], sig = headers['webhook-signature'];
  if (!id || !ts || !sig) return false;
  const want = Buffer.from(webhookSignature(secret, id, ts, body));
  return sig.split(' ').some((s) => {
    const got = Buffer.from(s);
    return got.length === want.length && timingSafeEqual(got, want);
  });
}

// ---- SMS length, as the spec counts it -------------------------------------------------

/** EUC-KR bytes of a text made of ASCII and Hangul syllables (each syllable 2 bytes). */
export function euckrBytes(text) {
  let n = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0);
    if (cp < 0x80) n += 1;
    else if (cp >= 0xac00 && cp <= 0xd7a3) n += 2;
    else throw new Error(`euckrBytes: only ASCII and Hangul syllables, not U+${cp.toString(16)}`);
  }
  return n;
}

// ---- the delivery API ----------------------------------------------------------------------

/** Delivery API helpers around a server handle from startServer(). */
export function deliveryKit(srv) {
  const api = (path, opts) => srv.api(`/api/v1${path}`, opts);
  const kit = {
    api,
    /** POST /providers → the provider (201 expected). */
    async provider(body) {
      return expectStatus(await api('/providers', { method: 'POST', body }), 201, `create provider ${JSON.stringify(body)}`);
    },
    async patchProvider(id, body) {
      return expectStatus(await api(`/providers/${id}`, { method: 'PATCH', body }), 200, `PATCH provider ${id}`);
    },
    async providers(channel) {
      const qs = channel ? `?channel=${encodeURIComponent(channel)}` : '';
      return expectStatus(await api(`/providers${qs}`), 200, 'GET /providers').data;
    },
    /** Deletes every provider of channel (each test starts with only its own). */
    async clearProviders(channel) {
      for (const p of await kit.providers(channel)) {
        expectStatus(await api(`/providers/${p.id}`, { method: 'DELETE' }), 200, `DELETE provider ${p.id}`);
      }
    },
    async domain(body) {
      return expectStatus(await api('/domains', { method: 'POST', body }), 201, `create domain ${body.domain}`);
    },
    /** POST /messages/send → {id, status, duplicate} (202 expected unless status given). */
    async send(body, status = 202) {
      return expectStatus(await api('/messages/send', { method: 'POST', body }), status, `send ${JSON.stringify(body).slice(0, 300)}`);
    },
    async message(id) {
      return expectStatus(await api(`/messages/${encodeURIComponent(id)}`), 200, `GET message ${id}`);
    },
    /** GET /messages with a filter ({status, channel, user_id, journey_id}), every page. */
    async messages(filter = {}) {
      const out = [];
      let cursor = null;
      for (let page = 0; page < 1000; page++) {
        const qs = new URLSearchParams({ ...filter, limit: '1000' });
        if (cursor) qs.set('cursor', cursor);
        const b = expectStatus(await api(`/messages?${qs}`), 200, `GET /messages?${qs}`);
        out.push(...b.data);
        cursor = b.next_cursor;
        if (!cursor) return out;
      }
      throw new Error('messages: too many pages');
    },
    async stats() {
      return expectStatus(await api('/messages/stats'), 200, 'GET /messages/stats').by_status;
    },
    async suppressions() {
      const out = [];
      let cursor = null;
      for (let page = 0; page < 100; page++) {
        const qs = new URLSearchParams({ limit: '1000' });
        if (cursor) qs.set('cursor', cursor);
        const b = expectStatus(await api(`/suppressions?${qs}`), 200, 'GET /suppressions');
        out.push(...b.data);
        cursor = b.next_cursor;
        if (!cursor) return out;
      }
      throw new Error('suppressions: too many pages');
    },
    async setting(key, value) {
      return expectStatus(await api(`/settings/${key}`, { method: 'PUT', body: { value } }), 200, `PUT setting ${key}`);
    },
    /** The user's events named name (newest first). */
    async events(userId, name) {
      return (await srv.timeline(userId)).filter((e) => e.event === name);
    },
  };
  return kit;
}

/**
 * The statuses of a message's history, in order, without "sending" rows: a claim by
 * the dispatcher may be recorded too, and the tests compare the outcomes around it.
 */
export const entriesOf = (m) => m.history.filter((h) => h.status !== 'sending');
export const historyOf = (m) => entriesOf(m).map((h) => h.status);
