import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeHosts, testDeps } from '../../balancer/test-helpers.js';
import type { OutlierConfig, UpstreamConfig } from '../../config/types.js';
import { UpstreamGroup } from '../../upstream/group.js';
import { hostStatus } from '../state.js';
import { ejectionTime, recordOutlier } from './detector.js';
import { sweep } from './sweep.js';

const OD: OutlierConfig = {
  consecutive_5xx: 3, consecutive_gateway_failure: 0, enforcing_consecutive_5xx: 100, enforcing_consecutive_gateway_failure: 100,
  interval: 1000, base_ejection_time: 1000, max_ejection_time: 2500, max_ejection_percent: 50,
  success_rate: { minimum_hosts: 3, request_volume: 10, stdev_factor: 1000, enforcing: 100 },
};

function group(n: number, od: OutlierConfig = OD): UpstreamGroup {
  const up = { name: 'web', balance: 'round_robin', panic_threshold: 0, retry: { on: ['error'] }, servers: [], outlier_detection: od } as unknown as UpstreamConfig;
  return new UpstreamGroup(up, makeHosts(...Array<number>(n).fill(1)), testDeps());
}

test('ejection time grows with ejections in a row, capped by max_ejection_time', () => {
  assert.deepEqual([1, 2, 3, 4].map((m) => ejectionTime(OD, m)), [1000, 2000, 2500, 2500]);
});

test('consecutive 5xx: a success in between resets the count; the sweep returns the server, then lowers the multiplier', () => {
  const g = group(4);
  const h = g.hosts[0]!;
  recordOutlier(g, h, 'ok', 500, 0);
  recordOutlier(g, h, 'ok', 500, 0);
  recordOutlier(g, h, 'ok', 200, 0);
  recordOutlier(g, h, 'ok', 500, 0);
  recordOutlier(g, h, 'ok', 503, 0);
  assert.equal(hostStatus(h, 0), 'healthy');
  recordOutlier(g, h, 'error', undefined, 10);
  assert.equal(hostStatus(h, 10), 'ejected');
  sweep(g, 1000);
  assert.equal(hostStatus(h, 1000), 'ejected', 'not yet: ejected at 10 for 1000ms');
  sweep(g, 1010);
  assert.equal(hostStatus(h, 1010), 'healthy');
  assert.equal(h.state.outlier.multiplier, 1);
  for (let i = 0; i < 3; i++) recordOutlier(g, h, 'timeout', undefined, 1020);
  assert.equal(h.state.outlier.ejectedFor, 2000, 'second ejection in a row: twice as long');
  sweep(g, 3020);
  assert.equal(h.state.outlier.multiplier, 2, 'just back: no step down yet');
  sweep(g, 4020);
  assert.equal(h.state.outlier.multiplier, 1, 'back for base_ejection_time: one step down per interval');
  sweep(g, 5020);
  assert.equal(h.state.outlier.multiplier, 0);
});

test('success rate: a server far below its peers is ejected; too few judged servers, none', () => {
  const g = group(4);
  const [a, b, c, d] = g.hosts;
  const feed = (h: typeof a, ok: number, bad: number) => {
    for (let i = 0; i < ok; i++) recordOutlier(g, h!, 'ok', 200, 0);
    for (let i = 0; i < bad; i++) recordOutlier(g, h!, 'ok', i % 2 ? 200 : 500, 0);
  };
  feed(a, 20, 0);
  feed(b, 20, 0);
  feed(c, 19, 1);
  feed(d, 6, 14); // 7 of 14 bad ones are 500s, never 3 in a row
  assert.equal(hostStatus(d!, 0), 'healthy');
  sweep(g, 1);
  assert.equal(hostStatus(d!, 1), 'ejected');
  assert.deepEqual([a, b, c].map((h) => hostStatus(h!, 1)), ['healthy', 'healthy', 'healthy']);
  assert.equal(d!.state.outlier.total, 0, 'the interval counts start over');
  const small = group(4, { ...OD, success_rate: { ...OD.success_rate, minimum_hosts: 5 } });
  for (const h of small.hosts) for (let i = 0; i < 10; i++) recordOutlier(small, h, 'ok', h === small.hosts[0] ? 502 + (i % 2) * -302 : 200, 0);
  sweep(small, 1);
  assert.ok(small.hosts.every((h) => hostStatus(h, 1) === 'healthy'));
});

test('max_ejection_percent: never more than the share, always at least one; never the only server', () => {
  const g = group(4, { ...OD, max_ejection_percent: 50 });
  for (const h of g.hosts) for (let i = 0; i < 3; i++) recordOutlier(g, h, 'ok', 500, 0);
  assert.equal(g.hosts.filter((h) => h.state.ejected).length, 2);
  const low = group(4, { ...OD, max_ejection_percent: 0 });
  for (const h of low.hosts) for (let i = 0; i < 3; i++) recordOutlier(low, h, 'ok', 500, 0);
  assert.equal(low.hosts.filter((h) => h.state.ejected).length, 1);
  const sole = group(1);
  for (let i = 0; i < 5; i++) recordOutlier(sole, sole.hosts[0]!, 'ok', 500, 0);
  assert.equal(sole.hosts[0]!.state.ejected, false);
});
