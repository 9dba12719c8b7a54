import type { HealthCheckConfig } from '../../config/types.js';
import type { Host } from '../../upstream/host.js';
import { channels } from '../../observability/events.js';
import { startChecking } from '../state.js';
import { probe } from './probe.js';
import { applyProbe, probedAsDown } from './verdict.js';

/** Injected clock and randomness (GatewayOptions), so schedules and jitter repeat in tests. */
export interface CheckerDeps {
  now(): number;
  random(): number;
}

/**
 * Probes one server in the background: the first probe at once (within the jitter), then one
 * every `interval` (`unhealthy_interval` while active checks hold it out), counted from the end
 * of the previous probe, so at most one is ever in flight. Its timer is unref'd; stop() cancels
 * the timer and aborts a probe in flight. The config may change under it (reload): the next
 * probe uses the new one, and the server keeps its state.
 */
export class Checker {
  #hc: HealthCheckConfig;
  readonly #host: Host;
  readonly #deps: CheckerDeps;
  #timer: NodeJS.Timeout | undefined;
  #abort: AbortController | undefined;
  #stopped = false;

  constructor(host: Host, hc: HealthCheckConfig, deps: CheckerDeps) {
    this.#host = host;
    this.#hc = hc;
    this.#deps = deps;
    startChecking(host, hc.initially, deps.now());
    this.#schedule(this.#jittered(0));
  }

  get config(): HealthCheckConfig {
    return this.#hc;
  }

  set config(hc: HealthCheckConfig) {
    this.#hc = hc;
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#abort?.abort();
  }

  /** `base` +- jitter% of the interval. */
  #jittered(base: number): number {
    const spread = (this.#hc.jitter / 100) * this.#hc.interval;
    return Math.max(0, base + (this.#deps.random() * 2 - 1) * spread);
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#run(), ms).unref();
  }

  async #run(): Promise<void> {
    const hc = this.#hc;
    const ac = (this.#abort = new AbortController());
    try {
      const result = await probe(this.#host, hc, ac.signal);
      if (this.#stopped) return;
      applyProbe(this.#host, hc, result, this.#deps.now());
    } catch (err) {
      // A background loop never takes the process down: log and go on probing.
      channels.lifecycle.publish({ level: 'error', msg: 'health check failed unexpectedly', server: this.#host.id, err: String(err) });
    } finally {
      this.#abort = undefined;
    }
    const h = this.#hc;
    this.#schedule(this.#jittered(probedAsDown(this.#host) ? h.unhealthy_interval : h.interval));
  }
}
