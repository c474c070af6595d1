// bench/journeys.mjs — rows 9–11 of `make bench` (issue 6): journey steps
// per second (per core) with users moving through a 6-node journey beside a
// bare SQLite loop writing the same rows, timer latency on the real clock,
// and memory / store size with many users waiting. Called from bench/run.mjs
// with its helpers (BENCH_ONLY=journeys runs only these rows); see
// docs/bench.md.
//
// Every part runs on its own fresh store and server (`cairn init` + `cairn
// serve`), loaded through the HTTP API only: the journey is created and
// published with POST /api/v1/journeys, users enter it by sending the
// trigger event to /v1/batch. Store reads (jny_steps) are bench-only,
// read-only sqlite3 queries; cairn's own code never has SQL outside src/store/.
//
// Environment (all optional):
//   BENCH_JNY_USERS        users through the journey in row 9 (default 100,000; quick 20,000)
//   BENCH_JNY_STEPS_CAP    seconds each of row 9's two phases may take: entering, then firing (default 60; quick 30)
//   BENCH_JNY_RATE         users per second entering row 10's journey, i.e. timers falling due per second
//                          (default: half of row 9's entry rate, within 50–5,000; 200 when row 9 did not run)
//   BENCH_JNY_SPREAD       seconds over which row 10's users enter, so their timers fall due over as long (default 20; quick 10)
//   BENCH_JNY_CAP          max seconds of row 10 in all, the 1-minute wait included (default 90; quick 75)
//   BENCH_JNY_WAITING      users waiting in row 11's 30-day wait (default 1,000,000; quick 100,000)
//   BENCH_JNY_WAITING_CAP  max seconds of loading users in row 11 (default 90; quick 30)
//   BENCH_JNY_PARTS        which rows to run, comma-separated: steps,timers,waiting (default all three)
//   BENCH_JNY_UPDATE       what the journey's update node does: tags (tags_add, the default) or score;
//                          unset, a short probe checks tags_add works and falls back to score if not
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';

const VIRTUAL_START = '2026-03-02T10:00:00+09:00';
const WAIT_MINUTE_MS = 60_000;

export function jnySettings(num, QUICK) {
  const update = process.env.BENCH_JNY_UPDATE || '';
  if (update && update !== 'tags' && update !== 'score') throw new Error(`BENCH_JNY_UPDATE must be tags or score, not '${update}'`);
  return {
    users: Math.round(num('BENCH_JNY_USERS', QUICK ? 20_000 : 100_000)),
    stepsCap: num('BENCH_JNY_STEPS_CAP', QUICK ? 30 : 60),
    rate: process.env.BENCH_JNY_RATE ? num('BENCH_JNY_RATE', 200) : null, // null: from row 9
    spread: num('BENCH_JNY_SPREAD', QUICK ? 10 : 20),
    cap: num('BENCH_JNY_CAP', QUICK ? 75 : 90),
    waiting: Math.round(num('BENCH_JNY_WAITING', QUICK ? 100_000 : 1_000_000)),
    waitingCap: num('BENCH_JNY_WAITING_CAP', QUICK ? 30 : 90),
    update,
    parts: (process.env.BENCH_JNY_PARTS || 'steps,timers,waiting').split(',').map((x) => x.trim()).filter(Boolean),
  };
}

// ------------------------------------------------------------- the journey --
// send inline email → wait → branch on a trait → send → update → exit.
// Every second user (i even) has plan = pro and takes the second send.
function definition(name, trigger, wait, update) {
  return {
    // advertising: false — a welcome series is transactional, and the default
    // quiet hours (21:00–08:00 in the workspace's zone) hold only advertising
    // messages: the real-clock rows must not depend on the time of day
    name, trigger: { type: 'event', event: trigger }, entry: { reentry: 'never' }, advertising: false, start: 'hello',
    nodes: [
      { id: 'hello', type: 'send', channel: 'email', next: 'wait1', template: {
        subject: "Welcome, {{ user.first_name | default: 'friend' }}",
        html: '<p>Hi {{ user.first_name }}, thanks for joining the {{ user.plan }} plan.</p>',
        text: 'Hi {{ user.first_name }}, thanks for joining.' } },
      { id: 'wait1', type: 'wait', duration: wait, next: 'plan' },
      { id: 'plan', type: 'branch', branches: [{ when: { trait: 'plan', op: 'eq', value: 'pro' }, next: 'pro-tips' }], else: 'tag' },
      { id: 'pro-tips', type: 'send', channel: 'email', next: 'tag', template: {
        subject: 'Three pro tips', html: '<p>{{ user.first_name }}, here are three pro tips.</p>', text: 'Three pro tips.' } },
      { id: 'tag', type: 'update', ...(update === 'score' ? { score: { engagement: 5 } } : { tags_add: ['onboarded'] }), next: 'done' },
      { id: 'done', type: 'exit' },
    ],
  };
}
const NODES_AFTER_WAIT = ['plan', 'pro-tips', 'tag', 'done'];
const FIRST_NAMES = ['Ava', 'Liam', '민준', 'Noah', 'Emma', '서연', 'Mia', 'Lucas'];

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

// A client of one server: keys, a keep-alive agent, the calls the bench makes.
function client(srv, creds) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  const basic = { 'Content-Type': 'application/json', Authorization: `Basic ${Buffer.from(`${creds.write_key}:`).toString('base64')}` };
  const bearer = { 'Content-Type': 'application/json', Authorization: `Bearer ${creds.secret_key}` };
  const api = async (method, p, body, timeout) => {
    const r = await req(agent, `${srv.url}${p}`, { method, headers: bearer, body: body == null ? undefined : JSON.stringify(body), timeout });
    return r;
  };
  return {
    agent, api,
    batch: (msgs) => req(agent, `${srv.url}/v1/batch`, { method: 'POST', headers: basic, body: JSON.stringify({ batch: msgs }) }),
    async publish(id, def) {
      const c = await api('POST', '/api/v1/journeys', { id, name: def.name, definition: def });
      if (c.status !== 201 && c.status !== 200) throw new Error(`POST /api/v1/journeys: HTTP ${c.status} ${c.text.slice(0, 300)}`);
      const p = await api('POST', `/api/v1/journeys/${id}/publish`);
      if (p.status !== 200) throw new Error(`publish: HTTP ${p.status} ${p.text.slice(0, 300)}`);
    },
    async stats(id) {
      const r = await api('GET', `/api/v1/journeys/${id}/stats`, null, 60_000);
      if (r.status !== 200) throw new Error(`GET /api/v1/journeys/${id}/stats: HTTP ${r.status} ${r.text.slice(0, 200)}`);
      return r.json.nodes || {};
    },
    close: () => agent.destroy(),
  };
}

// The messages that bring user i in: an identify (plan, name, email) and the trigger.
function userMessages(prefix, i, trigger, identify) {
  const userId = `${prefix}-${i}`;
  const out = [];
  if (identify)
    out.push({ type: 'identify', userId, messageId: randomUUID(), traits: {
      plan: i % 2 === 0 ? 'pro' : 'free', first_name: FIRST_NAMES[i % FIRST_NAMES.length], email: `${userId}@example.com` } });
  out.push({ type: 'track', userId, event: trigger, messageId: randomUUID(), properties: { source: 'bench', campaign: 'spring' } });
  return out;
}

// Sends users [from, to) in 100-message batches, `inflight` at a time, until
// the deadline (performance.now() ms). Returns how many users were acked.
// (The HTTP side is fast; the engine entering them is what takes time: see
// enterUsers.)
async function sendUsers(c, prefix, from, to, trigger, { identify = true, deadline = Infinity, inflight = 8, problems } = {}) {
  const perBatch = identify ? 50 : 100;
  let next = from, acked = 0;
  const worker = async () => {
    while (next < to && performance.now() < deadline) {
      const a = next, b = Math.min(to, a + perBatch);
      next = b;
      const msgs = [];
      for (let i = a; i < b; i++) msgs.push(...userMessages(prefix, i, trigger, identify));
      const r = await c.batch(msgs).catch((e) => ({ status: 0, text: e.message }));
      if (r.status === 200) acked += b - a;
      else if (problems && problems.length < 3) problems.push(`/v1/batch: HTTP ${r.status} ${r.text.slice(0, 200)}`);
    }
  };
  await Promise.all(Array.from({ length: inflight }, worker));
  return acked;
}

// Brings users [from, to) into a journey through /v1/batch in chunks sized to
// about 2 s of the entry rate seen so far (the first 1,000), waiting after
// each chunk until the engine has applied everything (/readyz applied ==
// log_head: the triggers, the entries, the Journey Entered events). No new
// chunk starts after the deadline, so a cap leaves at most one chunk's
// backlog, which is waited for. chunks (OUT) gets {from, n, acked, secs};
// onChunk(users sent so far) runs after each chunk the engine caught up with.
async function enterUsers(h, c, srv, prefix, from, to, trigger, { identify = true, deadline, problems, chunks, onChunk }) {
  let at = from, rate = null;
  while (at < to && performance.now() < deadline) {
    const n = Math.min(to - at, rate == null ? 1000 : Math.max(500, Math.min(50_000, Math.round(rate * 2))));
    const t0 = performance.now();
    const acked = await sendUsers(c, prefix, at, at + n, trigger, { identify, problems });
    const cu = await caughtUp(h, srv.url, Math.max(10, (deadline - performance.now()) / 1000 + 60));
    const secs = (performance.now() - t0) / 1000;
    chunks.push({ from: at, n, acked, secs, caughtUp: cu.caughtUp });
    at += n;
    rate = acked / secs;
    if (onChunk && cu.caughtUp) await onChunk(at);
    if (!cu.caughtUp) {
      problems.push(`the engine had not applied a chunk of ${n} users ${secs.toFixed(0)} s after it was sent`);
      break;
    }
  }
  return at - from;
}
// /readyz polled every 50 ms until applied == log_head (run.mjs's catchUp
// polls every 250 ms, too coarse for 2-second chunks).
async function caughtUp(h, url, capS) {
  const until = performance.now() + capS * 1000;
  for (;;) {
    const r = await h.readyz(url);
    if (r && r.applied >= r.log_head) return { caughtUp: true, last: r };
    if (performance.now() >= until) return { caughtUp: false, last: r };
    await h.sleep(50);
  }
}

const chunkText = (h, chunks) => {
  const show = chunks.length <= 6 ? chunks : [...chunks.slice(0, 2), null, ...chunks.slice(-3)];
  return show.map((k) => (k ? `${h.fmtInt(k.from)}+${h.fmtInt(k.n)} at ${h.fmtInt(k.acked / k.secs)}/s` : '…')).join(', ');
};

// A read-only sqlite3 shell kept open for cheap repeated queries (one line
// of output per query); bench-only.
function sqlShell(h, db) {
  const proc = h.spawnTracked('sqlite3', ['-readonly', '-batch', db]);
  let buf = '';
  const waiters = [];
  proc.stdout.setEncoding('utf8');
  proc.stdout.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      const w = waiters.shift();
      if (w) w(line);
    }
  });
  proc.stderr.on('data', () => {
    const w = waiters.shift();
    if (w) w(null);
  });
  proc.stdin.write('.timeout 2000\n');
  return {
    query: (sql) => new Promise((resolve) => {
      if (proc.exitCode !== null) return resolve(null);
      waiters.push(resolve);
      proc.stdin.write(`${sql}\n`);
    }),
    close: async () => {
      proc.stdin.end();
      await h.stopProc(proc, 2000);
    },
  };
}

const sqlOne = (h, db, sql) => {
  const r = h.sh('sqlite3', ['-readonly', db, sql], { maxBuffer: 512 << 20 });
  if (!r.ok) throw new Error(`sqlite3 ${sql.slice(0, 60)}…: ${r.err}`);
  return r.out;
};

const engineTicks = (m) => [...m.values()].filter((t) => /engine/.test(t.comm)).reduce((a, t) => a + t.ticks, 0);
const pctile = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] : null);
const lastError = (h, logName) => {
  try {
    const lines = fs.readFileSync(path.join(h.scratch, `${logName}.stderr`), 'utf8').split('\n').filter((l) => /"level":"error"/.test(l));
    if (!lines.length) return null;
    const j = JSON.parse(lines[lines.length - 1]);
    return `${j.msg}: ${j.error || j.sqlite || ''} (${lines.length} error lines)`;
  } catch {
    return null;
  }
};

// Polls fn() every `everyMs` until it returns truthy or the deadline passes;
// returns { value, ok, at } (at: performance.now() when it held).
async function pollUntil(h, fn, deadline, everyMs = 250) {
  let v = null;
  for (;;) {
    v = await fn().catch(() => null);
    if (v) return { value: v, ok: true, at: performance.now() };
    if (performance.now() >= deadline) return { value: v, ok: false, at: performance.now() };
    await h.sleep(everyMs);
  }
}

// ----------------------------------------------------------------- probe --
// Does the update node's tags_add work? A one-user journey with a wait, on a
// throwaway server with a virtual clock. (An update that fails makes the
// engine's timer tick fail and retry forever — every timer behind it waits —
// so the real rows must not run into it.)
async function probeUpdate(h) {
  const dir = path.join(h.scratch, 'store-jny-probe');
  const creds = await h.initStore(dir);
  const srv = await h.startServer(h.CAIRN, ['serve', '--data', dir, '--listen', '127.0.0.1:0', '--virtual-clock', VIRTUAL_START], 'cairn-jny-probe');
  const c = client(srv, creds);
  try {
    const def = { name: 'Probe', trigger: { type: 'event', event: 'Probe' }, start: 'w',
      nodes: [{ id: 'w', type: 'wait', duration: { days: 1 }, next: 't' }, { id: 't', type: 'update', tags_add: ['probe'], next: 'x' }, { id: 'x', type: 'exit' }] };
    await c.publish('probe', def);
    const b = await c.batch(userMessages('probe', 0, 'Probe', false));
    if (b.status !== 200) throw new Error(`/v1/batch: HTTP ${b.status}`);
    await pollUntil(h, async () => (await c.stats('probe')).w?.waiting === 1, performance.now() + 5000, 50);
    await c.api('POST', '/api/v1/_clock', { advance: { days: 1 } }, 30_000);
    const r = await pollUntil(h, async () => (await c.stats('probe')).x?.exited === 1, performance.now() + 3000, 100);
    return r.ok ? { ok: true } : { ok: false, why: lastError(h, 'cairn-jny-probe') || 'the user did not reach the exit within 3 s of the clock advance' };
  } finally {
    c.close();
    await h.stopProc(srv.proc);
  }
}

// ------------------------------------------------- row 9: steps per second --
// Polls max(rowid) of jny_steps about every 20 ms with a read-only sqlite3
// shell; stop() resolves to [[performance.now() when the query was sent,
// max rowid, CPU ticks of the server's engine thread then], …]. The first
// poll that sees a step's rowid bounds its commit.
function rowidPoller(h, db, pid) {
  const shell = sqlShell(h, db);
  const seen = [];
  let polling = true;
  const loop = (async () => {
    while (polling) {
      const q0 = performance.now();
      const ticks = pid ? engineTicks(h.threadTicks(pid)) : 0;
      const v = await shell.query('SELECT coalesce(max(rowid), 0) FROM jny_steps;');
      if (v != null && /^\d+$/.test(v)) seen.push([q0, Number(v), ticks]);
      await h.sleep(20);
    }
  })();
  return {
    stop: async () => {
      polling = false;
      await loop;
      await shell.close();
      return seen;
    },
    close: () => shell.close(),
  };
}

// For each rowid (ascending), the time of the first poll that saw it, minus t0.
function seenAfter(rowids, seen, t0) {
  const out = [];
  let k = 0;
  for (const r of rowids) {
    while (k < seen.length && seen[k][1] < r) k++;
    if (k < seen.length) out.push(seen[k][0] - t0);
  }
  return out;
}
// The first poll that saw rowid r: [time, max rowid, engine ticks], or null.
const firstSeen = (seen, r) => seen.find((x) => x[1] >= r) || null;

async function benchSteps(h, S, update) {
  const { log, elapsed, fmtInt } = h;
  const out = { users: S.users, problems: [], chunks: [] };
  const dir = path.join(h.scratch, 'store-jny-steps');
  const creds = await h.initStore(dir);
  const srv = await h.startServer(h.CAIRN, ['serve', '--data', dir, '--listen', '127.0.0.1:0', '--virtual-clock', VIRTUAL_START], 'cairn-jny-steps');
  const c = client(srv, creds);
  const stateDb = path.join(dir, 'state.db');
  let poller;
  try {
    await c.publish('bench-steps', definition('Bench steps', 'Bench Signup', { days: 1 }, update));
    out.rssEmpty = h.memKb(srv.pid).rss;

    // ---- phase 1: enter (identify + trigger through /v1/batch) until every user waits at wait1
    log(`[${elapsed()}s] row 9: ${fmtInt(S.users)} users enter the journey via /v1/batch (cap ${S.stepsCap} s)`);
    const th0 = h.threadTicks(srv.pid), t0 = performance.now();
    const sent = await enterUsers(h, c, srv, 'jb', 0, S.users, 'Bench Signup', { deadline: t0 + S.stepsCap * 1000, problems: out.problems, chunks: out.chunks });
    out.acked = out.chunks.reduce((a, k) => a + k.acked, 0);
    out.enterS = (performance.now() - t0) / 1000;
    out.enterCapped = sent < S.users;
    const th1 = h.threadTicks(srv.pid);
    out.enterEngineCpuS = (engineTicks(th1) - engineTicks(th0)) / h.CLK_TCK;
    out.enterThreads = h.threadReport(th0, th1, out.enterS);
    const st1 = await c.stats('bench-steps');
    out.entered = st1.wait1?.waiting || 0;
    out.enterSteps = Number(sqlOne(h, stateDb, 'SELECT count(*) FROM jny_steps'));
    if (!out.entered) throw new Error(`no user reached the wait (${out.problems.join('; ') || 'see the server log'})`);

    // ---- phase 2: advance the virtual clock a day; every timer is due at once
    log(`[${elapsed()}s] row 9: POST /api/v1/_clock advance 1 day → ${fmtInt(out.entered)} timers due at once (cap ${S.stepsCap} s)`);
    await h.sleep(500); // let the engine's last tick pass
    const stepsBefore = Number(sqlOne(h, stateDb, 'SELECT coalesce(max(rowid), 0) FROM jny_steps'));
    poller = rowidPoller(h, stateDb, srv.pid);
    await h.sleep(100);
    const th2 = h.threadTicks(srv.pid), io2 = h.threadIo(srv.pid), box0 = h.boxTicks(), c0 = performance.now();
    const deadline2 = c0 + S.stepsCap * 1000;
    const clk = await c.api('POST', '/api/v1/_clock', { advance: { days: 1 } }, S.stepsCap * 1000).catch((e) => ({ status: 0, text: e.message }));
    out.clockS = (performance.now() - c0) / 1000;
    out.clockStatus = clk.status;
    let st2 = null;
    const done = await pollUntil(h, async () => {
      st2 = await c.stats('bench-steps');
      return (st2.done?.exited || 0) >= out.entered;
    }, deadline2, 100);
    const seen = await poller.stop();
    poller = null;
    out.fireCapped = !done.ok;
    out.exited = st2?.done?.exited || 0;
    const th3 = h.threadTicks(srv.pid), io3 = h.threadIo(srv.pid), box1 = h.boxTicks();
    // the last step written: its commit (first poll that saw it) ends the firing
    const lastRowid = Number(sqlOne(h, stateDb, 'SELECT coalesce(max(rowid), 0) FROM jny_steps'));
    const end = firstSeen(seen, lastRowid);
    out.statsDoneS = (done.at - c0) / 1000;
    out.fireS = end ? (end[0] - c0) / 1000 : out.statsDoneS;
    out.fireEngineCpuS = ((end ? end[2] : engineTicks(th3)) - engineTicks(th2)) / h.CLK_TCK;
    out.fireBy = end ? 'poll' : 'stats';
    out.fireThreads = h.threadReport(th2, th3, out.statsDoneS);
    out.fireBox = h.boxReport(box0, box1, h.sumTicks(th3) - h.sumTicks(th2), 'row 9 firing:');
    out.fireIo = h.perEventReport(th2, th3, io2, io3, Math.max(1, out.exited));
    // then the events the steps emitted (Journey Exited, …) applied by the engine
    const cu = await h.catchUp(srv.url, S.stepsCap);
    out.emittedCatchupS = cu.secs;
    out.emittedCaughtUp = cu.caughtUp;
    out.allS = (performance.now() - c0) / 1000;
    out.allEngineCpuS = (engineTicks(h.threadTicks(srv.pid)) - engineTicks(th2)) / h.CLK_TCK;
    // steps committed (jny_steps rows), and when each user's first step after the wait became visible
    out.fireSteps = Number(sqlOne(h, stateDb, `SELECT count(*) FROM jny_steps WHERE rowid > ${stepsBefore}`));
    out.statsSteps = NODES_AFTER_WAIT.reduce((a, n) => a + (st2?.[n]?.entered || 0), 0);
    const planRowids = sqlOne(h, stateDb, `SELECT rowid FROM jny_steps WHERE rowid > ${stepsBefore} AND node = 'plan' ORDER BY rowid`)
      .split('\n').filter(Boolean).map(Number);
    const lat = seenAfter(planRowids, seen, c0).sort((a, b) => a - b);
    out.burst = { n: lat.length, p50: pctile(lat, 50), p99: pctile(lat, 99), max: lat[lat.length - 1] ?? null, polls: seen.length };
    out.clockAnsweredEarly = clk.status === 200 && out.burst.max != null && out.clockS * 1000 < out.burst.max - 100;
    out.messages = Number(sqlOne(h, stateDb, 'SELECT count(*) FROM messages'));
    out.rss = h.memKb(srv.pid);
    out.serverError = lastError(h, 'cairn-jny-steps');
  } finally {
    if (poller) await poller.close();
    c.close();
    await h.stopProc(srv.proc);
  }

  // ---- the peer: the same rows straight into SQLite
  const bin = h.compile('journey_ceiling', ['sqlite3']);
  const n = Math.max(1000, out.entered);
  log(`[${elapsed()}s] row 9 peer: bench/journey_ceiling, ${fmtInt(n)} timers in transactions of 1,000`);
  const r = await h.runAsync(bin, [path.join(h.scratch, 'journey-ceiling.db'), String(n), '1000', String(Math.max(20, S.stepsCap))]);
  if (!r.ok) throw new Error(`journey_ceiling failed (${r.status}): ${r.err}`);
  out.ceiling = JSON.parse(r.out.split('\n').pop());
  return out;
}

// --------------------------------------------------- row 10: timer latency --
async function benchTimers(h, S, update, rate, rateWhy) {
  const { log, elapsed, fmtInt } = h;
  const users = Math.max(1, Math.round(rate * S.spread));
  const out = { users, rate, rateWhy, spread: S.spread, problems: [] };
  const need = WAIT_MINUTE_MS / 1000 + S.spread + 5;
  if (S.cap < need) {
    out.skipped = `BENCH_JNY_CAP=${S.cap} s is shorter than the ${need.toFixed(0)} s the row needs at least ` +
      `(the schema's shortest wait is 1 minute, plus BENCH_JNY_SPREAD=${S.spread} s of entries, plus 5 s)`;
    return out;
  }
  const dir = path.join(h.scratch, 'store-jny-timers');
  const creds = await h.initStore(dir);
  const srv = await h.startServer(h.CAIRN, ['serve', '--data', dir, '--listen', '127.0.0.1:0'], 'cairn-jny-timers');
  const c = client(srv, creds);
  const stateDb = path.join(dir, 'state.db');
  let poller;
  try {
    await c.publish('bench-timers', definition('Bench timers', 'Bench Timer', { minutes: 1 }, update));
    const t0 = performance.now();
    const deadline = t0 + S.cap * 1000;
    log(`[${elapsed()}s] row 10: ${fmtInt(users)} users enter over ${S.spread} s (${fmtInt(rate)}/s), ` +
      `each waits 1 minute (real clock; cap ${S.cap} s)`);
    // paced: every 100 ms, the users due by then, in batches of ≤ 50 users
    let sent = 0, acked = 0, inflight = 0, lateMs = 0;
    const pending = new Set();
    while (sent < users && performance.now() < deadline) {
      const el = performance.now() - t0;
      const want = Math.min(users, Math.floor((el / 1000) * rate) + 1);
      lateMs = Math.max(lateMs, el - (sent / rate) * 1000);
      while (sent < want && inflight < 16) {
        const a = sent, b = Math.min(want, a + 50);
        sent = b;
        inflight++;
        const msgs = [];
        for (let i = a; i < b; i++) msgs.push(...userMessages('jt', i, 'Bench Timer', true));
        const p = c.batch(msgs).then((r) => {
          if (r.status === 200) acked += b - a;
          else if (out.problems.length < 3) out.problems.push(`/v1/batch: HTTP ${r.status} ${r.text.slice(0, 200)}`);
        }, (e) => out.problems.length < 3 && out.problems.push(`/v1/batch: ${e.message}`)).finally(() => {
          inflight--;
          pending.delete(p);
        });
        pending.add(p);
      }
      await h.sleep(100);
    }
    await Promise.all(pending);
    out.sendS = (performance.now() - t0) / 1000;
    out.acked = acked;
    out.sendLagMs = lateMs;
    const cu = await h.catchUp(srv.url, Math.max(1, (deadline - performance.now()) / 1000));
    out.enteredS = (performance.now() - t0) / 1000;
    out.enteredCaughtUp = cu.caughtUp;

    // a reader polls the highest jny_steps rowid about every 20 ms: when it
    // first sees a step's row, that step has been committed
    poller = rowidPoller(h, stateDb);
    let st = null;
    const fin = await pollUntil(h, async () => {
      st = await c.stats('bench-timers');
      return acked > 0 && (st.done?.exited || 0) >= acked;
    }, deadline, 500);
    const seen = await poller.stop();
    poller = null;
    out.capped = !fin.ok;
    out.totalS = (performance.now() - t0) / 1000;
    out.exited = st?.done?.exited || 0;
    out.stillWaiting = st?.wait1?.waiting || 0;
    out.polls = seen.length;

    // per user: the step after the wait (its rowid and `at`) and the wait's due time
    const rows = sqlOne(h, stateDb,
      "SELECT p.rowid, p.at, w.at FROM jny_steps p JOIN jny_steps w ON w.instance_id = p.instance_id AND w.node = 'wait1'" +
      " WHERE p.node = 'plan' ORDER BY p.rowid").split('\n').filter(Boolean).map((l) => l.split('|').map(Number));
    const wallOffset = Date.now() - performance.now(); // the store's times are wall-clock ms
    const atLat = [], seenLat = [];
    let k = 0;
    for (const [rowid, at, waitAt] of rows) {
      const due = waitAt + WAIT_MINUTE_MS;
      atLat.push(at - due);
      while (k < seen.length && seen[k][1] < rowid) k++;
      if (k < seen.length) seenLat.push(seen[k][0] + wallOffset - due);
    }
    atLat.sort((a, b) => a - b);
    seenLat.sort((a, b) => a - b);
    out.fired = rows.length;
    out.at = { p50: pctile(atLat, 50), p99: pctile(atLat, 99), max: atLat[atLat.length - 1] ?? null };
    out.seen = { n: seenLat.length, p50: pctile(seenLat, 50), p99: pctile(seenLat, 99), max: seenLat[seenLat.length - 1] ?? null,
      within1s: seenLat.filter((x) => x <= 1000).length };
    if (rows.length > 1) {
      const ats = rows.map((r) => r[1]).sort((a, b) => a - b);
      out.fireSpanS = (ats[ats.length - 1] - ats[0]) / 1000;
      // timers fired in the busiest second (by `at`)
      let best = 0;
      for (let i = 0, j = 0; i < ats.length; i++) {
        while (ats[i] - ats[j] >= 1000) j++;
        best = Math.max(best, i - j + 1);
      }
      out.peakPerS = best;
      const dues = rows.map((r) => r[2] + WAIT_MINUTE_MS).sort((a, b) => a - b);
      out.dueSpanS = (dues[dues.length - 1] - dues[0]) / 1000;
    }
    out.serverError = lastError(h, 'cairn-jny-timers');
  } finally {
    if (poller) await poller.close();
    c.close();
    await h.stopProc(srv.proc);
  }
  return out;
}

// ------------------------------------------- row 11: many users waiting --
async function benchWaiting(h, S, update) {
  const { log, elapsed, fmtInt } = h;
  const out = { target: S.waiting, problems: [], points: [], chunks: [] };
  const dir = path.join(h.scratch, 'store-jny-waiting');
  const creds = await h.initStore(dir);
  const srv = await h.startServer(h.CAIRN, ['serve', '--data', dir, '--listen', '127.0.0.1:0'], 'cairn-jny-waiting');
  const c = client(srv, creds);
  const stateDb = path.join(dir, 'state.db');
  const diskOf = () => {
    const d = {};
    for (const f of fs.readdirSync(dir)) {
      const base = f.replace(/-(wal|shm)$/, '');
      d[base] = (d[base] || 0) + fs.statSync(path.join(dir, f)).size;
    }
    return d;
  };
  try {
    await c.publish('bench-waiting', definition('Bench waiting', 'Bench Wait', { days: 30 }, update));
    await h.sleep(300);
    out.rssEmpty = h.memKb(srv.pid).rss;
    const t0 = performance.now();
    const deadline = t0 + S.waitingCap * 1000;
    log(`[${elapsed()}s] row 11: ${fmtInt(S.waiting)} users into a 30-day wait via /v1/batch (cap ${S.waitingCap} s)`);
    // a tenth first, then the rest (chunks end exactly at the tenth); RSS
    // after every chunk, once the engine has caught up with it
    let at = 0;
    const th0 = h.threadTicks(srv.pid);
    const onChunk = async (sent) => {
      await h.sleep(200);
      const mk = h.memKb(srv.pid);
      out.points.push({ waiting: sent, rss: mk.rss, hwm: mk.hwm, s: (performance.now() - t0) / 1000 });
    };
    for (const upto of [Math.max(1, Math.round(S.waiting / 10)), S.waiting]) {
      if (performance.now() >= deadline) break;
      at += await enterUsers(h, c, srv, 'jw', at, upto, 'Bench Wait', { identify: false, deadline, problems: out.problems, chunks: out.chunks, onChunk });
      if (at < upto) break;
    }
    out.loadS = (performance.now() - t0) / 1000;
    const sts = await c.stats('bench-waiting').catch(() => null);
    out.waiting = sts?.wait1?.waiting ?? null;
    out.diskRunning = diskOf();
    out.engineCpuS = (engineTicks(h.threadTicks(srv.pid)) - engineTicks(th0)) / h.CLK_TCK;
    out.acked = out.chunks.reduce((a, k) => a + k.acked, 0);
    out.capped = at < S.waiting;
    out.serverError = lastError(h, 'cairn-jny-waiting');
  } finally {
    c.close();
    await h.stopProc(srv.proc);
  }
  // after a clean stop (WAL checkpointed): the files, and state.db by table
  out.diskStopped = diskOf();
  const ds = h.sh('sqlite3', ['-readonly', stateDb], { input: 'SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC LIMIT 10;\n' });
  out.dbstat = ds.ok ? ds.out.split('\n').map((l) => l.split('|')).filter((a) => a.length === 2).map(([n, b]) => [n, Number(b)]) : [];
  return out;
}

// ------------------------------------------------------------------ rows --
export async function benchJourneys(h, S) {
  const rows = [], notes = [], raw = { settings: S };
  let update = S.update;
  if (!update) {
    try {
      const p = await probeUpdate(h);
      update = p.ok ? 'tags' : 'score';
      raw.probe = p;
      if (!p.ok) notes.push(`journeys: the update node uses score (+5 engagement) instead of tags_add, because tags_add does not work ` +
        `in this build — a one-user probe's timer never completed: ${p.why}. Set BENCH_JNY_UPDATE=tags to force it.`);
    } catch (e) {
      update = 'tags';
      notes.push(`journeys: the tags_add probe failed (${e.message}); going on with tags_add`);
    }
  }
  raw.update = update;
  // row 10's rate: as given, else half of what row 9 measured for entering
  const timerRate = () => {
    if (S.rate) return [S.rate, 'BENCH_JNY_RATE'];
    const e = raw.steps && raw.steps.entered / raw.steps.enterS;
    if (!e) return [200, 'the default when row 9 has no entry rate'];
    return [Math.round(Math.max(50, Math.min(5000, e / 2))), `half of row 9's entry rate (${h.fmtInt(e)} users/s), within 50–5,000`];
  };
  const parts = [
    ['9', 'steps', () => benchSteps(h, S, update), (o) => stepsRows(o, S, h, update)],
    ['10', 'timers', () => benchTimers(h, S, update, ...timerRate()), (o) => timerRows(o, S, h)],
    ['11', 'waiting', () => benchWaiting(h, S, update), (o) => waitingRows(o, S, h)],
  ];
  for (const [id, name, run, fmt] of parts) {
    if (!S.parts.includes(name)) continue;
    try {
      const o = await run();
      raw[name] = o;
      const r = fmt(o);
      rows.push(...r.rows);
      notes.push(...r.notes);
    } catch (e) {
      h.log(`row ${id} (journeys ${name}) failed: ${e.stack || e.message}`);
      rows.push({ id, what: `Journeys: ${name} (bench/journeys.mjs)`, cairn: 'failed', peerName: '—', peer: '—', ratio: '—', aim: '' });
      notes.push(`row ${id} failed: ${e.message}`);
    }
  }
  return { rows, notes, raw };
}

function stepsRows(o, S, h, update) {
  const { fmtInt, ratioText, fmtMs } = h;
  const rows = [], notes = [];
  const rate = o.fireSteps / o.fireS, perCore = o.fireSteps / Math.max(0.01, o.fireEngineCpuS);
  const timers = o.exited / o.fireS;
  const ce = o.ceiling;
  const complete = !o.fireCapped && !o.enterCapped;
  const atScale = o.entered >= 100_000;
  const ms = (x) => (x == null ? '—' : x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : fmtMs(x * 1000));
  rows.push({ id: '9', what: `Journey steps: ${fmtInt(o.entered)} users${o.entered < S.users ? ` (of ${fmtInt(S.users)}: entering CAPPED)` : ''}, ` +
      `their 1-day wait due at once (virtual clock), 3–4 steps each to the exit${o.fireCapped ? ' — firing CAPPED' : ''}`,
    cairn: `${fmtInt(rate)} steps/s (${fmtInt(perCore)}/s per core)`,
    peerName: 'bench/journey_ceiling: same rows, bare SQLite', peer: `${fmtInt(ce.steps_per_s)} steps/s`,
    ratio: ratioText(rate, ce.steps_per_s, true),
    aim: atScale ? '≥ 50,000 steps/s' : '≥ 50,000 steps/s (at 100,000 users; not this scale)',
    ok: atScale ? complete && rate >= 50_000 : rate >= 50_000 ? undefined : false });
  rows.push({ id: '9', what: '  timers fired per second (same run)', cairn: `${fmtInt(timers)} timers/s`,
    peerName: 'bench/journey_ceiling', peer: `${fmtInt(ce.timers_per_s)} timers/s`, ratio: ratioText(timers, ce.timers_per_s, true), aim: 'report' });
  rows.push({ id: '9', what: `  same burst: clock advanced → each user's step after the wait committed, p50 / p99`,
    cairn: `${ms(o.burst.p50)} / ${ms(o.burst.p99)}`, peerName: '—', peer: '—', ratio: '—', aim: 'report' });
  const enterRate = o.entered / o.enterS;
  const k0 = o.chunks[0], kz = o.chunks[o.chunks.length - 1];
  const r0 = k0 && k0.acked / k0.secs, rz = kz && kz.acked / kz.secs;
  rows.push({ id: '9', what: `  entering: identify + trigger via /v1/batch → waiting at the wait (2 steps each); last chunk ` +
      `(${fmtInt(kz?.from)}+${fmtInt(kz?.n)} users) beside the first`,
    cairn: `${fmtInt(enterRate)} users/s over all (last chunk ${fmtInt(rz)}/s)`, peerName: `first ${fmtInt(k0?.n)} users`, peer: `${fmtInt(r0)} users/s`,
    ratio: o.chunks.length > 1 ? ratioText(rz, r0, true) : '—', aim: 'report (flat ≈ 100 %)' });
  const ceilNote = `${fmtInt(ce.timers)} timers, ${fmtInt(ce.steps)} steps in ${ce.seconds.toFixed(1)} s${ce.capped ? ' (CAPPED)' : ''}, ` +
    `${fmtInt(ce.write_bytes / Math.max(1, ce.steps))} B written per step; filled first, untimed, in ${ce.fill_seconds.toFixed(1)} s`;
  const endHow = o.fireBy === 'poll' ? `the last step was committed ${o.fireS.toFixed(2)} s after the call was sent (seen by the reader below; ` +
    `GET …/stats, polled every 100 ms, showed every user at the exit at ${o.statsDoneS.toFixed(1)} s — its read barrier waits for the emitted events)`
    : `every user was at the exit ${o.fireS.toFixed(1)} s after the call was sent (GET …/stats polled every 100 ms)`;
  notes.push(`row 9 (bench/journeys.mjs): journey send (inline email) → wait 1 day → branch on trait plan → send (pro only) → update ` +
    `(${update === 'tags' ? 'tags_add onboarded' : 'score engagement +5'}) → exit, advertising false, published with POST /api/v1/journeys + …/publish ` +
    `on a fresh store, cairn serve --virtual-clock ${VIRTUAL_START}. Entering: BENCH_JNY_USERS=${fmtInt(S.users)} users send an identify ` +
    `(plan pro for every 2nd) and the trigger in 100-message /v1/batch requests (8 in flight), in chunks sized to ~2 s of the entry rate seen so far, ` +
    `each followed by a wait for /readyz applied = log_head; ${fmtInt(o.entered)} waited at wait1 after ${o.enterS.toFixed(1)} s` +
    `${o.enterCapped ? ` — CAPPED: no chunk starts after BENCH_JNY_STEPS_CAP=${S.stepsCap} s` : ''} (engine thread ${o.enterEngineCpuS.toFixed(1)} CPU-s = ` +
    `${fmtInt((1e6 * o.enterEngineCpuS) / Math.max(1, o.entered))} µs per user); chunks: ${chunkText(h, o.chunks)}. ` +
    `Firing: POST /api/v1/_clock {"advance":{"days":1}} answered ${o.clockStatus === 200 ? '200' : `HTTP ${o.clockStatus}`} after ${o.clockS.toFixed(1)} s; ` +
    `${endHow}${o.fireCapped ? ` — CAPPED by BENCH_JNY_STEPS_CAP: ${fmtInt(o.exited)} exited` : ''}: ${fmtInt(o.fireSteps)} steps committed ` +
    `(new jny_steps rows, read-only sqlite3; the stats say ${fmtInt(o.statsSteps)}), ${fmtInt(o.messages)} messages queued in all. ` +
    `Per core = steps ÷ CPU time of the cairn-engine thread over the same ${o.fireS.toFixed(1)} s (${o.fireEngineCpuS.toFixed(1)} s = ` +
    `${fmtInt((1e6 * o.fireEngineCpuS) / Math.max(1, o.fireSteps))} µs per step). The events the steps emitted (Journey Exited, …) were applied ` +
    `${(o.allS - o.fireS).toFixed(1)} s after the last step${o.emittedCaughtUp ? '' : ' (NOT caught up at the cap)'}: ` +
    `${fmtInt(o.fireSteps / o.allS)} steps/s counting that, ${fmtInt(o.fireSteps / Math.max(0.01, o.allEngineCpuS))}/s per engine core. ` +
    `Burst latency: a read-only sqlite3 reader polled max(rowid) of jny_steps every ~20 ms (${fmtInt(o.burst.polls)} polls); each user's "plan" step ` +
    `counts from the moment the _clock call was sent to the first poll that saw it; max ${ms(o.burst.max)}`);
  notes.push(`row 9 peer (bench/journey_ceiling.c): the rows cairn's journey tables get for the same ${fmtInt(ce.users)} fired timers — ` +
    `due-timer query (cairn's), instance read, per step a jny_steps insert + jny_node_stats upsert, the pro-tips message row, ` +
    `instance update, timer delete — in transactions of 1,000 (cairn's JNY_TICK_BATCH) with state.db's settings (WAL, synchronous=NORMAL, ` +
    `256 MiB cache); no rendering, no conditions, no profile or tag writes, no emitted events: ${ceilNote}`);
  if (o.clockAnsweredEarly)
    notes.push(`row 9: POST /api/v1/_clock answered after ${o.clockS.toFixed(1)} s, BEFORE every due timer had fired (the last one was ` +
      `committed ${ms(o.burst.max)} after the call): CONVENTIONS §0 says it answers once everything due is done`);
  if (o.serverError) notes.push(`row 9 server log: ${o.serverError}`);
  if (o.problems.length) notes.push(`row 9 problems: ${o.problems.join('; ')}`);
  h.diag(`row 9 entering, server threads (CPU % of one core): ${o.enterThreads}`);
  h.diag(`row 9 firing (until …/stats showed everyone at the exit), server threads (CPU % of one core): ${o.fireThreads}`);
  h.diag(`row 9 firing (same window), per exited user, CPU and bytes written by thread: ${o.fireIo}`);
  h.diag(o.fireBox);
  return { rows, notes };
}

function timerRows(o, S, h) {
  const { fmtInt, fmtMs } = h;
  const rows = [], notes = [];
  if (o.skipped) {
    rows.push({ id: '10', what: 'Journey timers: due → step committed (real clock)', cairn: 'skipped', peerName: '—', peer: '—', ratio: '—',
      aim: 'p99 ≤ 1 s' });
    notes.push(`row 10 skipped: ${o.skipped}`);
    return { rows, notes };
  }
  const ms = (x) => (x == null ? '—' : x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : fmtMs(x * 1000));
  const rate = o.fired && o.fireSpanS > 0 ? o.fired / o.fireSpanS : null;
  rows.push({ id: '10', what: `Journey timers: due → step after the wait committed, p50 / p99 (${fmtInt(o.seen.n)} timers due over ` +
      `${o.dueSpanS?.toFixed(0) ?? '?'} s, real clock${o.capped ? '; CAPPED' : ''})`,
    cairn: `${ms(o.seen.p50)} / ${ms(o.seen.p99)}`, peerName: '—', peer: '—', ratio: '—', aim: 'p99 ≤ 1 s',
    ok: o.seen.n ? o.seen.p99 <= 1000 && !o.capped : false });
  rows.push({ id: '10', what: `  timers fired per second in that run (busiest second)`,
    cairn: rate == null ? '—' : `${fmtInt(rate)}/s (${fmtInt(o.peakPerS)})`, peerName: 'offered: users entering per second', peer: `${fmtInt(o.rate)}/s`,
    ratio: '—', aim: 'report' });
  notes.push(`row 10: the same journey with wait {"minutes":1} (the schema's shortest duration) on the real clock, a fresh store; ` +
    `${fmtInt(o.acked)} of ${fmtInt(o.users)} users (${fmtInt(o.rate)}/s — ${o.rateWhy} — × BENCH_JNY_SPREAD=${S.spread} s) sent identify + trigger ` +
    `in /v1/batch requests paced every 100 ms (${o.sendS.toFixed(1)} s; the sender fell at most ${fmtInt(o.sendLagMs)} ms behind its schedule; ` +
    `the engine had applied them ${o.enteredS.toFixed(1)} s after the start${o.enteredCaughtUp ? '' : ', NOT caught up'}), so their timers ` +
    `fell due over ${o.dueSpanS?.toFixed(1) ?? '?'} s. Due = the wait step's \`at\` + 1 minute (from jny_steps). "Committed" = the first time a ` +
    `read-only sqlite3 reader, polling max(rowid) of jny_steps every ~20 ms (${fmtInt(o.polls)} polls), saw the step after the wait — an upper bound by ` +
    `up to one poll; max ${ms(o.seen.max)}, ${fmtInt(o.seen.within1s)} of ${fmtInt(o.seen.n)} within 1 s. ` +
    `The step's own \`at\` (when the engine's tick started that user's run) gives p50 ${ms(o.at.p50)}, p99 ${ms(o.at.p99)}, max ${ms(o.at.max)}. ` +
    `${fmtInt(o.fired)} fired over ${o.fireSpanS?.toFixed(1) ?? '?'} s; the row took ${o.totalS.toFixed(0)} s` +
    `${o.capped ? ` — CAPPED by BENCH_JNY_CAP=${S.cap} s: ${fmtInt(o.exited)} exited, ${fmtInt(o.stillWaiting)} still waiting` : ` (BENCH_JNY_CAP=${S.cap} s)`}. ` +
    `At this rate the steps after the wait run at about ${fmtInt((rate || 0) * 3.5)} steps/s; the aim's "within 1 s" is meant at 50,000 steps/s, ` +
    `which entering cannot feed here (row 9's entry rate); row 9's burst line shows due → committed with every timer due at once`);
  if (o.serverError) notes.push(`row 10 server log: ${o.serverError}`);
  if (o.problems.length) notes.push(`row 10 problems: ${o.problems.join('; ')}`);
  return { rows, notes };
}

function waitingRows(o, S, h) {
  const { fmtInt, fmtMiB } = h;
  const rows = [], notes = [];
  const pts = o.points;
  const last = pts[pts.length - 1];
  if (!last || !o.waiting) throw new Error(`no user reached the wait (${o.problems.join('; ') || o.serverError || 'see the server log'})`);
  const n = o.waiting;
  const reached = n >= S.waiting * 0.99;
  // the point nearest a tenth of the users reached (exactly a tenth when the target was reached)
  const first = pts.reduce((b, p) => (Math.abs(p.waiting - last.waiting / 10) < Math.abs(b.waiting - last.waiting / 10) ? p : b), pts[0]);
  const two = first && first !== last;
  const ratio = two && first.rss ? last.rss / first.rss : null;
  const stateBytes = o.diskStopped['state.db'] || 0;
  const allBytes = Object.values(o.diskStopped).reduce((a, b) => a + b, 0);
  const perUser = stateBytes / n;
  const mib = (x) => (x == null ? '—' : fmtMiB(x));
  rows.push({ id: '11', what: `Memory with ${fmtInt(n)} users waiting in a 30-day wait${reached ? '' : ` (of ${fmtInt(S.waiting)} aimed at — loading CAPPED)`}: ` +
      `RSS, beside RSS at ${two ? fmtInt(first.waiting) : '—'} waiting`,
    cairn: `${mib(last.rss)} (peak ${mib(last.hwm)})`, peerName: two ? `RSS at ${fmtInt(first.waiting)} waiting` : '—',
    peer: two ? mib(first.rss) : '—', ratio: ratio == null ? '—' : `${ratio.toFixed(2)}×`,
    aim: reached ? 'independent of waiting users: ≈ 1×' : `≈ 1× (at ${fmtInt(S.waiting)} users; not reached)`,
    ok: ratio != null && reached ? ratio <= 1.5 : undefined });
  rows.push({ id: '11', what: `  store size per waiting user, after a clean stop (state.db; all files)`,
    cairn: `${fmtInt(perUser)} B; ${fmtInt(allBytes / n)} B`, peerName: '—', peer: '—', ratio: '—', aim: 'report' });
  if (!reached) {
    const growPerUser = two ? (last.rss - first.rss) / Math.max(1, last.waiting - first.waiting) : null;
    rows.push({ id: '11', what: `  at ${fmtInt(S.waiting)} users: EXTRAPOLATED linearly from ${fmtInt(n)} (not measured)`,
      cairn: `RSS ≈ ${growPerUser == null ? '—' : mib(last.rss + growPerUser * (S.waiting - n))}; state.db ≈ ${fmtMiB((perUser * S.waiting) / 1024)}`,
      peerName: '—', peer: '—', ratio: '—', aim: 'extrapolation' });
  }
  const k0 = o.chunks[0], kz = o.chunks[o.chunks.length - 1];
  notes.push(`row 11: the same journey with wait {"days":30} (real clock, a fresh store); BENCH_JNY_WAITING=${fmtInt(S.waiting)} users sent only the ` +
    `trigger (100 per /v1/batch request, 8 in flight, no identify) in chunks as in row 9 — first a tenth, then the rest; ${fmtInt(o.acked)} acked, ` +
    `${fmtInt(n)} waiting after ${o.loadS.toFixed(1)} s = ${fmtInt(n / o.loadS)} users/s entering (ingest + engine; engine thread ` +
    `${o.engineCpuS.toFixed(1)} CPU-s = ${fmtInt((1e6 * o.engineCpuS) / n)} µs per user)` +
    `${o.capped ? ` — CAPPED: no chunk starts after BENCH_JNY_WAITING_CAP=${S.waitingCap} s` : ''}; ` +
    `first chunk ${fmtInt(k0.acked / k0.secs)} users/s, last ${fmtInt(kz.acked / kz.secs)} users/s (chunks: ${chunkText(h, o.chunks)}). ` +
    `RSS: empty (journey published) ${mib(o.rssEmpty)}, then after each chunk: ` +
    (pts.length <= 8 ? pts : [...pts.slice(0, 3), null, ...pts.slice(-4)])
      .map((p) => (p ? `${fmtInt(p.waiting)} waiting ${mib(p.rss)}` : '…')).join(', ') + ` (peak at the end ${mib(last.hwm)})` +
    `. SQLite's page cache is part of RSS and capped by cairn (256 MiB on the engine's state.db connection), so RSS grows with the store until ` +
    `that cache is full, whatever holds the users. Store after a clean stop: ` +
    Object.entries(o.diskStopped).map(([f, b]) => `${f} ${fmtMiB(b / 1024)}`).join(', ') +
    (o.dbstat.length ? `; state.db's largest tables/indexes per waiting user: ${o.dbstat.map(([t, b]) => `${t} ${fmtInt(b / n)} B`).join(', ')}` : '') +
    (reached ? '' : `. The EXTRAPOLATED line scales the RSS growth between the two points and state.db's bytes per user linearly to ` +
      `${fmtInt(S.waiting)} users — not a measurement, and for RSS an upper bound once the capped page cache is full`));
  if (o.serverError) notes.push(`row 11 server log: ${o.serverError}`);
  if (o.problems.length) notes.push(`row 11 problems: ${o.problems.join('; ')}`);
  return { rows, notes };
}
