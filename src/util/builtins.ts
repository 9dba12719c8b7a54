import { createRequire } from 'node:module';

/**
 * Node's modules for TLS, HTTP/2, the node:http server and client, and crypto, loaded the first
 * time a feature that needs one runs (a TLS or HTTP/2 listener, an HTTPS upstream, an active health
 * check, the `node` engine, ACME, sticky cookies), not at startup: a plain HTTP/1.1 proxy on the lean
 * engine never loads them. Loading all five costs about 1 MiB of heap, a few hundred KiB of
 * OpenSSL's and nghttp2's memory and ~1 MiB of node's executable pages (measured on Node 20: RSS
 * 2.2 MiB lower at rest). Each is a plain `require` of a built-in module, cached by Node.
 */
const load = createRequire(import.meta.url);

let tls: typeof import('node:tls') | undefined;
let http: typeof import('node:http') | undefined;
let https: typeof import('node:https') | undefined;
let http2: typeof import('node:http2') | undefined;
let crypto: typeof import('node:crypto') | undefined;

export const tlsModule = (): typeof import('node:tls') => (tls ??= load('node:tls') as typeof import('node:tls'));
export const httpModule = (): typeof import('node:http') => (http ??= load('node:http') as typeof import('node:http'));
export const httpsModule = (): typeof import('node:https') => (https ??= load('node:https') as typeof import('node:https'));
export const http2Module = (): typeof import('node:http2') => (http2 ??= load('node:http2') as typeof import('node:http2'));
export const cryptoModule = (): typeof import('node:crypto') => (crypto ??= load('node:crypto') as typeof import('node:crypto'));

/** The built-in modules above, as Node names them in `process.moduleLoadList` (for tests). */
export const LAZY_BUILTINS = ['tls', 'http', 'https', 'http2', 'crypto'] as const;
