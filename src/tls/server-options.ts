import type tls from 'node:tls';
import type { ListenerConfig, ListenerTlsConfig } from '../config/types.js';
import { CertStore, type ContextSettings } from './cert-store.js';

/** The secure-context settings of a listener's `tls` block. */
export function contextSettings(lc: ListenerConfig, t: ListenerTlsConfig): ContextSettings {
  return { minVersion: t.min_version, ciphers: t.ciphers, alpn: t.alpn ?? (lc.http2 ? ['h2', 'http/1.1'] : ['http/1.1']) };
}

/** A certificate store for a TLS listener, loaded from its config. */
export function certStoreFor(lc: ListenerConfig, t: ListenerTlsConfig, pollMs?: number): CertStore {
  const store = new CertStore(contextSettings(lc, t), pollMs === undefined ? {} : { pollMs });
  store.configure(contextSettings(lc, t), t.certificates);
  return store;
}

/** tls.Server options: certificates by SNI from the store, the default one for clients without SNI. */
export function serverTlsOptions(store: CertStore, s: ContextSettings): tls.TlsOptions {
  const pair = store.defaultPair();
  return { ...pair, minVersion: s.minVersion, ciphers: s.ciphers, ALPNProtocols: s.alpn, SNICallback: store.sniCallback };
}
