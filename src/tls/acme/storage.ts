import { mkdir, readFile, writeFile, rename, open, unlink, stat } from 'node:fs/promises';
import path from 'node:path';
import { cryptoModule } from '../../util/builtins.js';

/**
 * What ACME keeps on disk under `storage` (created 0700, keys 0600):
 *   account.key             the ACME account's private key (PEM)
 *   <first domain>/cert.pem the certificate chain (PEM), leaf first
 *   <first domain>/key.pem  its private key (PEM)
 *   <first domain>/order.lock  held by the one process ordering for these domains
 *   http-01/<token>         pending challenge answers, so every worker process can serve them
 * Files are written to a temporary name and renamed, so a crash never leaves half a key.
 */
export class AcmeStorage {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  async readAccountKey(): Promise<string | undefined> {
    return readOptional(path.join(this.dir, 'account.key'));
  }

  async writeAccountKey(pem: string): Promise<void> {
    await this.#write('account.key', pem);
  }

  async readCertificate(name: string): Promise<{ cert: string; key: string } | undefined> {
    const [cert, key] = await Promise.all([readOptional(this.#certPath(name, 'cert.pem')), readOptional(this.#certPath(name, 'key.pem'))]);
    return cert !== undefined && key !== undefined ? { cert, key } : undefined;
  }

  async writeCertificate(name: string, cert: string, key: string): Promise<void> {
    await this.#write(path.join(safeName(name), 'key.pem'), key);
    await this.#write(path.join(safeName(name), 'cert.pem'), cert);
  }

  /** Where pending http-01 answers are kept (any worker of the gateway may be asked for them). */
  get challengeDir(): string {
    return path.join(this.dir, 'http-01');
  }

  async writeChallenge(token: string, keyAuthorization: string): Promise<void> {
    await this.#write(path.join('http-01', token), keyAuthorization, 0o644);
  }

  async deleteChallenge(token: string): Promise<void> {
    await unlink(path.join(this.challengeDir, token)).catch(() => undefined);
  }

  /**
   * Take the order lock for `name`: one process orders, the others (workers sharing the storage)
   * wait for its certificate. A lock whose process is gone, or older than `staleMs`, is taken over.
   * Resolves with a release function, or undefined when another live process holds it.
   */
  async lock(name: string, staleMs = 10 * 60_000): Promise<(() => Promise<void>) | undefined> {
    const file = this.#certPath(name, 'order.lock');
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    const owner = `${process.pid} ${cryptoModule().randomUUID()}`;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fh = await open(file, 'wx', 0o600);
        await fh.writeFile(owner);
        await fh.close();
        return async () => {
          if ((await readOptional(file)) === owner) await unlink(file).catch(() => undefined);
        };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const held = await readOptional(file);
        const age = await stat(file).then((s) => Date.now() - s.mtimeMs, () => 0);
        if (held !== undefined && alive(Number(held.split(' ')[0])) && age < staleMs) return undefined;
        await unlink(file).catch(() => undefined);
      }
    }
    return undefined;
  }

  #certPath(name: string, file: string): string {
    return path.join(this.dir, safeName(name), file);
  }

  async #write(rel: string, data: string, mode = 0o600): Promise<void> {
    const file = path.join(this.dir, rel);
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.${cryptoModule().randomUUID()}.tmp`;
    await writeFile(tmp, data, { mode });
    await rename(tmp, file);
  }
}

/** A domain as a directory name: lower case, only [a-z0-9.-] (anything else becomes _). */
export function safeName(domain: string): string {
  const s = domain.toLowerCase().replace(/[^a-z0-9.-]/g, '_');
  return s === '' || s === '.' || s === '..' ? '_' : s;
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
