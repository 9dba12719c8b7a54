/**
 * The whole configuration vocabulary. This is the single source of truth: the loader validates
 * against it and docs/config-reference.md is generated from it (`npm run docs`).
 */
import { bool, int, list, object, oneOf, optional, record, string, type Infer } from './schema-dsl.js';
import { address, duration, size } from './schema-units.js';
import { routeSchema } from './schema-route.js';
import { upstreamSchema } from './schema-upstream.js';
import { http2LimitsSchema, listenerH2c, listenerHttp2, listenerTlsSchema } from './schema-tls.js';
import { resolverSchema } from './schema-traffic.js';
import { streamListenerFields } from './schema-stream.js';
import { compileFormat } from '../observability/log-format.js';

export const listenerSchema = object(
  {
    name: optional(
      string({
        defaultText: '`listener-<index>`',
        doc: 'Names the listener in logs and metrics; useful once there is more than one.',
      }),
    ),
    address: address({
      minPort: 0,
      doc: 'Where to accept client connections, as `host:port`: `0.0.0.0:8080` for every IPv4 interface, `127.0.0.1:8080` for local clients only, `[::]:8080` for IPv6. Port 0 picks a free port (for tests).',
    }),
    tls: optional(listenerTlsSchema),
    http2: listenerHttp2,
    h2c: listenerH2c,
    http2_limits: http2LimitsSchema,
    ...streamListenerFields,
  },
  { type: 'listener', doc: 'An address the gateway accepts HTTP connections (or, with `protocol: tcp`, TCP streams) on.' },
);

export const configSchema = object(
  {
    listeners: list(listenerSchema, {
      min: 1,
      type: 'list of listeners',
      doc: 'Addresses to accept connections on. At least one; names and addresses must be unique.',
    }),
    routes: list(routeSchema, {
      default: [],
      type: 'list of routes',
      doc: 'Rules that pick an upstream for each request, tried in order; the first match wins. Requests that match no route get 404. Put specific routes first and a catch-all (`match: { path_prefix: / }`) last.',
    }),
    upstreams: record(upstreamSchema, {
      default: {},
      type: 'mapping of name to upstream',
      keyName: 'name',
      doc: 'Named pools of backend servers. Routes and `tcp` listeners refer to them by name.',
    }),
    resolver: optional(resolverSchema('the system\'s (/etc/resolv.conf)', 'The default for every upstream that sets none.')),
    client_max_body_size: size({
      default: '1MiB',
      doc: 'Default limit on request body size for routes that set none; bigger requests get 413 before reaching a server. Protects servers from huge uploads. 0 means no limit.',
    }),
    shutdown_timeout: duration({
      default: '30s',
      doc: 'On SIGTERM/SIGINT the gateway stops accepting connections and lets requests in flight finish for at most this long. Set it a little above your slowest normal request, and below the kill timeout of your process manager.',
    }),
    workers: int({
      min: 0,
      max: 256,
      default: 1,
      doc: 'Worker processes (node:cluster) sharing the listeners, like NGINX `worker_processes`; 0 means one per CPU core. Each worker keeps its own server state (failure counts, balancer position) and writes to the same access log. Used by `headwater run`; the library always runs in one process.',
    }),
    engine: oneOf(['lean', 'node'] as const, {
      default: 'lean',
      doc: 'The HTTP/1.1 machinery on both legs. `lean`: Headwater\'s own strict HTTP/1.1 parser on raw sockets, to clients and to servers, the fastest. `node`: node:http for clients and undici pools for servers, the reference implementation. Both behave the same; switch back to `node` if you suspect the engine.',
    }),
    busy_polling: bool({
      default: false,
      doc: 'Keep the event loop polling instead of sleeping between turns while traffic flows, like HAProxy `busy-polling`; it goes back to sleeping 1 ms after the last request or read. On virtual machines, where waking a sleeping vCPU is slow, it cuts the latency of every read; on the bench VM it lifted throughput 13% with 64 KiB responses at 50 connections, and elsewhere moved it by -7% to +5% (see the guide). The cost: under steady load the process keeps its core at 100% whatever the load. It also slows whatever runs on the same physical core (the other hyper-thread or vCPU: ~10% on the bench VM). Leave it off on shared or battery-powered machines; it is per process, so with `workers` each worker polls.',
    }),
    forwarded: oneOf(['x-forwarded', 'rfc7239'] as const, {
      default: 'x-forwarded',
      doc: 'How the client address and protocol are passed to servers. `x-forwarded`: X-Forwarded-For/-Proto/-Host, which most frameworks read. `rfc7239`: also the standard `Forwarded` header.',
    }),
    access_log: object(
      {
        enabled: bool({ default: true, doc: 'Write one line per request. Turn it off when another layer already logs requests.' }),
        path: string({
          default: '-',
          doc: 'Where to write it: `-` or `stdout` for standard output (containers, systemd), otherwise a file path (appended to; its folder is made if missing). A file that cannot be opened or written is reported once on standard error and its lines are dropped: serving goes on.',
        }),
        format: string({
          default: 'json',
          type: 'json, combined, common or a template',
          expected: '`json`, `combined`, `common` or a template of NGINX `$variables`',
          check: (s) => (s === 'json' ? undefined : formatProblem(s)),
          doc: 'The line format. `json`: one JSON object per request (pino\'s line shape, with the attempts made). `combined` and `common`: NGINX\'s formats of those names, for the tools that read them. Or a template as NGINX `log_format` writes it, e.g. `\'$remote_addr "$request" $status $request_time $upstream_addr\'` (variables in [the guide](guide.md#access-log-formats)). With a format other than `json`, the event lines (server up/down, retries, reloads, TCP streams) go to standard error as JSON instead of this log.',
        }),
      },
      { default: {}, doc: 'The request log.' },
    ),
  },
  { type: 'configuration', doc: 'The configuration file.' },
);

/** Why a log format does not compile, or undefined. */
function formatProblem(spec: string): string | undefined {
  const f = compileFormat(spec);
  return typeof f === 'string' ? f : undefined;
}

/** What the schema produces, before names and defaults that depend on position are filled in. */
export type ParsedConfig = Infer<typeof configSchema>;
