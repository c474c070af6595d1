// A scriptable HTTP peer on loopback, for webhook / SMS-gateway / ESP-API delivery tests.
//
//   import { startHttpPeer } from '../peers/http_peer.mjs';
//   const peer = await startHttpPeer();
//   peer.script('/hook', [{ status: 500 }, { timeout: true }, { status: 200, body: { ok: true } }]);
//   ... point cairn at `${peer.url}/hook` ...
//   await peer.waitFor((r) => r.path === '/hook', { count: 3 });
//   peer.requests   // [{method, path, url, headers, body, raw, json, at}, ...]
//   await peer.close();
//
// Also a CLI for benches (see main() at the bottom):
//   node tests/peers/http_peer.mjs --port 0 [--host 127.0.0.1] [--record] [--exit-with-parent]
// prints `listening <port>` on stdout and answers every request with the default
// 200 response; --record also prints one JSON line per request on stdout. On
// SIGTERM/SIGINT it prints `count <n>` and exits 0. See tests/peers/README.md.

import http from 'node:http';
import { pathToFileURL } from 'node:url';

const DEFAULT_MALFORMED = 'HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{"ok"';

function pathnameOf(rawUrl) {
  const q = rawUrl.indexOf('?');
  return q < 0 ? rawUrl : rawUrl.slice(0, q);
}

function parseJson(text) {
  if (!text) return null;
  try { return JSON.parse(text); } catch { return null; }
}

function defaultBody(n) {
  return `{"ok":true,"id":"${n}"}`;
}

function sendDefault(res, n) {
  const body = defaultBody(n);
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** Write one scripted (normal) response: {status, body, headers}. */
function sendScripted(res, r, n) {
  const status = r.status ?? 200;
  const headers = { ...(r.headers || {}) };
  const has = (name) => Object.keys(headers).some((k) => k.toLowerCase() === name);
  let body;
  if (r.body === undefined || r.body === null) body = '';
  else if (typeof r.body === 'string' || Buffer.isBuffer(r.body)) body = r.body;
  else {
    body = JSON.stringify(r.body);
    if (!has('content-type')) headers['Content-Type'] = 'application/json';
  }
  if (typeof body === 'string' && body.length && !has('content-type')) headers['Content-Type'] = 'text/plain; charset=utf-8';
  if (!has('content-length') && !has('transfer-encoding')) headers['Content-Length'] = Buffer.byteLength(body);
  res.writeHead(status, headers);
  res.end(body);
}

function makeServer(handler) {
  const server = http.createServer({ keepAlive: true }, handler);
  server.keepAliveTimeout = 60000;
  server.headersTimeout = 65000; // must exceed keepAliveTimeout
  server.requestTimeout = 0; // never cut a slow client off; tests decide
  server.timeout = 0;
  server.maxHeadersCount = 0;
  return server;
}

function listen(server, port, host) {
  return new Promise((resolve, reject) => {
    const onError = (e) => reject(e);
    server.once('error', onError);
    server.listen({ port, host, backlog: 4096 }, () => {
      server.off('error', onError);
      resolve(server.address().port);
    });
  });
}

/**
 * Start a peer. opts: { port = 0, host = '127.0.0.1' }.
 * Returns { url, port, requests, script(path, responses), reset(), waitFor(pred, {count, timeout}), close() }.
 */
export async function startHttpPeer(opts = {}) {
  const host = opts.host || '127.0.0.1';
  const requests = [];
  const scripts = new Map(); // pathname -> { responses, next }
  const sockets = new Set();
  const held = new Set(); // sockets of {timeout:true} requests
  const waiters = new Set();
  let seq = 0;
  let closed = false;

  function notify() {
    for (const w of waiters) w.check();
  }

  function nextScripted(pathname) {
    const s = scripts.get(pathname);
    if (!s || s.responses.length === 0) return null;
    const r = s.responses[Math.min(s.next, s.responses.length - 1)];
    s.next++;
    return r;
  }

  const server = makeServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const n = ++seq;
      const raw = Buffer.concat(chunks);
      const body = raw.toString('utf8');
      const path = pathnameOf(req.url);
      const rec = { n, method: req.method, path, url: req.url, headers: req.headers, body, raw, json: parseJson(body), at: Date.now() };
      // Pick the answer before recording, so a waiter woken by this request sees the
      // script already advanced.
      const r = nextScripted(path);
      requests.push(rec);
      notify();
      const answer = () => {
        if (res.destroyed || req.socket.destroyed) return;
        if (!r) return sendDefault(res, n);
        if (r.timeout) {
          held.add(req.socket);
          req.socket.once('close', () => held.delete(req.socket));
          return; // never answer
        }
        if (r.malformed) {
          const sock = req.socket;
          const text = typeof r.malformed === 'string' ? r.malformed : (r.raw ?? DEFAULT_MALFORMED);
          sock.write(text, () => sock.destroy());
          return;
        }
        sendScripted(res, r, n);
      };
      if (r && r.delayMs > 0) setTimeout(answer, r.delayMs);
      else answer();
    });
  });
  server.on('connection', (sock) => {
    if (closed) { sock.destroy(); return; }
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
  });
  server.on('clientError', (err, sock) => {
    if (sock.writable) sock.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else sock.destroy();
  });

  const port = await listen(server, opts.port || 0, host);

  return {
    url: `http://${host}:${port}`,
    port,
    requests,
    /** Answer requests to exactly `path` (pathname, no query) with `responses` in order; the last repeats. */
    script(path, responses) {
      const list = Array.isArray(responses) ? responses : [responses];
      scripts.set(path, { responses: list, next: 0 });
    },
    /** Forget recorded requests (the same array is emptied) and all scripts. */
    reset() {
      requests.length = 0;
      scripts.clear();
    },
    /**
     * Wait until `count` recorded requests satisfy `pred` (default: any request);
     * resolves with those requests, rejects after `timeout` ms.
     */
    waitFor(pred = () => true, { count = 1, timeout = 10000 } = {}) {
      if (typeof pred === 'string') { const p = pred; pred = (r) => r.path === p; }
      return new Promise((resolve, reject) => {
        const w = {
          check() {
            const got = requests.filter(pred);
            if (got.length >= count) { clearTimeout(w.timer); waiters.delete(w); resolve(got); }
          },
        };
        w.timer = setTimeout(() => {
          waiters.delete(w);
          reject(new Error(`http peer: timed out after ${timeout} ms waiting for ${count} request(s); have ${requests.filter(pred).length} matching of ${requests.length}`));
        }, timeout);
        waiters.add(w);
        w.check();
      });
    },
    /** Stop listening and end every connection, held (timeout) ones included. */
    async close() {
      if (closed) return;
      closed = true;
      const done = new Promise((resolve) => server.close(() => resolve()));
      for (const s of held) s.destroy();
      for (const s of sockets) s.destroy();
      if (typeof server.closeAllConnections === 'function') server.closeAllConnections();
      await done;
      for (const w of waiters) { clearTimeout(w.timer); }
      waiters.clear();
    },
  };
}

// ---- CLI (benches) ---------------------------------------------------------

async function main(argv) {
  let port = 0;
  let host = '127.0.0.1';
  let record = false;
  let exitWithParent = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--port') port = Number(argv[++i]);
    else if (a.startsWith('--port=')) port = Number(a.slice(7));
    else if (a === '--host') host = argv[++i];
    else if (a === '--record') record = true;
    else if (a === '--exit-with-parent') exitWithParent = true;
    else if (a === '-h' || a === '--help') {
      process.stdout.write('usage: node tests/peers/http_peer.mjs [--port N] [--host H] [--record] [--exit-with-parent]\n');
      return;
    } else {
      process.stderr.write(`http_peer: unknown argument ${a}\n`);
      process.exit(2);
    }
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write('http_peer: bad --port\n');
    process.exit(2);
  }

  let seq = 0;
  const server = makeServer(record
    ? (req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const n = ++seq;
        const body = Buffer.concat(chunks).toString('utf8');
        process.stdout.write(JSON.stringify({ n, method: req.method, path: pathnameOf(req.url), url: req.url, headers: req.headers, body, at: Date.now() }) + '\n');
        sendDefault(res, n);
      });
    }
    : (req, res) => {
      req.resume();
      req.on('end', () => sendDefault(res, ++seq));
    });
  const bound = await listen(server, port, host);
  process.stdout.write(`listening ${bound}\n`);

  const stop = () => {
    process.stdout.write(`count ${seq}\n`, () => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  if (exitWithParent) {
    // Don't outlive the process that started us (checked once a second).
    const ppid = process.ppid;
    setInterval(() => { if (process.ppid !== ppid) process.exit(0); }, 1000).unref();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((e) => {
    process.stderr.write(`http_peer: ${e.stack || e}\n`);
    process.exit(1);
  });
}
