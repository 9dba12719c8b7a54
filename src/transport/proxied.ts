import type { UpstreamDispatcher, UpstreamHandler, UpstreamRequest } from '../proxy/exchange.js';
import { encodeProxy } from '../server/proxy-protocol.js';

/** undici's connector shape: open a socket for `opts`, call back with it. */
export type Connector = (opts: Record<string, unknown>, cb: (err: Error | null, socket: import('node:net').Socket | null) => void) => void;

/**
 * `send_proxy_protocol` on the node engine: undici opens connections without knowing which
 * client they are for, so each client address gets its own small pool whose connector writes the
 * PROXY header first. A keep-alive connection thus only carries requests of the client address
 * its header names. Pools unused for two idle periods are closed.
 */
export class ProxiedPools implements UpstreamDispatcher {
  readonly #pools = new Map<string, { pool: UpstreamDispatcher; used: number }>();
  readonly #create: (connect: (base: Connector) => Connector) => UpstreamDispatcher;
  readonly #version: 'v1' | 'v2';
  readonly #sweep: NodeJS.Timeout;

  /** `create` builds an undici pool; it passes undici's own connector to the wrapper it is given. */
  constructor(version: 'v1' | 'v2', idleMs: number, create: (connect: (base: Connector) => Connector) => UpstreamDispatcher) {
    this.#version = version;
    this.#create = create;
    const every = Math.max(idleMs, 1000);
    this.#sweep = setInterval(() => {
      const old = Date.now() - 2 * every;
      for (const [k, p] of this.#pools) {
        if (p.used >= old) continue;
        this.#pools.delete(k);
        void p.pool.close().catch(() => p.pool.destroy());
      }
    }, every).unref();
  }

  dispatch(req: UpstreamRequest, handler: UpstreamHandler): unknown {
    const ends = req.proxy;
    const key = ends?.source.address ?? '';
    let entry = this.#pools.get(key);
    if (!entry) {
      const header = ends ? encodeProxy(this.#version, ends) : undefined;
      entry = { pool: this.#create((base) => withHeader(base, header)), used: 0 };
      this.#pools.set(key, entry);
    }
    entry.used = Date.now();
    const { proxy: _omit, ...plain } = req;
    return entry.pool.dispatch(plain, handler);
  }

  async close(): Promise<void> {
    clearInterval(this.#sweep);
    await Promise.all([...this.#pools.values()].map((p) => p.pool.close()));
    this.#pools.clear();
  }

  async destroy(): Promise<void> {
    clearInterval(this.#sweep);
    await Promise.all([...this.#pools.values()].map((p) => p.pool.destroy()));
    this.#pools.clear();
  }
}

/** A connector that writes `header` on every new socket before undici writes a request. */
function withHeader(base: Connector, header: Buffer | undefined): Connector {
  return (opts, cb) =>
    base(opts, (err, socket) => {
      if (!err && socket && header) socket.write(header);
      cb(err, socket);
    });
}
