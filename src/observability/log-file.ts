import { close, mkdir, open, writeSync, writev } from 'node:fs';
import { dirname } from 'node:path';

/** A write the kernel could not take now (a full non-blocking pipe): tried again after this. */
const RETRY_MS = 100;

/**
 * Where a log's lines go: a file, opened for appending (its folder made first), or standard
 * output. Writes are asynchronous and in order, one `writev` at a time with what has
 * queued up meanwhile; a partial write continues where it stopped. `onWritten(n)` reports bytes
 * the writer no longer holds (written, or dropped after an error), in the order given, so the
 * caller can reuse their buffers.
 *
 * A file that cannot be opened or written is reported once on standard error and its lines are
 * dropped: serving never stops for the log. (Our own writer rather than a package: sonic-boom
 * loaded node:assert and the CommonJS export scanner, ~0.5 MiB of a serving process.)
 */
export class LogFile {
  readonly #name: string;
  readonly #onWritten: (n: number) => void;
  /** The descriptor; -1 while the file is opening, -2 once it could not be opened or has closed. */
  #fd: number;
  readonly #own: boolean;
  #queue: Buffer[] = [];
  #busy = false;
  #reported = false;
  #ending: Promise<void> | undefined;
  #ended: (() => void) | undefined;

  /** `dest`: '-' or 'stdout' for standard output, else a file path. */
  constructor(dest: string, onWritten: (n: number) => void = () => {}) {
    this.#name = dest;
    this.#onWritten = onWritten;
    this.#own = dest !== '-' && dest !== 'stdout';
    this.#fd = this.#own ? -1 : 1;
    if (!this.#own) return;
    mkdir(dirname(dest), { recursive: true }, () => {
      // A folder that cannot be made fails the open, which says why.
      open(dest, 'a', (err, fd) => {
        if (err !== null) {
          this.#fd = -2;
          this.#fail(err);
        } else this.#fd = fd;
        this.#next();
      });
    });
  }

  /** Queue `data` (not to be changed until onWritten has counted it). */
  write(data: Buffer): void {
    if (this.#fd === -2) {
      this.#onWritten(data.length);
      return;
    }
    this.#queue.push(data);
    if (!this.#busy && this.#fd >= 0) this.#next();
  }

  /** Write what is queued, then close the file. Resolves once closed (at once after a failure). */
  end(): Promise<void> {
    return (this.#ending ??= new Promise((resolve) => {
      this.#ended = resolve;
      if (!this.#busy && this.#fd !== -1) this.#next();
    }));
  }

  #next(): void {
    if (this.#fd === -2) return this.#drop();
    if (this.#queue.length > 0) return this.#writeQueued();
    if (this.#ended === undefined) return;
    const fd = this.#fd;
    this.#fd = -2;
    const done = this.#ended;
    this.#ended = undefined;
    if (this.#own) close(fd, () => done());
    else done();
  }

  #writeQueued(): void {
    const chunks = this.#queue;
    this.#queue = [];
    this.#busy = true;
    writev(this.#fd, chunks, (err, n) => {
      this.#busy = false;
      if (err !== null) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN' || code === 'EBUSY') {
          this.#queue = [...chunks, ...this.#queue];
          this.#busy = true;
          setTimeout(() => {
            this.#busy = false;
            this.#next();
          }, RETRY_MS).unref();
          return;
        }
        // Disk full, file gone...: this batch is lost; later ones are tried.
        this.#fail(err);
        for (const c of chunks) this.#onWritten(c.length);
        return this.#next();
      }
      this.#onWritten(n);
      let i = 0;
      while (i < chunks.length && n >= chunks[i]!.length) n -= chunks[i++]!.length;
      if (i < chunks.length) this.#queue = [chunks[i]!.subarray(n), ...chunks.slice(i + 1), ...this.#queue];
      this.#next();
    });
  }

  /** After a failed open: what was queued is let go, and an ending closes at once. */
  #drop(): void {
    for (const c of this.#queue) this.#onWritten(c.length);
    this.#queue = [];
    const done = this.#ended;
    this.#ended = undefined;
    done?.();
  }

  #fail(err: Error): void {
    if (this.#reported) return;
    this.#reported = true;
    writeAllSync(2, `headwater: log ${this.#name}: ${err.message}; its lines are dropped\n`);
  }
}

/**
 * Write `text` to descriptor `fd` at once and in full (an event line to standard error), retrying
 * a full non-blocking pipe; gives up silently after 1,000 write attempts in all (partial ones
 * count), as nowhere is left to say so.
 */
export function writeAllSync(fd: number, text: string): void {
  let buf = Buffer.from(text);
  for (let tries = 0; buf.length > 0 && tries < 1000; tries++) {
    try {
      buf = buf.subarray(writeSync(fd, buf));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EAGAIN' && code !== 'EBUSY') return;
    }
  }
}
