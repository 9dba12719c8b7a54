import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCtx, makeHosts, tally, testDeps } from '../test-helpers.js';
import { roundRobin } from './round-robin.js';

describe('round_robin', () => {
  test('weights 5,1,1 give a a b a c a a, repeating', () => {
    const hosts = makeHosts(5, 1, 1);
    const b = roundRobin(testDeps(), {});
    const names = ['a', 'b', 'c'];
    const seq: string[] = [];
    for (let i = 0; i < 21; i++) {
      const h = b.pick(makeCtx(), hosts);
      seq.push(h === undefined ? '-' : names[hosts.indexOf(h)]);
    }
    assert.equal(seq.join(''), 'aabacaa'.repeat(3));
  });

  test('weights 3,1,1 over 5,000 picks are exact', () => {
    const hosts = makeHosts(3, 1, 1);
    const b = roundRobin(testDeps(), {});
    const ctx = makeCtx();
    assert.deepEqual(tally(hosts, 5000, () => b.pick(ctx, hosts)).counts, [3000, 1000, 1000]);
  });

  test('equal weights alternate strictly', () => {
    const hosts = makeHosts(1, 1, 1);
    const b = roundRobin(testDeps(), {});
    const ctx = makeCtx();
    const seq = Array.from({ length: 6 }, () => hosts.indexOf(b.pick(ctx, hosts)!));
    assert.deepEqual(seq, [0, 1, 2, 0, 1, 2]);
  });

  test('skips an excluded host and shares its turns by weight', () => {
    const hosts = makeHosts(1, 2, 1);
    const b = roundRobin(testDeps(), {});
    const ctx = makeCtx({ excluded: [hosts[1]] });
    assert.deepEqual(tally(hosts, 1000, () => b.pick(ctx, hosts)).counts, [500, 0, 500]);
  });

  test('a host that comes back rejoins the rotation', () => {
    const hosts = makeHosts(1, 1);
    const b = roundRobin(testDeps(), {});
    hosts[0].state.failedUntil = 2_000_000;
    assert.deepEqual(tally(hosts, 10, () => b.pick(makeCtx(), hosts)).counts, [0, 10]);
    assert.deepEqual(tally(hosts, 10, () => b.pick(makeCtx({ now: 2_000_000 }), hosts)).counts, [5, 5]);
  });

  test('a new host list keeps each host\'s place in the cycle', () => {
    const [a, b2, c] = makeHosts(5, 1, 1);
    const bal = roundRobin(testDeps(), {});
    const ctx = makeCtx();
    const names = new Map([[a, 'a'], [b2, 'b'], [c, 'c']]);
    const first = [a, b2, c];
    const seq = Array.from({ length: 3 }, () => names.get(bal.pick(ctx, first)!));
    assert.deepEqual(seq, ['a', 'a', 'b']);
    // The same hosts in another order (a new array): the cycle goes on where it was.
    const reordered = [c, a, b2];
    const rest = Array.from({ length: 4 }, () => names.get(bal.pick(ctx, reordered)!));
    assert.deepEqual(rest, ['a', 'c', 'a', 'a']);
  });
});
