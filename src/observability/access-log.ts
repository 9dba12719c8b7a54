import { LogFile, writeAllSync } from './log-file.js';
import { accessLine, isoNow } from './access-line.js';
import { compileFormat } from './log-format.js';
import { channels, logFields, type AccessRecord, type HostEvent, type LifecycleEvent, type ReloadEvent, type RetryEvent, type StreamRecord, type UpstreamEvent } from './events.js';

export interface AccessLogOptions {
  /** Where the lines go: '-' or 'stdout' for standard output, else a file path (appended). */
  path: string;
  /** 'json' (the default), or a format log-format.ts compiles (`combined`, `common`, a template). */
  format?: string;
}

const BATCH = 64 * 1024;
/** Access records made into lines at a time (see #records). */
const RECORDS = 32;

/** Buffer's native writers, without Buffer#write's argument juggling (room is checked first). */
interface NativeWriteBuffer extends Buffer {
  utf8Write(s: string, offset: number): number;
  latin1Write(s: string, offset: number): number;
}
/** pino's numeric levels. */
const LEVEL = { info: 30, warn: 40, error: 50 } as const;

/**
 * The access log: one JSON line per request (pino's line format, serialized by access-line.ts),
 * batched in memory and written asynchronously so the request path never waits on the disk.
 * Host, upstream, stream, retry, reload and lifecycle events are lines of the same format in the
 * same place, written at once (they are rare). It subscribes to the event channels; the proxy
 * does not know it exists.
 */
export class AccessLog {
  /**
   * Access lines are encoded straight into a 64 KiB buffer and written as one Buffer (no string
   * building or re-encoding), when it fills or within 200 ms when traffic is light.
   */
  readonly #lines: LogFile;
  /** Event lines go to the access log itself with the json format, else to standard error. */
  readonly #eventsApart: boolean;
  /** Access lines are ASCII (NGINX-style formats escape to it): encoded as latin1, which is cheaper. */
  readonly #ascii: boolean;
  #buf: Buffer = Buffer.allocUnsafe(BATCH);
  #len = 0;
  /**
   * Batch buffers come back once the writer has written their bytes (its 'write' events count
   * bytes in the order they were given): a new 64 KiB buffer per batch lived long enough to be
   * promoted, and dead batches piled up in the old space until a full GC.
   */
  readonly #spare: Buffer[] = [];
  /** What the writer holds, oldest first: a batch buffer (null for a one-off) and where its bytes end. */
  readonly #held: Array<[Buffer | null, number]> = [];
  /** Bytes given to the writer, and bytes it has written. */
  #given = 0;
  #done = 0;
  /** Armed by the first line after it last fired; a batch that fills up is written without touching it. */
  #timer: NodeJS.Timeout | undefined;
  /** The request fields this log's format prints (it owns `logFields.names` while it is open). */
  readonly #fieldNames: readonly string[] = [];
  #subs: Array<[import('node:diagnostics_channel').Channel, (m: unknown) => void]> = [];
  #closing: Promise<void> | undefined;

  constructor(opts: AccessLogOptions) {
    this.#lines = new LogFile(opts.path, this.#onWritten);
    const format = opts.format === undefined || opts.format === 'json' ? undefined : compileFormat(opts.format);
    if (typeof format === 'string') throw new Error(`access_log.format: ${format}`);
    this.#ascii = format?.ascii ?? false;
    this.#eventsApart = format !== undefined;
    if (format !== undefined) {
      logFields.names = this.#fieldNames = format.fields;
      this.#format = format.line;
    }
    this.#on(channels.request, this.#queue);
    this.#on(channels.host, (m) => this.#event(LEVEL.warn, { time: isoNow(), event: 'host', ...(m as HostEvent) }));
    this.#on(channels.upstream, (m) => this.#event(LEVEL.warn, { time: isoNow(), event: 'upstream', ...(m as UpstreamEvent) }));
    this.#on(channels.stream, (m) => this.#event(LEVEL.info, m as StreamRecord));
    this.#on(channels.retry, (m) => this.#event(LEVEL.info, { time: isoNow(), event: 'retry', ...(m as RetryEvent) }));
    this.#on(channels.reload, (m) => this.#event(LEVEL.info, { time: isoNow(), event: 'reload', ...(m as ReloadEvent) }));
    this.#on(channels.lifecycle, (m) => {
      const { level, ...rest } = m as LifecycleEvent;
      this.#event(LEVEL[level], { time: isoNow(), event: 'lifecycle', ...rest });
    });
  }

  /**
   * Access records wait here and are made into lines RECORDS at a time (or by the timer): one
   * line after another keeps the formatter's code in the CPU's instruction cache, where a line
   * per request evicted the request path's code and its own (callgrind's cache model, 13 B c=50:
   * ~300 instruction-cache misses per request went to the access line).
   */
  readonly #records: AccessRecord[] = [];
  #format: (r: AccessRecord) => string = accessLine;

  readonly #queue = (m: unknown): void => {
    const n = this.#records.push(m as AccessRecord);
    if (n >= RECORDS) this.#lineUp();
    else if (n === 1) this.#timer ??= setTimeout(this.#onTimer, 200).unref();
  };

  /** Make the waiting records into lines, in order. */
  #lineUp(): void {
    const list = this.#records;
    const n = list.length;
    if (n === 0) return;
    const format = this.#format;
    // One copy into the batch for all of them (each copy is a native call).
    let text = '';
    try {
      for (let i = 0; i < n; i++) text += format(list[i]!);
    } finally {
      list.length = 0;
    }
    this.#append(text);
  }

  readonly #onTimer = () => {
    this.#timer = undefined;
    this.#flush();
  };

  /** Line up the waiting records, and hand the batch to the writer. */
  #flush(): void {
    this.#lineUp();
    this.#writeBatch();
  }

  #writeBatch(): void {
    if (this.#len === 0) return;
    const batch = this.#buf;
    const out = batch.subarray(0, this.#len);
    this.#buf = this.#spare.pop() ?? Buffer.allocUnsafe(BATCH);
    this.#len = 0;
    this.#give(out, batch);
  }

  #give(data: Buffer, batch: Buffer | null): void {
    this.#given += data.length;
    this.#held.push([batch, this.#given]);
    this.#lines.write(data);
  }

  readonly #onWritten = (n: number): void => {
    this.#done += n;
    const held = this.#held;
    while (held.length > 0 && held[0]![1] <= this.#done) {
      const batch = held.shift()![0];
      if (batch !== null && this.#spare.length < 2) this.#spare.push(batch);
    }
  };

  /** Add a line to the batch (written when it fills, or within 200 ms). */
  #append(line: string): void {
    if (this.#len + line.length * 3 > BATCH) {
      this.#writeBatch();
      if (line.length * 3 > BATCH) {
        this.#give(Buffer.from(line), null);
        return;
      }
    }
    const buf = this.#buf as NativeWriteBuffer;
    this.#len += this.#ascii ? buf.latin1Write(line, this.#len) : buf.utf8Write(line, this.#len);
    this.#timer ??= setTimeout(this.#onTimer, 200).unref();
  }

  /** An event line (pino's shape: numeric level first), written at once (with what is batched, when they share a place). */
  #event(level: number, fields: object): void {
    const line = `${JSON.stringify({ level, ...fields })}\n`;
    if (this.#eventsApart) {
      writeAllSync(2, line);
      return;
    }
    this.#lineUp();
    this.#append(line);
    this.#flush();
  }

  #on(ch: import('node:diagnostics_channel').Channel, fn: (m: unknown) => void): void {
    ch.subscribe(fn);
    this.#subs.push([ch, fn]);
  }

  /**
   * Unsubscribe and write what is buffered, in order, then close the file. Resolves when the
   * writer has closed, or after `waitMs` if it cannot finish (a stuck disk or pipe).
   * (A synchronous flush here would overtake a batch still being written asynchronously.)
   */
  close(waitMs = 5000): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#flush();
    for (const [ch, fn] of this.#subs) ch.unsubscribe(fn);
    this.#subs = [];
    // Another log (a second gateway in this process) may have set them since.
    if (logFields.names === this.#fieldNames) logFields.names = [];
    let timer: NodeJS.Timeout | undefined;
    const stuck = new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs).unref()));
    return (this.#closing = Promise.race([this.#lines.end(), stuck]).finally(() => clearTimeout(timer)));
  }
}
