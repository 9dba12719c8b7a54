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
  /** Absolute paths; the first certificate is the default. Empty when only ACME provides them. */
  certificates: Array<{ cert: string; key: string }>;
  /** Certificates from an ACME CA (absolute storage/ca paths, renew_before in ms). */
  acme?: AcmeConfig;
  min_version: 'TLSv1.2' | 'TLSv1.3';
  ciphers?: string;
  alpn?: string[];
}

export interface AcmeConfig {
  email: string;
  directory: string;
  domains: string[];
  storage: string;
  ca?: string;
  /** ms */
  renew_before: number;
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
  /** ms over which the weight ramps up after the server comes (back) into service; 0 = off. */
  slow_start: number;
  /** No new requests (in-flight ones finish); sticky clients still reach it. */
  drain: boolean;
  /** Keep the host name of `address` resolved through DNS (A/AAAA), one server per address. */
  resolve: boolean;
  /** Full DNS SRV name (e.g. _http._tcp.api.internal) when servers come from SRV records. */
  service?: string;
  /** For a server found through DNS (`resolve`): the name it was found by, which TLS sends and verifies. */
  tls_name?: string;
}

/** Active health checks of every server of an upstream. */
export interface HealthCheckConfig {
  type: 'http' | 'tcp';
  path: string;
  method: string;
  /** Host header of probes; the server address when absent. */
  host?: string;
  /** Lower-case name -> value. */
  headers: Record<string, string>;
  /** ms between probes of a healthy (or not yet judged) server. */
  interval: number;
  /** ms between probes of an unhealthy server. */
  unhealthy_interval: number;
  /** ms a probe may take. */
  timeout: number;
  rise: number;
  fall: number;
  /** Percent of the interval by which each wait may randomly vary. */
  jitter: number;
  /** Passing statuses as inclusive [low, high] ranges; body: substring, or /regex/flags. */
  expect: { status: Array<[number, number]>; body?: string };
  initially: 'healthy' | 'unhealthy';
  /** The upstream's `tls` and `protocol`, copied here so probes talk to servers as requests do. */
  tls?: UpstreamTlsConfig;
  protocol?: 'http1' | 'h2' | 'h2c';
}

/** Envoy outlier detection (durations in ms, shares in percent). */
export interface OutlierConfig {
  consecutive_5xx: number;
  consecutive_gateway_failure: number;
  enforcing_consecutive_5xx: number;
  enforcing_consecutive_gateway_failure: number;
  interval: number;
  base_ejection_time: number;
  max_ejection_time: number;
  max_ejection_percent: number;
  success_rate: { minimum_hosts: number; request_volume: number; stdev_factor: number; enforcing: number };
}

export interface StickyConfig {
  cookie: string;
  /** ms; 0 = session cookie. */
  ttl: number;
  path: string;
  domain?: string;
  secure: boolean;
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
  /** Envoy retry budget: concurrent retries <= max(min_concurrency, percent% of active requests). */
  budget?: { percent: number; min_concurrency: number };
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
  health_check?: HealthCheckConfig;
  outlier_detection?: OutlierConfig;
  /** Percent of healthy primaries below which requests go to all of them; 0 = off. */
  panic_threshold: number;
  /** Bounded wait for a server slot when all are at max_conns (ms timeout). */
  queue?: { size: number; timeout: number };
  sticky?: StickyConfig;
  /** DNS server for resolve/service servers (ip:port), else the system's. */
  resolver?: string;
  /** ms: cap on the DNS TTL. */
  valid?: number;
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
  /** Poll instead of sleeping between event-loop turns while traffic flows (HAProxy busy-polling). */
  busy_polling: boolean;
  /** How the client address is passed on: X-Forwarded-* always; RFC 7239 Forwarded too when set. */
  forwarded: 'x-forwarded' | 'rfc7239';
  access_log: {
    enabled: boolean;
    /** '-' or 'stdout' for standard output, or a file path */
    path: string;
    /** 'json', 'combined', 'common' or an NGINX-style template */
    format: string;
  };
}
