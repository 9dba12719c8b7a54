import type { Config, ServerConfig } from '../config/types.js';
import { channels } from '../observability/events.js';
import { DnsClient } from './dns.js';

/** Floor of the refresh period, so a TTL of 0 cannot turn into a busy loop. */
const MIN_REFRESH_MS = 50;
/** Refresh period when the answer had a TTL of 0 and no `valid` caps it. */
const ZERO_TTL_REFRESH_MS = 1000;
/** Ask again this soon (or at `valid`, if shorter) after a failed lookup. */
const RETRY_AFTER_FAILURE_MS = 1000;

/** One name being watched: what it resolves to now and when to ask again. */
interface Watch {
  key: string;
  upstream: string;
  kind: 'a' | 'srv';
  name: string;
  /** The entry's port (A records), weight and backup flag, given to every server found. */
  port: number;
  weight: number;
  backup: boolean;
  resolver: string | undefined;
  client: DnsClient;
  valid: number | undefined;
  /** The last good answer, as servers with the configured parameters (empty before the first). */
  found: Array<{ ip: string; port: number; weight: number; backup: boolean }>;
  timer: NodeJS.Timeout | undefined;
  /** Resolved at least once (successfully or not). */
  asked: boolean;
}

const hostPort = (ip: string, port: number): string => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);

/**
 * DNS discovery (NGINX Plus `resolve` and `service=`): each server entry with `resolve: true` or
 * `service` is watched; its name is resolved at start and again when the TTL (capped by `valid`)
 * runs out, and the entry stands for one server per address found (SRV: per record, with the
 * record's port and weight; records of a higher priority value than the lowest are backups).
 * When the answer changes, `onChange` rebuilds the runtime; when the resolver fails, the last good
 * set is kept and the log says so. Timers are unref'd and stop on close().
 */
export class Discovery {
  #watches = new Map<string, Watch>();
  readonly #onChange: () => void;
  #closed = false;

  constructor(onChange: () => void) {
    this.#onChange = onChange;
  }

  /** Follow a configuration: watch its names (keeping what is known of unchanged ones), drop the rest. */
  sync(config: Config): void {
    const next = new Map<string, Watch>();
    for (const [upstream, up] of Object.entries(config.upstreams)) {
      for (const s of up.servers) {
        if (!s.resolve) continue;
        const kind = s.service !== undefined ? 'srv' : 'a';
        const name = s.service ?? s.host;
        const key = watchKey(upstream, s);
        if (next.has(key)) continue;
        const prev = this.#watches.get(key);
        if (prev !== undefined && prev.resolver === up.resolver && prev.valid === up.valid) {
          next.set(key, prev);
          continue;
        }
        // New, or asked through another resolver now: ask again, serving the last answer meanwhile.
        if (prev !== undefined) this.#stop(prev);
        const { port, weight, backup } = s;
        const client = new DnsClient(up.resolver);
        next.set(key, { key, upstream, kind, name, port, weight, backup, resolver: up.resolver, client, valid: up.valid, found: prev?.found ?? [], timer: undefined, asked: false });
      }
    }
    for (const [key, w] of this.#watches) if (!next.has(key)) this.#stop(w);
    this.#watches = next;
  }

  /** Resolve every name not asked yet (at start, after a reload that adds names). */
  async resolveNew(): Promise<void> {
    await Promise.all([...this.#watches.values()].filter((w) => !w.asked).map((w) => this.#refresh(w, false)));
  }

  /** The servers a configured entry stands for now. */
  readonly expand = (upstream: string, s: ServerConfig): readonly ServerConfig[] => {
    if (!s.resolve) return [s];
    const w = this.#watches.get(watchKey(upstream, s));
    if (w === undefined) return [];
    return w.found.map((f) => {
      const out: ServerConfig = { ...s, address: hostPort(f.ip, f.port), host: f.ip, port: f.port, weight: f.weight, backup: f.backup, resolve: false };
      // TLS to a resolved address still names the host it was found by (SRV targets: set tls.server_name).
      if (s.service === undefined) out.tls_name = s.host;
      delete out.service;
      return out;
    });
  };

  close(): void {
    this.#closed = true;
    for (const w of this.#watches.values()) this.#stop(w);
    this.#watches.clear();
  }

  #stop(w: Watch): void {
    clearTimeout(w.timer);
    w.client.cancel();
  }

  async #refresh(w: Watch, notify: boolean): Promise<void> {
    let ttl: number;
    try {
      const found = w.kind === 'srv' ? await this.#srv(w) : await this.#a(w);
      ttl = found.ttl;
      const before = describe(w.found);
      const after = describe(found.servers);
      w.found = found.servers;
      if (before !== after) {
        publish(w, 'discovery', `${w.name}: ${after || '(none)'}${w.asked ? ` (was ${before || 'none'})` : ''}`);
        if (notify && this.#watches.get(w.key) === w) this.#onChange();
      }
    } catch (err) {
      if (this.#closed) return;
      ttl = RETRY_AFTER_FAILURE_MS / 1000;
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      publish(w, 'resolve_failed', `${w.name}: ${code}; keeping the last good set (${w.found.length} address(es))`);
    }
    w.asked = true;
    if (this.#closed || this.#watches.get(w.key) !== w) return;
    const ms = Math.max(MIN_REFRESH_MS, Math.min(ttl > 0 ? ttl * 1000 : ZERO_TTL_REFRESH_MS, w.valid ?? Infinity));
    w.timer = setTimeout(() => void this.#refresh(w, true), ms).unref();
  }

  async #a(w: Watch): Promise<{ servers: Watch['found']; ttl: number }> {
    const ips = await w.client.addresses(w.name);
    return { servers: ips.map((a) => ({ ip: a.ip, port: w.port, weight: w.weight, backup: w.backup })), ttl: Math.min(...ips.map((a) => a.ttl)) };
  }

  async #srv(w: Watch): Promise<{ servers: Watch['found']; ttl: number }> {
    const recs = await w.client.srv(w.name);
    const top = Math.min(...recs.map((r) => r.priority));
    const servers = recs.map((r) => ({ ip: r.ip, port: r.port, weight: Math.max(1, r.weight), backup: w.backup || r.priority > top }));
    return { servers, ttl: Math.min(...recs.map((r) => r.ttl)) };
  }
}

/** Watches are per upstream, name, and the parameters the expansion fills in. */
function watchKey(upstream: string, s: ServerConfig): string {
  return `${upstream}|${s.service !== undefined ? 'srv' : 'a'}|${s.service ?? s.host}|${s.port}|${s.weight}|${s.backup}`;
}

function describe(found: Watch['found']): string {
  return found.map((f) => `${hostPort(f.ip, f.port)}${f.weight !== 1 ? ` weight=${f.weight}` : ''}${f.backup ? ' backup' : ''}`).sort().join(', ');
}

function publish(w: Watch, kind: 'discovery' | 'resolve_failed', reason: string): void {
  if (channels.upstream.hasSubscribers) channels.upstream.publish({ upstream: w.upstream, kind, reason });
}
