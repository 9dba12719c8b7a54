import type { ConnectionOptions } from 'node:tls';
import type { HeadLimits } from '../../http1/request-head.js';
import type { UpstreamRequest } from '../../proxy/exchange.js';

/** Settings of one lean pool (one upstream server); times in ms. */
export interface LeanPoolOptions {
  host: string;
  port: number;
  connectTimeout: number;
  /** From the end of the request to the response head. */
  headersTimeout: number;
  /** Longest silence while reading a response body. */
  bodyTimeout: number;
  /** Idle time after which a pooled connection is closed. */
  keepAliveTimeout: number;
  /** Idle connections kept once a burst is over (surplus ones are trimmed gradually); 0 disables keep-alive. */
  maxIdle: number;
  /** How often surplus idle connections are trimmed (default 1 s; tests shorten it). */
  purgeMs?: number;
  headLimits: HeadLimits;
  /** HTTPS to the server: tls.connect options (see transport/tls-options.ts); absent for cleartext. */
  tls?: ConnectionOptions;
  /** `send_proxy_protocol`: each connection starts with this PROXY header version. */
  proxyProtocol?: 'v1' | 'v2';
}

/** A method whose requests carry a payload: an empty one is sent with `content-length: 0`. */
function payloadMethod(m: string): boolean {
  return m === 'POST' || m === 'PUT' || m === 'PATCH';
}

/**
 * The request head as one latin1 string: request line, the given headers (already rewritten by
 * the proxy: hop-by-hop gone, Host first), then framing. `bodyLength` >= 0 is a body of known
 * size (Content-Length added when the client's head had none); `chunked` frames a streamed body.
 */
export function requestHead(req: UpstreamRequest, bodyLength: number, chunked: boolean): string {
  let head = `${req.method} ${req.path} HTTP/1.1\r\n`;
  let hasLength = false;
  // Lines passed on as received: a request with neither a body nor a Content-Length.
  if (req.lines !== undefined) head += req.lines;
  else {
    const h = req.headers;
    for (let i = 0; i < h.length; i += 2) {
      const name = h[i]!;
      if (name.length === 14 && name.toLowerCase() === 'content-length') {
        if (chunked) continue;
        hasLength = true;
      }
      head += `${name}: ${h[i + 1]!}\r\n`;
    }
  }
  if (chunked) head += 'transfer-encoding: chunked\r\n';
  else if (!hasLength && (bodyLength > 0 || (bodyLength <= 0 && payloadMethod(req.method)))) head += `content-length: ${Math.max(bodyLength, 0)}\r\n`;
  if (req.reset) head += 'connection: close\r\n';
  return head + '\r\n';
}

/** An error with a code the proxy's classifier knows (the same codes undici uses). */
export function transportError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

/**
 * The server's `Keep-Alive: timeout=N` in ms, less a second so we never reuse a connection the
 * server is about to close (undici does the same); 0 when absent.
 */
export function keepAliveHint(value: string | undefined): number {
  const m = value === undefined ? null : /timeout\s*=\s*(\d+)/i.exec(value);
  return m ? Math.max(Number(m[1]) * 1000 - 1000, 1) : 0;
}

/** The head for a streamed body: chunked unless the client gave a Content-Length. */
export function requestHeadStreaming(req: UpstreamRequest): { head: string; chunked: boolean } {
  const chunked = !hasContentLength(req.headers);
  return { head: requestHead(req, -1, chunked), chunked };
}

function hasContentLength(h: readonly string[]): boolean {
  for (let i = 0; i < h.length; i += 2) if (h[i]!.length === 14 && h[i]!.toLowerCase() === 'content-length') return true;
  return false;
}
