import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { currentLatency, LATENCY_TAU_MS, recordLatency } from '../../upstream/latency.js';
import { makeCtx, makeHost, makeHosts, tally, testDeps, TEST_NOW } from '../test-helpers.js';
import { leastTime } from './least-time.js';

const close = (a: number, b: number, msg?: string) => assert.ok(Math.abs(a - b) < 1e-9 * Math.max(1, Math.abs(b)), msg ?? `${a} != ${b}`);

describe('latency peak-EWMA', () => {
  test('first sample and higher samples replace the value at once', () => {
    const { state } = makeHost(9001);
    recordLatency(state, 20, 1000);
    assert.equal(state.ewmaMs, 20);
    assert.equal(state.ewmaAt, 1000);
    recordLatency(state, 80, 1001);
    assert.equal(state.ewmaMs, 80);
  });

  test('lower samples pull the value down with weight exp(-dt/tau)', () => {
    const { state } = makeHost(9001);
    recordLatency(state, 100, 0);
    recordLatency(state, 10, LATENCY_TAU_MS);
    close(state.ewmaMs, 100 * Math.exp(-1) + 10 * (1 - Math.exp(-1)));
    recordLatency(state, 5, LATENCY_TAU_MS); // dt = 0: no movement
    close(state.ewmaMs, 100 * Math.exp(-1) + 10 * (1 - Math.exp(-1)));
    for (let t = 2; t < 40; t++) recordLatency(state, 10, t * LATENCY_TAU_MS);
    close(state.ewmaMs, 10, `converges: ${state.ewmaMs}`);
  });

  test('reads decay toward zero since the last sample and do not write', () => {
    const { state } = makeHost(9001);
    assert.equal(currentLatency(state, 5000), 0);
    recordLatency(state, 50, 1000);
    assert.equal(currentLatency(state, 1000), 50);
    close(currentLatency(state, 1000 + 2 * LATENCY_TAU_MS), 50 * Math.exp(-2));
    close(currentLatency(state, 1000 + 500, 1000), 50 * Math.exp(-0.5));
    assert.equal(state.ewmaMs, 50);
    assert.equal(state.ewmaAt, 1000);
  });

  test('ignores invalid samples', () => {
    const { state } = makeHost(9001);
    recordLatency(state, Number.NaN, 1);
    recordLatency(state, -5, 1);
    recordLatency(state, Number.POSITIVE_INFINITY, 1);
    assert.equal(state.ewmaMs, 0);
  });
});

describe('least_time', () => {
  const measured = (...ms: number[]) => {
    const hosts = makeHosts(...ms.map(() => 1));
    hosts.forEach((h, i) => recordLatency(h.state, ms[i], TEST_NOW));
    return hosts;
  };

  test('prefers the lower latency', () => {
    const hosts = measured(30, 10, 20);
    const b = leastTime(testDeps(), {});
    assert.deepEqual(tally(hosts, 50, () => b.pick(makeCtx(), hosts)).counts, [0, 50, 0]);
  });

  test('penalises in-flight requests: latency * (inflight + 1)', () => {
    const hosts = measured(10, 25);
    hosts[0].state.inflight = 2; // 30 vs 25
    const b = leastTime(testDeps(), {});
    assert.equal(b.pick(makeCtx(), hosts), hosts[1]);
    hosts[0].state.inflight = 1; // 20 vs 25
    assert.equal(b.pick(makeCtx(), hosts), hosts[0]);
  });

  test('divides by weight', () => {
    const hosts = [makeHost(9001, 3), makeHost(9002, 1)];
    recordLatency(hosts[0].state, 20, TEST_NOW); // 20/3
    recordLatency(hosts[1].state, 10, TEST_NOW); // 10
    assert.equal(leastTime(testDeps(), {}).pick(makeCtx(), hosts), hosts[0]);
  });

  test('unmeasured idle hosts are probed first, in turn', () => {
    const hosts = measured(5, 0, 0);
    const b = leastTime(testDeps(), {});
    assert.deepEqual([b.pick(makeCtx(), hosts), b.pick(makeCtx(), hosts)], [hosts[1], hosts[2]]);
    hosts[1].state.inflight = 1; // probe pending: scored like the slowest measured host, 5 * 2
    hosts[2].state.inflight = 1;
    assert.equal(b.pick(makeCtx(), hosts), hosts[0]);
  });

  test('when nothing is measured it is weighted round robin (3,1,1)', () => {
    const hosts = makeHosts(3, 1, 1);
    const b = leastTime(testDeps(), {});
    assert.deepEqual(tally(hosts, 5000, () => b.pick(makeCtx(), hosts)).counts, [3000, 1000, 1000]);
  });

  test('equal scores rotate', () => {
    const hosts = measured(10, 10, 10);
    const b = leastTime(testDeps(), {});
    assert.deepEqual(tally(hosts, 300, () => b.pick(makeCtx(), hosts)).counts, [100, 100, 100]);
  });

  test('an old slow sample decays so the host is retried', () => {
    const hosts = makeHosts(1, 1);
    recordLatency(hosts[0].state, 100, TEST_NOW - 3 * LATENCY_TAU_MS); // ~4.98 now
    recordLatency(hosts[1].state, 20, TEST_NOW);
    assert.equal(leastTime(testDeps(), {}).pick(makeCtx(), hosts), hosts[0]);
    assert.equal(leastTime(testDeps(1, TEST_NOW - 3 * LATENCY_TAU_MS + 1), {}).pick(makeCtx(), hosts), hosts[1]);
  });
});
