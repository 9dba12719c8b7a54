import type { ProxyResponse, UpstreamDispatcher, UpstreamHandler } from './exchange.js';
import { HeadwaterError } from '../errors.js';
import { classify, type Failure } from './classify.js';
import { downstreamResponseHeaders } from './headers.js';

/** Everything one attempt needs; built by the handler, one per try. */
export interface AttemptInput {
  pool: UpstreamDispatcher;
  method: string;
  /** Path and query as sent upstream. */
  path: string;
  headers: string[];
  body: Buffer | AsyncIterable<Buffer> | null;
  keepAlive: boolean;
  /**
   * ms from the request being sent until the response headers must arrive; 0 = none. Timed here
   * with a native timer because undici's own headersTimeout ticks in ~0.5 s steps (300ms fired at ~1 s).
   */
  headerTimeout?: number;
  res: ProxyResponse;
  /**
   * Called when response headers arrive with this status. Return true to discard this response
   * and let the handler try another server (nothing has reached the client yet).
   */
  retryOnStatus(status: number): boolean;
  now(): number;
}

/** How the attempt ended. `committed` means the client has seen this response's status line. */
export interface AttemptResult {
  status?: number;
  headerMs?: number;
  ms: number;
  committed: boolean;
  /** Response body bytes sent to the client. */
  bytes: number;
  /** Set when the upstream exchange failed, or was dropped for a retryable status. */
  failure?: Failure;
  /** The status that was rejected for retry (http_NNN), when that was the reason. */
  retryStatus?: number;
}

/**
 * One attempt at one server: dispatch through the server's pool and stream the response to the
 * client with backpressure both ways. Resolves when the exchange is over; never rejects.
 */
export function runAttempt(input: AttemptInput): Promise<AttemptResult> {
  return new Promise((resolve) => {
    const { res } = input;
    const started = input.now();
    const result: AttemptResult = { ms: 0, committed: false, bytes: 0 };
    let abort: ((err?: Error) => void) | undefined;
    let done = false;
    let pendingAbort: Error | undefined;
    let headerTimer: NodeJS.Timeout | undefined;

    const finish = (failure?: Failure) => {
      if (done) return;
      done = true;
      clearTimeout(headerTimer);
      res.off('close', onClientClose);
      res.off('drain', onDrain);
      result.ms = input.now() - started;
      if (failure) result.failure = failure;
      resolve(result);
    };
    const onClientClose = () => {
      if (done || res.writableFinished) return;
      const err = new HeadwaterError('HW_ERR_CLIENT_ABORT');
      if (abort) abort(err);
      else pendingAbort = err;
    };
    let resume: (() => void) | undefined;
    const onDrain = () => resume?.();
    res.on('close', onClientClose);

    const handler: UpstreamHandler = {
      onConnect(a) {
        abort = a;
        if (pendingAbort) a(pendingAbort);
      },
      onRequestSent() {
        const ms = input.headerTimeout ?? 0;
        if (ms > 0 && !done && result.status === undefined) {
          headerTimer = setTimeout(() => abort?.(new HeadwaterError('HW_ERR_UPSTREAM_TIMEOUT', `no response headers within ${ms}ms`)), ms);
        }
      },
      onHeaders(statusCode, rawHeaders, resumeFn) {
        if (statusCode < 200) return true; // 1xx interim responses are not forwarded (101 is an upgrade)
        clearTimeout(headerTimer);
        result.status = statusCode;
        result.headerMs = input.now() - started;
        if (input.retryOnStatus(statusCode)) {
          result.retryStatus = statusCode;
          abort?.(new HeadwaterError('HW_ERR_UPSTREAM_RESET', `retrying after status ${statusCode}`));
          return false;
        }
        resume = resumeFn;
        res.on('drain', onDrain);
        res.writeHead(statusCode, downstreamResponseHeaders(rawHeaders));
        result.committed = true;
        return true;
      },
      onData(chunk) {
        result.bytes += chunk.length;
        return res.write(chunk);
      },
      onComplete() {
        res.end();
        finish();
      },
      onError(err) {
        if (result.retryStatus !== undefined) {
          finish({ outcome: `http_${result.retryStatus}`, code: 'HW_ERR_UPSTREAM_RESET', error: err, beforeSend: false });
          return;
        }
        finish(classify(err));
      },
    };

    try {
      input.pool.dispatch(
        { method: input.method, path: input.path, headers: input.headers, body: input.body, reset: !input.keepAlive },
        handler,
      );
    } catch (err) {
      finish(classify(err));
    }
  });
}
