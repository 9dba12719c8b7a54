import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCtx, makeHosts } from '../balancer/test-helpers.js';
import { setDraining } from '../health/state.js';
import { cookieValue, Sticky, stickyToken } from './sticky.js';
import { TrafficState } from './traffic.js';

test('cookieValue finds a cookie among others, trimmed, and nothing else', () => {
  assert.equal(cookieValue('a=1; hw_srv=abc; b=2', 'hw_srv'), 'abc');
  assert.equal(cookieValue('hw_srv=abc', 'hw_srv'), 'abc');
  assert.equal(cookieValue('xhw_srv=abc; hw_srv2=d', 'hw_srv'), undefined);
  assert.equal(cookieValue(undefined, 'hw_srv'), undefined);
});

test('a pin to an available (or draining) server holds; Set-Cookie only when the pin changes', () => {
  const [a, b] = makeHosts(1, 1);
  const s = new Sticky({ cookie: 'srv', ttl: 3_600_000, path: '/', secure: true, domain: 'example.com' }, [a!, b!]);
  const cookie = `srv=${stickyToken(b!)}`;
  const ctx = makeCtx({ headers: { cookie } });
  assert.equal(s.pinned(ctx), b);
  assert.equal(s.setCookie(ctx, b!), undefined);
  assert.equal(s.setCookie(ctx, a!), `srv=${stickyToken(a!)}; Path=/; Domain=example.com; Max-Age=3600; HttpOnly; Secure`);
  setDraining(b!, true, 0);
  assert.equal(s.pinned(ctx), b, 'NGINX drain: pinned clients still get through');
  assert.equal(s.pinned(makeCtx({ headers: { cookie }, excluded: [b!] })), undefined, 'never a server already tried');
  assert.equal(s.pinned(makeCtx({ headers: { cookie: 'srv=unknown' } })), undefined);
  assert.ok(!stickyToken(a!).includes('9001'));
});

test('retry budget: max(min_concurrency, percent of attempts in flight)', () => {
  const t = new TrafficState();
  const [h] = makeHosts(1);
  const budget = { percent: 20, min_concurrency: 2 };
  for (let i = 0; i < 20; i++) t.acquire(h!, false);
  t.acquire(h!, true);
  t.acquire(h!, true);
  t.acquire(h!, true);
  assert.equal(t.active, 23);
  assert.equal(t.retries, 3);
  assert.ok(t.retryAllowed(budget), '3 < 20% of 23 = 4');
  t.acquire(h!, true);
  assert.ok(!t.retryAllowed(budget), '4 retries: the budget of 4 is spent');
  for (let i = 0; i < 20; i++) t.release(h!, false);
  assert.ok(!t.retryAllowed(budget), 'min_concurrency 2 < 4 in flight');
  t.release(h!, true);
  t.release(h!, true);
  assert.ok(t.retryAllowed({ percent: 20, min_concurrency: 3 }));
  assert.equal(h!.state.inflight, 2);
});
