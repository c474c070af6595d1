// bench/segments.mjs — rows 6–8 of `make bench` (issue 5): segment preview
// beside the same count in SQL, the live path event → tag, and memory per
// user. Called from bench/run.mjs with its helpers; see docs/bench.md.
//
// Environment (all optional):
//   BENCH_SEG_USERS        users loaded for rows 6 and 8 (default 20,000; quick 5,000)
//   BENCH_SEG_EPU          messages per user: 1 identify + (EPU − 1) tracks (default 10)
//   BENCH_SEG_VIP_EVERY    every Nth user gets the tag `vip` via POST …/tags (default 4)
//   BENCH_SEG_CAP          max seconds for loading + engine catch-up (default 40; quick 25)
//   BENCH_PREVIEW_RUNS     preview calls / sqlite3 runs, median taken (default 5)
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
  log(`[${elapsed()}s] row 6: loading ${fmtInt(S.users)} users × ${S.epu} messages via /v1/batch (cap ${S.cap} s)`);
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

  // ---- row 6: preview, median of S.runs, beside sqlite3 on state.db
  log(`[${elapsed()}s] row 6: ${S.runs}× POST /api/v1/segments/preview, ${S.runs}× sqlite3`);
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
export function segmentRows(s, h) {
  const { fmtInt, fmtMiB, ratioText, median } = h;
  const S = s.settings, rows = [], notes = [];
  const pm = median(s.previews.map((p) => p.ms)), qm = median(s.sql.map((q) => q.ms));
  const pc = s.previews[0]?.count, qc = s.sql[0]?.count;
  const scale = `${fmtInt(S.users)} users, ${fmtInt(s.messages)} messages`;
  rows.push({ id: '6', what: `Segment preview, 3 clauses (trait + event count in 30 d + tag), ${scale}; median of ${S.runs}`,
    cairn: pm == null ? 'failed' : `${pm.toFixed(1)} ms (count ${fmtInt(pc)})`,
    peerName: 'sqlite3 CLI, same count in SQL on state.db', peer: qm == null ? 'failed' : `${qm.toFixed(1)} ms (count ${fmtInt(qc)})`,
    ratio: pm != null && qm ? ratioText(pm, qm, false) : '—',
    aim: '≤ 200 ms at 1 M users (not this scale)', ok: undefined });
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

  notes.push(`rows 6–8 (bench/segments.mjs, own store): BENCH_SEG_USERS=${fmtInt(S.users)}, BENCH_SEG_EPU=${S.epu} ` +
      `(1 identify + ${S.epu - 1} tracks each, sent in 100-message /v1/batch requests, 8 in flight, in ${s.sendS.toFixed(1)} s), ` +
      `vip tag on every ${S.vipEvery}th user via POST /api/v1/users/{id}/tags (${fmtInt(s.tagged)} calls, 32 in flight, in ${s.tagS.toFixed(1)} s = ${fmtInt(s.tagged / s.tagS)}/s); ` +
      `load + engine catch-up ${s.loadS.toFixed(1)} s${s.capped ? ` — CAPPED by BENCH_SEG_CAP=${S.cap} s, engine ${s.catchup.caughtUp ? 'caught up' : 'NOT caught up'}` : ''}; ` +
      `rows 6–8 took ${s.totalS.toFixed(0)} s`);
  notes.push(`row 6: the aim (≤ 200 ms) is for 1,000,000 users and 20,000,000 events; this run used ${scale}. ` +
      `Counts: cairn ${s.previews.map((p) => p.count).join('/') || '—'}, SQL ${s.sql.map((q) => q.count).join('/') || '—'}, expected from the generator ${fmtInt(s.expected)}` +
      `${pc === qc && qc === s.expected ? ' (all agree)' : ' — MISMATCH'}; ` +
      `${pm != null ? `if preview time grew linearly with users it would be ≈ ${((pm * 1e6) / S.users / 1000).toFixed(1)} s at 1 M (not measured); ` : ''}` +
      `preview times ${s.previews.map((p) => p.ms.toFixed(1)).join(', ')} ms (HTTP round trip included); ` +
      `sqlite3 times ${s.sql.map((q) => (q.ms == null ? '?' : q.ms.toFixed(0))).join(', ')} ms (its own ".timer", 1 ms resolution, query only; ` +
      `with process start and open ${s.sql.map((q) => q.wall.toFixed(0)).join(', ')} ms; read-only, OS page cache warm, SQLite cache cold). ` +
      `SQL: profiles.traits via json_extract, seg_daily summed over days ≥ today − 30 (events lie within 20 days or 40–60 days ago, so day buckets are exact), profile_tags`);
  notes.push(`row 7: ${S.liveUsers} users each got 2 Email Sent before the load; under ${S.liveConns} wrk connections of 100-event batches ` +
      `(${live.bg.error ? `wrk: ${live.bg.error}` : `${fmtInt((live.bg.rps || 0) * 100)} events/s acked`}), the 3rd goes to /v1/track and, from its 200, ` +
      `GET /api/v1/users/{id} is polled (~1 ms apart) until tags contain disengaged; users start evenly over ${S.liveSpread} s after ${S.settle} s of load; ` +
      `max ${live.max == null ? '—' : h.fmtMs(live.max * 1000)}, not seen within BENCH_LIVE_CAP=${S.liveCap} s: ${live.missed}, track not acked: ${live.ackFail}; ` +
      `engine lag ${fmtInt(live.lag0)} → ${fmtInt(live.lag1)} events over the ${live.seconds.toFixed(1)} s window; per core = applied ÷ CPU time of the cairn-engine thread`);
  notes.push(`row 8: RSS read after the row-6 load and catch-up, before any preview (anonymous ${fmtMiB(s.rssAnon)}, peak ${fmtMiB(s.hwm)}); ` +
      `per 1 M users = empty-server RSS + growth × (1,000,000 ÷ ${fmtInt(S.users)}) — an extrapolation, not a measurement, and an UPPER bound: ` +
      `most of the growth is SQLite page cache, which cairn caps (engine's state.db 256 MiB, other connections 16–32 MiB each), so at this scale ` +
      `it just holds the whole store. Disk per file: ` +
      Object.entries(s.disk).map(([f, b]) => `${f} ${fmtMiB(b / 1024)}`).join(', ') + ' (with -wal/-shm)' +
      (s.dbstat.length ? `; state.db's largest tables/indexes: ${s.dbstat.map(([n, b]) => `${n} ${fmtInt(b / S.users)} B/user`).join(', ')}` : ''));
  if (s.problems.length) notes.push(`rows 6–8 problems: ${s.problems.join('; ')}`);
  return { rows, notes };
}
