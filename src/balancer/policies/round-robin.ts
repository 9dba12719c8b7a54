import { effectiveWeight, isAvailable, PICK_NORMAL, PICK_PANIC, type Host } from '../../upstream/host.js';
import type { Balancer, BalancerFactory, PickContext } from '../types.js';

/** The one "may this request go there" test every policy applies: not tried yet and available now. */
export function eligible(host: Host, ctx: PickContext): boolean {
  return !ctx.excluded.has(host) && isAvailable(host, ctx.now, ctx.panic ? PICK_PANIC : PICK_NORMAL);
}

/** Restricts a smooth-weighted round to some candidates (e.g. least_conn's tied hosts) without allocating. */
export type CandidateFilter = (host: Host) => boolean;

/**
 * NGINX's smooth weighted round robin, shared by round_robin and as the tie-breaker / fallback of
 * the other policies. Each eligible candidate gains its weight; the one with the highest current
 * weight wins and pays back the round's total. Weights 5,1,1 give a a b a c a a. Weights are
 * effective weights (slow start ramps them). The per-host
 * `current` lives here (a WeakMap, so hosts dropped on reload are collected), never in host state.
 */
export class SmoothWeighted {
  private current = new WeakMap<Host, number>();

  /** Picks among eligible hosts accepted by `accept` (all when omitted); undefined if none. */
  pick(ctx: PickContext, hosts: readonly Host[], accept?: CandidateFilter): Host | undefined {
    let best: Host | undefined;
    let bestCurrent = 0;
    let total = 0;
    for (let i = 0; i < hosts.length; i++) {
      const h = hosts[i];
      if (!eligible(h, ctx) || (accept !== undefined && !accept(h))) continue;
      const w = effectiveWeight(h, ctx.now);
      const cur = (this.current.get(h) ?? 0) + w;
      this.current.set(h, cur);
      total += w;
      if (best === undefined || cur > bestCurrent) {
        best = h;
        bestCurrent = cur;
      }
    }
    if (best !== undefined) this.current.set(best, bestCurrent - total);
    return best;
  }

  /** Forgets accumulated current weights (on reload), so a new host set starts a fresh cycle. */
  reset(): void {
    this.current = new WeakMap();
  }
}

class RoundRobin implements Balancer {
  private readonly rr = new SmoothWeighted();

  pick(ctx: PickContext, hosts: readonly Host[]): Host | undefined {
    return this.rr.pick(ctx, hosts);
  }

  rebuild(): void {
    this.rr.reset();
  }
}

/** round_robin: NGINX's default policy, smooth weighted round robin over available hosts. */
export const roundRobin: BalancerFactory = () => new RoundRobin();
