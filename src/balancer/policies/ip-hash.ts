import type { Host } from '../../upstream/host.js';
import { hostAtWeight, totalWeight } from '../hash-key.js';
import type { Balancer, BalancerFactory, PickContext } from '../types.js';
import { eligible, SmoothWeighted } from './round-robin.js';

/** NGINX gives up rehashing after 20 tries and falls back to round robin. */
const MAX_TRIES = 20;

/**
 * Packs the first three octets of a dotted IPv4 address found at `start` into one number, or -1
 * when the text is not a well-formed IPv4 address. Parses in place: no split, no allocation.
 */
export function ipv4Prefix24(ip: string, start: number): number {
  let octet = -1;
  let dots = 0;
  let packed = 0;
  for (let i = start; i < ip.length; i++) {
    const c = ip.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      octet = octet < 0 ? c - 48 : octet * 10 + (c - 48);
      if (octet > 255) return -1;
    } else if (c === 46 && octet >= 0 && dots < 3) {
      packed = packed * 256 + octet;
      dots++;
      octet = -1;
    } else {
      return -1;
    }
  }
  return dots === 3 && octet >= 0 ? packed : -1;
}

/** Where the address proper starts: past an IPv4-mapped "::ffff:" prefix when one is present. */
function addressStart(ip: string): number {
  return ip.length > 7 && ip.charCodeAt(0) === 58 && ip.slice(0, 7).toLowerCase() === '::ffff:' ? 7 : 0;
}

/**
 * NGINX ip_hash: clients of one IPv4 /24 (or one whole IPv6 address) stick to one server. The hash
 * is NGINX's own (h = (h * 113 + byte) % 6271, seeded 89, over the 3 octets, or over the text of
 * an IPv6 address), taken modulo the total weight of all servers; a chosen server that is
 * unavailable or already tried triggers a rehash, and after 20 tries weighted round robin.
 */
class IpHash implements Balancer {
  private readonly rr = new SmoothWeighted();

  pick(ctx: PickContext, hosts: readonly Host[]): Host | undefined {
    const total = totalWeight(hosts);
    if (total <= 0) return this.rr.pick(ctx, hosts);
    const ip = ctx.clientIp;
    const start = addressStart(ip);
    const v4 = ipv4Prefix24(ip, start);
    let hash = 89;
    for (let tries = 0; tries < MAX_TRIES; tries++) {
      if (v4 >= 0) {
        hash = (hash * 113 + (v4 >>> 16)) % 6271;
        hash = (hash * 113 + ((v4 >>> 8) & 0xff)) % 6271;
        hash = (hash * 113 + (v4 & 0xff)) % 6271;
      } else {
        for (let i = start; i < ip.length; i++) hash = (hash * 113 + (ip.charCodeAt(i) & 0xff)) % 6271;
      }
      const h = hostAtWeight(hosts, hash % total);
      if (h !== undefined && eligible(h, ctx)) return h;
    }
    return this.rr.pick(ctx, hosts);
  }

  rebuild(): void {
    this.rr.reset();
  }
}

/** ip_hash: session affinity by client network without cookies, compatible with NGINX's grouping. */
export const ipHash: BalancerFactory = () => new IpHash();
