import type { ProxyRequest, ProxyResponse, UpstreamRequest } from './exchange.js';
import { proxyEnds } from '../server/proxy-protocol.js';
import type { Runtime } from './handler.js';
import { HeadwaterError, type ErrorCode } from '../errors.js';
import type { PickContext } from '../balancer/types.js';
import type { Host } from '../upstream/host.js';
import type { UpstreamGroup } from '../upstream/group.js';
import { stripPrefix } from '../router/path.js';
import type { AttemptOutcome } from '../health/passive/outcomes.js';
import { reportAttempt } from '../health/report.js';
import { recordLatency } from '../upstream/latency.js';
import { channels, type AccessRecord, type AttemptRecord } from '../observability/events.js';
import { protocolOf, requestLogFields } from './log-fields.js';
import { isoAt } from '../observability/access-line.js';
import { readBody, streamingBody, NO_BODY, type RequestBody } from './body.js';
import { upstreamLines, upstreamRequestHeaders, type ForwardInfo } from './headers.js';
import { Attempt, type AttemptOwner } from './attempt.js';
import type { RetryPolicy } from './retry-policy.js';
import { sendError } from './respond.js';
import { busyPoller } from '../util/busy-poll.js';
import type { RequestQueue, Waiter } from '../upstream/queue.js';
import { bodyTooLarge, clientAddress, malformed, requestHeader, routeFor, scanFields, type RequestFields } from './route.js';

const NO_HOSTS: ReadonlySet<Host> = new Set();
const NO_HEADERS: string[] = [];

/**
 * One proxied request: route, read the body as policy requires (a request without one goes on
 * at once, without awaiting anything), then the attempt loop (pick a server, forward, on a
 * retryable failure try the next one), and one access record at the end. It drives its attempts
 * by callbacks, and is also the request's balancer context (built once, reused per attempt).
 */
export class Forward implements PickContext, AttemptOwner {
  readonly method: string;
  /** Request path with query, as received (for the balancer). */
  readonly path: string;
  readonly clientIp: string;
  /** Hosts already tried; a real set only once a request moves on to another server. */
  excluded: ReadonlySet<Host> = NO_HOSTS;
  /** The clock at the latest pick. */
  now = 0;
  /** Set by the upstream group when it picks in panic mode. */
  panic = false;
  readonly res: ProxyResponse;
  readonly #rt: Runtime;
  readonly #req: ProxyRequest;
  readonly #proto: 'http' | 'https';
  readonly #onEnd: (() => void) | undefined;
  readonly #start: number;
  #routeName: string | undefined;
  #upstreamName: string | undefined;
  #status = 0;
  #code: ErrorCode | undefined;
  #finished = false;
  /** Attempt records, kept only while someone listens for access records. */
  #tries: AttemptRecord[] | undefined;
  #attempts = 0;
  #group: UpstreamGroup | undefined;
  #policy: RetryPolicy | undefined;
  #body: RequestBody = NO_BODY;
  #upstreamPath = '';
  #info: ForwardInfo | undefined;
  /** When the attempt loop started (the retry timeout counts from here). */
  #started = 0;
  #current: Host | undefined;
  /** The server picked for the next attempt (by a status retry, before the current one ends). */
  #next: Host | undefined;
  #attempt: Attempt | undefined;
  #lastCode: ErrorCode = 'HW_ERR_NO_HEALTHY_UPSTREAM';
  #onClose: (() => void) | undefined;
  #fields: RequestFields | undefined;
  /** Set-Cookie for a sticky upstream when the response comes from a server the request is not pinned to. */
  setCookie: string | undefined = undefined;

  /** `onEnd` runs once, after the access record. */
  constructor(rt: Runtime, req: ProxyRequest, res: ProxyResponse, proto: 'http' | 'https', onEnd?: () => void) {
    this.#rt = rt;
    this.#req = req;
    this.res = res;
    this.#proto = proto;
    this.#onEnd = onEnd;
    this.#start = rt.now();
    this.method = req.method ?? 'GET';
    this.path = req.url ?? '/';
    this.clientIp = clientAddress(req);
  }

  header(name: string): string | undefined {
    return requestHeader(this.#req, name);
  }

  clock(): number {
    return this.#rt.now();
  }

  /** Start handling the request. Never throws; the request ends (and is logged) exactly once. */
  run(): void {
    busyPoller.activity();
    try {
      const rt = this.#rt;
      const req = this.#req;
      const fields = (this.#fields = req.fields ?? scanFields(req.rawHeaders));
      const found = routeFor(rt, req, fields.host);
      const refusal = found ? malformed(req, fields) : 'HW_ERR_BAD_REQUEST';
      if (refusal || !found) return this.#refuse(refusal ?? 'HW_ERR_BAD_REQUEST', true);
      const route = found.route;
      if (!route) return this.#refuse('HW_ERR_NO_ROUTE', false);
      this.#routeName = route.name;
      this.#upstreamName = route.upstream;
      const group = rt.groups.get(route.upstream)!;
      if (bodyTooLarge(route, fields.contentLength)) return this.#refuse('HW_ERR_BODY_TOO_LARGE', true);
      this.#group = group;
      this.#upstreamPath = (route.strip_prefix && route.match.path_prefix ? stripPrefix(found.path, route.match.path_prefix) : found.path) + found.query;
      this.#info = { clientIp: this.clientIp, proto: this.#proto, host: found.host, upstreamHost: '', rfc7239: rt.config.forwarded === 'rfc7239' };
      if (!fields.hasBody) {
        // Nothing to read; still let Node finish the (empty) message.
        req.resume();
        this.#loop(NO_BODY, this.#start);
        return;
      }
      if (req.streamsBody === true) return this.#loop(streamingBody(req, route.client_max_body_size), this.#start);
      readBody(req, group.config.retry.buffer, route.client_max_body_size)
        .then(
          (body) => this.#loop(body, rt.now()),
          (err: unknown) => this.#caught(err),
        )
        .catch(internal);
    } catch (err) {
      this.#caught(err);
    }
  }

  #loop(body: RequestBody, started: number): void {
    try {
      const group = this.#group!;
      this.#body = body;
      this.#policy = this.#rt.retry.get(group.config.name)!;
      this.#started = this.now = started;
      const queue = group.traffic.queue;
      // Requests already waiting go first: a new one joins the queue behind them.
      const host = queue !== undefined && queue.length > 0 ? undefined : group.pick(this);
      if (!host) {
        if (queue !== undefined && group.saturated(this)) return this.#wait(queue);
        this.#code = 'HW_ERR_NO_HEALTHY_UPSTREAM';
        this.#status = sendError(this.res, this.#code);
        return this.#end();
      }
      this.#first(host, started);
    } catch (err) {
      this.#caught(err);
    }
  }

  #first(host: Host, now: number): void {
    this.#onClose = () => this.#attempt?.clientClosed();
    this.res.on('close', this.#onClose);
    this.#attemptAt(host, now);
  }

  /** Every server is at max_conns: wait in the upstream's queue for a slot (or 503 on overflow/timeout). */
  #wait(queue: RequestQueue): void {
    const onClose = () => {
      if (!queue.remove(waiter)) return;
      this.#code = 'HW_ERR_CLIENT_ABORT';
      this.#end(499);
    };
    const waiter: Waiter = {
      serve: () => {
        this.now = this.#rt.now();
        const host = this.#group!.pick(this);
        if (host === undefined) return false;
        this.res.off('close', onClose);
        this.#first(host, this.now);
        return true;
      },
      expire: (code) => {
        this.res.off('close', onClose);
        this.#refuse(code, false);
      },
    };
    if (!queue.enqueue(waiter)) return this.#refuse('HW_ERR_QUEUE_FULL', false);
    this.res.on('close', onClose);
  }

  #attemptAt(host: Host, now: number): void {
    const rt = this.#rt;
    const up = this.#group!.config;
    this.#current = host;
    this.#next = undefined;
    const info = this.#info!;
    info.upstreamHost = up.pass_host === 'pass' ? (info.host ?? host.address) : up.pass_host === 'node' ? host.address : up.host!;
    const pool = rt.pools.get(host)!;
    const relay = this.#req.relay;
    const body = this.#body.take();
    this.#attempts++;
    this.#group!.traffic.acquire(host, this.#attempts > 1);
    if (this.#group!.sticky !== undefined) this.setCookie = this.#group!.sticky.setCookie(this, host);
    // The lean transport times headers on its socket; undici's own timer is too coarse (~0.5 s steps).
    const a = new Attempt(this, now, rt.config.engine === 'lean' ? 0 : up.timeouts.response_header);
    this.#attempt = a;
    const ureq: UpstreamRequest = { method: this.method, path: this.#upstreamPath, headers: NO_HEADERS, body, reset: !(up.keepalive.max_idle > 0) };
    // Client lines passed on as received when the transport writes them (no header array).
    if (relay?.passLines !== undefined && body === null && pool.takesLines === true && !info.rfc7239) ureq.lines = upstreamLines(relay.passLines, relay.forwardedFor, info);
    else ureq.headers = upstreamRequestHeaders(this.#req.rawHeaders, info);
    if (up.send_proxy_protocol) ureq.proxy = proxyEnds(this.#req.socket);
    a.start(pool, ureq);
  }

  #mayRetry(outcome: string, beforeSend: boolean, now: number): boolean {
    const policy = this.#policy!;
    return policy.shouldRetry(outcome as AttemptOutcome, {
      attempt: this.#attempts,
      elapsedMs: now - this.#started,
      method: this.method,
      bodyReplayable: this.#body.replayable,
      committed: false,
      beforeSend,
    }) && policy.withinBudget(this.#group!.traffic);
  }

  /** Pick the server for the next attempt, never one already tried. */
  #pickNext(now: number): Host | undefined {
    const current = this.#current!;
    if (this.excluded === NO_HOSTS) this.excluded = new Set([current]);
    else (this.excluded as Set<Host>).add(current);
    this.now = now;
    return (this.#next = this.#group!.pick(this));
  }

  retryOnStatus(status: number): boolean {
    if (!this.#policy!.retriesStatus(status)) return false;
    const now = this.#rt.now();
    if (!this.#mayRetry(`http_${status}`, false, now)) return false;
    return this.#pickNext(now) !== undefined;
  }

  attemptDone(a: Attempt): void {
    const current = this.#current!;
    const group = this.#group!;
    group.traffic.release(current, this.#attempts > 1);
    this.#attempt = undefined;
    try {
      const up = group.config;
      const now = a.endedAt;
      const f = a.failure;
      const outcome: AttemptOutcome = f?.outcome ?? (a.status !== undefined && this.#policy!.retriesStatus(a.status) ? `http_${a.status}` : 'ok');
      if (a.headerMs !== undefined) recordLatency(current.state, a.headerMs, now);
      // A client that goes away or sends too large a body says nothing about the server's health.
      const clientFault = outcome === 'client_abort' || f?.code === 'HW_ERR_BODY_TOO_LARGE';
      if (!clientFault) reportAttempt(group, current, outcome, a.status, now);
      if (channels.request.hasSubscribers) {
        const rec: AttemptRecord = { server: current.address, outcome, ms: Math.round(a.ms * 1000) / 1000 };
        if (a.status !== undefined) rec.status = a.status;
        if (a.headerMs !== undefined) rec.header_ms = Math.round(a.headerMs * 1000) / 1000;
        if (this.#tries === undefined) this.#tries = [rec];
        else this.#tries.push(rec);
      }
      if (!f) return this.#end(a.status ?? 0, a.bytes, now);
      if (f.code === 'HW_ERR_UPSTREAM_TLS') {
        channels.lifecycle.publish({ level: 'warn', msg: 'TLS with upstream server failed', upstream: up.name, server: current.address, reason: f.error.message });
      }
      if (f.outcome === 'client_abort') {
        this.#code = 'HW_ERR_CLIENT_ABORT';
        return this.#end(499, a.bytes);
      }
      // Too large a body after the response has started is cut like any other failure (below).
      if (f.code === 'HW_ERR_BODY_TOO_LARGE' && !a.committed) return this.#refuse(f.code, true);
      if (a.committed) {
        // The client already has a status line: all we can do is cut the response short.
        this.res.destroy();
        this.#code = f.code;
        return this.#end(a.status ?? 502, a.bytes);
      }
      this.#lastCode = f.code;
      if (this.#next === undefined && this.#mayRetry(f.outcome, f.beforeSend, now)) this.#pickNext(now);
      const next = this.#next;
      if (next === undefined) return this.#refuse(this.#lastCode, false);
      if (channels.retry.hasSubscribers) {
        channels.retry.publish({ upstream: up.name, from: current.address, reason: f.outcome, attempt: this.#attempts });
      }
      this.#attemptAt(next, now);
    } catch (err) {
      this.#caught(err);
    }
  }

  /** The gateway answers itself with this error, and the request is over. */
  #refuse(code: ErrorCode, close: boolean): void {
    this.#code = code;
    this.#status = sendError(this.res, code, close);
    this.#end();
  }

  #caught(err: unknown): void {
    const c = err instanceof HeadwaterError ? err.code : 'HW_ERR_INTERNAL';
    this.#code = c;
    this.#status = c === 'HW_ERR_CLIENT_ABORT' ? 499 : sendError(this.res, c, c === 'HW_ERR_BODY_TOO_LARGE');
    if (c === 'HW_ERR_INTERNAL') channels.lifecycle.publish({ level: 'error', msg: 'internal error', err: String(err) });
    this.#end();
  }

  /** `now`: the clock, when the caller has just read it. */
  #end(status = this.#status, bytes = 0, now?: number): void {
    if (this.#finished) return;
    this.#finished = true;
    if (this.#onClose !== undefined) this.res.off('close', this.#onClose);
    if (channels.request.hasSubscribers) {
      const req = this.#req;
      const at = Date.now();
      const rec: AccessRecord = {
        time: isoAt(at),
        time_ms: at,
        client: this.clientIp,
        method: this.method,
        path: req.url ?? '',
        host: this.#fields !== undefined ? this.#fields.host : req.headers.host,
        status,
        bytes,
        duration_ms: Math.round(((now ?? this.#rt.now()) - this.#start) * 1000) / 1000,
        route: this.#routeName,
        upstream: this.#upstreamName,
        tries: this.#tries ?? [],
        protocol: protocolOf(req),
        fields: requestLogFields(req),
      };
      if (this.#code) rec.code = this.#code;
      channels.request.publish(rec);
    }
    this.#onEnd?.();
  }
}

function internal(err: unknown): void {
  channels.lifecycle.publish({ level: 'error', msg: 'request handler failed', err: String(err) });
}
