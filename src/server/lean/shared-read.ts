import type net from 'node:net';
import { ioBegin, ioEnd } from '../../util/io-clock.js';
import { handleOf, kBuffer, kBufferCb, kBufferGen, type OnreadFields } from '../../util/net-symbols.js';

/**
 * Reads of client sockets (plain, or TLS: the TLS layer hands over decrypted bytes the same way)
 * land in one process-wide buffer instead of a new buffer per read, and skip the Readable stream
 * machinery ('data' events): net's `onread` mode, which net.connect offers as an option and
 * accepted sockets get here through the same fields.
 * A profile put the per-read buffer and the stream push at ~2 µs of a 13-byte proxied request.
 *
 * The callback runs synchronously for each read and must copy whatever it keeps: the next read,
 * on any connection, overwrites the buffer.
 */
export type SharedReader = (buf: Buffer, n: number) => void;

const SHARED = Buffer.allocUnsafe(64 * 1024);

/** Where a socket's reads go: the reader, or (null, after `releaseShared`) the socket's own stream. */
const kReader = Symbol('sharedReader');

/**
 * Route the socket's reads to `reader` through the shared buffer. False when this Node's net
 * does not offer it (then use 'data' events).
 */
export function readShared(socket: net.Socket, reader: SharedReader): boolean {
  const s = socket as unknown as OnreadFields;
  const handle = handleOf(socket);
  if (kBuffer === undefined || kBufferCb === undefined || kBufferGen === undefined) return false;
  if (!handle || typeof handle.useUserBuffer !== 'function' || s[kBuffer]) return false;
  // Bytes already in the stream's buffer (read before this call) would never be delivered.
  if (socket.readableLength > 0) return false;
  s[kReader] = reader;
  s[kBuffer] = SHARED;
  s[kBufferGen] = null;
  s[kBufferCb] = (n: number, buf: Buffer): boolean => {
    const r = s[kReader] as SharedReader | null;
    if (r !== null) {
      ioBegin();
      try {
        r(buf, n);
      } finally {
        ioEnd();
      }
      return true;
    }
    // Released: hand copies to the stream, as a socket without onread would ('data', pipe).
    return socket.push(Buffer.from(buf.subarray(0, n)));
  };
  handle.useUserBuffer(SHARED);
  return true;
}

/**
 * The socket changes hands (an HTTP upgrade): from now on its reads go to its stream ('data'
 * events, pipe) as copies, with the stream's backpressure.
 */
export function releaseShared(socket: net.Socket): void {
  const s = socket as unknown as OnreadFields;
  if (s[kReader] !== undefined) s[kReader] = null;
}
