import { channels, type HostEvent, type HostSignal, type HostStatus } from '../observability/events.js';
import { HELD_ACTIVE, HELD_DRAIN, HELD_EJECTED, isHealthy, type Host, type HostState } from '../upstream/host.js';

/**
 * The one place where a server's health state changes. Each signal has one writer (active checks,
 * passive health, outlier detection, configuration for drain) and each writes through
 * `transition`, which keeps the availability cache (`held`) in step, starts slow start when the
 * server comes back into service, and publishes the change, with its reason, on the host channel.
 *
 * The state a server is shown in is the first that applies:
 *
 *   down       `down: true` in the configuration
 *   draining   `drain: true`: in-flight requests finish, no new ones
 *   unhealthy  active checks failed `fall` times in a row (or the first check, initially unhealthy)
 *   ejected    outlier detection ejected it for a while
 *   failed     passive health: max_fails failures within fail_timeout
 *   checking   active checks have not given a verdict yet (takes traffic if initially healthy)
 *   healthy    every signal allows traffic
 */
export function hostStatus(host: Host, now: number): HostStatus {
  const s = host.state;
  if (host.down) return 'down';
  if (s.draining) return 'draining';
  if (s.active === 'unhealthy') return 'unhealthy';
  if (s.ejected) return 'ejected';
  if (s.failedUntil > now) return 'failed';
  if (s.active === 'checking') return 'checking';
  return 'healthy';
}

function heldBits(s: HostState): number {
  const activeDown = s.active === 'unhealthy' || (s.active === 'checking' && !s.checkingUp);
  return (s.draining ? HELD_DRAIN : 0) | (activeDown ? HELD_ACTIVE : 0) | (s.ejected ? HELD_EJECTED : 0);
}

/**
 * Apply `change` to the host's state on behalf of `signal`, then publish what it did. `now` is
 * the injected clock. A server that could not take traffic before and can now starts slow start.
 */
export function transition(host: Host, signal: HostSignal, reason: string, now: number, change: (s: HostState) => void): void {
  const s = host.state;
  const previous = hostStatus(host, now);
  const was = isHealthy(host, now);
  change(s);
  s.held = heldBits(s);
  const is = isHealthy(host, now);
  if (!was && is) s.since = now;
  if (channels.host.hasSubscribers) {
    const ev: HostEvent = { upstream: host.upstream, server: host.address, state: is ? 'up' : 'down', status: hostStatus(host, now), previous, signal, reason };
    channels.host.publish(ev);
  }
}

/** Configuration: `drain: true` (or back to false on reload). No-op when unchanged. */
export function setDraining(host: Host, on: boolean, now: number): void {
  if (host.state.draining === on) return;
  transition(host, 'drain', on ? 'drain: true in the configuration' : 'drain removed from the configuration', now, (s) => {
    s.draining = on;
  });
}

/** Active checks start on a server: `checking`, taking traffic meanwhile when initially healthy. */
export function startChecking(host: Host, initially: 'healthy' | 'unhealthy', now: number): void {
  const s = host.state;
  if (s.active !== 'off') return;
  // A server that already took traffic before checks were configured keeps it until its first verdict.
  const up = initially === 'healthy' || s.requests > 0;
  transition(host, 'active', `health checks started (initially ${up ? 'healthy' : 'unhealthy'})`, now, (st) => {
    st.active = 'checking';
    st.checkingUp = up;
    st.passes = 0;
    st.probeFails = 0;
  });
}

/** Active checks were removed from the upstream: their verdict no longer counts. */
export function stopChecking(host: Host, now: number): void {
  if (host.state.active === 'off') return;
  transition(host, 'active', 'health checks removed from the configuration', now, (s) => {
    s.active = 'off';
    s.checkingUp = true;
  });
}
