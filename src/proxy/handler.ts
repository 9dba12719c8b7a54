import type { ProxyRequest, ProxyResponse, UpstreamDispatcher } from './exchange.js';
import type { Config, RouteConfig } from '../config/types.js';
import type { Host } from '../upstream/host.js';
import type { UpstreamGroup } from '../upstream/group.js';
import type { Router } from '../router/router.js';
import type { RetryPolicy } from './retry-policy.js';
import { Forward } from './forward.js';
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
  /** Established tunnels and TCP streams: the same set in every runtime, so reloads never drop them. */
  readonly splices: SpliceSet;
}

/**
 * The proxy handler: route, read the body as policy requires, then the attempt loop (pick a
 * server, forward, on a retryable failure try the next one), and one access record at the end
 * (see Forward). Returns at once; `onEnd` runs when the request is over. Never throws.
 */
export function serveRequest(rt: Runtime, req: ProxyRequest, res: ProxyResponse, proto: 'http' | 'https', onEnd?: () => void): void {
  new Forward(rt, req, res, proto, onEnd).run();
}
