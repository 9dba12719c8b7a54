import { createRequire } from 'node:module';

/**
 * Node's modules for TLS, HTTP/2, the node:http server and client, crypto and DNS, loaded the
 * first time a feature that needs one runs (a TLS or HTTP/2 listener, an HTTPS or HTTP/2 upstream,
 * a health check over HTTP, HTTP/2 or TLS, the `node` engine, ACME, sticky cookies, DNS
 * discovery), not at startup: a plain HTTP/1.1 proxy on the lean engine never loads them. Loading
 * the first five costs about 1 MiB of heap, a few hundred KiB of OpenSSL's and nghttp2's memory
 * and ~1 MiB of node's executable pages (measured on Node 20: RSS 2.2 MiB lower at rest). Each is
 * a plain `require` of a built-in module.
 */
const load = createRequire(import.meta.url);

/** A getter that requires built-in module `name` at its first call and returns it from then on. */
function onFirstUse<T>(name: string): () => T {
  let mod: T | undefined;
  return () => (mod ??= load(name) as T);
}

export const tlsModule = onFirstUse<typeof import('node:tls')>('node:tls');
export const httpModule = onFirstUse<typeof import('node:http')>('node:http');
export const httpsModule = onFirstUse<typeof import('node:https')>('node:https');
export const http2Module = onFirstUse<typeof import('node:http2')>('node:http2');
export const cryptoModule = onFirstUse<typeof import('node:crypto')>('node:crypto');
/**
 * node:util, for a failed write's error code. Required, not imported: its ES module facade reads
 * every export, which loads parseArgs's and MIMEType's modules (~30 KB of source) for nothing.
 */
export const utilModule = onFirstUse<typeof import('node:util')>('node:util');
/** DNS discovery's resolver (servers with `resolve: true`). */
export const dnsPromisesModule = onFirstUse<typeof import('node:dns/promises')>('node:dns/promises');

/**
 * The feature modules above, as Node names them in `process.moduleLoadList` (for tests); node:util
 * is left out, as node itself may load it.
 */
export const LAZY_BUILTINS = ['tls', 'http', 'https', 'http2', 'crypto', 'dns/promises'] as const;
