import net from 'node:net';
import { tlsModule } from '../util/builtins.js';
import { isTlsError, tlsConnectOptions } from '../transport/tls-options.js';
import type { ErrorCode } from '../errors.js';
import type { PickContext } from '../balancer/types.js';
import type { Host } from '../upstream/host.js';
import type { UpstreamGroup } from '../upstream/group.js';
import type { RetryPolicy } from '../proxy/retry-policy.js';
import { reportAttempt } from '../health/report.js';
import type { AttemptRecord } from '../observability/events.js';
import { encodeProxy, type ProxyEnds } from '../server/proxy-protocol.js';

/** Who the dedicated connection is for: what the balancer may look at, and the PROXY header ends. */
export interface DialRequest {
  method: string;
  path: string;
  clientIp: string;
  header(name: string): string | undefined;
  /** The client connection's ends, for `send_proxy_protocol`. */
  ends: ProxyEnds;
}

export type DialResult =
  | { ok: true; host: Host; socket: net.Socket }
  | { ok: false; code: ErrorCode };

/**
 * Opens a dedicated (never pooled) connection to a server of a group, for a TCP stream or an
 * upgraded HTTP connection: pick with the group's balancer (availability, exclusions), connect
 * within `timeouts.connect`, and on a connect failure record a passive-health failure and try the
 * next server as the retry policy allows (NGINX proxy_next_upstream on connect errors). The chosen
 * host's in-flight slot (upstream/traffic.ts) is held until release(), so least_conn and max_conns
 * see the connection and a freed slot wakes the upstream's queue.
 */
export class Dialer implements PickContext {
  readonly method: string;
  readonly path: string;
  readonly clientIp: string;
  excluded: ReadonlySet<Host> = new Set<Host>();
  now = 0;
  /** Set by the upstream group when it picks in panic mode. */
  panic = false;
  /** One record per server tried. */
  readonly tries: AttemptRecord[] = [];
  readonly #req: DialRequest;
  readonly #group: UpstreamGroup;
  readonly #policy: RetryPolicy;
  readonly #clock: () => number;
  #started = 0;
  #socket: net.Socket | undefined;
  #host: Host | undefined;
  #cancelled = false;
  /** The current host's in-flight count includes this connection. */
  #holding = false;

  constructor(req: DialRequest, group: UpstreamGroup, policy: RetryPolicy, clock: () => number) {
    this.#req = req;
    this.method = req.method;
    this.path = req.path;
    this.clientIp = req.clientIp;
    this.#group = group;
    this.#policy = policy;
    this.#clock = clock;
  }

  header(name: string): string | undefined {
    return this.#req.header(name);
  }

  /** Connect; `done` runs once (never after cancel()). */
  dial(done: (r: DialResult) => void): void {
    this.#started = this.now = this.#clock();
    this.#next(done, 'HW_ERR_NO_HEALTHY_UPSTREAM');
  }

  #next(done: (r: DialResult) => void, lastCode: ErrorCode): void {
    const host = this.#group.pick(this);
    if (!host) return done({ ok: false, code: lastCode });
    this.#host = host;
    this.#holding = true;
    this.#group.traffic.acquire(host, false);
    const up = this.#group.config;
    const t0 = this.#clock();
    // An upstream with `tls`: the dedicated connection is TLS too, verified like pooled ones (HTTP/1.1 by ALPN).
    const secure = tlsConnectOptions(up, host.tlsName);
    const socket = secure
      ? tlsModule().connect({ ...secure, ALPNProtocols: ['http/1.1'], host: host.hostname, port: host.port })
      : net.connect({ host: host.hostname, port: host.port, allowHalfOpen: true, noDelay: true });
    this.#socket = socket;
    socket.pause();
    if (up.timeouts.connect > 0) socket.setTimeout(up.timeouts.connect);
    const connected = secure ? 'secureConnect' : 'connect';
    const fail = (outcome: 'error' | 'timeout', err?: NodeJS.ErrnoException) => {
      socket.removeAllListeners(connected);
      socket.destroy();
      if (this.#cancelled) return;
      const now = (this.now = this.#clock());
      this.release();
      reportAttempt(this.#group, host, outcome, undefined, now);
      this.tries.push({ server: host.address, outcome, ms: round(now - t0) });
      (this.excluded as Set<Host>).add(host);
      const code: ErrorCode = outcome === 'timeout' ? 'HW_ERR_UPSTREAM_TIMEOUT' : isTlsError(err?.code ?? '') ? 'HW_ERR_UPSTREAM_TLS' : 'HW_ERR_UPSTREAM_CONNECT';
      const again = this.#policy.shouldRetry(outcome, {
        attempt: this.tries.length, elapsedMs: now - this.#started, method: 'GET', bodyReplayable: true, committed: false, beforeSend: true,
      });
      if (again) this.#next(done, code);
      else done({ ok: false, code });
    };
    socket.once('timeout', () => fail('timeout'));
    socket.once('error', (err) => fail('error', err));
    socket.once(connected, () => {
      socket.removeAllListeners('timeout');
      socket.removeAllListeners('error');
      socket.setTimeout(0);
      socket.on('error', noop);
      if (this.#cancelled) return;
      const now = this.#clock();
      reportAttempt(this.#group, host, 'ok', undefined, now);
      this.tries.push({ server: host.address, outcome: 'ok', ms: round(now - t0) });
      const pp = up.send_proxy_protocol;
      if (pp) socket.write(encodeProxy(pp, this.#req.ends));
      done({ ok: true, host, socket });
    });
  }

  /** The server of the current (or last) connection. */
  get hostNow(): Host | undefined {
    return this.#host;
  }

  /** The client went away while connecting: drop the connection attempt. */
  cancel(): void {
    if (this.#cancelled) return;
    this.#cancelled = true;
    this.#socket?.destroy();
    this.release();
  }

  /** The connection is over: the server no longer counts it. */
  release(): void {
    if (!this.#holding) return;
    this.#holding = false;
    this.#group.traffic.release(this.#host!, false);
  }
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

function noop(): void {}
