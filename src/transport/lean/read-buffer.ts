import type net from 'node:net';
import { pointReadsAt } from '../../util/net-symbols.js';

/**
 * Size of the read buffer. 128 KiB takes a 64 KiB response with its head in one read: paired runs
 * against 64 KiB gave +9% req/s at 64 KiB and +12% at 1 MiB (16 KiB: -30%).
 */
const READ_BUF = 128 * 1024;
/**
 * Size of the buffer a connection reads into while more than {@link READ_BUF} of its response body
 * is still to come ({@link readLarge}): a large body comes in reads of up to 512 KiB, each one write
 * to the client. Paired 4 s runs against 128 KiB reads (wrk and the origin on the other core): +10%
 * req/s at 1 MiB c50, +11-21% at 1 MiB c500. (512 KiB for every read cost 64 KiB c10 some 3-7%.)
 */
const LARGE_BUF = 512 * 1024;
/**
 * While {@link LARGE_TAKEN_MAX} or more taken buffers are out (clients slower than their
 * upstreams, on a path that keeps views: TLS, HTTP/2, node:http), a taken large buffer is replaced
 * by one of {@link READ_BUF}: a taken buffer is held whole, and past a few, large ones would hold
 * four times the memory.
 */
const LARGE_TAKEN_MAX = 4;
/**
 * Connections reading into the large buffer at once. A read of up to 512 KiB goes to the client in
 * one write, and what its kernel does not take at once is copied and held until it does: with 500
 * slow clients, unbounded, that held up to 78 MiB of RSS at 1 MiB c500; past this many, large
 * bodies are read 128 KiB at a time as before.
 */
const LARGE_READERS_MAX = 32;

/**
 * The read buffer of plain upstream connections: one for all of them. A read is handled (its body
 * bytes written on to the client) before the next read lands, so one buffer serves every
 * connection and stays in the CPU cache. A buffer per connection (50 x 128 KiB at c=50) had the
 * kernel's copy into it miss the cache: at 64 KiB responses, sharing one gave 9-20% more req/s
 * and 10-20% less CPU per request.
 *
 * A handler that keeps a view of the bytes (it asked to pause: the client is slow) takes the
 * buffer with it: {@link takeShared} moves the reads of every connection using it to another, and
 * {@link giveBack} returns the taken one once the view is gone ({@link leave}: once the
 * connection no longer knows when it will be).
 */
let shared: Buffer = Buffer.allocUnsafe(READ_BUF);
/** The buffer of connections in the middle of a large body; made on first use. */
let large: Buffer | undefined;
/** Buffers given back, by size, for the next take. */
const spare: Buffer[] = [];
const spareLarge: Buffer[] = [];
const SPARE_MAX = 4;
/** Taken buffers not yet given back or left. */
let taken = 0;
/** Sockets reading into `shared`, and into `large`. */
const readers = new Set<net.Socket>();
const largeReaders = new Set<net.Socket>();

/**
 * The buffer the next read of any plain connection lands in: given to each socket at connect as
 * its `onread` buffer (a buffer, not a generator: node calls a generator after every read and
 * re-reads the buffer it returns); {@link takeShared} re-points them all when it changes.
 */
export function sharedReadBuffer(): Buffer {
  return shared;
}

export function addReader(socket: net.Socket): void {
  readers.add(socket);
}

export function removeReader(socket: net.Socket): void {
  readers.delete(socket);
  largeReaders.delete(socket);
}

/**
 * `socket` has more than a small buffer's worth of body to come: its reads go to the large buffer
 * until {@link readSmall}. False when its reads cannot be re-pointed, or {@link LARGE_READERS_MAX}
 * others read large bodies already (it stays as it was).
 */
export function readLarge(socket: net.Socket): boolean {
  if (largeReaders.size >= LARGE_READERS_MAX) return false;
  large ??= Buffer.allocUnsafe(LARGE_BUF);
  if (!pointReadsAt(socket, large)) return false;
  readers.delete(socket);
  largeReaders.add(socket);
  return true;
}

/** After {@link readLarge}: back to the shared buffer (the large body is done). */
export function readSmall(socket: net.Socket): void {
  largeReaders.delete(socket);
  readers.add(socket);
  pointReadsAt(socket, shared);
}

/** Each socket's next read goes to the buffer it was last pointed at: re-point those of `set`. */
function point(set: Set<net.Socket>, buf: Buffer): void {
  for (const s of set) pointReadsAt(s, buf);
}

/**
 * A handler keeps its view of `buf`, the buffer a read just landed in: when that is the shared
 * or the large one, later reads must not overwrite it, and the sockets reading into it are moved
 * to another. Returns true when `buf` is now the caller's (to {@link giveBack} once the view is
 * gone, or {@link leave}).
 */
export function takeShared(buf: Buffer): boolean {
  if (buf === shared) {
    taken++;
    shared = spare.pop() ?? Buffer.allocUnsafe(READ_BUF);
    point(readers, shared);
    return true;
  }
  if (buf !== large) return false;
  taken++;
  large = spareLarge.pop() ?? Buffer.allocUnsafe(taken > LARGE_TAKEN_MAX ? READ_BUF : LARGE_BUF);
  point(largeReaders, large);
  return true;
}

/** A taken buffer no one refers to any more. */
export function giveBack(buf: Buffer): void {
  taken--;
  if (buf.length !== LARGE_BUF) {
    if (spare.length < SPARE_MAX) spare.push(buf);
  } else if (large!.length !== LARGE_BUF) {
    // Large bodies were read into a small buffer while many were out: back to a large one.
    large = buf;
    point(largeReaders, buf);
  } else if (spareLarge.length < SPARE_MAX) spareLarge.push(buf);
}

/** A taken buffer the connection lets go of while its handler may still refer to it (left to the garbage collector). */
export function leave(): void {
  taken--;
}

/** For tests: the sizes of the shared and the large buffer, and the taken ones past which a large one is replaced by a small one. */
export const readBufferSizes = { small: READ_BUF, large: LARGE_BUF, largeTakenMax: LARGE_TAKEN_MAX, largeReadersMax: LARGE_READERS_MAX } as const;

/**
 * One plain upstream connection's use of the shared read buffers: which one its reads land in,
 * the one a read being handled landed in, and the one its handler took (kept views of, paused).
 */
export class ReadLease {
  readonly #socket: net.Socket;
  /** The buffer of the read being handled, while it is: body bytes handed on are views into it. */
  #reading: Buffer | undefined = undefined;
  /** The buffer the handler kept a view of (paused), until it resumes or the response ends. */
  #taken: Buffer | undefined = undefined;
  /** Reading into the large buffer: more of a large body was to come. */
  #large = false;

  /** `socket` was made with {@link sharedReadBuffer} as its `onread` buffer. */
  constructor(socket: net.Socket) {
    this.#socket = socket;
    addReader(socket);
  }

  /** A read landed in `buf` and is being handled (until {@link readDone}). */
  reading(buf: Buffer): void {
    this.#reading = buf;
  }

  readDone(): void {
    this.#reading = undefined;
  }

  /** More of the body is to come than a small buffer holds: large reads until {@link responseDone}. */
  moreToCome(): void {
    if (!this.#large) this.#large = readLarge(this.#socket);
  }

  /** The handler paused in the middle of a read and keeps views of its bytes: that buffer is its own now. */
  keep(): void {
    if (this.#reading !== undefined && this.#taken === undefined && takeShared(this.#reading)) this.#taken = this.#reading;
  }

  /** The handler resumed: it is done with the bytes it was given. */
  resumed(): void {
    if (this.#taken !== undefined) giveBack(this.#taken);
    this.#taken = undefined;
  }

  /**
   * The response ended: back to small reads. A taken buffer is left to the handler, which may
   * still hold views of it (its last bytes being written), not given back.
   */
  responseDone(): void {
    if (this.#large) {
      this.#large = false;
      readSmall(this.#socket);
    }
    this.#leave();
  }

  /** The connection is gone. */
  close(): void {
    this.#leave();
    removeReader(this.#socket);
  }

  #leave(): void {
    if (this.#taken !== undefined) leave();
    this.#taken = undefined;
  }
}
