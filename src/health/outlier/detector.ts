import type { OutlierConfig } from '../../config/types.js';
import type { AttemptOutcome } from '../passive/outcomes.js';
import type { Host } from '../../upstream/host.js';
import type { UpstreamGroup } from '../../upstream/group.js';
import { transition } from '../state.js';

/**
 * Envoy's outlier detection, the inline half: each attempt's result feeds the server's
 * consecutive-5xx and consecutive-gateway-failure counts (and the interval's success-rate
 * counts); reaching a threshold ejects it. Transport failures (connect, reset, timeout) count as
 * gateway failures and so as 5xx, as Envoy maps local-origin errors. The sweep (sweep.ts) returns
 * servers to service and runs the success-rate check. This is the only writer of host.state.outlier.
 */
export function recordOutlier(group: UpstreamGroup, host: Host, outcome: AttemptOutcome, status: number | undefined, now: number): void {
  const cfg = group.config.outlier_detection!;
  const o = host.state.outlier;
  const gateway = status === undefined ? outcome === 'error' || outcome === 'timeout' : status === 502 || status === 503 || status === 504;
  const fivexx = gateway || (status === undefined ? outcome === 'invalid_header' : status >= 500);
  o.total++;
  if (!fivexx) {
    o.ok++;
    o.consecutive5xx = 0;
    o.consecutiveGateway = 0;
    return;
  }
  o.consecutive5xx++;
  o.consecutiveGateway = gateway ? o.consecutiveGateway + 1 : 0;
  if (host.state.ejected) return;
  const random = group.random;
  if (cfg.consecutive_gateway_failure > 0 && o.consecutiveGateway >= cfg.consecutive_gateway_failure && enforced(cfg.enforcing_consecutive_gateway_failure, random)) {
    eject(group, host, now, `${o.consecutiveGateway} consecutive gateway failures`);
  } else if (cfg.consecutive_5xx > 0 && o.consecutive5xx >= cfg.consecutive_5xx && enforced(cfg.enforcing_consecutive_5xx, random)) {
    eject(group, host, now, `${o.consecutive5xx} consecutive 5xx`);
  }
}

/** Envoy's enforcing_*: the chance, in percent, that a detected outlier is really ejected. */
export function enforced(percent: number, random: () => number): boolean {
  return percent >= 100 || (percent > 0 && random() * 100 < percent);
}

/** How long the next ejection lasts: base * ejections in a row, at most max_ejection_time. */
export function ejectionTime(cfg: OutlierConfig, multiplier: number): number {
  return Math.min(cfg.base_ejection_time * multiplier, Math.max(cfg.max_ejection_time, cfg.base_ejection_time));
}

/**
 * Eject `host` unless that would put more than max_ejection_percent of the upstream out (one
 * server may always be ejected) or it is the upstream's only server (there is nowhere else to go).
 * Returns whether it was ejected.
 */
export function eject(group: UpstreamGroup, host: Host, now: number, why: string): boolean {
  const cfg = group.config.outlier_detection!;
  if (group.sole) return false;
  let ejected = 0;
  for (const h of group.hosts) if (h.state.ejected) ejected++;
  if (ejected > 0 && (ejected + 1) * 100 > cfg.max_ejection_percent * group.hosts.length) return false;
  const o = host.state.outlier;
  const ms = ejectionTime(cfg, o.multiplier + 1);
  transition(host, 'outlier', `${why}: ejected for ${ms}ms (ejection ${o.multiplier + 1} in a row)`, now, (s) => {
    s.ejected = true;
    o.multiplier++;
    o.ejectedAt = now;
    o.ejectedFor = ms;
    o.consecutive5xx = 0;
    o.consecutiveGateway = 0;
  });
  return true;
}
