import type { Socket } from 'node:net';
import { parseRequestHead, type RequestHead } from '../../http1/request-head.js';
import { Inbound, B_NONE } from './inbound.js';
import { LeanRequest, type BodyOwner } from './request.js';
import { LeanResponse, type ResponseOwner } from './response.js';
import { nodeStatus, refusal, publishRefusal } from './refusal.js';
import { readShared, releaseShared } from './shared-read.js';
import { peerAddress } from '../../util/ip.js';

/** What connections share with their listener. */
export interface LeanContext {
  /** Coarse clock in ms, advanced by the listener's tick; deadlines are measured with it. */
  now: number;
  /** The listener is shutting down: finish the current response, then close. */
  closing: boolean;
  /** From the first byte of a head to its end (408 after). */
  readonly headMs: number;
  /** Keep-alive idle time between requests (closed silently after). */
  readonly idleMs: number;
  /** How long a closing connection keeps reading (and dropping) what the client still sends. */
  readonly lingerMs: number;
  /** Run one request (the proxy handler). */
  handle(req: LeanRequest, res: LeanResponse): void;
  /** Expect: 100-continue: is the body wanted (route exists, declared size within the limit)? */
  continueOk(req: LeanRequest): boolean;
  /** A connection closed. */
  gone(conn: Connection): void;
  /** An HTTP Upgrade request: the socket (and the bytes after the head) now belong to it. */
  upgrade?(req: LeanRequest, socket: Socket, head: Buffer): void;
}

const LIMITS = { maxHeadSize: 16384, maxHeaders: 100 };
/** Queued, unpulled body bytes past which the socket stops reading. */
const BODY_HWM = 64 * 1024;

const S_HEAD = 0;
const S_ACTIVE = 1;
const S_CLOSING = 2;
const S_CLOSED = 3;


/**
 * One client connection: bytes in, one request at a time (pipelined bytes wait in the buffer),
 * body bytes to the current request, deadlines checked by the listener's tick.
 */
export class Connection implements BodyOwner, ResponseOwner {
  readonly socket: Socket;
  readonly #ctx: LeanContext;
  #state = S_HEAD;
  readonly #in = new Inbound();
  #req: LeanRequest | null = null;
  #res: LeanResponse | null = null;
  /** Deadline: closes when ctx.now - #since >= #limit (0 = none). */
  #since: number;
  #limit: number;
  #paused = false;
  #inProcess = false;
  /** The buffered bytes are an incomplete head (only re-parse when a line may have ended). */
  #partial = false;
  /** The client's address as the proxy logs and forwards it: read once, not per request. */
  readonly #clientIp: string;

  /** `shared`: a plain socket nobody has read from yet, whose reads may use the shared buffer. */
  constructor(socket: Socket, ctx: LeanContext, shared = false) {
    this.socket = socket;
    this.#ctx = ctx;
    this.#clientIp = peerAddress(socket);
    this.#since = ctx.now;
    this.#limit = ctx.headMs;
    if (!shared || !readShared(socket, (buf, n) => this.#onShared(buf, n))) socket.on('data', (c: Buffer) => this.#onData(c, c.length));
    socket.on('end', () => this.#onEnd());
    socket.on('drain', () => this.#res?.drained());
    socket.on('close', () => this.#onClose());
    socket.on('error', noop);
  }

  /** Listener tick: enforce the current deadline. */
  check(now: number): void {
    if (this.#limit === 0 || now - this.#since < this.#limit) return;
    if (this.#state === S_HEAD && this.#in.len > 0) this.#refuse(408, 'request head not received in time');
    else this.socket.destroy();
  }

  /** Shutdown: close now unless a request is in progress. */
  closeIfIdle(): void {
    if (this.#state === S_HEAD) this.socket.destroy();
    else if (this.#state === S_CLOSING) {
      if (this.socket.writableFinished) this.socket.destroy();
      else this.socket.once('finish', destroySocket);
    }
  }

  /** A read into the shared buffer: whatever is kept past this call is copied. */
  #onShared(buf: Buffer, n: number): void {
    const inb = this.#in;
    inb.transient = true;
    try {
      this.#onData(buf, n);
    } finally {
      inb.settle();
    }
  }

  /** chunk[0, n) arrived. */
  #onData(chunk: Buffer, n: number): void {
    const st = this.#state;
    if (st >= S_CLOSING) return;
    if (this.#in.len === 0 && st === S_HEAD) {
      this.#since = this.#ctx.now;
      this.#limit = this.#ctx.headMs;
    }
    const inb = this.#in;
    inb.append(chunk, n, LIMITS.maxHeadSize + 1024);
    if (st === S_HEAD) {
      if (this.#partial && inb.len <= LIMITS.maxHeadSize && chunk.subarray(0, n).indexOf(10) === -1) return;
      this.#process();
    } else if (inb.body !== B_NONE) {
      const bad = inb.feed();
      if (bad !== undefined) this.#bodyError(bad);
    }
    this.#flow();
  }

  /** Parse and start requests from the buffer while no request is in progress. */
  #process(): void {
    if (this.#inProcess) return;
    this.#inProcess = true;
    try {
      const inb = this.#in;
      while (this.#state === S_HEAD && inb.len > 0) {
        const buf = inb.buf;
        let p = inb.pos;
        const end = p + inb.len;
        while (p < end && (buf[p] === 13 || buf[p] === 10)) p++;
        inb.consume(p);
        if (p === end) break;
        const r = parseRequestHead(buf, p, end, LIMITS);
        if (r.kind === 'incomplete') {
          this.#partial = true;
          break;
        }
        this.#partial = false;
        if (r.kind === 'error') {
          this.#refuse(nodeStatus(r.status, buf, p, end), r.reason);
          return;
        }
        inb.consume(r.next);
        this.#begin(r.head);
      }
    } finally {
      this.#inProcess = false;
    }
  }

  #begin(head: RequestHead): void {
    if (head.upgrade && head.method !== 'CONNECT' && this.#ctx.upgrade !== undefined) return this.#handOver(head);
    const req = new LeanRequest(this, this.socket, head, this.#clientIp);
    const res = new LeanResponse(this, req);
    this.#req = req;
    this.#res = res;
    this.#state = S_ACTIVE;
    this.#limit = 0;
    const inb = this.#in;
    inb.startBody(head, req);
    if (head.versionMinor === 1 && head.expect) {
      const expect = String(req.headers.expect).toLowerCase();
      if (!head.expectContinue && !expect.includes('100-continue')) {
        // What node:http does without a checkExpectation listener.
        res.writeHead(417, ['content-length', '0']);
        res.end();
        return;
      }
      if (inb.body !== B_NONE && this.#ctx.continueOk(req)) this.socket.write('HTTP/1.1 100 Continue\r\n\r\n');
    }
    if (inb.body !== B_NONE && inb.len > 0) {
      const bad = inb.feed();
      if (bad !== undefined) {
        // Malformed framing already buffered: the handler never sees the request.
        this.#bodyError(bad);
        return;
      }
    }
    this.#ctx.handle(req, res);
  }

  /**
   * An Upgrade request leaves the HTTP/1.1 machinery: the connection lets go of its socket (it
   * no longer counts for the listener's deadlines or shutdown) and hands it over with what was
   * read past the head.
   */
  #handOver(head: RequestHead): void {
    const inb = this.#in;
    const rest = Buffer.from(inb.buf.subarray(inb.pos, inb.pos + inb.len));
    inb.clear();
    this.#state = S_CLOSED;
    this.#limit = 0;
    const socket = this.socket;
    for (const ev of ['data', 'end', 'drain', 'close', 'error']) socket.removeAllListeners(ev);
    releaseShared(socket);
    this.#ctx.gone(this);
    this.#ctx.upgrade!(new LeanRequest(this, socket, head, this.#clientIp), socket, rest);
  }

  /** Malformed chunked framing: never pass it on. 400 if the response has not started, else cut. */
  #bodyError(reason: string): void {
    const res = this.#res!;
    this.#req!.fail(new Error(`malformed request body: ${reason}`));
    if (res.headersSent) {
      res.destroy();
      return;
    }
    this.#refuse(400, reason);
  }

  /** Answer a request we will not pass on, then close. */
  #refuse(status: number, reason: string): void {
    publishRefusal(status, reason);
    this.socket.write(refusal(status), 'latin1');
    const res = this.#res;
    this.#release();
    res?.abandon();
    this.#linger();
  }

  /** Read more, or stop reading: body bytes nobody pulls, or pipelined bytes piling up. */
  #flow(): void {
    let stop = false;
    if (this.#state === S_ACTIVE) {
      stop = this.#in.body !== B_NONE ? this.#req!.queued > BODY_HWM : this.#in.len > LIMITS.maxHeadSize;
    }
    if (stop === this.#paused || this.#state === S_CLOSED) return;
    this.#paused = stop;
    if (stop) this.socket.pause();
    else this.socket.resume();
  }

  bodyPulled(): void {
    if (this.#paused) this.#flow();
  }

  mustClose(req: LeanRequest): boolean {
    return !req.head.keepAlive || this.#ctx.closing || (this.#in.body !== B_NONE && (!req.reading || req.discarding));
  }

  responseDone(res: LeanResponse, close: boolean): void {
    if (res !== this.#res) return;
    const req = this.#req!;
    this.#release();
    this.#req = null;
    if (close || this.#in.body !== B_NONE || this.#ctx.closing) {
      if (this.#in.body !== B_NONE) req.fail(new Error('the response ended before the request body'));
      this.#linger();
      return;
    }
    this.#state = S_HEAD;
    this.#since = this.#ctx.now;
    this.#limit = this.#in.len > 0 ? this.#ctx.headMs : this.#ctx.idleMs;
    this.#flow();
    if (this.#in.len > 0) {
      // The next pipelined request: not from inside the previous handler's call stack.
      if (!this.#inProcess) process.nextTick(processNext, this);
    }
  }

  /** @internal tick target for pipelined requests. */
  processNext(): void {
    if (this.#state === S_HEAD) {
      this.#process();
      this.#flow();
    }
  }

  #release(): void {
    this.#res = null;
  }

  /** Send FIN after what is queued, keep reading (and dropping) for a while, then close. */
  #linger(): void {
    this.#state = S_CLOSING;
    this.#in.clear();
    this.#since = this.#ctx.now;
    this.#limit = this.#ctx.lingerMs;
    this.#endSocket();
    if (this.#paused) {
      this.#paused = false;
      this.socket.resume();
    }
  }

  #endSocket(): void {
    if (this.#state !== S_CLOSING) {
      this.#state = S_CLOSING;
      this.#since = this.#ctx.now;
      this.#limit = this.#ctx.lingerMs;
    }
    this.socket.end();
    // At shutdown, do not wait for the client: close as soon as everything is handed over.
    if (this.#ctx.closing) this.socket.once('finish', destroySocket);
  }

  /**
   * The client sent FIN. Like node:http (httpAllowHalfOpen false), a request in progress is
   * aborted; an idle connection is closed after what is queued.
   */
  #onEnd(): void {
    if (this.#state === S_ACTIVE) this.socket.destroy();
    else if (this.#state === S_HEAD) this.#endSocket();
  }

  #onClose(): void {
    this.#state = S_CLOSED;
    this.#limit = 0;
    const req = this.#req;
    const res = this.#res;
    this.#req = null;
    this.#release();
    this.#in.clear();
    req?.fail(new Error('the client closed the connection'));
    res?.abandon();
    this.#ctx.gone(this);
  }
}

function processNext(conn: Connection): void {
  conn.processNext();
}

function destroySocket(this: Socket): void {
  this.destroy();
}

function noop(): void {}
