import { ioNow } from '../../util/io-clock.js';

/**
 * An inactivity deadline without a socket timeout. Node re-links a socket's timer into its timer
 * lists on every read and write (~850 instructions per proxied request for an upstream
 * connection's request write and response read). Here activity only notes the time; one plain
 * timer, armed for the earliest deadline, checks it when it fires and re-arms for what is left.
 */
export class Deadline {
  /** Timed out when the clock (ioNow) - #since >= #limit (0: no limit). */
  #since = 0;
  #limit = 0;
  #timer: NodeJS.Timeout | undefined;
  /** When #timer fires (Infinity: none armed); it may fire before the deadline, never after. */
  #fireAt = Infinity;
  readonly #expire: () => boolean;

  /** `expire` runs when the limit has passed; false means "not now": it is checked again a limit later. */
  constructor(expire: () => boolean) {
    this.#expire = expire;
  }

  /** A new limit (a new phase), counted from now; 0 for none. */
  start(ms: number): void {
    const now = ioNow();
    this.#since = now;
    this.#limit = ms;
    if (ms > 0 && now + ms < this.#fireAt) this.#arm(now, ms);
  }

  /** Activity: the limit counts from now. */
  touch(): void {
    this.#since = ioNow();
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#fireAt = Infinity;
    this.#limit = 0;
  }

  #arm(now: number, ms: number): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#fireAt = now + ms;
    this.#timer = setTimeout(this.#onTimer, ms).unref();
  }

  readonly #onTimer = (): void => {
    this.#timer = undefined;
    this.#fireAt = Infinity;
    if (this.#limit <= 0) return;
    const now = ioNow();
    const left = this.#since + this.#limit - now;
    if (left > 0) this.#arm(now, left);
    else if (!this.#expire()) this.#arm(now, this.#limit);
  };
}
