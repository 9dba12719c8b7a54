import type { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import { dnsPromisesModule } from '../util/builtins.js';

/** Per-query limits: a dead DNS server is noticed within about two seconds. */
const QUERY_TIMEOUT_MS = 1000;
const QUERY_TRIES = 2;

/** One address found for a name, with the TTL (seconds) it may be cached for. */
export interface Resolved {
  ip: string;
  ttl: number;
}

/** One SRV record with its target resolved to addresses. */
export interface SrvTarget {
  ip: string;
  port: number;
  priority: number;
  weight: number;
  ttl: number;
}

/**
 * DNS lookups for discovery through node:dns `Resolver`, against the configured server (`resolver:
 * ip[:port]`) or the system's. Errors (timeouts, refused, SERVFAIL, NXDOMAIN) reject: the caller
 * keeps its last good answer.
 */
export class DnsClient {
  readonly #r: Resolver;

  constructor(server: string | undefined) {
    this.#r = new (dnsPromisesModule().Resolver)({ timeout: QUERY_TIMEOUT_MS, tries: QUERY_TRIES });
    if (server !== undefined) this.#r.setServers([server]);
  }

  /** A and AAAA records of `name` (an IP literal resolves to itself). Rejects when neither exists. */
  async addresses(name: string): Promise<Resolved[]> {
    if (isIP(name)) return [{ ip: name, ttl: Infinity }];
    const [v4, v6] = await Promise.allSettled([this.#r.resolve4(name, { ttl: true }), this.#r.resolve6(name, { ttl: true })]);
    const out: Resolved[] = [];
    if (v4.status === 'fulfilled') for (const a of v4.value) out.push({ ip: a.address, ttl: a.ttl });
    if (v6.status === 'fulfilled') for (const a of v6.value) out.push({ ip: a.address, ttl: a.ttl });
    if (out.length > 0) return out;
    throw v4.status === 'rejected' ? v4.reason : new Error(`no A or AAAA records for ${name}`);
  }

  /** SRV records of `name`, each target resolved to its addresses. */
  async srv(name: string): Promise<SrvTarget[]> {
    const records = await this.#r.resolveSrv(name);
    const out: SrvTarget[] = [];
    for (const rec of records) {
      const ips = await this.addresses(rec.name);
      for (const a of ips) out.push({ ip: a.ip, port: rec.port, priority: rec.priority, weight: rec.weight, ttl: a.ttl });
    }
    if (out.length === 0) throw new Error(`no SRV records for ${name}`);
    return out;
  }

  cancel(): void {
    this.#r.cancel();
  }
}
