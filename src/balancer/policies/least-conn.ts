import { effectiveWeight, type Host } from '../../upstream/host.js';
import type { Balancer, BalancerFactory, PickContext } from '../types.js';
import { eligible, SmoothWeighted } from './round-robin.js';

/**
 * NGINX least_conn: the eligible host with the fewest in-flight requests per unit of weight wins
 * (compared by cross-multiplying effective weights, see slow start); several tied hosts are resolved by smooth
 * weighted round robin among just those, so an idle upstream behaves exactly like round_robin.
 */
class LeastConn implements Balancer {
  private readonly rr = new SmoothWeighted();
  private bestInflight = 0;
  private bestWeight = 1;
  private now = 0;
  /** Created once: accepts hosts whose load ratio equals the best one found by this pick. */
  private readonly tied = (h: Host): boolean => h.state.inflight * this.bestWeight === this.bestInflight * effectiveWeight(h, this.now);

  pick(ctx: PickContext, hosts: readonly Host[]): Host | undefined {
    let best: Host | undefined;
    let bestWeight = 1;
    let ties = 0;
    const now = ctx.now;
    for (let i = 0; i < hosts.length; i++) {
      const h = hosts[i];
      if (!eligible(h, ctx)) continue;
      const w = effectiveWeight(h, now);
      if (best === undefined) {
        best = h;
        bestWeight = w;
        ties = 1;
        continue;
      }
      const lhs = h.state.inflight * bestWeight;
      const rhs = best.state.inflight * w;
      if (lhs < rhs) {
        best = h;
        bestWeight = w;
        ties = 1;
      } else if (lhs === rhs) {
        ties++;
      }
    }
    if (best === undefined || ties === 1) return best;
    this.now = now;
    this.bestInflight = best.state.inflight;
    this.bestWeight = bestWeight;
    return this.rr.pick(ctx, hosts, this.tied);
  }

  rebuild(): void {
    this.rr.reset();
  }
}

/** least_conn: for upstreams whose requests vary in duration, send new work where least is pending. */
export const leastConn: BalancerFactory = () => new LeastConn();
