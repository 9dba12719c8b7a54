import os from 'node:os';
import v8 from 'node:v8';
import { everyFewReads } from '../util/io-clock.js';

/**
 * V8 settings for a proxy's heap: many small objects per request, all dead within a millisecond.
 *
 * - Allocation-site pretenuring off. V8 watches how many objects of each allocation site survive
 *   a scavenge and, past a ratio, allocates that site's objects straight in the old space. On the
 *   request path it picked the head parser's and the handler's sites: every request's objects then
 *   went to the old space as garbage, each scavenge walked the old-to-young slots they left
 *   (2.3-2.8 ms instead of 0.5-0.7), and the old space filled up for mark-compacts. Off, at 13 B
 *   c=50 on one core: heap 11 MB after a scavenge instead of 34 MB and growing, p99 3-5 ms instead
 *   of 5-64 ms, median req/s +19% in 6 paired runs.
 * - With one core available (a one-CPU affinity mask, as `taskset -c 0`, or a one-vCPU container),
 *   V8's parallel scavenge hands work to helper threads that can only run by pre-empting the main
 *   thread, which then waits for them: scavenge on the main thread instead. Paired runs pinned to
 *   one core: +9-16% req/s at 13 B, shorter scavenges (median 0.5 against 0.67 ms).
 *
 * - The old generation may grow by 20% of what a full GC leaves live before the next one (V8
 *   never asks less than 8 MiB more). V8's own factor goes up to 4x on a machine with memory to
 *   spare: at c=500, where slow requests' objects get promoted, the old space gathered ~0.5 MB/s
 *   of garbage with no mark-compact in sight (RSS 74 -> 84 MiB over four 5 s runs, and rising).
 *   At 20%: a mark-compact every ~9 s (6-12 ms, mostly incremental), RSS flat at ~80 MiB.
 *   A `--heap-growing-percent` given at startup is the user's choice and is kept.
 * - Marking for the next full GC starts once 15% of that growth is used (through a task; at once
 *   past 25%, should the task not have run), not near its end as V8 does: at c=500 the old space
 *   then peaks a few MiB above what lives instead of ~10. At 30%/50% (13 B to 1 MiB bodies) the RSS
 *   peaked at 72-74 MiB instead of 76-78, for about three times the full GCs at c=500 (~2.4/s at
 *   13 B, each 4-6 ms of pause). 15%/25% took the peak of the bench's sequence (3 runs a cell, then
 *   1 MiB c=500) from 74.5-76.8 MiB (5 processes) to 74.0-74.1 (2), for ~4.8 full GCs a second at
 *   13 B c=500 (about 1% more of the core in pauses) and still none at 64 KiB c=10 and c=50.
 *   Both thresholds are set: with only the soft one V8 drops its own hard limit, and a long
 *   synchronous stretch (no task runs) grew a test's old space to 340 MB. Triggers given at startup
 *   are kept.
 *
 * All are read by V8 at each GC, so they can be set after startup. Returns the flags it set.
 */
export function tuneGc(cores = os.availableParallelism(), setFlags: (flags: string) => void = v8.setFlagsFromString, argv: readonly string[] = startupFlags()): string[] {
  const flags = ['--no-allocation-site-pretenuring'];
  if (cores === 1) flags.push('--no-parallel-scavenge');
  if (!userSet(argv, 'heap-growing-percent')) flags.push(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  if (!userSet(argv, 'incremental-marking-soft-trigger') && !userSet(argv, 'incremental-marking-hard-trigger')) {
    flags.push(`--incremental-marking-soft-trigger=${MARKING_TRIGGERS[0]}`, `--incremental-marking-hard-trigger=${MARKING_TRIGGERS[1]}`);
  }
  for (const f of flags) setFlags(f);
  return flags;
}

/** How much the old generation grows past what the last full GC left, before the next (see tuneGc). */
export const HEAP_GROWING_PERCENT = 20;

/** Where marking for the next full GC starts, in percent of the old generation's allowed growth: by a task, and at once (see tuneGc). */
export const MARKING_TRIGGERS = [15, 25] as const;

/** node's own arguments and NODE_OPTIONS: the V8 flags given at startup. */
function startupFlags(): string[] {
  return [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
}

/** Did the user give V8 flag `name` at startup (dashes or underscores)? */
function userSet(argv: readonly string[], name: string): boolean {
  const dashed = `--${name}`;
  const underscored = `--${name.replace(/-/g, '_')}`;
  return argv.some((a) => a.startsWith(dashed) || a.startsWith(underscored));
}

/** The young generation's cap: two semi-spaces of 2 MiB (V8's own maximum on 64-bit is 2 x 16 MiB). */
export const NEW_SPACE_CAP = 4 * 1024 * 1024;

/**
 * How often capNewSpace looks whether V8 shrank the young generation (in an idle gap), so that it
 * may grow back to the cap. Not after each GC: a PerformanceObserver of 'gc' entries makes node
 * queue an entry and an immediate for every scavenge (~100/s at 13 B c=10). With one observing,
 * the p99 at 13 B c=10 was 0.9-1.2 ms against 0.5-0.7 ms without (c=50: 2.1-3.6 against 1.7-3.3
 * ms), in alternating runs of fresh processes; even an observer whose callback did nothing.
 */
export const SHRINK_LOOK_MS = 500;

/** What capNewSpace reads and sets (injected in tests). */
export interface NewSpaceControl {
  /** The young generation's current capacity (both semi-spaces), in bytes. */
  size(): number;
  /** Lets it double at its next growth (true) or keeps it as it is (false). */
  grow(allowed: boolean): void;
  /** Calls `fn` every SHRINK_LOOK_MS (without keeping the process alive); returns a function that stops it. */
  every(fn: () => void): () => void;
  /** Calls `fn` on the event loop's next turn (without keeping the process alive). */
  nextTurn(fn: () => void): void;
  /** Calls `fn` every few read callbacks within a turn, until called with undefined. */
  midTurn(fn: (() => void) | undefined): void;
}

const v8Control: NewSpaceControl = {
  // Twice the to-space's capacity (what it holds and has free): its committed size counts only the
  // to-space until the first scavenge commits the from-space.
  size: () => {
    const s = v8.getHeapSpaceStatistics().find((x) => x.space_name === 'new_space');
    return s === undefined ? 0 : 2 * (s.space_used_size + s.space_available_size);
  },
  grow: (allowed) => v8.setFlagsFromString(`--semi-space-growth-factor=${allowed ? 2 : 1}`),
  every: (fn) => {
    const t = setInterval(fn, SHRINK_LOOK_MS).unref();
    return () => clearInterval(t);
  },
  nextTurn: (fn) => void setImmediate(fn).unref(),
  midTurn: everyFewReads,
};

/**
 * Keeps V8's young generation at or under `cap` bytes. Under load V8 doubles it, one semi-space at
 * a time, up to 2 x 16 MiB: that young generation alone was a third of the RSS. Its maximum is a
 * startup flag (--max-semi-space-size), but the growth factor is read at each growth: growth is
 * allowed while doubling the young generation keeps it within the cap, and stopped otherwise. At
 * 13 B c=50: 8 MiB took 16 MiB off the RSS (88 -> 72 MiB) for about 2% more CPU
 * (3.4x the scavenges, in --trace-gc; callgrind +1.6%); 2 MiB, V8's starting size, cost +9%
 * instructions. 4 MiB, the cap now, takes another 1.5-6.5 MiB off (13 B and 64 KiB, c=10 and
 * c=50) for no CPU time per request that alternating runs of 300,000 requests could separate
 * (callgrind: the same instructions, +2.4% estimated cycles, from the cache misses of twice the
 * scavenges). It looks every SHRINK_LOOK_MS whether V8 shrank it (see there), on every turn while
 * growth is allowed, and within a turn every 128 read callbacks of the lean engine
 * (util/io-clock.ts): one turn can allocate enough for two growths (a test's long turns; 500
 * connections ready at once run ~1,000 reads). With a look after each GC alone (as it once did), a
 * young generation that V8 had shrunk in an idle gap grew twice before the look when 500
 * connections came back (6-7 MiB in the bench). Growth within a stretch without reads still
 * passes the cap: call it once the process is serving, not during the long synchronous stretches
 * of startup. Once at the cap (reached within seconds even at one connection), only the periodic
 * look runs. A --max-semi-space-size or --semi-space-growth-factor given at startup (NODE_OPTIONS
 * or node's own arguments) is the user's choice: then it returns undefined and changes nothing.
 * Otherwise returns a function that stops it.
 */
export function capNewSpace(cap = NEW_SPACE_CAP, ctl: NewSpaceControl = v8Control, argv: readonly string[] = startupFlags()): (() => void) | undefined {
  if (youngSizeChosen(argv)) return undefined;
  let growing: boolean | undefined;
  let stopped = false;
  let polling = false;
  const check = (): void => {
    if (stopped) return;
    // V8 doubles it at each growth, and shrinks it in idle gaps to any multiple of its 256 KiB
    // pages: growth is allowed only where doubling stays within the cap (from 2 x 1.75 MiB it went
    // to 2 x 3.5). A young generation left between half the cap and the cap stays there until V8
    // shrinks it again.
    const allowed = 2 * ctl.size() <= cap;
    if (allowed !== growing) {
      ctl.grow((growing = allowed));
      ctl.midTurn(allowed ? check : undefined);
    }
    // While growth is allowed, look again every turn as well: under load (500 connections, where
    // most young objects survive a scavenge) V8 grew it twice between two looks made only at GCs.
    if (allowed && !polling) {
      polling = true;
      ctl.nextTurn(poll);
    }
  };
  const poll = (): void => {
    polling = false;
    check();
  };
  check();
  const stop = ctl.every(check);
  return () => {
    stopped = true;
    ctl.midTurn(undefined);
    stop();
  };
}

/**
 * Stops the young generation's growth from the CLI's first module on, until {@link capNewSpace}
 * takes over. Loading the modules and the config doubled it twice (2 -> 4 -> 8 MiB in the first
 * 200 ms) before the gateway started, and capNewSpace can stop growth but not undo it. Returns
 * false (and changes nothing) when the user chose the young generation's size at startup.
 */
export function holdNewSpace(ctl: Pick<NewSpaceControl, 'grow'> = v8Control, argv: readonly string[] = startupFlags()): boolean {
  if (youngSizeChosen(argv)) return false;
  ctl.grow(false);
  return true;
}

/** A --max-semi-space-size or --semi-space-growth-factor given at startup is the user's choice. */
function youngSizeChosen(argv: readonly string[]): boolean {
  return userSet(argv, 'max-semi-space-size') || userSet(argv, 'semi-space-growth-factor');
}

/**
 * The GC settings of a CLI process that serves traffic (`run`, `proxy`, `demo`, each worker), once
 * its gateway is listening: {@link tuneGc}, then {@link capNewSpace} (which must not start before,
 * see there). The library leaves V8's settings to the application.
 */
export function tuneServingProcess(): void {
  tuneGc();
  capNewSpace();
}
