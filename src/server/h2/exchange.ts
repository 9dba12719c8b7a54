import type { ServerHttp2Stream, OutgoingHttpHeaders } from 'node:http2';
import type { IncomingHttpHeaders } from 'node:http';
import type { ProxyRequest, ProxyResponse } from '../../proxy/exchange.js';
import { own } from '../../util/own.js';

/**
 * An HTTP/2 request as the proxy handler sees it: its HTTP/1.1 view. Pseudo-headers never reach
 * the handler (or an upstream): `:authority` becomes Host, `:method`/`:path` are method and url.
 * A request whose HEADERS frame did not end the stream and that has no Content-Length gets
 * `transfer-encoding: chunked` in its view, so the handler reads (and forwards) its body; the
 * field itself is hop-by-hop and never sent on.
 */
export class H2Request implements ProxyRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders = {};
  readonly rawHeaders: string[] = [];
  /** The handler's HTTP/1.1 checks (exactly one Host) apply to the view unchanged. */
  readonly httpVersionMajor = 1;
  readonly httpVersionMinor = 1;
  /** What the access log prints as the protocol. */
  readonly protocol = 'HTTP/2.0';
  readonly socket: { readonly remoteAddress?: string | undefined };
  /** gRPC: messages flow both ways at once, so the body is never held back. */
  readonly streamsBody: boolean;
  readonly #stream: ServerHttp2Stream;

  /** `raw`: the stream's raw header list, pseudo-headers included (node's 'stream' event). */
  constructor(stream: ServerHttp2Stream, raw: readonly string[]) {
    this.#stream = stream;
    let method = 'GET';
    let url = '';
    let authority: string | undefined;
    let length = false;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!;
      if (name.charCodeAt(0) !== 58 /* : */) continue;
      if (name === ':authority') authority = raw[i + 1];
      else if (name === ':method') method = raw[i + 1]!;
      else if (name === ':path') url = raw[i + 1]!;
    }
    this.method = method;
    this.url = url;
    this.socket = { remoteAddress: stream.session?.socket?.remoteAddress };
    if (authority !== undefined) this.#add('host', authority);
    let cookie: string | undefined;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!;
      if (name.charCodeAt(0) === 58 /* : */ || (authority !== undefined && name === 'host')) continue;
      if (name === 'content-length') length = true;
      // RFC 9113 8.2.3: split Cookie fields are joined with "; " before going to HTTP/1.1.
      if (name === 'cookie') cookie = cookie === undefined ? raw[i + 1]! : `${cookie}; ${raw[i + 1]!}`;
      else this.#add(name, raw[i + 1]!);
    }
    if (cookie !== undefined) this.#add('cookie', cookie);
    if (!length && !stream.endAfterHeaders) this.#add('transfer-encoding', 'chunked');
    const ct = this.headers['content-type'];
    this.streamsBody = typeof ct === 'string' && ct.startsWith('application/grpc');
  }

  #add(name: string, value: string): void {
    this.rawHeaders.push(name, value);
    const prev = own(this.headers, name);
    if (prev === undefined) (this.headers as Record<string, string | string[]>)[name] = name === 'set-cookie' ? [value] : value;
    else if (Array.isArray(prev)) prev.push(value);
    else (this.headers as Record<string, string>)[name] = `${prev}, ${value}`;
  }

  resume(): unknown {
    return this.#stream.resume();
  }

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    return this.#stream[Symbol.asyncIterator]();
  }
}

/** Body chunks up to this size are copied into the stream (see H2Response.write). */
const COPY_MAX = 16 * 1024;

/** Connection-specific fields (RFC 9113 8.2.2) that an HTTP/2 response must not carry. */
const CONNECTION_SPECIFIC = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te']);

/** A flat [name, value, ...] list as an HTTP/2 header object: lower-case names, connection-specific ones dropped. */
export function h2Headers(flat: readonly string[], into: OutgoingHttpHeaders = {}): OutgoingHttpHeaders {
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i]!.toLowerCase();
    if (CONNECTION_SPECIFIC.has(name)) continue;
    const prev = into[name];
    if (prev === undefined) into[name] = flat[i + 1]!;
    else if (Array.isArray(prev)) prev.push(flat[i + 1]!);
    else into[name] = [String(prev), flat[i + 1]!];
  }
  return into;
}

/**
 * The client side of an HTTP/2 response, written on the stream itself: headers are sent with the
 * first body bytes or at the end, so a response with neither body nor trailers is one HEADERS
 * frame that ends the stream (gRPC's trailers-only form), and trailers become a final HEADERS frame
 * (sent when the stream asks for them: 'wantTrailers'). As on HTTP/1.1, trailers go only to a
 * client that sent `TE: trailers` (gRPC clients do): for the others the stream ends with its last
 * DATA frame instead of waiting for trailers, which cost an extra empty DATA frame and a
 * 'wantTrailers' round trip through JS on every response.
 */
export class H2Response implements ProxyResponse {
  readonly #stream: ServerHttp2Stream;
  #head: OutgoingHttpHeaders | undefined;
  #trailers: OutgoingHttpHeaders | undefined;
  #sent = false;
  /** The client sent `TE: trailers`. */
  readonly #wantsTrailers: boolean;

  constructor(stream: ServerHttp2Stream, req: H2Request) {
    this.#stream = stream;
    const te = req.headers.te;
    this.#wantsTrailers = te !== undefined && String(te).toLowerCase().includes('trailers');
    if (this.#wantsTrailers) stream.once('wantTrailers', () => stream.sendTrailers(this.#trailers ?? {}));
  }

  get headersSent(): boolean {
    return this.#head !== undefined;
  }

  get destroyed(): boolean {
    return this.#stream.destroyed;
  }

  /** Node also reports a stream the client reset as writableFinished: that one is not. */
  get writableFinished(): boolean {
    const s = this.#stream;
    return s.writableFinished && !s.aborted && (s.rstCode ?? 0) === 0;
  }

  writeHead(status: number, headers: string[]): unknown {
    this.#head = h2Headers(headers, { ':status': status });
    return this;
  }

  addTrailers(trailers: Array<[string, string]>): void {
    if (!this.#wantsTrailers) return;
    this.#trailers = h2Headers(trailers.flat(), this.#trailers);
  }

  #respond(endStream: boolean): boolean {
    if (this.#sent) return true;
    const s = this.#stream;
    if (s.destroyed || s.closed) return false;
    this.#sent = true;
    try {
      s.respond(this.#head ?? { ':status': 200 }, endStream ? { endStream: true } : this.#wantsTrailers ? { waitForTrailers: true } : undefined);
    } catch {
      // A field HTTP/2 cannot carry: the client sees the stream reset rather than a wrong response.
      s.close(0x2 /* INTERNAL_ERROR */);
      return false;
    }
    return true;
  }

  /**
   * The stream keeps a reference to `chunk` until its DATA frames are out, and the lean transport
   * reuses its read buffer once write returns true (see UpstreamHandler.onData). Small chunks are
   * copied; a large one is referred to, and write reports false until the stream is done with it
   * ('drain' then follows).
   */
  write(chunk: Buffer): boolean {
    if (!this.#respond(false)) return true;
    const s = this.#stream;
    if (chunk.length <= COPY_MAX) return s.write(Buffer.from(chunk));
    this.#held++;
    s.write(chunk, this.#flushed);
    return false;
  }

  /** Writes still referring to the caller's chunk. */
  #held = 0;
  /** 'drain' listeners: told when the stream drains and no write refers to a caller's chunk. */
  #drainListeners: Array<() => void> | null = null;
  readonly #drained = (): void => {
    if (this.#held === 0 && this.#drainListeners !== null && !this.#stream.destroyed) for (const fn of [...this.#drainListeners]) fn();
  };
  readonly #flushed = (): void => {
    this.#held--;
    this.#drained();
  };

  end(chunk?: string): unknown {
    const empty = chunk === undefined || chunk.length === 0;
    if (!this.#respond(!this.#sent && empty && this.#trailers === undefined)) return this;
    if (!this.#stream.writableEnded) {
      if (empty) this.#stream.end();
      else this.#stream.end(chunk);
    }
    return this;
  }

  destroy(): unknown {
    return this.#stream.destroyed ? this : this.#stream.close(0x2 /* INTERNAL_ERROR */);
  }

  on(event: 'close' | 'drain', fn: () => void): unknown {
    if (event === 'close') return this.#stream.on(event, fn);
    if (this.#drainListeners === null) {
      this.#drainListeners = [];
      this.#stream.on('drain', this.#drained);
    }
    this.#drainListeners.push(fn);
    return this;
  }

  off(event: 'close' | 'drain', fn: () => void): unknown {
    if (event === 'close') return this.#stream.off(event, fn);
    const list = this.#drainListeners;
    const i = list === null ? -1 : list.lastIndexOf(fn);
    if (i >= 0) list!.splice(i, 1);
    return this;
  }
}
