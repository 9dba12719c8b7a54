import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import https from 'node:https';
import type { TestContext } from 'node:test';
import { fixedPort } from './ports.js';

/** A real ACME CA on loopback: Debian's pebble, with pebble-challtestsrv as its DNS (every name -> 127.0.0.1). */
export interface Pebble {
  directory: string;
  /** PEM file of pebble's own HTTPS certificate (trust it for the directory). */
  caFile: string;
  /** PEM of the root that signs issued certificates. */
  root(): Promise<string>;
  stop(): Promise<void>;
}

const BINARIES = ['pebble', 'pebble-challtestsrv', 'openssl'];

/** Missing binaries: skip locally, fail in CI (.ci/run installs them). */
export function pebbleMissing(t: TestContext): boolean {
  const missing = BINARIES.filter((b) => {
    try {
      execFileSync('sh', ['-c', `command -v ${b}`], { stdio: 'ignore' });
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length === 0) return false;
  if (process.env.CI) throw new Error(`missing ${missing.join(', ')} (apt-get install pebble openssl)`);
  t.skip(`needs ${missing.join(', ')} (Debian packages pebble, openssl)`);
  return true;
}

/** Start pebble validating http-01 challenges on 127.0.0.1:`httpPort` (the gateway's listener). */
export async function startPebble(t: TestContext, httpPort: number, opts: { validitySeconds?: number } = {}): Promise<Pebble> {
  const dir = mkdtempSync(path.join(tmpdir(), 'hw-pebble-'));
  const certFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile, '-out', certFile,
    '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
  const [acmePort, mgmtPort, dnsPort, ctsPort] = [await fixedPort(), await fixedPort(), await fixedPort({ udp: true }), await fixedPort()];
  writeFileSync(path.join(dir, 'pebble.json'), JSON.stringify({
    pebble: {
      listenAddress: `127.0.0.1:${acmePort}`, managementListenAddress: `127.0.0.1:${mgmtPort}`, certificate: certFile, privateKey: keyFile,
      httpPort, tlsPort: await fixedPort(), ocspResponderURL: '', externalAccountBindingRequired: false,
      ...(opts.validitySeconds ? { certificateValidityPeriod: opts.validitySeconds } : {}),
    },
  }));
  const procs: ChildProcess[] = [];
  const logs: string[] = [];
  const run = (cmd: string, args: string[], env: Record<string, string> = {}) => {
    const p = spawn(cmd, args, { cwd: dir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    p.stdout!.on('data', (d) => logs.push(String(d)));
    p.stderr!.on('data', (d) => logs.push(String(d)));
    procs.push(p);
    return p;
  };
  run('pebble-challtestsrv', ['-dns01', `127.0.0.1:${dnsPort}`, '-defaultIPv6', '', '-http01', '', '-https01', '', '-tlsalpn01', '', '-management', `127.0.0.1:${ctsPort}`]);
  run('pebble', ['-config', path.join(dir, 'pebble.json'), '-dnsserver', `127.0.0.1:${dnsPort}`],
    { PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0', PEBBLE_AUTHZREUSE: '0' });
  const ca = await import('node:fs').then((fs) => fs.readFileSync(certFile, 'utf8'));
  const get = (url: string) => new Promise<{ status: number; body: string }>((resolve, reject) => {
    https.get(url, { ca }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
  const directory = `https://127.0.0.1:${acmePort}/dir`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ok = await get(directory).then((r) => r.status === 200, () => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`pebble did not start:\n${logs.join('')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await Promise.all(procs.map((p) => new Promise((r) => (p.exitCode !== null ? r(null) : (p.once('exit', r), p.kill())))));
    rmSync(dir, { recursive: true, force: true });
  };
  t.after(stop);
  return {
    directory,
    caFile: certFile,
    root: async () => (await get(`https://127.0.0.1:${mgmtPort}/roots/0`)).body,
    stop,
  };
}
