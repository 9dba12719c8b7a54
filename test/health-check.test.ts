import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { originFor, deadAddress, type Origin } from './helpers/origin.js';
import { gatewayFor, startGateway, simpleConfig, fetchText } from './helpers/gateway.js';
import { burst, recordChannel, sleep, tally, until, withHealth } from './helpers/behaviour.js';
import type { HostEvent } from '../src/observability/events.js';

const FAST = { interval: '50ms', unhealthy_interval: '50ms', timeout: '300ms' };

function hostEvents(t: { after(fn: () => void): void }) {
  const rec = recordChannel<HostEvent>('headwater:host');
  t.after(() => rec.stop());
  return rec.events;
}

test('a server failing its probe leaves after `fall` probes and returns after `rise`', async (t) => {
  const events = hostEvents(t);
  const ha = withHealth('a');
  const a = await originFor(t, 'a', ha.handler);
  const b = await originFor(t, 'b');
  const url = await gatewayFor(t, simpleConfig([a.address, b.address], { health_check: { path: '/healthz', rise: 2, fall: 3, ...FAST } }));
  const mine = () => events.filter((e) => e.server === a.address && e.signal === 'active');
  await until(() => mine().some((e) => e.status === 'healthy'), 2000, 'a healthy');
  assert.deepEqual(tally(await burst(url, 4)), { a: 2, b: 2 });

  ha.status = 503;
  const before = ha.probes;
  await until(() => mine().some((e) => e.status === 'unhealthy'), 2000, 'a unhealthy');
  assert.equal(ha.probes - before, 3, 'exactly `fall` failed probes');
  const down = mine().find((e) => e.status === 'unhealthy')!;
  assert.equal(down.state, 'down');
  assert.equal(down.previous, 'healthy');
  assert.match(down.reason, /3 probe\(s\) in a row failed \(fall 3\): status 503/);
  assert.deepEqual(tally(await burst(url, 6)), { b: 6 });

  ha.status = 200;
  const back = ha.probes;
  await until(() => mine().filter((e) => e.status === 'healthy').length === 2, 2000, 'a healthy again');
  assert.equal(ha.probes - back, 2, 'exactly `rise` passing probes');
  assert.deepEqual(tally(await burst(url, 4)), { a: 2, b: 2 });
});

test('the probe request has the configured method, path, Host and headers', async (t) => {
  const a = await originFor(t, 'a');
  await gatewayFor(t, simpleConfig([a.address], {
    health_check: { method: 'head', path: '/status?deep=1', host: 'web.internal', headers: { 'X-Probe': 'headwater' }, ...FAST },
  }));
  await until(() => a.seen.length >= 2, 2000, 'two probes');
  for (const s of a.seen.slice(0, 2)) {
    assert.equal(s.method, 'HEAD');
    assert.equal(s.url, '/status?deep=1');
    assert.equal(s.headers.host, 'web.internal');
    assert.equal(s.headers['x-probe'], 'headwater');
  }
});

test('the Host header of a probe defaults to the server address; `down` servers are not probed', async (t) => {
  const a = await originFor(t, 'a');
  const down = await originFor(t, 'down');
  await gatewayFor(t, simpleConfig([a.address, { address: down.address, down: true }], { health_check: { ...FAST } }));
  await until(() => a.seen.length >= 3, 2000, 'three probes');
  assert.equal(down.seen.length, 0);
  assert.equal(a.seen[0]!.headers.host, a.address);
  assert.equal(a.seen[0]!.url, '/');
  assert.equal(a.seen[0]!.method, 'GET');
});

test('expect: status ranges and body substring or /regex/ decide', async (t) => {
  const events = hostEvents(t);
  const cases = [
    { name: 'ok-body', status: 200, body: 'all systems ok', healthy: true },
    { name: 'bad-body', status: 200, body: 'degraded', healthy: false },
    { name: 'bad-status', status: 500, body: 'ok', healthy: false },
    { name: 'redirect', status: 302, body: 'status: ok', healthy: true },
  ];
  const servers: Array<(typeof cases)[number] & { origin: Origin }> = [];
  for (const c of cases) {
    const h = withHealth(c.name, '/');
    h.status = c.status;
    h.body = c.body;
    servers.push({ ...c, origin: await originFor(t, c.name, h.handler) });
  }
  const regex = withHealth('regex', '/');
  regex.body = '{"status": "UP"}';
  const r = await originFor(t, 'regex', regex.handler);
  await gatewayFor(t, {
    routes: [{ match: { path_prefix: '/' }, upstream: 'web' }],
    upstreams: {
      web: { health_check: { ...FAST, rise: 1, fall: 1, initially: 'unhealthy', expect: { status: ['200-399'], body: 'ok' } }, servers: servers.map((s) => ({ address: s.origin.address })) },
      re: { health_check: { ...FAST, rise: 1, initially: 'unhealthy', expect: { status: ['2xx'], body: '/"status":\\s*"up"/i' } }, servers: [{ address: r.address }] },
    },
  });
  const verdict = (addr: string) => events.find((e) => e.server === addr && e.signal === 'active' && e.previous === 'checking');
  await until(() => servers.every((s) => verdict(s.origin.address)) && verdict(r.address) !== undefined, 2000, 'a verdict for every server');
  for (const s of servers) assert.equal(verdict(s.origin.address)!.status, s.healthy ? 'healthy' : 'unhealthy', s.name);
  assert.match(verdict(servers[1]!.origin.address)!.reason, /body does not match "ok"/);
  assert.match(verdict(servers[2]!.origin.address)!.reason, /status 500 is not expected/);
  assert.equal(verdict(r.address)!.status, 'healthy');
});

test('initially unhealthy: no traffic until `rise` probes passed; tcp checks', async (t) => {
  const events = hostEvents(t);
  const a = await originFor(t, 'a');
  const dead = await deadAddress();
  const url = await gatewayFor(t, simpleConfig([a.address, dead], { health_check: { type: 'tcp', ...FAST, unhealthy_interval: '400ms', rise: 2, initially: 'unhealthy' } }));
  // Before any verdict every server is held out.
  const first = await fetchText(`${url}/early`);
  assert.equal(first.status, 503);
  assert.match(first.body, /HW_ERR_NO_HEALTHY_UPSTREAM/);
  await until(() => events.some((e) => e.server === a.address && e.status === 'healthy'), 2000, 'a healthy');
  assert.deepEqual(tally(await burst(url, 4)), { a: 4 });
  const d = events.find((e) => e.server === dead && e.signal === 'active' && e.status === 'unhealthy');
  assert.ok(d, 'the dead server is judged unhealthy');
  assert.match(d.reason, /tcp connect failed/);
});

test('probes survive a reload for unchanged servers and stop for removed ones and on close', async (t) => {
  const events = hostEvents(t);
  const ha = withHealth('a');
  const hb = withHealth('b');
  const a = await originFor(t, 'a', ha.handler);
  const b = await originFor(t, 'b', hb.handler);
  const hc = { path: '/healthz', rise: 1, fall: 1, ...FAST };
  const { gw, url } = await startGateway(simpleConfig([a.address, b.address], { health_check: hc }));
  t.after(() => gw.close(0));
  ha.status = 500;
  await until(() => events.some((e) => e.server === a.address && e.status === 'unhealthy'), 2000, 'a unhealthy');
  await gw.reload({ listeners: [{ name: 'test', address: '127.0.0.1:0' }], access_log: { enabled: false }, ...simpleConfig([a.address], { health_check: { ...hc, interval: '60ms', unhealthy_interval: '60ms' } }) });
  // a kept its verdict: the reload did not put it back in service or restart its checks.
  assert.equal(events.filter((e) => e.server === a.address && e.previous === 'checking').length, 1);
  const r = await fetchText(`${url}/x`);
  assert.equal(r.status, 503, 'a is still unhealthy after the reload');
  const bProbes = hb.probes;
  const aProbes = ha.probes;
  await until(() => ha.probes >= aProbes + 3, 2000, 'a to be probed on');
  assert.ok(hb.probes <= bProbes + 1, `b was removed: its probes stop (${hb.probes - bProbes} more)`);
  await gw.close(0);
  const closed = ha.probes;
  await sleep(200);
  assert.ok(ha.probes <= closed + 1, 'no probes after close');
});

test('every transition is written to the log with its reason', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hw-health-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'access.log');
  const ha = withHealth('a');
  ha.status = 503;
  const a = await originFor(t, 'a', ha.handler);
  const b = await originFor(t, 'b');
  const config = { ...simpleConfig([a.address, b.address], { health_check: { path: '/healthz', rise: 1, fall: 1, ...FAST } }), access_log: { enabled: true, path: file } };
  const { gw } = await startGateway(config, { accessLog: true });
  await until(() => ha.probes >= 2, 2000, 'a probed twice');
  await gw.close(0);
  let line: Record<string, unknown> | undefined;
  for (let i = 0; i < 50 && line === undefined; i++) {
    const lines = (await readFile(file, 'utf8').catch(() => '')).split('\n').filter(Boolean);
    line = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((r) => r.event === 'host' && r.server === a.address && r.status === 'unhealthy');
    if (line === undefined) await sleep(20);
  }
  assert.ok(line, 'a host line for the transition');
  assert.equal(line.upstream, 'web');
  assert.equal(line.previous, 'checking');
  assert.equal(line.signal, 'active');
  assert.equal(line.state, 'down');
  assert.match(String(line.reason), /^1 probe\(s\) in a row failed \(fall 1\): status 503 is not expected$/);
});

test('probes never pile up (one in flight per server) and time out after `timeout`', async (t) => {
  const events = hostEvents(t);
  let inFlight = 0;
  let most = 0;
  let probes = 0;
  let hang = false;
  const a = await originFor(t, 'a', (req, res) => {
    probes++;
    if (hang) return; // never answers: the probe must time out
    inFlight++;
    most = Math.max(most, inFlight);
    setTimeout(() => {
      inFlight--;
      res.end('ok');
    }, 120);
  });
  await gatewayFor(t, simpleConfig([a.address], { health_check: { interval: '10ms', unhealthy_interval: '10ms', timeout: '300ms', rise: 1, fall: 1 } }));
  await until(() => probes >= 4, 3000, 'four slow probes');
  assert.equal(most, 1, 'a slow server never has two probes at once');
  hang = true;
  const t0 = Date.now();
  await until(() => events.some((e) => e.server === a.address && e.status === 'unhealthy'), 3000, 'the hanging probe to fail');
  const ms = Date.now() - t0;
  assert.ok(ms >= 250, `judged after ${ms}ms: not before the timeout`);
  assert.match(events.find((e) => e.status === 'unhealthy')!.reason, /no complete response within 300ms/);
});
