import { effectiveWeight, type Host } from '../../upstream/host.js';
import { currentLatency } from '../../upstream/latency.js';
import type { Balancer, BalancerDeps, BalancerFactory, PickContext } from '../types.js';
import { eligible, SmoothWeighted } from './round-robin.js';

/**
 * least_time (Finagle/Linkerd peak-EWMA): score = latency(now) * (inflight + 1) / weight, lowest
 * wins, ties by smooth weighted round robin. A never-measured host with nothing in flight scores 0
 * so each gets probed; while its probe is pending it is scored with the slowest measured latency
 * (or 1 when none is measured, which reduces to least_conn), so a hung new host cannot soak up
 * all traffic. Latency decays toward zero with time since its last sample, so idle hosts get
 * retried. Time comes from deps.now(), the clock the proxy also passes to recordLatency.
 */
class LeastTime implements Balancer {
  private readonly rr = new SmoothWeighted();
  private now = 0;
  private unmeasured = 1;
  private best = 0;
  /** Created once: accepts hosts scoring exactly the best score of this pick. */
  private readonly tied = (h: Host): boolean => this.score(h) === this.best;

  constructor(private readonly deps: BalancerDeps) {}

  private score(h: Host): number {
    const s = h.state;
    const w = effectiveWeight(h, this.now);
    if (s.ewmaMs === 0) return s.inflight === 0 ? 0 : (this.unmeasured * (s.inflight + 1)) / w;
    return (currentLatency(s, this.now) * (s.inflight + 1)) / w;
  }

  pick(ctx: PickContext, hosts: readonly Host[]): Host | undefined {
    this.now = this.deps.now();
    let slowest = 0;
    for (let i = 0; i < hosts.length; i++) {
      const h = hosts[i];
      if (h.state.ewmaMs !== 0 && eligible(h, ctx)) slowest = Math.max(slowest, currentLatency(h.state, this.now));
    }
    this.unmeasured = slowest > 0 ? slowest : 1;
    let best: Host | undefined;
    let bestScore = 0;
    let ties = 0;
    for (let i = 0; i < hosts.length; i++) {
      const h = hosts[i];
      if (!eligible(h, ctx)) continue;
      const sc = this.score(h);
      if (best === undefined || sc < bestScore) {
        best = h;
        bestScore = sc;
        ties = 1;
      } else if (sc === bestScore) {
        ties++;
      }
    }
    if (best === undefined || ties === 1) return best;
    this.best = bestScore;
    return this.rr.pick(ctx, hosts, this.tied);
  }

  rebuild(): void {
    this.rr.reset();
  }
}

/** least_time: route by observed responsiveness, for upstreams whose servers differ in speed. */
export const leastTime: BalancerFactory = (deps) => new LeastTime(deps);
