import type { ListenerConfig } from '../config/types.js';

/**
 * What a listener speaks: `http` (HTTP/1.1 on the configured engine), `https`, `https+h2` or
 * `h2c` (node's TLS/HTTP/2 stack, whatever the engine). A reload that changes it replaces the listener.
 */
export function listenerKind(lc: ListenerConfig): 'http' | 'https' | 'https+h2' | 'h2c' {
  if (lc.tls) return lc.http2 ? 'https+h2' : 'https';
  return lc.h2c ? 'h2c' : 'http';
}
