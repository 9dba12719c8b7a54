import type { ClientHttp2Session } from 'node:http2';
import net from 'node:net';
import type tls from 'node:tls';
import { http2Module, tlsModule } from '../../util/builtins.js';
import type { UpstreamDispatcher, UpstreamHandler, UpstreamRequest } from '../../proxy/exchange.js';
import { transportError } from '../lean/wire.js';
import { runExchange } from './exchange.js';

/** Settings of the HTTP/2 connection to one server; times in ms. */
export interface H2PoolOptions {
  host: string;
  port: number;
  /** h2 over TLS; absent: h2c (cleartext, prior knowledge). */
  tls?: tls.ConnectionOptions | undefined;
  connectTimeout: number;
  headersTimeout: number;
  bodyTimeout: number;
  /** A session without streams for this long is closed. */
  idleTimeout: number;
}

/**
 * HTTP/2 to one upstream server (`protocol: h2` or `h2c`): one session multiplexes every request.
 * Streams past the server's SETTINGS_MAX_CONCURRENT_STREAMS wait in nghttp2's queue. A session
 * that gets GOAWAY or closes is replaced for new requests; streams already on it finish there.
 */
export class H2Pool implements UpstreamDispatcher {
  readonly #opts: H2PoolOptions;
  #session: ClientHttp2Session | undefined;
  readonly #all = new Set<ClientHttp2Session>();
  #closing = false;

  constructor(opts: H2PoolOptions) {
    this.#opts = opts;
  }

  dispatch(req: UpstreamRequest, handler: UpstreamHandler): boolean {
    if (this.#closing) {
      handler.onError(transportError('connection pool closed', 'UND_ERR_DESTROYED'));
      return false;
    }
    runExchange(this.#current(), this.#opts.tls ? 'https' : 'http', req, handler, this.#opts);
    return true;
  }

  #current(): ClientHttp2Session {
    const s = this.#session;
    if (s && !s.closed && !s.destroyed) return s;
    return (this.#session = this.#connect());
  }

  #connect(): ClientHttp2Session {
    const o = this.#opts;
    const host = o.host.includes(':') ? `[${o.host}]` : o.host;
    const s = http2Module().connect(`${o.tls ? 'https' : 'http'}://${host}:${o.port}`, {
      settings: { enablePush: false },
      createConnection: () => (o.tls ? tlsModule().connect({ ...o.tls, host: o.host, port: o.port }) : net.connect({ host: o.host, port: o.port, noDelay: true })),
    });
    this.#all.add(s);
    const forget = () => {
      if (this.#session === s) this.#session = undefined;
    };
    let timer: NodeJS.Timeout | undefined;
    if (o.connectTimeout > 0) {
      timer = setTimeout(() => s.destroy(transportError(`connect timeout after ${o.connectTimeout}ms`, 'UND_ERR_CONNECT_TIMEOUT')), o.connectTimeout);
    }
    s.once('connect', () => clearTimeout(timer));
    s.on('goaway', forget);
    s.on('error', forget);
    s.on('close', () => {
      clearTimeout(timer);
      forget();
      this.#all.delete(s);
      if (this.#closing && this.#all.size === 0) this.#drained?.();
    });
    if (o.idleTimeout > 0) s.setTimeout(o.idleTimeout, () => s.close());
    return s;
  }

  #drained: (() => void) | undefined;

  /** Let streams in flight finish, then close. */
  close(): Promise<void> {
    this.#closing = true;
    this.#session = undefined;
    if (this.#all.size === 0) return Promise.resolve();
    const done = new Promise<void>((r) => (this.#drained = r));
    for (const s of this.#all) s.close();
    return done;
  }

  /** Close now; streams in flight fail. */
  destroy(): Promise<void> {
    this.#closing = true;
    this.#session = undefined;
    for (const s of [...this.#all]) s.destroy();
    return Promise.resolve();
  }
}
