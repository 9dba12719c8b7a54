import type { HostState } from './host.js';

/**
 * Default decay constant (ms) of the latency EWMA: a sample's influence falls to 1/e after this
 * long, so a server that got slow is forgiven within tens of seconds (Finagle/Linkerd use 10 s).
 */
export const LATENCY_TAU_MS = 10_000;

/**
 * Feeds one response-header latency sample into a host's peak-EWMA. A sample above the stored
 * value replaces it at once (react to a server getting slow immediately); a lower one pulls the
 * value toward it with the old value weighted by exp(-dt/tau) (recover gradually). The proxy calls
 * this after each response header, with the same clock it gives the balancers (BalancerDeps.now).
 * This is the only writer of ewmaMs/ewmaAt.
 */
export function recordLatency(state: HostState, ms: number, now: number, tauMs: number = LATENCY_TAU_MS): void {
  if (!(ms >= 0) || !Number.isFinite(ms)) return;
  const prev = state.ewmaMs;
  if (ms > prev) {
    state.ewmaMs = ms;
  } else {
    const dt = now - state.ewmaAt;
    const keep = dt > 0 ? Math.exp(-dt / tauMs) : 1;
    state.ewmaMs = prev * keep + ms * (1 - keep);
  }
  state.ewmaAt = now;
}

/**
 * The latency estimate as seen at `now`: the stored value decayed toward zero by exp(-dt/tau) since
 * the last sample (Finagle's PeakEwma reads with a zero observation). A server nobody has used for
 * a while therefore looks cheaper and gets re-probed. Read-only; 0 means "never measured".
 */
export function currentLatency(state: HostState, now: number, tauMs: number = LATENCY_TAU_MS): number {
  const v = state.ewmaMs;
  if (v === 0) return 0;
  const dt = now - state.ewmaAt;
  return dt > 0 ? v * Math.exp(-dt / tauMs) : v;
}
