// bench/delivery.mjs — rows 12–15 of `make bench` (delivery): messages per
// second from a filled outbox to postfix's smtp-sink (no DKIM, ed25519 DKIM,
// RSA-2048 DKIM) beside smtp-source against the same sink, and to a local
// HTTP stub beside wrk against the same stub; outbox → accepted latency at
// half those rates; the duplicates a kill -9 during delivery leaves; tracking
// hits (open pixel, click redirect) per second and their p99 beside
// single-event ingest on the same server (row 15). Called from bench/run.mjs
// with its helpers (BENCH_ONLY=delivery runs only these rows); see
// docs/bench.md.
//
// Everything goes through the HTTP API of a real `cairn serve`: providers
// (POST /api/v1/providers), sender domains (POST /api/v1/domains), messages
// (POST /api/v1/messages/send). The outbox is filled behind the kill switch
// (PUT /api/v1/settings/kill_switch {"channels":[…]}: the dispatcher parks
// every claimed message as "held"); lifting it releases them all at once,
// and the clock runs from that call until the stats show none left queued.
// Timestamps are read with read-only sqlite3 queries on state.db (bench-only).
//
// Environment (all optional):
//   BENCH_DLV_EMAILS     emails in the filled outbox for each row-12 run (default 50,000; quick 10,000)
//   BENCH_DLV_HTTP       SMS messages in the filled outbox for row 13 (default 100,000; quick 20,000)
//   BENCH_DLV_CAP        max seconds of each delivery run; a capped run still gives a rate, measured
//                        while the outbox was never empty (default 15; quick 6)
//   BENCH_DLV_FILL_CAP   max seconds of filling one outbox through /messages/send (default 25; quick 6):
//                        the outbox holds what was sent by then, which may be fewer than asked
//   BENCH_DLV_LAT_SECONDS  seconds of steady sending for each row-14 latency run (default 8; quick 4)
//   BENCH_DLV_LAT_MAX    highest rate (messages/s) row 14 offers (default 4,000)
//   BENCH_DLV_CRASH      SMS messages in the crash test's outbox (default 10,000; quick 5,000)
//   BENCH_DLV_TRK_SECONDS  seconds of each row-15 wrk run: pixel, click, /v1/track (default 8; quick 4)
//   BENCH_DLV_PARTS      which parts to run, comma-separated: email,http,latency,crash,tracking (default all);
//                        latency and crash run inside the email / http parts, tracking (row 15) on its own
//   BENCH_PERF=1         `perf record` cairn during each delivery run; top symbols in the diagnostics
import http from 'node:http';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const SMTP_SINK = '/usr/sbin/smtp-sink';
const SMTP_SOURCE = '/usr/sbin/smtp-source';
const HTTP_STUB = path.join(root, 'tests/peers/http_peer.mjs');
const SMTP_CONNS = Number(process.env.BENCH_DLV_SMTP_CONNS || 16);
const HTTP_CONNS = 32;
const FILL_CONNS = 32;
const FROM = 'Bench <bench@bench.example>';

export function dlvSettings(num, QUICK) {
  const all = ['email', 'http', 'latency', 'crash', 'tracking'];
  const parts = (process.env.BENCH_DLV_PARTS || all.join(',')).split(',').map((x) => x.trim()).filter(Boolean);
  for (const p of parts)
    if (!all.includes(p)) throw new Error(`BENCH_DLV_PARTS: unknown part '${p}' (${all.join(',')})`);
  return {
    emails: Math.round(num('BENCH_DLV_EMAILS', QUICK ? 10_000 : 50_000)),
    http: Math.round(num('BENCH_DLV_HTTP', QUICK ? 20_000 : 100_000)),
    cap: num('BENCH_DLV_CAP', QUICK ? 6 : 15),
    fillCap: num('BENCH_DLV_FILL_CAP', QUICK ? 6 : 25),
    latS: num('BENCH_DLV_LAT_SECONDS', QUICK ? 4 : 8),
    latMax: num('BENCH_DLV_LAT_MAX', 4000),
    crash: Math.round(num('BENCH_DLV_CRASH', QUICK ? 5_000 : 10_000)),
    trkS: num('BENCH_DLV_TRK_SECONDS', QUICK ? 4 : 8),
    ceilS: QUICK ? 3 : 5,
    ceilMsgs: QUICK ? 10_000 : 30_000,
    parts,
  };
}

// ---------------------------------------------------------------- wrk script --
// MODE email|sms → POST /api/v1/messages/send (Bearer SECRET); stub → POST
// /sms with a ~200-byte JSON body like the one cairn sends. MAX_REQ: stop each
// thread after that many responses (0: only -d bounds the run).
const LUA = String.raw`
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
end
local mode, max_req
local n, got = 0, 0
function init(args)
  mode = args[1] or "email"
  local key = args[2] or ""
  max_req = tonumber(args[3] or "0")
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  if mode == "stub" then
    wrk.path = "/sms"
  else
    wrk.path = "/api/v1/messages/send"
    wrk.headers["Authorization"] = "Bearer " .. key
  end
  if max_req > 0 then response = function() got = got + 1; if got >= max_req then wrk.thread:stop() end end end
end
function request()
  n = n + 1
  local i = (tid or 0) * 10000000 + n
  local body
  if mode == "email" then
    body = string.format('{"to":{"email":"u%d@x.example"},"channel":"email","template":{"subject":"Your order #%d has shipped",' ..
      '"text":"Hi, your order #%d is on its way. Track it at https://shop.example.com/orders/%d","html":"<html><body>' ..
      '<h1>Your order has shipped</h1><p>Hi, your order #%d is on its way.</p><p><a href=\\"https://shop.example.com/orders/%d\\">' ..
      'Track your package</a></p><p>Thanks for shopping with us.</p></body></html>"}}', i, i, i, i, i, i)
  elseif mode == "sms" then
    body = string.format('{"to":{"phone":"010-%04d-%04d"},"channel":"sms","template":{"text":' ..
      '"[Bench] Your verification code is %06d. It expires in 5 minutes."}}', math.floor(i / 10000) % 10000, i % 10000, i % 1000000)
  else
    body = string.format('{"to":"+8210%08d","text":"[Bench] Your verification code is %06d. It expires in 5 minutes.",' ..
      '"type":"sms","bytes":66,"message_id":"msg_%032x"}', i % 100000000, i % 1000000, i)
  end
  return wrk.format(nil, nil, nil, body)
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('BENCHJSON {"duration_us":%d,"requests":%d,"ok":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},"latency_us":{"p50":%d,"p99":%d}}\n',
    summary.duration, summary.requests, summary.requests - e.status, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
`;

// The same bodies for the node-paced sender of row 14.
function sendBody(channel, i) {
  if (channel === 'email')
    return JSON.stringify({ to: { email: `l${i}@x.example` }, channel: 'email', template: {
      subject: `Your order #${i} has shipped`, text: `Hi, your order #${i} is on its way. Track it at https://shop.example.com/orders/${i}`,
      html: `<html><body><h1>Your order has shipped</h1><p>Hi, your order #${i} is on its way.</p><p><a href="https://shop.example.com/orders/${i}">` +
        'Track your package</a></p><p>Thanks for shopping with us.</p></body></html>' } });
  return JSON.stringify({ to: { phone: `010-${String(Math.floor(i / 10000) % 10000).padStart(4, '0')}-${String(i % 10000).padStart(4, '0')}` },
    channel: 'sms', template: { text: `[Bench] Your verification code is ${String(i % 1_000_000).padStart(6, '0')}. It expires in 5 minutes.` } });
}

// ------------------------------------------------------------------ helpers --
function req(agent, url, { method = 'GET', headers = {}, body, timeout = 30_000 } = {}) {
  return new Promise((resolve, reject) => {
    const r = http.request(url, { method, headers, agent, timeout }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (data += d));
      res.on('end', () => {
        let json = null;
        try {
          json = JSON.parse(data);
        } catch {}
        resolve({ status: res.statusCode, json, text: data });
      });
    });
    r.on('timeout', () => r.destroy(new Error('timeout')));
    r.on('error', reject);
    r.end(body);
  });
}

function client(srv, creds) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const headers = { 'Content-Type': 'application/json', Authorization: `Bearer ${creds.secret_key}` };
  const api = (method, p, body, timeout) =>
    req(agent, `${srv.url}${p}`, { method, headers, body: body == null ? undefined : typeof body === 'string' ? body : JSON.stringify(body), timeout });
  const must = async (method, p, body, ok = [200, 201, 202]) => {
    const r = await api(method, p, body);
    if (!ok.includes(r.status)) throw new Error(`${method} ${p}: HTTP ${r.status} ${r.text.slice(0, 300)}`);
    return r.json;
  };
  return {
    agent, api, must,
    stats: async () => (await must('GET', '/api/v1/messages/stats')).by_status || {},
    close: () => agent.destroy(),
  };
}

const pending = (st) => (st.queued || 0) + (st.sending || 0) + (st.held || 0);
const pctile = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] : null);

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function canConnect(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

const sqlOne = (h, db, sql) => {
  const r = h.sh('sqlite3', ['-readonly', db, '.timeout 5000', sql], { maxBuffer: 64 << 20 });
  if (!r.ok) throw new Error(`sqlite3 ${sql.slice(0, 60)}…: ${r.err}`);
  return r.out;
};

const lastError = (h, logName) => {
  try {
    const lines = fs.readFileSync(path.join(h.scratch, `${logName}.stderr`), 'utf8').split('\n').filter((l) => /"level":"error"/.test(l));
    if (!lines.length) return null;
    const j = JSON.parse(lines[lines.length - 1]);
    return `${j.msg}: ${j.error || ''} (${lines.length} error lines)`;
  } catch {
    return null;
  }
};

const dispatcherTicks = (m) => [...m.values()].filter((t) => t.comm === 'cairn-deliver').reduce((a, t) => a + t.ticks, 0);

// postfix's smtp-sink on a free port, with its running counter (-c) parsed:
// mesg() is the number of DATA transactions it has completed.
async function startSink(h) {
  const port = await freePort();
  const args = ['-c', ...(process.getuid && process.getuid() === 0 ? ['-u', 'nobody'] : []), `127.0.0.1:${port}`, '1000'];
  const proc = h.spawnTracked(SMTP_SINK, args);
  let last = 0, tail = '', err = '';
  proc.stdout.setEncoding('utf8');
  proc.stdout.on('data', (d) => {
    tail = (tail + d).slice(-200);
    const all = [...tail.matchAll(/mesg=(\d+)/g)];
    if (all.length) last = Number(all[all.length - 1][1]);
  });
  proc.stderr.on('data', (d) => (err += d));
  const t0 = performance.now();
  while (!(await canConnect(port))) {
    if (proc.exitCode !== null || performance.now() - t0 > 5000) throw new Error(`smtp-sink did not listen on ${port}: ${err.trim() || 'no output'}`);
    await h.sleep(50);
  }
  return { proc, port, pid: proc.pid, mesg: () => last, stop: () => h.stopProc(proc, 3000) };
}

// tests/peers/http_peer.mjs --port 0: prints "listening <port>", and "count <n>" when stopped.
async function startStub(h) {
  const proc = h.spawnTracked(process.execPath, [HTTP_STUB, '--port', '0', '--exit-with-parent']);
  let out = '';
  proc.stdout.setEncoding('utf8');
  proc.stdout.on('data', (d) => (out += d));
  const t0 = performance.now();
  let m;
  while (!(m = out.match(/listening (\d+)/))) {
    if (proc.exitCode !== null || performance.now() - t0 > 10_000) throw new Error(`the HTTP stub did not start: ${out.trim() || 'no output'}`);
    await h.sleep(20);
  }
  const port = Number(m[1]);
  return {
    proc, port, pid: proc.pid, url: `http://127.0.0.1:${port}`,
    // stops it and resolves to the number of requests it answered
    stop: async () => {
      await h.stopProc(proc, 3000);
      const c = out.match(/count (\d+)/);
      return c ? Number(c[1]) : null;
    },
  };
}

// wrk with the script above; resolves to its BENCHJSON summary (+ wall
// seconds). `until`, when given, is polled every 100 ms; once it resolves true
// wrk gets SIGINT, which ends the run and still prints the summary (wrk's main
// thread sleeps for all of -d even when every thread has stopped itself).
async function runWrk(h, url, mode, { key = '', seconds, conns = FILL_CONNS, maxPerThread = 0, until }) {
  const lua = path.join(h.scratch, 'delivery.lua');
  if (!fs.existsSync(lua)) fs.writeFileSync(lua, LUA);
  const t0 = performance.now();
  const proc = h.spawnTracked('wrk', ['-t2', `-c${conns}`, `-d${Math.max(1, Math.round(seconds))}s`, '--timeout', '30s', '-s', lua, url,
    '--', mode, key, String(maxPerThread)]);
  let out = '', err = '', checking = false, stopped = null;
  proc.stdout.on('data', (d) => (out += d));
  proc.stderr.on('data', (d) => (err += d));
  const watch = until && setInterval(async () => {
    if (checking || stopped != null) return;
    checking = true;
    if (await until().catch(() => false)) {
      stopped = (performance.now() - t0) / 1000;
      proc.kill('SIGINT');
    }
    checking = false;
  }, 100);
  const code = await new Promise((resolve) =>
    proc.exitCode !== null ? resolve(proc.exitCode) : proc.once('exit', (c, sig) => resolve(c ?? sig)));
  if (watch) clearInterval(watch);
  const wall = (performance.now() - t0) / 1000;
  const m = out.match(/^BENCHJSON (.*)$/m);
  if (!m) throw new Error(`wrk ${mode} failed (${code}): ${(err || out).slice(0, 300)}`);
  const j = JSON.parse(m[1]);
  j.seconds = j.duration_us / 1e6;
  j.wall = wall;
  j.stoppedAt = stopped;
  j.rps = j.ok / j.seconds;
  return j;
}

// Polls fn() every everyMs until it returns truthy or capMs pass.
async function pollUntil(h, fn, capMs, everyMs = 100) {
  const until = performance.now() + capMs;
  for (;;) {
    const v = await fn().catch(() => null);
    if (v) return { ok: true, value: v, at: performance.now() };
    if (performance.now() >= until) return { ok: false, value: v, at: performance.now() };
    await h.sleep(everyMs);
  }
}

// Fills the outbox (kill switch on for `channel`): n sends through
// /messages/send with wrk, then waits until the dispatcher has parked all of
// them as held. Returns { acked, held, secs, rate, wrk }.
async function fill(h, S, srv, c, creds, channel, n) {
  h.log(`[${h.elapsed()}s] delivery: filling the ${channel} outbox with ${h.fmtInt(n)} messages via /messages/send (cap ${S.fillCap} s)`);
  const before = await c.stats();
  const held0 = before.held || 0;
  const total = (st) => Object.values(st).reduce((a, b) => a + b, 0);
  const total0 = total(before);
  const th0 = h.threadTicks(srv.pid);
  const t0 = performance.now();
  let reachedAt = null;
  const w = await runWrk(h, srv.url, channel, { key: creds.secret_key, seconds: S.fillCap, maxPerThread: Math.ceil(n / 2) + FILL_CONNS,
    until: async () => {
      if (total(await c.stats()) - total0 < n) return false;
      reachedAt = performance.now();
      return true;
    } });
  // the sends end when the stats first showed n more messages, or at the cap
  const sendS = ((reachedAt ?? performance.now()) - t0) / 1000;
  let st = await c.stats();
  const acked = total(await c.stats()) - total0;
  const done = await pollUntil(h, async () => {
    st = await c.stats();
    return (st.held || 0) - held0 >= acked && !(st.queued || 0) && !(st.sending || 0);
  }, 30_000, 100);
  const secs = (performance.now() - t0) / 1000;
  const th1 = h.threadTicks(srv.pid);
  const held = (st.held || 0) - held0;
  if (!held) throw new Error(`no ${channel} message was held after filling (stats ${JSON.stringify(st)}; wrk ${JSON.stringify(w.errors)})`);
  return { acked, held, sendS, secs, rate: acked / sendS, wrk: w, settled: done.ok, stats: st,
    threads: h.threadReport(th0, th1, secs), cairnPct: (100 * (h.sumTicks(th1) - h.sumTicks(th0))) / h.CLK_TCK / secs };
}

// BENCH_PERF=1: `perf record -g` on pid for `seconds`; done() resolves to the
// top symbols (by thread name, library, symbol), or null.
function perfStart(h, pid, seconds) {
  if (process.env.BENCH_PERF !== '1' || !h.sh('which', ['perf']).ok) return null;
  const data = path.join(h.scratch, `perf-${pid}.data`);
  const proc = h.spawnTracked('perf', ['record', '-q', '-g', '-o', data, '-p', String(pid), '--', 'sleep', String(Math.max(1, Math.round(seconds)))]);
  proc.stdout.resume();
  proc.stderr.resume();
  return {
    done: async () => {
      if (proc.exitCode === null && proc.signalCode === null) await new Promise((r) => proc.once('exit', r));
      const r = h.sh('perf', ['report', '-i', data, '--no-children', '--sort', 'comm,dso,sym', '-g', 'none', '--stdio'], { maxBuffer: 64 << 20 });
      fs.rmSync(data, { force: true });
      return r.ok ? r.out.split('\n').filter((l) => /^\s+\d+\.\d+%/.test(l)).slice(0, 12).map((l) => l.trim().replace(/\s+/g, ' ')) : null;
    },
  };
}

// Lifts the kill switch and measures until nothing is queued (or the cap).
// Rate: messages sent ÷ (the last sent_at − the moment the PUT was sent), both
// read from state.db in one query (when capped, the server is still sending
// while it runs: count and last sent_at are still one snapshot).
async function release(h, S, srv, c, dir, channel, n, { peerPid, sink } = {}) {
  const db = path.join(dir, 'state.db');
  const th0 = h.threadTicks(srv.pid), box0 = h.boxTicks(), peer0 = peerPid ? h.procTicks(peerPid) || 0 : 0, mesg0 = sink ? sink.mesg() : 0;
  const perf = perfStart(h, srv.pid, Math.min(S.cap, 5));
  const wall0 = Date.now(), t0 = performance.now();
  await c.must('PUT', '/api/v1/settings/kill_switch', { value: {} });
  const putS = (performance.now() - t0) / 1000;
  let st = null;
  const timeline = []; // [seconds since the PUT was sent, sent so far, cairn-deliver ticks]
  const done = await pollUntil(h, async () => {
    st = await c.stats();
    timeline.push([(performance.now() - t0) / 1000, st.sent || 0, dispatcherTicks(h.threadTicks(srv.pid))]);
    return pending(st) === 0;
  }, S.cap * 1000, 100);
  const th1 = h.threadTicks(srv.pid), box1 = h.boxTicks(), peer1 = peerPid ? h.procTicks(peerPid) || 0 : 0;
  const pollS = (done.at - t0) / 1000;
  const [sent, minAt, maxAt] = sqlOne(h, db, `SELECT count(*), coalesce(min(sent_at), 0), coalesce(max(sent_at), 0) FROM messages ` +
    `WHERE status = 'sent' AND channel = '${channel}' AND sent_at >= ${wall0}`).split('|').map(Number);
  const spanS = maxAt ? Math.max(0.001, (maxAt - wall0) / 1000) : pollS;
  const out = {
    n, sent, capped: !done.ok, putS, pollS, spanS, rate: sent / spanS,
    firstS: minAt ? (minAt - wall0) / 1000 : null,
    dispatchRate: maxAt > minAt ? sent / ((maxAt - minAt) / 1000) : null,
    stats: st,
    dispatcherPct: (100 * (dispatcherTicks(th1) - dispatcherTicks(th0))) / h.CLK_TCK / pollS,
    cairnPct: (100 * (h.sumTicks(th1) - h.sumTicks(th0))) / h.CLK_TCK / pollS,
    peerPct: (100 * (peer1 - peer0)) / h.CLK_TCK / pollS,
    threads: h.threadReport(th0, th1, pollS),
    box: h.boxReport(box0, box1, h.sumTicks(th1) - h.sumTicks(th0) + (peer1 - peer0), `delivery ${channel}:`),
    failed: (st?.failed || 0) + (st?.dead || 0),
    timeline: perSecond(timeline, dispatcherTicks(th0), h.CLK_TCK),
  };
  if (sink) out.sinkMesg = sink.mesg() - mesg0;
  if (perf) out.perf = await perf.done();
  return out;
}

// The polls' [t, sent, ticks] as one entry per whole second since the PUT:
// messages sent in that second and the cairn-deliver thread's CPU % in it
// (from the last poll at or before each second; null when no poll answered
// within that second, e.g. while the PUT itself was running).
function perSecond(samples, ticks0, clk) {
  const out = [];
  if (!samples.length) return out;
  let prev = [0, 0, ticks0], k = 0;
  for (let sec = 1; sec <= Math.floor(samples[samples.length - 1][0]); sec++) {
    let s = prev;
    while (k < samples.length && samples[k][0] <= sec) s = samples[k++];
    if (s === prev) {
      out.push(null);
      continue;
    }
    out.push({ sent: s[1] - prev[1], cpu: (100 * (s[2] - prev[2])) / clk / (s[0] - prev[0]) });
    prev = s;
  }
  return out;
}

async function newServer(h, dir, logName) {
  return h.startServer(h.CAIRN, ['serve', '--data', dir, '--listen', '127.0.0.1:0'], logName);
}

// A fresh store and server with the kill switch `kill` (channels) and one
// provider; fn(srv, c, creds, dir) runs with it, and the server is stopped after.
async function withServer(h, name, kill, provider, fn) {
  const dir = path.join(h.scratch, `store-dlv-${name}`);
  const creds = await h.initStore(dir);
  const srv = await newServer(h, dir, `cairn-dlv-${name}`);
  const c = client(srv, creds);
  try {
    if (kill) await c.must('PUT', '/api/v1/settings/kill_switch', { value: { channels: kill } });
    if (provider) await c.must('POST', '/api/v1/providers', provider);
    return await fn(srv, c, creds, dir);
  } finally {
    c.close();
    await h.stopProc(srv.proc);
  }
}

const smtpProvider = (port) => ({ channel: 'email', type: 'smtp', url: `smtp://127.0.0.1:${port}`, from: FROM, starttls: 0, concurrency: SMTP_CONNS });
const httpProvider = (url) => ({ channel: 'sms', type: 'http', url: `${url}/sms`, concurrency: HTTP_CONNS });

// ------------------------------------------------------------ row 12: email --
async function benchEmail(h, S) {
  const out = { runs: {} };
  if (!fs.existsSync(SMTP_SINK) || !fs.existsSync(SMTP_SOURCE)) {
    out.skipped = `${SMTP_SINK} or ${SMTP_SOURCE} is missing (postfix is installed by \`make deps\`)`;
    return out;
  }
  const sink = await startSink(h);
  try {
    // one filled outbox, stopped, copied for each run
    let dir0;
    await withServer(h, 'email', ['email'], smtpProvider(sink.port), async (srv, c, creds, dir) => {
      dir0 = dir;
      out.creds = creds;
      out.fill = await fill(h, S, srv, c, creds, 'email', S.emails);
    });
    const configs = [['none', null], ['ed25519', 'ed25519'], ['rsa', 'rsa']];
    for (const [name] of configs.slice(1)) fs.cpSync(dir0, `${dir0}-${name}`, { recursive: true });
    for (const [name, alg] of configs) {
      const dir = name === 'none' ? dir0 : `${dir0}-${name}`;
      const logName = `cairn-dlv-email-${name}`;
      let srv, c;
      try {
        srv = await newServer(h, dir, logName);
        c = client(srv, out.creds);
        if (alg) await c.must('POST', '/api/v1/domains', { domain: 'bench.example', selector: 's1', algorithm: alg });
        await h.sleep(300); // the provider is loaded, the server idle
        h.log(`[${h.elapsed()}s] row 12: releasing ${h.fmtInt(out.fill.held)} emails to smtp-sink, DKIM ${name} (cap ${S.cap} s)`);
        const r = await release(h, S, srv, c, dir, 'email', out.fill.held, { peerPid: sink.pid, sink });
        r.serverError = lastError(h, logName);
        out.runs[name] = r;
      } catch (e) {
        h.log(`row 12 (${name}) failed: ${e.stack || e.message}`);
        out.runs[name] = { error: e.message };
      } finally {
        if (c) c.close();
        // a capped run leaves thousands queued: no need to wait for the in-flight ones
        if (srv) await h.stopProc(srv.proc, out.runs[name]?.capped ? 1000 : 15_000);
      }
    }
    // the ceiling: smtp-source against the same sink, 8 sessions kept open
    try {
      out.ceiling = await smtpCeiling(h, S, sink);
    } catch (e) {
      h.log(`row 12 peer failed: ${e.stack || e.message}`);
      out.ceilingError = e.message;
    }
    // row 14, email: a fresh store, the same sink
    if (S.parts.includes('latency') && out.runs.none?.rate) {
      try {
        out.latency = await withServer(h, 'email-lat', null, smtpProvider(sink.port),
          (srv, c) => latency(h, S, srv, c, 'email', out.runs.none.rate, out.fill.rate));
      } catch (e) {
        h.log(`row 14 (email) failed: ${e.stack || e.message}`);
        out.latency = { error: e.message };
      }
    }
  } finally {
    await sink.stop();
  }
  return out;
}

async function smtpCeiling(h, S, sink) {
  const m = Math.min(S.ceilMsgs, Math.max(1000, S.emails));
  h.log(`[${h.elapsed()}s] row 12 peer: smtp-source -d -s ${SMTP_CONNS} -m ${m} -l 1000 against the same smtp-sink`);
  const mesg0 = sink.mesg(), pk0 = h.procTicks(sink.pid) || 0, box0 = h.boxTicks();
  const t0 = performance.now();
  const proc = h.spawnTracked(SMTP_SOURCE, ['-d', '-s', String(SMTP_CONNS), '-m', String(m), '-l', '1000', '-f', 'bench@bench.example',
    '-t', 'sink@x.example', `127.0.0.1:${sink.port}`]);
  let serr = '', srcTicks = 0;
  proc.stderr.on('data', (d) => (serr += d));
  proc.stdout.resume();
  const poll = setInterval(() => (srcTicks = h.procTicks(proc.pid) ?? srcTicks), 100);
  const timer = setTimeout(() => proc.kill('SIGTERM'), Math.max(20, S.cap) * 1000);
  const code = await new Promise((resolve) =>
    proc.exitCode !== null ? resolve(proc.exitCode) : proc.once('exit', (c2, sig) => resolve(c2 ?? sig)));
  clearInterval(poll);
  clearTimeout(timer);
  const secs = (performance.now() - t0) / 1000;
  await h.sleep(200); // the sink's counter
  const got = sink.mesg() - mesg0;
  const pk1 = h.procTicks(sink.pid) || 0, box1 = h.boxTicks();
  if (!got) throw new Error(`smtp-source delivered nothing (exit ${code}): ${serr.trim().slice(0, 200)}`);
  return { m, got, secs, rate: got / secs, exit: code, sinkPct: (100 * (pk1 - pk0)) / h.CLK_TCK / secs,
    sourcePct: (100 * srcTicks) / h.CLK_TCK / secs, box: h.boxReport(box0, box1, pk1 - pk0 + srcTicks, 'row 12 peer (smtp-source):') };
}

// ------------------------------------------------------------- row 13: HTTP --
async function benchHttp(h, S) {
  const out = {};
  if (!S.parts.includes('http')) {
    out.crash = await crash(h, S).catch((e) => ({ error: e.message }));
    return out;
  }
  const stub = await startStub(h);
  try {
    await withServer(h, 'http', ['sms'], httpProvider(stub.url), async (srv, c, creds, dir) => {
      out.fill = await fill(h, S, srv, c, creds, 'sms', S.http);
      await h.sleep(300);
      h.log(`[${h.elapsed()}s] row 13: releasing ${h.fmtInt(out.fill.held)} SMS to the HTTP stub (cap ${S.cap} s)`);
      out.run = await release(h, S, srv, c, dir, 'sms', out.fill.held, { peerPid: stub.pid });
      out.run.serverError = lastError(h, 'cairn-dlv-http');
    });
    // the ceiling: wrk against the same stub, same connections, ~200-byte POSTs
    try {
      h.log(`[${h.elapsed()}s] row 13 peer: wrk -t2 -c${HTTP_CONNS} -d${S.ceilS}s POST /sms against the same HTTP stub`);
      const t0 = h.procTicks(stub.pid) || 0, box0 = h.boxTicks();
      const ce = await runWrk(h, stub.url, 'stub', { seconds: S.ceilS, conns: HTTP_CONNS });
      const t1 = h.procTicks(stub.pid) || 0, box1 = h.boxTicks();
      ce.stubPct = (100 * (t1 - t0)) / h.CLK_TCK / ce.wall;
      ce.box = h.boxReport(box0, box1, t1 - t0, 'row 13 peer (wrk; the stub only):');
      out.ceiling = ce;
    } catch (e) {
      h.log(`row 13 peer failed: ${e.stack || e.message}`);
      out.ceilingError = e.message;
    }
    // row 14, HTTP: a fresh store, the same stub
    if (S.parts.includes('latency') && out.run?.rate) {
      try {
        out.latency = await withServer(h, 'http-lat', null, httpProvider(stub.url),
          (srv, c) => latency(h, S, srv, c, 'sms', out.run.rate, out.fill.rate));
      } catch (e) {
        h.log(`row 14 (HTTP) failed: ${e.stack || e.message}`);
        out.latency = { error: e.message };
      }
    }
  } finally {
    await stub.stop();
  }
  if (S.parts.includes('crash')) {
    try {
      out.crash = await crash(h, S);
    } catch (e) {
      h.log(`row 14 crash test failed: ${e.stack || e.message}`);
      out.crash = { error: e.message };
    }
  }
  return out;
}

// --------------------------------------------------------- row 14: latency --
// Sends at a steady rate (half of the measured rate; at most BENCH_DLV_LAT_MAX
// and 80 % of what /messages/send took while filling) for latS seconds from
// node, then reads created_at and sent_at of every message it queued through
// GET /api/v1/messages?status=sent pages.
async function latency(h, S, srv, c, channel, measured, fillRate) {
  let target = measured / 2, why = 'half the measured rate';
  if (target > S.latMax) [target, why] = [S.latMax, `BENCH_DLV_LAT_MAX; half the measured rate is ${h.fmtInt(measured / 2)}/s`];
  if (target > 0.8 * fillRate) [target, why] = [0.8 * fillRate, `80 % of the /messages/send rate while filling; half the measured rate is ${h.fmtInt(measured / 2)}/s`];
  target = Math.max(10, Math.round(target));
  await h.sleep(300);
  h.log(`[${h.elapsed()}s] row 14: ${channel} at ${h.fmtInt(target)}/s for ${S.latS} s via /messages/send`);
  const startWall = Date.now();
  const th0 = h.threadTicks(srv.pid);
  const p = await paced(c, channel, target, S.latS);
  const th1 = h.threadTicks(srv.pid);
  const drained = await pollUntil(h, async () => pending(await c.stats()) === 0, 20_000, 100);
  const lat = [];
  let cursor = null, pages = 0;
  while (pages < 500) {
    const q = `/api/v1/messages?status=sent&channel=${channel}&limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const r = await c.must('GET', q);
    pages++;
    for (const m of r.data || []) {
      const cr = Date.parse(m.created_at), se = Date.parse(m.sent_at);
      if (cr >= startWall && Number.isFinite(se)) lat.push(se - cr);
    }
    cursor = r.next_cursor;
    if (!cursor) break;
  }
  lat.sort((a, b) => a - b);
  const st = await c.stats();
  return {
    target, why, ...p, drained: drained.ok, n: lat.length, pages, failed: (st.failed || 0) + (st.dead || 0),
    p50: pctile(lat, 50), p99: pctile(lat, 99), max: lat.length ? lat[lat.length - 1] : null,
    dispatcherPct: (100 * (dispatcherTicks(th1) - dispatcherTicks(th0))) / h.CLK_TCK / p.secs,
    cairnPct: (100 * (h.sumTicks(th1) - h.sumTicks(th0))) / h.CLK_TCK / p.secs,
  };
}

// Open loop: message i is sent at t0 + i/rate whatever happened to earlier
// ones (at most 512 in flight); resolves when the last answer is in.
async function paced(c, channel, rate, seconds) {
  const total = Math.round(rate * seconds);
  let sent = 0, acked = 0, errors = 0, inflight = 0, maxLag = 0, firstErr = null;
  const t0 = performance.now();
  await new Promise((resolve) => {
    const tick = () => {
      const now = performance.now();
      const due = Math.min(total, Math.floor(((now - t0) / 1000) * rate) + 1);
      while (sent < due && inflight < 512) {
        const i = sent++;
        const lag = now - (t0 + (i / rate) * 1000);
        if (lag > maxLag) maxLag = lag;
        inflight++;
        c.api('POST', '/api/v1/messages/send', sendBody(channel, i)).then((r) => {
          if (r.status === 202 || r.status === 200) acked++;
          else {
            errors++;
            firstErr = firstErr || `HTTP ${r.status} ${r.text.slice(0, 200)}`;
          }
        }, (e) => {
          errors++;
          firstErr = firstErr || e.message;
        }).finally(() => {
          inflight--;
          if (sent >= total && inflight === 0) resolve();
        });
      }
      if (sent < total) setTimeout(tick, 2);
    };
    tick();
  });
  const secs = (performance.now() - t0) / 1000;
  return { total, acked, errors, firstErr, secs, achieved: acked / secs, maxLagMs: maxLag };
}

// ------------------------------------------------------------- crash test --
// A fresh store and stub: the SMS outbox filled behind the kill switch, the
// switch lifted, cairn killed with SIGKILL once about 40 % are sent, started
// again on the same store, and left until nothing is pending. The stub's count
// minus the messages marked sent is what was delivered twice.
async function crash(h, S) {
  const out = {};
  const stub = await startStub(h);
  const dir = path.join(h.scratch, 'store-dlv-crash');
  let srv, c;
  try {
    const creds = await h.initStore(dir);
    srv = await newServer(h, dir, 'cairn-dlv-crash');
    c = client(srv, creds);
    await c.must('PUT', '/api/v1/settings/kill_switch', { value: { channels: ['sms'] } });
    await c.must('POST', '/api/v1/providers', httpProvider(stub.url));
    const f = await fill(h, S, srv, c, creds, 'sms', S.crash);
    out.n = f.held;
    await h.sleep(300);
    h.log(`[${h.elapsed()}s] row 14 crash test: releasing ${h.fmtInt(out.n)} SMS, kill -9 at ~40 % sent, restart`);
    const t0 = performance.now();
    await c.must('PUT', '/api/v1/settings/kill_switch', { value: {} });
    let st = null;
    const at = await pollUntil(h, async () => {
      st = await c.stats();
      return (st.sent || 0) >= 0.4 * out.n || pending(st) === 0;
    }, S.cap * 1000, 20);
    srv.proc.kill('SIGKILL');
    await new Promise((r) => (srv.proc.exitCode !== null || srv.proc.signalCode !== null ? r() : srv.proc.once('exit', r)));
    out.killedAtS = (at.at - t0) / 1000;
    out.sentAtKill = st?.sent || 0;
    c.close();
    c = null;
    srv = await newServer(h, dir, 'cairn-dlv-crash-restart');
    c = client(srv, creds);
    const t1 = performance.now();
    const done = await pollUntil(h, async () => pending(await c.stats()) === 0, Math.max(20, S.cap) * 1000, 100);
    out.restartS = (performance.now() - t1) / 1000;
    out.finished = done.ok;
    const st2 = await c.stats();
    out.sent = st2.sent || 0;
    out.failed = (st2.failed || 0) + (st2.dead || 0);
    try {
      const l = fs.readFileSync(path.join(h.scratch, 'cairn-dlv-crash-restart.stderr'), 'utf8').split('\n').find((x) => /requeued messages/.test(x));
      out.requeued = l ? Number(JSON.parse(l).count) : 0;
    } catch {
      out.requeued = null;
    }
    out.serverError = lastError(h, 'cairn-dlv-crash-restart');
  } finally {
    if (c) c.close();
    if (srv) await h.stopProc(srv.proc);
    out.stubCount = await stub.stop();
  }
  out.duplicates = out.stubCount == null ? null : out.stubCount - out.sent;
  return out;
}

// ------------------------------------------------------- row 15: tracking --
// A fresh store and server with --public-url https://cairn.example, a `file`
// email provider, one user with an email address and consent, and one email
// sent to it. Its signed open-pixel and click URLs are read from the MIME in
// <data>/outbox/email.jsonl (the host rewritten to the server), and wrk
// fetches each of them for trkS seconds (the pixel, then the click), then
// POSTs single track events to /v1/track with row 2's bench/batch.lua on the
// same server: the rate the tracking endpoints are aimed at.
const PUBLIC_URL = 'https://cairn.example';
const TRK_CONNS = 64;
const BROWSER_UA = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15';

// wrk's own summary as one line (a script with only done(): wrk still sends
// its static request, and no response() hook costs header parsing).
const DONE_LUA = String.raw`
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('BENCHJSON {"duration_us":%d,"requests":%d,"ok":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d}}\n',
    summary.duration, summary.requests, summary.requests - e.status, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
`;

// wrk with ARGS (its script among them); resolves to the BENCHJSON summary,
// its text report, its own CPU ticks and the wall time.
async function wrkPlain(h, args) {
  const t0 = performance.now();
  const proc = h.spawnTracked('wrk', args);
  let out = '', err = '', ticks = 0;
  proc.stdout.on('data', (d) => (out += d));
  proc.stderr.on('data', (d) => (err += d));
  const poll = setInterval(() => (ticks = h.procTicks(proc.pid) ?? ticks), 200);
  const code = await new Promise((resolve) =>
    proc.exitCode !== null ? resolve(proc.exitCode) : proc.once('exit', (c, sig) => resolve(c ?? sig)));
  clearInterval(poll);
  const m = out.match(/^BENCHJSON (.*)$/m);
  if (!m) throw new Error(`wrk failed (${code}): ${(err || out).slice(0, 300)}`);
  const j = JSON.parse(m[1]);
  j.seconds = j.duration_us / 1e6;
  j.wall = (performance.now() - t0) / 1000;
  j.rps = j.ok / j.seconds;
  j.wrkTicks = ticks;
  j.text = out.replace(/^BENCHJSON .*\n?/m, '').trim();
  const rs = out.match(/^Requests\/sec:\s+([\d.]+)/m);
  j.wrkRps = rs ? Number(rs[1]) : null; // wrk's own figure: all answers ÷ run time
  return j;
}

// The decoded text of every part of a MIME message (quoted-printable and
// base64 undone, nested multiparts followed).
function mimeTexts(raw) {
  const split = (ent) => {
    const i = ent.search(/\r?\n\r?\n/);
    const head = i < 0 ? ent : ent.slice(0, i), body = i < 0 ? '' : ent.slice(i).replace(/^\r?\n\r?\n/, '');
    const hdrs = head.replace(/\r?\n[ \t]+/g, ' ');
    const get = (name) => (hdrs.match(new RegExp(`^${name}:\\s*(.*)$`, 'mi')) || [])[1] || '';
    return { ctype: get('Content-Type'), cte: get('Content-Transfer-Encoding').trim().toLowerCase(), body };
  };
  const decode = (cte, body) => {
    if (cte === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
    if (cte === 'quoted-printable') {
      const s = body.replace(/=\r?\n/g, '');
      const bytes = [];
      for (let i = 0; i < s.length; i++) {
        if (s[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(s.slice(i + 1, i + 3))) {
          bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
          i += 2;
        } else bytes.push(...Buffer.from(s[i], 'utf8'));
      }
      return Buffer.from(bytes).toString('utf8');
    }
    return body;
  };
  const out = [];
  const walk = (ent, depth) => {
    const { ctype, cte, body } = split(ent);
    const b = ctype.match(/boundary="?([^";]+)"?/i);
    if (/^multipart\//i.test(ctype) && b && depth < 5) {
      const parts = body.split(`--${b[1]}`);
      for (const p of parts.slice(1)) if (!p.startsWith('--')) walk(p.replace(/^\r?\n/, ''), depth + 1);
    } else out.push(decode(cte, body));
  };
  walk(raw, 0);
  return out;
}

// The signed open-pixel and click URLs in the email's parts (HTML entities undone).
function trackingUrls(mime) {
  const text = mimeTexts(mime).join('\n').replace(/&amp;|&#38;|&#x26;/gi, '&');
  const esc = PUBLIC_URL.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pixel = (text.match(new RegExp(`${esc}/t/o/[^\\s"'<>]+`)) || [])[0];
  const click = (text.match(new RegExp(`${esc}/t/c/[^\\s"'<>)]+`)) || [])[0];
  return { pixel, click };
}

const utcDay = () => new Date().toISOString().slice(0, 10);

async function tracking(h, S) {
  const out = { conns: TRK_CONNS, seconds: S.trkS };
  const dir = path.join(h.scratch, 'store-dlv-tracking');
  const logName = 'cairn-dlv-tracking';
  const creds = await h.initStore(dir);
  const srv = await h.startServer(h.CAIRN, ['serve', '--data', dir, '--listen', '127.0.0.1:0', '--public-url', PUBLIC_URL], logName);
  const c = client(srv, creds);
  const day0 = utcDay();
  try {
    // one user, one email, through the API
    await c.must('POST', '/api/v1/providers', { channel: 'email', type: 'file', from: 'B <b@bench.example>' });
    const basic = `Basic ${Buffer.from(`${creds.write_key}:`).toString('base64')}`;
    const id = await req(c.agent, `${srv.url}/v1/identify`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: basic },
      body: JSON.stringify({ userId: 'u1', traits: { email: 'u@x.example', consent: { email: 'subscribed' } } }) });
    if (id.status !== 200) throw new Error(`POST /v1/identify: HTTP ${id.status} ${id.text.slice(0, 200)}`);
    // the engine makes the profile from the log: wait for it before sending
    if (!(await pollUntil(h, async () => (await c.api('GET', '/api/v1/users/u1')).status === 200, 10_000, 20)).ok)
      throw new Error('user u1 did not appear within 10 s of POST /v1/identify');
    const sent = await c.must('POST', '/api/v1/messages/send', { to: { user_id: 'u1' }, channel: 'email',
      template: { subject: 'Hi', html: '<p><a href="https://shop.example/p">x</a></p>' } });
    out.messageId = sent?.id;
    let st = null;
    const ok = await pollUntil(h, async () => ((st = await c.stats()).sent || 0) >= 1 || (st.failed || 0) + (st.dead || 0) > 0, 15_000, 50);
    if (!ok.ok || !(st?.sent >= 1)) throw new Error(`the email was not sent (stats ${JSON.stringify(st)}${lastError(h, logName) ? `; ${lastError(h, logName)}` : ''})`);
    const lines = fs.readFileSync(path.join(dir, 'outbox', 'email.jsonl'), 'utf8').split('\n').filter(Boolean);
    const mime = JSON.parse(lines[lines.length - 1]).mime;
    if (!mime) throw new Error('the outbox line has no "mime"');
    const u = trackingUrls(mime);
    if (!u.pixel || !u.click) throw new Error(`no ${u.pixel ? 'click' : 'open-pixel'} URL under ${PUBLIC_URL} in the email's MIME`);
    out.pixelUrl = u.pixel.replace(PUBLIC_URL, srv.url);
    out.clickUrl = u.click.replace(PUBLIC_URL, srv.url);
    // one of each by hand: the pixel is a GIF, the click a 302 to the shop
    const ua = { 'User-Agent': BROWSER_UA };
    const p1 = await req(c.agent, out.pixelUrl, { headers: ua });
    const c1 = await req(c.agent, out.clickUrl, { headers: ua });
    if (p1.status !== 200) throw new Error(`GET ${out.pixelUrl}: HTTP ${p1.status}`);
    if (c1.status !== 302) throw new Error(`GET ${out.clickUrl}: HTTP ${c1.status} ${c1.text.slice(0, 200)}`);

    // opened / clicked for email today, from the analytics rollups; settles
    // when the engine has applied the whole log and two polls agree
    const totals = async () => {
      const r = await c.must('GET', `/api/v1/analytics/messages?by=channel&from=${day0}&to=${utcDay()}`);
      const e = (r.data || []).find((x) => x.key === 'email') || {};
      return { opened: e.opened || 0, clicked: e.clicked || 0, opened_machine: e.opened_machine || 0, clicked_machine: e.clicked_machine || 0 };
    };
    const settle = async () => {
      const t0 = performance.now();
      let prev = null, same = 0, last = null;
      const r = await pollUntil(h, async () => {
        const rz = await req(c.agent, `${srv.url}/readyz`);
        last = await totals();
        const caught = rz.json && rz.json.applied >= rz.json.log_head;
        same = prev && JSON.stringify(prev) === JSON.stringify(last) ? same + 1 : 0;
        prev = last;
        return caught && same >= 2;
      }, 15_000, 250);
      return { ...last, settled: r.ok, settleS: (performance.now() - t0) / 1000 };
    };
    const base = await settle();
    out.base = base;

    const lua = path.join(h.scratch, 'tracking.lua');
    fs.writeFileSync(lua, DONE_LUA);
    const hits = async (name, url, field) => {
      await h.sleep(300);
      h.log(`[${h.elapsed()}s] row 15: wrk -t2 -c${TRK_CONNS} -d${S.trkS}s --latency GET ${name}`);
      const before = name === 'pixel' ? base : out.pixel.after;
      const th0 = h.threadTicks(srv.pid), box0 = h.boxTicks();
      const w = await wrkPlain(h, ['-t2', `-c${TRK_CONNS}`, `-d${Math.max(1, Math.round(S.trkS))}s`, '--latency', '--timeout', '30s',
        '-H', `User-Agent: ${BROWSER_UA}`, '-s', lua, url]);
      const th1 = h.threadTicks(srv.pid), box1 = h.boxTicks();
      w.threads = h.threadReport(th0, th1, w.wall);
      w.cairnPct = (100 * (h.sumTicks(th1) - h.sumTicks(th0))) / h.CLK_TCK / w.wall;
      w.wrkPct = (100 * w.wrkTicks) / h.CLK_TCK / w.wall;
      w.box = h.boxReport(box0, box1, h.sumTicks(th1) - h.sumTicks(th0) + w.wrkTicks, `row 15 ${name}:`);
      w.after = await settle();
      w.recorded = w.after[field] - before[field];
      w.machine = w.after[`${field}_machine`] - before[`${field}_machine`];
      return w;
    };
    out.pixel = await hits('pixel', out.pixelUrl, 'opened');
    out.click = await hits('click', out.clickUrl, 'clicked');

    // single-event ingest on the same server, as row 2 sends it
    await h.sleep(300);
    h.log(`[${h.elapsed()}s] row 15: wrk -t2 -c${TRK_CONNS} -d${S.trkS}s POST /v1/track (bench/batch.lua track)`);
    const th0 = h.threadTicks(srv.pid), box0 = h.boxTicks();
    const w = await wrkPlain(h, ['-t2', `-c${TRK_CONNS}`, `-d${Math.max(1, Math.round(S.trkS))}s`, '--latency', '--timeout', '30s',
      '-s', path.join(here, 'batch.lua'), srv.url, '--', 'track', '1', '100000', creds.write_key]);
    const th1 = h.threadTicks(srv.pid), box1 = h.boxTicks();
    w.threads = h.threadReport(th0, th1, w.wall);
    w.cairnPct = (100 * (h.sumTicks(th1) - h.sumTicks(th0))) / h.CLK_TCK / w.wall;
    w.wrkPct = (100 * w.wrkTicks) / h.CLK_TCK / w.wall;
    w.box = h.boxReport(box0, box1, h.sumTicks(th1) - h.sumTicks(th0) + w.wrkTicks, 'row 15 /v1/track:');
    out.track = w;
    out.serverError = lastError(h, logName);
  } finally {
    c.close();
    await h.stopProc(srv.proc);
  }
  return out;
}

function trackingRows(o, S, h, rows, notes) {
  const { fmtInt, fmtMs, ratioText } = h;
  const t = o.track, aim = '≥ 90 % of /v1/track';
  const lat = (w) => `${fmtMs(w.latency_us.p99)} (p50 ${fmtMs(w.latency_us.p50)})`;
  const one = (w, what, unit) => {
    rows.push({ id: '15', what, cairn: `${fmtInt(w.rps)} ${unit}`, peerName: `POST /v1/track, ${TRK_CONNS} conns, same server (bench/batch.lua)`,
      peer: `${fmtInt(t.rps)} req/s`, ratio: ratioText(w.rps, t.rps, true), aim, ok: w.rps >= 0.9 * t.rps && w.errors.status === 0 });
    rows.push({ id: '15', what: '  same, p99 (p50)', cairn: lat(w), peerName: '  /v1/track in the same run', peer: lat(t),
      ratio: ratioText(w.latency_us.p99, t.latency_us.p99, false), aim: 'report' });
  };
  one(o.pixel, `Tracking: open pixel GET /t/o/<msg>.gif?s=…, ${TRK_CONNS} conns, browser User-Agent`, 'hits/s');
  one(o.click, `Tracking: click GET /t/c/<msg>?u=…&k=…&s=… → 302, ${TRK_CONNS} conns`, 'hits/s');
  const run = (w, name, answer) => {
    const e = w.errors, errs = e.connect + e.read + e.write + e.timeout;
    const diff = w.recorded - w.ok;
    return `${name}: ${fmtInt(w.ok)} ${answer} in ${w.seconds.toFixed(2)} s (wrk's Requests/sec ${w.wrkRps == null ? '?' : fmtInt(w.wrkRps)})` +
      `${e.status ? `, ${fmtInt(e.status)} HTTP ≥ 400` : ''}${errs ? `, socket errors connect ${e.connect} read ${e.read} write ${e.write} timeout ${e.timeout}` : ''}; ` +
      `p50 ${fmtMs(w.latency_us.p50)}, p90 ${fmtMs(w.latency_us.p90)}, p99 ${fmtMs(w.latency_us.p99)}, max ${fmtMs(w.latency_us.max)}; ` +
      `${fmtInt(w.recorded)} recorded on the timeline (${diff >= 0 && diff <= TRK_CONNS ? `${fmtInt(diff)} more than wrk counted: the requests still in flight when wrk stopped, at most one per connection`
        : `${diff > 0 ? '+' : ''}${fmtInt(diff)} against wrk's count — OUTSIDE 0…${TRK_CONNS}, the requests in flight at the end`}` +
      `${w.machine ? `; ${fmtInt(w.machine)} of them flagged machine` : ', none flagged machine'})` +
      `${w.after.settled ? '' : ' (the totals had NOT settled after 15 s)'}; CPU cairn ${pct(w.cairnPct)}, wrk ${pct(w.wrkPct)}`;
  };
  notes.push(`row 15 (bench/delivery.mjs): a fresh store, \`cairn serve --public-url ${PUBLIC_URL}\`, a \`file\` email provider, ` +
    `one user (POST /v1/identify u1 with an email and email consent), one email with one link sent through /messages/send; its signed ` +
    `pixel and click URLs read from the MIME in <data>/outbox/email.jsonl, the host rewritten to the server, each checked once by hand ` +
    `(200 GIF, 302 to the shop). Then \`wrk -t2 -c${TRK_CONNS} -d${Math.round(S.trkS)}s --latency -H 'User-Agent: <Safari>'\` on the pixel, ` +
    `then on the click, then POST /v1/track with bench/batch.lua (row 2's ~500-byte events, userIds over 100,000) on the same server. ` +
    `Every hit appends one event, like ingest; the click's 302s are the answers wrk counts (it counts only ≥ 400 as errors). ` +
    `Recorded = the rise of opened / clicked for email in GET /api/v1/analytics/messages?by=channel&from=&to=<today>, polled every ` +
    `250 ms until the engine had applied the whole log and three polls agreed. ` +
    `${run(o.pixel, 'pixel', '200s')}. ${run(o.click, 'click', '302 redirects')}. ` +
    `/v1/track: ${fmtInt(t.ok)} 200s in ${t.seconds.toFixed(2)} s${t.errors.status ? `, ${fmtInt(t.errors.status)} HTTP ≥ 400` : ''}, ` +
    `p50 ${fmtMs(t.latency_us.p50)}, p99 ${fmtMs(t.latency_us.p99)}; CPU cairn ${pct(t.cairnPct)}, wrk ${pct(t.wrkPct)}` +
    `${o.serverError ? `; server log: ${o.serverError}` : ''}`);
  for (const [k, w] of [['pixel', o.pixel], ['click', o.click], ['/v1/track', t]]) {
    h.diag(`row 15 ${k} server threads (CPU % of one core): ${w.threads}`);
    h.diag(w.box);
  }
}

// ------------------------------------------------------------------- rows --
export async function benchDelivery(h, S) {
  const rows = [], notes = [], raw = {};
  const fail = (id, what, aim, e) => {
    h.log(`row ${id} failed: ${e.stack || e.message}`);
    rows.push({ id, what, cairn: 'failed', peerName: '—', peer: '—', ratio: '—', aim });
    notes.push(`row ${id} failed: ${e.message}`);
  };
  if (S.parts.includes('email')) {
    try {
      raw.email = await benchEmail(h, S);
      emailRows(raw.email, S, h, rows, notes);
    } catch (e) {
      fail('12', 'Email: filled outbox → postfix smtp-sink (bench/delivery.mjs)', '≥ 5,000/s', e);
    }
  }
  if (S.parts.includes('http') || S.parts.includes('crash')) {
    try {
      raw.http = await benchHttp(h, S);
      httpRows(raw.http, S, h, rows, notes);
    } catch (e) {
      fail('13', 'HTTP: filled outbox → HTTP stub (bench/delivery.mjs)', '≥ 15,000/s', e);
    }
  }
  latencyRows(raw.email, raw.http, S, h, rows, notes);
  if (S.parts.includes('tracking')) {
    try {
      raw.tracking = await tracking(h, S);
      trackingRows(raw.tracking, S, h, rows, notes);
    } catch (e) {
      fail('15', 'Tracking hits: open pixel and click (bench/delivery.mjs)', '≥ 90 % of /v1/track', e);
    }
  }
  if (raw.email) delete raw.email.creds;
  return { rows, notes, raw };
}

// Diagnostics of one delivery run: threads, box, per-second timeline, perf.
function runDiag(h, label, r) {
  h.diag(`${label} server threads (CPU % of one core): ${r.threads}`);
  h.diag(r.box.replace(/^delivery \w+:/, `${label}:`));
  if (r.timeline?.length)
    h.diag(`${label} per second after the PUT, sent (cairn-deliver CPU): ` +
      r.timeline.map((x) => (x ? `${h.fmtInt(x.sent)} (${x.cpu.toFixed(0)}%)` : '·')).join(', ') +
      ' (· = no poll answered in that second; the next figure covers both)');
  if (r.perf) h.diag(`${label} perf (top symbols over the first ${Math.min(5, r.pollS).toFixed(0)} s): ${r.perf.join(' | ')}`);
}

// "; N µs of cairn-deliver per email (one whole core: ≈ M/s)": the dispatcher
// is one thread, so 10^6 / N is what it could reach with a core to itself.
function perMsg(h, r, what) {
  if (!r.dispatcherPct || !r.sent) return '';
  const us = (r.dispatcherPct * r.pollS * 1e4) / r.sent;
  return `; ${h.fmtInt(us)} µs of cairn-deliver CPU per ${what} (with a whole core to itself: ≈ ${h.fmtInt(1e6 / us)}/s)`;
}

const pct = (x) => (x == null || !Number.isFinite(x) ? '?' : `${x.toFixed(0)}%`);

function emailRows(o, S, h, rows, notes) {
  const { fmtInt, ratioText } = h;
  if (o.skipped) {
    rows.push({ id: '12', what: 'Email: filled outbox → postfix smtp-sink', cairn: 'skipped', peerName: 'smtp-source', peer: '—', ratio: '—',
      aim: '≥ 5,000/s' });
    notes.push(`row 12 skipped: ${o.skipped}`);
    return;
  }
  const ce = o.ceiling;
  const labels = { none: 'no DKIM', ed25519: 'ed25519 DKIM', rsa: 'RSA-2048 DKIM' };
  const aims = { none: 5000, ed25519: 5000, rsa: 2000 };
  let first = true;
  for (const name of ['none', 'ed25519', 'rsa']) {
    const r = o.runs[name] || {};
    const what = first ? `Email: filled outbox (${fmtInt(o.fill.held)}) → postfix smtp-sink, ${SMTP_CONNS} SMTP connections, ${labels[name]}`
      : `  same, ${labels[name]}`;
    const peerName = first ? `smtp-source -d -s ${SMTP_CONNS}, 1,000-byte body, same sink` : '  same';
    first = false;
    if (r.error || r.rate == null) {
      rows.push({ id: '12', what, cairn: 'failed', peerName, peer: ce ? `${fmtInt(ce.rate)} msgs/s` : '—', ratio: '—', aim: `≥ ${fmtInt(aims[name])}/s` });
      notes.push(`row 12 (${labels[name]}) failed: ${r.error || 'no result'}`);
      continue;
    }
    rows.push({ id: '12', what: `${what}${r.capped ? ' — CAPPED' : ''}`, cairn: `${fmtInt(r.rate)} emails/s`, peerName,
      peer: ce ? `${fmtInt(ce.rate)} msgs/s` : '—', ratio: ce ? ratioText(r.rate, ce.rate, true) : '—',
      aim: `≥ ${fmtInt(aims[name])}/s`, ok: r.rate >= aims[name] && r.failed === 0 });
  }
  const runText = (name) => {
    const r = o.runs[name];
    if (!r || r.rate == null) return `${labels[name]}: ${r?.error || 'not run'}`;
    return `${labels[name]}: ${fmtInt(r.sent)} sent in ${r.spanS.toFixed(2)} s${r.capped ? ` (CAPPED at BENCH_DLV_CAP=${S.cap} s)` : ''}, ` +
      `first accepted ${r.firstS == null ? '?' : `${(r.firstS * 1000).toFixed(0)} ms`} after the PUT (which took ${(r.putS * 1000).toFixed(0)} ms), ` +
      `${r.dispatchRate ? `${fmtInt(r.dispatchRate)}/s first → last accepted; ` : ''}${r.capped ? '' : `the sink counted ${fmtInt(r.sinkMesg)}; `}` +
      `failed ${fmtInt(r.failed)}; CPU (% of one core over ${r.pollS.toFixed(1)} s): cairn-deliver ${pct(r.dispatcherPct)}, ` +
      `cairn in all ${pct(r.cairnPct)}, smtp-sink ${pct(r.peerPct)}` +
      `${perMsg(h, r, 'email')}` +
      `${r.serverError ? `; server log: ${r.serverError}` : ''}`;
  };
  const f = o.fill;
  notes.push(`row 12 (bench/delivery.mjs): one store filled behind the kill switch (PUT /api/v1/settings/kill_switch {"channels":["email"]}) ` +
    `with BENCH_DLV_EMAILS=${fmtInt(S.emails)} transactional emails through POST /api/v1/messages/send (wrk -t2 -c${FILL_CONNS}, ` +
    `an inline template with subject, text and ~250-byte HTML with one link, a different recipient each): ${fmtInt(f.acked)} accepted in ` +
    `${f.sendS.toFixed(1)} s = ${fmtInt(f.rate)} sends/s (non-2xx ${fmtInt(f.wrk.errors.status)}), all ${fmtInt(f.held)} held after ${f.secs.toFixed(1)} s; ` +
    `SMTP provider to postfix's smtp-sink on loopback (no STARTTLS), concurrency ${SMTP_CONNS}; the stopped store was copied for the two ` +
    `DKIM runs (POST /api/v1/domains bench.example just before the release; From is bench@bench.example). Each run on its own server: ` +
    `the clock starts when PUT kill_switch {} is sent and ends at the last sent_at (state.db); GET /messages/stats polled every 100 ms ` +
    `until nothing is queued, sending or held. ` + ['none', 'ed25519', 'rsa'].map(runText).join('. '));
  if (o.ceiling) {
    const ce = o.ceiling;
    notes.push(`row 12 peer: \`smtp-source -d -s ${SMTP_CONNS} -m ${fmtInt(ce.m)} -l 1000\` (8 sessions kept open, one message after another) ` +
      `against the same smtp-sink (\`smtp-sink -c ${process.getuid && process.getuid() === 0 ? '-u nobody ' : ''}127.0.0.1:PORT 1000\`): ` +
      `${fmtInt(ce.got)} messages in ${ce.secs.toFixed(2)} s; CPU smtp-sink ${pct(ce.sinkPct)}, smtp-source ${pct(ce.sourcePct)}`);
    h.diag(ce.box);
  } else if (o.ceilingError) {
    notes.push(`row 12 peer (smtp-source) failed: ${o.ceilingError}`);
  }
  h.diag(`row 12 fill (/messages/send while the dispatcher holds each message), server threads (CPU % of one core): ${o.fill.threads}`);
  for (const name of ['none', 'ed25519', 'rsa']) if (o.runs[name]?.threads) runDiag(h, `row 12 ${labels[name]}`, o.runs[name]);
}

function httpRows(o, S, h, rows, notes) {
  const { fmtInt, ratioText } = h;
  const r = o.run, ce = o.ceiling;
  if (r) {
    rows.push({ id: '13', what: `HTTP: filled outbox (${fmtInt(o.fill.held)} SMS) → node HTTP stub, ${HTTP_CONNS} connections${r.capped ? ' — CAPPED' : ''}`,
      cairn: `${fmtInt(r.rate)} msgs/s`, peerName: `wrk -t2 -c${HTTP_CONNS}, ~200-byte POSTs, same stub`,
      peer: ce ? `${fmtInt(ce.rps)} req/s` : '—', ratio: ce ? ratioText(r.rate, ce.rps, true) : '—', aim: '≥ 15,000/s',
      ok: r.rate >= 15000 && r.failed === 0 });
    const f = o.fill;
    notes.push(`row 13: a fresh store filled behind the kill switch {"channels":["sms"]} with BENCH_DLV_HTTP=${fmtInt(S.http)} SMS ` +
      `(POST /api/v1/messages/send, wrk -t2 -c${FILL_CONNS}, 66-byte text, a different phone number each): ${fmtInt(f.acked)} accepted in ` +
      `${f.sendS.toFixed(1)} s = ${fmtInt(f.rate)} sends/s, all ${fmtInt(f.held)} held after ${f.secs.toFixed(1)} s; an HTTP provider ` +
      `(POST to tests/peers/http_peer.mjs on loopback, one node process, answers 200 {"ok":true,…}), concurrency ${HTTP_CONNS}. ` +
      `${fmtInt(r.sent)} sent in ${r.spanS.toFixed(2)} s${r.capped ? ` (CAPPED at BENCH_DLV_CAP=${S.cap} s)` : ''}, first accepted ` +
      `${r.firstS == null ? '?' : `${(r.firstS * 1000).toFixed(0)} ms`} after the PUT (which took ${(r.putS * 1000).toFixed(0)} ms); failed ${fmtInt(r.failed)}; ` +
      `CPU (% of one core over ${r.pollS.toFixed(1)} s): cairn-deliver ${pct(r.dispatcherPct)}, cairn in all ${pct(r.cairnPct)}, ` +
      `the stub ${pct(r.peerPct)}${perMsg(h, r, 'message')}` +
      `${r.serverError ? `; server log: ${r.serverError}` : ''}`);
    h.diag(`row 13 fill (/messages/send while the dispatcher holds each message), server threads (CPU % of one core): ${o.fill.threads}`);
    runDiag(h, 'row 13', r);
  }
  if (ce) {
    notes.push(`row 13 peer: wrk -t2 -c${HTTP_CONNS} -d${S.ceilS}s POSTing ~200-byte JSON bodies (shaped like cairn's SMS payload) to /sms of the same stub, right after row 13: ` +
      `${fmtInt(ce.ok)} answered, p50 ${(ce.latency_us.p50 / 1000).toFixed(2)} ms, p99 ${(ce.latency_us.p99 / 1000).toFixed(2)} ms; ` +
      `the stub used ${pct(ce.stubPct)} of one core (it is a single node process: at 100 % it is the bottleneck, for cairn too)`);
    h.diag(ce.box);
  } else if (o.ceilingError) {
    notes.push(`row 13 peer (wrk) failed: ${o.ceilingError}`);
  }
}

function latencyRows(email, httpOut, S, h, rows, notes) {
  const { fmtInt } = h;
  const ms = (x) => (x == null ? '—' : x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : `${x.toFixed(0)} ms`);
  const one = (label, l, first) => {
    if (!l) return;
    if (l.error) {
      rows.push({ id: '14', what: `${first ? 'Outbox → accepted, p99: ' : '  same, '}${label}`, cairn: 'failed', peerName: '—', peer: '—',
        ratio: '—', aim: 'report' });
      notes.push(`row 14 ${label} failed: ${l.error}`);
      return;
    }
    rows.push({ id: '14', what: `${first ? 'Outbox → accepted (sent_at − created_at), p99 (p50): ' : '  same, '}${label} at ${fmtInt(l.achieved)}/s ` +
        `(target ${fmtInt(l.target)})`,
      cairn: `${ms(l.p99)} (p50 ${ms(l.p50)})`, peerName: '—', peer: '—', ratio: '—', aim: 'report' });
    notes.push(`row 14 ${label}: a fresh store and server, the same ${label.startsWith('email') ? 'sink' : 'stub'} as above; ${fmtInt(l.total)} sends paced at ${fmtInt(l.target)}/s (${l.why}) from node over ${l.secs.toFixed(1)} s, ` +
      `open loop (the sender fell at most ${fmtInt(l.maxLagMs)} ms behind its schedule), ${fmtInt(l.acked)} accepted` +
      `${l.errors ? `, ${fmtInt(l.errors)} errors (${l.firstErr})` : ''}${l.failed ? `, ${fmtInt(l.failed)} failed to deliver` : ''}; ${fmtInt(l.n)} sent messages read back from ${l.pages} pages of ` +
      `GET /api/v1/messages?status=sent${l.drained ? '' : ' (NOT all sent 20 s after the last send)'}; max ${ms(l.max)}; ` +
      `CPU during the sending: cairn-deliver ${pct(l.dispatcherPct)}, cairn in all ${pct(l.cairnPct)}. created_at is stamped by the send ` +
      `request before its insert commits, sent_at when the provider accepted (SMTP 250 after DATA / HTTP 2xx)`);
  };
  let first = true;
  if (email?.latency) {
    one('email, no DKIM', email.latency, first);
    first = false;
  }
  if (httpOut?.latency) {
    one('HTTP (SMS)', httpOut.latency, first);
    first = false;
  }
  const cr = httpOut?.crash;
  if (cr) {
    if (cr.error) {
      rows.push({ id: '14', what: 'Crash test: kill -9 during HTTP delivery', cairn: 'failed', peerName: '—', peer: '—', ratio: '—', aim: 'report' });
      notes.push(`row 14 crash test failed: ${cr.error}`);
    } else {
      rows.push({ id: '14', what: `${first ? '' : '  '}Crash test: kill -9 after ${fmtInt(cr.sentAtKill)} of ${fmtInt(cr.n)} SMS sent, restart → ` +
          `delivered twice${cr.finished ? '' : ' (NOT finished)'}`,
        cairn: `${cr.duplicates == null ? '?' : fmtInt(cr.duplicates)} duplicates`, peerName: '—', peer: '—', ratio: '—', aim: 'report' });
      notes.push(`row 14 crash test: ${fmtInt(cr.n)} SMS (BENCH_DLV_CRASH) filled behind the kill switch on a fresh store, an HTTP provider to a fresh stub, ` +
        `the switch lifted; SIGKILL ${cr.killedAtS.toFixed(2)} s later (stats showed ${fmtInt(cr.sentAtKill)} sent), \`cairn serve\` started again ` +
        `on the same store (it requeued ${cr.requeued == null ? '?' : fmtInt(cr.requeued)} messages left in flight) and finished in ` +
        `${cr.restartS.toFixed(1)} s; ${fmtInt(cr.sent)} marked sent, the stub answered ${cr.stubCount == null ? '?' : fmtInt(cr.stubCount)} ` +
        `requests: duplicates = answered − marked sent${cr.failed ? `; ${fmtInt(cr.failed)} failed` : ''}${cr.serverError ? `; server log: ${cr.serverError}` : ''}`);
    }
  }
}
