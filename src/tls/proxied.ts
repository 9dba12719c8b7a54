import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';

const ENDS = ['remoteAddress', 'remotePort', 'localAddress', 'localPort'] as const;

/**
 * A TLS socket made over a connection whose PROXY protocol header was read (server/proxy-gate.ts
 * sets the proxied ends on the raw socket) reports those ends too. Node keeps the raw socket as
 * the TLS socket's `_parent`; without a header nothing changes.
 */
export function inheritProxiedEnds(tlsSocket: TLSSocket): void {
  const raw = (tlsSocket as unknown as { _parent?: Socket })._parent;
  if (!raw) return;
  for (const k of ENDS) {
    const d = Object.getOwnPropertyDescriptor(raw, k);
    if (d) Object.defineProperty(tlsSocket, k, d);
  }
}

