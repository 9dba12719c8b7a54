import type { Config } from './config/types.js';
import { validateConfig, formatIssue, type ConfigIssue } from './config/load.js';
import { HeadwaterError } from './errors.js';
import type { BalancerDeps } from './balancer/types.js';
import { defaultBalancerDeps } from './balancer/registry.js';
import { RouteTable } from './router/router.js';
import { HostRegistry } from './upstream/registry.js';
import { HealthService } from './health/service.js';
import { Discovery } from './discovery/discovery.js';
import { PoolSet } from './transport/pools.js';
import { RetryPolicy } from './proxy/retry-policy.js';
import type { Runtime } from './proxy/handler.js';
import { HttpListener } from './server/listener.js';
import { LeanListener } from './server/lean/listener.js';
import { SecureListener } from './server/secure-listener.js';
import { listenerKind } from './server/kind.js';
import type { CertStore } from './tls/cert-store.js';
import { TcpListener } from './stream/listener.js';
import { SpliceSet } from './stream/splice.js';
import { AccessLog } from './observability/access-log.js';
import { channels } from './observability/events.js';
import { Http01Challenges } from './tls/acme/challenges.js';
import { AcmeService } from './tls/acme/service.js';
import type { AcmeOptions } from './tls/acme/manager.js';
import { busyPoller } from './util/busy-poll.js';

/** Knobs for embedding and tests; a CLI user never needs them. */
export interface GatewayOptions {
  /** Clock in ms (default: the monotonic clock, util/clock.ts). */
  now?: () => number;
  /** Uniform [0,1) source for balancers (default Math.random). */
  random?: () => number;
  /** Write the access log as configured (default true). Tests may turn it off. */
  accessLog?: boolean;
  /** How often TLS certificate files are polled for changes, in ms (default 2000). */
  certPollMs?: number;
  /** ACME timings (tests shorten the retry delay). */
  acme?: AcmeOptions;
}

/** A configuration was refused; `issues` lists every problem, as `headwater check` prints them. */
export class ConfigError extends HeadwaterError {
  readonly issues: ConfigIssue[];
  constructor(issues: ConfigIssue[]) {
    super('HW_ERR_CONFIG', `invalid configuration:\n${issues.map(formatIssue).join('\n')}`);
    this.issues = issues;
  }
}

/** Validate a user config object (the YAML vocabulary) or pass through an already normalized one. */
export function toConfig(input: unknown): Config {
  const r = validateConfig(input, '<config>');
  if (!r.ok) throw new ConfigError(r.issues);
  return r.config;
}

/**
 * The running gateway: listeners, the current runtime (router, upstream groups, pools), and the
 * host registry that keeps server state across reloads. Reload swaps the runtime atomically.
 */
export class Gateway {
  #runtime: Runtime;
  #listeners = new Map<string, HttpListener | LeanListener | SecureListener | TcpListener>();
  readonly #splices = new SpliceSet();
  readonly #hosts = new HostRegistry();
  readonly #pools = new PoolSet();
  readonly #deps: BalancerDeps;
  readonly #health: HealthService;
  readonly #discovery: Discovery;
  readonly #opts: GatewayOptions;
  /** ACME http-01 answers pending on any listener's certificate order. */
  readonly challenges = new Http01Challenges();
  /** Certificates ordered from ACME CAs for listeners with `tls.acme`. */
  readonly acme: AcmeService;
  #log: AccessLog | undefined;
  #logKey = '';
  #closed = false;
  /** Reloads in progress (they await DNS answers for new names before building). */
  #reloading = 0;

  constructor(config: Config, opts: GatewayOptions = {}) {
    this.#opts = opts;
    this.acme = new AcmeService(this.challenges, opts.acme);
    this.#deps = { now: opts.now ?? defaultBalancerDeps.now, random: opts.random ?? defaultBalancerDeps.random };
    this.#health = new HealthService(this.#deps);
    this.#discovery = new Discovery(() => {
      // DNS answers changed: the same configuration, rebuilt over the servers found now (a
      // reload under way builds with the latest answers itself).
      if (!this.#closed && this.#reloading === 0) this.#runtime = this.#build(this.#runtime.config);
    });
    this.#discovery.sync(config);
    this.#runtime = this.#build(config);
  }

  get config(): Config {
    return this.#runtime.config;
  }

  #build(config: Config): Runtime {
    const groups = this.#hosts.build(config, this.#deps, this.#discovery.expand);
    const pools = this.#pools.build(groups.values(), config.engine);
    const retry = new Map<string, RetryPolicy>();
    for (const [name, g] of groups) retry.set(name, new RetryPolicy(g.config.retry, name));
    this.#health.sync(groups.values());
    return { config, router: new RouteTable(config.routes), groups, pools, retry, now: this.#deps.now, challenges: this.challenges, splices: this.#splices };
  }

  #applyLog(config: Config): void {
    const want = this.#opts.accessLog !== false && config.access_log.enabled;
    const key = want ? `${config.access_log.path}\n${config.access_log.format}` : '';
    if (key === this.#logKey) return;
    void this.#log?.close();
    this.#log = want ? new AccessLog({ path: config.access_log.path, format: config.access_log.format }) : undefined;
    this.#logKey = key;
  }

  /** Resolve DNS-discovered servers, then bind every listener. Rejects (and closes what was opened) if one cannot bind. */
  async start(): Promise<void> {
    this.#applyLog(this.#runtime.config);
    busyPoller.enabled = this.#runtime.config.busy_polling;
    try {
      await this.#discovery.resolveNew();
      this.#runtime = this.#build(this.#runtime.config);
      await this.#openListeners(this.#runtime.config);
    } catch (err) {
      await this.close(0);
      throw err;
    }
    this.#hosts.markStarted();
    this.acme.sync(this.#runtime.config, (name) => this.certificates(name));
    channels.lifecycle.publish({ level: 'info', msg: 'started', listeners: this.addresses() });
  }

  /** Bind listeners the config adds. All or nothing: on failure the ones just opened are closed. */
  async #openListeners(config: Config): Promise<void> {
    const added: string[] = [];
    try {
      for (const lc of config.listeners) {
        const key = listenerKey(lc);
        const kept = this.#listeners.get(key);
        if (kept && listenerKind(kept.config) === listenerKind(lc)) {
          kept.reconfigure(lc);
          continue;
        }
        if (kept) {
          // Same address, another kind (say TLS added): the old socket must go before the new one binds.
          this.#listeners.delete(key);
          await kept.close(config.shutdown_timeout);
        }
        const rt = () => this.#runtime;
        const l =
          lc.protocol === 'tcp'
            ? new TcpListener(lc, rt)
            : listenerKind(lc) !== 'http'
              ? new SecureListener(lc, rt, { certPollMs: this.#opts.certPollMs, engine: config.engine })
              : new (config.engine === 'lean' ? LeanListener : HttpListener)(lc, rt);
        await l.listen();
        this.#listeners.set(key, l);
        added.push(key);
      }
    } catch (err) {
      for (const key of added) {
        void this.#listeners.get(key)?.close(0);
        this.#listeners.delete(key);
      }
      throw err;
    }
  }

  /** Close listeners the config no longer has; their in-flight requests may finish. */
  #closeRemovedListeners(config: Config): void {
    const wanted = new Set(config.listeners.map(listenerKey));
    for (const [key, l] of this.#listeners) {
      if (wanted.has(key)) continue;
      this.#listeners.delete(key);
      void l.close(config.shutdown_timeout);
    }
  }

  /**
   * The certificate store of a TLS listener, by name: add certificates at run time with
   * `set(names, cert, key)` (e.g. from ACME); they are served by SNI at once.
   */
  certificates(listener: string): CertStore | undefined {
    for (const l of this.#listeners.values()) if (l.config.name === listener && l instanceof SecureListener) return l.certs;
    return undefined;
  }

  /** Where each listener is bound (port filled in when the config said 0). */
  addresses(): Array<{ name: string; host: string; port: number; url: string }> {
    return [...this.#listeners.values()].map((l) => {
      const host = l.config.host.includes(':') ? `[${l.config.host}]` : l.config.host;
      return { name: l.config.name, host: l.config.host, port: l.port, url: `${l.config.protocol === 'tcp' ? 'tcp' : l.config.tls ? 'https' : 'http'}://${host}:${l.port}` };
    });
  }

  /**
   * Apply a new configuration. Input is validated exactly like `headwater check`; an invalid one
   * throws ConfigError and the running configuration stays. In-flight requests finish on the old one.
   */
  async reload(input: Config | unknown, prevalidated = false): Promise<void> {
    if (this.#closed) throw new HeadwaterError('HW_ERR_SHUTTING_DOWN');
    let config: Config;
    try {
      config = prevalidated ? (input as Config) : toConfig(input);
    } catch (err) {
      if (err instanceof ConfigError) channels.reload.publish({ ok: false, issues: err.issues.map(formatIssue) });
      throw err;
    }
    await this.#openListeners(config);
    this.#reloading++;
    try {
      this.#discovery.sync(config);
      await this.#discovery.resolveNew();
    } finally {
      this.#reloading--;
    }
    this.#runtime = this.#build(config);
    this.#closeRemovedListeners(config);
    this.acme.sync(config, (name) => this.certificates(name));
    this.#applyLog(config);
    busyPoller.enabled = config.busy_polling;
    channels.reload.publish({ ok: true });
  }

  /** Graceful stop: no new connections, in-flight requests get `graceMs` (default shutdown_timeout). */
  async close(graceMs = this.#runtime.config.shutdown_timeout): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    busyPoller.enabled = false;
    this.acme.close();
    this.#health.close();
    this.#discovery.close();
    this.#hosts.close();
    await Promise.all([...[...this.#listeners.values()].map((l) => l.close(graceMs)), this.#splices.close(graceMs)]);
    this.#listeners.clear();
    await this.#pools.close(0);
    await this.#log?.close();
    this.#log = undefined;
  }
}

/** A listener is kept across a reload when its address and protocol stay the same. */
function listenerKey(lc: Config['listeners'][number]): string {
  return `${lc.host}|${lc.port}|${lc.protocol}`;
}

/**
 * Start a gateway from a configuration object written in the same vocabulary as headwater.yaml.
 * Resolves once every listener is bound.
 */
export async function createGateway(config: unknown, opts: GatewayOptions = {}): Promise<Gateway> {
  const gw = new Gateway(toConfig(config), opts);
  await gw.start();
  return gw;
}
