// bench/segments.mjs — rows 6–8 of `make bench` (issue 5): segment preview
// at 1 M users / 20 M events beside the same count in SQL, the live path
// event → tag, and memory per user. Called from bench/run.mjs with its
// helpers; see docs/bench.md.
//
// Row 6 runs on a store filled directly in SQLite by bench/seg_gen.c (kept in
// build/bench/store-seg-<N>u-<EPU>e, rebuilt when missing, when the
// generator's version changed or when older than 7 days); rows 7 and 8 on a
// store loaded through the HTTP API, whose preview is a cross-check in the notes.
//
// Environment (all optional):
//   BENCH_SEG_GEN_USERS    users in the generated store of row 6 (default 1,000,000; quick 100,000)
//   BENCH_SEG_GEN_EPU      track events per generated user (default 20)
//   BENCH_SEG_PREVIEW_CAP  seconds after which row 6 starts no further warm preview (default 150)
//   BENCH_SEG_USERS        users loaded through the API for rows 7 and 8 (default 20,000; quick 5,000)
//   BENCH_SEG_EPU          messages per user: 1 identify + (EPU − 1) tracks (default 10)
//   BENCH_SEG_VIP_EVERY    every Nth user gets the tag `vip` via POST …/tags (default 4)
//   BENCH_SEG_CAP          max seconds for loading + engine catch-up (default 40; quick 25)
//   BENCH_PREVIEW_RUNS     warm preview calls / sqlite3 runs, median taken (default 5)
//   BENCH_LIVE_USERS       users timed on the live path (default 200; quick 100)
//   BENCH_LIVE_CONNS       wrk connections of background batches during row 7 (default 4)
//   BENCH_LIVE_SPREAD      seconds over which the live users' 3rd Email Sent are spread (default 8; quick 4)
//   BENCH_LIVE_SETTLE      seconds of background load before the window opens (default 3)
//   BENCH_LIVE_CAP         max seconds for row 7's measurement (default 20)
import http from 'node:http';
import fs0 from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';

const DAY = 86_400_000;

export const CONDITION = {
  all: [
    { trait: 'plan', op: 'eq', value: 'pro' },
    { event: 'Product Viewed', count: { op: 'gte', value: 3 }, within: { days: 30 } },
    { tag: 'vip' },
  ],
};

// The same question in SQL against the store (state.db). Events are placed
// either in the last 20 days or 40–60 days ago, so a day-bucket cutoff at
// today − 30 is exact for this data set.
export const SQL = `SELECT count(*) FROM profiles p
 WHERE p.workspace_id = 1 AND json_extract(p.traits, '$.plan') = 'pro'
   AND p.profile_id IN (SELECT profile_id FROM profile_tags WHERE workspace_id = 1 AND tag = 'vip')
   AND p.profile_id IN (SELECT profile_id FROM seg_daily
        WHERE workspace_id = 1 AND name = 'Product Viewed' AND day >= CAST(strftime('%s','now') AS INTEGER) / 86400 - 30
        GROUP BY profile_id HAVING sum(count) >= 3);`;

export function segSettings(num, QUICK) {
  return {
    users: Math.round(num('BENCH_SEG_USERS', QUICK ? 5_000 : 20_000)),
    epu: Math.max(2, Math.round(num('BENCH_SEG_EPU', 10))),
    vipEvery: Math.round(num('BENCH_SEG_VIP_EVERY', 4)),
    cap: num('BENCH_SEG_CAP', QUICK ? 25 : 40),
    runs: Math.round(num('BENCH_PREVIEW_RUNS', 5)),
    genUsers: Math.round(num('BENCH_SEG_GEN_USERS', QUICK ? 100_000 : 1_000_000)),
    genEpu: Math.round(num('BENCH_SEG_GEN_EPU', 20)),
    previewCap: num('BENCH_SEG_PREVIEW_CAP', 150),
    liveUsers: Math.round(num('BENCH_LIVE_USERS', QUICK ? 100 : 200)),
    liveConns: Math.round(num('BENCH_LIVE_CONNS', 4)),
    liveCap: num('BENCH_LIVE_CAP', 20),
    liveSpread: num('BENCH_LIVE_SPREAD', QUICK ? 4 : 8),
    settle: num('BENCH_LIVE_SETTLE', 3),
  };
}

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

// Runs `jobs` (an iterator of async thunks) with at most `n` in flight.
async function pool(n, jobs) {
  const it = jobs[Symbol.iterator]();
  const worker = async () => {
    for (let j = it.next(); !j.done; j = it.next()) await j.value();
  };
  await Promise.all(Array.from({ length: n }, worker));
}

// Messages for user i: an identify (plan pro for every 3rd user) and EPU − 1
// tracks: (i mod 7) Product Viewed in the last 20 days, two more 40–60 days
// ago for every 5th user (outside the 30-day window), the rest Page Viewed.
function* userMessages(i, epu, now) {
  const userId = `seg-${i}`;
  const iso = (ms) => new Date(ms).toISOString();
  yield { type: 'identify', userId, messageId: randomUUID(), traits: { plan: i % 3 === 0 ? 'pro' : 'free', email: `${userId}@example.com` } };
  let left = epu - 1;
  const recent = () => iso(now - Math.floor(Math.random() * 20 * DAY) - 60_000);
  const old = () => iso(now - 40 * DAY - Math.floor(Math.random() * 20 * DAY));
  for (let k = 0; k < i % 7 && left > 0; k++, left--)
    yield { type: 'track', userId, event: 'Product Viewed', messageId: randomUUID(), timestamp: recent(),
      properties: { product_id: `SKU-${(i * 7 + k) % 5000}`, price: 19.99, currency: 'USD' } };
  for (let k = 0; k < 2 && i % 5 === 0 && left > 0; k++, left--)
    yield { type: 'track', userId, event: 'Product Viewed', messageId: randomUUID(), timestamp: old(),
      properties: { product_id: `SKU-${k}`, price: 9.99, currency: 'USD' } };
  for (; left > 0; left--)
    yield { type: 'track', userId, event: 'Page Viewed', messageId: randomUUID(), timestamp: recent(),
      properties: { path: `/p/${left}`, title: 'Page' } };
}

export function expectedCount(users, vipEvery) {
  let n = 0;
  for (let i = 0; i < users; i++) if (i % 3 === 0 && i % vipEvery === 0 && i % 7 >= 3) n++;
  return n;
}

const GEN_MAX_AGE_DAYS = 7; // seg_gen's data keep the 30-day window exact for 9 days
const PREVIEW_TIMEOUT_MS = 120_000;

// The generated store of row 6: build/bench/store-seg-<N>u-<EPU>e with its
// keys and seg_gen's report in the .json beside it. Reused when complete, made
// by the same generator version, younger than GEN_MAX_AGE_DAYS and accepted by
// `cairn migrate` (untimed); otherwise made anew (`cairn init` + seg_gen).
async function genStore(h, S) {
  const { log, elapsed, fmtInt } = h;
  const bin = h.compile('seg_gen', ['sqlite3']);
  const v = await h.runAsync(bin, ['--version']);
  if (!v.ok) throw new Error(`seg_gen --version: ${v.err}`);
  const version = v.out;
  const name = `store-seg-${S.genUsers}u-${S.genEpu}e`;
  const dir = path.join(h.benchBuild, name), metaFile = `${dir}.json`;
  let meta = null, why = 'missing';
  try {
    meta = JSON.parse(fs0.readFileSync(metaFile, 'utf8'));
  } catch {}
  if (meta && fs0.existsSync(path.join(dir, 'state.db'))) {
    const ageDays = (Date.now() - (meta.gen?.now || 0)) / DAY;
    if (!meta.complete) why = 'an earlier generation did not finish';
    else if (meta.gen.version !== version) why = `the generator changed (was "${meta.gen.version}")`;
    else if (ageDays > GEN_MAX_AGE_DAYS) why = `older than ${GEN_MAX_AGE_DAYS} days (${ageDays.toFixed(1)})`;
    else {
      const m = await h.runAsync(h.CAIRN, ['migrate', '--data', dir]);
      if (m.ok) return { dir, name, meta, reused: true, ageDays };
      why = `cairn migrate failed: ${(m.err || m.out).split('\n')[0]}`;
    }
  }
  log(`[${elapsed()}s] row 6: generating ${name} (${fmtInt(S.genUsers)} users × ${S.genEpu} events; ${why})`);
  fs0.rmSync(dir, { recursive: true, force: true });
  fs0.rmSync(metaFile, { force: true });
  const creds = await h.initStore(dir);
  fs0.writeFileSync(metaFile, JSON.stringify({ creds, complete: false }));
  const t0 = performance.now();
  const r = await h.runAsync(bin, [path.join(dir, 'state.db'), String(S.genUsers), String(S.genEpu)], { echo: true });
  if (!r.ok) throw new Error(`seg_gen failed (${r.status}): ${r.err.split('\n').slice(-3).join(' ')}`);
  const gen = JSON.parse(r.out.split('\n').filter((l) => l.startsWith('{')).pop());
  gen.wall_seconds = (performance.now() - t0) / 1000;
  meta = { creds, complete: true, gen, rebuilt_because: why };
  fs0.writeFileSync(metaFile, JSON.stringify(meta));
  return { dir, name, meta, reused: false, ageDays: 0 };
}

// Waits until the server process is idle (under 5 % of a core over 1 s): at
// start the engine's daily tick (RFM scores) scans seg_daily once.
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

// Row 6: preview of CONDITION on the generated store (first call, then warm
// runs), beside SQL by the sqlite3 CLI on its state.db.
export async function benchSegmentsScaled(h, S) {
  const { log, elapsed, fmtInt } = h;
  const out = { settings: S };
  const t_all = performance.now();
  const st = await genStore(h, S);
  Object.assign(out, { name: st.name, reused: st.reused, ageDays: st.ageDays, gen: st.meta.gen, why: st.meta.rebuilt_because });
  const stateDb = path.join(st.dir, 'state.db');
  out.disk = {};
  for (const f of fs0.readdirSync(st.dir)) {
    const base = f.replace(/-(wal|shm)$/, '');
    out.disk[base] = (out.disk[base] || 0) + fs0.statSync(path.join(st.dir, f)).size;
  }
  // OS page cache warm for both sides: read state.db once.
  const w0 = performance.now();
  {
    const fd = fs0.openSync(stateDb, 'r'), buf = Buffer.allocUnsafe(8 << 20);
    while (fs0.readSync(fd, buf, 0, buf.length, null) > 0);
    fs0.closeSync(fd);
  }
  out.warmReadS = (performance.now() - w0) / 1000;

  const creds = st.meta.creds;
  const bearer = { 'Content-Type': 'application/json', Authorization: `Bearer ${creds.secret_key}` };
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  let srv;
  try {
    srv = await h.startServer(h.CAIRN, ['serve', '--data', st.dir, '--listen', '127.0.0.1:0'], 'cairn-seg-scaled');
    out.settle = await settle(h, srv.pid, 60);
    out.rssIdle = h.memKb(srv.pid).rss;
    const u = await req(agent, `${srv.url}/api/v1/users/seg-5`, { headers: bearer });
    out.userCheck = u.status === 200 && u.json?.traits?.plan === 'free' ? 'ok' : `HTTP ${u.status} ${u.text.slice(0, 120)}`;
    log(`[${elapsed()}s] row 6: POST /api/v1/segments/preview on ${fmtInt(S.genUsers)} users (first call, then up to ${S.runs})`);
    const body = JSON.stringify({ condition: CONDITION });
    const one = async () => {
      const p0 = performance.now();
      try {
        const r = await req(agent, `${srv.url}/api/v1/segments/preview`, { method: 'POST', headers: bearer, body, timeout: PREVIEW_TIMEOUT_MS });
        const ms = performance.now() - p0;
        return r.status === 200 ? { ms, count: r.json?.count } : { ms, error: `HTTP ${r.status} ${r.text.slice(0, 160)}` };
      } catch (e) {
        return { ms: performance.now() - p0, error: e.message };
      }
    };
    const p0 = performance.now();
    out.first = await one();
    out.warm = [];
    out.previewCapped = false;
    if (!out.first.error) {
      for (let k = 0; k < S.runs; k++) {
        if (k > 0 && (performance.now() - p0) / 1000 > S.previewCap) {
          out.previewCapped = true;
          break;
        }
        const r = await one();
        out.warm.push(r);
        if (r.error) break;
      }
    }
    await h.sleep(300);
    const mk = h.memKb(srv.pid);
    out.rss = mk.rss;
    out.hwm = mk.hwm;
  } finally {
    agent.destroy();
    if (srv) await h.stopProc(srv.proc);
  }

  log(`[${elapsed()}s] row 6: ${S.runs}× sqlite3 on ${st.name}/state.db`);
  out.sql = [];
  for (let k = 0; k < S.runs; k++) {
    const q0 = performance.now();
    const r = await h.runAsync('sqlite3', ['-readonly', stateDb], { input: `.timer on\n${SQL}\n` });
    const wall = performance.now() - q0;
    if (!r.ok) {
      out.sqlError = r.err || r.out;
      break;
    }
    const m = r.out.match(/Run Time: real ([\d.]+)/);
    out.sql.push({ ms: m ? Number(m[1]) * 1000 : null, wall, count: Number(r.out.split('\n')[0]) });
  }
  out.totalS = (performance.now() - t_all) / 1000;
  return out;
}

export async function benchSegments(h, S, creds, dir, srv) {
  const { log, sleep, sh, readyz, catchUp, memKb, threadTicks, elapsed, fmtInt } = h;
  const out = { settings: S };
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  const basic = { 'Content-Type': 'application/json', Authorization: `Basic ${Buffer.from(`${creds.write_key}:`).toString('base64')}` };
  const bearer = { 'Content-Type': 'application/json', Authorization: `Bearer ${creds.secret_key}` };
  const t_all = performance.now();
  out.rssEmpty = memKb(srv.pid).rss;
  const bad = [];
  const checkOk = (r, what) => {
    if (r.status !== 200 && bad.length < 3) bad.push(`${what}: HTTP ${r.status} ${r.text.slice(0, 200)}`);
    return r.status === 200;
  };

  // ---- load: identify + tracks through /v1/batch, then tags through the API
  log(`[${elapsed()}s] rows 7–8: loading ${fmtInt(S.users)} users × ${S.epu} messages via /v1/batch (cap ${S.cap} s)`);
  const now = Date.now();
  const deadline = performance.now() + S.cap * 1000;
  const t0 = performance.now();
  function* batches() {
    let cur = [];
    for (let i = 0; i < S.users; i++) {
      for (const m of userMessages(i, S.epu, now)) {
        cur.push(m);
        if (cur.length === 100) {
          const body = JSON.stringify({ batch: cur });
          cur = [];
          yield async () => {
            if (performance.now() < deadline) checkOk(await req(agent, `${srv.url}/v1/batch`, { method: 'POST', headers: basic, body }), '/v1/batch');
          };
        }
      }
    }
    if (cur.length) {
      const body = JSON.stringify({ batch: cur });
      yield async () => checkOk(await req(agent, `${srv.url}/v1/batch`, { method: 'POST', headers: basic, body }), '/v1/batch');
    }
  }
  await pool(8, batches());
  out.sendS = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  let tagged = 0;
  function* tagJobs() {
    for (let i = 0; i < S.users; i += S.vipEvery)
      yield async () => {
        if (performance.now() >= deadline) return;
        const r = await req(agent, `${srv.url}/api/v1/users/seg-${i}/tags`, { method: 'POST', headers: bearer, body: '{"add":["vip"]}' });
        if (checkOk(r, 'POST /api/v1/users/{id}/tags')) tagged++;
      };
  }
  await pool(32, tagJobs());
  out.tagS = (performance.now() - t1) / 1000;
  out.tagged = tagged;
  const cu = await catchUp(srv.url, Math.max(1, (deadline - performance.now()) / 1000));
  out.catchup = cu;
  out.loadS = (performance.now() - t0) / 1000;
  out.capped = !cu.caughtUp || performance.now() >= deadline;
  out.messages = cu.last ? cu.last.log_head : null;
  await sleep(500); // let the allocator settle before reading RSS
  const mk = memKb(srv.pid);
  out.rss = mk.rss;
  try {
    const st = fs0.readFileSync(`/proc/${srv.pid}/status`, 'utf8');
    out.rssAnon = Number((st.match(/^RssAnon:\s+(\d+)/m) || [])[1]);
  } catch {}
  out.hwm = mk.hwm;
  const fs = await import('node:fs');
  out.disk = {};
  for (const f of fs.readdirSync(dir)) {
    const base = f.replace(/-(wal|shm)$/, '');
    out.disk[base] = (out.disk[base] || 0) + fs.statSync(path.join(dir, f)).size;
  }

  // ---- the same preview on this store, beside sqlite3 on state.db: a
  // cross-check of row 6 (which runs on seg_gen's store) at small scale
  log(`[${elapsed()}s] rows 7–8 store: ${S.runs}× POST /api/v1/segments/preview, ${S.runs}× sqlite3`);
  const previews = [];
  for (let k = 0; k < S.runs; k++) {
    const p0 = performance.now();
    const r = await req(agent, `${srv.url}/api/v1/segments/preview`, { method: 'POST', headers: bearer, body: JSON.stringify({ condition: CONDITION }) });
    const ms = performance.now() - p0;
    if (!checkOk(r, 'POST /api/v1/segments/preview')) break;
    previews.push({ ms, count: r.json?.count, sample: r.json?.sample?.length });
  }
  out.previews = previews;
  const sqlRuns = [];
  const stateDb = path.join(dir, 'state.db');
  for (let k = 0; k < S.runs; k++) {
    const q0 = performance.now();
    const r = sh('sqlite3', ['-readonly', stateDb], { input: `.timer on\n${SQL}\n` });
    const wall = performance.now() - q0;
    if (!r.ok) {
      bad.push(`sqlite3: ${r.err || r.out}`);
      break;
    }
    const m = r.out.match(/Run Time: real ([\d.]+)/);
    sqlRuns.push({ ms: m ? Number(m[1]) * 1000 : null, wall, count: Number(r.out.split('\n')[0]) });
  }
  out.sql = sqlRuns;
  // Where state.db's bytes are, by table and index (SQLite's dbstat).
  const ds = sh('sqlite3', ['-readonly', stateDb], { input: 'SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC LIMIT 8;\n' });
  out.dbstat = ds.ok ? ds.out.split('\n').map((l) => l.split('|')).filter((a) => a.length === 2).map(([n, b]) => [n, Number(b)]) : [];
  out.expected = expectedCount(S.users, S.vipEvery);

  // ---- row 7: live path under background batches
  log(`[${elapsed()}s] row 7: live path, ${S.liveUsers} users, ${S.liveConns} background connections`);
  const prep = [];
  for (let i = 0; i < S.liveUsers; i++)
    for (let k = 0; k < 2; k++) prep.push({ type: 'track', userId: `live-${i}`, event: 'Email Sent', messageId: randomUUID(), properties: { campaign: 'bench' } });
  for (let i = 0; i < prep.length; i += 100)
    checkOk(await req(agent, `${srv.url}/v1/batch`, { method: 'POST', headers: basic, body: JSON.stringify({ batch: prep.slice(i, i + 100) }) }), '/v1/batch (live prep)');
  await catchUp(srv.url, 10);
  let stop = false;
  const bg = h.wrk(srv.url, { mode: 'batch', key: creds.write_key, conns: S.liveConns, seconds: S.liveCap + S.settle + 10, until: async () => stop })
    .catch((e) => ({ error: e.message }));
  await sleep(S.settle * 1000); // let the load settle
  const r0 = await readyz(srv.url), th0 = threadTicks(srv.pid), w0 = performance.now();
  const lat = [];
  let missed = 0, ackFail = 0;
  const liveDeadline = performance.now() + (S.liveCap + S.liveSpread) * 1000;
  function* liveJobs() {
    for (let i = 0; i < S.liveUsers; i++)
      yield async () => {
        if (performance.now() >= liveDeadline) return void missed++;
        const body = JSON.stringify({ userId: `live-${i}`, event: 'Email Sent', messageId: randomUUID(), properties: { campaign: 'bench' } });
        const a = await req(agent, `${srv.url}/v1/track`, { method: 'POST', headers: basic, body });
        if (a.status !== 200) return void ackFail++;
        const ack = performance.now();
        for (;;) {
          const g = await req(agent, `${srv.url}/api/v1/users/live-${i}`, { headers: bearer });
          if (g.json?.tags?.includes('disengaged')) return void lat.push(performance.now() - ack);
          if (performance.now() >= liveDeadline) return void missed++;
          await sleep(1);
        }
      };
  }
  // Users start evenly spread over BENCH_LIVE_SPREAD seconds, so the window
  // covers a steady stretch of the background load, not just its first burst.
  const jobs = [...liveJobs()];
  await Promise.all(jobs.map((j, i) => sleep((i * S.liveSpread * 1000) / jobs.length).then(j)));
  const r1 = await readyz(srv.url), th1 = threadTicks(srv.pid), w1 = performance.now();
  stop = true;
  const bgr = await bg;
  const dt = (w1 - w0) / 1000;
  let engTicks = 0;
  for (const [tid, a] of th1) if (/engine/.test(a.comm)) engTicks += a.ticks - (th0.get(tid)?.ticks || 0);
  lat.sort((a, b) => a - b);
  const pct = (p) => (lat.length ? lat[Math.min(lat.length - 1, Math.ceil((p / 100) * lat.length) - 1)] : null);
  out.live = {
    n: lat.length, missed, ackFail, p50: pct(50), p99: pct(99), max: lat.length ? lat[lat.length - 1] : null, seconds: dt,
    applyRate: r0 && r1 ? (r1.applied - r0.applied) / dt : null,
    ingestRate: r0 && r1 ? (r1.log_head - r0.log_head) / dt : null,
    lag0: r0 ? r0.log_head - r0.applied : null, lag1: r1 ? r1.log_head - r1.applied : null,
    engineCpu: engTicks / h.CLK_TCK / dt,
    bg: bgr.error ? { error: bgr.error } : { rps: bgr.rps, p50: bgr.latency_us?.p50, p99: bgr.latency_us?.p99 },
  };
  out.problems = bad;
  out.totalS = (performance.now() - t_all) / 1000;
  agent.destroy();
  return out;
}

// Builds rows and notes from benchSegments' result.
// "1 M" for whole hundreds of thousands from a million up, else 1,234,567.
function fmtScale(n, fmtInt) {
  return n >= 1e6 && n % 1e5 === 0 ? `${n / 1e6} M` : fmtInt(n);
}

// Row 6 (two lines: warm median, first call) and its notes from benchSegmentsScaled.
export function scaledRows(g, h) {
  const { fmtInt, fmtMiB, ratioText, median } = h;
  const S = g.settings, rows = [], notes = [];
  const atScale = S.genUsers >= 1_000_000 && g.gen.events >= 20_000_000;
  const scale = `${fmtScale(S.genUsers, fmtInt)} users / ${fmtScale(g.gen.events, fmtInt)} events`;
  const warmOk = g.warm.filter((p) => !p.error);
  const pm = median(warmOk.map((p) => p.ms)), qm = median(g.sql.map((q) => q.ms));
  const sqlFirst = g.sql[0]?.ms;
  const qc = g.sql[0]?.count, expected = g.gen.expected;
  const ms = (x) => (x < 1000 ? x.toFixed(1) : fmtInt(x)); // 23.2, 9,789
  const shown = (p) => (p.error ? (/timeout/.test(p.error) ? `timeout (> ${PREVIEW_TIMEOUT_MS / 1000} s)` : 'failed') :
    `${ms(p.ms)} ms (count ${fmtInt(p.count)})`);
  const sqlShown = (x) => (x == null ? (g.sqlError ? 'failed' : '—') : `${fmtInt(x)} ms (count ${fmtInt(qc)})`);
  rows.push({ id: '6', what: `Segment preview, 3 clauses (trait + event count in 30 d + tag), ${scale} (warm: median of ${warmOk.length})`,
    cairn: pm == null ? (g.warm.length ? shown(g.warm[g.warm.length - 1]) : 'not run') : `${ms(pm)} ms (count ${fmtInt(warmOk[0].count)})`,
    peerName: `sqlite3 CLI, same count in SQL on state.db (median of ${g.sql.length})`, peer: sqlShown(qm),
    ratio: pm != null && qm ? ratioText(pm, qm, false) : '—',
    aim: atScale ? '≤ 200 ms' : '≤ 200 ms at 1 M users (not this scale)', ok: atScale && pm != null ? pm <= 200 : undefined });
  rows.push({ id: '6', what: `  same, first call after the server started (may build in-memory indexes)`,
    cairn: shown(g.first), peerName: 'sqlite3 CLI, first run', peer: sqlShown(sqlFirst),
    ratio: !g.first.error && sqlFirst ? ratioText(g.first.ms, sqlFirst, false) : '—', aim: 'report' });

  const counts = [g.first, ...g.warm].filter((p) => !p.error).map((p) => p.count);
  const sqlCounts = g.sql.map((q) => q.count);
  const agree = counts.length && sqlCounts.length && [...counts, ...sqlCounts].every((c) => c === expected);
  const gen = g.gen;
  const diskAll = Object.values(g.disk).reduce((a, b) => a + b, 0);
  notes.push(`row 6 store: build/bench/${g.name}, ${g.reused ? `kept from an earlier run (generated ${g.ageDays.toFixed(1)} days ago)` :
      `generated now (${g.why})`} by bench/seg_gen.c straight into state.db: ${fmtInt(S.genUsers)} profiles + identities, ` +
      `${fmtInt(gen.tags)} vip tags, ${fmtInt(gen.events)} track events as ${fmtInt(gen.buckets)} seg_daily day buckets ` +
      `(${fmtInt(gen.pro)} pro; events.db and timeline empty), in ${gen.seconds.toFixed(1)} s (${fmtInt(S.genUsers / gen.seconds)} users/s); ` +
      `state.db ${fmtMiB((g.disk['state.db'] || 0) / 1024)} (${fmtInt((g.disk['state.db'] || 0) / S.genUsers)} B/user), all files ${fmtMiB(diskAll / 1024)}`);
  notes.push(`row 6: counts — cairn ${counts.map(fmtInt).join('/') || '—'}, SQL ${sqlCounts.map(fmtInt).join('/') || '—'}, expected from the generator ${fmtInt(expected)}` +
      `${agree ? ' (all agree)' : ' — MISMATCH or missing'}; ` +
      `preview first call ${g.first.error ? g.first.error : `${g.first.ms.toFixed(1)} ms`}, warm ${g.warm.map((p) => (p.error ? p.error : p.ms.toFixed(1))).join(', ') || '—'} ms ` +
      `(HTTP round trip included, timeout ${PREVIEW_TIMEOUT_MS / 1000} s${g.previewCapped ? `; stopped after ${g.warm.length} warm runs by BENCH_SEG_PREVIEW_CAP=${S.previewCap} s` : ''}); ` +
      `server started on the kept store, idle after ${g.settle.secs.toFixed(1)} s${g.settle.quiet ? '' : ' (still busy at the 60 s cap)'}, ` +
      `GET /api/v1/users/seg-5 ${g.userCheck}; ` +
      `sqlite3 times ${g.sql.map((q) => (q.ms == null ? '?' : q.ms.toFixed(0))).join(', ')} ms (its own ".timer", query only; with process start and open ` +
      `${g.sql.map((q) => q.wall.toFixed(0)).join(', ')} ms; read-only, a new process each run, so SQLite's cache is cold every time)` +
      `${g.sqlError ? `; sqlite3 failed: ${g.sqlError}` : ''}; OS page cache warm for both (state.db read once before, ${g.warmReadS.toFixed(1)} s)`);
  notes.push(`row 6 memory: server RSS ${fmtMiB(g.rssIdle)} idle after start, ${fmtMiB(g.rss)} after the previews (peak ${fmtMiB(g.hwm)}) ` +
      `on ${fmtInt(S.genUsers)} users — measured, beside row 8's extrapolation from the API-loaded store`);
  return { rows, notes };
}

// Rows 7–8 and the API-loaded store's preview (a cross-check of the generator
// and of row 6 at small scale, in the notes) from benchSegments.
export function segmentRows(s, h) {
  const { fmtInt, fmtMiB, ratioText, median } = h;
  const S = s.settings, rows = [], notes = [];
  const pm = median(s.previews.map((p) => p.ms)), qm = median(s.sql.map((q) => q.ms));
  const pc = s.previews[0]?.count, qc = s.sql[0]?.count;
  const scale = `${fmtInt(S.users)} users, ${fmtInt(s.messages)} messages`;
  const live = s.live;
  rows.push({ id: '7', what: `Live path: 3rd Email Sent acked → tag disengaged in GET /users/{id}, p50 / p99 (${fmtInt(live.n)} users, ` +
      `${S.liveConns} conns of background batches)`,
    cairn: live.n ? `${h.fmtMs(live.p50 * 1000)} / ${h.fmtMs(live.p99 * 1000)}` : 'none seen',
    peerName: '—', peer: '—', ratio: '—', aim: 'report' });
  rows.push({ id: '7', what: `  engine apply rate in that window (engine thread ${(100 * live.engineCpu).toFixed(0)} % of a core)`,
    cairn: live.applyRate == null ? '—' : `${fmtInt(live.applyRate)} events/s (${fmtInt(live.applyRate / Math.max(0.01, live.engineCpu))}/s per core)`,
    peerName: 'events logged in that window', peer: live.ingestRate == null ? '—' : `${fmtInt(live.ingestRate)} events/s`,
    ratio: live.applyRate != null && live.ingestRate ? ratioText(live.applyRate, live.ingestRate, true) : '—',
    aim: 'keeps up: ≥ 100 %', ok: live.applyRate != null && live.ingestRate ? live.applyRate >= 0.99 * live.ingestRate : undefined });
  const grow = s.rss != null && s.rssEmpty != null ? s.rss - s.rssEmpty : null;
  const perM = grow != null ? s.rssEmpty + (grow * 1e6) / S.users : null;
  const diskAll = Object.values(s.disk).reduce((a, b) => a + b, 0);
  rows.push({ id: '8', what: `Memory per 1,000,000 users, EXTRAPOLATED linearly from ${fmtInt(S.users)} (RSS ${fmtMiB(s.rss)}, empty ${fmtMiB(s.rssEmpty)})`,
    cairn: perM == null ? '—' : `RSS ≈ ${fmtMiB(perM)}`, peerName: 'bytes on disk per user (state.db; all files)',
    peer: `${fmtInt((s.disk['state.db'] || 0) / S.users)} B; ${fmtInt(diskAll / S.users)} B`, ratio: '—', aim: 'report' });

  notes.push(`rows 7–8 (bench/segments.mjs, a store loaded through the API): BENCH_SEG_USERS=${fmtInt(S.users)}, BENCH_SEG_EPU=${S.epu} ` +
      `(1 identify + ${S.epu - 1} tracks each, sent in 100-message /v1/batch requests, 8 in flight, in ${s.sendS.toFixed(1)} s), ` +
      `vip tag on every ${S.vipEvery}th user via POST /api/v1/users/{id}/tags (${fmtInt(s.tagged)} calls, 32 in flight, in ${s.tagS.toFixed(1)} s = ${fmtInt(s.tagged / s.tagS)}/s); ` +
      `load + engine catch-up ${s.loadS.toFixed(1)} s${s.capped ? ` — CAPPED by BENCH_SEG_CAP=${S.cap} s, engine ${s.catchup.caughtUp ? 'caught up' : 'NOT caught up'}` : ''}; ` +
      `rows 7–8 with their load took ${s.totalS.toFixed(0)} s`);
  notes.push(`rows 7–8 store, preview cross-check (${scale}, loaded through the API): cairn median ${pm == null ? '—' : `${pm.toFixed(1)} ms`}, ` +
      `sqlite3 ${qm == null ? '—' : `${qm.toFixed(0)} ms`}${pm != null && qm ? ` (${ratioText(pm, qm, false)})` : ''}; ` +
      `counts: cairn ${s.previews.map((p) => p.count).join('/') || '—'}, SQL ${s.sql.map((q) => q.count).join('/') || '—'}, expected ${fmtInt(s.expected)}` +
      `${pc === qc && qc === s.expected ? ' (all agree)' : ' — MISMATCH'}; ` +
      `preview times ${s.previews.map((p) => p.ms.toFixed(1)).join(', ')} ms`);
  notes.push(`row 7: ${S.liveUsers} users each got 2 Email Sent before the load; under ${S.liveConns} wrk connections of 100-event batches ` +
      `(${live.bg.error ? `wrk: ${live.bg.error}` : `${fmtInt((live.bg.rps || 0) * 100)} events/s acked`}), the 3rd goes to /v1/track and, from its 200, ` +
      `GET /api/v1/users/{id} is polled (~1 ms apart) until tags contain disengaged; users start evenly over ${S.liveSpread} s after ${S.settle} s of load; ` +
      `max ${live.max == null ? '—' : h.fmtMs(live.max * 1000)}, not seen within BENCH_LIVE_CAP=${S.liveCap} s: ${live.missed}, track not acked: ${live.ackFail}; ` +
      `engine lag ${fmtInt(live.lag0)} → ${fmtInt(live.lag1)} events over the ${live.seconds.toFixed(1)} s window; per core = applied ÷ CPU time of the cairn-engine thread`);
  notes.push(`row 8: RSS read after the API load and catch-up, before any preview (anonymous ${fmtMiB(s.rssAnon)}, peak ${fmtMiB(s.hwm)}); ` +
      `per 1 M users = empty-server RSS + growth × (1,000,000 ÷ ${fmtInt(S.users)}) — an extrapolation, not a measurement, and an UPPER bound: ` +
      `most of the growth is SQLite page cache, which cairn caps (engine's state.db 256 MiB, other connections 16–32 MiB each), so at this scale ` +
      `it just holds the whole store. Disk per file: ` +
      Object.entries(s.disk).map(([f, b]) => `${f} ${fmtMiB(b / 1024)}`).join(', ') + ' (with -wal/-shm)' +
      (s.dbstat.length ? `; state.db's largest tables/indexes: ${s.dbstat.map(([n, b]) => `${n} ${fmtInt(b / S.users)} B/user`).join(', ')}` : ''));
  if (s.problems.length) notes.push(`rows 7–8 problems: ${s.problems.join('; ')}`);
  return { rows, notes };
}
