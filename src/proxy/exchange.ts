import type { IncomingHttpHeaders } from 'node:http';
import type { ProxyEnds } from '../server/proxy-protocol.js';

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
  /** Discard whatever body remains. */
  resume(): unknown;
}

/** The client side of one response; node:http's ServerResponse satisfies it. */
export interface ProxyResponse {
  readonly headersSent: boolean;
  readonly destroyed: boolean;
  /** The whole response has been handed to the socket. */
  readonly writableFinished: boolean;
  writeHead(status: number, headers: string[]): unknown;
  /**
   * false asks the caller to wait for 'drain'. The lean response also returns false while it
   * still refers to `chunk` (not yet handed to the kernel), and emits 'drain' once it no longer does.
   */
  write(chunk: Buffer): boolean;
  end(chunk?: string): unknown;
  /** Cut the connection (the client sees a truncated response). */
  destroy(): unknown;
  on(event: 'close' | 'drain', fn: () => void): unknown;
  off(event: 'close' | 'drain', fn: () => void): unknown;
}

/** One request to an upstream server, as a transport sends it. */
export interface UpstreamRequest {
  method: string;
  path: string;
  /** Flat [name, value, ...]; Host first. */
  headers: string[];
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
  onHeaders(statusCode: number, rawHeaders: Buffer[] | string[], resume: () => void, statusText: string): boolean;
  /**
   * Body bytes. The lean transport passes a view into its read buffer, valid only until the
   * next read: returning true says the handler is done with it (copied it, or the kernel has
   * it); returning false keeps the upstream paused, and the bytes untouched, until `resume`.
   */
  onData(chunk: Buffer): boolean;
  onComplete(trailers: unknown): void;
  onError(err: Error): void;
}

/** A connection pool to one upstream server. */
export interface UpstreamDispatcher {
  dispatch(req: UpstreamRequest, handler: UpstreamHandler): unknown;
  close(): Promise<unknown>;
  destroy(): Promise<unknown>;
}
