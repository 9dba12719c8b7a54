import pino from 'pino';
import { accessLine } from './access-line.js';
import { channels, type AccessRecord, type HostEvent, type LifecycleEvent, type ReloadEvent, type RetryEvent } from './events.js';

/** Where the JSON lines go: '-' or 'stdout' for standard output, else a file path (appended). */
export interface AccessLogOptions {
  path: string;
  /** Also log host, retry, reload and lifecycle events to the same stream. */
  events?: boolean;
}

/**
 * The access log: one JSON line per request, written by pino asynchronously so the request path
 * never waits on the disk. It subscribes to the event channels; the proxy does not know it exists.
 */
export class AccessLog {
  #logger: pino.Logger;
  #dest: pino.DestinationStream & { flushSync?: () => void; end?: () => void };
  /** Access lines batched here: one write per 64 KiB, or within 200 ms when traffic is light. */
  #batch = '';
  #timer: NodeJS.Timeout | undefined;
  readonly #flush = () => {
    this.#timer = undefined;
    if (this.#batch.length === 0) return;
    const out = this.#batch;
    this.#batch = '';
    this.#dest.write(out);
  };
  #subs: Array<[import('node:diagnostics_channel').Channel, (m: unknown) => void]> = [];

  constructor(opts: AccessLogOptions) {
    const toStdout = opts.path === '-' || opts.path === 'stdout';
    this.#dest = pino.destination({ dest: toStdout ? 1 : opts.path, sync: false, minLength: 0, maxWrite: 1 << 20, mkdir: !toStdout });
    this.#logger = pino({ base: undefined, timestamp: false, messageKey: 'msg' }, this.#dest);
    // Access lines bypass pino's serializer (see access-line.ts) but share its async destination.
    this.#on(channels.request, (m) => {
      this.#batch += accessLine(m as AccessRecord);
      if (this.#batch.length >= 65536) this.#flush();
      else this.#timer ??= setTimeout(this.#flush, 200).unref();
    });
    if (opts.events !== false) {
      this.#on(channels.host, (m) => {
        const e = m as HostEvent;
        this.#logger.warn({ time: new Date().toISOString(), event: 'host', ...e });
      });
      this.#on(channels.retry, (m) => this.#logger.info({ time: new Date().toISOString(), event: 'retry', ...(m as RetryEvent) }));
      this.#on(channels.reload, (m) => this.#logger.info({ time: new Date().toISOString(), event: 'reload', ...(m as ReloadEvent) }));
      this.#on(channels.lifecycle, (m) => {
        const { level, ...rest } = m as LifecycleEvent;
        this.#logger[level]({ time: new Date().toISOString(), event: 'lifecycle', ...rest });
      });
    }
  }

  #on(ch: import('node:diagnostics_channel').Channel, fn: (m: unknown) => void): void {
    ch.subscribe(fn);
    this.#subs.push([ch, fn]);
  }

  /** Unsubscribe and flush what is buffered. */
  close(): void {
    clearTimeout(this.#timer);
    this.#flush();
    for (const [ch, fn] of this.#subs) ch.unsubscribe(fn);
    this.#subs = [];
    try {
      this.#dest.flushSync?.();
    } catch {
      // a destination that is not ready yet has nothing to flush
    }
    this.#dest.end?.();
  }
}
