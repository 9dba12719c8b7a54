import type { ProxyRequest, ProxyResponse, UpstreamDispatcher } from './exchange.js';
import type { Config, RouteConfig } from '../config/types.js';
import type { Host } from '../upstream/host.js';
import type { UpstreamGroup } from '../upstream/group.js';
import type { Router } from '../router/router.js';
import type { RetryPolicy } from './retry-policy.js';
import { Forward } from './forward.js';
import type { Http01Challenges } from '../tls/acme/challenges.js';
import type { SpliceSet } from '../stream/splice.js';

/** One applied configuration: everything a request needs, swapped atomically on reload. */
export interface Runtime {
  readonly config: Config;
  readonly router: Router<RouteConfig>;
  readonly groups: ReadonlyMap<string, UpstreamGroup>;
  readonly pools: ReadonlyMap<Host, UpstreamDispatcher>;
  readonly retry: ReadonlyMap<string, RetryPolicy>;
  /** Injected clock in ms. */
  now(): number;
  /** Pending ACME http-01 challenges, answered on every HTTP listener before routing. */
  readonly challenges?: Http01Challenges | undefined;
  /** Established tunnels and TCP streams: the same set in every runtime, so reloads never drop them. */
  readonly splices: SpliceSet;
}

/**
 * The proxy handler: route, read the body as policy requires, then the attempt loop (pick a
 * server, forward, on a retryable failure try the next one), and one access record at the end
 * (see Forward). Returns at once; `onEnd` runs when the request is over. Never throws.
 */
export function serveRequest(rt: Runtime, req: ProxyRequest, res: ProxyResponse, proto: 'http' | 'https', onEnd?: () => void): void {
  const ch = rt.challenges;
  if (ch !== undefined && ch.active && answerChallenge(ch, req, res)) {
    onEnd?.();
    return;
  }
  new Forward(rt, req, res, proto, onEnd).run();
}

/** An ACME http-01 challenge request gets its key authorization (RFC 8555 §8.3). */
function answerChallenge(ch: Http01Challenges, req: ProxyRequest, res: ProxyResponse): boolean {
  const answer = req.method === 'GET' || req.method === 'HEAD' ? ch.answer(req.url ?? '') : undefined;
  if (answer === undefined) return false;
  req.resume();
  res.writeHead(200, ['content-type', 'application/octet-stream', 'content-length', String(answer.length), 'cache-control', 'no-store']);
  res.end(req.method === 'HEAD' ? undefined : answer);
  return true;
}
