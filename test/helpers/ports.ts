import { createSocket } from 'node:dgram';
import { readFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';

/**
 * A loopback port free right now (bound, then released), to bind a server to next. With `udp`,
 * free for UDP too (DNS servers listen on both). Not a "dead" address: a test running in parallel
 * may take it; use deadAddress() (helpers/origin.ts) for a server that refuses connections.
 */
export async function freePort(opts: { udp?: boolean } = {}): Promise<number> {
  for (let i = 0; ; i++) {
    const port = await bound(0);
    if (port === undefined) throw new Error('cannot bind a loopback port');
    if (!opts.udp || (await udpFree(port))) return port;
    if (i > 20) throw new Error('no port free for both TCP and UDP');
  }
}

/**
 * A free loopback port below the kernel's ephemeral range (also free for UDP with `udp`), for a
 * server that is told its port before it binds (pebble, and the gateway port it validates on). A
 * freePort() port can be taken in between by an outgoing connection of a test running in
 * parallel, as the kernel picks their local ports from the ephemeral range; these it never gives.
 */
export async function fixedPort(opts: { udp?: boolean } = {}): Promise<number> {
  if (fixedSpan === undefined) fixedSpan = Math.max((await ephemeralLow()) - FIXED_BASE, 1000);
  const span = fixedSpan;
  if (nextFixed < 0) nextFixed = (process.pid * 37) % span;
  for (let i = 0; i < 200; i++) {
    const port = FIXED_BASE + (nextFixed++ % span);
    if ((await bound(port)) !== undefined && (!opts.udp || (await udpFree(port)))) return port;
  }
  throw new Error('no fixed port free');
}

const FIXED_BASE = 10000;
/** How many ports fixedPort() picks from (FIXED_BASE up to the ephemeral range), read once. */
let fixedSpan: number | undefined;
/** The next port fixedPort() tries, as an offset in that span (starts where the pid says). */
let nextFixed = -1;

/** The first port of the kernel's ephemeral range (Linux's default where it cannot be read). */
async function ephemeralLow(): Promise<number> {
  try {
    return Number((await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'latin1')).trim().split(/\s+/)[0]) || 32768;
  } catch {
    return 32768;
  }
}

/** Binds `port` (0: any) on 127.0.0.1 and releases it: the port, or undefined when it is taken. */
async function bound(port: number): Promise<number | undefined> {
  const srv = createServer();
  const ok = await new Promise<boolean>((r) => {
    srv.once('error', () => r(false));
    srv.listen(port, '127.0.0.1', () => r(true));
  });
  if (!ok) return undefined;
  const got = (srv.address() as AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return got;
}

async function udpFree(port: number): Promise<boolean> {
  const udp = createSocket('udp4');
  const ok = await new Promise<boolean>((r) => {
    udp.once('error', () => r(false));
    udp.bind(port, '127.0.0.1', () => r(true));
  });
  if (ok) await new Promise<void>((r) => udp.close(() => r()));
  return ok;
}
