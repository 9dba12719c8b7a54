import type { RetryConfig, RetryCondition } from '../config/types.js';
import type { AttemptOutcome } from '../health/passive/outcomes.js';
import type { TrafficState } from '../upstream/traffic.js';
import { channels } from '../observability/events.js';

/** Methods safe to send twice (RFC 9110 9.2.2). POST, PATCH, LOCK and the rest are not. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/** Where a request stands when an attempt has failed. */
export interface RetryState {
  /** Attempts made so far (1 after the first). */
  attempt: number;
  elapsedMs: number;
  method: string;
  /** Can the request body be sent again? */
  bodyReplayable: boolean;
  /** Has any byte of a response reached the client? */
  committed: boolean;
  /** Did the failure happen before the request was sent (connect error)? */
  beforeSend: boolean;
}

/**
 * The one place that decides whether a failed attempt may be tried on another server
 * (NGINX proxy_next_upstream semantics): the failure must be in `on`, the method idempotent
 * unless `non_idempotent` (or the request never left: connect failure), the body replayable, nothing sent to the client, and the attempt
 * count and elapsed time within `tries` and `timeout`, and the upstream's retry budget not spent.
 */
export class RetryPolicy {
  readonly #cfg: RetryConfig;
  readonly #upstream: string;
  readonly #on: ReadonlySet<string>;
  /** 1 at each NNN of an http_NNN in `on` (asked twice per response: an array read, not a Set lookup). */
  readonly #statuses = new Uint8Array(1000);

  constructor(cfg: RetryConfig, upstream: string) {
    this.#cfg = cfg;
    this.#upstream = upstream;
    this.#on = new Set<string>(cfg.on);
    for (const c of cfg.on) if (c.startsWith('http_')) this.#statuses[Number(c.slice(5))] = 1;
  }

  /** Is this HTTP status one the upstream asked to retry on (http_502 in `on`)? */
  retriesStatus(status: number): boolean {
    return this.#statuses[status] === 1;
  }

  /** May the request move on after this outcome? (Availability of another server is checked by the caller.) */
  shouldRetry(outcome: AttemptOutcome, s: RetryState): boolean {
    if (outcome === 'ok' || outcome === 'client_abort') return false;
    if (!this.#on.has(outcome as RetryCondition)) {
      // invalid_header is part of `error` unless listed on its own (NGINX lists it apart; we are lenient).
      if (!(outcome === 'invalid_header' && this.#on.has('error'))) return false;
    }
    if (s.committed || !s.bodyReplayable) return false;
    // Like NGINX: a non-idempotent request is never passed on once it was sent to a server.
    if (!this.#cfg.non_idempotent && !s.beforeSend && !IDEMPOTENT.has(s.method)) return false;
    if (this.#cfg.tries > 0 && s.attempt >= this.#cfg.tries) return false;
    if (this.#cfg.timeout > 0 && s.elapsedMs >= this.#cfg.timeout) return false;
    return true;
  }

  /**
   * Envoy's retry budget: may one more retry start on this upstream now? When not, says so on the
   * upstream channel (the request then gets the failure of its last attempt).
   */
  withinBudget(traffic: TrafficState): boolean {
    const budget = this.#cfg.budget;
    if (budget === undefined || traffic.retryAllowed(budget)) return true;
    if (channels.upstream.hasSubscribers) {
      channels.upstream.publish({
        upstream: this.#upstream,
        kind: 'retry_budget_exhausted',
        reason: `${traffic.retries} retries in flight of ${traffic.active} active attempts (budget ${budget.percent}%, min_concurrency ${budget.min_concurrency}): not retried`,
      });
    }
    return false;
  }
}
