import { test } from 'node:test';
import assert from 'node:assert/strict';
import { originFor } from './helpers/origin.js';
import { startGateway, gatewayFor, simpleConfig } from './helpers/gateway.js';
import { burst, recordChannel, tally, until, withHealth } from './helpers/behaviour.js';
import type { UpstreamEvent } from '../src/observability/events.js';

const listener = { listeners: [{ name: 'test', address: '127.0.0.1:0' }], access_log: { enabled: false } };

test('slow_start: a server added to a running gateway ramps from 10% to its full weight', async (t) => {
  let clock = 0;
  const a = await originFor(t, 'a');
  const b = await originFor(t, 'b');
  const { gw, url } = await startGateway(simpleConfig([b.address]), { now: () => clock });
  t.after(() => gw.close(0));
  await gw.reload({ ...listener, ...simpleConfig([{ address: a.address, slow_start: '10s' }, b.address]) });
  // Weights a:b are 0.1:1 right after the reload, 0.5:1 at 5s, 1:1 from 10s on (smooth round robin).
  assert.deepEqual(tally(await burst(url, 22)), { a: 2, b: 20 });
  clock = 5000;
  assert.deepEqual(tally(await burst(url, 30)), { a: 10, b: 20 });
  clock = 10_000;
  assert.deepEqual(tally(await burst(url, 20)), { a: 10, b: 10 });
});

test('slow_start: a server coming back from unhealthy ramps up again', async (t) => {
  const events = recordChannel<{ server: string; status: string }>('headwater:host');
  t.after(() => events.stop());
  const ha = withHealth('a');
  const a = await originFor(t, 'a', ha.handler);
  const b = await originFor(t, 'b');
  const hc = { path: '/healthz', interval: '30ms', rise: 1, fall: 1 };
  let clock = 0;
  const url = await gatewayFor(t, simpleConfig([{ address: a.address, slow_start: '10s' }, b.address], { health_check: hc }), { now: () => clock });
  await until(() => events.events.some((e) => e.server === a.address && e.status === 'healthy'), 2000, 'a healthy');
  assert.deepEqual(tally(await burst(url, 10)), { a: 5, b: 5 }, 'servers there at start begin at full weight');
  ha.status = 500;
  await until(() => events.events.some((e) => e.server === a.address && e.status === 'unhealthy'), 2000, 'a unhealthy');
  clock = 100_000;
  ha.status = 200;
  await until(() => events.events.filter((e) => e.server === a.address && e.status === 'healthy').length === 2, 2000, 'a back');
  assert.deepEqual(tally(await burst(url, 22)), { a: 2, b: 20 });
});

test('panic_threshold: below it, requests go to every server in service; entering and leaving is logged', async (t) => {
  const rec = recordChannel<UpstreamEvent>('headwater:upstream');
  t.after(() => rec.stop());
  const health = ['a', 'b', 'c'].map((n) => withHealth(n));
  const origins = await Promise.all(health.map((h, i) => originFor(t, 'abc'[i]!, h.handler)));
  health[1]!.status = 503;
  health[2]!.status = 503;
  const hc = { path: '/healthz', interval: '30ms', rise: 1, fall: 1 };
  const servers = origins.map((o) => o.address);
  const hostRec = recordChannel<{ status: string }>('headwater:host');
  t.after(() => hostRec.stop());
  const url = await gatewayFor(t, simpleConfig(servers, { health_check: hc, panic_threshold: '50%' }));
  await until(() => hostRec.events.filter((e) => e.status === 'unhealthy').length === 2, 2000, 'b and c unhealthy');
  assert.deepEqual(tally(await burst(url, 9)), { a: 3, b: 3, c: 3 }, '1 of 3 healthy is below 50%: all three share the load');
  const panic = rec.events.filter((e) => e.kind === 'panic');
  assert.equal(panic.length, 1);
  assert.match(panic[0]!.reason, /1 of 3 primary servers healthy, below panic_threshold 50%/);
  health[1]!.status = 200;
  await until(() => hostRec.events.filter((e) => e.status === 'healthy').length >= 2, 2000, 'b healthy');
  assert.deepEqual(tally(await burst(url, 6)), { a: 3, b: 3 }, '2 of 3 healthy: no panic');
  assert.equal(rec.events.filter((e) => e.kind === 'panic_over').length, 1);
  assert.equal(rec.events.filter((e) => e.kind === 'panic').length, 1, 'entering panic is logged once');
});
