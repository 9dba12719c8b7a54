/**
 * Checks of TLS settings that need the files they name: certificates and keys are read and
 * matched at load time, so `headwater check` reports a bad file and a reload with one is refused.
 * Paths are resolved against `baseDir` (the config file's directory), as normalize() does.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { isIP } from 'node:net';
import { childPath, entry, type RawIssue, type RawNode } from './raw.js';
import { CertificateError, loadCertificate } from '../tls/certificate.js';
import { tlsModule } from '../util/builtins.js';

const str = (n: RawNode | undefined): string | undefined =>
  n?.kind === 'scalar' && typeof n.value === 'string' && n.value !== '' ? n.value : undefined;
const flag = (n: RawNode | undefined, dflt: boolean): boolean => (n?.kind === 'scalar' && typeof n.value === 'boolean' ? n.value : dflt);

export function tlsChecks(root: RawNode, baseDir: string): RawIssue[] {
  const issues: RawIssue[] = [];
  const at = (node: RawNode, path: string, field: string, message: string) => {
    const e = entry(node, field);
    issues.push({ pos: e?.value.pos ?? node.pos, path: childPath(path, field), message });
  };
  const pair = (node: RawNode, path: string) => {
    const cert = str(entry(node, 'cert')?.value);
    const key = str(entry(node, 'key')?.value);
    if (cert === undefined || key === undefined) return;
    try {
      loadCertificate(resolve(baseDir, cert), resolve(baseDir, key));
    } catch (e) {
      if (!(e instanceof CertificateError)) throw e;
      at(node, path, e.field, e.message);
    }
  };

  const listeners = entry(root, 'listeners')?.value;
  (listeners?.kind === 'seq' ? listeners.items : []).forEach((l, i) => {
    const path = childPath('listeners', i);
    const t = entry(l, 'tls')?.value;
    const hasTls = t?.kind === 'map';
    const h2c = flag(entry(l, 'h2c')?.value, false);
    if (str(entry(l, 'protocol')?.value) === 'tcp') {
      for (const k of ['tls', 'http2', 'h2c', 'http2_limits'] as const) if (entry(l, k)) at(l, path, k, `expected no "${k}" on a tcp listener (TLS and HTTP/2 are for http listeners)`);
      return;
    }
    if (flag(entry(l, 'http2')?.value, false) && !hasTls) at(l, path, 'http2', 'expected http2 only on a listener with tls (use h2c: true for cleartext HTTP/2)');
    if (h2c && hasTls) at(l, path, 'h2c', 'expected h2c only on a listener without tls (use http2: true with tls)');
    if (entry(l, 'http2_limits') && !flag(entry(l, 'http2')?.value, false) && !h2c) {
      at(l, path, 'http2_limits', 'expected http2_limits only on a listener with http2 or h2c');
    }
    if (!hasTls) return;
    const tpath = childPath(path, 'tls');
    const certs = entry(t, 'certificates')?.value;
    const acme = entry(t, 'acme')?.value;
    if (certs === undefined && acme === undefined) at(t, tpath, 'certificates', 'missing required key "certificates" (or "acme" to obtain certificates automatically)');
    if (acme?.kind === 'map') acmeChecks(acme, childPath(tpath, 'acme'), at);

    (certs?.kind === 'seq' ? certs.items : []).forEach((c, j) => pair(c, childPath(childPath(tpath, 'certificates'), j)));
    const ciphers = str(entry(t, 'ciphers')?.value);
    if (ciphers !== undefined) {
      try {
        tlsModule().createSecureContext({ ciphers });
      } catch (e) {
        at(t, tpath, 'ciphers', `expected an OpenSSL cipher list, found ${JSON.stringify(ciphers)} (${(e as Error).message})`);
      }
    }
    const alpn = entry(t, 'alpn')?.value;
    if (alpn?.kind === 'seq' && alpn.items.some((n) => str(n) === 'h2') && !flag(entry(l, 'http2')?.value, false)) {
      at(t, tpath, 'alpn', 'expected no "h2" in alpn unless http2 is true');
    }
  });

  const upstreams = entry(root, 'upstreams')?.value;
  for (const e of upstreams?.kind === 'map' ? upstreams.entries : []) {
    const path = childPath('upstreams', e.key);
    const t = entry(e.value, 'tls')?.value;
    const tlsOn = t?.kind === 'map' && flag(entry(t, 'enabled')?.value, true);
    const protocol = str(entry(e.value, 'protocol')?.value);
    if (protocol === 'h2' && !tlsOn) at(e.value, path, 'protocol', 'expected protocol h2 only with tls enabled (use h2c for cleartext HTTP/2)');
    if (protocol === 'h2c' && tlsOn) at(e.value, path, 'protocol', 'expected protocol h2c only without tls (use h2 for HTTP/2 over TLS)');
    if (entry(e.value, 'send_proxy_protocol') && (tlsOn || protocol === 'h2' || protocol === 'h2c')) {
      at(e.value, path, 'send_proxy_protocol', 'expected send_proxy_protocol only on cleartext HTTP/1.1 upstreams (not with tls or protocol h2/h2c)');
    }
    if (t?.kind !== 'map') continue;
    const tpath = childPath(path, 'tls');
    const ca = str(entry(t, 'ca')?.value);
    if (ca !== undefined) {
      const problem = caProblem(resolve(baseDir, ca));
      if (problem) at(t, tpath, 'ca', problem);
    }
    const hasCert = entry(t, 'cert') !== undefined;
    const hasKey = entry(t, 'key') !== undefined;
    if (hasCert !== hasKey) at(t, tpath, hasCert ? 'key' : 'cert', `missing required key "${hasCert ? 'key' : 'cert'}" (a client certificate needs both cert and key)`);
    else pair(t, tpath);
  }
  return issues;
}

function caProblem(path: string): string | undefined {
  try {
    const text = readFileSync(path, 'utf8');
    if (!text.includes('-----BEGIN CERTIFICATE-----')) return `${JSON.stringify(path)} holds no PEM certificate`;
    tlsModule().createSecureContext({ ca: text });
    return undefined;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return `cannot use ${JSON.stringify(path)} as CA file: ${err.code === 'ENOENT' ? 'the file does not exist' : err.message}`;
  }
}

/** ACME domains must be plain DNS names: http-01 cannot prove wildcards or IP addresses. */
function acmeChecks(acme: RawNode, path: string, at: (node: RawNode, path: string, field: string, message: string) => void): void {
  const domains = entry(acme, 'domains')?.value;
  if (domains?.kind !== 'seq') return;
  domains.items.forEach((d, i) => {
    const name = str(d);
    if (name === undefined) return;
    const problem = name.includes('*')
      ? 'a wildcard name (http-01 challenges cannot prove wildcards)'
      : isIP(name) !== 0
        ? 'an IP address (ACME certificates here are for DNS names)'
        : !/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i.test(name)
          ? 'not a valid DNS name'
          : undefined;
    if (problem) at(acme, path, 'domains', `expected DNS names in domains, found ${JSON.stringify(name)} at index ${i}: ${problem}`);
  });
}
