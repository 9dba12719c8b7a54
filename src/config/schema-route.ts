/** Schema of `routes[]`: which requests go to which upstream. */
import { bool, list, object, optional, record, string } from './schema-dsl.js';
import { size } from './schema-units.js';
import { matchHostProblem } from './address.js';

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const tokenProblem = (s: string): string | undefined => (TOKEN.test(s) ? undefined : 'not a valid HTTP token');
const pathProblem = (s: string): string | undefined =>
  !s.startsWith('/') ? '' : /[\s?#]/.test(s) ? 'no spaces, "?" or "#"' : undefined;

const matchSchema = object(
  {
    host: optional(
      string({
        type: 'host name',
        expected: 'a host name, *.wildcard or IP address',
        check: matchHostProblem,
        normalize: (s) => s.toLowerCase(),
        doc: 'Match the Host header (without port, case-insensitive). `*.example.com` matches any subdomain of example.com. Use it to serve several sites or APIs from one listener.',
      }),
    ),
    path_prefix: optional(
      string({
        type: 'path',
        expected: 'a path starting with "/"',
        check: pathProblem,
        doc: 'Match paths starting with this text, e.g. `/api/`. Put longer prefixes first: the first matching route wins. Combine with `strip_prefix` to mount an application under a sub-path.',
      }),
    ),
    path: optional(
      string({
        type: 'path',
        expected: 'a path starting with "/"',
        check: pathProblem,
        doc: 'Match exactly this path (no query string), e.g. `/healthz`, for single endpoints that need their own upstream or body limit.',
      }),
    ),
    methods: optional(
      list(
        string({ type: 'method', expected: 'an HTTP method such as GET', check: tokenProblem, normalize: (s) => s.toUpperCase(), doc: 'An HTTP method.' }),
        {
          min: 1,
          type: 'list of methods',
          doc: 'Match only these HTTP methods (written in any case), e.g. send `[POST, PUT, DELETE]` to a write service and everything else to read replicas.',
        },
      ),
    ),
    headers: optional(
      record(
        string({
          allowEmpty: true,
          coerce: true,
          expected: 'a header value (string)',
          doc: 'The exact header value.',
        }),
        {
          type: 'mapping of header name to value',
          keyName: 'header',
          checkKey: (k) => (TOKEN.test(k) ? undefined : `expected a header name, found ${JSON.stringify(k)} (not a valid HTTP token)`),
          normalizeKey: (k) => k.toLowerCase(),
          doc: 'Match only requests carrying all these headers with exactly these values (names are case-insensitive), e.g. `{ x-canary: "1" }` to send canary traffic to a new version.',
        },
      ),
    ),
  },
  {
    default: {},
    type: 'match conditions',
    doc: 'Conditions a request must all meet to use this route. Leave it out (or `{}`) to match every request — useful as the last, catch-all route.',
  },
);

export const routeSchema = object(
  {
    name: optional(
      string({
        defaultText: '`route-<index>`',
        doc: 'Names the route in access logs, metrics and error messages. Give routes names so logs stay readable when the order changes.',
      }),
    ),
    match: matchSchema,
    upstream: string({ type: 'upstream name', doc: 'Name of the upstream (a key under `upstreams`) that serves matching requests.' }),
    strip_prefix: bool({
      default: false,
      doc: 'Remove the matched `path_prefix` before forwarding, so `/api/users` reaches the server as `/users`. Use it when the application does not know it is mounted under a prefix.',
    }),
    client_max_body_size: optional(
      size({
        defaultText: 'top-level `client_max_body_size`',
        doc: 'Largest request body accepted on this route; bigger requests get 413. Raise it for upload endpoints, lower it for APIs that only take small JSON. 0 means no limit.',
      }),
    ),
  },
  { type: 'route', doc: 'One routing rule. Routes are tried in order; the first match wins.' },
);
