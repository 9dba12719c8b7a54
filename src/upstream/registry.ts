import type { Config, ServerConfig, UpstreamConfig } from '../config/types.js';
import type { BalancerDeps } from '../balancer/types.js';
import { Host } from './host.js';
import { UpstreamGroup } from './group.js';

/**
 * Owns host state across reloads. Building a new configuration reuses the Host object (so its
 * failure counts, in-flight count and latency) of every server whose upstream, address and
 * parameters did not change; changed or new servers start fresh; removed ones are dropped.
 */
export class HostRegistry {
  #hosts = new Map<string, { host: Host; sig: string }>();

  build(config: Config, deps: BalancerDeps): Map<string, UpstreamGroup> {
    const next = new Map<string, { host: Host; sig: string }>();
    const groups = new Map<string, UpstreamGroup>();
    for (const [name, up] of Object.entries(config.upstreams)) {
      const hosts = up.servers.map((s) => {
        const key = `${name}/${s.address}`;
        const sig = signature(s);
        const prev = this.#hosts.get(key);
        const host = prev && prev.sig === sig ? prev.host : new Host(name, s);
        next.set(key, { host, sig });
        return host;
      });
      groups.set(name, new UpstreamGroup(upstreamWithName(up, name), hosts, deps));
    }
    this.#hosts = next;
    return groups;
  }
}

function signature(s: ServerConfig): string {
  return `${s.weight}|${s.backup}|${s.down}|${s.max_fails}|${s.fail_timeout}|${s.max_conns}`;
}

function upstreamWithName(up: UpstreamConfig, name: string): UpstreamConfig {
  return up.name === name ? up : { ...up, name };
}
