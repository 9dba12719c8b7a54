import type { ProxyRequest } from './exchange.js';
import type { RouteConfig } from '../config/types.js';
import type { ErrorCode } from '../errors.js';
import type { Router } from '../router/router.js';
import { parseTarget } from '../router/path.js';
import { peerAddress } from '../util/ip.js';
import { own } from '../util/own.js';

/** The client address without the IPv4-mapped prefix. */
export function clientAddress(req: ProxyRequest): string {
  return req.clientIp ?? peerAddress(req.socket);
}

/** Does a declared Content-Length break the route's client_max_body_size (0 = no limit)? */
export function bodyTooLarge(route: RouteConfig, contentLength: string | undefined): boolean {
  const max = route.client_max_body_size;
  return max > 0 && Number(contentLength ?? 0) > max;
}

/**
 * Expect: 100-continue: invite the body only when a route takes the request and its declared
 * size fits. Refusals are left to the handler, which answers them without reading the body.
 */
export function inviteBody(rt: { readonly router: Router<RouteConfig> }, req: ProxyRequest): boolean {
  const route = routeFor(rt, req)?.route;
  const cl = req.headers['content-length'];
  return route !== undefined && !bodyTooLarge(route, Array.isArray(cl) ? cl[0] : cl);
}

/** A request's route and target, as routeFor finds them. */
export interface Found {
  route: RouteConfig | undefined;
  path: string;
  query: string;
  host: string | undefined;
}

/**
 * The header fields the handler itself looks at, read in one pass over the raw headers (so the
 * lean engine never builds a `headers` object for them). First values win, as in `req.headers`.
 */
export interface RequestFields {
  /** The first Host value. */
  host: string | undefined;
  /** How many Host fields there are. */
  hosts: number;
  /** Every Host value is a valid host [ ":" port ]. */
  hostsValid: boolean;
  /** The first Content-Length value. */
  contentLength: string | undefined;
  /** RFC 9112 6.3: Transfer-Encoding, or Content-Length other than "0". */
  hasBody: boolean;
}

export function scanFields(raw: readonly string[]): RequestFields {
  const f: RequestFields = { host: undefined, hosts: 0, hostsValid: true, contentLength: undefined, hasBody: false };
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const n = name.length;
    if (n === 4 && name.toLowerCase() === 'host') {
      const v = raw[i + 1]!;
      if (f.hosts++ === 0) f.host = v;
      if (f.hostsValid && !validHost(v)) f.hostsValid = false;
    } else if (n === 14 && name.toLowerCase() === 'content-length') {
      f.contentLength ??= raw[i + 1]!;
    } else if (n === 17 && name.toLowerCase() === 'transfer-encoding') f.hasBody = true;
  }
  if (f.contentLength !== undefined && f.contentLength !== '0') f.hasBody = true;
  return f;
}

/**
 * Find the route for a request (used by the listener for Expect: 100-continue too). `host` is
 * the request's Host value when the caller has it at hand.
 */
export function routeFor(rt: { readonly router: Router<RouteConfig> }, req: ProxyRequest, host = req.headers.host): Found | undefined {
  const target = parseTarget(req.url ?? '');
  if (!target) return undefined;
  if (target.authority !== undefined) host = target.authority;
  const route = rt.router.match({
    method: req.method ?? 'GET',
    host,
    path: target.path,
    header: (n) => requestHeader(req, n),
  });
  return { route, path: target.path, query: target.query, host };
}

/**
 * The (first) value of request header `name`, lower-case, as routes, balancers and dialers ask
 * for it. Own properties only: `headers['constructor']` is Object's constructor where no such
 * header was sent.
 */
export function requestHeader(req: ProxyRequest, name: string): string | undefined {
  const v = own(req.headers, name);
  return Array.isArray(v) ? v[0] : v;
}

/** RFC 3986 host [ ":" port ]: an IP literal in brackets or a reg-name (possibly empty). */
const HOST_VALUE = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]*)(?::[0-9]*)?$/;
/** The last Host value found valid: clients send the same one over and over. */
let lastValidHost = '';

function validHost(v: string): boolean {
  if (v === lastValidHost) return true;
  if (!HOST_VALUE.test(v)) return false;
  lastValidHost = v;
  return true;
}

/**
 * RFC 9112 2.3/3.2: only HTTP/1.x (Node's parser also lets HTTP/0.9 and HTTP/2.0 request lines
 * through: 505), and a request with more than one Host, an invalid Host, or none on HTTP/1.1 gets
 * 400. Returns the refusal, or undefined for a well-formed request.
 */
export function malformed(req: ProxyRequest, fields?: RequestFields): ErrorCode | undefined {
  if (req.httpVersionMajor !== 1) return req.httpVersionMajor > 1 ? 'HW_ERR_HTTP_VERSION' : 'HW_ERR_BAD_REQUEST';
  if (fields !== undefined) {
    if (fields.hosts > 1 || !fields.hostsValid) return 'HW_ERR_BAD_REQUEST';
    return fields.hosts === 1 || req.httpVersionMinor === 0 ? undefined : 'HW_ERR_BAD_REQUEST';
  }
  let hosts = 0;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length === 4 && raw[i]!.toLowerCase() === 'host' && (++hosts > 1 || !validHost(raw[i + 1]!))) return 'HW_ERR_BAD_REQUEST';
  }
  return hosts === 1 || req.httpVersionMinor === 0 ? undefined : 'HW_ERR_BAD_REQUEST';
}
