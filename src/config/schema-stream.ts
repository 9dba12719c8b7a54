/**
 * Schema of the listener keys for L4 streams and the PROXY protocol (issue 5): `protocol`,
 * `upstream`, `idle_timeout` and `proxy_protocol`. They are spread into the listener schema.
 */
import { list, object, oneOf, optional, string } from './schema-dsl.js';
import { duration } from './schema-units.js';
import { cidrProblem } from '../util/cidr.js';

export const proxyProtocolSchema = object(
  {
    trusted: list(
      string({
        type: 'CIDR',
        expected: 'an address or CIDR range such as 10.0.0.0/8 or ::1',
        check: cidrProblem,
        doc: 'An address or range of a trusted proxy.',
      }),
      {
        min: 1,
        type: 'list of CIDR ranges',
        doc: 'Peers (load balancers, other proxies) allowed to tell the client address, e.g. `[10.0.0.0/8, 127.0.0.1]`. A connection from one of them must start with a PROXY protocol v1 or v2 header, else it is closed; a connection from any other address is refused (NGINX `set_real_ip_from` with `listen ... proxy_protocol`).',
      },
    ),
  },
  {
    type: 'PROXY protocol settings',
    doc: 'Accept the PROXY protocol (v1 text or v2 binary, HAProxy `accept-proxy`) on this listener: the real client address from the header is what the access log, X-Forwarded-For, Forwarded, `ip_hash` and `client_ip` hashing see. The header is read from the raw connection before anything else.',
  },
);

export const streamListenerFields = {
  protocol: oneOf(['http', 'tcp'] as const, {
    default: 'http',
    doc: '`http`: HTTP/1.1 requests, routed by `routes`. `tcp`: an L4 stream proxy (NGINX `stream`, HAProxy `mode tcp`): each connection is passed byte for byte to a server of `upstream`, using its balancer, passive health, `timeouts.connect` and failover to the next server when a connect fails; routes do not apply.',
  }),
  upstream: optional(
    string({
      type: 'upstream name',
      defaultText: 'required when `protocol` is `tcp`',
      doc: 'The upstream whose servers take the connections of a `tcp` listener. Required for `tcp`, not allowed for `http` (routes pick the upstream there).',
    }),
  ),
  idle_timeout: optional(
    duration({
      defaultText: '10m for `tcp`',
      doc: 'A `tcp` listener closes both sides of a connection after this long with no bytes in either direction (NGINX `proxy_timeout`). Not allowed for `http`.',
    }),
  ),
  proxy_protocol: optional(proxyProtocolSchema),
};
