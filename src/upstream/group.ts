import type { UpstreamConfig } from '../config/types.js';
import type { Balancer, BalancerDeps, PickContext } from '../balancer/types.js';
import { createBalancer } from '../balancer/registry.js';
import type { Host } from './host.js';

/**
 * One upstream group as the proxy uses it: its hosts split into primaries and backups, each set
 * with its own balancer instance. Backups are consulted only when no primary is available
 * (NGINX `backup`). Built once per configuration; host objects (and their state) may be shared
 * with the previous configuration when the server did not change.
 */
export class UpstreamGroup {
  readonly name: string;
  readonly config: UpstreamConfig;
  readonly hosts: readonly Host[];
  readonly #primaries: readonly Host[];
  readonly #backups: readonly Host[];
  readonly #primary: Balancer;
  readonly #backup: Balancer | undefined;

  constructor(config: UpstreamConfig, hosts: readonly Host[], deps: BalancerDeps) {
    this.name = config.name;
    this.config = config;
    this.hosts = hosts;
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
    return this.#primary.pick(ctx, this.#primaries) ?? this.#backup?.pick(ctx, this.#backups);
  }
}
