import type { RequestHead } from '../../http1/request-head.js';
import { ChunkedDecoder } from '../../http1/chunked.js';
import type { LeanRequest } from './request.js';

/** Body framing of the request being received. */
export const B_NONE = 0;
export const B_LENGTH = 1;
export const B_CHUNKED = 2;

const EMPTY = Buffer.alloc(0);

/**
 * A connection's inbound bytes: what the socket delivered and nobody has consumed yet, and the
 * framing of the request body being received. Bytes of a fresh read buffer are kept by reference
 * and only copied when a head or pipelined request spans reads; consumed bytes are never
 * overwritten, so body slices handed to a request stay valid. Bytes of a shared read buffer
 * (`transient`) are copied when handed on or kept (`settle`).
 */
export class Inbound {
  /** Unconsumed bytes are buf[pos, pos + len). */
  buf: Buffer = EMPTY;
  pos = 0;
  len = 0;
  /** B_NONE once the body is complete (or there is none). */
  body = B_NONE;
  #owned = false;
  #remaining = 0;
  #decoder: ChunkedDecoder | undefined;
  #req: LeanRequest | null = null;
  /** The bytes appended last are in a buffer that the next socket read overwrites. */
  transient = false;
  readonly #onChunk = (buf: Buffer, s: number, e: number): void => this.#req!.push(this.#slice(buf, s, e));

  #slice(buf: Buffer, s: number, e: number): Buffer {
    return this.transient ? Buffer.from(buf.subarray(s, e)) : buf.subarray(s, e);
  }

  /** After a transient read was processed: copy the unconsumed bytes that still point into it. */
  settle(): void {
    if (!this.transient) return;
    this.transient = false;
    if (this.len > 0 && !this.#owned) {
      const own = Buffer.allocUnsafe(Math.max(this.len, 4096));
      this.buf.copy(own, 0, this.pos, this.pos + this.len);
      this.buf = own;
      this.pos = 0;
      this.#owned = true;
    }
  }

  /** Append chunk[0, n) (a read into a larger buffer passes the whole buffer and the count). */
  append(chunk: Buffer, n: number, minCapacity: number): void {
    const len = this.len;
    if (len === 0) {
      this.buf = chunk;
      this.pos = 0;
      this.len = n;
      this.#owned = false;
      return;
    }
    const need = len + n;
    if (!this.#owned || this.pos + need > this.buf.length) {
      // Bytes before pos may still be referenced (body slices): copy to a new buffer, never compact.
      const grown = Buffer.allocUnsafe(Math.max(need, Math.min(2 * need, minCapacity), 4096));
      this.buf.copy(grown, 0, this.pos, this.pos + len);
      this.buf = grown;
      this.pos = 0;
      this.#owned = true;
    }
    chunk.copy(this.buf, this.pos + len, 0, n);
    this.len = need;
  }

  /** Consume up to `to` (an offset into buf). */
  consume(to: number): void {
    this.len -= to - this.pos;
    this.pos = to;
  }

  clear(): void {
    this.buf = EMPTY;
    this.pos = this.len = 0;
    this.body = B_NONE;
    this.#req = null;
  }

  /** A new request: its body framing; a request without a body is complete at once. */
  startBody(head: RequestHead, req: LeanRequest): void {
    this.#req = req;
    if (head.chunked) {
      this.body = B_CHUNKED;
      (this.#decoder ??= new ChunkedDecoder()).reset();
    } else if (head.contentLength > 0) {
      this.body = B_LENGTH;
      this.#remaining = head.contentLength;
    } else {
      this.body = B_NONE;
      req.end();
    }
  }

  /** Hand buffered body bytes to the request. Returns why the framing is invalid, if it is. */
  feed(): string | undefined {
    const req = this.#req!;
    const buf = this.buf;
    let p = this.pos;
    const end = p + this.len;
    if (this.body === B_LENGTH) {
      const n = Math.min(this.#remaining, end - p);
      if (n > 0) req.push(this.#slice(buf, p, p + n));
      p += n;
      this.#remaining -= n;
      if (this.#remaining === 0) {
        this.body = B_NONE;
        req.end();
      }
    } else if (this.body === B_CHUNKED) {
      const r = this.#decoder!.push(buf, p, end, this.#onChunk);
      if ('error' in r) {
        this.body = B_NONE;
        return r.error;
      }
      p += r.consumed;
      if (r.done) {
        this.body = B_NONE;
        req.end();
      }
    }
    this.pos = p;
    this.len = end - p;
    return undefined;
  }
}
