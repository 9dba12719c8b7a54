import net from 'node:net';
import { parseResponseHead } from '../../http1/response-head.js';
import { ChunkedDecoder, chunkHeader, CRLF, LAST_CHUNK } from '../../http1/chunked.js';
import type { UpstreamHandler, UpstreamRequest } from '../../proxy/exchange.js';
import { writeDirect } from '../../util/direct-write.js';
import { tlsModule } from '../../util/builtins.js';
import { ioBegin, ioEnd } from '../../util/io-clock.js';
import { Deadline } from './deadline.js';
import { ReadLease, sharedReadBuffer } from './read-buffer.js';
import { keepAliveHint, requestHead, requestHeadStreaming, transportError, type LeanPoolOptions } from './wire.js';

/**
 * Socket buffer before write() asks for backpressure. Node's 16 KiB default pauses the other leg
 * on every 64 KiB read of a large body; 256 KiB lets one read pass straight through.
 */
const SOCKET_HWM = 256 * 1024;

/** rawHeaders for onHeaders: the handler reads them from the head it is given. */
const NO_FIELDS: string[] = [];
/** Buffer#subarray, called through this constant: looked up on each read buffer it was a generic property load. */
const subarray = Buffer.prototype.subarray;

const enum St {
  Connecting,
  Idle,
  /** Request being written and/or response head awaited. */
  Head,
  Body,
  Closed,
}

const enum Framing {
  Length,
  Chunked,
  Close,
}

/** Told by a connection when it can take another request, or has gone for good. */
export interface ConnectionOwner {
  release(conn: UpstreamConnection): void;
  gone(conn: UpstreamConnection): void;
}

/**
 * One keep-alive HTTP/1.1 connection to an upstream server, driving one exchange at a time:
 * write the request head (and body by its framing, with backpressure), parse the response head
 * strictly, then pass body bytes to the handler by the response's framing without copying them.
 * Any doubt about where a response ends (bad framing, extra bytes, early close) closes the socket.
 */
export class UpstreamConnection {
  readonly socket: net.Socket;
  /** Requests this connection has carried. */
  uses = 0;
  #st: St = St.Connecting;
  readonly #owner: ConnectionOwner;
  readonly #opts: LeanPoolOptions;
  #handler: UpstreamHandler | undefined;
  #method = 'GET';
  #keepAlive = true;
  #sent = false;
  #buf: Buffer | undefined;
  #framing = Framing.Length;
  #remaining = 0;
  #chunked: ChunkedDecoder | undefined;
  #paused = false;
  /** Plain connections: which shared read buffer reads land in, and the one the handler took. */
  readonly #lease: ReadLease | undefined;
  /** Connect, response header, body idle or keep-alive idle limit, by phase. */
  readonly #deadline = new Deadline(() => this.#onTimeout());
  readonly #abort = (err?: Error) => this.#fail(err ?? transportError('request aborted', 'UND_ERR_ABORTED'));
  readonly #resume = () => {
    if (this.#paused && this.#st === St.Body) {
      this.#paused = false;
      this.#lease?.resumed();
      this.#deadline.touch();
      this.socket.resume();
    }
  };
  readonly #sink = (buf: Buffer, s: number, e: number) => {
    const h = this.#handler;
    if (h && h.onData(subarray.call(buf, s, e)) === false) this.#pause(h.holdsChunk !== false);
  };

  /** For `send_proxy_protocol`: the client address this connection was opened for (reused only for it). */
  readonly proxyKey: string | undefined;

  /** `preamble`: bytes written before the first request (a PROXY protocol header). */
  constructor(owner: ConnectionOwner, opts: LeanPoolOptions, preamble?: { key: string; bytes: Buffer }) {
    this.proxyKey = preamble?.key;
    this.#owner = owner;
    this.#opts = opts;
    if (opts.tls) {
      // TLS: node hands decrypted bytes over in fresh buffers ('data'); the request waits for the handshake.
      // (A PROXY header goes before the TLS handshake, on the raw socket: not with tls, the config refuses it.)
      this.socket = tlsModule().connect({ ...opts.tls, host: opts.host, port: opts.port });
      this.socket.setNoDelay(true);
      this.socket.on('data', (c: Buffer) => this.#onData(c, c.length));
      this.socket.on('secureConnect', () => this.#onConnect());
    } else {
      this.socket = net.connect({
        host: opts.host,
        port: opts.port,
        noDelay: true,
        highWaterMark: SOCKET_HWM,
        onread: { buffer: sharedReadBuffer(), callback: (n: number, buf: Uint8Array) => this.#onRead(buf as Buffer, n) },
      } as net.NetConnectOpts);
      this.#lease = new ReadLease(this.socket);
      this.socket.on('connect', () => this.#onConnect());
      // Queued by net until the connection is up, so it precedes the first request.
      if (preamble) this.socket.write(preamble.bytes);
    }
    this.#deadline.start(opts.connectTimeout);
    this.socket.on('error', (err) => this.#fail(err));
    this.socket.on('close', () => this.#onClose());
    this.socket.on('end', () => this.#onEnd());
  }

  get idle(): boolean {
    return this.#st === St.Idle;
  }

  get closed(): boolean {
    return this.#st === St.Closed;
  }

  /** Start an exchange. The connection may still be connecting; the request is written once it is up. */
  run(req: UpstreamRequest, handler: UpstreamHandler): void {
    this.#handler = handler;
    this.#method = req.method;
    this.#keepAlive = !req.reset;
    this.#sent = false;
    this.#paused = false;
    this.#pending = req;
    handler.onConnect(this.#abort);
    if (this.#st === St.Idle) {
      this.#st = St.Head;
      this.#write(req);
    }
  }

  #pending: UpstreamRequest | undefined;
  /** Idle time allowed by the server's `Keep-Alive: timeout=N` hint, if it sent one. */
  #idleLimit = 0;

  #onConnect(): void {
    if (this.#st !== St.Connecting) return;
    if (!this.#pending) {
      this.#toIdle();
      return;
    }
    this.#st = St.Head;
    this.#write(this.#pending);
  }

  #write(req: UpstreamRequest): void {
    this.#pending = undefined;
    this.uses++;
    const sock = this.socket;
    this.#deadline.start(this.#opts.headersTimeout);
    const body = req.body;
    if (body === null || Buffer.isBuffer(body)) {
      const head = requestHead(req, body === null ? -1 : body.length, false);
      if (body === null || body.length === 0) {
        if (writeDirect(sock, head) === undefined) sock.write(head, 'latin1');
      } else {
        sock.cork();
        sock.write(head, 'latin1');
        sock.write(body);
        sock.uncork();
      }
      this.#requestSent();
      return;
    }
    void this.#writeStream(req, body);
  }

  async #writeStream(req: UpstreamRequest, body: AsyncIterable<Buffer>): Promise<void> {
    const sock = this.socket;
    const { head, chunked } = requestHeadStreaming(req);
    sock.write(head, 'latin1');
    const handler = this.#handler;
    try {
      for await (const chunk of body) {
        if (this.#handler !== handler || this.closed) return;
        if (chunk.length === 0) continue;
        let ok: boolean;
        if (chunked) {
          sock.cork();
          sock.write(chunkHeader(chunk.length));
          sock.write(chunk);
          ok = sock.write(CRLF);
          sock.uncork();
        } else ok = sock.write(chunk);
        this.#deadline.touch();
        if (!ok && !this.closed) await new Promise<void>((r) => sock.once('drain', r).once('close', r));
      }
      if (this.#handler !== handler || this.closed) return;
      if (chunked) sock.write(LAST_CHUNK);
      this.#requestSent();
    } catch (err) {
      if (this.#handler === handler) this.#fail(err as Error);
    }
  }

  #requestSent(): void {
    this.#sent = true;
    this.#handler?.onRequestSent?.();
  }

  #onRead(buf: Buffer, n: number): true {
    const lease = this.#lease!;
    lease.reading(buf);
    ioBegin();
    try {
      this.#onData(buf, n);
      // More body to come than this buffer holds (a full read, or a longer Content-Length left).
      if (this.#st === St.Body && (n === buf.length || (this.#framing === Framing.Length && this.#remaining > buf.length))) lease.moreToCome();
    } finally {
      ioEnd();
      lease.readDone();
    }
    return true;
  }

  /** `n` bytes were read into `rbuf`; they may be overwritten by the next read (of any connection). */
  #onData(rbuf: Buffer, n: number): void {
    if (this.#st === St.Head) {
      const held = this.#buf;
      if (held) {
        this.#buf = undefined;
        const buf = Buffer.concat([held, rbuf.subarray(0, n)]);
        this.#parseHead(buf, 0, buf.length);
      } else this.#parseHead(rbuf, 0, n);
    } else if (this.#st === St.Body) {
      this.#deadline.touch();
      this.#body(rbuf, 0, n);
    }
    else if (this.#st === St.Idle) this.#close(); // unsolicited bytes: the connection is out of sync
  }

  /** Parse the response head in buf[start, end). */
  #parseHead(buf: Buffer, start: number, end: number): void {
    for (;;) {
      const r = parseResponseHead(buf, start, end, this.#opts.headLimits, this.#method);
      if (r.kind === 'incomplete') {
        this.#deadline.touch();
        // Copied: it outlives this read, and the read buffer is reused.
        this.#buf = Buffer.from(buf.subarray(start, end));
        return;
      }
      if (r.kind === 'error') {
        this.#fail(transportError(`invalid response from upstream: ${r.reason}`, 'HPE_INVALID_RESPONSE'));
        return;
      }
      const h = r.head;
      if (h.status < 200) {
        if (h.status === 101) {
          this.#fail(transportError('upstream switched protocols without an upgrade request', 'HPE_INVALID_RESPONSE'));
          return;
        }
        start = r.next;
        continue; // interim responses are not relayed
      }
      if (!h.keepAlive) this.#keepAlive = false;
      else this.#idleLimit = keepAliveHint(h.keepAliveValue);
      if (h.noBody) this.#framing = Framing.Length, (this.#remaining = 0);
      else if (h.chunked) {
        this.#framing = Framing.Chunked;
        (this.#chunked ??= new ChunkedDecoder()).reset();
      } else if (h.closeDelimited) {
        this.#framing = Framing.Close;
        this.#keepAlive = false;
      } else {
        this.#framing = Framing.Length;
        this.#remaining = h.contentLength;
      }
      this.#st = St.Body;
      this.#deadline.start(this.#opts.bodyTimeout);
      const handler = this.#handler!;
      if (handler.onHeaders(h.status, NO_FIELDS, this.#resume, '', h) === false) this.#pause();
      if (this.#handler !== handler || this.#st !== St.Body) return; // aborted in onHeaders
      this.#body(buf, r.next, end);
      return;
    }
  }

  #body(buf: Buffer, s: number, e: number): void {
    if (this.#framing === Framing.Length) {
      const n = Math.min(this.#remaining, e - s);
      if (n > 0) {
        this.#remaining -= n;
        this.#sink(buf, s, s + n);
      }
      if (this.#st !== St.Body) return;
      if (s + n < e) this.#keepAlive = false; // bytes beyond the response: never reuse
      if (this.#remaining === 0) this.#complete();
    } else if (this.#framing === Framing.Chunked) {
      const r = this.#chunked!.push(buf, s, e, this.#sink);
      if (this.#st !== St.Body) return;
      if ('error' in r) this.#fail(transportError(`invalid chunked response body: ${r.error}`, 'HPE_INVALID_CHUNK_SIZE'));
      else if (r.done) {
        if (s + r.consumed < e) this.#keepAlive = false;
        this.#complete();
      }
    } else if (e > s) this.#sink(buf, s, e);
  }

  /** `holds`: the handler keeps views of the bytes it was given. */
  #pause(holds = true): void {
    if (!this.#paused) {
      this.#paused = true;
      this.socket.pause();
    }
    if (holds) this.#lease?.keep();
  }

  #complete(): void {
    const handler = this.#handler!;
    this.#handler = undefined;
    this.#lease?.responseDone();
    if (this.#paused) {
      this.#paused = false;
      this.socket.resume();
    }
    const reuse = this.#keepAlive && this.#sent;
    if (reuse) this.#toIdle();
    else this.#close();
    handler.onComplete(this.#chunked?.trailers.length ? this.#chunked.trailers : null);
  }

  #toIdle(): void {
    this.#st = St.Idle;
    const hint = this.#idleLimit;
    this.#deadline.start(hint > 0 && hint < this.#opts.keepAliveTimeout ? hint : this.#opts.keepAliveTimeout);
    this.#owner.release(this);
  }

  /** The current phase's limit passed without activity. False: not now (a body paused by a slow client is not idle on the server's account). */
  #onTimeout(): boolean {
    switch (this.#st) {
      case St.Connecting:
        this.#fail(transportError(`connect timeout after ${this.#opts.connectTimeout}ms`, 'UND_ERR_CONNECT_TIMEOUT'));
        return true;
      case St.Head:
        this.#fail(transportError(`no response headers within ${this.#opts.headersTimeout}ms`, 'UND_ERR_HEADERS_TIMEOUT'));
        return true;
      case St.Body:
        if (this.#paused) return false;
        this.#fail(transportError(`response body idle for ${this.#opts.bodyTimeout}ms`, 'UND_ERR_BODY_TIMEOUT'));
        return true;
      default:
        this.#close();
        return true;
    }
  }

  #onEnd(): void {
    if (this.#st === St.Body && this.#framing === Framing.Close) this.#complete();
  }

  #onClose(): void {
    if (this.#st === St.Body && this.#framing === Framing.Close) this.#complete();
    else if (this.#handler) this.#fail(transportError('upstream closed the connection', 'UND_ERR_SOCKET'));
    this.#close();
  }

  /**
   * End the exchange with an error and drop the connection. A request that dies on a reused
   * connection is not resent here (the server may have processed it): the proxy's retry policy
   * decides, as NGINX does. Honouring the server's Keep-Alive timeout keeps that race rare.
   */
  #fail(err: Error): void {
    const handler = this.#handler;
    this.#handler = undefined;
    this.#close();
    handler?.onError(err);
  }

  #close(): void {
    if (this.#st === St.Closed) return;
    this.#st = St.Closed;
    this.#deadline.stop();
    this.#buf = undefined;
    this.#lease?.close();
    this.socket.destroy();
    this.#owner.gone(this);
  }

  /** Close now (pool shutdown, or an idle connection past the idle cap). */
  close(): void {
    if (this.#handler) this.#fail(transportError('connection pool closed', 'UND_ERR_DESTROYED'));
    else this.#close();
  }
}
