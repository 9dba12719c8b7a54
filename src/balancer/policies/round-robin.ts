import { effectiveWeight, isAvailable, PICK_NORMAL, PICK_PANIC, type Host } from '../../upstream/host.js';
import type { Balancer, BalancerFactory, PickContext } from '../types.js';

/** The one "may this request go there" test every policy applies: not tried yet and available now. */
export function eligible(host: Host, ctx: PickContext): boolean {
  // `size` first: the set is empty for a first attempt, and a lookup even in an empty Set is a call.
  return (ctx.excluded.size === 0 || !ctx.excluded.has(host)) && isAvailable(host, ctx.now, ctx.panic ? PICK_PANIC : PICK_NORMAL);
}

/** Restricts a smooth-weighted round to some candidates (e.g. least_conn's tied hosts) without allocating. */
export type CandidateFilter = (host: Host) => boolean;

/**
 * NGINX's smooth weighted round robin, shared by round_robin and as the tie-breaker / fallback of
 * the other policies. Each eligible candidate gains its weight; the one with the highest current
 * weight wins and pays back the round's total. Weights 5,1,1 give a a b a c a a. Weights are
 * effective weights (slow start ramps them). The per-host `current` lives here, never in host
 * state: by position in the host list it was last given (the group's list, the same array from
 * one reload to the next). A WeakMap keyed by host cost ~600 instructions a pick (2 gets and 3
 * sets at two hosts); a new list carries each host's value over by identity.
 */
export class SmoothWeighted {
  /** The host list `#current` is indexed by. */
  #hosts: readonly Host[] = [];
  #current = new Float64Array(0);

  /** Picks among eligible hosts accepted by `accept` (all when omitted); undefined if none. */
  pick(ctx: PickContext, hosts: readonly Host[], accept?: CandidateFilter): Host | undefined {
    if (hosts !== this.#hosts || hosts.length !== this.#current.length) this.#follow(hosts);
    const current = this.#current;
    let best = -1;
    let bestCurrent = 0;
    let total = 0;
    for (let i = 0; i < hosts.length; i++) {
      const h = hosts[i]!;
      if (!eligible(h, ctx) || (accept !== undefined && !accept(h))) continue;
      const w = effectiveWeight(h, ctx.now);
      const cur = current[i]! + w;
      current[i] = cur;
      total += w;
      if (best < 0 || cur > bestCurrent) {
        best = i;
        bestCurrent = cur;
      }
    }
    if (best < 0) return undefined;
    current[best] = bestCurrent - total;
    return hosts[best];
  }

  /** Index by `hosts` from now on: each host keeps its current weight, a new one starts at 0. */
  #follow(hosts: readonly Host[]): void {
    const before = new Map<Host, number>();
    for (let i = 0; i < this.#hosts.length && i < this.#current.length; i++) before.set(this.#hosts[i]!, this.#current[i]!);
    const next = new Float64Array(hosts.length);
    for (let i = 0; i < hosts.length; i++) next[i] = before.get(hosts[i]!) ?? 0;
    this.#hosts = hosts;
    this.#current = next;
  }

  /** Forgets accumulated current weights (on reload), so a new host set starts a fresh cycle. */
  reset(): void {
    this.#hosts = [];
    this.#current = new Float64Array(0);
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
