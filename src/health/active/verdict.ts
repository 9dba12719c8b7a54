import type { HealthCheckConfig } from '../../config/types.js';
import type { Host } from '../../upstream/host.js';
import { transition } from '../state.js';
import type { ProbeResult } from './probe.js';

/**
 * Active checks' state machine for one server (HAProxy rise/fall):
 *
 *   checking --pass (initially healthy), or `rise` passes--> healthy
 *   checking --`fall` failures (initially healthy), or one failure--> unhealthy
 *   healthy --`fall` failures in a row--> unhealthy --`rise` passes in a row--> healthy
 *
 * Counting happens on every probe; only state changes go through transition().
 */
export function applyProbe(host: Host, hc: HealthCheckConfig, r: ProbeResult, now: number): void {
  const s = host.state;
  if (s.active === 'off') return;
  if (r.ok) {
    s.passes++;
    s.probeFails = 0;
    const rises = s.active === 'unhealthy' || (s.active === 'checking' && !s.checkingUp) ? s.passes >= hc.rise : s.active === 'checking';
    if (rises) {
      const why = s.active === 'checking' && s.checkingUp ? 'first probe passed' : `${s.passes} probe(s) in a row passed (rise ${hc.rise})`;
      transition(host, 'active', `${why}: ${r.reason}`, now, (st) => {
        st.active = 'healthy';
      });
    }
    return;
  }
  s.probeFails++;
  s.passes = 0;
  const up = s.active === 'healthy' || (s.active === 'checking' && s.checkingUp);
  const falls = up ? s.probeFails >= hc.fall : s.active === 'checking';
  if (falls) {
    const why = up ? `${s.probeFails} probe(s) in a row failed (fall ${hc.fall})` : 'first probe failed';
    transition(host, 'active', `${why}: ${r.reason}`, now, (st) => {
      st.active = 'unhealthy';
    });
  }
}

/** Is active checking holding the server out (so it is probed at unhealthy_interval)? */
export function probedAsDown(host: Host): boolean {
  const s = host.state;
  return s.active === 'unhealthy' || (s.active === 'checking' && !s.checkingUp);
}
