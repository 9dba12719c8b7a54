import type net from 'node:net';
import { pointReadsAt } from '../../util/net-symbols.js';

/**
 * Size of the read buffer. 128 KiB takes a 64 KiB response with its head in one read: paired runs
 * against 64 KiB gave +9% req/s at 64 KiB and +12% at 1 MiB (16 KiB: -30%).
 */
const READ_BUF = 128 * 1024;

/**
 * The read buffer of plain upstream connections: one for all of them. A read is handled (its body
 * bytes written on to the client) before the next read lands, so one buffer serves every
 * connection and stays in the CPU cache. A buffer per connection (50 x 128 KiB at c=50) had the
 * kernel's copy into it miss the cache: at 64 KiB responses, sharing one gave 9-20% more req/s
 * and 10-20% less CPU per request.
 *
 * A handler that keeps a view of the bytes (it asked to pause: the client is slow) takes the
 * buffer with it: {@link takeShared} moves every connection's reads to another buffer, and
 * {@link giveBack} returns the taken one once the view is gone.
 */
let shared: Buffer = Buffer.allocUnsafe(READ_BUF);
/** Buffers given back, for the next take. */
const spare: Buffer[] = [];
const SPARE_MAX = 4;
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

/**
 * A handler keeps its view of `buf`, the buffer a read just landed in: when that is the shared
 * one, later reads must not overwrite it. Returns true when `buf` is now the caller's (to
 * {@link giveBack} once the view is gone).
 */
export function takeShared(buf: Buffer): boolean {
  if (buf !== shared) return false;
  shared = spare.pop() ?? Buffer.allocUnsafe(READ_BUF);
  // Each socket's next read goes to the buffer it was last pointed at: re-point them.
  for (const s of readers) pointReadsAt(s, shared);
  return true;
}

/** A taken buffer no one refers to any more. */
export function giveBack(buf: Buffer): void {
  if (spare.length < SPARE_MAX) spare.push(buf);
}
