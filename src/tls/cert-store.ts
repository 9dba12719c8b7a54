import type tls from 'node:tls';
import { tlsModule } from '../util/builtins.js';
import { unwatchFile, watchFile, type Stats } from 'node:fs';
import { loadCertificate, nameMatches, type LoadedCertificate } from './certificate.js';
import { channels } from '../observability/events.js';

/** Settings every certificate's secure context shares (the listener's `tls` options). */
export interface ContextSettings {
  minVersion: tls.SecureVersion;
  ciphers?: string | undefined;
  alpn: string[];
}

interface Entry {
  names: string[];
  context: tls.SecureContext;
  loaded: LoadedCertificate;
  /** The files it came from (config certificates); absent for certificates added at run time. */
  files?: { cert: string; key: string };
}

/** Knobs for tests: how often watched files are polled (ms). */
export interface CertStoreOptions {
  pollMs?: number;
}

/**
 * The certificates of one TLS listener, chosen by SNI. Certificates come from the config (files,
 * watched: a change on disk is re-read, checked and swapped in; a bad new file keeps the old
 * certificate and is reported on the lifecycle channel) or are added at run time with `set`
 * (ACME). Exact names win over wildcards; run-time certificates win over files for the same name;
 * no SNI or no match gives the default: the first config certificate.
 */
export class CertStore {
  #settings: ContextSettings;
  #files: Entry[] = [];
  readonly #runtime = new Map<string, Entry>();
  readonly #pollMs: number;
  readonly #watched = new Map<string, (cur: Stats, prev: Stats) => void>();
  /** Called when the default certificate changes (the server's own context must follow). */
  onDefaultChange: (() => void) | undefined;

  constructor(settings: ContextSettings, opts: CertStoreOptions = {}) {
    this.#settings = settings;
    this.#pollMs = opts.pollMs ?? 2000;
  }

  /** Replace the config certificates (already validated by the config loader; throws if they no longer load). */
  configure(settings: ContextSettings, files: Array<{ cert: string; key: string }>): void {
    const entries = files.map((f) => this.#entry(loadCertificate(f.cert, f.key), settings, f));
    this.#settings = settings;
    this.#files = entries;
    for (const [k, e] of this.#runtime) this.#runtime.set(k, this.#entry(e.loaded, settings));
    this.#watch();
    this.onDefaultChange?.();
  }

  /** Add or replace a certificate at run time (e.g. one ACME just issued) for these names. */
  set(names: string[], cert: string, key: string): void {
    const lower = names.map((n) => n.toLowerCase());
    this.#runtime.set(lower.join(','), this.#entry({ cert, key, names: lower }, this.#settings));
    if (this.#files.length === 0) this.onDefaultChange?.();
  }

  /** The secure context for a client's SNI name (or the default). */
  contextFor(servername: string | undefined): tls.SecureContext | undefined {
    const e = servername ? this.#find(servername.toLowerCase()) : undefined;
    return (e ?? this.#default())?.context;
  }

  /** For tls.Server's SNICallback. */
  readonly sniCallback = (servername: string, cb: (err: Error | null, ctx?: tls.SecureContext) => void): void => {
    cb(null, this.contextFor(servername));
  };

  /** Certificate and key of the default certificate, for the server's own options (clients without SNI). */
  defaultPair(): { cert: string; key: string } | undefined {
    const e = this.#default();
    return e ? { cert: e.loaded.cert, key: e.loaded.key } : undefined;
  }

  /** Stop watching files. */
  close(): void {
    for (const [path, fn] of this.#watched) unwatchFile(path, fn);
    this.#watched.clear();
  }

  #default(): Entry | undefined {
    return this.#files[0] ?? this.#runtime.values().next().value;
  }

  #find(name: string): Entry | undefined {
    const all = [...this.#runtime.values(), ...this.#files];
    return all.find((e) => e.names.includes(name)) ?? all.find((e) => e.names.some((p) => p.startsWith('*.') && nameMatches(p, name)));
  }

  #entry(loaded: LoadedCertificate, s: ContextSettings, files?: { cert: string; key: string }): Entry {
    const context = tlsModule().createSecureContext({ cert: loaded.cert, key: loaded.key, minVersion: s.minVersion, ciphers: s.ciphers });
    const e: Entry = { names: loaded.names, context, loaded };
    if (files) e.files = files;
    return e;
  }

  #watch(): void {
    const want = new Set(this.#files.flatMap((e) => [e.files!.cert, e.files!.key]));
    for (const [path, fn] of this.#watched) {
      if (want.has(path)) continue;
      unwatchFile(path, fn);
      this.#watched.delete(path);
    }
    for (const path of want) {
      if (this.#watched.has(path)) continue;
      const fn = (cur: Stats, prev: Stats) => {
        if (cur.mtimeMs !== prev.mtimeMs || cur.size !== prev.size || cur.ino !== prev.ino) this.#reread(path);
      };
      watchFile(path, { interval: this.#pollMs, persistent: false }, fn);
      this.#watched.set(path, fn);
    }
  }

  /** A watched file changed: reload the certificates that use it, keeping the old one if the new files are bad. */
  #reread(path: string): void {
    this.#files = this.#files.map((e, i) => {
      const f = e.files!;
      if (f.cert !== path && f.key !== path) return e;
      try {
        const next = this.#entry(loadCertificate(f.cert, f.key), this.#settings, f);
        channels.lifecycle.publish({ level: 'info', msg: 'certificate reloaded', cert: f.cert, names: next.names });
        if (i === 0) queueMicrotask(() => this.onDefaultChange?.());
        return next;
      } catch (err) {
        channels.lifecycle.publish({ level: 'error', msg: 'certificate reload failed; keeping the previous one', cert: f.cert, key: f.key, err: (err as Error).message });
        return e;
      }
    });
  }
}
