import type { ServerConfig } from '../config/types.js';

/**
 * The mutable state of one upstream server. It has one owner per signal: the proxy counts
 * in-flight requests and records latency, passive health writes failures. Balancers only read it.
 */
export interface HostState {
  /** Requests currently being forwarded to this server. */
  inflight: number;
  /** Failures counted in the current fail_timeout window (NGINX max_fails accounting). */
  fails: number;
  /** When the first failure of the current window was counted (ms, injected clock). */
  failWindowStart: number;
  /** Unavailable until this time (ms) after reaching max_fails; 0 when not failed. */
  failedUntil: number;
  /** Peak-EWMA of response-header latency in ms; 0 until measured. */
  ewmaMs: number;
  /** When ewmaMs was last updated (ms). */
  ewmaAt: number;
  /** Totals for observability. */
  requests: number;
  failures: number;
}

/** One upstream server as the balancers and the proxy see it. */
export class Host {
  /** Stable identity within its upstream: "upstream/address". */
  readonly id: string;
  readonly upstream: string;
  readonly address: string;
  readonly hostname: string;
  readonly port: number;
  readonly weight: number;
  readonly backup: boolean;
  /** Marked down by configuration (NGINX `down`). */
  readonly down: boolean;
  readonly maxFails: number;
  readonly failTimeout: number;
  readonly maxConns: number;
  readonly state: HostState;

  constructor(upstream: string, server: ServerConfig, state?: HostState) {
    this.upstream = upstream;
    this.id = `${upstream}/${server.address}`;
    this.address = server.address;
    this.hostname = server.host;
    this.port = server.port;
    this.weight = server.weight;
    this.backup = server.backup;
    this.down = server.down;
    this.maxFails = server.max_fails;
    this.failTimeout = server.fail_timeout;
    this.maxConns = server.max_conns;
    this.state = state ?? {
      inflight: 0,
      fails: 0,
      failWindowStart: 0,
      failedUntil: 0,
      ewmaMs: 0,
      ewmaAt: 0,
      requests: 0,
      failures: 0,
    };
  }
}

/** Healthy: not configured down and not failed by passive health at `now`. */
export function isHealthy(host: Host, now: number): boolean {
  return !host.down && host.state.failedUntil <= now;
}

/** Full: at its max_conns limit. */
export function isFull(host: Host): boolean {
  return host.maxConns > 0 && host.state.inflight >= host.maxConns;
}

/**
 * The one availability predicate (Caddy's Available = Healthy && !Full). Every balancer calls
 * this; no policy judges health on its own.
 */
export function isAvailable(host: Host, now: number): boolean {
  return isHealthy(host, now) && !isFull(host);
}
