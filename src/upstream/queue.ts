import type { ErrorCode } from '../errors.js';

/** A request waiting for a server slot. */
export interface Waiter {
  /** A slot may have freed: try to take it. False when none could be had (the waiter stays first). */
  serve(): boolean;
  /** The wait is over without a slot (timeout): answer the client with this code. */
  expire(code: ErrorCode): void;
}

interface Entry {
  waiter: Waiter;
  timer: NodeJS.Timeout;
}

/**
 * NGINX Plus `queue`: a bounded FIFO of requests waiting while every available server of the
 * upstream is at `max_conns`. `wake()` is called when a request to the upstream finishes and
 * serves waiters in order for as long as they find a slot; a waiter that is not served within
 * `timeout` expires with HW_ERR_QUEUE_TIMEOUT; one that finds the queue full is refused at once.
 * The queue survives reloads (see TrafficState); size and timeout follow the configuration.
 */
export class RequestQueue {
  #entries: Entry[] = [];
  #waking = false;

  constructor(
    public size: number,
    public timeout: number,
  ) {}

  get length(): number {
    return this.#entries.length;
  }

  /** Join the queue; false when it is full (the caller answers HW_ERR_QUEUE_FULL). */
  enqueue(waiter: Waiter): boolean {
    if (this.#entries.length >= this.size) return false;
    const entry: Entry = {
      waiter,
      timer: setTimeout(() => {
        if (this.#drop(waiter)) waiter.expire('HW_ERR_QUEUE_TIMEOUT');
      }, this.timeout).unref(),
    };
    this.#entries.push(entry);
    return true;
  }

  /** Leave the queue (the client went away); true when the waiter was still in it. */
  remove(waiter: Waiter): boolean {
    return this.#drop(waiter);
  }

  /** Serve waiters, first come first served, while they find slots. */
  wake(): void {
    if (this.#waking) return;
    this.#waking = true;
    try {
      while (this.#entries.length > 0) {
        const first = this.#entries[0]!;
        if (!first.waiter.serve()) break;
        // serve() may have removed it already (e.g. the request ended); only drop what is still first.
        if (this.#entries[0] === first) this.#entries.shift();
        clearTimeout(first.timer);
      }
    } finally {
      this.#waking = false;
    }
  }

  /** Expire every waiter (gateway shutdown). */
  clear(code: ErrorCode): void {
    for (const e of this.#entries.splice(0)) {
      clearTimeout(e.timer);
      e.waiter.expire(code);
    }
  }

  #drop(waiter: Waiter): boolean {
    const i = this.#entries.findIndex((e) => e.waiter === waiter);
    if (i < 0) return false;
    clearTimeout(this.#entries[i]!.timer);
    this.#entries.splice(i, 1);
    return true;
  }
}
