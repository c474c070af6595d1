#!/usr/bin/env node
// bench/run.mjs — `make bench`: cairn's figures beside peers measured in the
// same invocation, printed as ONE aligned markdown table (absolute numbers
// and the ratio), followed by the settings used and a few diagnostics.
// What each row measures and how to read it: docs/bench.md.
//
// Environment (all optional):
//   CAIRN_BIN            path to the cairn binary (the Makefile sets it)
//   BENCH_QUICK=1        smaller and shorter: 100k events, 4 s load runs
//   BENCH_EVENTS         events for the memory row (default 1,000,000)
//   BENCH_USERS          distinct userIds (default 100,000)
//   BENCH_PROFILES       profiles wanted for the cold-start store (default 1,000,000;
//                        reached only through `cairn import users`, see docs/bench.md)
//   BENCH_SECONDS        length of each wrk load run (default 8)
//   BENCH_INGEST_CAP     max seconds to send the memory row's events (default 55)
//   BENCH_CATCHUP_CAP    max seconds to wait for the engine to catch up (default 35)
//   BENCH_IMPORT_CAP     max seconds of `cairn import users` per run (default 40; the store is kept
//                        in build/bench/store-profiles and topped up by later runs)
//   BENCH_TEMPLATE_SECONDS  passed to bench/template.mjs as its BENCH_SECONDS
//   BENCH_KEEP=1         keep the scratch directory (stores, logs) for inspection
//   BENCH_PERF=1         record `perf` on cairn during the ingest row (and each delivery run of rows 12–13),
//                        print its top symbols
//   BENCH_ONLY=segments  run only rows 6–8 (issue 5; knobs in bench/segments.mjs; row 6's generated
//                        1 M-user store is kept in build/bench/store-seg-<N>u-<EPU>e)
//   BENCH_ONLY=journeys  run only rows 9–11 (issue 6; knobs in bench/journeys.mjs)
//   BENCH_ONLY=delivery  run only rows 12–15 (delivery: smtp-sink, HTTP stub, latency, crash test;
//                        knobs in bench/delivery.mjs)
//   BENCH_ONLY=analytics run only rows 16–17 (analytics: journey report, message funnel and ad-hoc
//                        funnel on 10 M events, cold recomputation from the timeline; knobs in
//                        bench/analytics.mjs; the generated store is kept in build/bench/store-analytics-10m)
//   BENCH_ONLY=web       run only rows 18–20 (People search over 1 M users, the web app's first load, dragging in the journey builder; knobs in
//                        bench/web.mjs; the generated store is kept in build/bench/store-people-1m)
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { segSettings, benchSegments, benchSegmentsScaled, scaledRows, segmentRows } from './segments.mjs';
import { jnySettings, benchJourneys } from './journeys.mjs';
import { dlvSettings, benchDelivery } from './delivery.mjs';
import { anSettings, benchAnalytics, analyticsRows } from './analytics.mjs';
import { webSettings, benchWeb, webRows } from './web.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const CAIRN = path.resolve(process.env.CAIRN_BIN || path.join(root, 'build/cairn'));
const QUICK = process.env.BENCH_QUICK === '1';
const num = (name, def) => {
  const v = process.env[name];
  if (v === undefined || v === '') return def;
  const n = Number(String(v).replace(/[_,]/g, ''));
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, not '${v}'`);
  return n;
};
const EVENTS = num('BENCH_EVENTS', QUICK ? 100_000 : 1_000_000);
const USERS = num('BENCH_USERS', 100_000);
const PROFILES = num('BENCH_PROFILES', QUICK ? 100_000 : 1_000_000);
const LOAD_S = num('BENCH_SECONDS', QUICK ? 4 : 8);
const INGEST_CAP = num('BENCH_INGEST_CAP', QUICK ? 30 : 55);
const CATCHUP_CAP = num('BENCH_CATCHUP_CAP', QUICK ? 20 : 35);
const IMPORT_CAP = num('BENCH_IMPORT_CAP', 40);
const CONNS = 64;
const WRK_THREADS = 2;
const BATCH = 100;
const COLD_RUNS = 7;
const ONLY = process.env.BENCH_ONLY || '';
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

const benchBuild = path.join(root, 'build/bench');
const luaScript = path.join(here, 'batch.lua');
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-bench-'));
const children = new Set(); // every process we start, so we stop exactly those
let stopping = false; // set on SIGINT/SIGTERM: nothing new is started while cleanup() stops the rest
const guard = () => {
  if (stopping) throw new Error('bench is stopping');
};
const results = { rows: [], notes: [], diag: [] };
const t_start = performance.now();

// ---------------------------------------------------------------- helpers --
const log = (...a) => process.stderr.write(`bench: ${a.join(' ')}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const fmtInt = (n) => (n == null || !Number.isFinite(n) ? '—' : Math.round(n).toLocaleString('en-US'));
const fmtMs = (us) => (us == null ? '—' : `${(us / 1000).toFixed(us < 10_000 ? 2 : 1)} ms`);
const fmtMiB = (kb) => (kb == null ? '—' : `${(kb / 1024).toFixed(1)} MiB`);
const elapsed = () => ((performance.now() - t_start) / 1000).toFixed(0);

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  return { ok: r.status === 0, out: (r.stdout || '').trim(), err: (r.stderr || '').trim(), status: r.status };
}

// Like sh(), but asynchronous and tracked in `children`, so an interrupted
// bench stops it too (for the long ones: seg_gen, sqlite3 at 1 M users).
// `echo` forwards the child's stderr lines to the bench log.
function runAsync(cmd, args, { input, echo } = {}) {
  guard();
  return new Promise((resolve) => {
    const proc = spawn(cmd, args, { stdio: [input != null ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    children.add(proc);
    let out = '', err = '', done = false;
    const finish = (r) => {
      if (done) return;
      done = true;
      children.delete(proc);
      resolve(r);
    };
    proc.stdout.on('data', (d) => (out += d));
    proc.stderr.on('data', (d) => {
      err += d;
      if (echo) for (const l of String(d).split('\n')) if (l.trim()) log(`[${elapsed()}s]   ${l.trim()}`);
    });
    proc.on('error', (e) => finish({ ok: false, out: '', err: e.message, status: null }));
    proc.on('close', (code, signal) => finish({ ok: code === 0, out: out.trim(), err: err.trim(), status: code ?? signal }));
    if (input != null) proc.stdin.end(input);
  });
}

// Spawns a long-lived helper (stdio pipes) tracked in `children`, so it is
// stopped with the rest on exit or interruption; the caller ends it.
function spawnTracked(cmd, args) {
  guard();
  const proc = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(proc);
  proc.on('exit', () => children.delete(proc));
  proc.on('error', () => children.delete(proc));
  return proc;
}

function compile(name, pkgs) {
  const src = path.join(here, `${name}.c`);
  const out = path.join(benchBuild, name);
  fs.mkdirSync(benchBuild, { recursive: true });
  if (fs.existsSync(out) && fs.statSync(out).mtimeMs >= fs.statSync(src).mtimeMs) return out;
  const flags = sh('pkg-config', ['--cflags', '--libs', ...pkgs]);
  if (!flags.ok) throw new Error(`pkg-config ${pkgs.join(' ')}: ${flags.err}`);
  const r = sh('cc', ['-std=gnu11', '-O2', '-Wall', '-pthread', '-o', out, src, ...flags.out.split(/\s+/)]);
  if (!r.ok) throw new Error(`cc ${src}:\n${r.err}`);
  return out;
}

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

// Starts a server that prints "listening on http://HOST:PORT"; resolves once it does.
function startServer(cmd, args, logName) {
  guard();
  const errFd = fs.openSync(path.join(scratch, `${logName}.stderr`), 'a');
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', errFd] });
  fs.closeSync(errFd);
  children.add(proc);
  proc.on('exit', () => children.delete(proc));
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`${logName} did not print 'listening on' within 20 s`)), 20_000);
    proc.stdout.on('data', (d) => {
      buf += d;
      const m = buf.match(/listening on http:\/\/([\d.]+):(\d+)/);
      if (m) {
        clearTimeout(timer);
        proc.stdout.resume();
        resolve({ proc, pid: proc.pid, port: Number(m[2]), url: `http://127.0.0.1:${m[2]}` });
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${logName} exited (${code}) before listening; see ${path.join(scratch, logName)}.stderr`));
    });
  });
}

async function stopProc(proc, graceMs = 15_000) {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGCONT'); // in case it was paused for a ceiling run
  proc.kill('SIGTERM');
  const t = setTimeout(() => proc.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(t);
}

function procTicks(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]); // utime + stime
  } catch {
    return null;
  }
}

function threadTicks(pid) {
  const out = new Map();
  try {
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      const comm = fs.readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      const t = procTicks(`${pid}/task/${tid}`);
      if (t != null) out.set(tid, { comm, ticks: t });
    }
  } catch {}
  return out;
}

function threadReport(before, after, seconds) {
  const rows = [];
  for (const [tid, a] of after) {
    const b = before.get(tid);
    const d = a.ticks - (b ? b.ticks : 0);
    rows.push({ tid: Number(tid), comm: a.comm, pct: (100 * d) / CLK_TCK / seconds });
  }
  rows.sort((x, y) => x.tid - y.tid);
  return rows.map((r) => `${r.comm}#${r.tid} ${r.pct.toFixed(0)}%`).join(', ');
}

const sumTicks = (m) => [...m.values()].reduce((a, t) => a + t.ticks, 0);

// Whole-box CPU from /proc/stat: busy (all but idle and iowait) and steal.
function boxTicks() {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = f;
  return { busy: user + nice + system + irq + softirq, steal: steal || 0, all: f.slice(0, 8).reduce((a, b) => a + b, 0) };
}

function boxReport(a, b, ours, what) {
  const secs = (b.all - a.all) / CLK_TCK / os.cpus().length;
  const pct = (t) => `${((100 * t) / CLK_TCK / secs).toFixed(0)}%`;
  return `${what} box CPU (in % of one core, ${os.cpus().length} cores): busy ${pct(b.busy - a.busy)}, of which cairn + wrk ` +
    `${pct(ours)} and everything else ${pct(Math.max(0, b.busy - a.busy - ours))}; hypervisor steal ${pct(b.steal - a.steal)}`;
}

// Bytes each thread sent to storage (/proc/PID/task/TID/io write_bytes): the
// thread that dirties a page is charged, so WAL appends land on the writer,
// checkpoint copies on the checkpointer, the engine's own WAL on the engine.
function threadIo(pid) {
  const out = new Map();
  try {
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      const comm = fs.readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      const io = fs.readFileSync(`/proc/${pid}/task/${tid}/io`, 'utf8');
      out.set(tid, { comm, bytes: Number((io.match(/^write_bytes:\s+(\d+)/m) || [])[1] || 0) });
    }
  } catch {}
  return out;
}

const kbPerEvent = (bytes, events) => (bytes >= 0 && events > 0 ? `${(bytes / events / 1024).toFixed(1)} KB` : '?');

// Per thread name: CPU µs per event and KB written per event over a run.
function perEventReport(t0, t1, io0, io1, events) {
  const by = new Map();
  for (const [tid, a] of t1) {
    const g = by.get(a.comm) || { us: 0, bytes: 0 };
    g.us += ((a.ticks - (t0.get(tid)?.ticks || 0)) / CLK_TCK) * 1e6;
    g.bytes += (io1.get(tid)?.bytes || 0) - (io0.get(tid)?.bytes || 0);
    by.set(a.comm, g);
  }
  return [...by].filter(([, g]) => g.us > 0 || g.bytes > 0)
    .map(([comm, g]) => `${comm} ${(g.us / events).toFixed(1)} µs, ${kbPerEvent(g.bytes, events)}`).join('; ');
}

function memKb(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const get = (k) => Number((s.match(new RegExp(`^${k}:\\s+(\\d+)`, 'm')) || [])[1]);
    return { rss: get('VmRSS'), hwm: get('VmHWM') };
  } catch {
    return { rss: null, hwm: null };
  }
}

function dirBytes(dir) {
  let n = 0;
  for (const f of fs.readdirSync(dir)) n += fs.statSync(path.join(dir, f)).size;
  return n;
}

function httpJson(url, { method = 'GET', headers = {}, body, timeout = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false, timeout }, (res) => {
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
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

// Runs wrk with bench/batch.lua; resolves to the parsed BENCHJSON summary
// plus the load generator's own CPU use.
// `until`, when given, is polled every 250 ms; once it resolves true wrk gets
// SIGINT, which ends its run early and still prints the summary (wrk's main
// thread sleeps for -d even when every thread has stopped itself).
function wrk(url, { mode, size = BATCH, users = USERS, key = '', delayMs = 0, maxReq = 0, seconds, conns = CONNS, until }) {
  const args = [`-t${WRK_THREADS}`, `-c${conns}`, `-d${Math.max(1, Math.round(seconds))}s`, '--timeout', '30s',
    '-s', luaScript, url, '--', mode, String(size), String(users), key, String(delayMs), String(maxReq)];
  guard();
  const proc = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(proc);
  let out = '', err = '', lastTicks = 0;
  const t0 = performance.now();
  const poll = setInterval(() => {
    const t = procTicks(proc.pid);
    if (t != null) lastTicks = t;
  }, 200);
  let checking = false, interrupted = false;
  const watch = until && setInterval(async () => {
    if (checking || interrupted) return;
    checking = true;
    if (await until().catch(() => false)) {
      interrupted = true;
      proc.kill('SIGINT');
    }
    checking = false;
  }, 250);
  proc.stdout.on('data', (d) => (out += d));
  proc.stderr.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    proc.on('exit', (code) => {
      clearInterval(poll);
      if (watch) clearInterval(watch);
      children.delete(proc);
      const wall = (performance.now() - t0) / 1000;
      const m = out.match(/^BENCHJSON (.*)$/m);
      if (code !== 0 || !m) return reject(new Error(`wrk failed (${code}): ${err || out}`));
      const r = JSON.parse(m[1]);
      r.seconds = r.duration_us / 1e6;
      r.rps = r.ok / r.seconds;
      r.loadgen_ticks = lastTicks;
      r.loadgen_cpu_pct = (100 * lastTicks) / CLK_TCK / wall;
      resolve(r);
    });
  });
}

async function readyz(url) {
  try {
    const r = await httpJson(`${url}/readyz`);
    return r.json && typeof r.json.log_head === 'number' ? r.json : null;
  } catch {
    return null;
  }
}

async function metrics(url) {
  try {
    const r = await httpJson(`${url}/metrics`);
    const get = (k) => Number((r.text.match(new RegExp(`^${k} (\\d+)`, 'm')) || [])[1]);
    return { events: get('cairn_ingest_events_total'), commits: get('cairn_ingest_commits_total') };
  } catch {
    return {};
  }
}

// Polls /readyz until applied == log_head or capS seconds; returns what it saw.
async function catchUp(url, capS) {
  const t0 = performance.now();
  let first = await readyz(url), last = first;
  while (last && last.applied < last.log_head && performance.now() - t0 < capS * 1000) {
    await sleep(250);
    last = (await readyz(url)) || last;
  }
  const secs = (performance.now() - t0) / 1000;
  return {
    first, last, secs,
    caughtUp: !!last && last.applied >= last.log_head,
    applyRate: first && last && secs > 0.5 ? (last.applied - first.applied) / secs : null,
  };
}

async function initStore(dir) {
  const r = sh(CAIRN, ['init', '--data', dir, '--listen', '127.0.0.1:0']);
  if (!r.ok) throw new Error(`cairn init: ${r.err}`);
  const creds = JSON.parse(r.out.split('\n')[0]);
  return creds;
}

function trackBody() {
  return JSON.stringify({
    userId: 'u-cold', event: 'Product Viewed', messageId: randomUUID(),
    properties: { product_id: 'SKU-00042', price: 19.99, currency: 'USD' },
  });
}

// Spawns CMD and POSTs /v1/track every ~1 ms until the first 200; returns ms from exec.
async function coldStart(cmd, args, port, key, capMs = 10_000) {
  guard();
  const headers = { 'Content-Type': 'application/json', Authorization: `Basic ${Buffer.from(`${key}:`).toString('base64')}` };
  const errFd = fs.openSync(path.join(scratch, 'coldstart.stderr'), 'a');
  const t0 = performance.now();
  const proc = spawn(cmd, args, { stdio: ['ignore', 'ignore', errFd] });
  fs.closeSync(errFd);
  children.add(proc);
  proc.on('exit', () => children.delete(proc));
  const ms = await new Promise((resolve) => {
    let done = false, inflight = 0;
    const finish = (v) => {
      if (!done) {
        done = true;
        resolve(v);
      }
    };
    proc.once('exit', () => finish(null));
    const fire = () => {
      inflight++;
      const req = http.request({ host: '127.0.0.1', port, path: '/v1/track', method: 'POST', headers, agent: false }, (res) => {
        if (res.statusCode === 200) finish(performance.now() - t0);
        res.resume();
        res.on('end', () => inflight--);
      });
      req.on('error', () => inflight--);
      req.end(trackBody());
    };
    const tick = () => {
      if (done) return;
      if (performance.now() - t0 > capMs) return finish(null);
      if (inflight < 32) fire();
      setTimeout(tick, 1);
    };
    tick();
  });
  await stopProc(proc);
  return ms;
}

const median = (a) => {
  const s = a.filter((x) => x != null).sort((x, y) => x - y);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : null;
};

function perfTop(pid, seconds) {
  if (!sh('which', ['perf']).ok) return null;
  const data = path.join(scratch, 'perf.data');
  const rec = spawn('perf', ['record', '-q', '-g', '-o', data, '-p', String(pid), '--', 'sleep', String(seconds)], { stdio: 'ignore' });
  children.add(rec);
  return new Promise((resolve) => rec.on('exit', () => {
    children.delete(rec);
    const r = sh('perf', ['report', '-i', data, '--no-children', '--sort', 'comm,dso,sym', '-g', 'none', '--stdio'], { maxBuffer: 64 << 20 });
    resolve(r.ok ? r.out.split('\n').filter((l) => /^\s+\d+\.\d+%/.test(l)).slice(0, 15).map((l) => l.trim().replace(/\s+/g, ' ')) : null);
  }));
}

// ------------------------------------------------------------------ rows --
function row(o) {
  results.rows.push(o);
  return o;
}

async function benchIngestAndMemory(sqliteBin) {
  const dir = path.join(scratch, 'store-ingest');
  const creds = await initStore(dir);
  const srv = await startServer(CAIRN, ['serve', '--data', dir, '--listen', '127.0.0.1:0'], 'cairn-ingest');
  try {
    // Row 1: 64 connections of 100-event batches, LOAD_S seconds, closed loop.
    log(`[${elapsed()}s] row 1: cairn, POST /v1/batch x${BATCH} events, ${CONNS} connections, ${LOAD_S} s`);
    const th0 = threadTicks(srv.pid), box0 = boxTicks(), io0 = threadIo(srv.pid);
    const perfP = process.env.BENCH_PERF === '1' ? perfTop(srv.pid, Math.max(2, LOAD_S - 2)) : null;
    const w = await wrk(srv.url, { mode: 'batch', key: creds.write_key, seconds: LOAD_S });
    const th1 = threadTicks(srv.pid), box1 = boxTicks(), io1 = threadIo(srv.pid);
    const m = await metrics(srv.url);
    const rz = await readyz(srv.url);
    const eps = (w.ok * BATCH) / w.seconds;
    results.diag.push(`row 1 server threads (CPU % of one core over the run): ${threadReport(th0, th1, w.seconds)}`);
    results.diag.push(boxReport(box0, box1, sumTicks(th1) - sumTicks(th0) + w.loadgen_ticks, 'row 1'));
    results.diag.push(`row 1 per acknowledged event, CPU and bytes written by thread: ${perEventReport(th0, th1, io0, io1, w.ok * BATCH)}`);
    results.diag.push(`row 1 wrk (load generator) used ${w.loadgen_cpu_pct.toFixed(0)}% of one core; ` +
      `batch latency p50 ${fmtMs(w.latency_us.p50)}, p99 ${fmtMs(w.latency_us.p99)}; ` +
      `non-2xx ${w.errors.status}, timeouts ${w.errors.timeout}, socket errors ${w.errors.connect + w.errors.read + w.errors.write}`);
    if (m.commits) results.diag.push(`row 1 group commit: ${fmtInt(m.events)} events in ${fmtInt(m.commits)} commits = ` +
      `${fmtInt(m.events / m.commits)} events per commit (ceiling (a) uses ${BATCH})`);
    if (rz) results.diag.push(`row 1 engine lag at the end of the run: ${fmtInt(rz.log_head - rz.applied)} events ` +
      `(log_head ${fmtInt(rz.log_head)}, applied ${fmtInt(rz.applied)})`);
    if (perfP) results.diag.push(...((await perfP) || []).map((l) => `perf: ${l}`));
    const ingest = { eps, w };

    // Ceiling (a), sized to what cairn took in row 1, with cairn paused
    // (SIGSTOP) so its engine backlog does not compete for the 2 cores.
    const n = Math.max(50_000, w.ok * BATCH);
    process.kill(srv.pid, 'SIGSTOP');
    let ceil100, ceil1000, ceilNoDedup;
    try {
      ceil100 = benchSqliteCeiling(sqliteBin, n, BATCH);
      ceil1000 = benchSqliteCeiling(sqliteBin, n, 1000);
      ceilNoDedup = benchSqliteCeiling(sqliteBin, n, 1000, true);
    } finally {
      process.kill(srv.pid, 'SIGCONT');
    }

    // Row 3: top the same store up to EVENTS, let the engine catch up, read RSS.
    let head = rz ? rz.log_head : w.ok * BATCH;
    const remaining = Math.max(0, EVENTS - head);
    let capped = false, topupS = 0;
    if (remaining > 0) {
      const reqs = Math.ceil(remaining / BATCH);
      log(`[${elapsed()}s] row 3: sending ${fmtInt(remaining)} more events (cap ${INGEST_CAP} s)`);
      const t0 = performance.now();
      const w3 = await wrk(srv.url, {
        mode: 'batch', key: creds.write_key, seconds: INGEST_CAP, maxReq: Math.ceil(reqs / WRK_THREADS),
        until: async () => ((await readyz(srv.url))?.log_head ?? 0) >= EVENTS,
      });
      topupS = (performance.now() - t0) / 1000;
      head = (await readyz(srv.url))?.log_head ?? head + w3.ok * BATCH;
      capped = head < EVENTS * 0.99;
    }
    log(`[${elapsed()}s] row 3: waiting for the engine to apply ${fmtInt(head)} events (cap ${CATCHUP_CAP} s)`);
    const cu = await catchUp(srv.url, CATCHUP_CAP);
    const mem = memKb(srv.pid);
    const final = cu.last || { log_head: head, applied: null };
    await stopProc(srv.proc);
    const profiles = countProfiles(dir, final.applied ?? final.log_head);
    const memory = {
      events: final.log_head, applied: final.applied, caughtUp: cu.caughtUp, capped, topupS, catchup: cu,
      rss: mem.rss, hwm: mem.hwm, disk: dirBytes(dir), profiles,
    };
    return { dir, creds, ingest, memory, ceil100, ceil1000, ceilNoDedup };
  } finally {
    await stopProc(srv.proc);
  }
}

// Profiles in a store: read-only count with the sqlite3 shell when it is
// there (bench-only, never done by cairn's own code), else the expected number
// of distinct users among N uniform draws.
function countProfiles(dir, events) {
  const r = sh('sqlite3', ['-readonly', path.join(dir, 'state.db'), 'SELECT count(*) FROM profiles']);
  if (r.ok && /^\d+$/.test(r.out)) return { n: Number(r.out), exact: true };
  return { n: Math.round(USERS * (1 - Math.exp(-(events || 0) / USERS))), exact: false };
}

function benchSqliteCeiling(bin, events, txn, noDedup = false) {
  const db = path.join(scratch, `ceiling-${txn}.db`);
  const cap = Math.max(4, Math.min(LOAD_S, 10));
  log(`[${elapsed()}s] ceiling (a): SQLite direct, ${fmtInt(events)} events in ${txn}-event transactions` +
    `${noDedup ? ', no dedup table' : ''} (cap ${cap} s)`);
  const r = sh(bin, [db, String(events), String(txn), String(USERS), String(cap), ...(noDedup ? ['nodedup'] : [])]);
  if (!r.ok) throw new Error(`sqlite_ceiling: ${r.err}`);
  return JSON.parse(r.out);
}

async function benchHttpBatchCeiling(mhdBin) {
  const srv = await startServer(mhdBin, ['0', '2'], 'mhd-batch');
  try {
    const secs = Math.max(3, Math.round(LOAD_S / 2));
    log(`[${elapsed()}s] HTTP only: trivial libmicrohttpd server, the same batch requests, ${secs} s`);
    const w = await wrk(srv.url, { mode: 'batch', key: 'wk_ceiling', seconds: secs });
    return { eps: (w.ok * BATCH) / w.seconds, w };
  } finally {
    await stopProc(srv.proc);
  }
}

async function benchTrack(mhdBin) {
  const dir = path.join(scratch, 'store-track');
  const creds = await initStore(dir);
  const out = {};
  const srv = await startServer(CAIRN, ['serve', '--data', dir, '--listen', '127.0.0.1:0'], 'cairn-track');
  try {
    log(`[${elapsed()}s] row 2: cairn, POST /v1/track, ${CONNS} connections, ${LOAD_S} s`);
    const th0 = threadTicks(srv.pid), io0 = threadIo(srv.pid);
    out.peak = await wrk(srv.url, { mode: 'track', key: creds.write_key, seconds: LOAD_S });
    const th1 = threadTicks(srv.pid), io1 = threadIo(srv.pid);
    results.diag.push(`row 2 server threads (CPU % of one core): ${threadReport(th0, th1, out.peak.seconds)}; ` +
      `wrk used ${out.peak.loadgen_cpu_pct.toFixed(0)}%`);
    results.diag.push(`row 2 per acknowledged event, CPU and bytes written by thread: ${perEventReport(th0, th1, io0, io1, out.peak.ok)}`);
    const m = await metrics(srv.url);
    if (m.commits) results.diag.push(`row 2 group commit: ${fmtInt(m.events / m.commits)} events per commit`);
    const cu = await catchUp(srv.url, Math.min(CATCHUP_CAP, 20));
    if (!cu.caughtUp) results.notes.push('row 2: the engine had not caught up before the half-rate run; it ran with a backlog');

    // Half rate: wrk with a per-connection think time (delay() in batch.lua),
    // calibrated by a short run, since wrk2 (constant-rate) is not available.
    const target = out.peak.rps / 2;
    const periodMs = (CONNS * 1000) / target;
    log(`[${elapsed()}s] row 2: half rate, target ${fmtInt(target)} req/s (${CONNS} connections, think time)`);
    // each connection cycles every (think + response) ms: rate = CONNS * 1000 / (think + response)
    const d0 = Math.max(0.05, periodMs - 0.5);
    const cal = await wrk(srv.url, { mode: 'track', key: creds.write_key, seconds: 2, delayMs: d0.toFixed(3) });
    const cycleMs = cal.rps > 0 ? (CONNS * 1000) / cal.rps : periodMs;
    const delay = Math.max(0.05, Math.min(periodMs, periodMs - (cycleMs - d0)));
    out.half = await wrk(srv.url, { mode: 'track', key: creds.write_key, seconds: LOAD_S, delayMs: delay.toFixed(3) });
    out.half.target = target;
    out.half.delayMs = delay;
  } finally {
    await stopProc(srv.proc);
  }
  const mhd = await startServer(mhdBin, ['0', '2'], 'mhd-track');
  try {
    log(`[${elapsed()}s] ceiling (b): trivial libmicrohttpd server, POST /v1/track, ${CONNS} connections, ${LOAD_S} s`);
    out.ceiling = await wrk(mhd.url, { mode: 'track', key: 'wk_ceiling', seconds: LOAD_S });
    log(`[${elapsed()}s] ceiling (b) at cairn's half rate`);
    out.ceilingHalf = await wrk(mhd.url, { mode: 'track', key: 'wk_ceiling', seconds: Math.max(3, LOAD_S / 2), delayMs: out.half.delayMs.toFixed(3) });
  } finally {
    await stopProc(mhd.proc);
  }
  return out;
}

// The cold-start store. Wanted: PROFILES profiles. Filled with `cairn import
// users` (NDJSON identify messages, in chunks of 50,000 so that
// BENCH_IMPORT_CAP bounds the time) and kept in build/bench/store-profiles
// for the next runs, which only top it up: importing 1,000,000 users takes
// longer than the whole bench's budget. Without the import command, the
// memory row's store is used.
async function coldStore(memDir, memProfiles) {
  if (memProfiles.n >= PROFILES) return { dir: memDir, profiles: memProfiles, how: 'the store of row 3', key: null };
  const help = sh(CAIRN, ['import', 'users', '--help']);
  if (!help.ok) {
    return { dir: memDir, profiles: memProfiles, key: null,
      how: `the store of row 3 (\`cairn import users\` not available: ${(help.err || help.out).split('\n')[0]})` };
  }
  const dir = path.join(benchBuild, 'store-profiles');
  const credsFile = path.join(benchBuild, 'store-profiles.json');
  let creds = null, cached = false;
  if (fs.existsSync(credsFile) && fs.existsSync(dir)) {
    creds = JSON.parse(fs.readFileSync(credsFile, 'utf8'));
    cached = sh(CAIRN, ['migrate', '--data', dir]).ok; // brings an older store's schema up to date, untimed
  }
  if (!cached) {
    fs.rmSync(dir, { recursive: true, force: true });
    creds = await initStore(dir);
    fs.writeFileSync(credsFile, JSON.stringify({ ...creds, imported: 0 }));
    creds.imported = 0;
  }
  const CHUNK = 50_000, t0 = performance.now();
  const first = ['Ava', 'Liam', '민준', 'Noah', 'Emma', '서연', 'Mia', 'Lucas'];
  let failed = null, added = 0;
  while (creds.imported < PROFILES && (performance.now() - t0) / 1000 < IMPORT_CAP) {
    const from = creds.imported, n = Math.min(CHUNK, PROFILES - from);
    if (!added) log(`[${elapsed()}s] row 4: importing users ${fmtInt(from)}..${fmtInt(PROFILES)} into the cached store (cap ${IMPORT_CAP} s)`);
    const lines = [];
    for (let i = from; i < from + n; i++) {
      lines.push(JSON.stringify({ type: 'identify', userId: `p${String(i).padStart(7, '0')}`, traits: {
        email: `p${i}@example.com`, first_name: first[i % first.length], plan: i % 3 ? 'free' : 'pro',
        created_at: '2025-06-01T00:00:00Z', city: 'Seoul' } }));
    }
    const file = path.join(scratch, 'users.ndjson');
    fs.writeFileSync(file, lines.join('\n') + '\n');
    const r = sh(CAIRN, ['import', 'users', file, '--data', dir, '--quiet'], { maxBuffer: 64 << 20 });
    fs.rmSync(file, { force: true });
    if (!r.ok) {
      failed = (r.err || r.out).split('\n').filter(Boolean).slice(-1)[0] || `exit ${r.status}`;
      break;
    }
    creds.imported = from + n;
    added += n;
    fs.writeFileSync(credsFile, JSON.stringify(creds));
  }
  const secs = (performance.now() - t0) / 1000;
  if (added) results.diag.push(`row 4 store: imported ${fmtInt(added)} users in ${secs.toFixed(1)} s (${fmtInt(added / secs)} users/s)`);
  const profiles = countProfiles(dir, 0);
  if (failed || !profiles.exact || profiles.n < memProfiles.n) {
    return { dir: memDir, profiles: memProfiles, key: null,
      how: `the store of row 3 (\`cairn import users\` ${failed ? `failed: ${failed}` : `gave only ${fmtInt(profiles.n)} profiles`})` };
  }
  const how = `build/bench/store-profiles, filled by \`cairn import users\`${cached ? ' (kept from an earlier run' +
    (added ? `, topped up by ${fmtInt(added)} now)` : ')') : ''}` +
    (profiles.n < PROFILES ? `; BENCH_IMPORT_CAP=${IMPORT_CAP} s stopped it short of ${fmtInt(PROFILES)}, the next run continues` : '');
  return { dir, profiles, how, key: creds.write_key };
}

async function benchColdStart(store, mhdBin) {
  const key = store.key;
  log(`[${elapsed()}s] row 4: cold start, ${COLD_RUNS} runs each on ${fmtInt(store.profiles.n)} profiles`);
  const cairn = [], mhd = [];
  for (let i = 0; i < COLD_RUNS; i++) {
    const p = await freePort();
    cairn.push(await coldStart(CAIRN, ['serve', '--data', store.dir, '--listen', `127.0.0.1:${p}`], p, key));
  }
  for (let i = 0; i < COLD_RUNS; i++) {
    const p = await freePort();
    mhd.push(await coldStart(mhdBin, [String(p), '2'], p, key));
  }
  return { cairn, mhd };
}

// BENCH_SECONDS is this runner's wrk length; template.mjs reads the same name
// for its own per-template time, so it gets BENCH_TEMPLATE_SECONDS or nothing.
function templateEnv() {
  const env = { ...process.env, CAIRN_BIN: CAIRN };
  delete env.BENCH_SECONDS;
  if (process.env.BENCH_TEMPLATE_SECONDS) env.BENCH_SECONDS = process.env.BENCH_TEMPLATE_SECONDS;
  return env;
}

// Rows 6–8 (issue 5); bench/segments.mjs. Row 6 on the store seg_gen fills
// (kept in build/bench/), rows 7–8 on a fresh store loaded through the API;
// each part on its own server, and a failure of one leaves the other.
async function benchSegmentsRows() {
  const S = segSettings(num, QUICK);
  const h = { log, sleep, sh, readyz, catchUp, memKb, threadTicks, procTicks, elapsed, fmtInt, fmtMiB, fmtMs, ratioText, median, wrk,
    CLK_TCK, CAIRN, benchBuild, compile, runAsync, initStore, startServer, stopProc };
  const rows = [], notes = [];
  results.raw_segments = {};
  try {
    const g = await benchSegmentsScaled(h, S);
    results.raw_segments.scaled = g;
    const r = scaledRows(g, h);
    rows.push(...r.rows);
    notes.push(...r.notes);
  } catch (e) {
    log(`row 6 failed: ${e.stack || e.message}`);
    rows.push({ id: '6', what: `Segment preview at ${fmtInt(S.genUsers)} users (bench/segments.mjs + seg_gen)`, cairn: 'failed',
      peerName: '—', peer: '—', ratio: '—', aim: '≤ 200 ms' });
    notes.push(`row 6 failed: ${e.message}`);
  }
  const dir = path.join(scratch, 'store-segments');
  let srv;
  try {
    const creds = await initStore(dir);
    srv = await startServer(CAIRN, ['serve', '--data', dir, '--listen', '127.0.0.1:0'], 'cairn-segments');
    const s = await benchSegments(h, S, creds, dir, srv);
    results.raw_segments.api = s;
    const r = segmentRows(s, h);
    rows.push(...r.rows);
    notes.push(...r.notes);
  } catch (e) {
    log(`rows 7–8 failed: ${e.stack || e.message}`);
    rows.push({ id: '7', what: 'Live path, memory per user (bench/segments.mjs)', cairn: 'failed', peerName: '—', peer: '—', ratio: '—', aim: '' });
    notes.push(`rows 7–8 failed: ${e.message}`);
  } finally {
    if (srv) await stopProc(srv.proc);
  }
  return { rows, notes };
}

// Rows 9–11 (issue 6); bench/journeys.mjs. Each part on its own fresh store
// and server; a failure of one leaves the others.
async function benchJourneysRows() {
  const S = jnySettings(num, QUICK);
  const h = { log, sleep, sh, readyz, catchUp, memKb, threadTicks, threadIo, threadReport, perEventReport, boxTicks, boxReport, sumTicks,
    procTicks, elapsed, fmtInt, fmtMiB, fmtMs, ratioText, median, CLK_TCK, CAIRN, benchBuild, compile, runAsync, spawnTracked, initStore,
    startServer, stopProc, scratch, diag: (l) => results.diag.push(l) };
  try {
    const r = await benchJourneys(h, S);
    results.raw_journeys = r.raw;
    return r;
  } catch (e) {
    log(`rows 9–11 failed: ${e.stack || e.message}`);
    return { rows: [{ id: '9', what: 'Journeys (bench/journeys.mjs)', cairn: 'failed', peerName: '—', peer: '—', ratio: '—', aim: '' }],
      notes: [`rows 9–11 failed: ${e.message}`] };
  }
}

// Rows 12–14 (delivery); bench/delivery.mjs. Each part on its own stores,
// servers and peers; a failure of one leaves the others.
async function benchDeliveryRows() {
  const S = dlvSettings(num, QUICK);
  const h = { log, sleep, sh, threadTicks, threadReport, boxTicks, boxReport, sumTicks, procTicks, elapsed, fmtInt, fmtMs, ratioText,
    CLK_TCK, CAIRN, runAsync, spawnTracked, initStore, startServer, stopProc, scratch, diag: (l) => results.diag.push(l) };
  try {
    const r = await benchDelivery(h, S);
    results.raw_delivery = r.raw;
    return r;
  } catch (e) {
    log(`rows 12–15 failed: ${e.stack || e.message}`);
    return { rows: [{ id: '12', what: 'Delivery (bench/delivery.mjs)', cairn: 'failed', peerName: '—', peer: '—', ratio: '—', aim: '' }],
      notes: [`rows 12–15 failed: ${e.message}`] };
  }
}

// Rows 16–17 (analytics); bench/analytics.mjs, on the generated store kept
// in build/bench/store-analytics-<N>.
async function benchAnalyticsRows() {
  const S = anSettings(num, QUICK);
  const h = { log, sleep, sh, memKb, procTicks, boxTicks, boxReport, elapsed, fmtInt, fmtMiB, ratioText, CLK_TCK, CAIRN, benchBuild,
    runAsync, spawnTracked, initStore, startServer, stopProc };
  try {
    const a = await benchAnalytics(h, S);
    results.raw_analytics = a;
    return analyticsRows(a, h);
  } catch (e) {
    log(`rows 16–17 failed: ${e.stack || e.message}`);
    return { rows: [{ id: '16', what: 'Analytics (bench/analytics.mjs)', cairn: 'failed', peerName: '—', peer: '—', ratio: '—', aim: '≤ 100 ms' }],
      notes: [`rows 16–17 failed: ${e.message}`] };
  }
}

// Rows 18–19 (web app); bench/web.mjs, on the generated store kept in
// build/bench/store-people-<N>.
async function benchWebRows() {
  const S = webSettings(num, QUICK);
  const h = { log, sleep, sh, memKb, procTicks, elapsed, fmtInt, fmtMiB, ratioText, CLK_TCK, CAIRN, benchBuild, root, scratch, compile,
    runAsync, spawnTracked, initStore, startServer, stopProc, diag: (l) => results.diag.push(l) };
  try {
    const a = await benchWeb(h, S);
    results.raw_web = a;
    return webRows(a, h);
  } catch (e) {
    log(`rows 18–19 failed: ${e.stack || e.message}`);
    return { rows: [{ id: '18', what: 'People search, web app (bench/web.mjs)', cairn: 'failed', peerName: '—', peer: '—', ratio: '—', aim: '≤ 100 ms' }],
      notes: [`rows 18–19 failed: ${e.message}`] };
  }
}

async function benchTemplates() {
  const script = path.join(here, 'template.mjs');
  if (!fs.existsSync(script)) return { skipped: 'bench/template.mjs does not exist yet' };
  log(`[${elapsed()}s] row 5: node bench/template.mjs`);
  const r = sh(process.execPath, [script], {
    cwd: root, env: templateEnv(), timeout: 120_000, maxBuffer: 16 << 20,
  });
  if (!r.ok) {
    const lines = (r.err || r.out || '').split('\n').map((l) => l.trim()).filter(Boolean);
    const why = lines.find((l) => /\b\w*Error\b|error:/i.test(l)) || lines[0] || 'no output';
    return { skipped: `bench/template.mjs failed (${r.status ?? 'timeout'}): ${why}` };
  }
  return { out: r.out };
}

// template.mjs may print BENCHROW/BENCHJSON lines with {name, cairn, peer,
// peer_name, unit, higher_is_better, aim}, a JSON array of such objects, or a
// markdown table (copied as is); see docs/bench.md.
function templateRows(out) {
  const objs = [];
  for (const line of out.split('\n')) {
    const m = line.match(/^(?:BENCHROW|BENCHJSON)\s+(.*)$/);
    if (m) {
      try {
        const j = JSON.parse(m[1]);
        objs.push(...(Array.isArray(j) ? j : j.rows || [j]));
      } catch {}
    }
  }
  if (!objs.length) {
    try {
      const j = JSON.parse(out);
      objs.push(...(Array.isArray(j) ? j : j.rows || []));
    } catch {}
  }
  const rows = [];
  for (const o of objs) {
    const cairn = o.cairn ?? o.cairn_per_s ?? o.cairn_renders_per_s;
    const peer = o.peer ?? o.liquidjs ?? o.liquidjs_per_s ?? o.liquidjs_renders_per_s;
    if (typeof cairn !== 'number') continue;
    const unit = o.unit || 'renders/s';
    const hib = o.higher_is_better ?? !/ms|µs|us|time|alloc/i.test(unit);
    rows.push({
      id: '5', what: `Templates: ${o.name || o.template || '?'}`,
      cairn: `${fmtNum(cairn)} ${unit}`, peerName: o.peer_name || 'liquidjs',
      peer: typeof peer === 'number' ? `${fmtNum(peer)} ${unit}` : '—',
      ratio: typeof peer === 'number' && peer > 0 ? ratioText(cairn, peer, hib) : '—',
      aim: o.aim || (hib ? '≥ 10× liquidjs' : ''),
      ok: typeof peer === 'number' && o.aim_ratio ? (hib ? cairn / peer >= o.aim_ratio : cairn / peer <= o.aim_ratio) : undefined,
    });
  }
  if (!rows.length) rows.push(...markdownRows(out));
  const table = rows.length ? null : out.split('\n').filter((l) => /^\s*\|/.test(l));
  return { rows, table: table && table.length ? table : null };
}

// A markdown table with a name column, a "cairn … /s" column and a
// "liquidjs … /s" column becomes rows; other columns go into the measure.
function markdownRows(out) {
  const lines = out.split('\n').filter((l) => /^\s*\|.*\|\s*$/.test(l));
  if (lines.length < 3) return [];
  const cells = (l) => l.trim().replace(/^\||\|$/g, '').split('|').map((c) => c.trim());
  const head = cells(lines[0]);
  const ci = head.findIndex((h) => /cairn/i.test(h) && /\/s|per s/i.test(h));
  const pi = head.findIndex((h) => /liquidjs/i.test(h) && /\/s|per s/i.test(h));
  if (ci < 0) return [];
  const unit = (head[ci].match(/cairn\s+(.*)$/i) || [])[1] || '/s';
  const toNum = (c) => Number(String(c).replace(/[,\s_]/g, '').replace(/x$/i, ''));
  const rows = [];
  for (const l of lines.slice(1)) {
    if (/^\s*\|[\s:|-]+\|\s*$/.test(l)) continue;
    const c = cells(l);
    const cairn = toNum(c[ci]), peer = pi >= 0 ? toNum(c[pi]) : NaN;
    if (!Number.isFinite(cairn)) continue;
    const used = new Set([0, ci, pi]);
    const extra = [];
    const cp = head.findIndex((h) => /cairn.*parse/i.test(h)), lp = head.findIndex((h) => /liquidjs.*parse/i.test(h));
    if (cp >= 0 && lp >= 0) {
      extra.push(`parse ${c[cp]} vs ${c[lp]} ${(head[cp].match(/(µs|us|ms)/) || ['µs'])[0]}`);
      used.add(cp).add(lp);
    }
    head.forEach((h, i) => {
      if (!used.has(i) && !/ratio/i.test(h) && c[i] !== undefined) extra.push(`${h}: ${c[i]}`);
    });
    rows.push({
      id: '5', what: `Templates: ${c[0]}${extra.length ? ` (${extra.join('; ')})` : ''}`,
      cairn: `${fmtNum(cairn)} ${unit}`, peerName: (head[pi] || 'liquidjs').replace(/\s.*$/, '') + ' (same data)',
      peer: Number.isFinite(peer) ? `${fmtNum(peer)} ${unit}` : '—',
      ratio: Number.isFinite(peer) ? ratioText(cairn, peer, true) : '—',
      aim: '≥ 10× liquidjs', ok: Number.isFinite(peer) ? cairn >= 10 * peer : undefined,
    });
  }
  return rows;
}

const fmtNum = (n) => (Math.abs(n) >= 100 ? fmtInt(n) : n.toPrecision(3));
function ratioText(cairn, peer, higherIsBetter) {
  if (!(peer > 0) || cairn == null) return '—';
  const r = cairn / peer;
  if (higherIsBetter) return r >= 2 ? `${r.toFixed(1)}×` : `${(100 * r).toFixed(0)} %`;
  if (r < 0.1) return `${r.toPrecision(2)}×`; // 0.0047×, not 0.00×
  return `${r.toFixed(r < 10 ? 2 : 0)}×`;
}

// ----------------------------------------------------------------- table --
function printTable(rows) {
  const cols = [
    ['#', (r) => r.id], ['measure', (r) => r.what], ['cairn', (r) => r.cairn], ['peer', (r) => r.peerName],
    ['peer figure', (r) => r.peer], ['cairn/peer', (r) => r.ratio], ['aim', (r) => r.aim || ''],
    ['met', (r) => (r.ok === true ? 'yes' : r.ok === false ? 'NO' : '')],
  ];
  const cells = rows.map((r) => cols.map(([, f]) => String(f(r) ?? '')));
  const width = cols.map(([h], i) => Math.max([...h].length, ...cells.map((c) => [...c[i]].length)));
  const pad = (s, w) => s + ' '.repeat(Math.max(0, w - [...s].length));
  const line = (c) => `| ${c.map((s, i) => pad(s, width[i])).join(' | ')} |`;
  const out = [line(cols.map(([h]) => h)), `|${width.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.map(line)];
  return out.join('\n');
}

function machineInfo() {
  const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  const model = (cpuinfo.match(/^model name\s*:\s*(.*)$/m) || [])[1] || os.cpus()[0]?.model || '?';
  const git = sh('git', ['-C', root, 'rev-parse', '--short', 'HEAD']);
  const dirty = sh('git', ['-C', root, 'status', '--porcelain', '--', 'src']).out ? ' (src/ has uncommitted changes)' : '';
  const ver = (cmd, args) => {
    const r = sh(cmd, args);
    return (r.out || r.err).split('\n')[0];
  };
  return [
    `date: ${new Date().toISOString()}`,
    `machine: ${sh('nproc', []).out} CPUs (${model}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Linux ${os.release()}` +
      `${/hypervisor/.test(cpuinfo) ? ', virtual machine' : ''}`,
    `software: cairn ${git.ok ? git.out : '?'}${dirty}; SQLite ${ver('pkg-config', ['--modversion', 'sqlite3'])}; ` +
      `libmicrohttpd ${ver('pkg-config', ['--modversion', 'libmicrohttpd'])}; ${ver('wrk', ['-v']).replace(/ \[.*$/, '')}; node ${process.version}`,
    `load average before: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`,
  ];
}

// ------------------------------------------------------------------ main --
async function main() {
  if (!fs.existsSync(CAIRN)) throw new Error(`no cairn binary at ${CAIRN}; run make first (or set CAIRN_BIN)`);
  if (!sh('which', ['wrk']).ok) throw new Error('wrk is not installed: apt-get install -y wrk');
  const info = machineInfo();
  log(`scratch directory ${scratch}`);
  const only = { segments: ['6–8', benchSegmentsRows], journeys: ['9–11', benchJourneysRows], delivery: ['12–14', benchDeliveryRows],
    analytics: ['16–17', benchAnalyticsRows], web: ['18–20', benchWebRows] }[ONLY];
  if (only) {
    const part = await only[1]();
    part.rows.forEach(row);
    results.notes.push(...part.notes);
    info.push(`BENCH_ONLY=${ONLY}; load average after: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}; total bench time ${elapsed()} s`);
    const outLines = [`# cairn bench (rows ${only[0]} only)`, '', ...info.map((l) => `- ${l}`), '',
      printTable(results.rows), '', 'Notes:', ...results.notes.map((n) => `- ${n}`)];
    if (results.diag.length) outLines.push('', 'Diagnostics:', ...results.diag.map((n) => `- ${n}`));
    process.stdout.write(outLines.join('\n') + '\n');
    if (ONLY === 'journeys' || ONLY === 'delivery' || ONLY === 'analytics' || ONLY === 'web') {
      fs.mkdirSync(benchBuild, { recursive: true });
      fs.writeFileSync(path.join(benchBuild, `results-${ONLY}.json`),
        JSON.stringify({ info, rows: results.rows, notes: results.notes, diag: results.diag, raw: results[`raw_${ONLY}`] }, null, 2));
    }
    return;
  }
  if (ONLY) throw new Error(`BENCH_ONLY must be segments, journeys, delivery, analytics or web, not '${ONLY}'`);
  const sqliteBin = compile('sqlite_ceiling', ['sqlite3']);
  const mhdBin = compile('mhd_ceiling', ['libmicrohttpd']);

  const ing = await benchIngestAndMemory(sqliteBin);
  const { ceil100, ceil1000, ceilNoDedup } = ing;
  const httpBatch = await benchHttpBatchCeiling(mhdBin);
  const tr = await benchTrack(mhdBin);
  const store = await coldStore(ing.dir, ing.memory.profiles);
  if (!store.key) store.key = ing.creds.write_key;
  const cold = await benchColdStart(store, mhdBin);
  const tpl = await benchTemplates();
  const seg = await benchSegmentsRows();
  const jny = await benchJourneysRows();
  const dlv = await benchDeliveryRows();
  const an = await benchAnalyticsRows();
  const web = await benchWebRows();

  // ---- rows
  const eps = ing.ingest.eps;
  row({ id: '1', what: `Ingest: POST /v1/batch, ${BATCH} events/request, ${CONNS} conns, acked durably`,
    cairn: `${fmtInt(eps)} events/s`, peerName: `(a) SQLite direct, ${BATCH}-event txns`,
    peer: `${fmtInt(ceil100.events_per_s)} events/s`, ratio: ratioText(eps, ceil100.events_per_s, true),
    aim: '≥ 50 % and ≥ 100,000/s', ok: eps >= 0.5 * ceil100.events_per_s && eps >= 100_000 });
  row({ id: '1', what: '  same, beside a bigger-transaction ceiling', cairn: `${fmtInt(eps)} events/s`,
    peerName: '(a′) SQLite direct, 1,000-event txns', peer: `${fmtInt(ceil1000.events_per_s)} events/s`,
    ratio: ratioText(eps, ceil1000.events_per_s, true), aim: 'orientation' });
  row({ id: '1', what: '  same, beside a ceiling without the dedup table', cairn: `${fmtInt(eps)} events/s`,
    peerName: '(a″) as (a′), no event_dedup insert', peer: `${fmtInt(ceilNoDedup.events_per_s)} events/s`,
    ratio: ratioText(eps, ceilNoDedup.events_per_s, true), aim: 'orientation' });
  row({ id: '1', what: '  same, beside the HTTP layer alone', cairn: `${fmtInt(eps)} events/s`,
    peerName: 'trivial libmicrohttpd, same requests', peer: `${fmtInt(httpBatch.eps)} events/s`,
    ratio: ratioText(eps, httpBatch.eps, true), aim: 'orientation' });
  const pk = tr.peak, ce = tr.ceiling;
  row({ id: '2', what: `Single event: POST /v1/track, ${CONNS} conns`, cairn: `${fmtInt(pk.rps)} req/s`,
    peerName: '(b) trivial libmicrohttpd, 2 threads', peer: `${fmtInt(ce.rps)} req/s`,
    ratio: ratioText(pk.rps, ce.rps, true), aim: '≥ 50 %', ok: pk.rps >= 0.5 * ce.rps });
  row({ id: '2', what: '  latency at peak, p50 / p99', cairn: `${fmtMs(pk.latency_us.p50)} / ${fmtMs(pk.latency_us.p99)}`,
    peerName: '(b) at its own peak', peer: `${fmtMs(ce.latency_us.p50)} / ${fmtMs(ce.latency_us.p99)}`,
    ratio: ratioText(pk.latency_us.p99, ce.latency_us.p99, false), aim: '' });
  const hf = tr.half, ch = tr.ceilingHalf;
  row({ id: '2', what: `  p99 at half of cairn's peak (${fmtInt(hf.rps)} req/s achieved, target ${fmtInt(hf.target)})`,
    cairn: `${fmtMs(hf.latency_us.p99)} (p50 ${fmtMs(hf.latency_us.p50)})`,
    peerName: `(b) at the same offered load (${fmtInt(ch.rps)} req/s)`, peer: `${fmtMs(ch.latency_us.p99)} (p50 ${fmtMs(ch.latency_us.p50)})`,
    ratio: ratioText(hf.latency_us.p99, ch.latency_us.p99, false), aim: 'p99 < 10 ms', ok: hf.latency_us.p99 < 10_000 });
  const mem = ing.memory;
  row({ id: '3', what: `Memory after ${fmtInt(mem.events)} events, ${mem.profiles.exact ? '' : '≈'}${fmtInt(mem.profiles.n)} profiles` +
      `${mem.caughtUp ? '' : ` (engine NOT caught up: ${fmtInt(mem.applied)} applied)`}`,
    cairn: `RSS ${fmtMiB(mem.rss)}, peak ${fmtMiB(mem.hwm)}`, peerName: '—', peer: '—', ratio: '—', aim: 'report' });
  const cr = mem.catchup.applyRate, backlog = mem.catchup.first ? mem.catchup.first.log_head - mem.catchup.first.applied : null;
  row({ id: '3', what: `  engine apply rate while catching up (no ingest; backlog ${fmtInt(backlog)})`,
    cairn: cr ? `${fmtInt(cr)} events/s` : backlog === 0 ? 'kept up' : '—',
    peerName: 'row 1 ingest rate', peer: `${fmtInt(eps)} events/s`, ratio: cr ? ratioText(cr, eps, true) : '—',
    aim: 'keeps up: ≥ 100 %', ok: cr ? cr >= eps : backlog === 0 ? true : undefined });
  const cm = median(cold.cairn), mm = median(cold.mhd);
  row({ id: '4', what: `Cold start: exec → first 200 /v1/track, ${store.profiles.exact ? '' : '≈'}${fmtInt(store.profiles.n)} profiles`,
    cairn: cm == null ? 'no 200 within 10 s' : `${cm.toFixed(1)} ms`, peerName: 'bare libmicrohttpd exec → 200',
    peer: mm == null ? '—' : `${mm.toFixed(1)} ms`, ratio: cm && mm ? ratioText(cm, mm, false) : '—',
    aim: '≤ 50 ms', ok: cm != null && cm <= 50 });
  if (tpl.out) {
    const t = templateRows(tpl.out);
    for (const r of t.rows) row(r);
    if (t.table) results.templateTable = t.table;
    const prose = tpl.out.split('\n').filter((l) => l.trim() && !/^\s*\|/.test(l) && !/^(BENCHROW|BENCHJSON)\s/.test(l));
    if (t.rows.length && prose.length) results.notes.push(`row 5 (bench/template.mjs): ${prose.join(' ')}`);
    if (!t.rows.length && !t.table) results.notes.push(`row 5: bench/template.mjs printed no rows this runner understands; its output:\n${tpl.out}`);
  } else {
    row({ id: '5', what: 'Templates (bench/template.mjs)', cairn: 'skipped', peerName: 'liquidjs', peer: '—', ratio: '—',
      aim: '≥ 10× liquidjs' });
    results.notes.push(`row 5 skipped: ${tpl.skipped}`);
  }

  for (const r of seg.rows) row(r);
  for (const r of jny.rows) row(r);
  for (const r of dlv.rows) row(r);
  for (const r of an.rows) row(r);
  for (const r of web.rows) row(r);

  // ---- notes
  results.notes.push(
    `settings: ${LOAD_S} s per wrk run, wrk -t${WRK_THREADS} -c${CONNS} with bench/batch.lua (fresh UUID v4 messageIds, ` +
      `~500-byte track events, userIds uniform over ${fmtInt(USERS)}); cairn serve with its defaults (2 HTTP threads)`,
    `row 1 ceilings (as many events as cairn took, capped at ${Math.max(4, Math.min(LOAD_S, 10))} s): ` +
      [ceil100, ceil1000, ceilNoDedup].map((c) => `${fmtInt(c.events)} events in ${fmtInt(c.txns)} txns of ${fmtInt(c.txn_size)}` +
        `${c.dedup ? '' : ' without dedup'}: ${fmtInt(c.events_per_s)}/s, ${kbPerEvent(c.write_bytes, c.events)} written per event`).join('; '),
    `row 2 half rate: wrk2 is not available, so each of the ${CONNS} connections waits a random think time ` +
      `(mean ${tr.half.delayMs.toFixed(2)} ms, calibrated by a 2 s run) between requests; latency is measured from send, ` +
      `so queueing behind a slow response is not counted (coordinated omission) — the figure is optimistic`,
    `row 3: BENCH_EVENTS=${fmtInt(EVENTS)}${QUICK ? ' (BENCH_QUICK)' : ''}; ${fmtInt(mem.events)} in the log after ` +
      `${mem.topupS ? `${mem.topupS.toFixed(0)} s of top-up` : 'row 1'}${mem.capped ? ` — CAPPED by BENCH_INGEST_CAP=${INGEST_CAP} s` : ''}; ` +
      `catch-up took ${mem.catchup.secs.toFixed(1)} s${mem.caughtUp ? '' : ` — CAPPED by BENCH_CATCHUP_CAP=${CATCHUP_CAP} s`}; ` +
      `store on disk ${fmtMiB(mem.disk / 1024)} (${fmtInt(mem.disk / Math.max(1, mem.events))} bytes/event)`,
    `row 4: median of ${COLD_RUNS} runs each (cairn ${cold.cairn.map((x) => (x == null ? '—' : x.toFixed(1))).join(', ')} ms; ` +
      `libmicrohttpd ${cold.mhd.map((x) => (x == null ? '—' : x.toFixed(1))).join(', ')} ms); store: ${store.how}` +
      `${store.profiles.n < PROFILES ? ` — fewer than the ${fmtInt(PROFILES)} profiles aimed at` : ''}; page cache warm`,
    ...seg.notes,
    ...jny.notes,
    ...dlv.notes,
    ...an.notes,
    ...web.notes,
  );
  info.push(`load average after: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}; total bench time ${elapsed()} s`);

  // ---- print
  const outLines = [
    '# cairn bench', '', ...info.map((l) => `- ${l}`), '',
    printTable(results.rows), '',
    'Ratios are cairn ÷ peer: for rates higher is better (shown in %, or × above 2×); for times and latencies lower is better (×).',
    '',
  ];
  if (results.templateTable) outLines.push('Templates (bench/template.mjs):', '', ...results.templateTable, '');
  outLines.push('Notes:', ...results.notes.map((n) => `- ${n}`), '', 'Diagnostics:', ...results.diag.map((n) => `- ${n}`));
  process.stdout.write(outLines.join('\n') + '\n');
  fs.mkdirSync(benchBuild, { recursive: true });
  fs.writeFileSync(path.join(benchBuild, 'results.json'), JSON.stringify({
    info, rows: results.rows, notes: results.notes, diag: results.diag,
    raw: { ingest: ing.ingest, memory: ing.memory, ceil100, ceil1000, ceilNoDedup, httpBatch, cold, track: tr, segments: results.raw_segments, journeys: results.raw_journeys,
      delivery: results.raw_delivery, analytics: results.raw_analytics, web: results.raw_web },
  }, null, 2));
  fs.writeFileSync(path.join(benchBuild, 'results.md'), outLines.join('\n') + '\n');
}

async function cleanup() {
  stopping = true;
  while (children.size) {
    for (const p of [...children]) {
      await stopProc(p, 5000).catch(() => {});
      children.delete(p);
    }
  }
  if (process.env.BENCH_KEEP === '1') log(`kept ${scratch}`);
  else fs.rmSync(scratch, { recursive: true, force: true });
}

process.on('SIGINT', () => cleanup().finally(() => process.exit(130)));
process.on('SIGTERM', () => cleanup().finally(() => process.exit(143)));
main().then(cleanup, async (e) => {
  log(`failed: ${e.stack || e.message}`);
  await cleanup();
  process.exit(1);
});
