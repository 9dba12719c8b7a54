import { AcceptBoost } from './accept-boost.js';
import type http from 'node:http';
import type https from 'node:https';
import type http2 from 'node:http2';
import { http2Module, httpsModule } from '../util/builtins.js';
import type { Socket } from 'node:net';
import { bind, boundPort } from './bind.js';
import type { ListenerConfig } from '../config/types.js';
import { serveRequest, type Runtime } from '../proxy/handler.js';
import { inviteBody } from '../proxy/route.js';
import { serveUpgrade } from '../proxy/upgrade.js';
import { H2Request, H2Response } from './h2/exchange.js';
import { guardResets } from './h2/reset-guard.js';
import type { CertStore } from '../tls/cert-store.js';
import { certStoreFor, contextSettings, serverTlsOptions } from '../tls/server-options.js';
import { LeanListener } from './lean/listener.js';
import { ProxyGate, gateServer } from './proxy-gate.js';
import { inheritProxiedEnds } from '../tls/proxied.js';
import { IdleWait } from '../util/idle-wait.js';

/** Knobs for tests: how often certificate files are polled for changes (ms). */
export interface SecureListenerOptions {
  certPollMs?: number;
  /** `lean`: HTTPS without HTTP/2 runs on the lean engine's connections over tls.Server. */
  engine?: 'lean' | 'node';
}

/** Idle time after which an HTTP/2 connection is closed gracefully (as the HTTP/1.1 keep-alive timeout). */
const IDLE_MS = 60_000;

/** Defaults of `http2_limits` for listeners built without them (library callers). */
const LIMITS = { max_concurrent_streams: 128, max_header_list_size: 32 * 1024, max_resets_per_second: 200 };

/**
 * A TLS or HTTP/2 listener: HTTPS (`tls`), HTTPS with HTTP/2 by ALPN and HTTP/1.1 fallback
 * (`tls` + `http2`), or cleartext HTTP/2 (`h2c`). HTTP/2 runs on node:http2, whatever the engine:
 * HTTP/2 requests go through H2Request/H2Response, HTTP/1.1 ones as node:http objects, both to the
 * same handler. Plain HTTPS runs on the lean engine's connections over tls.Server with
 * `engine: lean`, on node:https otherwise. Certificates come from a CertStore (SNI, reload,
 * run-time additions such as ACME).
 */
export class SecureListener {
  config: ListenerConfig;
  /** The listener's certificates; undefined for h2c. */
  readonly certs: CertStore | undefined;
  readonly #server: https.Server | http2.Http2SecureServer | http2.Http2Server | LeanListener;
  readonly #sockets = new Set<Socket>();
  readonly #sessions = new Set<http2.ServerHttp2Session>();
  #gate: ProxyGate | undefined;
  #boost: AcceptBoost | undefined;
  #inflight = 0;
  readonly #idle = new IdleWait();
  readonly #requestDone = () => {
    if (--this.#inflight === 0) this.#idle.idle();
  };

  constructor(config: ListenerConfig, runtime: () => Runtime, opts: SecureListenerOptions = {}) {
    this.config = config;
    const limits = config.http2_limits ?? LIMITS;
    const h2: http2.SecureServerOptions = {
      allowHTTP1: true,
      settings: { maxConcurrentStreams: limits.max_concurrent_streams, maxHeaderListSize: limits.max_header_list_size },
      maxSessionMemory: 32,
    };
    const proto = config.tls ? 'https' : 'http';
    if (config.tls) {
      const store = (this.certs = certStoreFor(config, config.tls, opts.certPollMs));
      const tlsOpts = serverTlsOptions(store, contextSettings(config, config.tls));
      const server = config.http2
        ? http2Module().createSecureServer({ ...h2, ...tlsOpts })
        : opts.engine === 'lean'
          ? new LeanListener(config, runtime, { tls: tlsOpts })
          : httpsModule().createServer({ ...tlsOpts, keepAliveTimeout: 60_000, headersTimeout: 30_000, requestTimeout: 0, requireHostHeader: false, joinDuplicateHeaders: false });
      this.#server = server;
      store.onDefaultChange = () => {
        const pair = store.defaultPair();
        if (pair) server.setSecureContext({ ...pair, minVersion: tlsOpts.minVersion, ciphers: tlsOpts.ciphers });
      };
    } else {
      this.certs = undefined;
      this.#server = http2Module().createServer(h2);
    }
    if (this.#server instanceof LeanListener) return;
    const server = this.#server;
    // PROXY protocol: the header is read on the raw connection, before TLS or HTTP/2 see a byte.
    this.#gate = ProxyGate.for(config);
    gateServer(server, () => this.#gate, { native: true });
    if (config.tls) server.prependListener('secureConnection', inheritProxiedEnds);
    const serve = (req: http.IncomingMessage, res: http.ServerResponse, cont: boolean) => {
      this.#inflight++;
      res.sendDate = false;
      // Expect: 100-continue is answered here: refuse early (no route, too large) or invite the body.
      if (cont && inviteBody(runtime(), req)) res.writeContinue();
      serveRequest(runtime(), req, res, proto, this.#requestDone);
    };
    // HTTP/1.1 (https, or the fallback of an HTTP/2 listener) arrives as node:http requests.
    server.on('request', (req, res) => serve(req as http.IncomingMessage, res as http.ServerResponse, false));
    server.on('checkContinue', (req, res) => serve(req as http.IncomingMessage, res as http.ServerResponse, true));
    if ('updateSettings' in server) {
      // HTTP/2 streams are served from the stream itself: node's compat request/response pair (two
      // objects and a dozen listeners per stream) is never built. The 'request' listener above made
      // node add its compat 'stream' handler; it is replaced here.
      server.removeAllListeners('stream');
      server.on('stream', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, _flags: number, raw: string[]) => {
        this.#serveStream(runtime, proto, stream, headers, raw);
      });
    }
    // HTTP/1.1 upgrades (WebSocket over TLS) leave node:http: the tunnel owns the socket from here on.
    server.on('upgrade', (req: http.IncomingMessage, socket: Socket, head: Buffer) => serveUpgrade(runtime(), req, socket, head, proto));
    server.on('connection', (s: Socket) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
    server.on('session', (session: http2.ServerHttp2Session) => {
      this.#sessions.add(session);
      session.on('close', () => this.#sessions.delete(session));
      session.on('error', () => session.destroy());
      // A connection with no traffic for a minute is asked to go (GOAWAY); open streams still finish.
      session.setTimeout(IDLE_MS, () => session.close());
      guardResets(session, limits.max_resets_per_second);
    });
  }

  /** One HTTP/2 request: CONNECT and unknown expectations are answered here, as node's compat layer did. */
  #serveStream(runtime: () => Runtime, proto: 'http' | 'https', stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, raw: string[]): void {
    // A stream error (reset, session gone) ends the exchange through 'close'.
    stream.on('error', noop);
    const expect = headers.expect;
    const refuse = headers[':method'] === 'CONNECT' ? 405 : expect !== undefined && expect !== '100-continue' ? 417 : 0;
    if (refuse !== 0) {
      if (!stream.destroyed) stream.respond({ ':status': refuse }, { endStream: true });
      return;
    }
    this.#inflight++;
    const req = new H2Request(stream, raw);
    const res = new H2Response(stream, req);
    if (expect !== undefined && inviteBody(runtime(), req) && !stream.destroyed) stream.additionalHeaders({ ':status': 100 });
    serveRequest(runtime(), req, res, proto, this.#requestDone);
  }

  /** Bind; resolves with the bound port (useful with port 0). */
  async listen(): Promise<number> {
    const server = this.#server;
    if (server instanceof LeanListener) return server.listen();
    const port = await bind(server, this.config);
    this.#boost = new AcceptBoost(server);
    return port;
  }

  get port(): number {
    return this.#server instanceof LeanListener ? this.#server.port : boundPort(this.#server, this.config);
  }

  /** A reload kept this listener (same address and kind): take its new certificates and limits. */
  reconfigure(config: ListenerConfig): void {
    if (this.#server instanceof LeanListener) this.#server.reconfigure(config);
    else this.#gate = ProxyGate.for(config);
    if (config.tls && this.certs) this.certs.configure(contextSettings(config, config.tls), config.tls.certificates);
    const limits = config.http2_limits ?? LIMITS;
    if ('updateSettings' in this.#server) {
      this.#server.updateSettings({ maxConcurrentStreams: limits.max_concurrent_streams, maxHeaderListSize: limits.max_header_list_size });
    }
    this.config = config;
  }

  /**
   * Stop accepting, ask HTTP/2 clients to go away (GOAWAY), let in-flight requests finish within
   * `graceMs`, then cut what is left.
   */
  async close(graceMs: number): Promise<void> {
    this.certs?.close();
    const server = this.#server;
    if (server instanceof LeanListener) return server.close(graceMs);
    this.#boost?.close();
    this.#gate?.closePending();
    const closed = new Promise<void>((r) => server.close(() => r()));
    for (const s of this.#sessions) s.close();
    if ('closeIdleConnections' in server) server.closeIdleConnections();
    if (this.#inflight > 0 && graceMs > 0) await this.#idle.wait(graceMs);
    for (const s of this.#sessions) s.destroy();
    for (const s of this.#sockets) s.destroy();
    await closed;
  }
}

function noop(): void {}
