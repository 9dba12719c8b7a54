import type { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cryptoModule, httpsModule, tlsModule } from '../../util/builtins.js';
import type * as AcmeClient from 'acme-client';
import { channels } from '../../observability/events.js';
import { AcmeStorage } from './storage.js';
import type { Http01Challenges } from './challenges.js';

/** `listeners[].tls.acme` after normalization (durations in ms). */
export interface AcmeSettings {
  email: string;
  /** The ACME directory URL (default Let's Encrypt production). */
  directory: string;
  /** Names on the certificate; the first is its common name and names its storage folder. */
  domains: string[];
  /** Folder for the account key and certificates. */
  storage: string;
  /** Extra CA (PEM file) trusted for the directory's HTTPS, besides the system roots (private CAs, pebble). */
  ca?: string | undefined;
  /** Renew when the certificate expires within this many ms. */
  renew_before: number;
}

/** Where an obtained certificate goes (the listener's SNI certificate store). */
export interface CertificateSink {
  set(names: string[], cert: string, key: string): void;
}

export interface AcmeOptions {
  /** Wall clock in ms (certificates are dated in wall time). Default Date.now. */
  now?: () => number;
  /** How often a valid certificate is looked at again. Default 12 h. */
  checkEveryMs?: number;
  /** First retry delay after a failed order; doubles up to checkEveryMs. Default 60 s. */
  retryMinMs?: number;
  /** While another process (a worker sharing the storage) orders, how often storage is re-read. Default 10 s. */
  followMs?: number;
}

type Acme = typeof AcmeClient;
let acmeModule: Promise<Acme> | undefined;
/** acme-client (and axios under it) loads only when a listener uses ACME. */
function loadAcme(): Promise<Acme> {
  acmeModule ??= import('acme-client').then((m) => ((m as unknown as { default?: Acme }).default ?? m) as Acme);
  return acmeModule;
}
/** Extra CAs every ACME request trusts (acme-client shares one axios instance per process). */
const extraCas = new Set<string>();

/**
 * Obtains and renews one certificate for `domains` from an ACME CA (RFC 8555) with http-01
 * challenges answered by the gateway's own HTTP listeners. A stored certificate that still covers
 * the domains and is not due for renewal is used at once; otherwise an order runs in the
 * background (listeners are already serving). Failures are logged and retried with backoff; the
 * certificate in use stays until a new one is in hand.
 */
export class AcmeManager {
  readonly settings: AcmeSettings;
  readonly #sink: CertificateSink;
  readonly #challenges: Http01Challenges;
  readonly #storage: AcmeStorage;
  readonly #now: () => number;
  readonly #checkEvery: number;
  readonly #retryMin: number;
  readonly #followMs: number;
  #notAfter = 0;
  #failures = 0;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #closed = false;
  #waiters: Array<() => void> = [];

  constructor(settings: AcmeSettings, sink: CertificateSink, challenges: Http01Challenges, opts: AcmeOptions = {}) {
    this.settings = settings;
    this.#sink = sink;
    this.#challenges = challenges;
    this.#storage = new AcmeStorage(settings.storage);
    this.#now = opts.now ?? Date.now;
    this.#checkEvery = opts.checkEveryMs ?? 12 * 3600_000;
    this.#retryMin = opts.retryMinMs ?? 60_000;
    this.#followMs = opts.followMs ?? 10_000;
  }

  /** Where this manager's pending http-01 answers are written for every worker to serve. */
  get challengeDir(): string {
    return this.#storage.challengeDir;
  }

  /** When the certificate in use expires (ms), 0 while there is none. */
  get notAfter(): number {
    return this.#notAfter;
  }

  /** Load what storage has, then check (in the background) whether an order is needed. */
  async start(): Promise<void> {
    await this.#loadStored();
    this.#schedule(0);
  }

  /** Install the stored certificate if it covers the domains and outlives the one in use. */
  async #loadStored(): Promise<void> {
    const stored = await this.#storage.readCertificate(this.settings.domains[0]!).catch(() => undefined);
    if (stored === undefined) return;
    const notAfter = coveredUntil(stored.cert, this.settings.domains);
    if (notAfter > this.#now() && notAfter > this.#notAfter) this.#install(stored.cert, stored.key, notAfter, 'storage');
  }

  /** Resolves once a certificate is in use (tests, embedding). */
  ready(): Promise<void> {
    if (this.#notAfter > 0) return Promise.resolve();
    return new Promise((r) => this.#waiters.push(r));
  }

  /** Stop renewing; an order in flight finishes but installs nothing. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Is an order due now? (No certificate, or it expires within renew_before.) */
  due(): boolean {
    return this.#notAfter - this.#now() <= this.settings.renew_before;
  }

  #schedule(ms: number): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.check(), ms).unref();
  }

  /** Order a certificate if one is due; schedule the next look. */
  check(): Promise<void> {
    this.#running ??= this.#check().finally(() => (this.#running = undefined));
    return this.#running;
  }

  async #check(): Promise<void> {
    if (this.#closed) return;
    // Another process sharing the storage (a worker) may have renewed it already.
    if (this.due()) await this.#loadStored();
    if (!this.due()) {
      this.#schedule(Math.min(this.#checkEvery, this.#notAfter - this.settings.renew_before - this.#now()));
      return;
    }
    const domains = this.settings.domains;
    // One process orders (workers share the storage); the others pick its certificate up there.
    let release: (() => Promise<void>) | undefined;
    try {
      release = await this.#storage.lock(domains[0]!);
    } catch (err) {
      return this.#failed(err as Error);
    }
    if (release === undefined) {
      this.#schedule(this.#followMs);
      return;
    }
    try {
      // The lock's last holder may have stored a new certificate just before letting go.
      await this.#loadStored();
      if (!this.due()) {
        this.#schedule(Math.min(this.#checkEvery, this.#notAfter - this.settings.renew_before - this.#now()));
        return;
      }
      const { cert, key } = await this.#order();
      if (this.#closed) return;
      const notAfter = coveredUntil(cert, domains);
      if (notAfter <= this.#now()) throw new Error('the CA issued a certificate that does not cover the domains or has expired');
      await this.#storage.writeCertificate(domains[0]!, cert, key);
      this.#failures = 0;
      this.#install(cert, key, notAfter, 'acme');
      this.#schedule(Math.min(this.#checkEvery, Math.max(1000, notAfter - this.settings.renew_before - this.#now())));
    } catch (err) {
      this.#failed(err as Error);
    } finally {
      await release();
    }
  }

  /** An order (or the storage) failed: log it, keep what is in use, retry with backoff. */
  #failed(err: Error): void {
    if (this.#closed) return;
    const wait = Math.min(this.#checkEvery, this.#retryMin * 2 ** this.#failures++);
    channels.lifecycle.publish({
      level: 'error', msg: 'acme: could not obtain a certificate', domains: this.settings.domains, directory: this.settings.directory,
      error: err.message, retry_in_ms: wait, keeping: this.#notAfter > 0 ? 'the current certificate' : 'no certificate yet',
    });
    this.#schedule(wait);
  }

  #install(cert: string, key: string, notAfter: number, source: 'storage' | 'acme'): void {
    this.#sink.set(this.settings.domains, cert, key);
    this.#notAfter = notAfter;
    channels.lifecycle.publish({ level: 'info', msg: `acme: certificate from ${source}`, domains: this.settings.domains, not_after: new Date(notAfter).toISOString() });
    for (const w of this.#waiters.splice(0)) w();
  }

  async #order(): Promise<{ cert: string; key: string }> {
    const acme = await loadAcme();
    this.#trustCa(acme);
    const s = this.settings;
    let accountKey = await this.#storage.readAccountKey();
    if (accountKey === undefined) {
      accountKey = (await acme.crypto.createPrivateEcdsaKey('P-256')).toString();
      await this.#storage.writeAccountKey(accountKey);
    }
    const client = new acme.Client({ directoryUrl: s.directory, accountKey, backoffAttempts: 5, backoffMin: 200, backoffMax: 5000 });
    const certKey = await acme.crypto.createPrivateEcdsaKey('P-256');
    const [, csr] = await acme.crypto.createCsr({ commonName: s.domains[0]!, altNames: s.domains }, certKey);
    const cert = await client.auto({
      csr,
      email: s.email,
      termsOfServiceAgreed: true,
      challengePriority: ['http-01'],
      // The CA checks for itself; a self-check would need the public DNS name to reach us.
      skipChallengeVerification: true,
      challengeCreateFn: async (_authz, challenge, keyAuthorization) => {
        if (challenge.type !== 'http-01') throw new Error(`unsupported challenge ${challenge.type}`);
        this.#challenges.set(challenge.token, keyAuthorization);
        await this.#storage.writeChallenge(challenge.token, keyAuthorization);
      },
      challengeRemoveFn: async (_authz, challenge) => {
        this.#challenges.delete(challenge.token);
        await this.#storage.deleteChallenge(challenge.token);
      },
    });
    return { cert, key: certKey.toString() };
  }

  #trustCa(acme: Acme): void {
    const file = this.settings.ca;
    if (file === undefined) return;
    const pem = readFileSync(file, 'utf8');
    if (extraCas.has(pem)) return;
    extraCas.add(pem);
    acme.axios.defaults.httpsAgent = new (httpsModule().Agent)({ ca: [...tlsModule().rootCertificates, ...extraCas], keepAlive: true });
  }
}

/**
 * When a PEM chain's leaf stops covering every domain: its notAfter in ms, or 0 when it does not
 * name them all (a changed domain list needs a new order) or cannot be read.
 */
export function coveredUntil(chainPem: string, domains: readonly string[]): number {
  let leaf: X509Certificate;
  try {
    leaf = new (cryptoModule().X509Certificate)(chainPem);
  } catch {
    return 0;
  }
  const names = new Set(
    (leaf.subjectAltName ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.startsWith('DNS:'))
      .map((s) => s.slice(4).toLowerCase()),
  );
  for (const d of domains) if (!names.has(d.toLowerCase())) return 0;
  return Date.parse(leaf.validTo);
}
