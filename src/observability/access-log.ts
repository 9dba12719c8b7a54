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
  #dest: pino.DestinationStream & { flush?: () => void; flushSync?: () => void; end?: () => void };
  /** Lines wait in a 16 KiB buffer under load; this pushes them out within a second when it is quiet. */
  readonly #flusher: NodeJS.Timeout;
  #subs: Array<[import('node:diagnostics_channel').Channel, (m: unknown) => void]> = [];

  constructor(opts: AccessLogOptions) {
    const toStdout = opts.path === '-' || opts.path === 'stdout';
    this.#dest = pino.destination({ dest: toStdout ? 1 : opts.path, sync: false, minLength: 16384, maxWrite: 65536, mkdir: !toStdout });
    this.#logger = pino({ base: undefined, timestamp: false, messageKey: 'msg' }, this.#dest);
    this.#flusher = setInterval(() => {
      try {
        this.#dest.flush?.();
      } catch {
        // not open yet: the next tick will flush
      }
    }, 1000).unref();
    // Access lines bypass pino's serializer (see access-line.ts) but share its async destination.
    this.#on(channels.request, (m) => this.#dest.write(accessLine(m as AccessRecord)));
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
    clearInterval(this.#flusher);
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
