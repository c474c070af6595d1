// bench/web.mjs — rows 18–19 of `make bench` (the web app): People search
// over 1,000,000 profiles through GET /api/v1/users?q= (the trigram index of
// migration 21, and the scan for shorter queries), each query kind beside the
// same statement in the sqlite3 shell and beside the pre-index full scan; and
// the web app's first load: the gzip size of the shell's JavaScript against
// its 300 KB budget, the CSS, the largest lazy chunk, and the time to first
// byte / whole body of index.html and the entry chunk from the server beside a
// bare libmicrohttpd server. Called from bench/run.mjs with its helpers
// (BENCH_ONLY=web runs only these rows); see docs/bench.md.
//
// The store is made once and kept in build/bench/store-people-<N> (1m; quick
// 100k) with its keys in the .json beside it: `cairn init`, then `cairn import
// users` of generated profiles (Korean names of 3 syllables, emails, +82 10
// phone numbers, city, plan, …) in chunks, with migration 21's triggers
// dropped while importing (they make the import ~8× slower); at the end the
// search table is dropped and user_version set back to 20, so the kept store
// is a store from before migration 21 and every run times its backfill on the
// first open of a copy. An unfinished generation is continued by the next run.
//
// Environment (all optional):
//   BENCH_WEB_PROFILES  profiles in the kept store (default 1,000,000; quick 100,000)
//   BENCH_WEB_QUERIES   distinct values timed per query kind (index kinds: after one warm-up value; default 50;
//                       quick 20)
//   BENCH_WEB_CAP       seconds per measure: no run starts that would end after it at the last run's
//                       pace (default 15); always at least 1 run after the warm-up
//   BENCH_WEB_SCAN_CAP  the same for the pre-index full scan in the shell, without a warm-up (default 6; quick 3)
//   BENCH_WEB_SCAN_KINDS  the query kinds also timed through the pre-index scan (default name,phone,none;
//                       of name,email,phone,id,none: each costs 10–15 s at 1 M profiles)
//   BENCH_WEB_TIMEOUT   seconds one request or statement may take before its measure is given up (default 5;
//                       the scan statement: 3×); a timed-out server is started again
//   BENCH_WEB_GEN_CAP   seconds of `cairn import users` per run while the store is being made (default 600);
//                       the next run continues an unfinished store
//   BENCH_WEB_FETCHES   requests per file in row 19's timing, after 5 warm-up requests (default 100)
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { performance } from 'node:perf_hooks';

const AIM_MS = 100;
const BUDGET_BYTES = 300_000; // "300 KB" of gzip JavaScript for the shell (KB = 1,000 bytes)
const GEN_VERSION = 'people-gen 1'; // bump when the generated profiles change
const SEED = 20261123;
const CHUNK = 100_000; // profiles per `cairn import users`

import { benchDrag } from './web_drag.mjs';

export function webSettings(num, QUICK) {
  return {
    profiles: Math.round(num('BENCH_WEB_PROFILES', QUICK ? 100_000 : 1_000_000)),
    queries: Math.max(1, Math.round(num('BENCH_WEB_QUERIES', QUICK ? 20 : 50))),
    cap: num('BENCH_WEB_CAP', 15),
    scanCap: num('BENCH_WEB_SCAN_CAP', QUICK ? 3 : 6),
    scanKinds: (process.env.BENCH_WEB_SCAN_KINDS || 'name,phone,none').split(',').map((x) => x.trim()).filter(Boolean),
    timeout: num('BENCH_WEB_TIMEOUT', 5),
    genCap: num('BENCH_WEB_GEN_CAP', 600),
    fetches: Math.max(1, Math.round(num('BENCH_WEB_FETCHES', 100))),
  };
}

// ------------------------------------------------------------ the people --
// Family names with their share of the population (%, Statistics Korea,
// rounded) and the spelling people use in e-mail addresses.
const FAMILY = [
  ['김', 'kim', 21.6], ['이', 'lee', 14.7], ['박', 'park', 8.4], ['최', 'choi', 4.7], ['정', 'jung', 4.3],
  ['강', 'kang', 2.4], ['조', 'cho', 2.1], ['윤', 'yoon', 2.1], ['장', 'jang', 2.0], ['임', 'lim', 1.7],
  ['한', 'han', 1.5], ['오', 'oh', 1.5], ['서', 'seo', 1.5], ['신', 'shin', 1.4], ['권', 'kwon', 1.4],
  ['황', 'hwang', 1.4], ['안', 'ahn', 1.4], ['송', 'song', 1.3], ['전', 'jeon', 1.1], ['홍', 'hong', 1.1],
  ['유', 'yoo', 1.1], ['고', 'ko', 0.9], ['문', 'moon', 0.9], ['양', 'yang', 0.8], ['손', 'son', 0.8],
  ['배', 'bae', 0.8], ['백', 'baek', 0.7], ['허', 'heo', 0.6], ['남', 'nam', 0.6], ['심', 'shim', 0.5],
  ['노', 'noh', 0.5], ['하', 'ha', 0.5], ['곽', 'kwak', 0.4], ['성', 'sung', 0.4], ['차', 'cha', 0.4],
  ['주', 'joo', 0.4], ['우', 'woo', 0.4], ['구', 'koo', 0.4], ['민', 'min', 0.3], ['류', 'ryu', 0.3],
  ['나', 'na', 0.3], ['진', 'jin', 0.3], ['지', 'ji', 0.3], ['엄', 'eom', 0.3], ['채', 'chae', 0.3],
  ['원', 'won', 0.3], ['천', 'cheon', 0.3], ['방', 'bang', 0.2], ['공', 'kong', 0.2], ['현', 'hyun', 0.2],
];
// Given names people in Korea carry (popular from the 1960s to the 2020s),
// most common first; three in four profiles get one of these (Zipf-like
// weights), the rest two syllables drawn from SYL.
const GIVEN = ('민준 서준 서연 도윤 지우 서윤 하준 지민 민서 예준 하은 시우 수빈 지훈 현우 지현 유진 민지 ' +
  '하윤 윤서 지호 주원 지유 채원 수아 지아 다은 은서 예은 소윤 예린 하린 건우 우진 선우 연우 유준 정우 ' +
  '승우 승현 시윤 준혁 은우 지환 승민 민재 지윤 수민 예진 혜진 은지 지영 현주 은정 미영 영희 정희 경희 ' +
  '미숙 영숙 순자 정숙 영수 영호 영철 성호 성민 동현 상훈 민수 정호 성진 재현 태현 준영 민호 진우 현준 ' +
  '동훈 상민 성훈 혜원 수진 은영 미경 소영 지후 준우 서현').split(' ');
const ROM = {
  민: 'min', 준: 'jun', 서: 'seo', 연: 'yeon', 도: 'do', 윤: 'yun', 지: 'ji', 우: 'woo', 하: 'ha', 은: 'eun',
  예: 'ye', 시: 'si', 수: 'su', 빈: 'bin', 훈: 'hoon', 현: 'hyun', 유: 'yu', 진: 'jin', 호: 'ho', 주: 'ju',
  원: 'won', 채: 'chae', 아: 'a', 다: 'da', 소: 'so', 린: 'rin', 건: 'geon', 선: 'sun', 정: 'jung', 승: 'seung',
  혁: 'hyuk', 환: 'hwan', 재: 'jae', 영: 'young', 혜: 'hye', 미: 'mi', 희: 'hee', 경: 'kyung', 숙: 'sook',
  순: 'soon', 자: 'ja', 철: 'cheol', 성: 'sung', 동: 'dong', 상: 'sang', 태: 'tae', 후: 'hoo', 나: 'na',
  가: 'ga', 보: 'bo', 라: 'ra', 율: 'yul', 인: 'in', 세: 'se', 규: 'kyu', 한: 'han', 석: 'seok', 용: 'yong',
  기: 'ki', 명: 'myung', 이: 'i', 람: 'ram', 새: 'sae', 봄: 'bom', 온: 'on', 형: 'hyung', 종: 'jong', 옥: 'ok',
};
const SYL = Object.keys(ROM);
const CITIES = [['서울', 19], ['부산', 7], ['인천', 6], ['수원', 6], ['대구', 5], ['성남', 5], ['고양', 5], ['용인', 5],
  ['부천', 4], ['대전', 3], ['광주', 3], ['울산', 2], ['창원', 2], ['청주', 2], ['전주', 1.5], ['천안', 1.5], ['제주', 1.5],
  ['포항', 1], ['김해', 1], ['화성', 2]];
const PLANS = [['free', 70], ['basic', 20], ['pro', 9], ['enterprise', 1]];
const DOMAINS = [['naver.com', 42], ['gmail.com', 28], ['daum.net', 9], ['hanmail.net', 7], ['kakao.com', 6], ['nate.com', 4],
  ['outlook.com', 4]];
// syllables in no generated name, for the queries that must match nothing
const JUNK = ['뷁', '햏', '똠', '쀍', '꿿', '퀣', '뛟', '쌹', '뾁', '쓅'];
const JUNK_ASCII = 'qxzv'; // in no generated e-mail, id or trait

function mulberry32(a) {
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rngFor = (i, salt = 0) => mulberry32((Math.imul(i + 1, 0x9e3779b1) ^ SEED ^ Math.imul(salt, 0x85ebca6b)) >>> 0);
function picker(pairs) {
  const total = pairs.reduce((a, p) => a + p[p.length - 1], 0);
  const cum = [];
  let acc = 0;
  for (const p of pairs) cum.push((acc += p[p.length - 1] / total));
  return (r) => {
    const x = r();
    let lo = 0, hi = cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cum[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return pairs[lo];
  };
}
const pickFamily = picker(FAMILY);
const pickGiven = picker(GIVEN.map((g, k) => [g, 1 / (k + 4) ** 0.9]));
const pickCity = picker(CITIES), pickPlan = picker(PLANS), pickDomain = picker(DOMAINS);
for (const g of GIVEN) for (const s of g) if (!ROM[s]) throw new Error(`web.mjs: no romanization for ${s} (${g})`);

// Profile i (0-based), the same on every run: a pure function of i.
function person(i) {
  const r = rngFor(i);
  const [fam, famRom] = pickFamily(r);
  const given = r() < 0.75 ? pickGiven(r)[0] : SYL[Math.floor(r() * SYL.length)] + SYL[Math.floor(r() * SYL.length)];
  const gRom = [...given].map((s) => ROM[s]).join('');
  const n = i + 1;
  const style = Math.floor(r() * 4);
  const local = style === 0 ? `${gRom}${famRom}${n}` : style === 1 ? `${famRom}.${gRom}${n}` :
    style === 2 ? `${gRom}.${famRom}${n}` : `${famRom}${gRom}${n}`;
  const email = `${local}@${pickDomain(r)[0]}`;
  // 8 digits, distinct for every i < 10^8: 48271 is coprime to 10^8
  const d = String((i * 48271 + 12345678) % 100_000_000).padStart(8, '0');
  const year = 1955 + Math.floor(r() * 50);
  const signup = new Date(Date.UTC(2019, 0, 1) + Math.floor(r() * 6.5 * 365) * 86_400_000).toISOString().slice(0, 10);
  return {
    userId: `m${String(n).padStart(8, '0')}`,
    name: fam + given, family: fam, given, email,
    phone: `+82 10-${d.slice(0, 4)}-${d.slice(4)}`, phoneLocal: `010-${d.slice(0, 4)}-${d.slice(4)}`,
    city: pickCity(r)[0], plan: pickPlan(r)[0], birth_year: year, signup_date: signup, marketing_opt_in: r() < 0.6,
  };
}

function identifyLine(i) {
  const p = person(i);
  return JSON.stringify({ type: 'identify', userId: p.userId, traits: { name: p.name, email: p.email, phone: p.phone, city: p.city,
    plan: p.plan, birth_year: p.birth_year, signup_date: p.signup_date, marketing_opt_in: p.marketing_opt_in } });
}

// -------------------------------------------------------------- the store --
const scaleName = (n) => (n % 1_000_000 === 0 ? `${n / 1_000_000}m` : n % 1000 === 0 ? `${n / 1000}k` : String(n));
const sql1 = (h, db, q, ro = true) => h.runAsync('sqlite3', [...(ro ? ['-readonly'] : []), '-batch', db, q]);
const TRIGGERS = ['profile_search_ins', 'profile_search_upd', 'profile_search_del', 'profile_search_id_ins', 'profile_search_id_upd',
  'profile_search_id_del'];

async function genStore(h, S) {
  const { log, elapsed, fmtInt } = h;
  const name = `store-people-${scaleName(S.profiles)}`;
  const dir = path.join(h.benchBuild, name), metaFile = `${dir}.json`, db = path.join(dir, 'state.db');
  let meta = null, why = 'missing';
  try {
    meta = JSON.parse(fs.readFileSync(metaFile, 'utf8'));
  } catch {}
  let cont = false;
  if (meta && fs.existsSync(db)) {
    if (meta.gen?.version !== GEN_VERSION) why = `the generator changed (was "${meta.gen?.version}")`;
    else if (meta.gen.profiles !== S.profiles) why = `made for ${fmtInt(meta.gen.profiles)} profiles`;
    else if (meta.complete) {
      const r = await sql1(h, db, 'PRAGMA user_version; SELECT count(*) FROM profiles;');
      const [uv, n] = r.out.split('\n').map(Number);
      if (r.ok && n === S.profiles) return { dir, name, meta, reused: true, userVersion: uv };
      why = r.ok ? `it holds ${fmtInt(n)} profiles` : `sqlite3 cannot read it: ${r.err.split('\n')[0]}`;
    } else cont = true;
  }
  const t0 = performance.now();
  if (!cont) {
    log(`[${elapsed()}s] row 18: generating ${name} (${fmtInt(S.profiles)} profiles through \`cairn import users\`; ${why})`);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(metaFile, { force: true });
    const creds = await h.initStore(dir);
    // migration 21 is applied by `cairn init`; its triggers go while importing
    const r = await sql1(h, db, TRIGGERS.map((t) => `DROP TRIGGER ${t};`).join(' '), false);
    if (!r.ok) throw new Error(`dropping migration 21's triggers: ${r.err}`);
    meta = { creds, complete: false, imported: 0, gen: { version: GEN_VERSION, profiles: S.profiles, seed: SEED }, import_seconds: 0,
      rebuilt_because: why };
    fs.writeFileSync(metaFile, JSON.stringify(meta));
  } else {
    log(`[${elapsed()}s] row 18: continuing ${name} at ${fmtInt(meta.imported)} of ${fmtInt(S.profiles)} profiles`);
  }
  let added = 0;
  while (meta.imported < S.profiles && (performance.now() - t0) / 1000 < S.genCap) {
    const from = meta.imported, n = Math.min(CHUNK, S.profiles - from);
    const lines = new Array(n);
    for (let k = 0; k < n; k++) lines[k] = identifyLine(from + k);
    const t1 = performance.now();
    const r = await h.runAsync(h.CAIRN, ['import', 'users', '-', '--format', 'ndjson', '--data', dir, '--quiet'],
      { input: lines.join('\n') + '\n' });
    if (!r.ok) throw new Error(`cairn import users (${fmtInt(from)}…): ${(r.err || r.out).split('\n').filter(Boolean).slice(-1)[0]}`);
    meta.imported = from + n;
    meta.import_seconds += (performance.now() - t1) / 1000;
    added += n;
    fs.writeFileSync(metaFile, JSON.stringify(meta));
    log(`[${elapsed()}s]   imported ${fmtInt(meta.imported)} of ${fmtInt(S.profiles)} (${fmtInt(meta.imported / meta.import_seconds)} profiles/s)`);
  }
  if (meta.imported < S.profiles) return { dir, name, meta, reused: false, incomplete: true, added };
  // back to a store of before migration 21: no search table, user_version 20
  const t2 = performance.now();
  const r = await sql1(h, db, 'DROP TABLE profile_search; PRAGMA user_version = 20; VACUUM;', false);
  if (!r.ok) throw new Error(`undoing migration 21: ${r.err}`);
  const c = await sql1(h, db, 'SELECT count(*) FROM profiles;');
  if (Number(c.out) !== S.profiles) throw new Error(`the store holds ${c.out} profiles, not ${S.profiles}`);
  meta.undo_seconds = (performance.now() - t2) / 1000;
  meta.complete = true;
  meta.made_at = Date.now();
  fs.writeFileSync(metaFile, JSON.stringify(meta));
  return { dir, name, meta, reused: false, added, userVersion: 20 };
}

// ------------------------------------------------------------- the server --
// `cairn serve`, timed from exec to "listening on"; unlike run.mjs's
// startServer it waits as long as asked (the first open of an old store runs
// migration 21's backfill first).
function startTimed(h, args, timeoutMs) {
  const t0 = performance.now();
  const proc = h.spawnTracked(h.CAIRN, args);
  proc.stdin.end();
  let err = '', buf = '';
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d) => (err = (err + d).slice(-8000)));
  proc.stdout.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => {
      done = true;
      h.stopProc(proc, 2000).finally(() => reject(new Error(`cairn serve did not listen within ${timeoutMs / 1000} s`)));
    }, timeoutMs);
    proc.stdout.on('data', (d) => {
      if (done) return;
      buf += d;
      const m = buf.match(/listening on http:\/\/([\d.]+):(\d+)/);
      if (m) {
        done = true;
        clearTimeout(timer);
        resolve({ proc, pid: proc.pid, url: `http://127.0.0.1:${m[2]}`, ms: performance.now() - t0, stderr: () => err });
      }
    });
    proc.once('exit', (code) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      reject(new Error(`cairn serve exited (${code}) before listening: ${err.trim().split('\n').slice(-2).join(' ')}`));
    });
  });
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

// One GET on a keep-alive agent: time to the response's headers (first
// byte) and to the body's end.
function get(agent, url, headers, timeoutMs) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const r = http.request(url, { method: 'GET', headers, agent, timeout: timeoutMs }, (res) => {
      const first = performance.now() - t0;
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks), first,
        ms: performance.now() - t0 }));
    });
    r.on('timeout', () => r.destroy(new Error(`timeout: no answer within ${timeoutMs / 1000} s`)));
    r.on('error', reject);
    r.end();
  });
}

// ---------------------------------------------------------- the sqlite3 shell --
// A long-lived `sqlite3 -readonly` fed statements on stdin (as in
// bench/analytics.mjs), with cairn's cache_size and temp_store: each is followed by a marker SELECT, and its time is
// the wall time from writing it to reading the marker (`.timer on`'s own
// figure is kept as `real`; it has whole milliseconds only). A statement past
// its time limit kills the shell; the next one starts a new shell with the
// parameters set so far.
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
    proc.stdin.on('error', () => {});
    // cairn's own page cache and temp store (src/store/store.c, open_db)
    proc.stdin.write('.timer on\nPRAGMA cache_size = -16384;\nPRAGMA temp_store = MEMORY;\n');
    for (const [k, v] of bound) proc.stdin.write(`.parameter set ?${k} ${literal(v)}\n`);
    return st;
  }
  async function run(sql, capMs = timeoutMs) {
    if (!sh || sh.dead) sh = start();
    const st = sh;
    const mark = `__web_mark_${++n}__`;
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
    const lines = st.out.slice(0, st.out.indexOf(`${mark}\n`)).split('\n');
    const real = lines.filter((l) => l.startsWith('Run Time: real')).map((l) => Number(l.split(/\s+/)[3]) * 1000);
    return { ms, real: real.length ? real[0] : null, rows: lines.filter((l) => l && !l.startsWith('Run Time:')) };
  }
  return {
    run,
    async params(p) {
      const set = [];
      for (const [k, v] of Object.entries(p)) {
        bound.set(k, v);
        set.push(`.parameter set ?${k} ${literal(v)}`);
      }
      await run(`${set.join('\n')}\nSELECT 1`);
    },
    close() {
      if (sh && !sh.dead) sh.proc.stdin.end();
    },
  };
}

// -------------------------------------------------------------- the SQL --
// store_profiles_search's two statements, copied from src/store/store_read.c
// (PROFILE_COLS, the trigram branch and the scan branch): keep them in step,
// or the peers measure something else. The scan is also the statement every
// query ran before migration 21 (commit def6630 only added the first branch).
const PROFILE_COLS = `p.user_id, p.traits, p.lifecycle,
 coalesce((SELECT min(t.ts) FROM timeline t WHERE t.workspace_id = p.workspace_id AND t.profile_id = p.profile_id), p.first_seen),
 coalesce((SELECT max(t.ts) FROM timeline t WHERE t.workspace_id = p.workspace_id AND t.profile_id = p.profile_id), p.last_seen),
 p.created_at, p.updated_at, p.profile_id`;
const SQL_FTS = `SELECT ${PROFILE_COLS} FROM profile_search f CROSS JOIN profiles p ON p.profile_id = f.rowid
 WHERE f.text LIKE ?2 AND f.rowid > ?3 AND p.workspace_id = ?1 ORDER BY f.rowid LIMIT ?4`;
const SQL_SCAN = `SELECT ${PROFILE_COLS} FROM profiles p WHERE +p.workspace_id = ?1 AND p.profile_id > ?3 AND (
 ?2 = '%%' OR p.user_id LIKE ?2 ESCAPE '\\' OR p.email LIKE ?2 ESCAPE '\\'
 OR p.name LIKE ?2 ESCAPE '\\'
 OR (?5 IS NOT NULL AND (p.phone LIKE ?5 OR p.phone LIKE ?6))
 OR EXISTS (SELECT 1 FROM json_tree(p.traits) j WHERE j.type NOT IN ('object', 'array')
   AND j.atom LIKE ?2 ESCAPE '\\')
 OR p.profile_id IN (SELECT i.profile_id FROM identities i WHERE i.workspace_id = ?1
 AND i.value LIKE ?2 ESCAPE '\\'))
 ORDER BY p.profile_id LIMIT ?4`;
const SQL_FTS_SHORT = SQL_FTS.replace('WHERE f.text LIKE ?2', 'WHERE +f.text LIKE ?2');
if (SQL_FTS_SHORT === SQL_FTS) throw new Error('web.mjs: the short-query statement is the index statement');
// diagnostics only: the statements as they were before the join order was
// named (a plain JOIN lets SQLite loop over profiles and probe the index per
// profile; a plain workspace_id lets it read profiles through an index)
const SQL_FTS_CROSS = SQL_FTS.replace('f CROSS JOIN profiles p', 'f JOIN profiles p');
const SQL_SCAN_ROWID = SQL_SCAN.replace('WHERE +p.workspace_id = ?1', 'WHERE p.workspace_id = ?1');
if (SQL_FTS_CROSS === SQL_FTS || SQL_SCAN_ROWID === SQL_SCAN) throw new Error('web.mjs: a diagnostic variant is the statement itself');

// like_pattern() and store_phone_query() of store_read.c, and the choice
// between the two statements.
const likePattern = (q) => `%${q.replace(/[%_\\]/g, (c) => `\\${c}`)}%`;
function phoneQuery(q) {
  if (![...q].every((c) => /[0-9]/.test(c) || '+-() .'.includes(c))) return null;
  const d = q.replace(/[^0-9]/g, '');
  if (d.length < 4) return null;
  const alt = d[0] === '0' ? `%82${d.slice(1)}%` : d.startsWith('82') ? `%0${d.slice(2)}%` : `%${d}%`;
  return { digits: `%${d}%`, alt };
}
function plan(q, limit) {
  const ph = phoneQuery(q);
  const needle = ph ? ph.digits : q;
  const chars = [...needle].filter((c) => c !== '%').length;
  const base = { 1: null, 3: 0, 4: limit + 1 };
  if (chars >= 3 && (ph || !/[%_\\]/.test(needle)))
    return { path: 'index', sql: SQL_FTS, params: { ...base, 2: ph ? ph.digits : likePattern(q) } };
  // under three characters: the index's plain text, row by row ("+f.text" hides the LIKE from FTS5)
  return { path: 'scan', sql: SQL_FTS_SHORT, params: { ...base, 2: likePattern(q) } };
}
// the pre-index statement for any query
const scanPlan = (q, limit) => {
  const ph = phoneQuery(q);
  return { path: 'scan', sql: SQL_SCAN, params: { 1: null, 3: 0, 4: limit + 1, 2: likePattern(q), 5: ph ? ph.digits : null, 6: ph ? ph.alt : null } };
};

// ------------------------------------------------------------ the queries --
const PAGE = 50; // the API's default limit, which the People screen uses
const KINDS = [
  { key: 'name', what: 'full Korean name, 3 characters (index)', value: (p) => p.name },
  { key: 'email', what: 'e-mail fragment, 5–8 characters (index)', value: (p, r) => p.email.slice(0, 5 + Math.floor(r() * 4)) },
  { key: 'phone', what: 'phone number as 010-xxxx-xxxx (index, as digits)', value: (p) => p.phoneLocal },
  { key: 'id', what: 'user id (index)', value: (p) => p.userId },
  { key: 'given', what: '2-character given name (under 3 characters: the index text, row by row)', value: (p) => p.given },
  { key: 'none', what: 'matching nothing, 3–5 characters (index)', value: (p, r, k) => (k % 2 ?
    Array.from({ length: 3 }, () => JUNK[Math.floor(r() * JUNK.length)]).join('') :
    Array.from({ length: 3 + Math.floor(r() * 3) }, () => JUNK_ASCII[Math.floor(r() * JUNK_ASCII.length)]).join('')) },
];

// Values for a kind: from distinct random profiles, the first one the warm-up.
function kindValues(kind, n, profiles) {
  const r = mulberry32(SEED ^ [...kind.key].reduce((a, c) => a * 31 + c.charCodeAt(0), 7));
  const seen = new Set(), out = [];
  for (let k = 0; out.length < n + 1 && k < 50 * (n + 1); k++) {
    const v = kind.value(person(Math.floor(r() * profiles)), r, k);
    if (!seen.has(v)) {
      seen.add(v);
      out.push(v);
    }
  }
  return out;
}

function pct(a, p) {
  const s = [...a].sort((x, y) => x - y);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] : null;
}

// values[0] is the warm-up (kept as `first`, unless warm is false); then one
// run per further value, none started that would end after capS at the last
// run's pace (at least one); a run longer than capS is the only one.
async function series(values, capS, fn, warm = true) {
  const first = warm ? await fn(values[0]) : null;
  const runs = [];
  const t0 = performance.now();
  for (const v of values.slice(warm ? 1 : 0)) {
    const spent = (performance.now() - t0) / 1000;
    if (runs.length && spent + runs[runs.length - 1].ms / 1000 > capS) break;
    const r = await fn(v);
    runs.push({ v, ...r });
  }
  const ms = runs.map((r) => r.ms);
  return { first, runs, ms, p50: pct(ms, 50), p99: pct(ms, 99), n: runs.length, of: values.length - (warm ? 1 : 0) };
}

// ------------------------------------------------------------ row 19 parts --
const absUrl = (spec, base) => new URL(spec, `http://x${base}`).pathname;
function staticImports(code) {
  const out = [];
  for (const m of code.matchAll(/\bimport\s*(?:[\w$*{}\s,]+?\s*from\s*)?["'`]([^"'`]+\.js)["'`]/g)) out.push(m[1]);
  return out;
}
const dynamicImports = (code) => [...code.matchAll(/\bimport\(\s*["'`]([^"'`]+\.js)["'`]\s*\)/g)].map((m) => m[1]);

async function webApp(h, S, out) {
  const dir = path.join(h.scratch, 'store-web');
  await h.initStore(dir);
  const srv = await startTimed(h, ['serve', '--data', dir, '--listen', '127.0.0.1:0'], 20_000);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const GZ = { 'Accept-Encoding': 'gzip, deflate, br' };
  const files = new Map(); // path → { raw, gz (bytes as served with gzip), body }
  const fetchFile = async (p) => {
    if (files.has(p)) return files.get(p);
    const z = await get(agent, `${srv.url}${p}`, GZ, S.timeout * 1000);
    if (z.status !== 200) throw new Error(`GET ${p}: HTTP ${z.status}`);
    const body = z.headers['content-encoding'] === 'gzip' ? zlib.gunzipSync(z.body) : z.body;
    const f = { path: p, wire: z.body.length, gzipped: z.headers['content-encoding'] === 'gzip', raw: body.length,
      gz9: zlib.gzipSync(body, { level: 9 }).length, text: body.toString('utf8'), type: z.headers['content-type'] };
    files.set(p, f);
    return f;
  };
  try {
    const index = await fetchFile('/');
    const html = index.text;
    const entry = [...html.matchAll(/<script[^>]*type="module"[^>]*src="([^"]+)"/g)].map((m) => absUrl(m[1], '/'));
    const preload = [...html.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="([^"]+)"/g)].map((m) => absUrl(m[1], '/'));
    const css = [...html.matchAll(/<link[^>]*rel="stylesheet"[^>]*href="([^"]+)"/g)].map((m) => absUrl(m[1], '/'));
    if (!entry.length) throw new Error('index.html has no <script type="module" src>: is the web app built into this binary?');
    // the shell: the entry chunks, the modulepreloads and their static imports
    const shell = new Set(), lazy = new Set(), queue = [...entry, ...preload];
    while (queue.length) {
      const p = queue.shift();
      if (shell.has(p)) continue;
      shell.add(p);
      const f = await fetchFile(p);
      for (const s of staticImports(f.text)) queue.push(absUrl(s, p));
      for (const s of dynamicImports(f.text)) lazy.add(absUrl(s, p));
    }
    // every lazy chunk (lazy ones of lazy ones too) and what it adds beyond the shell
    const lazyInfo = [], todo = [...lazy], done = new Set();
    while (todo.length) {
      const p = todo.shift();
      if (shell.has(p) || done.has(p)) continue;
      done.add(p);
      const own = new Set(), q = [p];
      while (q.length) {
        const x = q.shift();
        if (own.has(x) || shell.has(x)) continue;
        own.add(x);
        const f = await fetchFile(x);
        for (const s of staticImports(f.text)) q.push(absUrl(s, x));
        for (const s of dynamicImports(f.text)) todo.push(absUrl(s, x));
      }
      const sum = [...own].reduce((a, x) => a + files.get(x).wire, 0);
      lazyInfo.push({ path: p, wire: files.get(p).wire, raw: files.get(p).raw, screenWire: sum, screenFiles: own.size });
    }
    for (const p of css) await fetchFile(p);
    const sum = (ps, k) => ps.reduce((a, p) => a + files.get(p)[k], 0);
    out.shell = { files: [...shell].map((p) => ({ path: p, wire: files.get(p).wire, raw: files.get(p).raw, gz9: files.get(p).gz9 })),
      wire: sum([...shell], 'wire'), raw: sum([...shell], 'raw'), gz9: sum([...shell], 'gz9'), entry, preload };
    out.css = { files: css, wire: sum(css, 'wire'), raw: sum(css, 'raw') };
    out.index = { wire: index.wire, raw: index.raw };
    // largest chunk only reached through a dynamic import (all the lazy
    // chunks' files, the screens' own static imports included)
    const lazyFiles = [...files.values()].filter((f) => f.path.endsWith('.js') && !shell.has(f.path));
    lazyFiles.sort((a, b) => b.wire - a.wire);
    out.lazy = lazyInfo.sort((a, b) => b.screenWire - a.screenWire);
    out.largestLazy = lazyFiles[0] ? { path: lazyFiles[0].path, wire: lazyFiles[0].wire, raw: lazyFiles[0].raw } : null;
    out.journey = lazyInfo.find((l) => /journeybuilder/i.test(l.path)) || lazyInfo.find((l) => /journey/i.test(l.path)) || null;
    // does the binary carry the web/dist that is on disk now?
    const dist = path.join(h.root, 'web/dist/index.html');
    out.distSame = fs.existsSync(dist) ? fs.readFileSync(dist, 'utf8') === html : null;

    // timing: first byte and whole body, one keep-alive connection, as a browser asks
    const timeGet = async (url, headers) => {
      const a = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        for (let k = 0; k < 5; k++) await get(a, url, headers, S.timeout * 1000);
        const first = [], whole = [];
        let bytes = 0, status = 0;
        for (let k = 0; k < S.fetches; k++) {
          const r = await get(a, url, headers, S.timeout * 1000);
          first.push(r.first);
          whole.push(r.ms);
          bytes = r.body.length;
          status = r.status;
        }
        return { first: pct(first, 50), firstP99: pct(first, 99), whole: pct(whole, 50), wholeP99: pct(whole, 99), bytes, status, n: S.fetches };
      } finally {
        a.destroy();
      }
    };
    out.tIndex = await timeGet(`${srv.url}/`, GZ);
    out.tEntry = await timeGet(`${srv.url}${entry[0]}`, GZ);
    out.entryPath = entry[0];
  } finally {
    agent.destroy();
    await h.stopProc(srv.proc);
  }
  // the bare HTTP ceiling: bench/mhd_ceiling.c, same requests (its 16-byte answer)
  const mhdBin = h.compile('mhd_ceiling', ['libmicrohttpd']);
  const mhd = await h.startServer(mhdBin, ['0', '2'], 'mhd-web');
  try {
    const a = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const first = [], whole = [];
    let bytes = 0;
    try {
      for (let k = 0; k < 5 + S.fetches; k++) {
        const r = await get(a, `${mhd.url}/`, GZ, S.timeout * 1000);
        if (k >= 5) {
          first.push(r.first);
          whole.push(r.ms);
        }
        bytes = r.body.length;
      }
    } finally {
      a.destroy();
    }
    out.tMhd = { first: pct(first, 50), firstP99: pct(first, 99), whole: pct(whole, 50), wholeP99: pct(whole, 99), bytes, n: S.fetches };
  } finally {
    await h.stopProc(mhd.proc);
  }
}

// ------------------------------------------------------------------ main --
export async function benchWeb(h, S) {
  const { log, elapsed, fmtInt } = h;
  const out = { settings: S, errors: {}, problems: [] };
  const t_all = performance.now();
  const attempt = async (what, f) => {
    try {
      return await f();
    } catch (e) {
      out.errors[what] = e.message;
      log(`rows 18–19: ${what} failed: ${e.message}`);
      return null;
    }
  };
  const scanTimeout = 3 * S.timeout; // the statements known to read every profile

  // ---- row 18
  const r18 = (out.search = {});
  await attempt('row 18', async () => {
    const st = await genStore(h, S);
    const { creds: _creds, ...meta } = st.meta; // no keys in results.json
    Object.assign(r18, { name: st.name, reused: st.reused, meta, added: st.added || 0, userVersion: st.userVersion });
    if (st.incomplete) {
      r18.incomplete = true;
      throw new Error(`the store is not finished: ${fmtInt(st.meta.imported)} of ${fmtInt(S.profiles)} profiles after ` +
        `BENCH_WEB_GEN_CAP=${S.genCap} s; the next run continues it`);
    }
    // a copy, so the kept store stays from before migration 21
    const copy = path.join(h.scratch, st.name);
    fs.rmSync(copy, { recursive: true, force: true });
    const tc = performance.now();
    const cp = await h.runAsync('cp', ['-r', st.dir, copy]);
    if (!cp.ok) throw new Error(`cp: ${cp.err}`);
    r18.copyS = (performance.now() - tc) / 1000;
    const db = path.join(copy, 'state.db');
    r18.oldBytes = fs.statSync(db).size;
    const listen = ['serve', '--data', copy, '--listen', '127.0.0.1:0'];
    try {
      log(`[${elapsed()}s] row 18: cairn serve on a copy of ${st.name} (user_version ${st.userVersion}: the first open runs migration 21)`);
      let srv = await startTimed(h, listen, Math.max(300, 10 * S.timeout) * 1000);
      r18.firstStartMs = srv.ms;
      await h.stopProc(srv.proc);
      srv = await startTimed(h, listen, 60_000);
      r18.secondStartMs = srv.ms;
      r18.newBytes = fs.statSync(db).size + (fs.existsSync(`${db}-wal`) ? fs.statSync(`${db}-wal`).size : 0);
      r18.restarts = 0;
      let agent = null;
      try {
        r18.settle = await settle(h, srv.pid, 60);
        r18.rssIdle = h.memKb(srv.pid).rss;
        const auth = { Authorization: `Bearer ${st.meta.creds.secret_key}` };
        const ask = (k) => async (q) => {
          const r = await get(agent, `${srv.url}/api/v1/users?q=${encodeURIComponent(q)}`, auth,
            (k.plan === 'scan' ? scanTimeout : S.timeout) * 1000);
          if (r.status !== 200) throw new Error(`GET /api/v1/users?q=${q}: HTTP ${r.status} ${r.body.toString().slice(0, 200)}`);
          const j = JSON.parse(r.body.toString('utf8'));
          return { ms: r.ms, count: j.data.length, more: j.next_cursor != null, bytes: r.body.length };
        };
        r18.kinds = {};
        let tk0 = h.procTicks(srv.pid), cpu = 0;
        const m0 = performance.now();
        for (const kind of KINDS) {
          const values = kindValues(kind, S.queries, S.profiles);
          const k = (r18.kinds[kind.key] = { values, plan: plan(values[1] ?? values[0], PAGE).path });
          log(`[${elapsed()}s] row 18: GET /api/v1/users?q=… ${kind.key} (${k.plan}: ${k.plan === 'index' ?
            `${values.length - 1} values after a warm-up` : `up to ${values.length - 1} values, no warm-up`}, cap ${S.cap} s)`);
          agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
          // a scan reads the same pages whatever the value: no warm-up, so a slow one costs one run, not two
          const vals = k.plan === 'index' ? values : values.slice(1);
          k.cairn = await attempt(`cairn ${kind.key}`, () => series(vals, S.cap, ask(k), k.plan === 'index'));
          agent.destroy();
          if (!k.cairn && /^timeout/.test(out.errors[`cairn ${kind.key}`] || '')) {
            // the server is still inside that statement: start it again
            cpu += (h.procTicks(srv.pid) ?? tk0) - tk0;
            await h.stopProc(srv.proc, 1000);
            srv = await startTimed(h, listen, 60_000);
            tk0 = h.procTicks(srv.pid);
            r18.restarts++;
          }
        }
        r18.serverCpuS = (cpu + (h.procTicks(srv.pid) - tk0)) / h.CLK_TCK;
        r18.measureS = (performance.now() - m0) / 1000;
        const mk = h.memKb(srv.pid);
        r18.rss = mk.rss;
        r18.hwm = mk.hwm;
      } finally {
        if (agent) agent.destroy();
        await h.stopProc(srv.proc, 2000);
      }
      // the peers, with cairn stopped: one sqlite3 shell on the same file
      log(`[${elapsed()}s] row 18: the same statements, then the pre-index scan, in the sqlite3 shell`);
      const sh = sqliteShell(h, db, S.timeout * 1000);
      try {
        const ws = Number((await sh.run("SELECT workspace_id FROM workspaces WHERE name = 'default'")).rows[0]);
        const shellRun = (mk, capMs) => async (q) => {
          const p = mk(q, PAGE);
          await sh.params({ ...p.params, 1: ws });
          const r = await sh.run(p.sql, p.path === 'scan' ? scanTimeout * 1000 : capMs);
          return { ms: r.ms, real: r.real, count: r.rows.length };
        };
        let shellTimedOut = null; // the first index kind on which the shell timed out too
        for (const kind of KINDS) {
          const k = r18.kinds[kind.key];
          const vals = k.plan === 'index' ? k.values : k.values.slice(1);
          if (k.plan === 'index' && !k.cairn && shellTimedOut) {
            // the same statement already timed out in the shell on another kind: not again
            k.sqlSkipped = shellTimedOut;
          } else {
            k.sql = await attempt(`sqlite3 ${kind.key}`, () => series(vals, S.cap, shellRun(plan), k.plan === 'index'));
            if (!k.sql && k.plan === 'index' && /^timeout/.test(out.errors[`sqlite3 ${kind.key}`] || '')) shellTimedOut = kind.key;
          }
          if (k.plan === 'index' && S.scanKinds.includes(kind.key))
            k.scan = await attempt(`sqlite3 scan ${kind.key}`, () => series(k.values.slice(1), S.scanCap, shellRun(scanPlan), false));
        }
        // diagnostics, for the kinds that miss the aim: the index statement with
        // the search table as the outer loop (CROSS JOIN), the scan with
        // +p.workspace_id (so SQLite walks profiles in rowid order and can stop
        // at the page's end instead of reading them all through profiles_phone)
        const missed = (k) => !k.cairn || k.cairn.p99 > AIM_MS;
        const variants = { index: ['a plain JOIN (as before)', SQL_FTS_CROSS], scan: ['a plain workspace_id (as before)', SQL_SCAN_ROWID] };
        for (const kind of KINDS.filter((kd) => missed(r18.kinds[kd.key]))) {
          const k = r18.kinds[kind.key], [vname, vsql] = variants[k.plan];
          log(`[${elapsed()}s] row 18: ${kind.key}: the statement with ${vname}, in the sqlite3 shell (diagnostic)`);
          const mk = (q, limit) => ({ ...plan(q, limit), sql: vsql });
          k.variant = { name: vname, s: await attempt(`sqlite3 ${vname} ${kind.key}`, () => series(k.values, S.cap, shellRun(mk))) };
        }
        r18.planFts = (await sh.run(`EXPLAIN QUERY PLAN ${SQL_FTS}`)).rows;
        r18.planScan = (await sh.run(`EXPLAIN QUERY PLAN ${SQL_SCAN}`)).rows;
        if (KINDS.some((kd) => r18.kinds[kd.key].variant)) {
          r18.planCross = (await sh.run(`EXPLAIN QUERY PLAN ${SQL_FTS_CROSS}`)).rows;
          r18.planRowid = (await sh.run(`EXPLAIN QUERY PLAN ${SQL_SCAN_ROWID}`)).rows;
        }
        // sizes: the index beside the table it indexes
        const ds = await sh.run("SELECT name, sum(pgsize) FROM dbstat WHERE name LIKE 'profile%' OR name LIKE 'identities%' " +
          "OR name LIKE 'sqlite_autoindex_identities%' GROUP BY name ORDER BY 2 DESC", 120_000);
        r18.dbstat = ds.rows.map((l) => l.split('|')).map(([n, b]) => [n, Number(b)]);
      } finally {
        sh.close();
      }
    } finally {
      if (process.env.BENCH_KEEP !== '1') fs.rmSync(copy, { recursive: true, force: true });
    }
    // answers: cairn's page against the shell's rows (limit + 1), the scan's against the index's
    for (const kind of KINDS) {
      const k = r18.kinds[kind.key];
      const ref = k.cairn || k.variant?.s; // the variant answers what cairn should have, when cairn timed out
      if (!ref) continue;
      const byV = (s) => new Map((s?.runs || []).map((r) => [r.v, r.count]));
      const sq = byV(k.sql), sc = byV(k.scan), cr = byV(k.variant?.s);
      let diff = 0, diffScan = 0, diffCross = 0, nonEmpty = 0;
      for (const r of ref.runs) {
        const c = k.cairn ? r.count + (r.more ? 1 : 0) : r.count;
        if (sq.has(r.v) && sq.get(r.v) !== c) diff++;
        if (sc.has(r.v) && sc.get(r.v) !== c) diffScan++;
        if (k.cairn && cr.has(r.v) && cr.get(r.v) !== c) diffCross++;
        if (r.count) nonEmpty++;
      }
      k.check = { diff, diffScan, diffCross, nonEmpty, n: ref.runs.length, of: k.cairn ? 'cairn' : `${k.variant.name} variant`,
        full: ref.runs.filter((r) => (k.cairn ? r.more : r.count > PAGE)).length,
        meanCount: ref.runs.reduce((a, r) => a + Math.min(PAGE, r.count), 0) / Math.max(1, ref.runs.length) };
      if (diff) out.problems.push(`${kind.key}: ${diff} pages differ between cairn and the same statement in the shell`);
      if (diffScan) out.problems.push(`${kind.key}: ${diffScan} first pages differ between the index and the scan`);
      if (diffCross) out.problems.push(`${kind.key}: ${diffCross} pages differ between cairn and the ${k.variant.name} variant`);
      if (/^none/.test(kind.key) && nonEmpty) out.problems.push(`${kind.key}: ${nonEmpty} queries that should match nothing found someone`);
      if (!/^none/.test(kind.key) && nonEmpty < ref.runs.length)
        out.problems.push(`${kind.key}: ${ref.runs.length - nonEmpty} queries for an existing profile found nobody`);
    }
  });

  // ---- row 19
  log(`[${elapsed()}s] row 19: the web app's files as served, and ${S.fetches} GETs of index.html and the entry chunk`);
  out.web = {};
  await attempt('row 19', () => webApp(h, S, out.web));

  // ---- row 20: dragging a node of a 200-node journey in Chromium
  log(`[${elapsed()}s] row 20: drag a node of a 200-node journey (and of a 5-node one) in Chromium`);
  out.drag = await attempt('row 20', () => benchDrag({ bin: h.CAIRN }));
  out.totalS = (performance.now() - t_all) / 1000;
  return out;
}

// ------------------------------------------------------------- rows, notes --
export function webRows(a, h) {
  const { fmtInt, fmtMiB, ratioText } = h;
  const S = a.settings, rows = [], notes = [];
  const ms = (x) => (x == null ? '—' : x < 10 ? `${x.toFixed(2)} ms` : x < 1000 ? `${x.toFixed(1)} ms` : `${fmtInt(x)} ms`);
  const kb = (b) => (b == null ? '—' : `${(b / 1000).toFixed(1)} KB`);
  const s18 = a.search;
  const timedOut = (what) => /^timeout/.test(a.errors[what] || '');
  const failed = (what) => (a.errors[what] ? (timedOut(what) ? `timed out (> ${a.errors[what].match(/within ([\d.]+) s/)?.[1] ?? '?'} s)` :
    'failed') : '—');
  const fig = (s, what) => (s ? `${ms(s.p50)} (p99 ${ms(s.p99)}, n ${s.n})` : failed(what));
  const ratio = (x, y) => (x && y ? ratioText(x.p50, y.p50, false) : '—');
  const planText = (lines) => (lines || []).map((l) => l.replace(/^[|`\-\s]+/, '').trim()).filter((l) => l && l !== 'QUERY PLAN').join('; ');
  const N = fmtInt(S.profiles);
  if (s18.kinds) {
    KINDS.forEach((kind, i) => {
      const k = s18.kinds[kind.key];
      const head = i === 0 ? `People search over ${N} users, GET /api/v1/users?q=, a different value each time, p50 (p99): ` : '  ';
      rows.push({ id: '18', what: `${head}${kind.what}`, cairn: fig(k.cairn, `cairn ${kind.key}`),
        peerName: 'sqlite3 shell, the same statement',
        peer: k.sqlSkipped ? `not run (timed out on ${k.sqlSkipped})` : fig(k.sql, `sqlite3 ${kind.key}`),
        ratio: ratio(k.cairn, k.sql), aim: `p99 ≤ ${AIM_MS} ms`,
        ok: k.cairn ? k.cairn.p99 <= AIM_MS : timedOut(`cairn ${kind.key}`) ? false : undefined });
    });
    KINDS.filter((kind) => s18.kinds[kind.key].scan || a.errors[`sqlite3 scan ${kind.key}`]).forEach((kind, i) => {
      const k = s18.kinds[kind.key];
      rows.push({ id: '18', what: `  ${i === 0 ? 'what the index buys: ' : ''}${kind.what.replace(/ \(index.*\)$/, '')}, beside the pre-index scan`,
        cairn: k.cairn ? ms(k.cairn.p50) : failed(`cairn ${kind.key}`),
        peerName: 'sqlite3 shell, the scan statement (LIKE + json_tree), no warm-up', peer: fig(k.scan, `sqlite3 scan ${kind.key}`),
        ratio: ratio(k.cairn, k.scan), aim: 'report' });
    });
  } else {
    rows.push({ id: '18', what: `People search over ${N} users (bench/web.mjs)`, cairn: s18.incomplete ? 'store not finished' : 'failed',
      peerName: '—', peer: '—', ratio: '—', aim: `p99 ≤ ${AIM_MS} ms` });
  }
  const w = a.web;
  if (w.shell) {
    const nStatic = w.shell.files.length - w.shell.entry.length;
    rows.push({ id: '19', what: `Web app first load: the shell's JavaScript, gzip as served (entry + ${nStatic} ` +
        `static import${nStatic === 1 ? '' : 's'} and modulepreloads; ${kb(w.shell.raw)} unzipped)`,
      cairn: kb(w.shell.wire), peerName: 'the issue\'s budget', peer: kb(BUDGET_BYTES), ratio: ratioText(w.shell.wire, BUDGET_BYTES, false),
      aim: `≤ ${kb(BUDGET_BYTES)}`, ok: w.shell.wire <= BUDGET_BYTES });
    rows.push({ id: '19', what: `  the shell's CSS, gzip as served (${w.css.files.length} file${w.css.files.length === 1 ? '' : 's'}; ` +
        `${kb(w.css.raw)} unzipped)`, cairn: kb(w.css.wire), peerName: '—', peer: '—', ratio: '—', aim: 'report' });
    const L = w.largestLazy, J = w.journey;
    rows.push({ id: '19', what: `  largest lazy chunk, gzip: ${L ? `${path.basename(L.path)} (${kb(L.raw)} unzipped)` : '—'}` +
        (J ? `; opening the journey builder (${path.basename(J.path)}) loads ${kb(J.screenWire)} of JavaScript in ${J.screenFiles} ` +
          `file${J.screenFiles === 1 ? '' : 's'}` : ''),
      cairn: L ? kb(L.wire) : '—', peerName: '—', peer: '—', ratio: '—', aim: 'report' });
    const t = (x) => (x ? `${ms(x.first)} / ${ms(x.whole)}` : '—');
    rows.push({ id: '19', what: `  GET / (index.html, ${fmtInt(w.tIndex?.bytes)} bytes gzip): first byte / whole body, p50 of ${S.fetches}`,
      cairn: t(w.tIndex), peerName: `bare libmicrohttpd, same GETs (${w.tMhd?.bytes ?? '—'}-byte answer)`, peer: t(w.tMhd),
      ratio: w.tIndex && w.tMhd ? ratioText(w.tIndex.first, w.tMhd.first, false) : '—', aim: 'report' });
    rows.push({ id: '19', what: `  GET the entry chunk (${fmtInt(w.tEntry?.bytes)} bytes gzip): first byte / whole body, p50 of ${S.fetches}`,
      cairn: t(w.tEntry), peerName: 'bare libmicrohttpd (as above)', peer: t(w.tMhd),
      ratio: w.tEntry && w.tMhd ? ratioText(w.tEntry.first, w.tMhd.first, false) : '—', aim: 'report' });
  } else {
    rows.push({ id: '19', what: 'Web app first load (bench/web.mjs)', cairn: 'failed', peerName: '—', peer: '—', ratio: '—', aim: `≤ ${kb(BUDGET_BYTES)}` });
  }

  // ---- row 20
  const dr = a.drag;
  if (dr && dr[200] && dr[5]) {
    const d = (m) => `${m.traceFps.toFixed(0)} fps (rAF ${m.rafFps.toFixed(0)} fps, p95 frame ${m.p95.toFixed(0)} ms)`;
    rows.push({ id: '20', what: 'Journey builder: drag a node of a 200-node journey for 2 s (all nodes on screen), frames in Chromium\'s trace',
      cairn: d(dr[200]), peerName: 'the same drag, 5-node journey', peer: d(dr[5]),
      ratio: ratioText(dr[200].traceFps, dr[5].traceFps, true), aim: '60 fps' });
    notes.push(`row 20: headless Chromium (software rendering, no GPU) on this machine; the drag is one synthetic mouse move per animation ` +
      `frame for 2 s inside the page (moves sent one by one over the DevTools protocol arrive slower than 60 Hz); frames = DrawFrame ` +
      `events of the devtools.timeline trace; rAF = the page's requestAnimationFrame intervals; frames over 20 ms: ` +
      `${dr[200].over20}/${dr[200].frames} (200 nodes), ${dr[5].over20}/${dr[5].frames} (5 nodes); tasks over 50 ms: ${dr[200].longTasks}, ${dr[5].longTasks}`);
  } else {
    rows.push({ id: '20', what: 'Journey builder drag, 200 nodes (bench/web_drag.mjs)', cairn: 'failed', peerName: '—', peer: '—', ratio: '—', aim: '60 fps' });
  }

  // ---- notes
  if (s18.meta) {
    const m = s18.meta;
    notes.push(`row 18 store: build/bench/${s18.name}, ${s18.reused ? `kept from an earlier run (made ${((Date.now() - m.made_at) / 86_400_000).toFixed(1)} days ago)` :
        `${s18.incomplete ? 'being made' : 'made'} now (${m.rebuilt_because}; ${fmtInt(s18.added)} profiles imported in this run)`}: ` +
      `${fmtInt(m.imported)} profiles through \`cairn import users\` in chunks of ${fmtInt(CHUNK)}, ${m.import_seconds.toFixed(0)} s in all ` +
      `(${fmtInt(m.imported / m.import_seconds)} profiles/s, with migration 21's triggers dropped while importing)` +
      (m.undo_seconds != null ? `, then the search table dropped, user_version 20 and VACUUM (${m.undo_seconds.toFixed(0)} s)` : '') +
      `; names of 3 Hangul syllables: family name by its share in Korea (김 21.6 %, 이 14.7 %, 박 8.4 %, … ${FAMILY.length} names), ` +
      `given name one of ${GIVEN.length} common ones (Zipf-like, 3 in 4) or two of ${SYL.length} syllables; e-mail from the romanized ` +
      `name and a number at naver.com, gmail.com, daum.net, …; phone +82 10-xxxx-xxxx (all distinct); traits city (${CITIES.length} cities), plan, ` +
      `birth_year, signup_date, marketing_opt_in; user ids m00000001…`);
  }
  if (s18.firstStartMs != null) {
    const bytes = new Map(s18.dbstat || []);
    const fts = [...bytes].filter(([n]) => n.startsWith('profile_search')).reduce((x, [, b]) => x + b, 0);
    const prof = bytes.get('profiles') || 0, profIdx = ['profiles_user', 'profiles_email', 'profiles_phone'].reduce((x, n) => x + (bytes.get(n) || 0), 0);
    h.diag(`row 18, one-time: migration 21 on the first open of the copy (${s18.userVersion === 20 ? 'a store from before it' :
        `user_version ${s18.userVersion}: nothing to backfill`}): cairn serve exec → "listening" ${(s18.firstStartMs / 1000).toFixed(1)} s, ` +
      `the second start ${ms(s18.secondStartMs)}, so the backfill of ${N} profiles took ~${((s18.firstStartMs - s18.secondStartMs) / 1000).toFixed(1)} s ` +
      `(the server does not listen meanwhile); state.db ${fmtMiB(s18.oldBytes / 1024)} → ${fmtMiB(s18.newBytes / 1024)} (with its WAL); ` +
      `on disk (dbstat): the search index ${fmtMiB(fts / 1024)} ` +
      `(${(s18.dbstat || []).filter(([n]) => n.startsWith('profile_search')).map(([n, b]) => `${n} ${fmtMiB(b / 1024)}`).join(', ')}), ` +
      `${fts && prof ? `${(fts / prof).toFixed(2)}×` : '—'} the profiles table (${fmtMiB(prof / 1024)}; its 3 indexes ${fmtMiB(profIdx / 1024)})`);
  }
  if (s18.kinds) {
    const runs = (s) => (s ? s.ms.map((x) => (x < 10 ? x.toFixed(1) : x.toFixed(0))).join(' ') : '—');
    const ex = (k) => k.values.slice(1, 4).map((v) => `"${v}"`).join(', ');
    notes.push(`row 18 method: ${S.queries} values per kind, each from a different random profile, and for the index one more as the ` +
      `warm-up (the scan reads the same pages whatever the value: no warm-up); one request at a time on one keep-alive connection, ` +
      `request sent → body read, the API's default page of ${PAGE}; no run started that would end after BENCH_WEB_CAP=${S.cap} s ` +
      `(the pre-index scan: BENCH_WEB_SCAN_CAP=${S.scanCap} s) at the last run's pace, a measure given up when one run passes ` +
      `BENCH_WEB_TIMEOUT=${S.timeout} s (the scan statement: ${3 * S.timeout} s; the server is then started again); peers in one ` +
      `\`sqlite3 -readonly\` shell after cairn stopped, cairn's statement with the same parameters bound (\`.parameter set\`, ` +
      `limit ${PAGE + 1}) and cairn's cache_size (16 MiB) and temp_store (memory), timed from writing it to reading its output; ` +
      `page cache warm (the copy was just written). Examples: ` +
      KINDS.map((kind) => `${kind.key} ${ex(s18.kinds[kind.key])}`).join('; '));
    notes.push(`row 18 answers: ` + KINDS.map((kind) => {
      const k = s18.kinds[kind.key];
      return k.check ? `${kind.key} ${k.check.meanCount.toFixed(1)} profiles per page on average, ${k.check.full} of ${k.check.n} pages full` +
        (k.check.of === 'cairn' ? '' : ` (the ${k.check.of}'s)`) : `${kind.key} —`;
    }).join('; ') + (a.problems.length ? ` — PROBLEMS: ${a.problems.join('; ')}` :
      ' (cairn\'s pages agree with the shell\'s rows, the scan\'s and the variants\' with the index\'s, wherever both ran)'));
    const vk = KINDS.filter((kind) => s18.kinds[kind.key].variant);
    if (vk.length)
      notes.push(`row 18 diagnostics, for the kinds that missed the aim: the same statement in the shell as it was before ` +
        `the join order was named — the index statement with a plain \`JOIN\` (plan: ${planText(s18.planCross)}), the scan ` +
        `with a plain \`workspace_id\` (plan: ${planText(s18.planRowid)}): ` + vk.map((kind) => {
        const v = s18.kinds[kind.key].variant;
        return `${kind.key} (${v.name}) ${fig(v.s, `sqlite3 ${v.name} ${kind.key}`)}`;
      }).join('; ') + `. cairn's own plans: index ${planText(s18.planFts)}; scan ${planText(s18.planScan)}`);
    notes.push(`row 18 runs (ms): ` + KINDS.map((kind) => {
      const k = s18.kinds[kind.key];
      return `${kind.key} ${runs(k.cairn)} | sqlite3 ${runs(k.sql)}${k.scan ? ` | scan ${runs(k.scan)}` : ''}` +
        `${k.variant?.s ? ` | ${k.variant.name} ${runs(k.variant.s)}` : ''}`;
    }).join('; '));
    notes.push(`row 18 server: idle ${s18.settle?.secs.toFixed(1)} s after start${s18.settle?.quiet ? '' : ' (still busy at the 60 s cap)'}` +
      `${s18.restarts ? `; started again ${s18.restarts}× after a timed-out request` : ''}; RSS ${fmtMiB(s18.rssIdle)} idle, ` +
      `${fmtMiB(s18.rss)} after the searches (peak ${fmtMiB(s18.hwm)}); its CPU over the ${s18.measureS?.toFixed(1)} s of requests ` +
      `${s18.serverCpuS?.toFixed(1)} s; the copy of the store took ${s18.copyS?.toFixed(1)} s`);
  }
  if (w.shell) {
    notes.push(`row 19 files, as served by the binary under test (gzip level 9 by scripts/embed-web.py; zlib level 9 here gives ` +
      `${kb(w.shell.gz9)} for the shell's JavaScript): index.html ${fmtInt(w.index.wire)} bytes; shell ` +
      w.shell.files.map((f) => `${path.basename(f.path)} ${kb(f.wire)} (${kb(f.raw)})`).join(', ') +
      `; CSS ${w.css.files.map((p) => path.basename(p)).join(', ')}; lazy chunks, with what each loads beyond the shell (gzip): ` +
      (w.lazy.length ? w.lazy.map((l) => `${path.basename(l.path)} ${kb(l.screenWire)}`).join(', ') : 'none') +
      `; first load in all (index.html + the shell's JavaScript and CSS) ${kb(w.index.wire + w.shell.wire + w.css.wire)}` +
      (w.distSame === false ? '; NOTE: web/dist/index.html on disk is not the one in the binary (the app was built again since): ' +
        'these are the binary\'s files' : ''));
    notes.push(`row 19 timing: one keep-alive connection, Accept-Encoding gzip, 5 warm-up GETs then ${S.fetches}; first byte = response ` +
      `headers received; p99: index.html ${ms(w.tIndex.firstP99)} / ${ms(w.tIndex.wholeP99)}, entry ${ms(w.tEntry.firstP99)} / ` +
      `${ms(w.tEntry.wholeP99)}, libmicrohttpd ${ms(w.tMhd?.firstP99)} / ${ms(w.tMhd?.wholeP99)}; the ratio compares first bytes (the ` +
      `peer answers ${w.tMhd?.bytes ?? '—'} bytes, not the file)`);
  }
  const errs = Object.entries(a.errors);
  if (errs.length) notes.push(`rows 18–19 given up: ${errs.map(([k, v]) => `${k} (${v})`).join('; ')}`);
  notes.push(`rows 18–19 took ${a.totalS.toFixed(0)} s in all${s18.reused === false && s18.meta ? ', the store\'s making included' : ''}`);
  return { rows, notes };
}
