import type http from 'node:http';
import { bind, boundPort } from './bind.js';
import { AcceptBoost } from './accept-boost.js';
import type { Socket } from 'node:net';
import type { ListenerConfig } from '../config/types.js';
import { errorBody } from '../errors.js';
import { serveRequest, type Runtime } from '../proxy/handler.js';
import { inviteBody } from '../proxy/route.js';
import { serveUpgrade } from '../proxy/upgrade.js';
import { channels } from '../observability/events.js';
import { ProxyGate, gateServer } from './proxy-gate.js';
import { IdleWait } from '../util/idle-wait.js';
import { httpModule } from '../util/builtins.js';

/**
 * One HTTP/1.1 listener. It reads the current runtime at the start of each request, so a reload
 * swaps configuration without touching requests already in flight.
 */
export class HttpListener {
  config: ListenerConfig;
  #gate: ProxyGate | undefined;
  readonly #server: http.Server;
  #boost: AcceptBoost | undefined;
  readonly #sockets = new Set<Socket>();
  #inflight = 0;
  readonly #idle = new IdleWait();
  readonly #requestDone = () => {
    if (--this.#inflight === 0) this.#idle.idle();
  };

  constructor(config: ListenerConfig, runtime: () => Runtime) {
    this.config = config;
    this.#server = httpModule().createServer({
      keepAliveTimeout: 60_000,
      headersTimeout: 30_000,
      requestTimeout: 0,
      // The handler checks Host itself so the refusal has our body and an access-log line.
      requireHostHeader: false,
      joinDuplicateHeaders: false,
      insecureHTTPParser: false,
    });
    const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
      res.sendDate = false;
      this.#inflight++;
      serveRequest(runtime(), req, res, 'http', this.#requestDone);
    };
    this.#server.on('request', onRequest);
    // Expect: 100-continue is answered here: refuse early (no route, too large) or invite the body.
    this.#server.on('checkContinue', (req: http.IncomingMessage, res: http.ServerResponse) => {
      if (inviteBody(runtime(), req)) res.writeContinue();
      onRequest(req, res);
    });
    this.#server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
      if (!socket.writable || err.code === 'ECONNRESET') {
        socket.destroy();
        return;
      }
      const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
      const body = status === 400 ? errorBody('HW_ERR_BAD_REQUEST') : `${status}\n`;
      const reason = status === 431 ? 'Request Header Fields Too Large' : status === 408 ? 'Request Timeout' : 'Bad Request';
      socket.end(`HTTP/1.1 ${status} ${reason}\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`);
      channels.lifecycle.publish({ level: 'info', msg: 'malformed request refused', code: err.code, status });
    });
    this.#server.on('connection', (s: Socket) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
    // Upgrades (WebSocket, ...) leave node:http: the tunnel owns the socket from here on.
    this.#server.on('upgrade', (req: http.IncomingMessage, socket: Socket, head: Buffer) => {
      this.#sockets.delete(socket);
      serveUpgrade(runtime(), req, socket, head);
    });
    this.#gate = ProxyGate.for(config);
    gateServer(this.#server, () => this.#gate);
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
    return port;
  }

  get port(): number {
    return boundPort(this.#server, this.config);
  }

  /**
   * Stop accepting, close idle keep-alive connections, let in-flight requests finish within
   * `graceMs`, then cut what is left.
   */
  async close(graceMs: number): Promise<void> {
    this.#boost?.close();
    const closed = new Promise<void>((r) => this.#server.close(() => r()));
    this.#server.closeIdleConnections();
    this.#gate?.closePending();
    if (this.#inflight > 0) await this.#idle.wait(graceMs);
    this.#server.closeAllConnections();
    for (const s of this.#sockets) s.destroy();
    await closed;
  }
}
