import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCtx, makeHosts, tally, testDeps } from '../test-helpers.js';
import { leastConn } from './least-conn.js';

describe('least_conn', () => {
  test('when idle it is weighted round robin (5,1,1 -> a a b a c a a)', () => {
    const hosts = makeHosts(5, 1, 1);
    const b = leastConn(testDeps(), {});
    const seq = Array.from({ length: 14 }, () => 'abc'[hosts.indexOf(b.pick(makeCtx(), hosts)!)]).join('');
    assert.equal(seq, 'aabacaa'.repeat(2));
  });

  test('weights 3,1,1 over 5,000 idle picks are exact', () => {
    const hosts = makeHosts(3, 1, 1);
    const b = leastConn(testDeps(), {});
    assert.deepEqual(tally(hosts, 5000, () => b.pick(makeCtx(), hosts)).counts, [3000, 1000, 1000]);
  });

  test('prefers the host with the fewest in-flight requests', () => {
    const hosts = makeHosts(1, 1, 1);
    hosts[0].state.inflight = 3;
    hosts[1].state.inflight = 1;
    hosts[2].state.inflight = 2;
    const b = leastConn(testDeps(), {});
    for (let i = 0; i < 20; i++) assert.equal(b.pick(makeCtx(), hosts), hosts[1]);
  });

  test('compares in-flight per unit of weight', () => {
    const hosts = makeHosts(4, 1);
    hosts[0].state.inflight = 3; // 0.75 per weight
    hosts[1].state.inflight = 1; // 1 per weight
    const b = leastConn(testDeps(), {});
    assert.equal(b.pick(makeCtx(), hosts), hosts[0]);
    hosts[0].state.inflight = 4; // 1 per weight: tie, broken by weighted round robin
    assert.deepEqual(tally(hosts, 500, () => b.pick(makeCtx(), hosts)).counts, [400, 100]);
  });

  test('filling up without completions keeps load proportional to weight', () => {
    const hosts = makeHosts(3, 1, 1);
    const b = leastConn(testDeps(), {});
    for (let i = 0; i < 50; i++) b.pick(makeCtx(), hosts)!.state.inflight++;
    assert.deepEqual(hosts.map((h) => h.state.inflight), [30, 10, 10]);
  });

  test('skips the least loaded host when it is excluded', () => {
    const hosts = makeHosts(1, 1, 1);
    hosts[0].state.inflight = 0;
    hosts[1].state.inflight = 5;
    hosts[2].state.inflight = 2;
    const b = leastConn(testDeps(), {});
    assert.equal(b.pick(makeCtx({ excluded: [hosts[0]] }), hosts), hosts[2]);
  });
});
