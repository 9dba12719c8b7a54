import net from 'node:net';

/**
 * net keeps some socket state under symbols: their identities, read off one probe socket made
 * with an `onread` setting and an inactivity timeout. Undefined when this Node's net does not have
 * them (callers fall back to the public API).
 *
 * - kBuffer, kBufferCb, kBufferGen: the `onread` mode (reads land in a buffer the socket was
 *   given, and go to a callback instead of 'data' events).
 * - kTimeout: the Timeout object setTimeout armed.
 */
const probe = new net.Socket({ onread: { buffer: Buffer.alloc(1), callback: () => true } } as net.SocketConstructorOpts);
probe.setTimeout(1000);
const symbols = new Map(Object.getOwnPropertySymbols(probe).map((s) => [s.description, s]));
export const kBuffer = symbols.get('kBuffer');
export const kBufferCb = symbols.get('kBufferCb');
export const kBufferGen = symbols.get('kBufferGen');
const kTimeout = symbols.get('timeout');
probe.setTimeout(0);
probe.destroy();

interface Handle {
  useUserBuffer?(buf: Uint8Array): void;
}
export type OnreadFields = Record<symbol, unknown> & { _handle?: Handle | null };

/**
 * Point an `onread` socket's next read at `buf` (node otherwise takes the buffer its generator
 * returned after the last read). False when the socket or this Node cannot.
 */
export function pointReadsAt(socket: net.Socket, buf: Buffer): boolean {
  const s = socket as unknown as OnreadFields;
  const handle = s._handle;
  if (kBuffer === undefined || !handle || typeof handle.useUserBuffer !== 'function' || !s[kBuffer]) return false;
  s[kBuffer] = buf;
  handle.useUserBuffer(buf);
  return true;
}

/**
 * The socket's inactivity timer (what setTimeout armed), to refresh after a write that bypassed
 * socket.write (util/direct-write.ts), without net's `_unrefTimer` (a loop of megamorphic symbol
 * lookups per write). Undefined when there is none: read it again after each setTimeout (a cleared
 * one stays there, and refreshing it does nothing, as in net).
 */
export function socketTimer(sock: net.Socket): { refresh(): unknown } | undefined {
  if (kTimeout === undefined) return undefined;
  const t = (sock as unknown as Record<symbol, { refresh?: () => unknown } | null | undefined>)[kTimeout];
  return t != null && typeof t.refresh === 'function' ? (t as { refresh(): unknown }) : undefined;
}
