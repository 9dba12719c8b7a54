import { effectiveWeight, type Host } from '../../upstream/host.js';
import type { Balancer, BalancerDeps, BalancerFactory, PickContext } from '../types.js';
import { eligible } from './round-robin.js';

/**
 * Power of two choices: draw two distinct eligible hosts at random, each weighted by its (effective) weight,
 * and keep the one with fewer in-flight requests per unit of weight (the first drawn on a tie, so
 * an idle upstream is spread exactly by weight). Needs no shared counters yet avoids hot spots.
 */
class RandomTwo implements Balancer {
  constructor(private readonly deps: BalancerDeps) {}

  pick(ctx: PickContext, hosts: readonly Host[]): Host | undefined {
    let total = 0;
    let count = 0;
    let only: Host | undefined;
    for (let i = 0; i < hosts.length; i++) {
      const h = hosts[i];
      if (!eligible(h, ctx)) continue;
      total += effectiveWeight(h, ctx.now);
      count++;
      only = h;
    }
    if (count <= 1) return only;
    const a = this.draw(ctx, hosts, this.deps.random() * total, undefined);
    if (a === undefined) return only;
    const wa = effectiveWeight(a, ctx.now);
    const b = this.draw(ctx, hosts, this.deps.random() * (total - wa), a);
    if (b === undefined) return a;
    return b.state.inflight * wa < a.state.inflight * effectiveWeight(b, ctx.now) ? b : a;
  }

  /** The eligible host (other than `skip`) under point `r` of the weight line; the last one if r overshoots. */
  private draw(ctx: PickContext, hosts: readonly Host[], r: number, skip: Host | undefined): Host | undefined {
    let last: Host | undefined;
    for (let i = 0; i < hosts.length; i++) {
      const h = hosts[i];
      if (h === skip || !eligible(h, ctx)) continue;
      last = h;
      r -= effectiveWeight(h, ctx.now);
      if (r < 0) return h;
    }
    return last;
  }
}

/** random_two: load-aware choice without global state, good with many proxies sharing upstreams. */
export const randomTwo: BalancerFactory = (deps) => new RandomTwo(deps);
