import type { Host } from '../upstream/host.js';

/** What a balancer may know about the request it places. Built once per request, reused per attempt. */
export interface PickContext {
  readonly method: string;
  /** Request path with query, as received (before strip_prefix). */
  readonly path: string;
  readonly clientIp: string;
  /** Request header by lower-case name (first value). */
  header(name: string): string | undefined;
  /** Hosts already tried by this request: never pick them again. */
  readonly excluded: ReadonlySet<Host>;
  /** Injected clock (ms) for availability checks. */
  readonly now: number;
  /** Panic mode (set by the upstream group for this pick): any server in service will do, healthy or not. */
  panic: boolean;
}

/** Injected sources of time and randomness so balancer tests repeat exactly. */
export interface BalancerDeps {
  /** Uniform in [0, 1). */
  random(): number;
  /** Milliseconds, monotonic enough for EWMA decay. */
  now(): number;
}

/**
 * A load-balancing policy. `pick` chooses among `hosts` (already split into primaries or backups
 * by the caller), skipping those that are excluded or not available (see isAvailable). It must not
 * allocate per call beyond trivial work, must not await, and never writes host state.
 */
export interface Balancer {
  pick(ctx: PickContext, hosts: readonly Host[]): Host | undefined;
  /** Called when the host set changes (start, reload), never per request. */
  rebuild?(hosts: readonly Host[]): void;
}

/** Policy-specific options from the upstream config. */
export interface BalancerOptions {
  hash?: { key: string; consistent: boolean };
}

export type BalancerFactory = (deps: BalancerDeps, options: BalancerOptions) => Balancer;
