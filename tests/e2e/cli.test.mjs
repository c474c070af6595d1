// The cairn binary as a command: usage and exit codes, init on a new and an
// existing store, key rotation, configuration precedence, SIGTERM draining.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CAIRN_BIN } from './lib/server.mjs';

function run(args, opts = {}) {
  return spawnSync(CAIRN_BIN, args, { encoding: 'utf8', timeout: 20000, ...opts });
}

function tmp() {
  return mkdtempSync(join(tmpdir(), 'cairn-cli-'));
}

test('help and usage errors', () => {
  const help = run(['help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /serve/);
  assert.equal(run([]).status, 2);
  const bad = run(['frobnicate']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /unknown command 'frobnicate'/);
  const flag = run(['serve', '--no-such-flag']);
  assert.equal(flag.status, 2);
  assert.match(flag.stderr, /usage: cairn serve/);
  const h = run(['serve', '--help']);
  assert.equal(h.status, 0);
  assert.match(h.stdout, /usage: cairn serve/);
  const badNum = run(['serve', '--threads', 'many']);
  assert.equal(badNum.status, 2);
  assert.match(badNum.stderr, /threads/);
});

test('init prints one JSON object, refuses a second time, rotates on request', async () => {
  const dir = tmp();
  try {
    const first = run(['init', '--data', dir, '--listen', '127.0.0.1:9999']);
    assert.equal(first.status, 0, first.stderr);
    const lines = first.stdout.trim().split('\n');
    assert.equal(lines.length, 1);
    const creds = JSON.parse(lines[0]);
    for (const k of ['workspace', 'write_key', 'secret_key', 'owner_email', 'owner_password', 'url'])
      assert.equal(typeof creds[k], 'string', k);
    assert.equal(creds.workspace, 'default');
    assert.equal(creds.url, 'http://127.0.0.1:9999');

    const again = run(['init', '--data', dir]);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /already holds a workspace/);
    assert.equal(again.stdout, '');

    const rotated = run(['init', '--data', dir, '--rotate']);
    assert.equal(rotated.status, 0, rotated.stderr);
    const fresh = JSON.parse(rotated.stdout);
    assert.notEqual(fresh.write_key, creds.write_key);
    assert.notEqual(fresh.secret_key, creds.secret_key);

    // the new keys work, the old ones do not, and no data was lost
    const child = spawn(CAIRN_BIN, ['serve', '--data', dir, '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stderr.resume();
    const url = await new Promise((res, rej) => {
      createInterface({ input: child.stdout }).on('line', (l) => {
        const m = /listening on (\S+)/.exec(l);
        if (m) res(m[1]);
      });
      child.once('exit', (c) => rej(new Error('exited ' + c)));
    });
    const basic = (k) => 'Basic ' + Buffer.from(k + ':').toString('base64');
    const body = JSON.stringify({ userId: 'u', event: 'E' });
    const ok = await fetch(url + '/v1/track', { method: 'POST', body, headers: { authorization: basic(fresh.write_key) } });
    assert.equal(ok.status, 200);
    const old = await fetch(url + '/v1/track', { method: 'POST', body, headers: { authorization: basic(creds.write_key) } });
    assert.equal(old.status, 401);
    const oldSecret = await fetch(url + '/api/v1/users/u', { headers: { authorization: 'Bearer ' + creds.secret_key } });
    assert.equal(oldSecret.status, 401);
    const profile = await fetch(url + '/api/v1/users/u', { headers: { authorization: 'Bearer ' + fresh.secret_key } });
    assert.equal(profile.status, 200);

    // SIGTERM drains and exits 0
    const exited = new Promise((res) => child.once('exit', (code, signal) => res({ code, signal })));
    child.kill('SIGTERM');
    assert.deepEqual(await exited, { code: 0, signal: null });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('configuration: flags beat environment beat file beat defaults', async () => {
  const dir = tmp();
  try {
    assert.equal(run(['init', '--data', dir]).status, 0);
    const cfg = join(dir, 'cairn.toml');
    // the file names a port that is taken by nothing; the env overrides the data dir of the file
    writeFileSync(cfg, `# cairn config\ndata = "/nonexistent/from-file"\nlisten = "127.0.0.1:0"\nthreads = 2\n`);
    const child = spawn(CAIRN_BIN, ['serve', '--config', cfg], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CAIRN_DATA: dir },
    });
    child.stderr.resume();
    const url = await new Promise((res, rej) => {
      createInterface({ input: child.stdout }).on('line', (l) => {
        const m = /listening on (\S+)/.exec(l);
        if (m) res(m[1]);
      });
      child.once('exit', (c) => rej(new Error('exited ' + c)));
    });
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const exited = new Promise((res) => child.once('exit', (code) => res(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);

    // a flag beats the environment: --data pointing at an unwritable place fails
    const r = run(['migrate', '--data', '/proc/cairn-nope'], { env: { ...process.env, CAIRN_DATA: dir } });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /cairn-nope/);

    // a broken config file is a clear error
    writeFileSync(cfg, 'data "missing equals"\n');
    const broken = run(['migrate', '--config', cfg]);
    assert.equal(broken.status, 1);
    assert.match(broken.stderr, /cairn\.toml:1/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('migrate reports the schema versions', () => {
  const dir = tmp();
  try {
    const r = run(['migrate', '--data', dir]);
    assert.equal(r.status, 0, r.stderr);
    const v = JSON.parse(r.stdout);
    assert.ok(v.state_schema >= 1 && v.events_schema >= 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('init --demo loads example customers through the engine (seed 001 tags included)', async () => {
  const dir = tmp();
  try {
    const r = run(['init', '--demo', '--data', dir]);
    assert.equal(r.status, 0, r.stderr);
    const exp = run(['export', 'users', '--data', dir]);
    assert.equal(exp.status, 0, exp.stderr);
    const users = Object.fromEntries(exp.stdout.trim().split('\n').map((l) => { const p = JSON.parse(l); return [p.id, p]; }));
    assert.equal(users['demo-1'].traits.name, '김민준');
    assert.deepEqual(users['demo-1'].tags, ['interest:marketing']);
    assert.deepEqual(users['demo-2'].tags, ['disengaged']);
    assert.equal(users['demo-1'].computed.order_count, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
