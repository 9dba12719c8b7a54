import type { Host } from '../../upstream/host.js';
import type { UpstreamGroup } from '../../upstream/group.js';
import { transition } from '../state.js';
import { eject, enforced } from './detector.js';

/**
 * Envoy's outlier detection, the interval half, run every `interval` per upstream: servers whose
 * ejection time is over return to service; servers back in service for base_ejection_time or
 * more lower their ejection multiplier by one per sweep (so one ejected again soon after its
 * return counts as "in a row"); then the success-rate check, and the interval's counts start over.
 */
export function sweep(group: UpstreamGroup, now: number): void {
  const cfg = group.config.outlier_detection;
  if (cfg === undefined) return;
  for (const h of group.hosts) {
    const o = h.state.outlier;
    if (h.state.ejected) {
      if (now >= o.ejectedAt + o.ejectedFor) {
        transition(h, 'outlier', `ejection time (${o.ejectedFor}ms) is over`, now, (s) => {
          s.ejected = false;
          o.returnedAt = now;
        });
      }
    } else if (o.multiplier > 0 && now - o.returnedAt >= cfg.base_ejection_time) {
      o.multiplier--;
    }
  }
  successRate(group, now);
  for (const h of group.hosts) {
    h.state.outlier.total = 0;
    h.state.outlier.ok = 0;
  }
}

/**
 * Servers with at least request_volume attempts this interval are judged when there are at least
 * minimum_hosts of them: one whose success rate is below mean - stdev_factor/1000 * stdev is ejected.
 */
function successRate(group: UpstreamGroup, now: number): void {
  const sr = group.config.outlier_detection!.success_rate;
  if (sr.enforcing <= 0) return;
  const judged: Array<{ host: Host; rate: number }> = [];
  for (const h of group.hosts) {
    const o = h.state.outlier;
    if (!h.state.ejected && o.total >= sr.request_volume) judged.push({ host: h, rate: (100 * o.ok) / o.total });
  }
  if (judged.length < sr.minimum_hosts) return;
  const mean = judged.reduce((a, j) => a + j.rate, 0) / judged.length;
  const stdev = Math.sqrt(judged.reduce((a, j) => a + (j.rate - mean) ** 2, 0) / judged.length);
  const threshold = mean - (sr.stdev_factor / 1000) * stdev;
  for (const j of judged) {
    if (j.rate < threshold && enforced(sr.enforcing, group.random)) {
      eject(group, j.host, now, `success rate ${j.rate.toFixed(1)}% below ${threshold.toFixed(1)}% (peers' mean ${mean.toFixed(1)}%)`);
    }
  }
}
