import type { RouteConfig } from '../config/types.js';

/** What the router needs to know about a request. */
export interface RouteInput {
  method: string;
  /** Host header value, may include a port. */
  host: string | undefined;
  /** Path without query, dot segments resolved. */
  path: string;
  header(name: string): string | undefined;
}

/** A router maps a request to the first route that matches, in configuration order. */
export interface Router<T> {
  match(input: RouteInput): T | undefined;
}

interface Compiled {
  route: RouteConfig;
  hostExact?: string;
  /** '.example.com' for '*.example.com' */
  hostSuffix?: string;
  methods?: ReadonlySet<string>;
  headers?: ReadonlyArray<[string, string]>;
}

/** Lower-case host without port or trailing dot; IPv6 brackets kept. */
export function normalizeHost(host: string | undefined): string | undefined {
  if (!host) return undefined;
  let h = host.toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end === -1 ? h : h.slice(0, end + 1);
  }
  const colon = h.indexOf(':');
  if (colon !== -1) h = h.slice(0, colon);
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h;
}

/** First-match router over the configured routes. Matchers are compiled once per config. */
export class RouteTable implements Router<RouteConfig> {
  readonly #routes: Compiled[];

  constructor(routes: readonly RouteConfig[]) {
    this.#routes = routes.map((route) => {
      const c: Compiled = { route };
      const h = route.match.host?.toLowerCase();
      if (h !== undefined) {
        if (h.startsWith('*.')) c.hostSuffix = h.slice(1);
        else c.hostExact = h;
      }
      if (route.match.methods?.length) c.methods = new Set(route.match.methods.map((m) => m.toUpperCase()));
      const hs = route.match.headers;
      if (hs && Object.keys(hs).length) c.headers = Object.entries(hs).map(([k, v]) => [k.toLowerCase(), v]);
      return c;
    });
  }

  match(input: RouteInput): RouteConfig | undefined {
    let host: string | undefined;
    let hostDone = false;
    for (const c of this.#routes) {
      const m = c.route.match;
      if (m.path !== undefined && input.path !== m.path) continue;
      if (m.path_prefix !== undefined && !input.path.startsWith(m.path_prefix)) continue;
      if (c.methods && !c.methods.has(input.method)) continue;
      if (c.hostExact !== undefined || c.hostSuffix !== undefined) {
        if (!hostDone) {
          host = normalizeHost(input.host);
          hostDone = true;
        }
        if (host === undefined) continue;
        if (c.hostExact !== undefined && host !== c.hostExact) continue;
        if (c.hostSuffix !== undefined && !(host.endsWith(c.hostSuffix) && host.length > c.hostSuffix.length)) continue;
      }
      if (c.headers && !c.headers.every(([k, v]) => input.header(k) === v)) continue;
      return c.route;
    }
    return undefined;
  }
}
