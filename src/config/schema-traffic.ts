/** Schemas of the upstream keys that keep traffic flowing: queue, sticky, retry budget, resolver. */
import { isIP } from 'node:net';
import { bool, int, object, optional, string } from './schema-dsl.js';
import { duration, percent } from './schema-units.js';

const COOKIE_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** `ip`, `ip:port` or `[v6]:port`: why it is not a DNS server address, or undefined. */
export function resolverProblem(s: string): string | undefined {
  const m = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(s) ?? /^([^:]+)(?::(\d{1,5}))?$/.exec(s);
  const ip = m ? m[1]! : s;
  if (!isIP(ip)) return 'the DNS server must be an IP address';
  const port = m?.[2] === undefined ? 53 : Number(m[2]);
  return port >= 1 && port <= 65535 ? undefined : 'the port must be 1-65535';
}

/** A DNS server address; the top level and each upstream have one, with their own doc text. */
export const resolverSchema = (defaultText: string, doc: string) =>
  string({
    type: 'address (ip[:port])',
    expected: 'a DNS server address such as 127.0.0.1, 127.0.0.1:5353 or [::1]:53',
    check: resolverProblem,
    defaultText,
    doc: `The DNS server that resolves \`resolve\` and \`service\` servers, as an IP address with an optional port (53), like NGINX \`resolver\`. ${doc}`,
  });

export const queueSchema = object(
  {
    size: int({ min: 1, default: 100, doc: 'Most requests waiting at once; one more gets 503 (`HW_ERR_QUEUE_FULL`) straight away.' }),
    timeout: duration({ default: '60s', doc: 'Longest wait for a free server; then the request gets 503 (`HW_ERR_QUEUE_TIMEOUT`). NGINX Plus waits 60s by default.' }),
  },
  {
    type: 'queue',
    defaultText: '(none: requests fail at once)',
    doc: 'When every available server is at its `max_conns`, requests wait here, first come first served, until one finishes (NGINX Plus `queue`), instead of failing at once. A client that gives up leaves the queue.',
  },
);

export const stickySchema = object(
  {
    cookie: string({
      type: 'cookie name',
      default: 'hw_srv',
      check: (s) => (COOKIE_NAME.test(s) ? undefined : 'not a valid cookie name'),
      doc: 'Name of the cookie that pins a client to a server. Its value is a hash that names the server without revealing its address.',
    }),
    ttl: duration({ default: 0, doc: 'Lifetime of the cookie (`Max-Age`); 0 makes it a session cookie that ends when the browser closes.' }),
    path: string({
      type: 'path',
      default: '/',
      check: (s) => (s.startsWith('/') && !/[\s;]/.test(s) ? undefined : ''),
      expected: 'a path starting with "/" without spaces or ";"',
      doc: 'The cookie\'s `Path`: where the browser sends it back.',
    }),
    domain: optional(
      string({
        type: 'domain',
        check: (s) => (/^[A-Za-z0-9.-]+$/.test(s) ? undefined : 'not a domain name'),
        doc: 'The cookie\'s `Domain`, to share the pin across subdomains.',
      }),
    ),
    secure: bool({ default: false, doc: 'Mark the cookie `Secure` (sent over HTTPS only).' }),
  },
  {
    type: 'sticky settings',
    defaultText: '(none: no pinning)',
    doc: 'Session affinity by cookie (NGINX Plus `sticky cookie`): the first response sets a cookie naming the server that answered, and later requests carrying it go to that server while it is available. A pin to a server that is gone or unavailable is replaced (a new cookie is set). Works with every `balance` policy, which picks the server for new clients.',
  },
);

export const retryBudgetSchema = object(
  {
    percent: percent({ default: 20, doc: 'Retries in flight may be at most this share of the upstream\'s active requests.' }),
    min_concurrency: int({ min: 0, default: 3, doc: 'Retries always allowed in flight whatever the share, so a quiet upstream can still retry.' }),
  },
  {
    type: 'retry budget',
    defaultText: '(none: `tries` alone limits retries)',
    doc: 'Envoy\'s retry budget: caps concurrent retries to max(`min_concurrency`, `percent` of active requests), so that when an upstream is failing, retries cannot multiply its load. A request over budget is not retried: it gets the failure of its last attempt.',
  },
);
