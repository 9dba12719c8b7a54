import { HeadwaterError } from '../../errors.js';
import type { Host } from '../../upstream/host.js';
import { compileHashKey, hash32, hostAtWeight, totalWeight, type HashKeyFn } from '../hash-key.js';
import type { Balancer, BalancerFactory, PickContext } from '../types.js';
import { eligible, SmoothWeighted } from './round-robin.js';

/** Ring points per unit of weight (ketama's 160): enough for an even spread with a few servers. */
export const POINTS_PER_WEIGHT = 160;
/** Rehash attempts of the modulo variant before falling back to round robin, as NGINX does. */
const MAX_TRIES = 20;
/** Ring entries pack (point hash, host index) into one double; index must stay below this. */
const INDEX_SPACE = 2 ** 20;

/** True when two host lists hold the same hosts in the same order (so the ring is still valid). */
function sameHosts(a: readonly Host[], b: readonly Host[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Consistent hashing on a ketama-style ring: each host owns POINTS_PER_WEIGHT * weight points at
 * hash32("address-i"); a key goes to the first point clockwise from its hash, walking on past
 * hosts that are unavailable or already tried. Removing a server moves only that server's keys.
 */
class ConsistentHash implements Balancer {
  private ringHash = new Uint32Array(0);
  private ringHost = new Uint32Array(0);
  private ringHosts: readonly Host[] = [];
  private lastSeen: readonly Host[] = [];

  constructor(private readonly key: HashKeyFn) {}

  rebuild(hosts: readonly Host[]): void {
    const n = Math.min(hosts.length, INDEX_SPACE);
    let points = 0;
    for (let i = 0; i < n; i++) points += POINTS_PER_WEIGHT * Math.max(0, hosts[i].weight);
    const packed = new Float64Array(points);
    let k = 0;
    for (let i = 0; i < n; i++) {
      const count = POINTS_PER_WEIGHT * Math.max(0, hosts[i].weight);
      for (let p = 0; p < count; p++) packed[k++] = hash32(`${hosts[i].address}-${p}`) * INDEX_SPACE + i;
    }
    packed.sort();
    this.ringHash = new Uint32Array(points);
    this.ringHost = new Uint32Array(points);
    for (let j = 0; j < points; j++) {
      const idx = packed[j] % INDEX_SPACE;
      this.ringHost[j] = idx;
      this.ringHash[j] = (packed[j] - idx) / INDEX_SPACE;
    }
    this.ringHosts = hosts.slice(0, n);
    this.lastSeen = hosts;
  }

  pick(ctx: PickContext, hosts: readonly Host[]): Host | undefined {
    if (hosts !== this.lastSeen) {
      if (sameHosts(hosts, this.ringHosts)) this.lastSeen = hosts;
      else this.rebuild(hosts);
    }
    const ring = this.ringHash;
    const len = ring.length;
    const target = hash32(this.key(ctx));
    let lo = 0;
    let hi = len;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ring[mid] < target) lo = mid + 1;
      else hi = mid;
    }
    for (let s = 0; s < len; s++) {
      const j = lo + s < len ? lo + s : lo + s - len;
      const h = this.ringHosts[this.ringHost[j]];
      if (eligible(h, ctx)) return h;
    }
    return undefined;
  }
}

/**
 * NGINX `hash` without `consistent`: the key's hash modulo the total weight of all servers, rehashed
 * with a new seed while the chosen server is unavailable or tried, then weighted round robin.
 * Cheap and even, but adding or removing a server remaps most keys.
 */
class ModuloHash implements Balancer {
  private readonly rr = new SmoothWeighted();

  constructor(private readonly key: HashKeyFn) {}

  pick(ctx: PickContext, hosts: readonly Host[]): Host | undefined {
    const total = totalWeight(hosts);
    if (total > 0) {
      const key = this.key(ctx);
      for (let tries = 0; tries < MAX_TRIES; tries++) {
        const h = hostAtWeight(hosts, hash32(key, tries) % total);
        if (h !== undefined && eligible(h, ctx)) return h;
      }
    }
    return this.rr.pick(ctx, hosts);
  }

  rebuild(): void {
    this.rr.reset();
  }
}

/**
 * hash: affinity by a request attribute (options.hash.key), e.g. a cache shard per URI or a
 * session per cookie. Requires options.hash; an unknown key spec fails at creation (HW_ERR_CONFIG).
 */
export const hashBalancer: BalancerFactory = (_deps, options) => {
  if (options.hash === undefined) throw new HeadwaterError('HW_ERR_CONFIG', 'balance "hash" needs a hash key (hash.key)');
  const key = compileHashKey(options.hash.key);
  return options.hash.consistent ? new ConsistentHash(key) : new ModuloHash(key);
};
