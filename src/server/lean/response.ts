import type { Socket } from 'node:net';
import type { ProxyResponse } from '../../proxy/exchange.js';
import type { LeanRequest } from './request.js';
import { writeCopying } from '../../util/direct-write.js';
import { COALESCE, STATUS_BYTES, coalesceBuffer, corked, sendCoalesced } from './coalesce.js';
import { statusLine } from '../../http1/reasons.js';

/** What a response needs from its connection. */
export interface ResponseOwner {
  readonly socket: Socket;
  /** Must this response close the connection (client asked, shutdown, body left unread)? */
  mustClose(req: LeanRequest): boolean;
  /** The response has been handed to the socket; `close` ends the connection after it. */
  responseDone(res: LeanResponse, close: boolean): void;
}

/** Body framing of a response. */
const F_NONE = 0;
const F_LENGTH = 1;
const F_CHUNKED = 2;
const F_EOF = 3;

const LAST_CHUNK = '0\r\n\r\n';
const CRLF = Buffer.from('\r\n', 'latin1');

type Listener = () => void;
/** Buffer's native latin1 writer (Node >= 20), without Buffer#write's argument juggling. */
interface Latin1Buffer extends Buffer {
  latin1Write(s: string, offset: number): number;
}
/**
 * The two copies into a coalesced buffer, called through constants of this module: looked up on
 * the buffers they were generic property loads (LoadIC calls) on every response, and imported
 * from another module they were generic API calls (~230 more instructions per response).
 */
const latin1Write = (Buffer.prototype as Latin1Buffer).latin1Write;
const copyInto = Uint8Array.prototype.set as (this: Uint8Array, src: Uint8Array, offset: number) => void;

/**
 * One response on a lean connection. writeHead only builds the head; it goes out with the first
 * body bytes (or at end) in one write. Framing: none for HEAD, 1xx, 204, 304; Content-Length when
 * given; else chunked for HTTP/1.1 and close-delimited for HTTP/1.0.
 */
export class LeanResponse implements ProxyResponse {
  readonly #owner: ResponseOwner;
  readonly #socket: Socket;
  readonly #req: LeanRequest;
  /** The head not yet written (between writeHead and the first write/end). */
  #head: string | null = null;
  /**
   * A relayed head kept in pieces instead (see writeHeadLines): its field lines and status. The
   * head is then the status line, these lines and a CRLF.
   */
  #lines: string | null = null;
  #status = 0;
  #sent = false;
  #framing = F_NONE;
  #close = false;
  #declared = -1;
  #written = 0;
  #finished = false;
  #destroyed = false;
  #onClose: Listener[] | null = null;
  #onDrain: Listener[] | null = null;
  /** A chunk written without copying is still in the socket's buffer. */
  #holding = false;
  /** Trailer section for the last chunk ("name: value\r\n" lines), if any. */
  #trailers = '';

  constructor(owner: ResponseOwner, req: LeanRequest) {
    this.#owner = owner;
    this.#socket = owner.socket;
    this.#req = req;
  }

  /** After a false write(): whether this response still refers to a chunk it was given (until 'drain'). */
  get holdsChunk(): boolean {
    return this.#holding;
  }

  get headersSent(): boolean {
    return this.#sent;
  }
  get destroyed(): boolean {
    return this.#destroyed;
  }
  get writableFinished(): boolean {
    return this.#finished;
  }
  /** The connection closes after this response (decided at writeHead). */
  get closing(): boolean {
    return this.#close;
  }

  writeHead(status: number, headers: string[]): this {
    if (this.#sent || this.#destroyed) return this;
    let s = statusLine(status);
    let declared: number | undefined;
    let close = false;
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i]!;
      const value = headers[i + 1]!;
      const n = name.length;
      if (n === 10 && name.toLowerCase() === 'connection') {
        // Ours to decide; the handler only ever asks for close.
        if (value.toLowerCase().includes('close')) close = true;
        continue;
      }
      if (n === 17 && name.toLowerCase() === 'transfer-encoding') continue;
      if (n === 14 && declared === undefined && name.toLowerCase() === 'content-length') declared = Number(value);
      s += name + ': ' + value + '\r\n';
    }
    return this.#frame(status, s, declared, close);
  }

  /**
   * writeHead for a relayed upstream head: `lines` are its field lines as received (CRLF-ended,
   * hop-by-hop ones already left out), `contentLength` its declared length (-1 when none), and
   * `setCookie` a field to add.
   */
  writeHeadLines(status: number, lines: string, contentLength: number, setCookie?: string): this {
    if (this.#sent || this.#destroyed) return this;
    this.#frame(status, setCookie === undefined ? '' : 'set-cookie: ' + setCookie + '\r\n', contentLength < 0 ? undefined : contentLength, false);
    const after = this.#head!;
    // Only the blank line after the lines (the usual case): keep the lines as they are, and let the
    // first write copy the status line's bytes and them into its buffer, where a head string was
    // concatenated and then flattened by the copy.
    if (after === '\r\n' && status >= 100 && status < 600) {
      this.#head = null;
      this.#lines = lines;
      this.#status = status;
    } else this.#head = statusLine(status) + lines + after;
    return this;
  }

  /** The head as one string, when it was kept in pieces. */
  #joinHead(): void {
    const lines = this.#lines;
    if (lines === null) return;
    this.#lines = null;
    this.#head = statusLine(this.#status) + lines + '\r\n';
  }

  /** Length of the head not yet written, string or pieces (0: none). */
  #headLength(): number {
    const lines = this.#lines;
    if (lines !== null) return STATUS_BYTES[this.#status - 100]!.length + lines.length + 2;
    return this.#head === null ? 0 : this.#head.length;
  }

  /** Copies the head not yet written to the start of `out` (sized by #headLength), and drops it. */
  #headInto(out: Uint8Array): void {
    const lines = this.#lines;
    if (lines !== null) {
      this.#lines = null;
      const status = STATUS_BYTES[this.#status - 100]!;
      copyInto.call(out, status, 0);
      latin1Write.call(out, lines, status.length);
      const end = status.length + lines.length;
      out[end] = 13;
      out[end + 1] = 10;
    } else if (this.#head !== null) {
      latin1Write.call(out, this.#head, 0);
      this.#head = null;
    }
  }

  /** Framing and connection fields after the head `s` (status line and fields so far). */
  #frame(status: number, s: string, declared: number | undefined, close: boolean): this {
    this.#sent = true;
    const req = this.#req;
    if (req.method === 'HEAD' || status < 200 || status === 204 || status === 304) this.#framing = F_NONE;
    else if (declared !== undefined) {
      this.#framing = F_LENGTH;
      this.#declared = declared;
    } else if (req.httpVersionMinor === 1) {
      this.#framing = F_CHUNKED;
      s += 'transfer-encoding: chunked\r\n';
    } else {
      this.#framing = F_EOF;
      close = true;
    }
    if (close || this.#owner.mustClose(req)) {
      this.#close = true;
      s += 'connection: close\r\n\r\n';
    } else s += req.httpVersionMinor === 0 ? 'connection: keep-alive\r\n\r\n' : '\r\n';
    this.#head = s;
    return this;
  }

  write(chunk: Buffer): boolean {
    if (this.#finished || this.#destroyed) return false;
    if (!this.#sent) this.writeHead(200, []);
    const n = chunk.length;
    if (n === 0 || this.#framing === F_NONE) return true;
    this.#written += n;
    const sock = this.#socket;
    if (this.#framing !== F_CHUNKED) {
      const h = this.#headLength();
      // Large chunks go out as they are; what the kernel does not take at once is copied (the
      // caller's chunk is a view of a read buffer that its next read reuses).
      if (h === 0) return writeCopying(sock, null, chunk) ?? this.#held(sock.write(chunk, this.#flushed));
      if (n > COALESCE) {
        // The head's bytes in the coalescing buffer, and the chunk as it is: one writev.
        const head = coalesceBuffer(h);
        this.#headInto(head);
        return writeCopying(sock, head, chunk) ?? this.#held(corked(sock, Buffer.from(head), chunk, null, this.#flushed));
      }
      const out = coalesceBuffer(h + n);
      this.#headInto(out);
      copyInto.call(out, chunk, h);
      return sendCoalesced(sock, out);
    }
    // Chunked framing always has a head string: writeHeadLines keeps pieces only before a bare CRLF.
    const head = this.#head;
    const size = n.toString(16) + '\r\n';
    const pre = head === null ? size : head + size;
    this.#head = null;
    if (n > COALESCE) {
      const sizeLine = coalesceBuffer(pre.length);
      latin1Write.call(sizeLine, pre, 0);
      return writeCopying(sock, sizeLine, chunk, CRLF) ?? this.#held(corked(sock, pre, chunk, CRLF, this.#flushed));
    }
    const h = pre.length;
    const out = coalesceBuffer(h + n + 2);
    latin1Write.call(out, pre, 0);
    copyInto.call(out, chunk, h);
    out[h + n] = 13;
    out[h + n + 1] = 10;
    return sendCoalesced(sock, out);
  }

  /**
   * After a write that refers to the caller's chunk (no copy): the chunk may be reused only once
   * the kernel has all of it. Until then report false; #flushed emits 'drain' when it has.
   */
  #held(ok: boolean): boolean {
    if (this.#socket.writableLength === 0) return ok;
    this.#holding = true;
    return false;
  }

  /** Write callback of a write that referred to the caller's chunk. */
  readonly #flushed = (): void => {
    if (this.#holding && this.#socket.writableLength === 0) {
      this.#holding = false;
      this.drained();
    }
  };

  /** Trailers go out in the last chunk of a chunked response, to a client that sent `TE: trailers`. */
  addTrailers(trailers: Array<[string, string]>): void {
    if (!acceptsTrailers(this.#req.rawHeaders)) return;
    for (const [name, value] of trailers) this.#trailers += name + ': ' + value + '\r\n';
  }

  end(chunk?: string): this {
    if (this.#finished || this.#destroyed) return this;
    if (!this.#sent) this.writeHead(200, []);
    this.#joinHead();
    const sock = this.#socket;
    let head = this.#head;
    if (chunk !== undefined && chunk.length > 0 && this.#framing !== F_NONE) {
      const bytes = Buffer.byteLength(chunk);
      if (head !== null && this.#framing !== F_CHUNKED && bytes === chunk.length) {
        // ASCII (the gateway's own bodies): head and body as one latin1 string, one write.
        this.#written += bytes;
        sock.write(head + chunk, 'latin1');
        head = this.#head = null;
      } else {
        this.write(Buffer.from(chunk));
        head = this.#head;
      }
    }
    const last = this.#trailers === '' ? LAST_CHUNK : `0\r\n${this.#trailers}\r\n`;
    if (this.#framing === F_CHUNKED) sock.write(head === null ? last : head + last, 'latin1');
    else if (head !== null) sock.write(head, 'latin1');
    this.#head = null;
    this.#finished = true;
    // A body shorter or longer than its Content-Length leaves the client out of step: close.
    const close = this.#close || this.#framing === F_EOF || (this.#framing === F_LENGTH && this.#written !== this.#declared);
    this.#emitClose();
    this.#owner.responseDone(this, close);
    return this;
  }

  /** Cut the connection: the client sees a truncated response. */
  destroy(): this {
    if (this.#finished || this.#destroyed) return this;
    this.#destroyed = true;
    this.#socket.destroy();
    return this;
  }

  on(event: 'close' | 'drain', fn: Listener): this {
    if (event === 'close') this.#onClose = withListener(this.#onClose, fn);
    else this.#onDrain = withListener(this.#onDrain, fn);
    return this;
  }

  off(event: 'close' | 'drain', fn: Listener): this {
    const list = event === 'close' ? this.#onClose : this.#onDrain;
    if (list !== null) {
      const i = list.lastIndexOf(fn);
      if (i >= 0) list.splice(i, 1);
    }
    return this;
  }

  /** Connection side: the socket drained. */
  drained(): void {
    const list = this.#onDrain;
    if (list === null || list.length === 0) return;
    if (list.length === 1) list[0]!();
    else for (const fn of list.slice()) fn();
  }

  /**
   * Connection side: the connection is gone (socket closed) or was taken over to refuse the
   * request; a response not finished by then is over, and its 'close' tells the handler.
   */
  abandon(): void {
    if (this.#finished) return;
    this.#destroyed = true;
    this.#sent = true;
    this.#emitClose();
  }

  #emitClose(): void {
    const list = this.#onClose;
    if (list === null) return;
    this.#onClose = null;
    for (let i = 0; i < list.length; i++) list[i]!();
  }
}

/** `list` with `fn` added; a first listener makes `[fn]` (push grows an empty array to 17 slots). */
function withListener(list: Listener[] | null, fn: Listener): Listener[] {
  if (list === null) return [fn];
  list.push(fn);
  return list;
}

/** Did the client send `TE: trailers`? */
function acceptsTrailers(raw: readonly string[]): boolean {
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.length === 2 && raw[i]!.toLowerCase() === 'te' && /(^|,)\s*trailers\s*(;|,|$)/i.test(raw[i + 1]!)) return true;
  return false;
}
