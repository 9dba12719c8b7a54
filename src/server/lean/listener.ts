import { monotonicMs } from '../../util/clock.js';
import net from 'node:net';
import type tls from 'node:tls';
import { bind, boundPort } from '../bind.js';
import { AcceptBoost } from '../accept-boost.js';
import type { ListenerConfig } from '../../config/types.js';
import { serveRequest, type Runtime } from '../../proxy/handler.js';
import { inviteBody } from '../../proxy/route.js';
import { serveUpgrade } from '../../proxy/upgrade.js';
import { Connection, type LeanContext } from './connection.js';
import { ProxyGate, gateServer } from '../proxy-gate.js';
import { inheritProxiedEnds } from '../../tls/proxied.js';
import type { LeanRequest } from './request.js';
import type { LeanResponse } from './response.js';
import { IdleWait } from '../../util/idle-wait.js';
import { tlsModule } from '../../util/builtins.js';

/**
 * Socket buffer before write() asks for backpressure. Node's 16 KiB default pauses the other leg
 * on every 64 KiB read of a large body; 256 KiB lets one read pass straight through.
 */
const SOCKET_HWM = 256 * 1024;

/** Client-side deadlines, in ms. Defaults match the node engine's listener. */
export interface LeanTimeouts {
  /** From the first byte of a request head to its end; 408 after. Default 30 s. */
  headMs: number;
  /** Keep-alive idle time between requests; closed silently after. Default 60 s. */
  idleMs: number;
  /** A closing connection keeps draining what the client still sends for this long. Default 5 s. */
  lingerMs: number;
  /** How often deadlines are checked (their precision). Default 1 s. */
  tickMs: number;
}

/** Test and embedding knobs; the gateway uses the defaults. */
export interface LeanListenerOptions {
  timeouts?: Partial<LeanTimeouts>;
  /** Replace the proxy handler (unit tests). */
  handle?: (req: LeanRequest, res: LeanResponse) => void;
  /** Replace the Expect: 100-continue check (unit tests). */
  continueOk?: (req: LeanRequest) => boolean;
  /** Serve HTTPS: tls.Server options (certificates, SNICallback, ALPN); requests are proxied as https. */
  tls?: tls.TlsOptions;
}

/**
 * The lean engine's HTTP/1.1 listener: raw `net` sockets, Headwater's own strict parser, one
 * request at a time per connection. Same public shape as HttpListener. Deadlines of every
 * connection are checked by one timer per listener.
 */
export class LeanListener {
  config: ListenerConfig;
  #gate: ProxyGate | undefined;
  readonly #server: net.Server;
  #boost: AcceptBoost | undefined;
  readonly #conns = new Set<Connection>();
  readonly #ctx: LeanContext;
  readonly #tickMs: number;
  #tick: NodeJS.Timeout | undefined;
  readonly #idle = new IdleWait();

  constructor(config: ListenerConfig, runtime: () => Runtime, opts: LeanListenerOptions = {}) {
    this.config = config;
    const t = opts.timeouts ?? {};
    this.#tickMs = t.tickMs ?? 1000;
    const conns = this.#conns;
    const handle = opts.handle ?? ((req: LeanRequest, res: LeanResponse) => serveRequest(runtime(), req, res, opts.tls ? 'https' : 'http'));
    const continueOk = opts.continueOk ?? ((req: LeanRequest) => inviteBody(runtime(), req));
    this.#ctx = {
      now: monotonicMs(),
      closing: false,
      headMs: t.headMs ?? 30_000,
      idleMs: t.idleMs ?? 60_000,
      lingerMs: t.lingerMs ?? 5_000,
      handle,
      continueOk,
      gone: (conn) => {
        conns.delete(conn);
        if (conns.size === 0) this.#idle.idle();
      },
    };
    if (opts.handle === undefined) this.#ctx.upgrade = (req, socket, head) => serveUpgrade(runtime(), req, socket, head, opts.tls ? 'https' : 'http');
    const accept = (socket: net.Socket) => {
      if (this.#ctx.closing) {
        socket.destroy();
        return;
      }
      const gate = this.#gate;
      if (opts.tls) {
        // Gated on the raw connection (below): the TLS socket only takes the proxied ends.
        inheritProxiedEnds(socket as tls.TLSSocket);
        conns.add(new Connection(socket, this.#ctx, true));
      } else if (!gate) conns.add(new Connection(socket, this.#ctx, true));
      else {
        gate.accept(socket, (s) => {
          if (this.#ctx.closing) return void s.destroy();
          conns.add(new Connection(s, this.#ctx));
          s.resume();
        });
      }
    };
    const sockOpts = { noDelay: true, allowHalfOpen: true, pauseOnConnect: false, highWaterMark: SOCKET_HWM };
    // TLS: the same connections on decrypted sockets, once the handshake is done (10 s at most).
    this.#server = opts.tls ? tlsModule().createServer({ ...sockOpts, allowHalfOpen: false, ...opts.tls, handshakeTimeout: 10_000 }, accept) : net.createServer(sockOpts, accept);
    this.#gate = ProxyGate.for(config);
    // TLS: a PROXY header comes before the handshake, so it is read on the raw connection.
    if (opts.tls) gateServer(this.#server, () => this.#gate, { native: true });
  }

  /** A reload kept this listener: new connections use its new PROXY protocol settings. */
  reconfigure(config: ListenerConfig): void {
    this.config = config;
    this.#gate = ProxyGate.for(config);
  }

  /** Bind; resolves with the bound port (useful with port 0). */
  async listen(): Promise<number> {
    const port = await bind(this.#server, this.config);
    this.#boost = new AcceptBoost(this.#server);
    this.#startTick();
    return port;
  }

  get port(): number {
    return boundPort(this.#server, this.config);
  }

  /** Replace the default certificate of a TLS listener (clients without SNI). */
  setSecureContext(options: tls.SecureContextOptions): void {
    if ('setSecureContext' in this.#server) (this.#server as tls.Server).setSecureContext(options);
  }

  /** Connections open now (tests). */
  get connections(): number {
    return this.#conns.size;
  }

  #startTick(): void {
    if (this.#tick) return;
    this.#tick = setInterval(() => {
      const now = (this.#ctx.now = monotonicMs());
      for (const c of this.#conns) c.check(now);
    }, this.#tickMs);
    this.#tick.unref();
  }

  /**
   * Stop accepting, close idle connections now, let requests in progress finish within `graceMs`
   * (their responses say `connection: close`), then cut what is left.
   */
  async close(graceMs: number): Promise<void> {
    this.#ctx.closing = true;
    this.#boost?.close();
    const closed = new Promise<void>((r) => this.#server.close(() => r()));
    this.#gate?.closePending();
    for (const c of [...this.#conns]) c.closeIfIdle();
    if (this.#conns.size > 0 && graceMs > 0) await this.#idle.wait(graceMs);
    for (const c of this.#conns) c.socket.destroy();
    clearInterval(this.#tick);
    this.#tick = undefined;
    await closed;
  }
}
