import type { Server, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { ProxyGate } from '../server/proxy-gate.js';

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

/**
 * Put a PROXY protocol gate in front of a server whose connection handler hands the socket to
 * native code (TLS, HTTP/2): like server/proxy-gate.ts gateServer, except that the socket is not
 * resumed afterwards; node's TLS and HTTP/2 layers take the bytes buffered after the header
 * themselves and then read the socket on their own (a resume would steal them).
 */
export function gateNativeServer(server: Server, gate: () => ProxyGate | undefined): void {
  const [inner] = server.listeners('connection') as Array<(s: Socket) => void>;
  if (!inner) throw new Error('the server has no connection handler to gate');
  server.removeListener('connection', inner);
  server.prependListener('connection', (socket: Socket) => {
    const g = gate();
    if (!g) return inner.call(server, socket);
    g.accept(socket, (s) => inner.call(server, s));
  });
}
