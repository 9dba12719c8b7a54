import type net from 'node:net';
import { pointReadsAt } from '../../util/net-symbols.js';

/**
 * Size of the read buffer. 512 KiB: a read takes up to that much of a large body, and the client
 * gets it in one write. Paired against 128 KiB (alternating 4 s runs, wrk and the origin on the
 * other core): +10% req/s at 1 MiB c50, +11-21% at 1 MiB c500; 64 KiB and smaller responses come
 * in one read either way. 128 KiB had taken a 64 KiB response with its head in one read (+9% at
 * 64 KiB and +12% at 1 MiB against 64 KiB; 16 KiB: -30%).
 */
const READ_BUF = 512 * 1024;
/**
 * Size of a buffer made while {@link LARGE_TAKEN_MAX} or more taken ones are out (clients slower
 * than their upstreams, on a path that keeps views: TLS, HTTP/2, node:http): a taken buffer is
 * held whole, so past a few, replacements are the size they were before reads grew (never less:
 * smaller reads cost more CPU just when the proxy is busiest).
 */
const READ_BUF_TAKEN = 128 * 1024;
const LARGE_TAKEN_MAX = 4;

/**
 * The read buffer of plain upstream connections: one for all of them. A read is handled (its body
 * bytes written on to the client) before the next read lands, so one buffer serves every
 * connection and stays in the CPU cache. A buffer per connection (50 x 128 KiB at c=50) had the
 * kernel's copy into it miss the cache: at 64 KiB responses, sharing one gave 9-20% more req/s
 * and 10-20% less CPU per request.
 *
 * A handler that keeps a view of the bytes (it asked to pause: the client is slow) takes the
 * buffer with it: {@link takeShared} moves every connection's reads to another buffer, and
 * {@link giveBack} returns the taken one once the view is gone ({@link leave}: once the
 * connection no longer knows when it will be).
 */
let shared: Buffer = Buffer.allocUnsafe(READ_BUF);
/** Full-size buffers given back, for the next take. */
const spare: Buffer[] = [];
const SPARE_MAX = 4;
/** Taken buffers not yet given back or left. */
let taken = 0;
/** Sockets reading into `shared`. */
const readers = new Set<net.Socket>();

/**
 * The buffer the next read of any plain connection lands in: given to each socket at connect as
 * its `onread` buffer (a buffer, not a generator: node calls a generator after every read and
 * re-reads the buffer it returns); {@link takeShared} re-points them all when it changes.
 */
export function sharedReadBuffer(): Buffer {
  return shared;
}

export function addReader(socket: net.Socket): void {
  readers.add(socket);
}

export function removeReader(socket: net.Socket): void {
  readers.delete(socket);
}

/** Every reader's next read lands in `buf`. */
function share(buf: Buffer): void {
  shared = buf;
  // Each socket's next read goes to the buffer it was last pointed at: re-point them.
  for (const s of readers) pointReadsAt(s, buf);
}

/**
 * A handler keeps its view of `buf`, the buffer a read just landed in: when that is the shared
 * one, later reads must not overwrite it. Returns true when `buf` is now the caller's (to
 * {@link giveBack} once the view is gone, or {@link leave}).
 */
export function takeShared(buf: Buffer): boolean {
  if (buf !== shared) return false;
  taken++;
  share(spare.pop() ?? Buffer.allocUnsafe(taken > LARGE_TAKEN_MAX ? READ_BUF_TAKEN : READ_BUF));
  return true;
}

/** A taken buffer no one refers to any more. */
export function giveBack(buf: Buffer): void {
  taken--;
  if (buf.length !== READ_BUF) return;
  // Reads went to a smaller buffer while many were out: back to full-size ones.
  if (shared.length !== READ_BUF) share(buf);
  else if (spare.length < SPARE_MAX) spare.push(buf);
}

/** A taken buffer the connection lets go of while its handler may still refer to it (left to the garbage collector). */
export function leave(): void {
  taken--;
}

/** For tests: the sizes of the shared buffer and of one made while many are taken. */
export const readBufferSizes = { full: READ_BUF, whileTaken: READ_BUF_TAKEN, largeTakenMax: LARGE_TAKEN_MAX } as const;
