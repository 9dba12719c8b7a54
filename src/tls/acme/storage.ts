import { mkdir, readFile, writeFile, rename } from 'node:fs/promises';
import path from 'node:path';

/**
 * What ACME keeps on disk under `storage` (created 0700, keys 0600):
 *   account.key             the ACME account's private key (PEM)
 *   <first domain>/cert.pem the certificate chain (PEM), leaf first
 *   <first domain>/key.pem  its private key (PEM)
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

  #certPath(name: string, file: string): string {
    return path.join(this.dir, safeName(name), file);
  }

  async #write(rel: string, data: string): Promise<void> {
    const file = path.join(this.dir, rel);
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, data, { mode: 0o600 });
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
