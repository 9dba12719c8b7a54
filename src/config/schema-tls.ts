/** Schema of the TLS and HTTP/2 settings: `listeners[].tls`, `listeners[].http2_limits`, `upstreams.<name>.tls`. */
import { bool, int, list, object, oneOf, optional, string } from './schema-dsl.js';
import { duration, size } from './schema-units.js';

const file = (doc: string) => string({ type: 'file path', doc });

/** Let's Encrypt's production directory, the default CA. */
export const LETS_ENCRYPT = 'https://acme-v02.api.letsencrypt.org/directory';

export const acmeSchema = object(
  {
    email: string({ type: 'email address', doc: 'Contact for the ACME account (expiry and policy notices from the CA).' }),
    directory: string({
      type: 'URL',
      default: LETS_ENCRYPT,
      doc: 'The CA\'s ACME directory URL (RFC 8555). Let\'s Encrypt staging: `https://acme-staging-v02.api.letsencrypt.org/directory`.',
    }),
    domains: list(string({ type: 'host name', doc: 'A DNS name (no wildcards: http-01 cannot prove them).' }), {
      min: 1,
      type: 'list of host names',
      doc: 'Names on the certificate; the first is its subject. Each must resolve to this gateway, and the CA must reach it on port 80 over plain HTTP: every HTTP listener answers `/.well-known/acme-challenge/` while an order is pending.',
    }),
    storage: file('Folder for the ACME account key and the certificates (created 0700; keys 0600), so restarts reuse them instead of ordering again. Relative paths are relative to the config file.'),
    ca: optional(file('PEM file of an extra CA trusted for the directory\'s HTTPS, besides the system roots (a private ACME CA such as step-ca or pebble).')),
    renew_before: duration({ default: '30d', doc: 'Renew when the certificate expires within this time (Let\'s Encrypt certificates last 90 days).' }),
  },
  {
    type: 'ACME settings',
    doc: 'Obtain and renew a certificate automatically from an ACME CA (Let\'s Encrypt by default) with http-01 challenges. It is served by SNI for its domains (ahead of `certificates` with the same names) and as the default when there are no `certificates`. Until the first one is issued, handshakes for its names fail (or get the default certificate); an order that fails is logged and retried, 1 minute later at first, doubling up to 12 hours.',
  },
);

export const listenerTlsSchema = object(
  {
    certificates: optional(list(
      object(
        {
          cert: file('PEM certificate (chain) file: the leaf first, then intermediates. Relative paths are relative to the config file.'),
          key: file('PEM private key of `cert`. A key that does not belong to the certificate is a config error.'),
        },
        { type: 'certificate', doc: 'One certificate and its key.' },
      ),
      {
        min: 1,
        type: 'list of certificates',
        doc: 'Certificates to serve, chosen by the name the client asks for (SNI) among each certificate\'s subjectAltName DNS names (the CN when it has none; `*.example.com` covers one label). No SNI or no match gets the first. The files are re-read on reload, and a file that changes on disk is picked up without one (a bad new file keeps the old certificate and logs an error). Required unless `acme` is set.',
      },
    )),
    acme: optional(acmeSchema),
    min_version: oneOf(['TLSv1.2', 'TLSv1.3'] as const, {
      default: 'TLSv1.2',
      doc: 'Oldest TLS version accepted. TLSv1.3 only is safe when every client is modern.',
    }),
    ciphers: optional(
      string({
        type: 'OpenSSL cipher list',
        doc: 'TLS 1.2 cipher suites as an OpenSSL cipher list (e.g. `ECDHE+AESGCM:ECDHE+CHACHA20`); Node\'s secure default when absent.',
      }),
    ),
    alpn: optional(
      list(oneOf(['h2', 'http/1.1'] as const, { doc: 'A protocol id.' }), {
        min: 1,
        type: 'list of protocol ids',
        defaultText: '`[h2, http/1.1]` with `http2: true`, else `[http/1.1]`',
        doc: 'ALPN protocols offered, in order of preference (`h2` needs `http2: true`).',
      }),
    ),
  },
  { type: 'TLS settings', doc: 'Serve HTTPS on this listener (TLS termination).' },
);

export const http2LimitsSchema = object(
  {
    max_concurrent_streams: int({
      min: 1,
      default: 128,
      doc: 'Streams one HTTP/2 connection may have open at once (NGINX `http2_max_concurrent_streams`); more are refused with RST_STREAM REFUSED_STREAM.',
    }),
    max_header_list_size: size({
      default: '32KiB',
      doc: 'Largest uncompressed header list accepted on a request; a larger one resets that stream.',
    }),
    max_resets_per_second: int({
      min: 1,
      default: 200,
      doc: 'Streams a client may cancel (RST_STREAM) per second before its connection is closed with GOAWAY ENHANCE_YOUR_CALM: protection against the rapid reset attack (CVE-2023-44487).',
    }),
  },
  { default: {}, doc: 'Abuse limits of HTTP/2 connections from clients; only on `http2` and `h2c` listeners.' },
);

export const upstreamTlsSchema = object(
  {
    enabled: bool({ default: true, doc: 'Talk TLS (HTTPS) to the servers of this upstream.' }),
    verify: bool({
      default: true,
      doc: 'Verify the server\'s certificate chain and name (on by default, unlike NGINX). Turn off only for testing: anyone on the path can then impersonate the server.',
    }),
    ca: optional(file('PEM file of the certificate authorities to trust instead of the system ones (a private CA).')),
    server_name: optional(
      string({
        type: 'host name',
        doc: 'Name sent as SNI and expected in the server\'s certificate. Default: the server\'s host when it is a name; for an IP address no SNI is sent and the certificate must carry that IP.',
      }),
    ),
    cert: optional(file('Client certificate (PEM) for mutual TLS; needs `key`.')),
    key: optional(file('Private key (PEM) of the client certificate `cert`.')),
  },
  { type: 'upstream TLS settings', doc: 'HTTPS to the servers. Health probes use the same settings.' },
);

export const upstreamProtocolSchema = oneOf(['http1', 'h2', 'h2c'] as const, {
  default: 'http1',
  doc: 'Protocol to the servers. `http1`: HTTP/1.1 (with `tls`: HTTPS). `h2`: HTTP/2 over TLS (needs `tls`), one multiplexed connection per server. `h2c`: HTTP/2 over cleartext (prior knowledge), e.g. gRPC servers. gRPC needs `h2` or `h2c`.',
});

export const listenerHttp2 = bool({
  default: false,
  doc: 'Offer HTTP/2 on this TLS listener (ALPN `h2`), falling back to HTTP/1.1 for other clients. Needs `tls`.',
});

export const listenerH2c = bool({
  default: false,
  doc: 'Serve HTTP/2 over cleartext with prior knowledge (h2c) on this listener instead of HTTP/1.1, e.g. for gRPC clients inside a trusted network. Not with `tls`.',
});
