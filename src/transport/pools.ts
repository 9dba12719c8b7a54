import { createRequire } from 'node:module';
import type { UpstreamConfig } from '../config/types.js';
import type { Host } from '../upstream/host.js';
import type { UpstreamDispatcher } from '../proxy/exchange.js';
import { LeanPool } from './lean/pool.js';
import { H2Pool } from './h2/pool.js';
import { tlsConnectOptions } from './tls-options.js';
import { ProxiedPools, type Connector } from './proxied.js';

/** Which client drives upstream connections: undici, or the lean raw-socket pool. */
export type TransportKind = 'node' | 'lean';

/**
 * One connection pool per upstream server (a LeanPool, or an undici Pool for `engine: node`),
 * keyed by engine, server address and the connection settings that shape it. Pools survive reloads when their
 * key does not change; pools no longer used are closed gracefully (in-flight requests finish).
 */
export class PoolSet {
  #pools = new Map<string, UpstreamDispatcher>();

  /** Pools for every server of the given upstreams; reuses existing ones, returns the map by host. */
  build(groups: Iterable<{ config: UpstreamConfig; hosts: readonly Host[] }>, kind: TransportKind = 'node'): Map<Host, UpstreamDispatcher> {
    const next = new Map<string, UpstreamDispatcher>();
    const byHost = new Map<Host, UpstreamDispatcher>();
    for (const g of groups) {
      for (const h of g.hosts) {
        const key = `${kind}|${poolKey(h, g.config)}`;
        let pool = next.get(key) ?? this.#pools.get(key);
        if (!pool) pool = isH2(g.config) ? createH2Pool(h, g.config) : kind === 'lean' ? createLeanPool(h, g.config) : createPool(h, g.config);
        next.set(key, pool);
        byHost.set(h, pool);
      }
    }
    for (const [key, pool] of this.#pools) {
      if (!next.has(key)) void pool.close().catch(() => pool.destroy());
    }
    this.#pools = next;
    return byHost;
  }

  /** Close all pools; in-flight requests are cut after `graceMs`. */
  async close(graceMs = 0): Promise<void> {
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.all(
      pools.map(async (p) => {
        const timer = graceMs > 0 ? setTimeout(() => void p.destroy(), graceMs) : undefined;
        try {
          if (graceMs > 0) await p.close();
          else await p.destroy();
        } catch {
          // already closed or destroyed
        } finally {
          if (timer) clearTimeout(timer);
        }
      }),
    );
  }
}

function poolKey(h: Host, up: UpstreamConfig): string {
  const t = up.timeouts;
  const k = up.keepalive;
  return `${h.address}|${t.connect}|${t.response_header}|${t.idle}|${k.max_idle}|${k.idle_timeout}|${h.maxConns}|${up.send_proxy_protocol ?? ''}|${up.protocol ?? 'http1'}|${JSON.stringify(up.tls ?? null)}`;
}

const isH2 = (up: UpstreamConfig) => up.protocol === 'h2' || up.protocol === 'h2c';

/** HTTP/2 (either engine): one multiplexed session per server. */
function createH2Pool(h: Host, up: UpstreamConfig): H2Pool {
  return new H2Pool({
    host: h.hostname,
    port: h.port,
    tls: tlsConnectOptions(up, h.tlsName),
    connectTimeout: up.timeouts.connect,
    headersTimeout: up.timeouts.response_header,
    bodyTimeout: up.timeouts.idle,
    idleTimeout: up.keepalive.idle_timeout,
  });
}

function createLeanPool(h: Host, up: UpstreamConfig): LeanPool {
  return new LeanPool({
    host: h.hostname,
    port: h.port,
    connectTimeout: up.timeouts.connect,
    headersTimeout: up.timeouts.response_header,
    bodyTimeout: up.timeouts.idle,
    keepAliveTimeout: up.keepalive.idle_timeout,
    maxIdle: up.keepalive.max_idle,
    headLimits: { maxHeadSize: 64 * 1024, maxHeaders: 200 },
    ...tlsOption(up, h),
    ...(up.send_proxy_protocol ? { proxyProtocol: up.send_proxy_protocol } : {}),
  });
}

function tlsOption(up: UpstreamConfig, h: Host): { tls?: ReturnType<typeof tlsConnectOptions> } {
  const t = tlsConnectOptions(up, h.tlsName);
  return t ? { tls: t } : {};
}

const require = createRequire(import.meta.url);
let undici: typeof import('undici') | undefined;

/** undici is loaded only for `engine: node`: it adds about 20 MB of RSS that the lean engine never needs. */
function loadUndici(): typeof import('undici') {
  return (undici ??= require('undici') as typeof import('undici'));
}

function createPool(h: Host, up: UpstreamConfig): UpstreamDispatcher {
  const pp = up.send_proxy_protocol;
  if (pp) return new ProxiedPools(pp, up.keepalive.idle_timeout, (connect) => createUndiciPool(h, up, connect));
  return createUndiciPool(h, up);
}

function createUndiciPool(h: Host, up: UpstreamConfig, connect?: (base: Connector) => Connector): UpstreamDispatcher {
  const { Pool, buildConnector } = loadUndici();
  const tlsOpts = tlsConnectOptions(up, h.tlsName);
  const origin = `${tlsOpts ? 'https' : 'http'}://${h.address}`;
  const keepAlive = up.keepalive.max_idle > 0;
  const pool = new Pool(origin, {
    // max_conns bounds connections as well as requests; 0 lets concurrency decide.
    connections: h.maxConns > 0 ? h.maxConns : null,
    pipelining: 1,
    connectTimeout: up.timeouts.connect,
    headersTimeout: up.timeouts.response_header,
    bodyTimeout: up.timeouts.idle,
    keepAliveTimeout: keepAlive ? up.keepalive.idle_timeout : 1,
    keepAliveMaxTimeout: keepAlive ? Math.max(up.keepalive.idle_timeout, 1) : 1,
    keepAliveTimeoutThreshold: 1000,
    strictContentLength: true,
    maxHeaderSize: 64 * 1024,
    ...(connect ? { connect: connect(buildConnector({ timeout: up.timeouts.connect }) as unknown as Connector) as never } : tlsOpts ? { connect: tlsOpts } : {}),
  });
  // undici takes our request shape as is (async-iterable bodies included).
  return pool as unknown as UpstreamDispatcher;
}
