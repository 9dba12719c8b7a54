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
  /** Active health checks: `off` without a health_check, else checking -> healthy <-> unhealthy. */
  active: 'off' | 'checking' | 'healthy' | 'unhealthy';
  /** While `checking`: may it take traffic already (health_check.initially: healthy)? */
  checkingUp: boolean;
  /** Consecutive passing / failing probes, for rise and fall. */
  passes: number;
  probeFails: number;
  /** `drain: true`: no new requests. */
  draining: boolean;
  /** Ejected by outlier detection. */
  ejected: boolean;
  /** Outlier detection's counters and ejection bookkeeping. */
  outlier: OutlierState;
  /**
   * Cache of the signals that hold the server out (HELD_* bits), kept by health/state.ts with
   * the fields above so the availability test reads one number.
   */
  held: number;
  /** When the server last came (back) into service, for slow start; -Infinity: full weight. */
  since: number;
}

/** What outlier detection keeps per server (health/outlier/ writes it). */
export interface OutlierState {
  consecutive5xx: number;
  consecutiveGateway: number;
  /** Attempts and successes (non-5xx) in the current interval, for the success rate. */
  total: number;
  ok: number;
  /** When the current ejection began and how long it lasts (ms). */
  ejectedAt: number;
  ejectedFor: number;
  /** Ejections in a row: the next one lasts base_ejection_time * (this + 1). */
  multiplier: number;
  /** When the last ejection ended. */
  returnedAt: number;
}

/** HostState.held bits. */
export const HELD_DRAIN = 1;
export const HELD_ACTIVE = 2;
export const HELD_EJECTED = 4;

/** A fresh state: in service, not yet checked by anything. */
export function newHostState(): HostState {
  return {
    inflight: 0,
    fails: 0,
    failWindowStart: 0,
    failedUntil: 0,
    ewmaMs: 0,
    ewmaAt: 0,
    requests: 0,
    failures: 0,
    active: 'off',
    checkingUp: true,
    passes: 0,
    probeFails: 0,
    draining: false,
    ejected: false,
    outlier: { consecutive5xx: 0, consecutiveGateway: 0, total: 0, ok: 0, ejectedAt: 0, ejectedFor: 0, multiplier: 0, returnedAt: 0 },
    held: 0,
    since: -Infinity,
  };
}

/** One upstream server as the balancers and the proxy see it. */
export class Host {
  /** Stable identity within its upstream: "upstream/address". */
  readonly id: string;
  readonly upstream: string;
  readonly address: string;
  readonly hostname: string;
  /** The name TLS sends (SNI) and verifies when the upstream sets no server_name: the configured host name. */
  readonly tlsName: string;
  readonly port: number;
  readonly weight: number;
  readonly backup: boolean;
  /** Marked down by configuration (NGINX `down`). */
  readonly down: boolean;
  readonly maxFails: number;
  readonly failTimeout: number;
  readonly maxConns: number;
  /** ms of weight ramp-up after coming (back) into service; 0 = off. */
  readonly slowStart: number;
  readonly state: HostState;

  constructor(upstream: string, server: ServerConfig, state?: HostState) {
    this.upstream = upstream;
    this.id = `${upstream}/${server.address}`;
    this.address = server.address;
    this.hostname = server.host;
    this.tlsName = server.tls_name ?? server.host;
    this.port = server.port;
    this.weight = server.weight;
    this.backup = server.backup;
    this.down = server.down;
    this.maxFails = server.max_fails;
    this.failTimeout = server.fail_timeout;
    this.maxConns = server.max_conns;
    this.slowStart = server.slow_start;
    this.state = state ?? newHostState();
  }
}

/**
 * Healthy: every signal allows new requests at `now`: not configured down, not draining, passing
 * active checks, not ejected, not failed by passive health (see health/state.ts).
 */
export function isHealthy(host: Host, now: number): boolean {
  return !host.down && host.state.held === 0 && host.state.failedUntil <= now;
}

/** In service by configuration (not down, not draining), whatever its health: what panic mode may use. */
export function inService(host: Host): boolean {
  return !host.down && (host.state.held & HELD_DRAIN) === 0;
}

/** Full: at its max_conns limit. */
export function isFull(host: Host): boolean {
  return host.maxConns > 0 && host.state.inflight >= host.maxConns;
}

/** How isAvailable judges: normally; in panic mode (health ignored); for a sticky pin (drain ignored). */
export const PICK_NORMAL = 0;
export const PICK_PANIC = 1;
export const PICK_PINNED = 2;

/**
 * The one availability predicate (Caddy's Available = Healthy && !Full). Every balancer calls
 * this; no policy judges health on its own. In panic mode (the upstream's `panic_threshold`)
 * health is ignored: any server in service that is not full will do. A sticky client may still
 * reach its draining server (NGINX Plus `drain`).
 */
export function isAvailable(host: Host, now: number, how = PICK_NORMAL): boolean {
  if (how === PICK_NORMAL) return isHealthy(host, now) && !isFull(host);
  if (how === PICK_PANIC) return inService(host) && !isFull(host);
  return !host.down && (host.state.held & ~HELD_DRAIN) === 0 && host.state.failedUntil <= now && !isFull(host);
}

/** Share of full weight a server starts slow start with (Envoy's min_weight_percent). */
export const SLOW_START_FLOOR = 0.1;

/**
 * The weight balancers use at `now`: the configured weight, ramped linearly from 10% to full over
 * `slow_start` after the server came (back) into service (NGINX Plus slow_start). A server back
 * from passive failure is ramped from the moment its fail_timeout ran out.
 */
export function effectiveWeight(host: Host, now: number): number {
  if (host.slowStart === 0) return host.weight;
  const s = host.state;
  const from = s.failedUntil !== 0 && s.failedUntil > s.since && s.failedUntil <= now ? s.failedUntil : s.since;
  const t = now - from;
  if (t >= host.slowStart) return host.weight;
  return host.weight * Math.max(SLOW_START_FLOOR, t / host.slowStart);
}
