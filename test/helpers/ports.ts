import { createSocket } from 'node:dgram';
import { createServer, type AddressInfo } from 'node:net';

/**
 * A loopback port free right now (bound, then released), to bind a server to next. With `udp`,
 * free for UDP too (DNS servers listen on both). Not a "dead" address: a test running in parallel
 * may take it; use deadAddress() (helpers/origin.ts) for a server that refuses connections.
 */
export async function freePort(opts: { udp?: boolean } = {}): Promise<number> {
  for (let i = 0; ; i++) {
    const tcp = createServer();
    await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', () => r()));
    const port = (tcp.address() as AddressInfo).port;
    let ok = true;
    if (opts.udp) {
      const udp = createSocket('udp4');
      ok = await new Promise<boolean>((r) => {
        udp.once('error', () => r(false));
        udp.bind(port, '127.0.0.1', () => r(true));
      });
      if (ok) await new Promise<void>((r) => udp.close(() => r()));
    }
    await new Promise<void>((r) => tcp.close(() => r()));
    if (ok) return port;
    if (i > 20) throw new Error('no port free for both TCP and UDP');
  }
}
