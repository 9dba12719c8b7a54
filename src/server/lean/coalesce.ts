/**
 * How a lean response's bytes are put together: status lines as bytes, the one
 * reused buffer a head and the first body bytes are coalesced into, and the corked writev for
 * larger chunks.
 */
import { statusLine } from '../../http1/reasons.js';
import type { Socket } from 'node:net';
import { writeDirect } from '../../util/direct-write.js';

/** The status lines of codes 100-599 as bytes (index status - 100), copied into a coalesced write without a string. */
export const STATUS_BYTES: Buffer[] = Array.from({ length: 500 }, (_, i) => Buffer.from(statusLine(100 + i), 'latin1'));

/** Head and first body bytes are copied into one buffer up to this size; above, cork + writev. */
export const COALESCE = 16 * 1024;

/**
 * Where head and first body bytes are coalesced: one buffer for every response, reused while the
 * kernel takes each write whole (the usual case). A per-response Buffer.allocUnsafe sliced Node's
 * 8 KiB pool: a new pool ArrayBuffer (an external allocation V8 tracks and frees after a GC) every
 * few dozen responses.
 */
const SCRATCH = COALESCE + 4096;
let scratch: ArrayBuffer = new ArrayBuffer(SCRATCH);
/** The last view made of `scratch`: the next response of the same length reuses it (undefined once scratch is replaced). */
let lastView: Uint8Array | undefined;

/**
 * A buffer of exactly `len` bytes to coalesce into: a view of the scratch buffer when it fits. A
 * plain Uint8Array made from the ArrayBuffer: Buffer#subarray read the buffer's `buffer` and
 * `byteOffset` through generic property loads (~700 instructions a view, against ~300). Responses
 * of one length in a row (one resource, or an API's fixed-size answers) share one view.
 */
export function coalesceBuffer(len: number): Uint8Array {
  if (len > SCRATCH) return Buffer.allocUnsafe(len);
  const v = lastView;
  if (v !== undefined && v.length === len) return v;
  return (lastView = new Uint8Array(scratch, 0, len));
}

/**
 * Writes a coalesced buffer. A direct write the kernel did not take whole keeps the scratch buffer:
 * it is replaced. A socket that takes no direct writes (TLS, queued data) is given a copy.
 */
export function sendCoalesced(sock: Socket, out: Uint8Array): boolean {
  const done = writeDirect(sock, out);
  if (done === undefined) return sock.write(out.buffer === scratch ? Buffer.from(out) : out);
  keptIfPending(done, out);
  return done;
}

/** After a direct write of `buf`: one the kernel did not take whole keeps the scratch buffer, which is replaced. */
function keptIfPending(done: boolean | undefined, buf: Uint8Array): void {
  if (done === false && buf.buffer === scratch) {
    scratch = new ArrayBuffer(SCRATCH);
    lastView = undefined;
  }
}

/** Head (latin1) + body (+ trailer bytes) as one writev. */
export function corked(sock: Socket, pre: string | Uint8Array, chunk: Buffer, post: Buffer | null, cb: () => void): boolean {
  sock.cork();
  sock.write(pre, 'latin1');
  let ok = post === null ? sock.write(chunk, cb) : sock.write(chunk);
  if (post !== null) ok = sock.write(post, cb);
  sock.uncork();
  return ok;
}
