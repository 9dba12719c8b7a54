import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { originFor } from './helpers/origin.js';
import { gatewayFor, simpleConfig, fetchText, client } from './helpers/gateway.js';
import { holdSlow, later, recordChannel, reset, sleep, until } from './helpers/behaviour.js';
import type { UpstreamEvent } from '../src/observability/events.js';

/** One server with max_conns 1 behind a queue, its only slot taken by a held request (`first`). */
async function busy(t: TestContext, queue: Record<string, unknown>) {
  const h = holdSlow('a');
  const a = await originFor(t, 'a', h.handler);
  const url = await gatewayFor(t, simpleConfig([{ address: a.address, max_conns: 1 }], { queue }));
  const first = later(fetchText(`${url}/slow/1`));
  await until(() => h.held.length === 1, 2000, 'the first request to hold the only slot');
  return { h, a, url, first };
}

test('queue: when every server is at max_conns requests wait, past size they get 503, then served in order', async (t) => {
  const { h, a, url, first } = await busy(t, { size: 2, timeout: '5s' });
  const second = later(fetchText(`${url}/q2`));
  const third = later(fetchText(`${url}/q3`));
  await sleep(50);
  assert.equal(a.seen.length, 1, 'queued requests wait');
  const over = await fetchText(`${url}/q4`);
  assert.equal(over.status, 503);
  assert.match(over.body, /HW_ERR_QUEUE_FULL/);
  h.release();
  assert.equal((await first).body, 'a-slow');
  assert.equal((await second).status, 200);
  assert.equal((await third).status, 200);
  assert.deepEqual(a.seen.map((s) => s.url), ['/slow/1', '/q2', '/q3']);
});

test('queue: a request not served within timeout gets 503; a client that gives up leaves the queue', async (t) => {
  const { h, a, url, first: held } = await busy(t, { size: 1, timeout: '200ms' });
  const t0 = Date.now();
  const timedOut = await fetchText(`${url}/late`);
  const ms = Date.now() - t0;
  assert.equal(timedOut.status, 503);
  assert.match(timedOut.body, /HW_ERR_QUEUE_TIMEOUT/);
  assert.ok(ms >= 190 && ms < 1500, `waited ${ms}ms`);
  // A client that aborts while queued frees its place: the next one can queue (size 1).
  const ac = new AbortController();
  const gone = request(`${url}/gone`, { dispatcher: client, signal: ac.signal }).catch(() => undefined);
  // It is queued once another request finds the queue (size 1) full.
  await sleep(50);
  const end = Date.now() + 2000;
  while (!/HW_ERR_QUEUE_FULL/.test((await fetchText(`${url}/probe`)).body)) assert.ok(Date.now() < end, '/gone never queued');
  ac.abort();
  await gone;
  await sleep(20);
  const next = later(fetchText(`${url}/next`));
  await sleep(30);
  h.release();
  await held;
  assert.equal((await next).status, 200, 'the aborted request did not keep its place');
  assert.ok(!a.seen.some((s) => s.url === '/gone'), 'the aborted request never reached the server');
});

test('retry.budget: once retries in flight reach the budget, a failed request is not retried', async (t) => {
  const rec = recordChannel<UpstreamEvent>('headwater:upstream');
  t.after(() => rec.stop());
  const a = await originFor(t, 'a', reset);
  const hb = holdSlow('b');
  const b = await originFor(t, 'b', hb.handler);
  const servers = [{ address: a.address, max_fails: 0 }, { address: b.address, backup: true }];
  const url = await gatewayFor(t, simpleConfig(servers, { retry: { budget: { percent: 0, min_concurrency: 1 } } }));
  // The first request fails on a and its retry is held on b: one retry in flight, the whole budget.
  const first = later(fetchText(`${url}/slow/1`));
  await until(() => hb.held.length === 1, 2000, 'the retry to reach b');
  const second = await fetchText(`${url}/slow/2`);
  assert.equal(second.status, 502, 'over budget: the original failure goes to the client');
  assert.match(second.body, /HW_ERR_UPSTREAM_RESET/);
  const ev = rec.events.filter((e) => e.kind === 'retry_budget_exhausted');
  assert.equal(ev.length, 1);
  assert.match(ev[0]!.reason, /1 retries in flight .*budget 0%, min_concurrency 1/);
  hb.release();
  assert.equal((await first).status, 200);
  // With the retry done, the budget is free again.
  const third = later(fetchText(`${url}/slow/3`));
  await until(() => hb.held.length === 1, 2000, 'the third request to be retried on b');
  hb.release();
  assert.equal((await third).status, 200);
});
