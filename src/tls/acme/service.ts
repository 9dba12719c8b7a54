import type { Config } from '../../config/types.js';
import { channels } from '../../observability/events.js';
import { AcmeManager, type AcmeOptions, type CertificateSink } from './manager.js';
import type { Http01Challenges } from './challenges.js';

interface Running {
  key: string;
  sink: CertificateSink;
  manager: AcmeManager;
}

/**
 * One AcmeManager per TLS listener with `tls.acme`, feeding that listener's certificate store.
 * With `workers: N`, every worker runs one; they share the storage folder, so one orders (it holds
 * the order lock), any worker answers the CA's challenges (read from the folder), and the others
 * pick the new certificate up from the folder.
 * Reloads keep a manager whose listener and settings did not change (no new order), and stop the
 * ones whose listener went away or changed its ACME settings.
 */
export class AcmeService {
  readonly #challenges: Http01Challenges;
  readonly #opts: AcmeOptions;
  readonly #running = new Map<string, Running>();

  constructor(challenges: Http01Challenges, opts: AcmeOptions = {}) {
    this.#challenges = challenges;
    this.#opts = opts;
  }

  /** The manager of a listener (tests, embedding). */
  manager(listener: string): AcmeManager | undefined {
    return this.#running.get(listener)?.manager;
  }

  sync(config: Config, storeFor: (listener: string) => CertificateSink | undefined): void {
    const wanted = new Set<string>();
    for (const lc of config.listeners) {
      const acme = lc.tls?.acme;
      const sink = acme ? storeFor(lc.name) : undefined;
      if (!acme || !sink) continue;
      wanted.add(lc.name);
      const key = JSON.stringify(acme);
      const cur = this.#running.get(lc.name);
      if (cur && cur.key === key && cur.sink === sink) continue;
      cur?.manager.close();
      const manager = new AcmeManager(acme, sink, this.#challenges, this.#opts);
      this.#running.set(lc.name, { key, sink, manager });
      manager.start().catch((err: Error) => {
        channels.lifecycle.publish({ level: 'error', msg: 'acme: could not start', listener: lc.name, error: err.message });
      });
    }
    for (const [name, r] of this.#running) {
      if (wanted.has(name)) continue;
      r.manager.close();
      this.#running.delete(name);
    }
    this.#syncDirs();
  }

  /** Serve answers written to the storage of every running manager (by whichever worker orders). */
  #syncDirs(): void {
    this.#challenges.dirs.clear();
    for (const r of this.#running.values()) this.#challenges.dirs.add(r.manager.challengeDir);
  }

  close(): void {
    for (const r of this.#running.values()) r.manager.close();
    this.#running.clear();
    this.#syncDirs();
  }
}
