import type { Config, ServerConfig, UpstreamConfig } from '../config/types.js';
import type { BalancerDeps } from '../balancer/types.js';
import { setDraining } from '../health/state.js';
import { Host } from './host.js';
import { UpstreamGroup } from './group.js';
import { TrafficState } from './traffic.js';

/** The servers an upstream entry stands for now: itself, or what DNS discovery found for it. */
export type ExpandServer = (upstream: string, server: ServerConfig) => readonly ServerConfig[];

const asConfigured: ExpandServer = (_u, s) => [s];

/**
 * Owns host state across reloads. Building a new configuration reuses the Host object (so its
 * failure counts, in-flight count, latency and health) of every server whose upstream, address and
 * parameters did not change; changed or new servers start fresh; removed ones are dropped. `drain`
 * is not a parameter but a state: changing it keeps the Host and goes through health/state.ts.
 * Each upstream's TrafficState (in-flight counts, queue) is kept by name. A server added to a
 * running gateway (reload, DNS) starts its slow start.
 */
export class HostRegistry {
  #hosts = new Map<string, { host: Host; sig: string }>();
  #traffic = new Map<string, TrafficState>();
  /** Servers that appear after start (reload, DNS) begin slow start; those there at start do not. */
  #started = false;

  build(config: Config, deps: BalancerDeps, expand: ExpandServer = asConfigured): Map<string, UpstreamGroup> {
    const next = new Map<string, { host: Host; sig: string }>();
    const groups = new Map<string, UpstreamGroup>();
    const traffic = new Map<string, TrafficState>();
    const now = deps.now();
    for (const [name, up] of Object.entries(config.upstreams)) {
      const hosts: Host[] = [];
      for (const entry of up.servers) {
        for (const s of expand(name, entry)) {
          const key = `${name}/${s.address}`;
          if (next.has(key)) continue; // two entries resolving to one address: the first wins
          const sig = signature(s);
          const prev = this.#hosts.get(key);
          let host: Host;
          if (prev && prev.sig === sig) host = prev.host;
          else {
            host = new Host(name, s);
            if (this.#started && s.slow_start > 0) host.state.since = now;
          }
          setDraining(host, s.drain, now);
          next.set(key, { host, sig });
          hosts.push(host);
        }
      }
      const t = this.#traffic.get(name) ?? new TrafficState();
      traffic.set(name, t);
      groups.set(name, new UpstreamGroup(upstreamWithName(up, name), hosts, deps, t));
    }
    for (const [name, t] of this.#traffic) if (!traffic.has(name)) t.queue?.clear('HW_ERR_NO_HEALTHY_UPSTREAM');
    this.#hosts = next;
    this.#traffic = traffic;
    return groups;
  }

  /** The gateway has started: from now on new servers begin with slow start. */
  markStarted(): void {
    this.#started = true;
  }

  /** Every queue gives up its waiters (gateway shutdown). */
  close(): void {
    for (const t of this.#traffic.values()) t.queue?.clear('HW_ERR_SHUTTING_DOWN');
  }
}

function signature(s: ServerConfig): string {
  return `${s.weight}|${s.backup}|${s.down}|${s.max_fails}|${s.fail_timeout}|${s.max_conns}|${s.slow_start}`;
}

function upstreamWithName(up: UpstreamConfig, name: string): UpstreamConfig {
  return up.name === name ? up : { ...up, name };
}
