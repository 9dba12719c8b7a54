import type { Host } from '../upstream/host.js';
import type { UpstreamGroup } from '../upstream/group.js';
import { isFailure, recordOutcome, type AttemptOutcome } from './passive/outcomes.js';
import { recordOutlier } from './outlier/detector.js';

/**
 * What the proxy tells health about one finished attempt (client faults are not reported). The
 * proxy reports; passive health (max_fails) and outlier detection judge and write host state.
 */
export function reportAttempt(group: UpstreamGroup, host: Host, outcome: AttemptOutcome, status: number | undefined, now: number): void {
  recordOutcome(host, isFailure(outcome, group.config.retry.on), now, group.sole, outcome);
  if (group.config.outlier_detection !== undefined) recordOutlier(group, host, outcome, status, now);
}
