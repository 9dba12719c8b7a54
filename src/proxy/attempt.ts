import type { ProxyResponse, RelayHead, UpstreamDispatcher, UpstreamHandler, UpstreamRequest } from './exchange.js';
import { HeadwaterError } from '../errors.js';
import { classify, type Failure } from './classify.js';
import { downstreamResponseHeaders } from './headers.js';

/** The request an attempt belongs to: told when response headers arrive and when the attempt is over. */
export interface AttemptOwner {
  readonly res: ProxyResponse;
  /** A Set-Cookie value to add to the response (sticky sessions), if any. */
  readonly setCookie: string | undefined;
  clock(): number;
  /**
   * Response headers arrived with this status. Return true to discard this response and let the
   * owner try another server (nothing has reached the client yet).
   */
  retryOnStatus(status: number): boolean;
  /** The attempt is over (`attempt.failure` says how); called exactly once, possibly synchronously from `start`. */
  attemptDone(attempt: Attempt): void;
}

/**
 * One attempt at one server: dispatch through the server's pool and stream the response to the
 * client with backpressure both ways. The attempt is the transport's handler itself (no
 * per-attempt closures); when the exchange is over it tells its owner, once, and never throws.
 * `committed` means the client has seen this response's status line.
 */
export class Attempt implements UpstreamHandler {
  status: number | undefined = undefined;
  headerMs: number | undefined = undefined;
  ms = 0;
  /** The owner's clock when the attempt ended. */
  endedAt = 0;
  committed = false;
  /** Response body bytes sent to the client. */
  bytes = 0;
  /** Set when the upstream exchange failed, or was dropped for a retryable status. */
  failure: Failure | undefined = undefined;
  /** The status that was rejected for retry (http_NNN), when that was the reason. */
  retryStatus: number | undefined = undefined;
  readonly #owner: AttemptOwner;
  readonly #started: number;
  /**
   * ms from the request being sent until the response headers must arrive; 0 = none. Timed here
   * with a native timer because undici's own headersTimeout ticks in ~0.5 s steps (300ms fired at ~1 s).
   */
  readonly #headerTimeout: number;
  #abort: ((err?: Error) => void) | undefined = undefined;
  #pendingAbort: Error | undefined = undefined;
  #headerTimer: NodeJS.Timeout | undefined = undefined;
  #resume: (() => void) | undefined = undefined;
  #onDrain: (() => void) | undefined = undefined;
  #done = false;

  /** `started` is the owner's clock now (passed in so one reading serves several purposes). */
  constructor(owner: AttemptOwner, started: number, headerTimeout: number) {
    this.#owner = owner;
    this.#started = started;
    this.#headerTimeout = headerTimeout;
  }

  get done(): boolean {
    return this.#done;
  }

  /** Dispatch the request. A dispatch that throws ends the attempt with that failure. */
  start(pool: UpstreamDispatcher, req: UpstreamRequest): void {
    try {
      pool.dispatch(req, this);
    } catch (err) {
      this.#finish(classify(err));
    }
  }

  /** The client went away: abort the exchange (now, or as soon as the transport can). */
  clientClosed(): void {
    if (this.#done || this.#owner.res.writableFinished) return;
    const err = new HeadwaterError('HW_ERR_CLIENT_ABORT');
    if (this.#abort) this.#abort(err);
    else this.#pendingAbort = err;
  }

  onConnect(abort: (err?: Error) => void): void {
    this.#abort = abort;
    if (this.#pendingAbort) abort(this.#pendingAbort);
  }

  onRequestSent(): void {
    const ms = this.#headerTimeout;
    if (ms > 0 && !this.#done && this.status === undefined) {
      this.#headerTimer = setTimeout(() => this.#abort?.(new HeadwaterError('HW_ERR_UPSTREAM_TIMEOUT', `no response headers within ${ms}ms`)), ms);
    }
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[] | string[], resume: () => void, _statusText?: string, head?: RelayHead): boolean {
    if (statusCode < 200) return true; // 1xx interim responses are not forwarded (101 is an upgrade)
    if (this.#headerTimer !== undefined) clearTimeout(this.#headerTimer);
    this.status = statusCode;
    this.headerMs = this.#owner.clock() - this.#started;
    if (this.#owner.retryOnStatus(statusCode)) {
      this.retryStatus = statusCode;
      this.#abort?.(new HeadwaterError('HW_ERR_UPSTREAM_RESET', `retrying after status ${statusCode}`));
      return false;
    }
    this.#resume = resume;
    const res = this.#owner.res;
    const cookie = this.#owner.setCookie;
    if (head !== undefined && head.passLines !== undefined && res.writeHeadLines !== undefined) {
      res.writeHeadLines(statusCode, head.passLines, head.contentLength, cookie);
    } else {
      const headers = downstreamResponseHeaders(head !== undefined ? head.headers : rawHeaders);
      if (cookie !== undefined) headers.push('set-cookie', cookie);
      res.writeHead(statusCode, headers);
    }
    this.committed = true;
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.bytes += chunk.length;
    if (this.#owner.res.write(chunk)) return true;
    // The transport pauses until resumed: resume on the client's next 'drain'.
    if (this.#onDrain === undefined) {
      this.#onDrain = () => this.#resume?.();
      this.#owner.res.on('drain', this.#onDrain);
    }
    return false;
  }

  get holdsChunk(): boolean {
    return this.#owner.res.holdsChunk !== false;
  }

  onComplete(trailers?: unknown): void {
    const res = this.#owner.res;
    if (res.addTrailers !== undefined && Array.isArray(trailers) && trailers.length > 0) res.addTrailers(trailerPairs(trailers));
    res.end();
    this.#finish(undefined);
  }

  onError(err: Error): void {
    if (this.retryStatus !== undefined) {
      this.#finish({ outcome: `http_${this.retryStatus}`, code: 'HW_ERR_UPSTREAM_RESET', error: err, beforeSend: false });
      return;
    }
    this.#finish(classify(err));
  }

  #finish(failure: Failure | undefined): void {
    if (this.#done) return;
    this.#done = true;
    if (this.#headerTimer !== undefined) clearTimeout(this.#headerTimer);
    if (this.#onDrain !== undefined) this.#owner.res.off('drain', this.#onDrain);
    this.endedAt = this.#owner.clock();
    this.ms = this.endedAt - this.#started;
    this.failure = failure;
    this.#owner.attemptDone(this);
  }
}

/** Upstream trailers (a flat raw list, Buffers or strings) as pairs, without hop-by-hop fields. */
function trailerPairs(raw: Buffer[] | string[]): Array<[string, string]> {
  const flat = downstreamResponseHeaders(raw);
  const out: Array<[string, string]> = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}
