/**
 * The normalized, validated configuration the runtime works from. Users write the YAML vocabulary
 * described in docs/config-reference.md (generated from src/config/schema.ts); the loader fills
 * defaults, turns durations into milliseconds and sizes into bytes, and returns this shape.
 * Every layer reads this; nothing reads the raw file.
 */

export type BalanceName = 'round_robin' | 'least_conn' | 'ip_hash' | 'hash' | 'random_two' | 'least_time';

/** Conditions that make an attempt count as failed (and, where allowed, retried on the next server). */
export type RetryCondition =
  | 'error'
  | 'timeout'
  | 'invalid_header'
  | 'http_500'
  | 'http_502'
  | 'http_503'
  | 'http_504'
  | 'http_403'
  | 'http_404'
  | 'http_429';

export interface ListenerConfig {
  name: string;
  /** host:port as written, e.g. 127.0.0.1:8080 or [::1]:8080 (port 0 picks a free port). */
  address: string;
  host: string;
  port: number;
  /** `http` (routes apply) or `tcp` (an L4 stream proxy to `upstream`). */
  protocol: 'http' | 'tcp';
  /** The upstream of a `tcp` listener. */
  upstream?: string;
  /** ms without bytes either way after which a `tcp` connection is closed (0 = never). */
  idle_timeout: number;
  /** Accept a PROXY protocol header from these peers (CIDR strings); absent: not accepted. */
  proxy_protocol?: { trusted: string[] };
  /** TLS termination; absent for cleartext listeners. */
  tls?: ListenerTlsConfig;
  /** Offer HTTP/2 (ALPN h2) on a TLS listener, HTTP/1.1 still served. */
  http2?: boolean;
  /** Cleartext HTTP/2 with prior knowledge instead of HTTP/1.1. */
  h2c?: boolean;
  http2_limits?: Http2Limits;
}

export interface ListenerTlsConfig {
  /** Absolute paths; the first certificate is the default. */
  certificates: Array<{ cert: string; key: string }>;
  min_version: 'TLSv1.2' | 'TLSv1.3';
  ciphers?: string;
  alpn?: string[];
}

export interface Http2Limits {
  max_concurrent_streams: number;
  /** Bytes. */
  max_header_list_size: number;
  max_resets_per_second: number;
}

/** HTTPS to an upstream's servers; file paths are absolute. */
export interface UpstreamTlsConfig {
  enabled: boolean;
  verify: boolean;
  ca?: string;
  server_name?: string;
  cert?: string;
  key?: string;
}

export interface RouteMatch {
  /** Exact host or a leading wildcard (*.example.com); compared case-insensitively without port. */
  host?: string;
  path_prefix?: string;
  /** Exact path match. */
  path?: string;
  methods?: string[];
  /** Header name (lower case) -> exact value. */
  headers?: Record<string, string>;
}

export interface RouteConfig {
  name: string;
  match: RouteMatch;
  upstream: string;
  strip_prefix: boolean;
  /** Bytes; 0 means no limit. */
  client_max_body_size: number;
}

export interface ServerConfig {
  address: string;
  host: string;
  port: number;
  weight: number;
  backup: boolean;
  down: boolean;
  max_fails: number;
  /** ms */
  fail_timeout: number;
  /** 0 = no limit */
  max_conns: number;
}

export interface HashConfig {
  /** header:NAME | cookie:NAME | query:NAME | uri | client_ip */
  key: string;
  consistent: boolean;
}

export interface RetryConfig {
  /** Total attempts including the first (NGINX proxy_next_upstream_tries); 0 = one per server. */
  tries: number;
  /** ms; total time allowed for all attempts (proxy_next_upstream_timeout); 0 = no limit. */
  timeout: number;
  on: RetryCondition[];
  non_idempotent: boolean;
  /** Bytes of request body kept in memory so it can be replayed on a retry (default 64KiB). */
  buffer: number;
}

export interface UpstreamConfig {
  name: string;
  balance: BalanceName;
  hash?: HashConfig;
  pass_host: 'pass' | 'node' | 'rewrite';
  /** Host header sent when pass_host is rewrite. */
  host?: string;
  keepalive: { max_idle: number; /** ms */ idle_timeout: number };
  /** ms each */
  timeouts: { connect: number; response_header: number; idle: number; /** upgraded connections (WebSocket) */ tunnel: number };
  /** Write a PROXY protocol header at the start of each connection to the servers. */
  send_proxy_protocol?: 'v1' | 'v2';
  retry: RetryConfig;
  tls?: UpstreamTlsConfig;
  /** Protocol to the servers: HTTP/1.1, HTTP/2 over TLS, or cleartext HTTP/2. */
  protocol?: 'http1' | 'h2' | 'h2c';
  servers: ServerConfig[];
}

export interface Config {
  listeners: ListenerConfig[];
  routes: RouteConfig[];
  upstreams: Record<string, UpstreamConfig>;
  /** ms to let in-flight requests finish on SIGTERM/SIGINT. */
  shutdown_timeout: number;
  /** Worker processes for `headwater run` (0 = one per core). */
  workers: number;
  /** HTTP/1.1 engine on both legs: Headwater's own raw-socket path, or node:http + undici. */
  engine: 'node' | 'lean';
  /** How the client address is passed on: X-Forwarded-* always; RFC 7239 Forwarded too when set. */
  forwarded: 'x-forwarded' | 'rfc7239';
  access_log: { enabled: boolean; /** '-' or 'stdout' for standard output, or a file path */ path: string };
}
