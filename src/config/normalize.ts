/** Turns the schema's output into the runtime's Config: position-based names and inherited defaults. */
import type { ParsedConfig } from './schema.js';
import { resolve } from 'node:path';
import type { Config, ListenerConfig, RouteConfig, RouteMatch, UpstreamConfig } from './types.js';

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
      servers: u.servers.map((s) => ({
        address: s.address.address,
        host: s.address.host,
        port: s.address.port,
        weight: s.weight,
        backup: s.backup,
        down: s.down,
        max_fails: s.max_fails,
        fail_timeout: s.fail_timeout,
        max_conns: s.max_conns,
      })),
    };
    if (u.hash) up.hash = { ...u.hash };
    if (u.host !== undefined) up.host = u.host;
    if (u.tls) {
      const t = u.tls;
      up.tls = { ...t };
      for (const k of ['ca', 'cert', 'key'] as const) if (t[k] !== undefined) up.tls[k] = abs(t[k]);
    }
    if (u.send_proxy_protocol !== undefined) up.send_proxy_protocol = u.send_proxy_protocol;
    upstreams[name] = up;
  }
  return {
    listeners: p.listeners.map((l, i) => ({
      name: l.name ?? `listener-${i}`,
      address: l.address.address,
      host: l.address.host,
      port: l.address.port,
      ...(l.tls ? { tls: { ...l.tls, certificates: l.tls.certificates.map((c) => ({ cert: abs(c.cert), key: abs(c.key) })) } } : {}),
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
