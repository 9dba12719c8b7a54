import type { UpstreamConfig } from '../config/types.js';
import type { Balancer, BalancerDeps, PickContext } from '../balancer/types.js';
import { createBalancer } from '../balancer/registry.js';
import { channels, type UpstreamEvent } from '../observability/events.js';
import { inService, isFull, isHealthy, type Host } from './host.js';
import { Sticky } from './sticky.js';
import { TrafficState } from './traffic.js';

/**
 * One upstream group as the proxy uses it: its hosts split into primaries and backups, each set
 * with its own balancer instance. Backups are consulted only when no primary is available
 * (NGINX `backup`). A sticky pin comes first; in panic mode (Envoy) the primaries are balanced
 * whatever their health. Built once per configuration; host objects (and their state) and the
 * traffic state (in-flight counts, queue) may be shared with the previous configuration.
 */
export class UpstreamGroup {
  readonly name: string;
  readonly config: UpstreamConfig;
  readonly hosts: readonly Host[];
  readonly traffic: TrafficState;
  readonly sticky: Sticky | undefined;
  /** Injected randomness (outlier detection's enforcing_* chances). */
  readonly random: () => number;
  readonly #primaries: readonly Host[];
  readonly #backups: readonly Host[];
  readonly #primary: Balancer;
  readonly #backup: Balancer | undefined;
  /** panic_threshold as a fraction; 0 = off. */
  readonly #panicBelow: number;

  constructor(config: UpstreamConfig, hosts: readonly Host[], deps: BalancerDeps, traffic = new TrafficState()) {
    this.name = config.name;
    this.config = config;
    this.hosts = hosts;
    this.traffic = traffic;
    this.random = deps.random;
    traffic.configure(config);
    this.sticky = config.sticky ? new Sticky(config.sticky, hosts) : undefined;
    this.#panicBelow = config.panic_threshold / 100;
    this.#primaries = hosts.filter((h) => !h.backup);
    this.#backups = hosts.filter((h) => h.backup);
    const opts = config.hash ? { hash: config.hash } : {};
    this.#primary = createBalancer(config.balance, deps, opts);
    this.#primary.rebuild?.(this.#primaries);
    if (this.#backups.length > 0) {
      this.#backup = createBalancer(config.balance, deps, opts);
      this.#backup.rebuild?.(this.#backups);
    }
  }

  /** True when the group has a single server: passive health never marks it down. */
  get sole(): boolean {
    return this.hosts.length === 1;
  }

  /** Choose a host for the next attempt, or undefined when none is available. */
  pick(ctx: PickContext): Host | undefined {
    const pinned = this.sticky?.pinned(ctx);
    if (pinned !== undefined) return pinned;
    if (this.#panicBelow > 0 && this.#inPanic(ctx.now)) {
      ctx.panic = true;
      const h = this.#primary.pick(ctx, this.#primaries);
      ctx.panic = false;
      if (h !== undefined) return h;
    }
    return this.#primary.pick(ctx, this.#primaries) ?? this.#backup?.pick(ctx, this.#backups);
  }

  /**
   * Would a request find a server if one freed a slot? True when some healthy server that this
   * request has not tried is only full (max_conns): worth queueing for.
   */
  saturated(ctx: PickContext): boolean {
    for (const h of this.hosts) if (!ctx.excluded.has(h) && isHealthy(h, ctx.now) && isFull(h)) return true;
    return false;
  }

  /** Is the share of healthy primaries (of those in service) below panic_threshold? Logs changes. */
  #inPanic(now: number): boolean {
    let total = 0;
    let healthy = 0;
    for (const h of this.#primaries) {
      if (!inService(h)) continue;
      total++;
      if (isHealthy(h, now)) healthy++;
    }
    const panic = total > 0 && healthy / total < this.#panicBelow;
    if (panic !== this.traffic.panic) {
      this.traffic.panic = panic;
      if (channels.upstream.hasSubscribers) {
        const share = `${healthy} of ${total} primary servers healthy`;
        const ev: UpstreamEvent = panic
          ? { upstream: this.name, kind: 'panic', reason: `${share}, below panic_threshold ${this.config.panic_threshold}%: balancing over all of them` }
          : { upstream: this.name, kind: 'panic_over', reason: `${share}: back to healthy servers only` };
        channels.upstream.publish(ev);
      }
    }
    return panic;
  }
}
