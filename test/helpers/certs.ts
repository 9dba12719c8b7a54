import { execFileSync } from 'node:child_process';
import { before, after } from 'node:test';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A throwaway certificate authority and the leaf certificates it signs, made with the openssl CLI. */
export interface TestPki {
  dir: string;
  /** CA certificate path and PEM. */
  caPath: string;
  ca: string;
  /** A leaf certificate signed by the CA for these SANs (`DNS:x`, `IP:127.0.0.1`); files named `<name>.pem` / `<name>.key`. */
  leaf(name: string, sans: string[], opts?: { cn?: string }): { cert: string; key: string };
  /** A self-signed certificate not from the CA. */
  selfSigned(name: string, sans: string[]): { cert: string; key: string };
  remove(): void;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

const KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** Make a CA in a new temp dir (fast: EC P-256 keys). */
export function makePki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'hw-pki-'));
  openssl(['req', '-x509', ...KEY, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Headwater Test CA'], dir);
  const ext = (name: string, sans: string[]) => {
    const f = `${name}.ext`;
    writeFileSync(join(dir, f), `basicConstraints=CA:FALSE\n${sans.length ? `subjectAltName=${sans.join(',')}\n` : ''}`);
    return f;
  };
  return {
    dir,
    caPath: join(dir, 'ca.pem'),
    ca: readFileSync(join(dir, 'ca.pem'), 'utf8'),
    leaf(name, sans, opts = {}) {
      openssl(['req', ...KEY, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${opts.cn ?? name}`], dir);
      openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', ext(name, sans)], dir);
      return { cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) };
    },
    selfSigned(name, sans) {
      openssl(['req', '-x509', ...KEY, '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', `/CN=${name}`, '-addext', `subjectAltName=${sans.join(',')}`], dir);
      return { cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) };
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A PKI for one test file: made before its tests with a leaf per entry of `leaves` (name -> SANs), removed after. */
export function filePki(leaves: Record<string, string[]>): { pki: TestPki; pairs: Record<string, { cert: string; key: string }> } {
  const out = { pki: undefined as unknown as TestPki, pairs: {} as Record<string, { cert: string; key: string }> };
  before(() => {
    out.pki = makePki();
    for (const [name, sans] of Object.entries(leaves)) out.pairs[name] = out.pki.leaf(name, sans);
  });
  after(() => out.pki.remove());
  return out;
}
