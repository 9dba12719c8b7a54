import net from 'node:net';
import type { AddressInfo } from 'node:net';

/** A raw TCP server on 127.0.0.1:0 for stream and PROXY protocol tests. */
export interface TcpOrigin {
  name: string;
  port: number;
  address: string;
  /** Connections accepted so far. */
  accepted: number;
  /** The first bytes of each connection (up to the first read), in order. */
  firstBytes: Buffer[];
  close(): Promise<void>;
}

/**
 * `onConn` drives each connection; the default echoes every read prefixed with `name:` and
 * keeps half-close (answers `name:bye` after the client's FIN, then ends).
 */
export function startTcpOrigin(name: string, onConn?: (s: net.Socket, o: TcpOrigin) => void): Promise<TcpOrigin> {
  const sockets = new Set<net.Socket>();
  const origin: TcpOrigin = { name, port: 0, address: '', accepted: 0, firstBytes: [], close: async () => {} };
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    origin.accepted++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    s.once('data', (c: Buffer) => origin.firstBytes.push(c));
    if (onConn) return onConn(s, origin);
    s.on('data', (c: Buffer) => s.write(`${name}:${c.toString('latin1')}`));
    s.on('end', () => s.end(`${name}:bye`));
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      origin.port = (server.address() as AddressInfo).port;
      origin.address = `127.0.0.1:${origin.port}`;
      origin.close = () =>
        new Promise<void>((r) => {
          for (const s of sockets) s.destroy();
          server.close(() => r());
        });
      resolve(origin);
    });
  });
}

/** Connect, send `data` (optionally half-close), and collect everything until the server closes. */
export function talk(port: number, data: string | Buffer, opts: { end?: boolean; ms?: number } = {}): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    const chunks: Buffer[] = [];
    const t = setTimeout(() => s.destroy(), opts.ms ?? 2000);
    s.on('data', (c: Buffer) => chunks.push(c));
    // A reset (the gateway closing with unread bytes) ends the conversation like a close.
    s.on('error', () => {});
    s.on('end', () => s.end());
    s.on('close', () => {
      clearTimeout(t);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
    s.write(data);
    if (opts.end) s.end();
  });
}
