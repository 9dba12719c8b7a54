import net from 'node:net';

/**
 * net keeps some socket state under symbols: their identities, read off one probe socket made
 * with an `onread` setting. Undefined when this Node's net does not have them (callers fall back
 * to the public API).
 *
 * - kBuffer, kBufferCb, kBufferGen: the `onread` mode (reads land in a buffer the socket was
 *   given, and go to a callback instead of 'data' events).
 */
const probe = new net.Socket({ onread: { buffer: Buffer.alloc(1), callback: () => true } } as net.SocketConstructorOpts);
const symbols = new Map(Object.getOwnPropertySymbols(probe).map((s) => [s.description, s]));
export const kBuffer = symbols.get('kBuffer');
export const kBufferCb = symbols.get('kBufferCb');
export const kBufferGen = symbols.get('kBufferGen');
/** Where net keeps a socket's handle (`_handle` is a prototype getter of it, shared by every socket in the process). */
export const kHandle = symbols.get('kHandle');
probe.destroy();

interface Handle {
  useUserBuffer?(buf: Uint8Array): void;
}
export type OnreadFields = Record<symbol, unknown> & { _handle?: Handle | null };

/**
 * A socket's handle (null once closed), read from net's own field: the `_handle` getter's one
 * keyed load serves every socket of the process and went megamorphic (~190 instructions a call).
 */
export function handleOf<H = Handle>(socket: net.Socket): H | null {
  const s = socket as unknown as OnreadFields;
  return (kHandle === undefined ? s._handle : s[kHandle]) as H | null;
}

/**
 * Point an `onread` socket's next reads at `buf` (node otherwise keeps reading into the buffer it
 * was given). False when the socket or this Node cannot.
 */
export function pointReadsAt(socket: net.Socket, buf: Buffer): boolean {
  const s = socket as unknown as OnreadFields;
  const handle = handleOf(socket);
  if (kBuffer === undefined || !handle || typeof handle.useUserBuffer !== 'function' || !s[kBuffer]) return false;
  s[kBuffer] = buf;
  handle.useUserBuffer(buf);
  return true;
}
