import { readFileSync } from 'node:fs';
import type { X509Certificate } from 'node:crypto';
import { cryptoModule } from '../util/builtins.js';

/** A certificate and key as read from PEM files, with the host names the certificate is for. */
export interface LoadedCertificate {
  cert: string;
  key: string;
  /** Lower-case DNS names from subjectAltName, or the subject CN when there are none; may hold `*.` wildcards. */
  names: string[];
}

/** A certificate or key file that cannot be used; `field` says which of the two (`cert` or `key`). */
export class CertificateError extends Error {
  constructor(
    readonly field: 'cert' | 'key',
    message: string,
  ) {
    super(message);
  }
}

function readPem(path: string, field: 'cert' | 'key'): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new CertificateError(field, `cannot read ${JSON.stringify(path)}: ${err.code === 'ENOENT' ? 'the file does not exist' : err.message}`);
  }
  if (!text.includes('-----BEGIN ')) throw new CertificateError(field, `${JSON.stringify(path)} is not a PEM file`);
  return text;
}

/** The DNS names a certificate is valid for: subjectAltName DNS entries, else the CN. */
export function certificateNames(x509: X509Certificate): string[] {
  const san = x509.subjectAltName;
  const dns = (san ?? '')
    .split(/,\s*/)
    .filter((e) => e.startsWith('DNS:'))
    .map((e) => e.slice(4).toLowerCase());
  if (dns.length > 0) return dns;
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(x509.subject)?.[1];
  return cn ? [cn.toLowerCase()] : [];
}

/**
 * Read and check a certificate (chain) and its private key: both readable PEM, and the key the
 * one that belongs to the (first) certificate. Throws CertificateError naming the bad file.
 */
export function loadCertificate(certPath: string, keyPath: string): LoadedCertificate {
  const cert = readPem(certPath, 'cert');
  const key = readPem(keyPath, 'key');
  let x509: X509Certificate;
  try {
    x509 = new (cryptoModule().X509Certificate)(cert);
  } catch (e) {
    throw new CertificateError('cert', `${JSON.stringify(certPath)} holds no valid certificate (${(e as Error).message})`);
  }
  let pk;
  try {
    pk = cryptoModule().createPrivateKey(key);
  } catch (e) {
    throw new CertificateError('key', `${JSON.stringify(keyPath)} holds no valid private key (${(e as Error).message})`);
  }
  if (!x509.checkPrivateKey(pk)) throw new CertificateError('key', `${JSON.stringify(keyPath)} is not the private key of ${JSON.stringify(certPath)}`);
  return { cert, key, names: certificateNames(x509) };
}

/** Does a certificate name (`a.example.com` or `*.example.com`) cover this server name? A wildcard covers one label. */
export function nameMatches(pattern: string, servername: string): boolean {
  if (!pattern.startsWith('*.')) return pattern === servername;
  const dot = servername.indexOf('.');
  return dot > 0 && servername.slice(dot + 1) === pattern.slice(2);
}
