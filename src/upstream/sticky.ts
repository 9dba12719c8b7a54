import { cryptoModule } from '../util/builtins.js';
import type { StickyConfig } from '../config/types.js';
import type { PickContext } from '../balancer/types.js';
import { isAvailable, PICK_PINNED, type Host } from './host.js';

/** The cookie value naming a server: a hash of upstream and address, stable across reloads and restarts. */
export function stickyToken(host: Host): string {
  return cryptoModule().createHash('sha256').update(host.id).digest('base64url').slice(0, 16);
}

/** The value of cookie `name` in a Cookie header, or undefined. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  let at = 0;
  while (at < header.length) {
    let end = header.indexOf(';', at);
    if (end < 0) end = header.length;
    const eq = header.indexOf('=', at);
    if (eq > 0 && eq < end && header.slice(at, eq).trim() === name) return header.slice(eq + 1, end).trim();
    at = end + 1;
  }
  return undefined;
}

/**
 * Sticky sessions by cookie (NGINX Plus `sticky cookie`): a request whose cookie names an
 * available server of the upstream goes there (even while it drains); otherwise the balancer
 * picks and the response sets (or replaces) the cookie.
 */
export class Sticky {
  readonly #cfg: StickyConfig;
  readonly #byToken = new Map<string, Host>();
  readonly #tokens = new Map<Host, string>();
  readonly #attributes: string;

  constructor(cfg: StickyConfig, hosts: readonly Host[]) {
    this.#cfg = cfg;
    for (const h of hosts) {
      const t = stickyToken(h);
      this.#byToken.set(t, h);
      this.#tokens.set(h, t);
    }
    let a = `; Path=${cfg.path}`;
    if (cfg.domain !== undefined) a += `; Domain=${cfg.domain}`;
    if (cfg.ttl > 0) a += `; Max-Age=${Math.floor(cfg.ttl / 1000)}`;
    a += '; HttpOnly';
    if (cfg.secure) a += '; Secure';
    this.#attributes = a;
  }

  /** The server the request is pinned to, when it may take the request now. */
  pinned(ctx: PickContext): Host | undefined {
    const token = cookieValue(ctx.header('cookie'), this.#cfg.cookie);
    const host = token === undefined ? undefined : this.#byToken.get(token);
    if (host === undefined || ctx.excluded.has(host) || !isAvailable(host, ctx.now, PICK_PINNED)) return undefined;
    return host;
  }

  /** The Set-Cookie value for a response from `host`, or undefined when the request already names it. */
  setCookie(ctx: PickContext, host: Host): string | undefined {
    const token = this.#tokens.get(host);
    if (token === undefined || cookieValue(ctx.header('cookie'), this.#cfg.cookie) === token) return undefined;
    return `${this.#cfg.cookie}=${token}${this.#attributes}`;
  }
}
