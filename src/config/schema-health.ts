/** Schemas of `upstreams.<name>.health_check` and `upstreams.<name>.outlier_detection`. */
import { int, list, object, oneOf, optional, record, string } from './schema-dsl.js';
import { duration, percent } from './schema-units.js';

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** `200`, `200-399` or `2xx`: why it is not a status range, or undefined. */
export function statusRangeProblem(s: string): string | undefined {
  const m = /^([1-5])xx$/i.exec(s) ?? /^(\d{3})(?:-(\d{3}))?$/.exec(s);
  if (!m) return '';
  if (/xx$/i.test(s)) return undefined;
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  if (lo < 100 || hi > 599) return 'statuses are 100-599';
  return lo <= hi ? undefined : 'the first status must not exceed the second';
}

/** `/regex/flags` or a plain substring: why the pattern does not compile, or undefined. */
export function bodyPatternProblem(s: string): string | undefined {
  const m = /^\/(.*)\/([a-z]*)$/s.exec(s);
  if (!m) return undefined;
  try {
    new RegExp(m[1]!, m[2]);
    return undefined;
  } catch (e) {
    return `not a valid regular expression: ${(e as Error).message}`;
  }
}

export const healthCheckSchema = object(
  {
    type: oneOf(['http', 'tcp'] as const, {
      default: 'http',
      doc: '`http`: send a request and judge the response by `expect`. `tcp`: only open (and close) a connection, for servers that do not speak HTTP on a health endpoint.',
    }),
    path: string({
      type: 'path',
      default: '/',
      expected: 'a path starting with "/"',
      check: (s) => (!s.startsWith('/') ? '' : /[\s#]/.test(s) ? 'no spaces or "#"' : undefined),
      doc: 'Path (and query) of the probe request, e.g. `/healthz`. Point it at an endpoint that checks what the server needs (database, disk), not just that the process runs.',
    }),
    method: string({
      type: 'method',
      default: 'GET',
      expected: 'an HTTP method such as GET',
      check: (s) => (TOKEN.test(s) ? undefined : 'not a valid HTTP token'),
      normalize: (s) => s.toUpperCase(),
      doc: 'Method of the probe request. `HEAD` saves the body when only the status matters.',
    }),
    host: optional(
      string({
        type: 'string',
        defaultText: 'the server address (`host:port`)',
        check: (s) => (/^[^\s\x00-\x1f\x7f]+$/.test(s) ? undefined : 'no spaces or control characters'),
        doc: 'Host header of probe requests, for servers that route by virtual host (e.g. `web.internal`).',
      }),
    ),
    headers: record(string({ type: 'string', allowEmpty: true, coerce: true, doc: 'A header value.' }), {
      default: {},
      type: 'mapping of header name to value',
      keyName: 'header',
      checkKey: (k) => (TOKEN.test(k) ? undefined : `expected a header name (an HTTP token), found ${JSON.stringify(k)}`),
      normalizeKey: (k) => k.toLowerCase(),
      doc: 'Extra request headers sent with each probe, e.g. `{ x-probe: headwater }` so servers can tell probes from users.',
    }),
    interval: duration({
      default: '5s',
      doc: 'Time between probes of a server that is healthy (or not yet judged), as NGINX Plus `interval`. Shorter notices failures sooner at the cost of more probe traffic.',
    }),
    unhealthy_interval: optional(
      duration({
        defaultText: 'the value of `interval`',
        doc: 'Time between probes of an unhealthy server (HAProxy `downinter`): probe a server that is down more often so it returns to service quickly once it recovers.',
      }),
    ),
    timeout: duration({
      default: '2s',
      doc: 'Time a probe may take, from connecting to the end of the response (HAProxy `timeout check`). A probe that takes longer fails.',
    }),
    rise: int({ min: 1, default: 2, doc: 'Consecutive passing probes that make an unhealthy server healthy again (HAProxy `rise`).' }),
    fall: int({ min: 1, default: 3, doc: 'Consecutive failing probes that make a healthy server unhealthy (HAProxy `fall`). Above 1, a single lost probe does not take a server out.' }),
    jitter: percent({
      default: '0%',
      doc: 'Randomly shortens or lengthens each wait by up to this share of the interval (`10%`), so probes of many servers (and of several gateways) do not all fire at once.',
    }),
    expect: object(
      {
        status: list(
          string({
            type: 'status range',
            coerce: true,
            expected: 'a status range such as 200, 200-399 or 2xx',
            check: statusRangeProblem,
            doc: 'A status, a range or a class.',
          }),
          { min: 1, type: 'list of status ranges', default: ['200-399'], doc: 'Statuses that pass: single statuses (`204`), ranges (`200-399`) or classes (`2xx`).' },
        ),
        body: optional(
          string({
            type: 'string',
            check: bodyPatternProblem,
            doc: 'The response body must contain this text, or match this regular expression when written `/.../` (e.g. `/"status":\\s*"ok"/`). Only the first 64KiB of the body are read.',
          }),
        ),
      },
      { default: {}, doc: 'What an `http` probe response must look like to pass.' },
    ),
    initially: oneOf(['healthy', 'unhealthy'] as const, {
      default: 'healthy',
      doc: 'The state of a server that has not been probed yet (a new server, or every server at start). `healthy`: it takes traffic at once, and `fall` failed probes take it out. `unhealthy`: it takes no traffic until `rise` probes have passed (NGINX Plus `mandatory`), for servers that need a warm-up.',
    }),
  },
  { type: 'health check', defaultText: '(none: no active checks)', doc: 'Active health checks: every server of the upstream is probed in the background, off the request path. A server takes traffic only when its probes, passive health (`max_fails`) and outlier detection all allow it. See the guide for the state machine.' },
);

export const outlierSchema = object(
  {
    consecutive_5xx: int({ min: 0, default: 5, doc: 'Consecutive 5xx responses (or connection failures, timeouts and invalid responses) that eject a server. 0 turns this check off.' }),
    consecutive_gateway_failure: int({ min: 0, default: 5, doc: 'Consecutive gateway failures (502, 503, 504, connection failures and timeouts) that eject a server. 0 turns this check off.' }),
    enforcing_consecutive_5xx: percent({ default: 100, doc: 'Chance (in percent) that a server detected by `consecutive_5xx` is actually ejected; lower it to trial the detector.' }),
    enforcing_consecutive_gateway_failure: percent({
      default: 100,
      doc: 'Chance (in percent) that a server detected by `consecutive_gateway_failure` is actually ejected. Envoy defaults this to 0 (detect only); Headwater enforces by default.',
    }),
    interval: duration({ default: '10s', doc: 'Time between analysis sweeps: success rates are computed, and servers whose ejection time is over return to service.' }),
    base_ejection_time: duration({
      default: '30s',
      doc: 'How long a server is ejected the first time. Each further ejection in a row lasts one `base_ejection_time` longer (30s, 60s, 90s, ...); once the server has been back for `base_ejection_time`, the count falls back by one every `interval`.',
    }),
    max_ejection_time: duration({ default: '300s', doc: 'Upper bound on an ejection, however often the server was ejected.' }),
    max_ejection_percent: percent({
      default: 10,
      doc: 'At most this share of the upstream\'s servers is ejected at once, so outlier detection cannot empty an upstream. One server may always be ejected, whatever the share.',
    }),
    success_rate: object(
      {
        minimum_hosts: int({ min: 1, default: 5, doc: 'The success-rate check runs only when at least this many servers had `request_volume` requests in the interval.' }),
        request_volume: int({ min: 1, default: 100, doc: 'Requests a server needs within one interval to be judged by its success rate.' }),
        stdev_factor: int({ min: 0, default: 1900, doc: 'A server is ejected when its success rate is below mean - (stdev_factor / 1000) * stdev of all judged servers (1900: 1.9 standard deviations).' }),
        enforcing: percent({ default: 100, doc: 'Chance (in percent) that a server detected by its success rate is actually ejected; 0 turns the check off.' }),
      },
      { default: {}, doc: 'Ejects servers whose share of non-5xx answers over the last interval is far below that of their peers (Envoy `success_rate_*`).' },
    ),
  },
  { type: 'outlier detection', defaultText: '(none: no ejection)', doc: 'Envoy\'s outlier detection, with its names and defaults: servers that keep failing real requests are ejected for a while, without any probe traffic.' },
);
