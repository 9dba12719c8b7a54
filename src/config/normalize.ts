/** Turns the schema's output into the runtime's Config: position-based names and inherited defaults. */
import type { ParsedConfig } from './schema.js';
import { resolve } from 'node:path';
import type { Config, HealthCheckConfig, ListenerConfig, ListenerTlsConfig, RouteConfig, RouteMatch, ServerConfig, UpstreamConfig } from './types.js';

type ParsedUpstream = ParsedConfig['upstreams'][string];
type ParsedListener = ParsedConfig['listeners'][number];
type ParsedServer = ParsedUpstream['servers'][number];
type ParsedHealthCheck = NonNullable<ParsedUpstream['health_check']>;

/** `_http._tcp.api.internal`: a full SRV name rather than a service to put in front of a host. */
export const isFullSrvName = (s: string): boolean => /^_[^.]+\._[^.]+\.[^.]/.test(s);

/** The SRV name to query for a server: the full name, or NGINX's service prefix + the host. */
export function srvName(service: string, host: string | undefined): string {
  if (isFullSrvName(service) || host === undefined) return service;
  return service.startsWith('_') ? `${service}.${host}` : `_${service}._tcp.${host}`;
}

function server(s: ParsedServer): ServerConfig {
  const a = s.address;
  const out: ServerConfig = {
    address: a?.address ?? s.service ?? '',
    host: a?.host ?? s.service ?? '',
    port: a?.port ?? 0,
    weight: s.weight,
    backup: s.backup,
    down: s.down,
    max_fails: s.max_fails,
    fail_timeout: s.fail_timeout,
    max_conns: s.max_conns,
    slow_start: s.slow_start,
    drain: s.drain,
    resolve: s.resolve || s.service !== undefined,
  };
  if (s.service !== undefined) out.service = srvName(s.service, a?.host);
  return out;
}

/** `2xx` -> [200, 299], `200-399` -> [200, 399], `204` -> [204, 204]. */
function statusRange(s: string): [number, number] {
  if (/xx$/i.test(s)) return [Number(s[0]) * 100, Number(s[0]) * 100 + 99];
  const [lo, hi] = s.split('-').map(Number) as [number, number | undefined];
  return [lo, hi ?? lo];
}

function healthCheck(h: ParsedHealthCheck): HealthCheckConfig {
  const out: HealthCheckConfig = {
    type: h.type,
    path: h.path,
    method: h.method,
    headers: { ...h.headers },
    interval: h.interval,
    unhealthy_interval: h.unhealthy_interval ?? h.interval,
    timeout: h.timeout,
    rise: h.rise,
    fall: h.fall,
    jitter: h.jitter,
    expect: { status: h.expect.status.map(statusRange) },
    initially: h.initially,
  };
  if (h.host !== undefined) out.host = h.host;
  if (h.expect.body !== undefined) out.expect.body = h.expect.body;
  return out;
}

/** `baseDir`: where relative file paths (certificates) start from: the config file's directory. */
export function normalize(p: ParsedConfig, baseDir = process.cwd()): Config {
  const abs = (f: string) => resolve(baseDir, f);
  const upstreams: Record<string, UpstreamConfig> = {};
  for (const [name, u] of Object.entries(p.upstreams)) {
    const up: UpstreamConfig = {
      name,
      balance: u.balance,
      pass_host: u.pass_host,
      keepalive: { ...u.keepalive },
      timeouts: { ...u.timeouts },
      retry: { ...u.retry, on: [...new Set(u.retry.on)] },
      protocol: u.protocol,
      servers: u.servers.map(server),
      panic_threshold: u.panic_threshold,
    };
    if (u.retry.budget) up.retry.budget = { ...u.retry.budget };
    else delete up.retry.budget;
    if (u.hash) up.hash = { ...u.hash };
    if (u.host !== undefined) up.host = u.host;
    if (u.tls) {
      const t = u.tls;
      up.tls = { ...t };
      for (const k of ['ca', 'cert', 'key'] as const) if (t[k] !== undefined) up.tls[k] = abs(t[k]);
    }
    if (u.send_proxy_protocol !== undefined) up.send_proxy_protocol = u.send_proxy_protocol;
    if (u.health_check) up.health_check = healthCheck(u.health_check);
    if (up.health_check && up.tls) up.health_check.tls = up.tls;
    if (up.health_check && up.protocol !== 'http1') up.health_check.protocol = up.protocol;
    if (u.outlier_detection) up.outlier_detection = { ...u.outlier_detection, success_rate: { ...u.outlier_detection.success_rate } };
    if (u.queue) up.queue = { ...u.queue };
    if (u.sticky) up.sticky = { ...u.sticky };
    const resolver = u.resolver ?? p.resolver;
    if (resolver !== undefined) up.resolver = resolver;
    if (u.valid !== undefined) up.valid = u.valid;
    upstreams[name] = up;
  }
  return {
    listeners: p.listeners.map((l, i) => ({
      name: l.name ?? `listener-${i}`,
      address: l.address.address,
      host: l.address.host,
      port: l.address.port,
      ...(l.tls ? { tls: listenerTls(l.tls, abs) } : {}),
      // Left out when off, so plain listeners look as they always did.
      ...(l.http2 ? { http2: true } : {}),
      ...(l.h2c ? { h2c: true } : {}),
      ...(l.http2 || l.h2c ? { http2_limits: { ...l.http2_limits } } : {}),
      ...streamListener(l),
    })),
    routes: p.routes.map((r, i): RouteConfig => {
      const match: RouteMatch = {};
      if (r.match.host !== undefined) match.host = r.match.host;
      if (r.match.path_prefix !== undefined) match.path_prefix = r.match.path_prefix;
      if (r.match.path !== undefined) match.path = r.match.path;
      if (r.match.methods !== undefined) match.methods = [...new Set(r.match.methods)];
      if (r.match.headers !== undefined) match.headers = r.match.headers;
      return {
        name: r.name ?? `route-${i}`,
        match,
        upstream: r.upstream,
        strip_prefix: r.strip_prefix,
        client_max_body_size: r.client_max_body_size ?? p.client_max_body_size,
      };
    }),
    upstreams,
    shutdown_timeout: p.shutdown_timeout,
    forwarded: p.forwarded,
    engine: p.engine,
    workers: p.workers,
    busy_polling: p.busy_polling,
    access_log: { ...p.access_log },
  };
}

/** The L4 / PROXY protocol keys of a listener (defaults: http, idle 10m for tcp like NGINX proxy_timeout). */
function streamListener(l: ParsedConfig['listeners'][number]): Pick<ListenerConfig, 'protocol' | 'upstream' | 'idle_timeout' | 'proxy_protocol'> {
  const out: Pick<ListenerConfig, 'protocol' | 'upstream' | 'idle_timeout' | 'proxy_protocol'> = {
    protocol: l.protocol,
    idle_timeout: l.idle_timeout ?? (l.protocol === 'tcp' ? 600_000 : 0),
  };
  if (l.upstream !== undefined) out.upstream = l.upstream;
  if (l.proxy_protocol !== undefined) out.proxy_protocol = { trusted: [...l.proxy_protocol.trusted] };
  return out;
}

/** A listener's `tls` with absolute paths; `certificates` is [] when only ACME provides them. */
function listenerTls(t: NonNullable<ParsedListener['tls']>, abs: (p: string) => string): ListenerTlsConfig {
  const out: ListenerTlsConfig = { ...t, certificates: (t.certificates ?? []).map((c) => ({ cert: abs(c.cert), key: abs(c.key) })) };
  if (t.acme) {
    const { ca, ...acme } = t.acme;
    out.acme = { ...acme, storage: abs(t.acme.storage), ...(ca !== undefined ? { ca: abs(ca) } : {}) };
  }
  return out;
}
