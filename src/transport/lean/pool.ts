import type { UpstreamDispatcher, UpstreamHandler, UpstreamRequest } from '../../proxy/exchange.js';
import { UpstreamConnection, type ConnectionOwner } from './connection.js';
import type { LeanPoolOptions } from './wire.js';
import { encodeProxy } from '../../server/proxy-protocol.js';

function proxyPreamble(opts: LeanPoolOptions, req: UpstreamRequest): { key: string; bytes: Buffer } | undefined {
  if (!opts.proxyProtocol || !req.proxy) return undefined;
  return { key: req.proxy.source.address, bytes: encodeProxy(opts.proxyProtocol, req.proxy) };
}

/** How often idle connections above `maxIdle` are trimmed (HAProxy's pool-purge-delay is 5 s). */
const PURGE_MS = 1000;

/**
 * Keep-alive connections to one upstream server for the lean HTTP/1.1 engine. Idle connections
 * are reused newest first (warm sockets, and the oldest age out through idle_timeout). `maxIdle`
 * is what stays idle once a burst is over: surplus idle connections are trimmed gradually (half
 * of the surplus, oldest first, every second, as HAProxy purges its pools) rather than closed the
 * moment they are released. Under steady high concurrency they are reused instead of being closed
 * and reopened per request (a handshake each, and TIME_WAIT and accept-queue pressure on the
 * server). Concurrency is bounded by the balancer (max_conns), not here.
 */
export class LeanPool implements UpstreamDispatcher, ConnectionOwner {
  readonly takesLines = true;
  readonly #opts: LeanPoolOptions;
  readonly #idle: UpstreamConnection[] = [];
  readonly #all = new Set<UpstreamConnection>();
  #closing = false;
  #drained: (() => void) | undefined;
  #purge: NodeJS.Timeout | undefined;

  constructor(opts: LeanPoolOptions) {
    this.#opts = opts;
  }

  dispatch(req: UpstreamRequest, handler: UpstreamHandler): boolean {
    let conn: UpstreamConnection | undefined;
    if (req.proxy !== undefined) conn = this.#proxied(req);
    else {
      while ((conn = this.#idle.pop()) !== undefined && !conn.idle);
    }
    if (conn === undefined) {
      conn = new UpstreamConnection(this, this.#opts, proxyPreamble(this.#opts, req));
      this.#all.add(conn);
    }
    conn.run(req, handler);
    return true;
  }

  /** send_proxy_protocol: an idle connection opened for the same client address, if any. */
  #proxied(req: UpstreamRequest): UpstreamConnection | undefined {
    const key = req.proxy!.source.address;
    for (let i = this.#idle.length - 1; i >= 0; i--) {
      const c = this.#idle[i]!;
      if (c.proxyKey !== key || !c.idle) continue;
      this.#idle.splice(i, 1);
      return c;
    }
    return undefined;
  }

  release(conn: UpstreamConnection): void {
    if (this.#closing || this.#opts.maxIdle === 0) {
      conn.close();
      return;
    }
    this.#idle.push(conn);
    if (this.#idle.length > this.#opts.maxIdle && this.#purge === undefined) {
      this.#purge = setTimeout(this.#trim, this.#opts.purgeMs ?? PURGE_MS).unref();
    }
  }

  /** Close half of the idle connections above maxIdle (at least one), oldest first; again later if some remain. */
  readonly #trim = (): void => {
    this.#purge = undefined;
    const surplus = this.#idle.length - this.#opts.maxIdle;
    if (surplus <= 0 || this.#closing) return;
    for (const c of this.#idle.splice(0, Math.ceil(surplus / 2))) c.close();
    if (this.#idle.length > this.#opts.maxIdle) this.#purge = setTimeout(this.#trim, this.#opts.purgeMs ?? PURGE_MS).unref();
  };

  gone(conn: UpstreamConnection): void {
    this.#all.delete(conn);
    const i = this.#idle.lastIndexOf(conn);
    if (i !== -1) this.#idle.splice(i, 1);
    if (this.#closing && this.#all.size === 0) this.#drained?.();
  }

  /** Let requests in flight finish, then close every connection. */
  close(): Promise<void> {
    this.#closing = true;
    clearTimeout(this.#purge);
    for (const c of this.#idle.splice(0)) c.close();
    if (this.#all.size === 0) return Promise.resolve();
    return new Promise((r) => (this.#drained = r));
  }

  /** Close every connection now; exchanges in flight fail. */
  destroy(): Promise<void> {
    this.#closing = true;
    clearTimeout(this.#purge);
    for (const c of [...this.#all]) c.close();
    return Promise.resolve();
  }
}
