import type { ProxyRequest, ProxyResponse, UpstreamDispatcher } from './exchange.js';
import type { Config, RouteConfig } from '../config/types.js';
import { HeadwaterError, type ErrorCode } from '../errors.js';
import type { PickContext } from '../balancer/types.js';
import type { Host } from '../upstream/host.js';
import type { UpstreamGroup } from '../upstream/group.js';
import type { Router } from '../router/router.js';
import { parseTarget, stripPrefix } from '../router/path.js';
import { isFailure, recordOutcome } from '../health/passive/outcomes.js';
import { recordLatency } from '../upstream/latency.js';
import { channels, type AccessRecord, type AttemptRecord } from '../observability/events.js';
import { isoNow } from '../observability/access-line.js';
import { readBody, type RequestBody } from './body.js';
import { upstreamRequestHeaders } from './headers.js';
import { runAttempt } from './attempt.js';
import type { RetryPolicy } from './retry-policy.js';
import { sendError } from './respond.js';

/** One applied configuration: everything a request needs, swapped atomically on reload. */
export interface Runtime {
  readonly config: Config;
  readonly router: Router<RouteConfig>;
  readonly groups: ReadonlyMap<string, UpstreamGroup>;
  readonly pools: ReadonlyMap<Host, UpstreamDispatcher>;
  readonly retry: ReadonlyMap<string, RetryPolicy>;
  /** Injected clock in ms. */
  now(): number;
}

/** Per-request state handed to the balancer; one object per request. */
class RequestPick implements PickContext {
  readonly excluded = new Set<Host>();
  now = 0;
  constructor(
    readonly method: string,
    readonly path: string,
    readonly clientIp: string,
    readonly req: ProxyRequest,
  ) {}
  header(name: string): string | undefined {
    const v = this.req.headers[name];
    return Array.isArray(v) ? v[0] : v;
  }
}

/** The client address without the IPv4-mapped prefix. */
export function clientAddress(req: ProxyRequest): string {
  const a = req.socket.remoteAddress ?? '';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

/** Find the route for a request (used by the listener for Expect: 100-continue too). */
export function routeFor(rt: Runtime, req: ProxyRequest): { route: RouteConfig | undefined; path: string; query: string; host: string | undefined } | undefined {
  const target = parseTarget(req.url ?? '');
  if (!target) return undefined;
  const host = target.authority ?? req.headers.host;
  const route = rt.router.match({
    method: req.method ?? 'GET',
    host,
    path: target.path,
    header: (n) => {
      const v = req.headers[n];
      return Array.isArray(v) ? v[0] : v;
    },
  });
  return { route, path: target.path, query: target.query, host };
}

/** RFC 3986 host [ ":" port ]: an IP literal in brackets or a reg-name (possibly empty). */
const HOST_VALUE = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]*)(?::[0-9]*)?$/;

/**
 * RFC 9112 2.3/3.2: only HTTP/1.x (Node's parser also lets HTTP/0.9 and HTTP/2.0 request lines
 * through: 505), and a request with more than one Host, an invalid Host, or none on HTTP/1.1 gets
 * 400. Returns the refusal, or undefined for a well-formed request.
 */
export function malformed(req: ProxyRequest): ErrorCode | undefined {
  if (req.httpVersionMajor !== 1) return req.httpVersionMajor > 1 ? 'HW_ERR_HTTP_VERSION' : 'HW_ERR_BAD_REQUEST';
  let hosts = 0;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length === 4 && raw[i]!.toLowerCase() === 'host' && (++hosts > 1 || !HOST_VALUE.test(raw[i + 1]!))) return 'HW_ERR_BAD_REQUEST';
  }
  return hosts === 1 || req.httpVersionMinor === 0 ? undefined : 'HW_ERR_BAD_REQUEST';
}

/**
 * The proxy handler: route, read the body as policy requires, then the attempt loop (pick a
 * server, forward, on a retryable failure try the next one), and one access record at the end.
 */
export async function handleRequest(rt: Runtime, req: ProxyRequest, res: ProxyResponse, proto: 'http' | 'https'): Promise<void> {
  const start = rt.now();
  const method = req.method ?? 'GET';
  const tries: AttemptRecord[] = [];
  let routeName: string | undefined;
  let upstreamName: string | undefined;
  let status = 0;
  let bytes = 0;
  let code: ErrorCode | undefined;

  const fail = (c: ErrorCode, close = false) => {
    code = c;
    status = sendError(res, c, close);
  };

  try {
    const found = routeFor(rt, req);
    const refusal = found ? malformed(req) : 'HW_ERR_BAD_REQUEST';
    if (refusal || !found) fail(refusal ?? 'HW_ERR_BAD_REQUEST', true);
    else if (!found.route) fail('HW_ERR_NO_ROUTE');
    else {
      const route = found.route;
      routeName = route.name;
      upstreamName = route.upstream;
      const group = rt.groups.get(route.upstream)!;
      const up = group.config;
      const declared = Number(req.headers['content-length'] ?? 0);
      if (route.client_max_body_size > 0 && declared > route.client_max_body_size) {
        fail('HW_ERR_BODY_TOO_LARGE', true);
      } else {
        const body = await readBody(req, up.retry.buffer, route.client_max_body_size);
        const path = (route.strip_prefix && route.match.path_prefix ? stripPrefix(found.path, route.match.path_prefix) : found.path) + found.query;
        const r = await attemptLoop(rt, group, req, res, body, method, path, found.host, proto, tries);
        status = r.status;
        bytes = r.bytes;
        code = r.code;
      }
    }
  } catch (err) {
    const c = err instanceof HeadwaterError ? err.code : 'HW_ERR_INTERNAL';
    if (c === 'HW_ERR_CLIENT_ABORT') {
      code = c;
      status = 499;
    } else fail(c, c === 'HW_ERR_BODY_TOO_LARGE');
    if (c === 'HW_ERR_INTERNAL') channels.lifecycle.publish({ level: 'error', msg: 'internal error', err: String(err) });
  }

  if (channels.request.hasSubscribers) {
    const rec: AccessRecord = {
      time: isoNow(),
      client: clientAddress(req),
      method,
      path: req.url ?? '',
      host: req.headers.host,
      status,
      bytes,
      duration_ms: Math.round((rt.now() - start) * 1000) / 1000,
      route: routeName,
      upstream: upstreamName,
      tries,
    };
    if (code) rec.code = code;
    channels.request.publish(rec);
  }
}

interface LoopResult {
  status: number;
  bytes: number;
  code?: ErrorCode;
}

async function attemptLoop(
  rt: Runtime,
  group: UpstreamGroup,
  req: ProxyRequest,
  res: ProxyResponse,
  body: RequestBody,
  method: string,
  path: string,
  clientHost: string | undefined,
  proto: 'http' | 'https',
  tries: AttemptRecord[],
): Promise<LoopResult> {
  const up = group.config;
  const policy = rt.retry.get(up.name)!;
  const clientIp = clientAddress(req);
  const ctx = new RequestPick(method, req.url ?? '/', clientIp, req);
  const started = rt.now();
  ctx.now = started;
  let host = group.pick(ctx);
  if (!host) return { status: sendError(res, 'HW_ERR_NO_HEALTHY_UPSTREAM'), bytes: 0, code: 'HW_ERR_NO_HEALTHY_UPSTREAM' };
  let lastCode: ErrorCode = 'HW_ERR_NO_HEALTHY_UPSTREAM';

  while (host) {
    ctx.excluded.add(host);
    const current: Host = host;
    host = undefined;
    const upstreamHost = up.pass_host === 'pass' ? (clientHost ?? current.address) : up.pass_host === 'node' ? current.address : up.host!;
    const headers = upstreamRequestHeaders(req.rawHeaders, {
      clientIp,
      proto,
      host: clientHost,
      upstreamHost,
      rfc7239: rt.config.forwarded === 'rfc7239',
    });
    const attemptNo = tries.length + 1;
    const mayRetry = (outcome: string, beforeSend: boolean) =>
      policy.shouldRetry(outcome as never, {
        attempt: attemptNo,
        elapsedMs: rt.now() - started,
        method,
        bodyReplayable: body.replayable,
        committed: false,
        beforeSend,
      });
    current.state.inflight++;
    current.state.requests++;
    const result = await runAttempt({
      pool: rt.pools.get(current)!,
      method,
      path,
      headers,
      body: body.take(),
      keepAlive: up.keepalive.max_idle > 0,
      // The lean transport times headers on its socket; undici's own timer is too coarse (~0.5 s steps).
      headerTimeout: rt.config.engine === 'lean' ? 0 : up.timeouts.response_header,
      res,
      now: rt.now,
      retryOnStatus: (st) => {
        if (!policy.retriesStatus(st) || !mayRetry(`http_${st}`, false)) return false;
        ctx.now = rt.now();
        host = group.pick(ctx);
        return host !== undefined;
      },
    });
    current.state.inflight--;
    const now = rt.now();
    const outcome = result.failure?.outcome ?? (result.status !== undefined && policy.retriesStatus(result.status) ? (`http_${result.status}` as const) : 'ok');
    if (result.headerMs !== undefined) recordLatency(current.state, result.headerMs, now);
    // A client that goes away or sends too large a body says nothing about the server's health.
    const clientFault = outcome === 'client_abort' || result.failure?.code === 'HW_ERR_BODY_TOO_LARGE';
    if (!clientFault) recordOutcome(current, isFailure(outcome, up.retry.on), now, group.sole, outcome);
    const rec: AttemptRecord = { server: current.address, outcome, ms: Math.round(result.ms * 1000) / 1000 };
    if (result.status !== undefined) rec.status = result.status;
    if (result.headerMs !== undefined) rec.header_ms = Math.round(result.headerMs * 1000) / 1000;
    tries.push(rec);

    if (!result.failure) return { status: result.status ?? 0, bytes: result.bytes };
    const f = result.failure;
    if (f.outcome === 'client_abort') return { status: 499, bytes: result.bytes, code: 'HW_ERR_CLIENT_ABORT' };
    // Too large a body after the response has started is cut like any other failure (below).
    if (f.code === 'HW_ERR_BODY_TOO_LARGE' && !result.committed) return { status: sendError(res, f.code, true), bytes: 0, code: f.code };
    if (result.committed) {
      // The client already has a status line: all we can do is cut the response short.
      res.destroy();
      return { status: result.status ?? 502, bytes: result.bytes, code: f.code };
    }
    lastCode = f.code;
    if (host === undefined && mayRetry(f.outcome, f.beforeSend)) {
      ctx.now = now;
      host = group.pick(ctx);
    }
    if (host && channels.retry.hasSubscribers) {
      channels.retry.publish({ upstream: up.name, from: current.address, reason: f.outcome, attempt: attemptNo });
    }
  }
  return { status: sendError(res, lastCode), bytes: 0, code: lastCode };
}

