import type { RetryCondition } from '../../config/types.js';
import type { Host } from '../../upstream/host.js';
import { transition } from '../state.js';

/**
 * Passive health, NGINX style: `max_fails` failures within `fail_timeout` make a server
 * unavailable for `fail_timeout`. What counts as a failure is the upstream's retry `on` list
 * (except http_403/http_404, which NGINX never counts). This is the only writer of the failure
 * fields of host state; changes of availability go through health/state.ts.
 */

/** What happened to one attempt, as passive health sees it. `client_abort` never counts. */
export type AttemptOutcome = 'ok' | 'client_abort' | RetryCondition | `http_${number}`;

/** Does this outcome count as a failure for a server whose upstream retries on `on`? */
export function isFailure(outcome: AttemptOutcome, on: readonly RetryCondition[]): boolean {
  if (outcome === 'ok' || outcome === 'client_abort') return false;
  if (outcome === 'http_403' || outcome === 'http_404') return false;
  if (outcome === 'error' || outcome === 'timeout' || outcome === 'invalid_header') {
    // Transport failures always count: a server we cannot talk to is not healthy, whatever retry says.
    return true;
  }
  return (on as readonly string[]).includes(outcome);
}

/**
 * Record the result of one attempt. `soleServer` is true when the upstream has one server only:
 * NGINX never marks that one down (there is nothing to fail over to).
 */
export function recordOutcome(host: Host, failed: boolean, now: number, soleServer: boolean, reason: string): void {
  const s = host.state;
  if (!failed) {
    // A success ends an unavailable period, but (as in NGINX) does not wipe failures already
    // counted in the current fail_timeout window: a server failing every other request still
    // reaches max_fails. The window itself expires below, at the next failure.
    if (s.failedUntil > 0) {
      transition(host, 'passive', 'a request succeeded after fail_timeout', now, (st) => {
        // Slow start counts from when fail_timeout ran out, not from this first success.
        st.since = Math.max(st.since, st.failedUntil);
        st.fails = 0;
        st.failedUntil = 0;
      });
    }
    return;
  }
  s.failures++;
  if (soleServer || host.maxFails === 0) return;
  if (s.failedUntil > 0) {
    // Back from fail_timeout on probation: one more failure disables it again at once (NGINX).
    transition(host, 'passive', `${reason}: failed again after fail_timeout`, now, (st) => {
      st.failedUntil = now + host.failTimeout;
    });
    return;
  }
  if (s.fails === 0 || now - s.failWindowStart >= host.failTimeout) {
    s.fails = 0;
    s.failWindowStart = now;
  }
  s.fails++;
  if (s.fails >= host.maxFails) {
    transition(host, 'passive', `${reason}: ${host.maxFails} failure(s) within fail_timeout`, now, (st) => {
      st.failedUntil = now + host.failTimeout;
    });
  }
}
