import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { originFor, type OriginHandler } from './helpers/origin.js';
import { gatewayFor, simpleConfig, fetchText, client, type Reply } from './helpers/gateway.js';
import { answerStatus, holdSlow, recordRequests, reset, sleep, tally, until } from './helpers/behaviour.js';

const origin = originFor;
const gateway = gatewayFor;

async function sequence(url: string, n: number): Promise<Reply[]> {
  const out: Reply[] = [];
  for (let i = 0; i < n; i++) out.push(await fetchText(`${url}/n${i}`));
  return out;
}

/** Start a request that the gateway forwards and the client then abandons after the origin has it. */
async function abortedRequest(url: string, path: string, arrived: () => boolean): Promise<void> {
  const ac = new AbortController();
  const p = request(`${url}${path}`, { dispatcher: client, signal: ac.signal }).then(
    (r) => r.body.text(),
    () => undefined,
  );
  await until(arrived, 2000, 'the request to reach the origin');
  ac.abort();
  await p;
}

test('max_fails 2 / fail_timeout 1s: two failures take a server out until fail_timeout passes', async (t) => {
  const a = await origin(t, 'a', reset);
  const b = await origin(t, 'b');
  const opts = { max_fails: 2, fail_timeout: '1s' };
  const url = await gateway(t, simpleConfig([{ address: a.address, ...opts }, { address: b.address, ...opts }]));
  // Each failure on a is retried on b, so the client always gets 200.
  for (let i = 0; i < 10 && a.seen.length < 2; i++) assert.equal((await fetchText(`${url}/f${i}`)).body, 'b');
  const downAt = Date.now();
  assert.equal(a.seen.length, 2, 'one failure must not be enough to take a out');
  // Out: nothing reaches a.
  assert.deepEqual(tally(await sequence(url, 10)), { b: 10 });
  assert.equal(a.seen.length, 2);
  // After fail_timeout a is tried again...
  await sleep(Math.max(0, downAt + 1100 - Date.now()));
  for (let i = 0; i < 4 && a.seen.length < 3; i++) assert.equal((await fetchText(`${url}/g${i}`)).body, 'b');
  assert.equal(a.seen.length, 3, 'a gets traffic again after fail_timeout');
  // ...and, failing again on probation, is taken out at once (NGINX).
  assert.deepEqual(tally(await sequence(url, 6)), { b: 6 });
  assert.equal(a.seen.length, 3);
});

test('max_fails counts failures within fail_timeout even with successes in between (NGINX)', async (t) => {
  let n = 0;
  // Fails every other request it gets: fail, ok, fail, ...
  const flapping: OriginHandler = (req, res) => {
    if (n++ % 2 === 0) return void req.socket.destroy();
    res.writeHead(200, { 'x-origin': 'a' });
    res.end('a');
  };
  const a = await origin(t, 'a', flapping);
  const b = await origin(t, 'b');
  const opts = { max_fails: 2, fail_timeout: '10s' };
  const url = await gateway(t, simpleConfig([{ address: a.address, ...opts }, { address: b.address, ...opts }]));
  for (let i = 0; i < 10 && a.seen.length < 3; i++) assert.equal((await fetchText(`${url}/f${i}`)).status, 200);
  assert.equal(a.seen.length, 3, 'a saw fail, ok, fail');
  // Two failures within fail_timeout: a is out although it answered once in between.
  assert.deepEqual(tally(await sequence(url, 8)), { b: 8 });
  assert.equal(a.seen.length, 3);
});

test('a single server is never marked down: every request still reaches it', async (t) => {
  let n = 0;
  const flaky: OriginHandler = (req, res) => {
    if (++n <= 2) return void req.socket.destroy();
    res.writeHead(200, { 'x-origin': 'a' });
    res.end('a');
  };
  const a = await origin(t, 'a', flaky);
  const url = await gateway(t, simpleConfig([{ address: a.address, max_fails: 1, fail_timeout: '10s' }]));
  const statuses = (await sequence(url, 4)).map((r) => r.status);
  assert.deepEqual(statuses, [502, 502, 200, 200]);
  assert.equal(a.seen.length, 4);
});

test('max_fails 0 never marks a server down', async (t) => {
  const a = await origin(t, 'a', reset);
  const b = await origin(t, 'b');
  const url = await gateway(t, simpleConfig([{ address: a.address, max_fails: 0 }, b.address]));
  const rs = await sequence(url, 10);
  assert.deepEqual(tally(rs), { b: 10 });
  assert.ok(a.seen.length >= 4, `a got ${a.seen.length} of 10 (it must stay in rotation)`);
});

for (const status of [403, 404]) {
  test(`an upstream ${status} never counts as a failure, even when retry.on lists it`, async (t) => {
    const a = await origin(t, 'a', answerStatus('a', status));
    const b = await origin(t, 'b');
    const url = await gateway(t, simpleConfig([a.address, b.address], { retry: { on: ['error', 'timeout', `http_${status}`] } }));
    const rs = await sequence(url, 8);
    // Retried on b (NGINX does), but a stays in rotation.
    assert.deepEqual(tally(rs), { b: 8 });
    assert.ok(a.seen.length >= 3, `a got ${a.seen.length} of 8`);
  });
}

test('by contrast an upstream 503 listed in retry.on does count (max_fails 1)', async (t) => {
  const a = await origin(t, 'a', answerStatus('a', 503));
  const b = await origin(t, 'b');
  const url = await gateway(t, simpleConfig([a.address, b.address], { retry: { on: ['error', 'timeout', 'http_503'] } }));
  assert.deepEqual(tally(await sequence(url, 8)), { b: 8 });
  assert.equal(a.seen.length, 1);
});

test('a client abort is not counted as a failure and the gateway closes its upstream request', async (t) => {
  const ha = holdSlow('a');
  const hb = holdSlow('b');
  const a = await origin(t, 'a', ha.handler);
  const b = await origin(t, 'b', hb.handler);
  const url = await gateway(t, simpleConfig([{ address: a.address, max_fails: 1, fail_timeout: '10s' }, { address: b.address, max_fails: 1, fail_timeout: '10s' }]));
  const log = recordRequests();
  t.after(() => log.stop());
  await abortedRequest(url, '/slow', () => ha.held.length + hb.held.length === 1);
  // The origin sees its request closed: the gateway did not leave it running.
  await until(() => ha.closed() + hb.closed() === 1, 2000, 'the upstream request to be closed');
  await until(() => log.records.length === 1, 1000, 'the access record');
  assert.equal(log.records[0]!.status, 499);
  assert.equal(log.records[0]!.tries[0]!.outcome, 'client_abort');
  // Both servers are still in rotation.
  assert.deepEqual(tally(await sequence(url, 6)), { a: 3, b: 3 });
});

test('no leaked upstream sockets after sequential client aborts', async (t) => {
  const h = holdSlow('a');
  const a = await origin(t, 'a', h.handler);
  const url = await gateway(t, simpleConfig([a.address]));
  for (let i = 0; i < 20; i++) {
    await abortedRequest(url, `/slow/${i}`, () => h.held.length === i + 1);
    await until(() => h.closed() === i + 1, 2000, `upstream request ${i} to be closed`);
  }
  await sleep(50);
  // Without closing upstream requests the origin would hold 20 connections.
  assert.ok(a.connections() <= 2, `${a.connections()} upstream connections after 20 aborts`);
  assert.equal((await fetchText(`${url}/`)).body, 'a');
});

test('no leaked upstream sockets after bursts of concurrent requests and aborts', async (t) => {
  const h = holdSlow('a');
  const a = await origin(t, 'a', h.handler);
  const url = await gateway(t, simpleConfig([a.address]));
  let peak = 0;
  for (let round = 0; round < 3; round++) {
    const before = h.held.length;
    const aborts = Array.from({ length: 10 }, (_, i) => abortedRequest(url, `/slow/${round}/${i}`, () => h.held.length >= before + 10));
    const rs = await Promise.all(Array.from({ length: 30 }, (_, i) => fetchText(`${url}/r${round}/${i}`)));
    assert.ok(rs.every((r) => r.status === 200));
    await Promise.all(aborts);
    await until(() => h.closed() === (round + 1) * 10, 2000, 'aborted upstream requests to be closed');
    peak = Math.max(peak, a.connections());
  }
  // Keep-alive connections are reused across bursts: never more than one burst's concurrency (40).
  assert.ok(peak <= 40, `${peak} upstream connections`);
});

test('keepalive.max_idle 0 closes every upstream connection after its response', async (t) => {
  const a = await origin(t, 'a');
  const url = await gateway(t, simpleConfig([a.address], { keepalive: { max_idle: 0 } }));
  const rs = await Promise.all(Array.from({ length: 10 }, () => fetchText(`${url}/`)));
  assert.ok(rs.every((r) => r.body === 'a'));
  await until(() => a.connections() === 0, 2000, 'upstream connections to close');
});
