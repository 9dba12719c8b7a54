import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCtx, makeHosts, tally, testDeps } from '../test-helpers.js';
import { randomTwo } from './random-two.js';

describe('random_two', () => {
  test('idle hosts are chosen by weight 3,1,1', () => {
    const hosts = makeHosts(3, 1, 1);
    const b = randomTwo(testDeps(3), {});
    const { counts } = tally(hosts, 5000, () => b.pick(makeCtx(), hosts));
    [0.6, 0.2, 0.2].forEach((share, k) => assert.ok(Math.abs(counts[k] / 5000 - share) < 0.03, `counts ${counts}`));
  });

  test('of two hosts, the less loaded always wins', () => {
    const hosts = makeHosts(1, 1);
    hosts[0].state.inflight = 5;
    const b = randomTwo(testDeps(4), {});
    assert.deepEqual(tally(hosts, 500, () => b.pick(makeCtx(), hosts)).counts, [0, 500]);
  });

  test('prefers the least loaded host in a clear majority of picks', () => {
    const hosts = makeHosts(1, 1, 1, 1);
    hosts.forEach((h, i) => (h.state.inflight = [9, 0, 6, 3][i]));
    const b = randomTwo(testDeps(5), {});
    const { counts } = tally(hosts, 4000, () => b.pick(makeCtx(), hosts));
    // the lightest wins whenever it is one of the two drawn: 1/2 of draws; the heaviest never
    assert.ok(counts[1] / 4000 > 0.45, `counts ${counts}`);
    assert.equal(counts[0], 0);
    assert.ok(counts[1] > counts[3] && counts[3] > counts[2], `counts ${counts}`);
  });

  test('load is compared per unit of weight', () => {
    const hosts = makeHosts(4, 1);
    hosts[0].state.inflight = 2; // 0.5 per weight
    hosts[1].state.inflight = 1; // 1 per weight
    const b = randomTwo(testDeps(6), {});
    assert.deepEqual(tally(hosts, 200, () => b.pick(makeCtx(), hosts)).counts, [200, 0]);
  });

  test('never draws the same host twice', () => {
    const hosts = makeHosts(100, 1);
    hosts[0].state.inflight = 1000; // 10 per weight: the light host must win whenever both are drawn
    const b = randomTwo(testDeps(8), {});
    assert.deepEqual(tally(hosts, 300, () => b.pick(makeCtx(), hosts)).counts, [0, 300]);
  });
});
