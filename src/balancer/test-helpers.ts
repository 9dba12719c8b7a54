import { Host } from '../upstream/host.js';
import type { BalancerDeps, PickContext } from './types.js';

/** Fixed clock for balancer tests so availability and EWMA decay repeat exactly. */
export const TEST_NOW = 1_000_000;

/** Small seeded PRNG (mulberry32) in [0, 1): deterministic randomness for BalancerDeps in tests. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Deterministic deps for tests: seeded random, fixed clock. */
export function testDeps(seed = 1, now = TEST_NOW): BalancerDeps {
  return { random: mulberry32(seed), now: () => now };
}

/** A test server on 127.0.0.1:`port` with the given weight and limits. */
export function makeHost(port: number, weight = 1, opts: { down?: boolean; maxConns?: number; slowStart?: number } = {}): Host {
  return new Host('web', {
    address: `127.0.0.1:${port}`,
    host: '127.0.0.1',
    port,
    weight,
    backup: false,
    down: opts.down ?? false,
    max_fails: 1,
    fail_timeout: 10000,
    max_conns: opts.maxConns ?? 0,
    slow_start: opts.slowStart ?? 0,
    drain: false,
    resolve: false,
  });
}

/** One host per weight, on ports 9001, 9002, ... */
export function makeHosts(...weights: number[]): Host[] {
  return weights.map((w, i) => makeHost(9001 + i, w));
}

/** A plain PickContext; headers are given lower-cased. */
export function makeCtx(over: {
  clientIp?: string;
  path?: string;
  headers?: Record<string, string>;
  excluded?: Iterable<Host>;
  now?: number;
} = {}): PickContext {
  const headers = over.headers ?? {};
  return {
    method: 'GET',
    path: over.path ?? '/',
    clientIp: over.clientIp ?? '10.0.0.1',
    header: (name) => (Object.hasOwn(headers, name) ? headers[name] : undefined),
    excluded: new Set(over.excluded ?? []),
    now: over.now ?? TEST_NOW,
    panic: false,
  };
}

/** Counts picks per host over `n` calls of `pickOne`, in host order (undefined picks counted apart). */
export function tally(hosts: readonly Host[], n: number, pickOne: (i: number) => Host | undefined): { counts: number[]; none: number } {
  const counts = hosts.map(() => 0);
  let none = 0;
  for (let i = 0; i < n; i++) {
    const h = pickOne(i);
    if (h === undefined) none++;
    else counts[hosts.indexOf(h)]++;
  }
  return { counts, none };
}
