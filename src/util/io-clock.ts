import { monotonicMs } from './clock.js';
import { busyPoller } from './busy-poll.js';

/**
 * The monotonic clock (clock.ts), read at most once per read callback. Handling one read (a
 * request head, or a response that completes an exchange) asked the clock up to five times within a few
 * microseconds: for the attempt's header and end times, and for the upstream connection's next
 * deadlines. Each reading is a clock_gettime, ~65 ns on a VM's clock source. NGINX, likewise,
 * reads the time once per event-loop iteration.
 *
 * Outside {@link ioBegin}..{@link ioEnd} (timers, connect events, tests) it is the clock itself.
 */
let inIo = false;
let cached = -1;

export function ioNow(): number {
  if (!inIo) return monotonicMs();
  if (cached < 0) cached = monotonicMs();
  return cached;
}

/** A read callback starts: readings until {@link ioEnd} share one value, taken at the first. */
export function ioBegin(): void {
  inIo = true;
  cached = -1;
}

/**
 * The read callback is over: the clock itself again (ioBegin drops the shared reading). It is also
 * traffic for busy polling (which, off, costs a flag store here).
 */
export function ioEnd(): void {
  inIo = false;
  busyPoller.activity();
  if (readHook !== undefined && ++reads >= READS_PER_HOOK) {
    reads = 0;
    readHook();
  }
}

/**
 * Read callbacks between two calls of the hook {@link everyFewReads} sets. One event-loop turn can
 * run a thousand of them (500 connections ready at once), too long for work that must not wait
 * for the turn's end; a check every 128 costs less than 0.01 us per read.
 */
export const READS_PER_HOOK = 128;
let readHook: (() => void) | undefined;
let reads = 0;

/** Calls `fn` every {@link READS_PER_HOOK} read callbacks of the lean engine's sockets, until called with undefined. */
export function everyFewReads(fn: (() => void) | undefined): void {
  readHook = fn;
  reads = 0;
}
