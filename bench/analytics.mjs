// bench/analytics.mjs — rows 16–17 of `make bench` (analytics, issue 8): the
// journey report, the 30-day message funnel (both read rollups) and an ad-hoc
// 4-step funnel (reads the timeline) on a store with 10,000,000 events, each
// beside the same SQL in the sqlite3 shell; and the cold recomputation of the
// message totals straight from the timeline, beside the rollup answer.
// Called from bench/run.mjs with its helpers (BENCH_ONLY=analytics runs only
// these rows); see docs/bench.md.
//
// The store is made once and kept in build/bench/store-analytics-<N> (10m;
// quick 1m): `cairn init`, then through the API of a short-lived `cairn serve`
// the 16 email templates and the journey `welcome` (published), then
// bench/an_gen.c writes profiles, the timeline and the rollups straight into
// state.db (see its header). It is made again when missing, unfinished, made
// by another generator version or for other sizes, or when `cairn migrate`
// refuses it. All periods are anchored to the generation time, so a kept
// store answers the same whatever its age.
//
// Environment (all optional):
//   BENCH_AN_EVENTS    timeline events in the generated store (default 10,000,000; quick 1,000,000)
//   BENCH_AN_PROFILES  profiles (default 200,000; quick 20,000)
//   BENCH_AN_RUNS      timed requests / sqlite3 runs per measure, after one warm-up (default 20)
//   BENCH_AN_CAP       seconds per measure: no run starts that would end after it at the last
//                      run's pace (default 10; quick 6); always at least 1 run after the warm-up,
//                      unless the warm-up alone took longer: then it is the only run
//   BENCH_AN_TIMEOUT   seconds one request or statement may take before the measure is given up
//                      and reported as timed out (default 30; the full recount of row 17: 3×)
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

const DAY = 86_400_000;
const PERIOD_DAYS = 30; // cairn's default period: to − 29 days … to, i.e. 30 UTC day buckets
const AIM_MS = 100;
const JOURNEY = 'welcome';
const FUNNEL_STEPS = ['Email Sent', 'Email Opened', 'Email Link Clicked', 'Order Completed'];
const FUNNEL_WITHIN_DAYS = 7;
const FUNNEL_MAX = 8; // STORE_AN_FUNNEL_MAX in src/store/store_analytics.h
const MSG_NAMES = { 'Email Sent': 'sent', 'Email Opened': 'opened', 'Email Link Clicked': 'clicked' };
const SETUP_TIMEOUT_MS = 30_000;

export function anSettings(num, QUICK) {
  return {
    events: Math.round(num('BENCH_AN_EVENTS', QUICK ? 1_000_000 : 10_000_000)),
    profiles: Math.round(num('BENCH_AN_PROFILES', QUICK ? 20_000 : 200_000)),
    runs: Math.max(1, Math.round(num('BENCH_AN_RUNS', 20))),
    cap: num('BENCH_AN_CAP', QUICK ? 6 : 10),
    timeout: num('BENCH_AN_TIMEOUT', 30),
  };
}

// ------------------------------------------------------------- the store --
// The templates and the journey the generator's rows refer to (an_gen.c's
// tpls[] and nodes[]: keep them in step).
const TEMPLATES = [
  'welcome-intro', 'welcome-top3', 'welcome-problem-solving', 'welcome-reviews-offer',
  ...Array.from({ length: 9 }, (_, k) => `newsletter-w${String(k + 1).padStart(2, '0')}`),
  'spring-sale-a', 'spring-sale-b', 'flash-sale',
];
const send = (id, template, next) => ({ id, type: 'send', channel: 'email', template, ...(next ? { next } : {}) });
const WELCOME = {
  name: 'Welcome series',
  trigger: { type: 'event', event: 'Signed Up' },
  goal: { event: 'Order Completed', within: { days: 14 } },
  nodes: [
    send('day0-intro', 'welcome-intro', 'wait-2d'),
    { id: 'wait-2d', type: 'wait', duration: { days: 2 }, next: 'day2-top3' },
    send('day2-top3', 'welcome-top3', 'wait-3d'),
    { id: 'wait-3d', type: 'wait', duration: { days: 3 }, next: 'day5-solve' },
    send('day5-solve', 'welcome-problem-solving', 'wait-2d-again'),
    { id: 'wait-2d-again', type: 'wait', duration: { days: 2 }, next: 'day7-reviews' },
    send('day7-reviews', 'welcome-reviews-offer'),
  ],
};

function req(agent, url, { method = 'GET', headers = {}, body, timeout = SETUP_TIMEOUT_MS } = {}) {
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

function client(srv, creds, timeoutMs = SETUP_TIMEOUT_MS) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  const headers = { 'Content-Type': 'application/json', Authorization: `Bearer ${creds.secret_key}` };
  return {
    agent,
    api: (method, p, body) => req(agent, `${srv.url}${p}`, { method, headers, timeout: timeoutMs,
      body: body == null || typeof body === 'string' ? body : JSON.stringify(body) }),
    close: () => agent.destroy(),
  };
}

// an_gen is compiled here rather than with run.mjs's compile(): it needs libm.
function compileGen(h) {
  const src = path.join(path.dirname(new URL(import.meta.url).pathname), 'an_gen.c');
  const out = path.join(h.benchBuild, 'an_gen');
  fs.mkdirSync(h.benchBuild, { recursive: true });
  if (fs.existsSync(out) && fs.statSync(out).mtimeMs >= fs.statSync(src).mtimeMs) return out;
  const flags = h.sh('pkg-config', ['--cflags', '--libs', 'sqlite3']);
  if (!flags.ok) throw new Error(`pkg-config sqlite3: ${flags.err}`);
  const r = h.sh('cc', ['-std=gnu11', '-O2', '-Wall', '-o', out, src, ...flags.out.split(/\s+/), '-lm']);
  if (!r.ok) throw new Error(`cc ${src}:\n${r.err}`);
  return out;
}

const scaleName = (n) => (n % 1_000_000 === 0 ? `${n / 1_000_000}m` : n % 1000 === 0 ? `${n / 1000}k` : String(n));

async function genStore(h, S) {
  const { log, elapsed, fmtInt } = h;
  const bin = compileGen(h);
  const v = await h.runAsync(bin, ['--version']);
  if (!v.ok) throw new Error(`an_gen --version: ${v.err}`);
  const version = v.out;
  const name = `store-analytics-${scaleName(S.events)}`;
  const dir = path.join(h.benchBuild, name), metaFile = `${dir}.json`;
  let meta = null, why = 'missing';
  try {
    meta = JSON.parse(fs.readFileSync(metaFile, 'utf8'));
  } catch {}
  if (meta && fs.existsSync(path.join(dir, 'state.db'))) {
    if (!meta.complete) why = 'an earlier generation did not finish';
    else if (meta.gen.version !== version) why = `the generator changed (was "${meta.gen.version}")`;
    else if (meta.gen.profiles !== S.profiles || meta.gen.events_target !== S.events)
      why = `made for ${fmtInt(meta.gen.profiles)} profiles / ${fmtInt(meta.gen.events_target)} events`;
    else {
      const m = await h.runAsync(h.CAIRN, ['migrate', '--data', dir]);
      if (m.ok) return { dir, name, meta, reused: true, ageDays: (Date.now() - meta.gen.now) / DAY };
      why = `cairn migrate failed: ${(m.err || m.out).split('\n')[0]}`;
    }
  }
  log(`[${elapsed()}s] rows 16–17: generating ${name} (${fmtInt(S.profiles)} profiles, ${fmtInt(S.events)} events; ${why})`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(metaFile, { force: true });
  const t0 = performance.now();
  const creds = await h.initStore(dir);
  fs.writeFileSync(metaFile, JSON.stringify({ creds, complete: false }));
  // the templates and the journey, through the API
  const srv = await h.startServer(h.CAIRN, ['serve', '--data', dir, '--listen', '127.0.0.1:0'], 'cairn-an-setup');
  const c = client(srv, creds);
  try {
    for (const id of TEMPLATES) {
      const r = await c.api('POST', '/api/v1/templates', { id, name: id, channel: 'email',
        body: { subject: `${id}: hello {{ user.first_name | default: 'friend' }}`, html: `<p>${id}</p><p><a href="https://shop.example/">Shop</a></p>` } });
      if (r.status !== 201 && r.status !== 200) throw new Error(`POST /api/v1/templates (${id}): HTTP ${r.status} ${r.text.slice(0, 300)}`);
    }
    const j = await c.api('POST', '/api/v1/journeys', { id: JOURNEY, name: WELCOME.name, definition: WELCOME });
    if (j.status !== 201 && j.status !== 200) throw new Error(`POST /api/v1/journeys: HTTP ${j.status} ${j.text.slice(0, 300)}`);
    const p = await c.api('POST', `/api/v1/journeys/${JOURNEY}/publish`);
    if (p.status !== 200) throw new Error(`publish: HTTP ${p.status} ${p.text.slice(0, 300)}`);
  } finally {
    c.close();
    await h.stopProc(srv.proc);
  }
  const setupS = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  const r = await h.runAsync(bin, [path.join(dir, 'state.db'), String(S.profiles), String(S.events)], { echo: true });
  if (!r.ok) throw new Error(`an_gen failed (${r.status}): ${r.err.split('\n').slice(-3).join(' ')}`);
  const gen = JSON.parse(r.out.split('\n').filter((l) => l.startsWith('{')).pop());
  gen.wall_seconds = (performance.now() - t1) / 1000;
  gen.setup_seconds = setupS;
  meta = { creds, complete: true, gen, rebuilt_because: why };
  fs.writeFileSync(metaFile, JSON.stringify(meta));
  return { dir, name, meta, reused: false, ageDays: 0 };
}

// Waits until the server process is idle (under 5 % of a core over 1 s).
async function settle(h, pid, capS) {
  const t0 = performance.now();
  let prev = h.procTicks(pid);
  while ((performance.now() - t0) / 1000 < capS) {
    await h.sleep(1000);
    const cur = h.procTicks(pid);
    if (cur == null || prev == null) break;
    if (cur - prev < 0.05 * h.CLK_TCK) return { secs: (performance.now() - t0) / 1000, quiet: true };
    prev = cur;
  }
  return { secs: (performance.now() - t0) / 1000, quiet: false };
}

// ---------------------------------------------------------- the sqlite3 shell --
// A long-lived `sqlite3 -readonly` on a store, fed statements on stdin; each
// is followed by a marker SELECT, and its time is the wall time from writing
// it to reading the marker (the shell's own ".timer" prints whole
// milliseconds only, too coarse for the rollup reads; it is kept as `real`).
// A statement past its time limit kills the shell: the next statement starts
// a new one, with the parameters set so far.
function sqliteShell(h, db, timeoutMs) {
  const bound = new Map();
  let sh = null, n = 0;
  const literal = (v) => (v === null ? 'NULL' : typeof v === 'number' ? String(v) : `'${String(v).replace(/'/g, "''")}'`);
  function start() {
    const proc = h.spawnTracked('sqlite3', ['-readonly', '-batch', db]);
    const st = { proc, out: '', err: '', waiting: null, dead: null };
    proc.stdout.setEncoding('utf8');
    proc.stderr.setEncoding('utf8');
    st.poke = () => {
      if (st.waiting && (st.out.includes(`${st.waiting.mark}\n`) || st.dead)) {
        const w = st.waiting;
        st.waiting = null;
        w.resolve();
      }
    };
    proc.stdout.on('data', (d) => {
      st.out += d;
      st.poke();
    });
    proc.stderr.on('data', (d) => (st.err += d));
    proc.on('exit', (code) => {
      st.dead = st.dead || `sqlite3 exited (${code}): ${st.err.trim().slice(0, 300)}`;
      st.poke();
    });
    proc.stdin.on('error', () => {}); // a killed shell: its stdin may be closed under us
    proc.stdin.write('.timer on\n');
    for (const [k, v] of bound) proc.stdin.write(`.parameter set ?${k} ${literal(v)}\n`);
    return st;
  }
  async function run(sql, capMs = timeoutMs) {
    if (!sh || sh.dead) sh = start();
    const st = sh;
    const mark = `__an_mark_${++n}__`;
    st.out = '';
    st.err = '';
    const t0 = performance.now();
    let timer;
    await new Promise((resolve, reject) => {
      st.waiting = { mark, resolve };
      timer = setTimeout(() => {
        st.dead = `killed after ${capMs / 1000} s`;
        st.proc.kill('SIGKILL');
        reject(new Error(`timeout: no answer within ${capMs / 1000} s`));
      }, capMs);
      st.proc.stdin.write(`${sql.trim().replace(/;$/, '')};\nSELECT '${mark}';\n`);
    }).finally(() => clearTimeout(timer));
    const ms = performance.now() - t0;
    if (st.dead) throw new Error(st.dead);
    if (st.err.trim()) throw new Error(`sqlite3: ${st.err.trim().slice(0, 300)}`);
    const body = st.out.slice(0, st.out.indexOf(`${mark}\n`));
    const lines = body.split('\n');
    const real = lines.filter((l) => l.startsWith('Run Time: real')).map((l) => Number(l.split(/\s+/)[3]) * 1000);
    return { ms, real: real.length ? real.reduce((a, b) => a + b, 0) : null, rows: lines.filter((l) => l && !l.startsWith('Run Time:')) };
  }
  return {
    run,
    async params(p) {
      for (const [k, v] of Object.entries(p)) {
        bound.set(k, v);
        await run(`.parameter set ?${k} ${literal(v)}\nSELECT 1`);
      }
    },
    close() {
      if (sh && !sh.dead) sh.proc.stdin.end();
    },
  };
}

// -------------------------------------------------------------- the SQL --
// The statements cairn runs for each report, copied from
// src/store/store_journey.c (store_jny_stats_json) and
// src/store/store_analytics.c (store_an_msg_report, store_an_attrib_report,
// store_an_funnel): keep them in step, or the peer measures something else.
const SQL_JNY_STATS = `SELECT node, entered, exited, converted, 0, version FROM jny_node_stats
 WHERE workspace_id = ?1 AND journey_id = ?2 UNION ALL SELECT node, 0, 0, 0, count(*),
 version FROM jny_instances WHERE workspace_id = ?1 AND journey_id = ?2
 AND state = 'waiting' GROUP BY version, node`;
const SQL_MSG_REPORT = (expr) => `SELECT ${expr} AS k, metric, sum(total), sum(uniq) FROM an_msg_daily WHERE workspace_id = ?1
 AND day BETWEEN ?2 AND ?3 AND (?4 IS NULL OR journey_id = ?4) GROUP BY k, metric ORDER BY k, metric`;
const SQL_ATTRIB_REPORT = (expr) => `SELECT ${expr} AS k, sum(conversions), sum(revenue) FROM an_attrib_daily WHERE workspace_id = ?1
 AND day BETWEEN ?2 AND ?3 GROUP BY k ORDER BY k`;
// store_an_funnel's statement, built the same way: ?1 ws, ?2 from, ?3 to,
// ?4.. the steps, ?(4 + FUNNEL_MAX) the window.
function sqlFunnel(n) {
  let sql = 'WITH s1 AS (SELECT f.profile_id, f.t, (SELECT min(y.event_id) FROM timeline y INDEXED BY timeline_profile_ts' +
    ' WHERE y.workspace_id = ?1 AND y.profile_id = f.profile_id AND y.name = ?4 AND y.ts = f.t)' +
    ' AS e, f.t AS t0 FROM (SELECT profile_id, min(ts) AS t FROM timeline INDEXED BY timeline_name WHERE' +
    ' workspace_id = ?1 AND name = ?4 AND ts BETWEEN ?2 AND ?3 GROUP BY profile_id) f)';
  for (let k = 2; k <= n; k++)
    sql += `, s${k} AS (SELECT q.profile_id, q.t, (SELECT min(y.event_id) FROM timeline y INDEXED BY timeline_profile_ts` +
      ` WHERE y.workspace_id = ?1 AND y.profile_id = q.profile_id AND y.name = ?${k + 3} AND y.ts = q.t` +
      ` AND (q.t > q.pt OR y.event_id > q.pe)) AS e, q.t0 FROM (SELECT p.profile_id, p.t AS pt, p.e AS pe,` +
      ` p.t0, (SELECT min(x.ts) FROM timeline x INDEXED BY timeline_profile_ts WHERE x.workspace_id = ?1 AND x.profile_id = p.profile_id` +
      ` AND x.name = ?${k + 3} AND x.ts <= p.t0 + ?${4 + FUNNEL_MAX} AND (x.ts > p.t OR (x.ts = p.t AND x.event_id > p.e)))` +
      ` AS t FROM s${k - 1} p) q WHERE q.t IS NOT NULL)`;
  for (let k = 1; k <= n; k++) sql += `${k === 1 ? ' SELECT ' : ', '}(SELECT count(*) FROM s${k})`;
  return sql;
}
// Diagnostic only (a note, not a row): the same statement with the lower
// bound `x.ts >= p.t` spelled out in each later step's search (implied by
// the OR that follows it, which SQLite cannot use as a range), so it reads
// one profile's events from the previous step on instead of all of that
// profile's events up to the window's end. Same answer by construction.
function sqlFunnelBounded(n) {
  const a = sqlFunnel(n), b = a.replaceAll('x.profile_id = p.profile_id', 'x.profile_id = p.profile_id AND x.ts >= p.t');
  if (a === b) throw new Error('the funnel statement has no later-step search to bound');
  return b;
}
// Row 17: the message totals per day and metric, recomputed from the timeline
// over the report's day buckets (?2 … ?3 are day numbers) — the part of the
// rollup the timeline can give (it has no template, message id or revenue) —
// and the same count over every event name, day and row of the timeline.
const SQL_TL_TOTALS = `SELECT ts / 86400000 AS day, name, count(*) FROM timeline WHERE workspace_id = ?1
 AND name IN ('Email Sent', 'Email Opened', 'Email Link Clicked') AND ts BETWEEN ?2 * 86400000 AND (?3 + 1) * 86400000 - 1
 GROUP BY day, name ORDER BY day, name`;
const SQL_TL_ALL = `SELECT ts / 86400000 AS day, name, count(*) FROM timeline WHERE workspace_id = ?1 GROUP BY day, name`;

// ------------------------------------------------------------ measuring --
function pct(a, p) {
  const s = [...a].sort((x, y) => x - y);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] : null;
}

// One warm-up (kept as `first`), then up to S.runs timed runs; no run is
// started that would, at the last run's pace, end after S.cap seconds (so a
// slow measure may have a single run). A warm-up longer than S.cap is the
// only run (`firstOnly`).
async function series(S, fn) {
  const w = await fn();
  const slim = (r) => ({ ms: r.ms, ...(r.real != null ? { real: r.real } : {}) });
  if (w.ms > S.cap * 1000) return { first: slim(w), runs: [slim(w)], ms: [w.ms], p50: w.ms, p99: w.ms, last: w, firstOnly: true };
  const runs = [];
  const t0 = performance.now();
  while (runs.length < S.runs) {
    const spent = (performance.now() - t0) / 1000;
    if (runs.length && spent + runs[runs.length - 1].ms / 1000 > S.cap) break;
    runs.push(await fn());
  }
  const ms = runs.map((r) => r.ms);
  return { first: slim(w), runs: runs.map(slim), ms, p50: pct(ms, 50), p99: pct(ms, 99), last: runs[runs.length - 1] || w };
}

export async function benchAnalytics(h, S) {
  const { log, elapsed, fmtInt } = h;
  const out = { settings: S };
  const t_all = performance.now();
  const st = await genStore(h, S);
  const gen = st.meta.gen;
  Object.assign(out, { name: st.name, reused: st.reused, ageDays: st.ageDays, gen, why: st.meta.rebuilt_because });
  const stateDb = path.join(st.dir, 'state.db');
  out.disk = {};
  for (const f of fs.readdirSync(st.dir)) {
    const base = f.replace(/-(wal|shm)$/, '');
    out.disk[base] = (out.disk[base] || 0) + fs.statSync(path.join(st.dir, f)).size;
  }
  // OS page cache warm for both sides: read state.db once.
  const w0 = performance.now();
  {
    const fd = fs.openSync(stateDb, 'r'), buf = Buffer.allocUnsafe(8 << 20);
    while (fs.readSync(fd, buf, 0, buf.length, null) > 0);
    fs.closeSync(fd);
  }
  out.warmReadS = (performance.now() - w0) / 1000;

  // The period: the 30 days up to the generation time (whole seconds, as RFC 3339).
  const toMs = Math.floor(gen.now / 1000) * 1000, fromMs = toMs - (PERIOD_DAYS - 1) * DAY;
  const iso = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const period = { from: iso(fromMs), to: iso(toMs), fromDay: Math.floor(fromMs / DAY), toDay: Math.floor(toMs / DAY) };
  out.period = period;
  const ws = gen.workspace_id;
  const q = `from=${encodeURIComponent(period.from)}&to=${encodeURIComponent(period.to)}`;
  const funnelBody = JSON.stringify({ steps: FUNNEL_STEPS, within: { days: FUNNEL_WITHIN_DAYS }, from: period.from, to: period.to });

  let srv, c;
  const problems = [];
  // a measure that fails is reported as such; the others go on
  out.errors = {};
  const attempt = async (what, f) => {
    try {
      return await f();
    } catch (e) {
      out.errors[what] = e.message;
      if (!/^timeout/.test(e.message)) problems.push(`${what}: ${e.message}`);
      h.log(`rows 16–17: ${what} failed: ${e.message}`);
      return null;
    }
  };
  try {
    srv = await h.startServer(h.CAIRN, ['serve', '--data', st.dir, '--listen', '127.0.0.1:0'], 'cairn-analytics');
    out.settle = await settle(h, srv.pid, 60);
    out.rssIdle = h.memKb(srv.pid).rss;
    c = client(srv, st.meta.creds, S.timeout * 1000);
    const box0 = h.boxTicks(), tk0 = h.procTicks(srv.pid), m0 = performance.now();
    const timed = (method, p, body) => async () => {
      const t = performance.now();
      const r = await c.api(method, p, body);
      const ms = performance.now() - t;
      if (r.status !== 200) throw new Error(`${method} ${p}: HTTP ${r.status} ${r.text.slice(0, 200)}`);
      return { ms, json: r.json, bytes: r.text.length };
    };
    log(`[${elapsed()}s] row 16: GET /api/v1/journeys/${JOURNEY}/stats, GET /api/v1/analytics/messages?by=template, ` +
      `POST /api/v1/analytics/funnel (${S.runs} runs each after a warm-up, cap ${S.cap} s each)`);
    out.jny = await attempt('journey report', () => series(S, timed('GET', `/api/v1/journeys/${JOURNEY}/stats`)));
    out.msg = await attempt('messages by=template', () => series(S, timed('GET', `/api/v1/analytics/messages?by=template&${q}`)));
    out.msgDay = await attempt('messages by=day', () => series(S, timed('GET', `/api/v1/analytics/messages?by=day&${q}`)));
    out.funnel = await attempt('funnel', () => series(S, timed('POST', '/api/v1/analytics/funnel', funnelBody)));
    const tk1 = h.procTicks(srv.pid), box1 = h.boxTicks();
    out.serverCpuS = (tk1 - tk0) / h.CLK_TCK;
    out.measureS = (performance.now() - m0) / 1000;
    out.box = h.boxReport(box0, box1, tk1 - tk0, 'rows 16–17 (cairn\'s requests)');
    const mk = h.memKb(srv.pid);
    out.rss = mk.rss;
    out.hwm = mk.hwm;
  } finally {
    if (c) c.close();
    // after a timed-out request the server is still inside that statement:
    // no point in a long grace period
    if (srv) await h.stopProc(srv.proc, Object.keys(out.errors).length ? 2000 : 15_000);
  }

  // The peers: the same statements in one sqlite3 shell, server stopped.
  log(`[${elapsed()}s] rows 16–17: the same SQL in the sqlite3 shell on ${st.name}/state.db`);
  const sh = sqliteShell(h, stateDb, S.timeout * 1000);
  try {
    await sh.params({ 1: ws, 2: JOURNEY });
    out.sqlJny = await attempt('sqlite3 journey report', () => series(S, () => sh.run(SQL_JNY_STATS)));
    out.planJny = (await sh.run(`EXPLAIN QUERY PLAN ${SQL_JNY_STATS}`)).rows;
    await sh.params({ 1: ws, 2: period.fromDay, 3: period.toDay, 4: null });
    const both = (expr) => async () => {
      const a = await sh.run(SQL_MSG_REPORT(expr)), b = await sh.run(SQL_ATTRIB_REPORT(expr));
      return { ms: a.ms + b.ms, real: a.real + b.real, rows: a.rows, attrib: b.rows };
    };
    out.sqlMsg = await attempt('sqlite3 messages by=template', () => series(S, both('template_id')));
    out.sqlMsgDay = await attempt('sqlite3 messages by=day', () => series(S, both('day')));
    log(`[${elapsed()}s] row 17: message totals per day from the timeline (30 days), then every name × day over all rows`);
    out.sqlTl = await attempt('sqlite3 timeline totals', () => series(S, () => sh.run(SQL_TL_TOTALS)));
    const longCap = 3 * S.timeout * 1000; // a known long statement: report its time
    out.sqlTlAll = await attempt('sqlite3 full recount', () => series({ ...S, runs: Math.min(S.runs, 2) }, () => sh.run(SQL_TL_ALL, longCap)));
    out.sqlMsgRows = (await sh.run('SELECT count(*) FROM an_msg_daily')).rows[0];
    out.sqlAttrRows = (await sh.run('SELECT count(*) FROM an_attrib_daily')).rows[0];
    const ds = await sh.run("SELECT name, sum(pgsize) FROM dbstat WHERE name LIKE 'timeline%' OR name LIKE 'an_%' GROUP BY name ORDER BY 2 DESC");
    out.dbstat = ds.rows.map((l) => l.split('|')).map(([n, b]) => [n, Number(b)]);
    const fp = { 1: ws, 2: Date.parse(period.from), 3: Date.parse(period.to), [4 + FUNNEL_MAX]: FUNNEL_WITHIN_DAYS * DAY };
    FUNNEL_STEPS.forEach((st, k) => (fp[4 + k] = st));
    await sh.params(fp);
    out.plan = (await sh.run(`EXPLAIN QUERY PLAN ${sqlFunnel(FUNNEL_STEPS.length)}`)).rows;
    // when cairn's funnel misses the aim: a diagnostic variant first (see sqlFunnelBounded)
    if (!out.funnel || out.funnel.p50 > AIM_MS) {
      out.planBounded = (await sh.run(`EXPLAIN QUERY PLAN ${sqlFunnelBounded(FUNNEL_STEPS.length)}`)).rows;
      log(`[${elapsed()}s] row 16: a variant of the funnel's statement with a lower bound, in the sqlite3 shell`);
      out.sqlFunnelBounded = await attempt('sqlite3 funnel variant',
        () => series({ ...S, runs: Math.min(S.runs, 5) }, () => sh.run(sqlFunnelBounded(FUNNEL_STEPS.length))));
    }
    log(`[${elapsed()}s] row 16: the funnel's statement in the sqlite3 shell`);
    out.sqlFunnel = await attempt('sqlite3 funnel', () => series(S, () => sh.run(sqlFunnel(FUNNEL_STEPS.length))));
  } catch (e) {
    problems.push(`sqlite3: ${e.message}`);
    h.log(`rows 16–17: sqlite3 failed: ${e.message}`);
  } finally {
    sh.close();
  }

  // ---- cross-checks
  const nodes = out.jny?.last.json?.nodes || {};
  const sumOf = (k) => Object.values(nodes).reduce((a, n) => a + (n[k] || 0), 0);
  out.checkJny = { entered: nodes['day0-intro']?.entered, waiting: sumOf('waiting'), exited: sumOf('exited'), converted: sumOf('converted') };
  const jOk = out.checkJny.entered === gen.instances && out.checkJny.waiting === gen.waiting &&
    out.checkJny.exited === gen.exited && out.checkJny.converted === gen.converted;
  if (out.jny && !jOk) problems.push(`journey report ${JSON.stringify(out.checkJny)} ≠ generator (instances ${gen.instances}, waiting ${gen.waiting}, ` +
    `exited ${gen.exited}, converted ${gen.converted})`);
  const msgRows = out.msg?.last.json?.data || [];
  out.checkMsg = { templates: msgRows.length, sent: 0, opened: 0, clicked: 0, conversions: 0 };
  for (const r of msgRows) for (const k of ['sent', 'opened', 'clicked', 'conversions']) out.checkMsg[k] += r[k] || 0;
  // by=day rollup totals against the timeline recomputation, day by day
  const rollDay = new Map();
  for (const r of out.msgDay?.last.json?.data || []) {
    const day = Math.floor(Date.parse(r.key) / DAY);
    for (const m of ['sent', 'opened', 'clicked']) if (r[m]) rollDay.set(`${day}|${m}`, r[m]);
  }
  const tlDay = new Map();
  for (const l of out.sqlTl?.last.rows || []) {
    const [day, name, n] = l.split('|');
    tlDay.set(`${day}|${MSG_NAMES[name]}`, Number(n));
  }
  let diff = 0, tlSum = 0;
  for (const k of new Set([...rollDay.keys(), ...tlDay.keys()])) {
    if ((rollDay.get(k) || 0) !== (tlDay.get(k) || 0)) diff++;
    tlSum += tlDay.get(k) || 0;
  }
  out.checkDay = { cells: rollDay.size, timelineCells: tlDay.size, differing: diff, timelineEvents: tlSum };
  if (out.sqlTl && out.msgDay && diff) problems.push(`${diff} day × metric totals differ between the rollup (by=day) and the timeline`);
  const fc = out.funnel ? (out.funnel.last.json?.steps || []).map((s) => s.users) : null;
  const counts = (r) => (r ? (r.last.rows?.[0] || '').split('|').map(Number) : null);
  const sc = counts(out.sqlFunnel), bc = counts(out.sqlFunnelBounded);
  out.checkFunnel = { cairn: fc, sql: sc, bounded: bc };
  const known = [fc, sc, bc].filter(Boolean).map((x) => x.join('/'));
  if (new Set(known).size > 1) problems.push(`funnel counts differ: cairn ${fc?.join('/') ?? '—'}, SQL ${sc?.join('/') ?? '—'}, ` +
    `bounded variant ${bc?.join('/') ?? '—'}`);
  out.problems = problems;
  out.totalS = (performance.now() - t_all) / 1000;
  return out;
}


// ------------------------------------------------------------- rows, notes --
// EXPLAIN QUERY PLAN's tree as its distinct lines in order, with counts.
function condensePlan(lines) {
  const seen = new Map();
  for (const l of lines) {
    const t = l.replace(/^[|`\-\s]+/, '').trim();
    if (t && t !== 'QUERY PLAN') seen.set(t, (seen.get(t) || 0) + 1);
  }
  return [...seen].map(([t, n]) => (n > 1 ? `${t} ×${n}` : t)).join('; ');
}

export function analyticsRows(a, h) {
  const { fmtInt, fmtMiB, ratioText } = h;
  const S = a.settings, gen = a.gen, rows = [], notes = [];
  const ms = (x) => (x == null ? '—' : x < 10 ? `${x.toFixed(2)} ms` : x < 1000 ? `${x.toFixed(1)} ms` : `${fmtInt(x)} ms`);
  const fig = (s, what) => (s ? (s.firstOnly ? `${ms(s.p50)} (one call: no warm-up)` : `${ms(s.p50)} (p99 ${ms(s.p99)}, n ${s.runs.length})`) :
    /^timeout/.test(a.errors[what] || '') ? `timed out (> ${S.timeout} s)` : 'failed');
  const scale = `${fmtInt(gen.events)} events`;
  const atScale = gen.events >= 10_000_000;
  const aim = atScale ? `≤ ${AIM_MS} ms` : `≤ ${AIM_MS} ms at 10 M events (not this scale)`;
  const timedOut = (what) => /^timeout/.test(a.errors[what] || '');
  const met = (s, what) => (!atScale ? undefined : s ? s.p50 <= AIM_MS : timedOut(what) ? false : undefined);
  const ratio = (x, y) => (x && y ? ratioText(x.p50, y.p50, false) : '—');
  rows.push({ id: '16', what: `Analytics on ${scale}, ${fmtInt(gen.profiles)} profiles: journey report GET /journeys/{id}/stats ` +
      `(${fmtInt(gen.instances)} instances, ${fmtInt(gen.waiting)} waiting; median, warm)`,
    cairn: fig(a.jny, 'journey report'), peerName: 'sqlite3 shell, the same SQL', peer: fig(a.sqlJny, 'sqlite3 journey report'),
    ratio: ratio(a.jny, a.sqlJny), aim, ok: met(a.jny, 'journey report') });
  rows.push({ id: '16', what: `  message funnel GET /analytics/messages?by=template, 30 days (rollups: ${fmtInt(Number(a.sqlMsgRows) || gen.an_msg_daily_rows)} ` +
      `an_msg_daily + ${fmtInt(Number(a.sqlAttrRows) || gen.an_attrib_daily_rows)} an_attrib_daily rows)`,
    cairn: fig(a.msg, 'messages by=template'), peerName: 'sqlite3 shell, the same 2 statements', peer: fig(a.sqlMsg, 'sqlite3 messages by=template'),
    ratio: ratio(a.msg, a.sqlMsg), aim, ok: met(a.msg, 'messages by=template') });
  rows.push({ id: '16', what: `  ad-hoc funnel POST /analytics/funnel, ${FUNNEL_STEPS.length} steps, 30 days, within ${FUNNEL_WITHIN_DAYS} d ` +
      `(reads the timeline, not rollups)`,
    cairn: fig(a.funnel, 'funnel'), peerName: 'sqlite3 shell, the same statement', peer: fig(a.sqlFunnel, 'sqlite3 funnel'),
    ratio: ratio(a.funnel, a.sqlFunnel), aim, ok: met(a.funnel, 'funnel') });
  rows.push({ id: '17', what: `Cold recomputation: 30-day sent/opened/clicked per day — cairn from the rollup (GET …/messages?by=day) ` +
      `beside SQLite from the timeline (GROUP BY day, name over ${fmtInt(a.checkDay.timelineEvents)} of its rows)`,
    cairn: fig(a.msgDay, 'messages by=day'), peerName: 'sqlite3 shell, the same totals from timeline', peer: fig(a.sqlTl, 'sqlite3 timeline totals'),
    ratio: ratio(a.msgDay, a.sqlTl), aim: 'report' });
  rows.push({ id: '17', what: `  every event name × day over all ${fmtInt(gen.events)} timeline rows (a full recount, no index range)`,
    cairn: '—', peerName: 'sqlite3 shell', peer: fig(a.sqlTlAll, 'sqlite3 full recount'), ratio: '—', aim: 'report' });

  const diskAll = Object.values(a.disk).reduce((x, y) => x + y, 0);
  const names = Object.entries(gen.by_name).sort((x, y) => y[1] - x[1]).map(([n, k]) => `${n} ${fmtInt(k)}`).join(', ');
  notes.push(`rows 16–17 store: build/bench/${a.name}, ${a.reused ? `kept from an earlier run (generated ${a.ageDays.toFixed(1)} days ago` +
      ` in ${(gen.setup_seconds + gen.wall_seconds).toFixed(0)} s)` :
      `generated now (${a.why}) in ${(gen.setup_seconds + gen.wall_seconds).toFixed(1)} s: \`cairn init\` + ${TEMPLATES.length} templates and the ` +
      `journey through the API ${gen.setup_seconds.toFixed(1)} s, bench/an_gen.c ${gen.seconds.toFixed(1)} s (events and rollups ` +
      `${gen.gen_seconds.toFixed(1)} s, sort ${gen.sort_seconds.toFixed(1)} s, timeline insert ${gen.insert_seconds.toFixed(1)} s = ` +
      `${fmtInt(gen.events / gen.insert_seconds)} rows/s, both timeline indexes ${gen.index_seconds.toFixed(1)} s)`}; ` +
      `${fmtInt(gen.profiles)} profiles, ${fmtInt(gen.events)} timeline rows over 60 days (${names}); ${fmtInt(gen.messages)} emails from ` +
      `${gen.templates} templates, ${fmtInt(gen.attributed)} of ${fmtInt(gen.orders)} orders attributed; journey \`${JOURNEY}\` v${gen.journey_version}: ` +
      `${fmtInt(gen.instances)} instances (${fmtInt(gen.waiting)} waiting, ${fmtInt(gen.exited)} exited, ${fmtInt(gen.converted)} converted); ` +
      `state.db ${fmtMiB((a.disk['state.db'] || 0) / 1024)}, all files ${fmtMiB(diskAll / 1024)}` +
      (a.dbstat?.length ? ` (${a.dbstat.map(([n, b]) => `${n} ${fmtMiB(b / 1024)}`).join(', ')})` : '') +
      `; events.db holds only the setup's API calls, so \`cairn rebuild --check\` cannot replay this store (row 17 recomputes from the timeline instead)`);
  const runs = (s) => (s ? s.ms.map((x) => (x < 10 ? x.toFixed(2) : x.toFixed(0))).join(', ') : '—');
  const first = (s) => (s ? ms(s.first.ms) : '—');
  notes.push(`rows 16–17 method: period ${a.period.from} … ${a.period.to} (cairn's default 30 days, anchored to the generation time); ` +
      `each figure is the median (p99) of up to BENCH_AN_RUNS=${S.runs} sequential runs after one warm-up, none started that would end ` +
      `after BENCH_AN_CAP=${S.cap} s at the pace of the last (a warm-up longer than that is the only run; the full recount: at most 2 runs, the funnel variant 5), a measure given up when one run passes ` +
      `BENCH_AN_TIMEOUT=${S.timeout} s (the full recount: ${3 * S.timeout} s; a timed-out server is stopped at once, a timed-out shell killed and started anew); cairn: one keep-alive HTTP connection, request sent → body read; sqlite3: one \`sqlite3 -readonly\` shell ` +
      `for all peers, run after cairn stopped, cairn's own statements with the same bound parameters (\`.parameter set\`), timed from ` +
      `writing a statement to reading its output; OS page cache warm for both (state.db read once before, ${a.warmReadS.toFixed(1)} s); ` +
      `first calls: journey ${first(a.jny)}, messages ${first(a.msg)}, by=day ${first(a.msgDay)}, funnel ${first(a.funnel)}; ` +
      `sqlite3 first runs: journey ${first(a.sqlJny)}, messages ${first(a.sqlMsg)}, by=day ${first(a.sqlMsgDay)}, funnel ${first(a.sqlFunnel)}, ` +
      `timeline totals ${first(a.sqlTl)}, full recount ${first(a.sqlTlAll)}`);
  notes.push(`rows 16–17 runs (ms): journey ${runs(a.jny)} | sqlite3 ${runs(a.sqlJny)}; messages by=template ${runs(a.msg)} | sqlite3 ` +
      `${runs(a.sqlMsg)}; by=day ${runs(a.msgDay)} | sqlite3 ${runs(a.sqlMsgDay)}; funnel ${runs(a.funnel)} | sqlite3 ${runs(a.sqlFunnel)}; ` +
      `timeline totals ${runs(a.sqlTl)}; full recount ${runs(a.sqlTlAll)}`);
  const fcs = (x) => (x ? x.map(fmtInt).join(' → ') : '—');
  notes.push(`rows 16–17 answers: journey entered ${fmtInt(a.checkJny.entered)}, waiting ${fmtInt(a.checkJny.waiting)}, exited ` +
      `${fmtInt(a.checkJny.exited)}, converted ${fmtInt(a.checkJny.converted)}; messages by=template: ${a.checkMsg.templates} templates, ` +
      `sent ${fmtInt(a.checkMsg.sent)}, opened ${fmtInt(a.checkMsg.opened)}, clicked ${fmtInt(a.checkMsg.clicked)}, conversions ` +
      `${fmtInt(a.checkMsg.conversions)}; by=day rollup vs timeline: ${a.checkDay.cells} day × metric cells, ${a.checkDay.differing} differ; ` +
      `funnel users per step: cairn ${fcs(a.checkFunnel.cairn)}, SQL ${fcs(a.checkFunnel.sql)}, bounded variant ${fcs(a.checkFunnel.bounded)}` +
      `${a.problems.length ? ` — PROBLEMS: ${a.problems.join('; ')}` : ' (no disagreement between what was answered and the generator)'}` +
      `${Object.keys(a.errors).length ? `; given up: ${Object.entries(a.errors).map(([k, v]) => `${k} (${v})`).join(', ')}` : ''}`);
  const slow = (a.funnel && a.funnel.p50 > AIM_MS) || timedOut('funnel');
  if (slow && a.plan?.length)
    notes.push(`row 16 ad-hoc funnel: ${a.funnel ? ms(a.funnel.p50) : `more than ${S.timeout} s`}, against the ${AIM_MS} ms aim (which the issue ` +
      `sets for rollups; this reads the timeline). SQLite's plan (EXPLAIN QUERY PLAN, each line once, × how often): ${condensePlan(a.plan)}`);
  if (a.sqlFunnelBounded || a.errors['sqlite3 funnel variant'])
    notes.push(`row 16 ad-hoc funnel, diagnostic: the same statement in the sqlite3 shell with \`x.ts >= p.t\` added to each later ` +
      `step's search for min(x.ts) (implied by the OR beside it, which SQLite cannot use to start a range): ` +
      `${fig(a.sqlFunnelBounded, 'sqlite3 funnel variant')} (runs ${runs(a.sqlFunnelBounded)} ms), same users per step ` +
      `(${fcs(a.checkFunnel.bounded)}); its plan: ${condensePlan((a.planBounded || []).filter((l) => /SEARCH x /.test(l)))}`);
  if (a.planJny?.length)
    notes.push(`row 16 journey report, SQLite's plan: ${condensePlan(a.planJny)} (the waiting count groups by version, which ` +
      `jny_instances_node does not hold, so each waiting instance's row is read)`);
  notes.push(`rows 16–17 server: idle ${a.settle.secs.toFixed(1)} s after start${a.settle.quiet ? '' : ' (still busy at the 60 s cap)'}; ` +
      `RSS ${fmtMiB(a.rssIdle)} idle, ${fmtMiB(a.rss)} after the requests (peak ${fmtMiB(a.hwm)}); its CPU over the ` +
      `${a.measureS.toFixed(1)} s of requests ${a.serverCpuS.toFixed(1)} s; ${a.box}; rows 16–17 took ${a.totalS.toFixed(0)} s in all`);
  return { rows, notes };
}
