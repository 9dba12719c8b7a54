import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { startOrigin } from './helpers/origin.js';
import { LAZY_BUILTINS } from '../src/util/builtins.js';

const CLI = 'dist/src/cli/main.js';
const dir = mkdtempSync(join(tmpdir(), 'headwater-cli-'));

function cli(...args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 20_000 });
}

/** Start the CLI and resolve once it prints that listener `name` is up, with its URL. */
function startCli(args: string[], nodeArgs: string[] = []): Promise<{ url: string; proc: ReturnType<typeof spawn>; stderr: () => string }> {
  const proc = spawn(process.execPath, [...nodeArgs, CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`CLI did not start: ${err}`)), 10_000);
    proc.stderr!.on('data', (c: Buffer) => {
      err += c.toString();
      const m = /on (http:\/\/\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1]!, proc, stderr: () => err });
      }
    });
    proc.on('exit', (code) => reject(new Error(`CLI exited ${code}: ${err}`)));
  });
}

const exited = (p: ReturnType<typeof spawn>) => new Promise<number | null>((r) => p.on('exit', (c) => r(c)));

test('version and --help', () => {
  const v = cli('version');
  assert.equal(v.status, 0);
  assert.match(v.stdout, /^\d+\.\d+\.\d+/);
  for (const cmd of ['run', 'check', 'proxy', 'demo']) {
    const h = cli(cmd, '--help');
    assert.equal(h.status, 0, cmd);
    assert.match(h.stdout, /Usage: headwater/);
  }
});

test('check: exit 0 for a valid file, 2 with FILE:LINE:COL  path  message for each error', () => {
  const good = join(dir, 'good.yaml');
  writeFileSync(good, 'listeners:\n  - address: 127.0.0.1:8080\nroutes:\n  - upstream: web\nupstreams:\n  web:\n    servers:\n      - address: 127.0.0.1:9001\n');
  assert.equal(cli('check', '--config', good).status, 0);
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'listeners:\n  - address: 127.0.0.1:8080\nroutes:\n  - upstream: api\nupstreams:\n  web:\n    servers:\n      - address: 127.0.0.1:9001\n        max_fails: three\n        weigth: 2\n');
  const r = cli('check', '--config', bad);
  assert.equal(r.status, 2);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 3, r.stdout);
  assert.ok(lines.some((l) => l.startsWith(`${bad}:4:15  routes[0].upstream  `)), r.stdout);
  assert.ok(lines.some((l) => l.startsWith(`${bad}:9:20  upstreams.web.servers[0].max_fails  `)), r.stdout);
  assert.ok(lines.some((l) => l.startsWith(`${bad}:10:9  upstreams.web.servers[0].weigth  `) && l.includes('weight')), r.stdout);
});

test('run serves a config file, reloads on SIGHUP, refuses a bad reload, drains on SIGTERM', async (t) => {
  const a = await startOrigin('a');
  const b = await startOrigin('b');
  t.after(async () => {
    await a.close();
    await b.close();
  });
  const file = join(dir, 'run.yaml');
  const cfg = (addr: string) =>
    `listeners:\n  - name: main\n    address: 127.0.0.1:0\nroutes:\n  - upstream: web\nupstreams:\n  web:\n    servers:\n      - address: ${addr}\naccess_log: { enabled: false }\n`;
  writeFileSync(file, cfg(a.address));
  const { url, proc, stderr } = await startCli(['run', '--config', file]);
  t.after(() => proc.kill('SIGKILL'));
  const get = async () => (await request(url)).body.text();
  assert.equal(await get(), 'a');

  writeFileSync(file, cfg(b.address));
  proc.kill('SIGHUP');
  for (let i = 0; i < 100 && !stderr().includes('reloaded'); i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(await get(), 'b');

  writeFileSync(file, 'listeners: nope\n');
  proc.kill('SIGHUP');
  // The refusal and its details are separate writes: wait for the detail line.
  for (let i = 0; i < 100 && !/listeners {2}/.test(stderr()); i++) await new Promise((r) => setTimeout(r, 20));
  assert.match(stderr(), /reload refused/);
  assert.match(stderr(), /run\.yaml:1:\d+  listeners  /);
  assert.equal(await get(), 'b', 'the old config keeps serving');

  proc.kill('SIGTERM');
  assert.equal(await exited(proc), 0);
});

test('run on plain HTTP/1.1 with an access log loads none of Node\'s TLS, HTTP/2, node:http, crypto, DNS, perf_hooks or assert modules; a feature that needs one loads it', async (t) => {
  const a = await startOrigin('a');
  t.after(() => a.close());
  // Prints, as the process exits, which of those built-in modules it loaded.
  const probe = `data:text/javascript,process.on('exit', () => process.stderr.write('LOADED=' + process.moduleLoadList.filter((m) => m.startsWith('NativeModule ') && [${[...LAZY_BUILTINS, 'perf_hooks', 'assert'].map((n) => `'${n}'`).join(',')}].includes(m.slice(13))).map((m) => m.slice(13)).join(',') + '\\n'));`;
  const loaded = async (extra: string): Promise<string[]> => {
    const file = join(dir, 'plain.yaml');
    writeFileSync(file, `access_log: { path: ${join(dir, 'plain-access.log')}, format: combined }\nlisteners:\n  - address: 127.0.0.1:0\nroutes:\n  - upstream: web\nupstreams:\n  web:\n${extra}    servers:\n      - address: ${a.address}\n`);
    const { url, proc, stderr } = await startCli(['run', '--config', file], ['--import', probe]);
    t.after(() => proc.kill('SIGKILL'));
    assert.equal(await (await request(url)).body.text(), 'a');
    await new Promise((r) => setTimeout(r, 300)); // an active health check's first probe
    proc.kill('SIGTERM');
    assert.equal(await exited(proc), 0);
    return /LOADED=(.*)/.exec(stderr())![1]!.split(',').filter(Boolean).sort();
  };
  assert.deepEqual(await loaded(''), []);
  // The control: an HTTP health check's probe needs node:http.
  assert.deepEqual(await loaded('    health_check: { type: http, path: /, interval: 100ms }\n'), ['http']);
});

test('proxy: a one-line proxy with no config file', async (t) => {
  const a = await startOrigin('a');
  const b = await startOrigin('b');
  t.after(async () => {
    await a.close();
    await b.close();
  });
  const { url, proc } = await startCli(['proxy', '--listen', '127.0.0.1:0', '--to', a.address, '--to', b.address, '--no-access-log']);
  t.after(() => proc.kill('SIGKILL'));
  const got = new Set<string>();
  for (let i = 0; i < 4; i++) got.add(await (await request(url)).body.text());
  assert.deepEqual([...got].sort(), ['a', 'b']);
  proc.kill('SIGTERM');
  assert.equal(await exited(proc), 0);
});

test('demo: shows balancing and failover, then serves until stopped', async (t) => {
  const proc = spawn(process.execPath, [CLI, 'demo', '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => proc.kill('SIGKILL'));
  let out = '';
  proc.stderr.on('data', (c: Buffer) => (out += c.toString()));
  for (let i = 0; i < 250 && !out.includes('Ctrl-C'); i++) await new Promise((r) => setTimeout(r, 20));
  assert.match(out, /failed over/);
  assert.match(out, /alpha/);
  assert.match(out, /beta/);
  const url = /gateway\s+(http:\/\/\S+)/.exec(out)![1]!;
  assert.equal((await request(`${url}/x`)).statusCode, 200);
  proc.kill('SIGINT');
  assert.equal(await exited(proc), 0);
});

test('run with workers: 2 serves from two processes, reloads them all, and drains on SIGTERM', async (t) => {
  const a = await startOrigin('a');
  const b = await startOrigin('b');
  t.after(async () => {
    await a.close();
    await b.close();
  });
  const file = join(dir, 'workers.yaml');
  const cfg = (addr: string) =>
    `workers: 2\nlisteners:\n  - name: main\n    address: 127.0.0.1:0\nroutes:\n  - upstream: web\nupstreams:\n  web:\n    servers:\n      - address: ${addr}\naccess_log: { enabled: false }\n`;
  writeFileSync(file, cfg(a.address));
  const { url, proc, stderr } = await startCli(['run', '--config', file]);
  t.after(() => proc.kill('SIGKILL'));
  for (let i = 0; i < 100 && !/2 workers \(pids \d+, \d+\)/.test(stderr()); i++) await new Promise((r) => setTimeout(r, 20));
  assert.match(stderr(), /2 workers \(pids \d+, \d+\)/);
  assert.equal(await (await request(url)).body.text(), 'a');
  writeFileSync(file, cfg(b.address));
  proc.kill('SIGHUP');
  // A connection caught mid-reload may be closed under us; that only means "ask again".
  const ask = async () => {
    try {
      return await (await request(url, { reset: true })).body.text();
    } catch {
      return '';
    }
  };
  // Every worker must switch: ask enough times on fresh connections to reach both.
  let allB = false;
  for (let i = 0; i < 100 && !allB; i++) {
    await new Promise((r) => setTimeout(r, 20));
    const bodies = await Promise.all(Array.from({ length: 6 }, ask));
    allB = bodies.every((x) => x === 'b');
  }
  assert.ok(allB, 'all workers reloaded');
  proc.kill('SIGTERM');
  assert.equal(await exited(proc), 0);
});
