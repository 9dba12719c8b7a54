import { test } from 'node:test';
import assert from 'node:assert/strict';
import { originFor } from './helpers/origin.js';
import { startGateway, gatewayFor, simpleConfig, fetchText } from './helpers/gateway.js';
import { burst, holdSlow, later, recordChannel, tally, until } from './helpers/behaviour.js';
import type { HostEvent } from '../src/observability/events.js';

const listener = { listeners: [{ name: 'test', address: '127.0.0.1:0' }], access_log: { enabled: false } };

test('drain through reload: in-flight requests finish, new ones avoid the server, undrain brings it back', async (t) => {
  const rec = recordChannel<HostEvent>('headwater:host');
  t.after(() => rec.stop());
  const h = holdSlow('a');
  const a = await originFor(t, 'a', h.handler);
  const b = await originFor(t, 'b');
  const { gw, url } = await startGateway(simpleConfig([a.address, b.address]));
  t.after(() => gw.close(0));
  const inflight = later(fetchText(`${url}/slow`));
  await until(() => h.held.length === 1, 2000, 'a request in flight on a');
  await gw.reload({ ...listener, ...simpleConfig([{ address: a.address, drain: true }, b.address]) });
  const ev = rec.events.find((e) => e.server === a.address);
  assert.deepEqual([ev?.status, ev?.previous, ev?.signal, ev?.state], ['draining', 'healthy', 'drain', 'down']);
  assert.deepEqual(tally(await burst(url, 6)), { b: 6 });
  h.release();
  const r = await inflight;
  assert.equal(r.status, 200);
  assert.equal(r.body, 'a-slow', 'the in-flight request finished on the draining server');
  await gw.reload({ ...listener, ...simpleConfig([a.address, b.address]) });
  assert.deepEqual(tally(await burst(url, 4)), { a: 2, b: 2 });
  assert.equal(rec.events.filter((e) => e.server === a.address).at(-1)?.status, 'healthy');
});

test('sticky cookie: the first response pins the client, later requests follow the pin', async (t) => {
  const origins = await Promise.all(['a', 'b', 'c'].map((n) => originFor(t, n)));
  const url = await gatewayFor(t, simpleConfig(origins.map((o) => o.address), { sticky: { cookie: 'hw_srv', ttl: '1h' } }));
  const first = await fetchText(`${url}/`);
  const set = String(first.headers['set-cookie']);
  const m = /^hw_srv=([A-Za-z0-9_-]+); Path=\/; Max-Age=3600; HttpOnly$/.exec(set);
  assert.ok(m, `Set-Cookie: ${set}`);
  assert.ok(!set.includes('127.0.0.1') && !origins.some((o) => set.includes(String(o.port))), 'the cookie does not reveal the address');
  const pinned = String(first.headers['x-origin']);
  const again = await burst(url, 6, { cookie: `theme=dark; hw_srv=${m[1]}` });
  assert.deepEqual(tally(again), { [pinned]: 6 });
  assert.ok(again.every((r) => r.headers['set-cookie'] === undefined), 'an honoured pin is not set again');
  const stranger = await fetchText(`${url}/`, { headers: { cookie: 'hw_srv=nosuchserver' } });
  assert.match(String(stranger.headers['set-cookie']), /^hw_srv=[A-Za-z0-9_-]+; /, 'an unknown pin is replaced');
});

test('sticky cookie: a pinned server that is unavailable is replaced; a draining one keeps its clients', async (t) => {
  const origins = await Promise.all(['a', 'b'].map((n) => originFor(t, n)));
  const [a, b] = origins as [(typeof origins)[0], (typeof origins)[0]];
  const sticky = { sticky: { cookie: 'srv' } };
  const { gw, url } = await startGateway(simpleConfig([a.address, b.address], sticky));
  t.after(() => gw.close(0));
  let r = await fetchText(`${url}/`);
  while (r.headers['x-origin'] !== 'a') r = await fetchText(`${url}/`);
  const cookie = String(r.headers['set-cookie']).split(';')[0]!;
  assert.match(String(r.headers['set-cookie']), /^srv=[^;]+; Path=\/; HttpOnly$/, 'ttl 0: a session cookie');
  await gw.reload({ ...listener, ...simpleConfig([{ address: a.address, drain: true }, b.address], sticky) });
  assert.deepEqual(tally(await burst(url, 3, { cookie })), { a: 3 }, 'NGINX drain: pinned clients still reach it');
  assert.deepEqual(tally(await burst(url, 3)), { b: 3 }, 'new clients do not');
  await gw.reload({ ...listener, ...simpleConfig([{ address: a.address, down: true }, b.address], sticky) });
  const moved = await fetchText(`${url}/`, { headers: { cookie } });
  assert.equal(moved.headers['x-origin'], 'b');
  const replaced = String(moved.headers['set-cookie']).split(';')[0]!;
  assert.notEqual(replaced, cookie);
  assert.deepEqual(tally(await burst(url, 3, { cookie: replaced })), { b: 3 });
});
