import type { UpstreamGroup } from '../upstream/group.js';
import type { Host } from '../upstream/host.js';
import { channels } from '../observability/events.js';
import { Checker, type CheckerDeps } from './active/checker.js';
import { sweep } from './outlier/sweep.js';
import { stopChecking } from './state.js';

interface Sweeper {
  timer: NodeJS.Timeout;
  interval: number;
  group: UpstreamGroup;
}

/**
 * Runs health off the request path: one active Checker per server (not `down`) of an upstream with
 * a health_check, and one outlier-detection sweep timer per upstream with outlier_detection.
 * `sync` follows each applied configuration: servers kept across a reload keep their checker
 * (with the new settings), new ones get one, removed ones have theirs stopped. All timers are
 * unref'd and stop on close().
 */
export class HealthService {
  readonly #deps: CheckerDeps;
  #checkers = new Map<Host, Checker>();
  #sweepers = new Map<string, Sweeper>();

  constructor(deps: CheckerDeps) {
    this.#deps = deps;
  }

  sync(groups: Iterable<UpstreamGroup>): void {
    const checkers = new Map<Host, Checker>();
    const sweepers = new Map<string, Sweeper>();
    const now = this.#deps.now();
    for (const g of groups) {
      const hc = g.config.health_check;
      for (const h of g.hosts) {
        const c = this.#checkers.get(h);
        // A server marked `down` is out by configuration: probing it would only log noise.
        if (hc === undefined || h.down) {
          c?.stop();
          stopChecking(h, now);
          continue;
        }
        if (c !== undefined) c.config = hc;
        checkers.set(h, c ?? new Checker(h, hc, this.#deps));
      }
      const od = g.config.outlier_detection;
      if (od === undefined) continue;
      const prev = this.#sweepers.get(g.name);
      if (prev !== undefined && prev.interval === od.interval) {
        prev.group = g;
        sweepers.set(g.name, prev);
      } else {
        sweepers.set(g.name, this.#sweeper(g, od.interval));
      }
    }
    for (const [h, c] of this.#checkers) if (!checkers.has(h)) c.stop();
    for (const [name, s] of this.#sweepers) if (sweepers.get(name) !== s) clearInterval(s.timer);
    this.#checkers = checkers;
    this.#sweepers = sweepers;
  }

  #sweeper(group: UpstreamGroup, interval: number): Sweeper {
    const s: Sweeper = { group, interval, timer: undefined as unknown as NodeJS.Timeout };
    s.timer = setInterval(() => {
      try {
        sweep(s.group, this.#deps.now());
      } catch (err) {
        channels.lifecycle.publish({ level: 'error', msg: 'outlier sweep failed unexpectedly', upstream: s.group.name, err: String(err) });
      }
    }, interval).unref();
    return s;
  }

  close(): void {
    for (const c of this.#checkers.values()) c.stop();
    for (const s of this.#sweepers.values()) clearInterval(s.timer);
    this.#checkers.clear();
    this.#sweepers.clear();
  }
}
