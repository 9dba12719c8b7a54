import type { UpstreamConfig } from '../config/types.js';
import type { Host } from './host.js';
import { RequestQueue } from './queue.js';

/**
 * The load of one upstream, kept across reloads by upstream name (HostRegistry): attempts in
 * flight, retries in flight (for the retry budget) and the queue of requests waiting for a slot.
 * The proxy takes and gives back a slot through acquire/release, the only writers of in-flight
 * counts, so a freed slot can wake the queue.
 */
export class TrafficState {
  /** Attempts in flight to any server of the upstream. */
  active = 0;
  /** Of those, retries (second and later attempts of a request). */
  retries = 0;
  queue: RequestQueue | undefined;
  /** In panic mode (see UpstreamGroup), so entering and leaving it is logged once, across reloads too. */
  panic = false;
  readonly #wake = () => this.queue?.wake();

  /** Follow the upstream's configuration (queue on, off, resized). */
  configure(up: UpstreamConfig): void {
    const q = up.queue;
    if (q === undefined) {
      this.queue?.clear('HW_ERR_QUEUE_TIMEOUT');
      this.queue = undefined;
    } else if (this.queue === undefined) {
      this.queue = new RequestQueue(q.size, q.timeout);
    } else {
      this.queue.size = q.size;
      this.queue.timeout = q.timeout;
    }
  }

  /** An attempt starts on `host`. */
  acquire(host: Host, retry: boolean): void {
    host.state.inflight++;
    host.state.requests++;
    this.active++;
    if (retry) this.retries++;
  }

  /** An attempt on `host` is over: its slot is free; waiters are served once the caller is done. */
  release(host: Host, retry: boolean): void {
    host.state.inflight--;
    this.active--;
    if (retry) this.retries--;
    if (this.queue !== undefined && this.queue.length > 0) queueMicrotask(this.#wake);
  }

  /**
   * Envoy's retry budget: may one more retry start? Retries in flight stay below
   * max(min_concurrency, percent% of the attempts in flight).
   */
  retryAllowed(budget: { percent: number; min_concurrency: number }): boolean {
    return this.retries < Math.max(budget.min_concurrency, Math.floor((budget.percent / 100) * this.active));
  }
}
