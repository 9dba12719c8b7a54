import type { Server, Socket } from 'node:net';
import type { ListenerConfig } from '../config/types.js';
import { CidrSet } from '../util/cidr.js';
import { channels } from '../observability/events.js';
import { parseProxyHeader, type ProxyHeader } from './proxy-protocol.js';

/** How long a trusted peer has to send its PROXY header (NGINX proxy_protocol_timeout is 30s). */
const HEADER_TIMEOUT_MS = 10_000;

/**
 * Listener-side PROXY protocol: reads the header from the raw socket before anything else (so it
 * can sit in front of HTTP, TLS or a TCP stream). Peers in `trusted` must send a valid v1 or v2
 * header; every other peer is refused, as a header from them could not be believed and a
 * connection without one would carry the wrong client address. Refusals are logged with a reason.
 */
export class ProxyGate {
  readonly #trusted: CidrSet;
  readonly #listener: string;
  /** Connections still waiting for their header. */
  readonly #pending = new Set<Socket>();

  constructor(listener: string, trusted: readonly string[]) {
    this.#listener = listener;
    this.#trusted = new CidrSet(trusted);
  }

  /**
   * Read the header, then call `next` with the socket: its remoteAddress/remotePort now tell the
   * client the header named, and the bytes after the header are unshifted for the next reader.
   * The socket is paused when `next` runs (call resume() or attach a reader that does).
   */
  accept(socket: Socket, next: (socket: Socket) => void): void {
    const peer = socket.remoteAddress;
    if (!this.#trusted.has(peer)) return this.#refuse(socket, `peer ${peer} is not in proxy_protocol.trusted`);
    let buf: Buffer = Buffer.alloc(0);
    const timer = setTimeout(() => this.#refuse(socket, 'no PROXY protocol header in time'), HEADER_TIMEOUT_MS);
    this.#pending.add(socket);
    const cleanup = () => {
      this.#pending.delete(socket);
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', cleanup);
    };
    const onData = (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      const r = parseProxyHeader(buf);
      if (r.kind === 'incomplete') return;
      cleanup();
      if (r.kind === 'error') return this.#refuse(socket, r.reason);
      socket.pause();
      applyHeader(socket, r.header);
      if (buf.length > r.length) socket.unshift(buf.subarray(r.length));
      next(socket);
    };
    socket.on('data', onData);
    socket.on('close', cleanup);
    socket.on('error', noop);
    socket.resume(); // a listener with pauseOnConnect starts it paused
  }

  /** Shutdown: drop connections that have not sent their header yet. */
  closePending(): void {
    for (const s of this.#pending) s.destroy();
  }

  /** The gate a listener's config asks for, if any. */
  static for(lc: ListenerConfig): ProxyGate | undefined {
    return lc.proxy_protocol ? new ProxyGate(lc.name, lc.proxy_protocol.trusted) : undefined;
  }

  #refuse(socket: Socket, reason: string): void {
    channels.lifecycle.publish({ level: 'warn', msg: 'PROXY protocol: connection refused', listener: this.#listener, peer: socket.remoteAddress, reason });
    socket.destroy();
  }
}

/**
 * Make the socket report the proxied client (and the address it connected to) wherever the
 * gateway reads `socket.remoteAddress`: access log, X-Forwarded-For, Forwarded, ip_hash, hashing.
 */
function applyHeader(socket: Socket, h: ProxyHeader): void {
  if (h.local || !h.source || !h.destination) return;
  Object.defineProperty(socket, 'remoteAddress', { value: h.source.address, configurable: true });
  Object.defineProperty(socket, 'remotePort', { value: h.source.port, configurable: true });
  Object.defineProperty(socket, 'localAddress', { value: h.destination.address, configurable: true });
  Object.defineProperty(socket, 'localPort', { value: h.destination.port, configurable: true });
}

function noop(): void {}

/**
 * Put the gate in front of a node:http server's own connection handling: the server's connection
 * listener (installed by its constructor) runs only once the header is read, with the socket that
 * now reports the proxied client. `gate()` is asked per connection, so a reload can change it.
 */
export function gateServer(server: Server, gate: () => ProxyGate | undefined, opts: { native?: boolean } = {}): void {
  const [inner] = server.listeners('connection') as Array<(s: Socket) => void>;
  if (!inner) throw new Error('the server has no connection handler to gate');
  server.removeListener('connection', inner);
  server.prependListener('connection', (socket: Socket) => {
    const g = gate();
    if (!g) return inner.call(server, socket);
    g.accept(socket, (s) => {
      inner.call(server, s);
      // `native`: TLS and HTTP/2 take the buffered bytes themselves and read the socket natively; a resume would steal them.
      if (!opts.native) s.resume();
    });
  });
}
