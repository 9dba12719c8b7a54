import diagnostics from 'node:diagnostics_channel';

/**
 * The one event path for every state change worth seeing. The core publishes on these channels;
 * the access log, metrics, the admin API and the dashboard subscribe. The core never imports them.
 * Publishing costs nothing when no one subscribes (check `hasSubscribers` before building payloads).
 */
export const channels = {
  /** A request finished (any outcome): payload is an AccessRecord. */
  request: diagnostics.channel('headwater:request'),
  /** A server became unavailable or available again: payload is HostEvent. */
  host: diagnostics.channel('headwater:host'),
  /** Panic mode entered or left, DNS answers changed or failed, retry budget exhausted: payload is UpstreamEvent. */
  upstream: diagnostics.channel('headwater:upstream'),
  /** An attempt failed and the request moves to another server: payload is RetryEvent. */
  retry: diagnostics.channel('headwater:retry'),
  /** A configuration was applied or refused: payload is ReloadEvent. */
  reload: diagnostics.channel('headwater:reload'),
  /** A TCP stream (protocol: tcp listener) connection closed: payload is StreamRecord. */
  stream: diagnostics.channel('headwater:stream'),
  /** Gateway lifecycle and warnings that are not tied to one request: payload is LifecycleEvent. */
  lifecycle: diagnostics.channel('headwater:lifecycle'),
};

/** What one attempt at one server did, in the order tried. */
export interface AttemptRecord {
  server: string;
  /** ok | error | timeout | invalid_header | http_NNN | client_abort */
  outcome: string;
  status?: number;
  /** ms from dispatch to response headers */
  header_ms?: number;
  /** ms the attempt took in total */
  ms: number;
}

/** One line of the access log. */
export interface AccessRecord {
  time: string;
  /** `time` as epoch milliseconds (formats that print local time read it instead of parsing `time`). */
  time_ms?: number;
  client: string;
  method: string;
  path: string;
  host: string | undefined;
  status: number;
  bytes: number;
  duration_ms: number;
  route: string | undefined;
  upstream: string | undefined;
  tries: AttemptRecord[];
  /** Error code when the gateway produced or cut the response. */
  code?: string;
  /** Upgraded connections (status 101): bytes from the client, after the request head. */
  bytes_in?: number;
  /** Upgraded connections: how the tunnel ended (closed, idle_timeout, client_error, upstream_error, shutdown). */
  outcome?: string;
  /** `HTTP/1.1`, `HTTP/1.0` or `HTTP/2.0`. */
  protocol?: string;
  /** The values of the request fields named in {@link logFields}, in that order (repeats joined), when it names any. */
  fields?: Array<string | undefined>;
}

/**
 * Request fields the access log's format prints (`$http_*`, Authorization for `$remote_user`):
 * the request path copies them into AccessRecord.fields. Set by the access log; empty by default,
 * so a request looks up nothing it will not print.
 */
export const logFields: { names: readonly string[] } = { names: [] };

/** One line per TCP stream connection, written when it closes. */
export interface StreamRecord {
  time: string;
  event: 'stream';
  listener: string;
  client: string;
  upstream: string;
  /** The server that carried the connection; absent when none could be reached. */
  server?: string;
  /** closed | idle_timeout | client_error | upstream_error | shutdown | client_abort, or an HW_ERR_* code when no server was reached. */
  outcome: string;
  /** Bytes from the client to the server. */
  bytes_in: number;
  /** Bytes from the server to the client. */
  bytes_out: number;
  duration_ms: number;
  /** Servers tried (connect attempts) in order. */
  tries: AttemptRecord[];
}

/** A server's state as health/state.ts shows it (see hostStatus there for the order). */
export type HostStatus = 'down' | 'draining' | 'unhealthy' | 'ejected' | 'failed' | 'checking' | 'healthy';

/** Who changed a server's state: active checks, passive health, outlier detection, drain config. */
export type HostSignal = 'active' | 'passive' | 'outlier' | 'drain';

/** One transition of one server. */
export interface HostEvent {
  upstream: string;
  server: string;
  /** Can it take new requests after the change? */
  state: 'up' | 'down';
  status: HostStatus;
  previous: HostStatus;
  signal: HostSignal;
  reason: string;
}

/** Something that concerns a whole upstream: panic mode, DNS discovery, the queue, the retry budget. */
export interface UpstreamEvent {
  upstream: string;
  kind: 'panic' | 'panic_over' | 'discovery' | 'resolve_failed' | 'retry_budget_exhausted';
  reason: string;
  [key: string]: unknown;
}

export interface RetryEvent {
  upstream: string;
  from: string;
  reason: string;
  attempt: number;
}

export interface ReloadEvent {
  ok: boolean;
  issues?: string[];
}

export interface LifecycleEvent {
  level: 'info' | 'warn' | 'error';
  msg: string;
  [key: string]: unknown;
}
