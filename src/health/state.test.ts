import { test } from 'node:test';
import assert from 'node:assert/strict';
import diagnostics from 'node:diagnostics_channel';
import { makeHost } from '../balancer/test-helpers.js';
import type { HealthCheckConfig } from '../config/types.js';
import type { HostEvent } from '../observability/events.js';
import { effectiveWeight, isAvailable, isHealthy, PICK_PANIC, PICK_PINNED } from '../upstream/host.js';
import { applyProbe } from './active/verdict.js';
import { recordOutcome } from './passive/outcomes.js';
import { hostStatus, setDraining, startChecking, stopChecking } from './state.js';

const HC: HealthCheckConfig = {
  type: 'http', path: '/', method: 'GET', headers: {}, interval: 1000, unhealthy_interval: 1000, timeout: 500,
  rise: 2, fall: 3, jitter: 0, expect: { status: [[200, 399]] }, initially: 'healthy',
};
const PASS = { ok: true, reason: 'status 200' };
const FAIL = { ok: false, reason: 'status 503' };

function events(t: { after(fn: () => void): void }): HostEvent[] {
  const out: HostEvent[] = [];
  const fn = (m: unknown) => out.push(m as HostEvent);
  diagnostics.subscribe('headwater:host', fn);
  t.after(() => diagnostics.unsubscribe('headwater:host', fn));
  return out;
}

test('initially healthy: checking takes traffic, first pass -> healthy, fall failures -> unhealthy, rise passes -> healthy', (t) => {
  const ev = events(t);
  const h = makeHost(9001);
  startChecking(h, 'healthy', 0);
  assert.equal(hostStatus(h, 0), 'checking');
  assert.ok(isHealthy(h, 0));
  applyProbe(h, HC, PASS, 1);
  assert.equal(hostStatus(h, 1), 'healthy');
  applyProbe(h, HC, FAIL, 2);
  applyProbe(h, HC, FAIL, 3);
  assert.ok(isHealthy(h, 3), 'two failures are below fall 3');
  applyProbe(h, HC, FAIL, 4);
  assert.equal(hostStatus(h, 4), 'unhealthy');
  assert.ok(!isAvailable(h, 4));
  applyProbe(h, HC, PASS, 5);
  assert.equal(hostStatus(h, 5), 'unhealthy', 'one pass is below rise 2');
  applyProbe(h, HC, PASS, 6);
  assert.equal(hostStatus(h, 6), 'healthy');
  assert.deepEqual(ev.map((e) => `${e.previous}->${e.status}/${e.state}`), [
    'healthy->checking/up', 'checking->healthy/up', 'healthy->unhealthy/down', 'unhealthy->healthy/up',
  ]);
  assert.ok(ev.every((e) => e.signal === 'active' && e.upstream === 'web' && e.server === '127.0.0.1:9001' && e.reason.length > 0));
});

test('initially unhealthy: no traffic until rise passes; the first failure is a verdict', () => {
  const a = makeHost(9001);
  startChecking(a, 'unhealthy', 0);
  assert.equal(hostStatus(a, 0), 'checking');
  assert.ok(!isHealthy(a, 0));
  applyProbe(a, HC, PASS, 1);
  assert.ok(!isHealthy(a, 1));
  applyProbe(a, HC, PASS, 2);
  assert.equal(hostStatus(a, 2), 'healthy');
  const b = makeHost(9002);
  startChecking(b, 'unhealthy', 0);
  applyProbe(b, HC, FAIL, 1);
  assert.equal(hostStatus(b, 1), 'unhealthy');
  stopChecking(b, 2);
  assert.equal(hostStatus(b, 2), 'healthy', 'removing checks drops their verdict');
});

test('every signal must allow traffic; the shown state follows the documented order', () => {
  const h = makeHost(9001, 1, { slowStart: 1000 });
  startChecking(h, 'healthy', 0);
  applyProbe(h, HC, PASS, 0);
  recordOutcome(h, true, 10, false, 'error');
  assert.equal(hostStatus(h, 10), 'failed');
  assert.ok(!isHealthy(h, 10));
  assert.ok(isAvailable(h, 10, PICK_PANIC), 'panic mode ignores health');
  setDraining(h, true, 11);
  assert.equal(hostStatus(h, 11), 'draining');
  assert.ok(!isAvailable(h, 11, PICK_PANIC), 'panic never uses a draining server');
  assert.ok(!isAvailable(h, 11, PICK_PINNED), 'still failed');
  setDraining(h, false, 12);
  // fail_timeout (10s) runs out at 10010: back in service, slow start ramps from there.
  assert.ok(isHealthy(h, 10_010));
  assert.equal(effectiveWeight(h, 10_010), 0.1);
  assert.equal(effectiveWeight(h, 10_510), 0.5);
  recordOutcome(h, false, 10_600, false, 'ok');
  assert.equal(effectiveWeight(h, 10_760), 0.75, 'a success keeps the ramp where it was');
  assert.equal(effectiveWeight(h, 11_010), 1);
});

test('a sticky pin may reach a draining server, nothing else may', () => {
  const h = makeHost(9001);
  setDraining(h, true, 0);
  assert.ok(!isAvailable(h, 0));
  assert.ok(isAvailable(h, 0, PICK_PINNED));
});
