import { writeSync, writevSync } from 'node:fs';
import type { Socket } from 'node:net';
import { handleOf } from './net-symbols.js';
import { utilModule } from './builtins.js';

/** Node's write request object (stream_wrap's WriteWrap), as much of it as is used here. */
interface WriteReq {
  handle: unknown;
  oncomplete: (status: number) => void;
  socket: DirectSocket;
  /** What a pending write refers to, kept alive until it completes (as node's own writes do). */
  keep?: unknown;
}

interface StreamWrap {
  WriteWrap: new () => WriteReq;
  streamBaseState: Int32Array;
  kLastWriteWasAsync: number;
}

interface StreamHandle {
  constructor: unknown;
  /** The socket's file descriptor (-1 where the platform has none to give). */
  readonly fd: number;
  writeBuffer(req: WriteReq, data: Uint8Array): number;
  writeLatin1String(req: WriteReq, data: string): number;
}

/** The fields of node's WritableState read here (Node 20: plain fields and prototype getters). */
interface WritableState {
  length: number;
  corked: number;
  ending: boolean;
  destroyed: boolean;
}

interface DirectSocket extends Socket {
  _writableState: WritableState;
  /** Direct writes the kernel has not taken whole yet. */
  [PENDING]?: number;
}

const PENDING = Symbol('directPending');

/** A node binding by name (process.binding), or an empty object when this Node refuses. */
function binding(name: string): Record<string, unknown> {
  try {
    return (process as unknown as { binding(name: string): Record<string, unknown> }).binding(name);
  } catch {
    return {};
  }
}

const stream = binding('stream_wrap') as Partial<StreamWrap>;
const wrap = typeof stream.WriteWrap === 'function' && stream.streamBaseState instanceof Int32Array && typeof stream.kLastWriteWasAsync === 'number' ? (stream as StreamWrap) : undefined;
/** Read in every write: module constants, not property loads from the binding object. */
const WriteWrap = wrap?.WriteWrap;
const STATE = wrap?.streamBaseState;
const LAST_WRITE_ASYNC = wrap?.kLastWriteWasAsync ?? 0;
/** The handle class of a plain TCP socket. */
const TCP = binding('tcp_wrap').TCP;

/** One request object serves every write the kernel takes whole (the usual case). */
let spare: WriteReq | undefined;

function onComplete(this: WriteReq, status: number): void {
  const s = this.socket;
  this.keep = undefined;
  s[PENDING]!--;
  if (status < 0) s.destroy(writeError(status));
  else if (s[PENDING] === 0) s.emit('drain');
}

/** An error like node's own for a failed write (code EPIPE, ECONNRESET, ...). */
function writeError(errno: number): Error {
  let code: string;
  try {
    code = utilModule().getSystemErrorName(errno);
  } catch {
    code = 'EIO';
  }
  return Object.assign(new Error(`write ${code}`), { code, errno, syscall: 'write' });
}

/**
 * Writes `data` (a string is latin1) on the socket's handle without node's Writable machinery
 * (no write request object per call, no afterWrite tick), when the stream has nothing of its own
 * queued. Returns undefined when it cannot (the caller uses socket.write), else whether the
 * kernel took all of it; when it did not, 'drain' is emitted once it has. libuv keeps writes in
 * order, so later socket.write/end calls queue behind a pending one; socket.bytesWritten and
 * writableLength do not count these bytes. Unlike socket.write it leaves the socket's inactivity
 * timeout alone (the lean engine keeps its deadlines itself, without socket timeouts).
 */
export function writeDirect(sock: Socket, data: Uint8Array | string): boolean | undefined {
  const s = sock as DirectSocket;
  const h = directHandle(s);
  if (h === undefined) return undefined;
  return dispatch(s, h, data);
}

/**
 * writeDirect for a caller that reuses its bytes as soon as this returns (a read buffer that the
 * next read lands in): `head` and `tail` (each may be null) and `chunk` go out in one system call
 * without copying, and what the kernel does not take at once is copied, so that only the copy
 * waits. A slow client then holds the bytes it has not taken yet, not the whole buffer they were
 * read into. Same contract: undefined when it cannot, else whether the kernel took all of it
 * ('drain' follows when not).
 */
export function writeCopying(sock: Socket, head: Uint8Array | null, chunk: Uint8Array, tail: Uint8Array | null = null): boolean | undefined {
  const s = sock as DirectSocket;
  const h = directHandle(s);
  if (h === undefined || h.fd < 0) return undefined;
  // No empty parts: after a writev, libuv's write loop goes on to a part it has not passed, and an
  // empty one left last cost one more system call (write(fd, NULL, 0)) per response.
  if (head !== null && head.length === 0) head = null;
  if (tail !== null && tail.length === 0) tail = null;
  const parts = head === null ? (tail === null ? null : [chunk, tail]) : tail === null ? [head, chunk] : [head, chunk, tail];
  const total = chunk.length + (head === null ? 0 : head.length) + (tail === null ? 0 : tail.length);
  let n = 0;
  // The kernel takes what it can now (libuv's own try-write, which node does not expose), unless
  // a direct write is still waiting: these bytes must queue behind it.
  if (!(s[PENDING]! > 0)) {
    try {
      n = parts === null ? writeSync(h.fd, chunk) : writevSync(h.fd, parts);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') {
        s.destroy(writeError((e as NodeJS.ErrnoException).errno ?? -1));
        return false;
      }
    }
    if (n === total) return true;
  }
  const rest = Buffer.allocUnsafe(total - n);
  let at = 0;
  for (const part of parts ?? [chunk]) {
    // Skip what the kernel took, copy the rest.
    if (n >= part.length) n -= part.length;
    else {
      rest.set(n === 0 ? part : part.subarray(n), at);
      at += part.length - n;
      n = 0;
    }
  }
  return dispatch(s, h, rest);
}

/** One write on the handle (libuv tries it at once and queues the rest), then settle it. */
function dispatch(s: DirectSocket, h: StreamHandle, data: Uint8Array | string): boolean {
  const req = spare ?? new WriteWrap!();
  spare = undefined;
  req.handle = h;
  const err = typeof data === 'string' ? h.writeLatin1String(req, data) : h.writeBuffer(req, data);
  return settle(s, req, err, data);
}

/** The socket's TCP handle when a direct write may go on it now: nothing of node's queued, not ending. */
function directHandle(s: DirectSocket): StreamHandle | undefined {
  const h = handleOf<StreamHandle>(s);
  // TCP only: libuv queues writes behind a pending one, where a TLS handle takes one at a time.
  if (WriteWrap === undefined || STATE === undefined || h === null || h.constructor !== TCP || s.connecting) return undefined;
  // The state's own fields, not the socket's writableLength/writableCorked/writableEnded/destroyed
  // getters: sockets of several shapes pass here, and each getter was a megamorphic lookup.
  const ws = s._writableState;
  if (ws.length !== 0 || ws.corked !== 0 || ws.ending || ws.destroyed) return undefined;
  return h;
}

/** After a direct write was dispatched: error, done at once (the request is reused), or pending. */
function settle(s: DirectSocket, req: WriteReq, err: number, keep: unknown): boolean {
  if (err !== 0) {
    spare = req;
    s.destroy(writeError(err));
    return false;
  }
  if (STATE![LAST_WRITE_ASYNC] === 0) {
    spare = req;
    return true;
  }
  req.socket = s;
  req.oncomplete = onComplete;
  req.keep = keep;
  s[PENDING] = (s[PENDING] ?? 0) + 1;
  return false;
}
