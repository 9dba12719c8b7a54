import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import type { UpstreamConfig } from '../config/types.js';

/**
 * tls.connect options for talking to one server of an upstream, or undefined when the upstream is
 * cleartext. Used by every transport (lean, undici, HTTP/2) and meant for health probes too, so
 * they all verify the same way. Certificate verification is on unless `verify: false`; the name
 * checked (and sent as SNI) is `server_name`, else the server's host when it is a name; for an IP
 * no SNI is sent and the certificate must carry that IP. Files are read at each call (pool creation).
 */
export function tlsConnectOptions(up: Pick<UpstreamConfig, 'tls' | 'protocol'>, host: string): ConnectionOptions | undefined {
  const t = up.tls;
  if (!t || !t.enabled) return undefined;
  const o: ConnectionOptions = { rejectUnauthorized: t.verify, ALPNProtocols: up.protocol === 'h2' ? ['h2'] : ['http/1.1'] };
  if (t.ca !== undefined) o.ca = readFileSync(t.ca, 'utf8');
  if (t.cert !== undefined && t.key !== undefined) {
    o.cert = readFileSync(t.cert, 'utf8');
    o.key = readFileSync(t.key, 'utf8');
  }
  const name = t.server_name ?? (isIP(host) ? undefined : host);
  if (name !== undefined) o.servername = name;
  return o;
}

/** Error codes of a failed TLS handshake or certificate check (node's and OpenSSL's). */
export function isTlsError(code: string): boolean {
  return /CERT|^ERR_SSL_|^ERR_TLS_|^UNABLE_TO_|^ERR_OSSL_/.test(code);
}
