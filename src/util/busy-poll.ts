import { monotonicMs } from './clock.js';

/**
 * Busy polling, as HAProxy's `busy-polling`: while traffic flows the event loop does not go to
 * sleep in epoll_wait between turns, it polls again at once (a pending setImmediate makes libuv
 * poll with a zero timeout). On a virtual machine a sleeping vCPU is woken by an inter-processor
 * interrupt, which costs the sender a VM exit and the sleeper tens of microseconds; under load
 * that delay lands on every read. Measured here (64 KiB responses, 50 connections, proxy and
 * load on separate vCPUs): +13% requests/s, because the origin's ACKs and the clients' responses
 * no longer wait for the proxy to wake. Elsewhere -7% to +5% (a spinning vCPU can slow the busy
 * one beside it), and a core kept busy: hence off by default.
 *
 * Unlike HAProxy's, which polls for ever, this one stops {@link POLL_WINDOW_MS} after the last
 * sign of traffic (a read on the lean engine's sockets, or a request on any engine), so an idle
 * gateway sleeps as usual. Under steady load it keeps its core at 100%: that is the trade.
 */
const POLL_WINDOW_MS = 1;

export interface PollerDeps {
  now(): number;
  /** Run fn after the next poll for I/O (setImmediate: a pending one makes that poll not block). */
  schedule(fn: () => void): void;
}

const realDeps: PollerDeps = { now: monotonicMs, schedule: (fn) => void setImmediate(fn) };

export class BusyPoller {
  #enabled = false;
  #spinning = false;
  /** Traffic since the last turn. */
  #active = false;
  #lastActive = 0;
  readonly #deps: PollerDeps;
  readonly #windowMs: number;

  constructor(deps: PollerDeps = realDeps, windowMs = POLL_WINDOW_MS) {
    this.#deps = deps;
    this.#windowMs = windowMs;
  }

  get enabled(): boolean {
    return this.#enabled;
  }

  /** Turning it off lets the loop sleep after the turn in progress. */
  set enabled(on: boolean) {
    this.#enabled = on;
    if (on) this.activity();
  }

  /** Whether the loop is being kept from sleeping now. */
  get spinning(): boolean {
    return this.#spinning;
  }

  /** Traffic was seen: keep polling, and start again if the loop had gone back to sleeping. */
  activity(): void {
    this.#active = true;
    if (this.#enabled && !this.#spinning) {
      this.#spinning = true;
      this.#lastActive = this.#deps.now();
      this.#deps.schedule(this.#turn);
    }
  }

  readonly #turn = (): void => {
    const t = this.#deps.now();
    if (this.#active) {
      this.#active = false;
      this.#lastActive = t;
    }
    if (this.#enabled && t - this.#lastActive < this.#windowMs) this.#deps.schedule(this.#turn);
    else this.#spinning = false;
  };
}

/**
 * The process's poller: one event loop, so one poller, set from the configuration's `busy_polling`
 * when a gateway starts, reloads or closes (with two gateways in one process, the last to do so).
 */
export const busyPoller = new BusyPoller();
