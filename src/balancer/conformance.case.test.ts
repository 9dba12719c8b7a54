import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { BalanceName } from '../config/types.js';
import type { Host } from '../upstream/host.js';
import { BALANCE_NAMES, createBalancer } from './registry.js';
import { makeCtx, makeHost, makeHosts, testDeps, TEST_NOW } from './test-helpers.js';
import type { Balancer, BalancerOptions, PickContext } from './types.js';

interface Case {
  label: string;
  name: BalanceName;
  options: BalancerOptions;
}

/** Every policy, and both hash flavours on two different keys. */
const CASES: Case[] = BALANCE_NAMES.flatMap((name): Case[] =>
  name === 'hash'
    ? [
        { label: 'hash consistent client_ip', name, options: { hash: { key: 'client_ip', consistent: true } } },
        { label: 'hash modulo header:x-user', name, options: { hash: { key: 'header:x-user', consistent: false } } },
        { label: 'hash consistent cookie:sid', name, options: { hash: { key: 'cookie:sid', consistent: true } } },
      ]
    : [{ label: name, name, options: {} }],
);

/** A different request each i: distinct /24, user header, cookie, path. */
function ctxFor(i: number, excluded: Iterable<Host> = []): PickContext {
  return makeCtx({
    clientIp: `10.${(i >> 8) & 255}.${i & 255}.${i % 7}`,
    path: `/item/${i}?q=${i}`,
    headers: { 'x-user': `user-${i}`, cookie: `a=1; sid=s${i * 31}` },
    excluded,
  });
}

function build(c: Case, hosts: readonly Host[], rebuild = true): Balancer {
  const b = createBalancer(c.name, testDeps(7), c.options);
  if (rebuild) b.rebuild?.(hosts);
  return b;
}

/** Two healthy hosts plus one of each kind of unavailable host. */
function mixedHosts(): { all: Host[]; healthy: Host[] } {
  const [a, b] = makeHosts(1, 2);
  const down = makeHost(9101, 3, { down: true });
  const failed = makeHost(9102, 3);
  failed.state.failedUntil = TEST_NOW + 1;
  const full = makeHost(9103, 3, { maxConns: 2 });
  full.state.inflight = 2;
  const recovered = makeHost(9104, 1);
  recovered.state.failedUntil = TEST_NOW; // failure window over exactly now: available again
  return { all: [down, a, failed, full, b, recovered], healthy: [a, b, recovered] };
}

describe('balancer conformance', () => {
  test('registry covers every policy name', () => {
    assert.deepEqual([...BALANCE_NAMES].sort(), ['hash', 'ip_hash', 'least_conn', 'least_time', 'random_two', 'round_robin']);
    assert.throws(() => createBalancer('nope' as BalanceName, testDeps(), {}), /unknown balance policy/);
    assert.throws(() => createBalancer('hash', testDeps(), {}), /hash key/);
    assert.throws(() => createBalancer('hash', testDeps(), { hash: { key: 'body:x', consistent: true } }), /invalid hash key/);
  });

  for (const c of CASES) {
    describe(c.label, () => {
      test('never picks an excluded host', () => {
        const hosts = makeHosts(1, 1, 1, 1);
        const b = build(c, hosts);
        const excluded = [hosts[0], hosts[2]];
        for (let i = 0; i < 500; i++) {
          const h = b.pick(ctxFor(i, excluded), hosts);
          assert.ok(h === hosts[1] || h === hosts[3], `pick ${i} chose ${h?.id}`);
        }
      });

      test('never picks a down, failed or full host', () => {
        const { all, healthy } = mixedHosts();
        const b = build(c, all);
        for (let i = 0; i < 500; i++) {
          const h = b.pick(ctxFor(i), all);
          assert.ok(h !== undefined && healthy.includes(h), `pick ${i} chose ${h?.id}`);
        }
      });

      test('returns undefined when nothing is available', () => {
        const { all, healthy } = mixedHosts();
        const unavailable = all.filter((h) => !healthy.includes(h));
        const b = build(c, unavailable);
        for (let i = 0; i < 50; i++) assert.equal(b.pick(ctxFor(i), unavailable), undefined);
        const b2 = build(c, all);
        for (let i = 0; i < 50; i++) assert.equal(b2.pick(ctxFor(i, healthy), all), undefined);
        const b3 = build(c, []);
        assert.equal(b3.pick(ctxFor(0), []), undefined);
      });

      test('with one available host returns it', () => {
        const { all, healthy } = mixedHosts();
        const b = build(c, all);
        for (let i = 0; i < 200; i++) assert.equal(b.pick(ctxFor(i, [healthy[0], healthy[2]]), all), healthy[1]);
        const solo = [makeHost(9001)];
        const b2 = build(c, solo);
        for (let i = 0; i < 20; i++) assert.equal(b2.pick(ctxFor(i), solo), solo[0]);
      });

      test('every available host is eventually chosen', () => {
        const { all, healthy } = mixedHosts();
        for (const rebuild of [true, false]) {
          const b = build(c, all, rebuild);
          const seen = new Set<Host>();
          for (let i = 0; i < 2000 && seen.size < healthy.length; i++) {
            const h = b.pick(ctxFor(i), all);
            if (h !== undefined) seen.add(h);
          }
          assert.equal(seen.size, healthy.length, `rebuild=${rebuild}`);
        }
      });

      test('pick does not mutate host state', () => {
        const { all } = mixedHosts();
        all[1].state.inflight = 3;
        all[1].state.ewmaMs = 40;
        all[1].state.ewmaAt = TEST_NOW - 5000;
        all[4].state.ewmaMs = 25;
        all[4].state.ewmaAt = TEST_NOW - 100;
        all[5].state.fails = 1;
        const before = all.map((h) => structuredClone(h.state));
        const b = build(c, all);
        for (let i = 0; i < 300; i++) b.pick(ctxFor(i, i % 3 === 0 ? [all[1]] : []), all);
        assert.deepEqual(
          all.map((h) => h.state),
          before,
        );
      });
    });
  }
});
