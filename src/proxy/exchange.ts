import type { IncomingHttpHeaders } from 'node:http';
import type { ProxyEnds } from '../server/proxy-protocol.js';
import type { RequestFields } from './route.js';

/**
 * The client side of one request as the proxy handler uses it. node:http's IncomingMessage
 * satisfies it as is; the lean HTTP/1.1 engine provides its own. Keep it to what the handler needs.
 */
export interface ProxyRequest extends AsyncIterable<Buffer> {
  readonly method?: string | undefined;
  /** The request target as received. */
  readonly url?: string | undefined;
  /** Lower-case names; repeated headers joined as node:http does. */
  readonly headers: IncomingHttpHeaders;
  /** Flat [name, value, ...] as received. */
  readonly rawHeaders: string[];
  readonly httpVersionMajor: number;
  readonly httpVersionMinor: number;
  readonly socket: {
    readonly remoteAddress?: string | undefined;
    readonly remotePort?: number | undefined;
    /** The gateway's address the client connected to (the PROXY protocol's destination). */
    readonly localAddress?: string | undefined;
    readonly localPort?: number | undefined;
  };
  /** The client's address as clientAddress() gives it, when the connection keeps it (the lean engine). */
  readonly clientIp?: string;
  /** Discard whatever body remains. */
  resume(): unknown;
  /** The protocol as received, when the version fields show another (HTTP/2's HTTP/1.1 view): `HTTP/2.0`. */
  readonly protocol?: string;
  /**
   * The value of each of `names` (lower-case) without building `headers` (the lean engine); null
   * when one of them repeats (the caller joins repeats from `headers`, as node:http does).
   */
  logFields?(names: readonly string[]): Array<string | undefined> | null;
  /** The fields the handler looks at, when the server parsed them already (the lean engine). */
  readonly fields?: RequestFields;
  /**
   * A request without a body whose field lines can be passed on as received (the lean engine):
   * those lines (less the ones the proxy drops or rewrites) and the X-Forwarded-For values.
   */
  readonly relay?: { readonly passLines: string | undefined; readonly forwardedFor: string | undefined };
  /**
   * The client expects its body to flow while the response does (gRPC streaming): forward it at
   * once, never held for replay.
   */
  readonly streamsBody?: boolean;
}

/** The client side of one response; node:http's ServerResponse satisfies it. */
export interface ProxyResponse {
  readonly headersSent: boolean;
  readonly destroyed: boolean;
  /** The whole response has been handed to the socket. */
  readonly writableFinished: boolean;
  writeHead(status: number, headers: string[]): unknown;
  /**
   * writeHead from a relayed upstream head's field lines as received (CRLF-ended, hop-by-hop
   * ones left out), its declared length (-1: none) and a Set-Cookie to add. The lean HTTP/1.1
   * response has it: a byte-for-byte head needs no header array.
   */
  writeHeadLines?(status: number, lines: string, contentLength: number, setCookie?: string): unknown;
  /**
   * false asks the caller to wait for 'drain'. The lean response also returns false while it
   * still refers to `chunk` (not yet handed to the kernel), and emits 'drain' once it no longer does.
   */
  write(chunk: Buffer): boolean;
  /**
   * After a write() that returned false: whether the response still refers to a chunk it was
   * given, until 'drain'. The lean response copies what the kernel did not take, so usually does
   * not. Absent: it may.
   */
  readonly holdsChunk?: boolean;
  end(chunk?: string): unknown;
  /**
   * Trailer fields to send after the body (before `end`), where the protocol can carry them:
   * HTTP/2 always, node:http's HTTP/1.1 on a chunked response. Absent: trailers are dropped.
   */
  addTrailers?(trailers: Array<[string, string]>): void;
  /** Cut the connection (the client sees a truncated response). */
  destroy(): unknown;
  on(event: 'close' | 'drain', fn: () => void): unknown;
  off(event: 'close' | 'drain', fn: () => void): unknown;
}

/** One request to an upstream server, as a transport sends it. */
export interface UpstreamRequest {
  method: string;
  path: string;
  /** Flat [name, value, ...]; Host first. Empty when `lines` is given. */
  headers: string[];
  /**
   * The same fields as CRLF-ended lines, for a transport that takes them (`takesLines`): a
   * request without a body whose client lines are passed on as received.
   */
  lines?: string;
  body: Buffer | AsyncIterable<Buffer> | null;
  /** Close the connection after this exchange (no keep-alive). */
  reset: boolean;
  /**
   * The client connection's ends, when the upstream has `send_proxy_protocol`: a new connection
   * starts with this PROXY header, and a pooled one is reused only for the same client address.
   */
  proxy?: ProxyEnds;
}

/**
 * Callbacks a transport drives for one exchange (undici's handler shape, so an undici Pool is a
 * transport as is). Returning false from onHeaders/onData pauses the upstream until `resume`.
 */
export interface UpstreamHandler {
  onConnect(abort: (err?: Error) => void): void;
  /** The request head and body have been written. */
  onRequestSent?(): void;
  /**
   * The lean transport passes its parsed `head` and leaves rawHeaders empty and statusText '':
   * the head decodes its headers only when asked, and carries the lines to relay as they are.
   */
  onHeaders(statusCode: number, rawHeaders: Buffer[] | string[], resume: () => void, statusText: string, head?: RelayHead): boolean;
  /**
   * Body bytes. The lean transport passes a view into its read buffer, valid only until the
   * next read: returning true says the handler is done with it (copied it, or the kernel has
   * it); returning false keeps the upstream paused, and the bytes untouched, until `resume`.
   */
  onData(chunk: Buffer): boolean;
  /**
   * Read after onData returned false: false when the handler no longer refers to the chunk (it
   * only asks for a pause), so the read buffer may be reused. Absent: it does.
   */
  readonly holdsChunk?: boolean;
  onComplete(trailers: unknown): void;
  onError(err: Error): void;
}

/** A response head as the lean transport hands it over (see ResponseHead). */
export interface RelayHead {
  /** Flat [name, value, ...], decoded on first use. */
  readonly headers: string[];
  /** The field lines to relay as they are, when no Connection token names another field. */
  readonly passLines: string | undefined;
  /** -1 when absent. */
  readonly contentLength: number;
}

/** A connection pool to one upstream server. */
export interface UpstreamDispatcher {
  /** It writes HTTP/1.1 and takes UpstreamRequest.lines in place of headers. */
  readonly takesLines?: boolean;
  dispatch(req: UpstreamRequest, handler: UpstreamHandler): unknown;
  close(): Promise<unknown>;
  destroy(): Promise<unknown>;
}
