/** Schema of `upstreams.<name>`: a pool of servers and how requests are spread and retried. */
import { bool, int, list, object, oneOf, optional, string } from './schema-dsl.js';
import { address, duration, percent, size } from './schema-units.js';
import { healthCheckSchema, outlierSchema } from './schema-health.js';
import { queueSchema, resolverSchema, retryBudgetSchema, stickySchema } from './schema-traffic.js';
import { upstreamProtocolSchema, upstreamTlsSchema } from './schema-tls.js';

export const BALANCE_NAMES = ['round_robin', 'least_conn', 'ip_hash', 'hash', 'random_two', 'least_time'] as const;
export const RETRY_CONDITIONS = [
  'error', 'timeout', 'invalid_header',
  'http_500', 'http_502', 'http_503', 'http_504', 'http_403', 'http_404', 'http_429',
] as const;

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export const serverSchema = object(
  {
    address: optional(
      address({
        minPort: 1,
        portOptional: true,
        defaultText: '**required** unless `service` is a full SRV name',
        doc: 'Where the server listens, as `host:port` (`[::1]:9001` for IPv6). A host name is resolved when connecting, or kept up to date from DNS with `resolve`. With `service`, the port may be left out (the SRV records give it).',
      }),
    ),
    weight: int({
      min: 1,
      default: 1,
      doc: 'Relative share of requests. A server with weight 3 gets three times the traffic of a weight-1 server; raise it for bigger machines, lower it to drain one gradually.',
    }),
    max_fails: int({
      min: 0,
      default: 1,
      doc: 'How many failed attempts within `fail_timeout` mark the server unavailable (what counts as a failure is `retry.on`). Raise it for flaky networks so one hiccup does not eject a server; 0 never marks it failed.',
    }),
    fail_timeout: duration({
      default: '10s',
      doc: 'Both the window in which `max_fails` failures are counted and how long the server is then left out before it is tried again.',
    }),
    max_conns: int({
      min: 0,
      default: 0,
      doc: 'Cap on simultaneous connections to this server, to protect a backend with a fixed worker count; a server at its cap is skipped. 0 means no limit.',
    }),
    backup: bool({
      default: false,
      doc: 'A standby server: it only gets traffic when no primary (non-backup) server is available. Use it for a fallback or "sorry" server.',
    }),
    down: bool({
      default: false,
      doc: 'Takes the server out of rotation without deleting it from the file, e.g. during maintenance.',
    }),
    drain: bool({
      default: false,
      doc: 'Stops sending new requests to the server while requests in flight finish (NGINX Plus `drain`); only clients pinned to it by `sticky` still reach it. Set it, reload, wait for the traffic to stop, then remove the server: its state and probes are kept across the reload.',
    }),
    slow_start: duration({
      default: 0,
      doc: 'After the server comes (back) into service (healthy again after checks or failures, or added to a running gateway), its weight grows linearly from 10% to full over this time (NGINX Plus `slow_start`), so a cold server is not flooded. Used by `round_robin`, `least_conn`, `random_two` and `least_time`. 0 turns it off.',
    }),
    resolve: bool({
      default: false,
      doc: 'Resolve the host name of `address` through DNS at start and again whenever its TTL (capped by the upstream\'s `valid`) runs out; every address found becomes a server with this entry\'s parameters (NGINX Plus `resolve`). When the resolver fails, the last good set is kept.',
    }),
    service: optional(
      string({
        type: 'SRV name',
        expected: 'a DNS SRV service such as _http._tcp.api.internal, _http._tcp or http',
        check: (s) => (/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(s) && !s.endsWith('..') ? undefined : ''),
        doc: 'Discover servers through DNS SRV records (implies `resolve`): each record gives a server with the record\'s port and weight; records with the lowest priority value are primaries, the others backups (as NGINX does). Write the full name (`_http._tcp.api.internal`, no `address` needed), or, as NGINX does, a service (`http` or `_http._tcp`) that is put in front of the host of `address`.',
      }),
    ),
  },
  { type: 'server', doc: 'One backend server of the pool.' },
);

const hashSchema = object(
  {
    key: string({
      type: 'hash key',
      expected: 'a hash key: header:NAME, cookie:NAME, query:NAME, uri or client_ip',
      check: (s) => (/^(header|cookie|query):[^\s]+$|^uri$|^client_ip$/.test(s) && (!s.startsWith('header:') || TOKEN.test(s.slice(7))) ? undefined : ''),
      normalize: (s) => (s.startsWith('header:') ? s.toLowerCase() : s),
      doc: 'What identifies "the same client or resource": `header:NAME` (e.g. `header:x-user-id`), `cookie:NAME` (a session cookie), `query:NAME`, `uri` (path and query; good for caches) or `client_ip`. Requests with the same key go to the same server.',
    }),
    consistent: bool({
      default: false,
      doc: 'Use consistent hashing (ketama): when a server is added or removed only about 1/N of the keys move instead of nearly all. Turn it on for caches and sticky sessions whose server set changes.',
    }),
  },
  { type: 'hash settings', defaultText: 'required when `balance` is `hash`', doc: 'Settings of the `hash` balancer. Required when `balance` is `hash` and not allowed otherwise.' },
);

export const upstreamSchema = object(
  {
    balance: oneOf(BALANCE_NAMES, {
      default: 'round_robin',
      doc: 'How a server is picked. `round_robin`: in turn, by weight — the right choice for similar, stateless servers. `least_conn`: the server with the fewest active requests (by weight) — for requests of very uneven duration. `ip_hash`: by client address, so a client keeps its server. `hash`: by a key of your choice (see `hash`). `random_two`: two random servers, the less busy one wins — good with many gateways in front of the same servers. `least_time`: the server with the lowest average response time — for servers of different speed.',
    }),
    hash: optional(hashSchema),
    pass_host: oneOf(['pass', 'node', 'rewrite'] as const, {
      default: 'pass',
      doc: 'The Host header sent to the server. `pass`: the client\'s Host (virtual hosting behind the gateway). `node`: the server\'s own `host:port` (backends that check their own name, e.g. S3 or other hosted services). `rewrite`: the value of `host`.',
    }),
    host: optional(
      string({
        type: 'string',
        defaultText: 'required when `pass_host` is `rewrite`',
        check: (s) => (/^[^\s\x00-\x1f\x7f]+$/.test(s) ? undefined : 'no spaces or control characters'),
        doc: 'Host header to send when `pass_host` is `rewrite`. Required then, and not allowed otherwise.',
      }),
    ),
    keepalive: object(
      {
        max_idle: int({
          min: 0,
          default: 64,
          doc: 'Keep-alive to each server: connections are reused, saving a TCP (and TLS) handshake per request; 0 closes every connection after its response. This many idle connections per server stay open once traffic calms down; connections opened for a burst above it are reused while the burst lasts and then closed gradually, half of the surplus each second, oldest first (as HAProxy purges its pools), rather than closed and reopened per request. With `engine: node`, undici does not cap them: idle ones close after idle_timeout.',
        }),
        idle_timeout: duration({
          default: '60s',
          doc: 'How long an unused pooled connection is kept. Keep it below the server\'s own keep-alive timeout so the gateway never reuses a connection the server is closing.',
        }),
      },
      { default: {}, doc: 'Connection reuse towards the servers of this upstream.' },
    ),
    timeouts: object(
      {
        connect: duration({
          default: '5s',
          doc: 'Time allowed to open a connection to a server. Keep it short: a server that does not accept within seconds is down, and the next one can be tried.',
        }),
        response_header: duration({
          default: '60s',
          doc: 'Time allowed from sending the request until the response headers arrive. Raise it for slow endpoints (reports, exports); lower it to fail fast.',
        }),
        idle: duration({
          default: '60s',
          doc: 'Longest silence allowed between two reads or writes once the exchange has started, e.g. while streaming a body.',
        }),
        tunnel: duration({
          default: '1h',
          doc: 'Longest silence in both directions on an upgraded connection (WebSocket) before both sides are closed (HAProxy `timeout tunnel`). Lower it to reclaim connections from vanished clients; WebSocket pings count as traffic.',
        }),
      },
      { default: {}, doc: 'Time limits for talking to a server; 0 means no limit.' },
    ),
    retry: object(
      {
        tries: int({
          min: 0,
          default: 0,
          doc: 'Most attempts per request, counting the first. 0 means up to one attempt per server. Set 1 to never retry, e.g. for slow, expensive requests.',
        }),
        timeout: duration({
          default: 0,
          doc: 'Total time allowed for all attempts of one request, so retries cannot pile up latency. 0 means no limit.',
        }),
        on: list(oneOf(RETRY_CONDITIONS, { doc: 'A failure condition.' }), {
          type: 'list of conditions',
          default: ['error', 'timeout'],
          doc: 'Outcomes that count as a failed attempt and are retried on the next server: `error` (cannot connect or send, connection reset), `timeout`, `invalid_header` (malformed response), `http_5xx`/`http_4xx` (that response status). Add `http_502`, `http_503`, `http_504` so that one server restarting or overloaded does not turn into errors for clients while others are healthy.',
        }),
        non_idempotent: bool({
          default: false,
          doc: 'Also retry POST, PATCH and LOCK requests. Off by default because the first server may already have acted on the request (a payment could be made twice); turn it on only when those endpoints are idempotent.',
        }),
        buffer: size({
          default: '64KiB',
          doc: 'Request body bytes kept in memory so the body can be sent again on a retry. A request whose body is larger is not retried once the body has been sent.',
        }),
        budget: optional(retryBudgetSchema),
      },
      { default: {}, doc: 'When a failed attempt is repeated on another server (like NGINX `proxy_next_upstream`).' },
    ),
    send_proxy_protocol: optional(
      oneOf(['v1', 'v2'] as const, {
        doc: 'Start every connection to these servers with a PROXY protocol header (HAProxy `send-proxy` / `send-proxy-v2`) so they learn the client address: `v1` text, `v2` binary. Keep-alive connections then carry requests of one client address only.',
      }),
    ),
    health_check: optional(healthCheckSchema),
    outlier_detection: optional(outlierSchema),
    panic_threshold: percent({
      default: 0,
      doc: 'Envoy\'s panic mode: when fewer than this share of the primary servers are healthy, requests are spread over all of them (healthy or not, but never `down` or draining ones) rather than overloading the few left; entering and leaving panic is logged. Envoy uses 50%; 0 turns it off.',
    }),
    queue: optional(queueSchema),
    sticky: optional(stickySchema),
    resolver: optional(resolverSchema('the top-level `resolver`', 'Set it here when one upstream needs its own DNS server.')),
    valid: optional(
      duration({
        defaultText: 'the DNS TTL',
        doc: 'Re-resolve names (`resolve`, `service`) at least this often, whatever their TTL says (NGINX `resolver ... valid=`).',
      }),
    ),
    tls: optional(upstreamTlsSchema),
    protocol: upstreamProtocolSchema,
    servers: list(serverSchema, {
      min: 1,
      type: 'list of servers',
      doc: 'The backend servers. At least one is needed.',
    }),
  },
  { type: 'upstream', doc: 'A named pool of servers that routes send requests to.' },
);
