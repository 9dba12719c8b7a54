import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Resolver } from 'node:dns/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { freePort } from './ports.js';

/** Where dnsmasq is installed (.ci/run installs Debian's dnsmasq-base), or undefined. */
export const DNSMASQ = ['/usr/sbin/dnsmasq', '/usr/bin/dnsmasq', '/sbin/dnsmasq'].find((p) => existsSync(p));

/**
 * Skip reason for DNS tests on a machine without dnsmasq; in CI (CI=true) they never skip, so a
 * missing dnsmasq fails them instead of hiding them.
 */
export const noDnsmasq: string | false = DNSMASQ === undefined && !process.env.CI ? 'dnsmasq is not installed (apt-get install dnsmasq-base)' : false;

/** A DNS record set: A/AAAA records by name, and SRV records. */
export interface Zone {
  hosts: Record<string, string[]>;
  srv?: Array<{ name: string; target: string; port: number; priority?: number; weight?: number }>;
}

/** A real DNS server (dnsmasq) on 127.0.0.1:`port`, answering from files the test writes, TTL 1s. */
export interface DnsServer {
  port: number;
  /** `resolver:` value for the gateway. */
  address: string;
  /** Change the records: A records by SIGHUP (dnsmasq rereads its hosts file), SRV by restarting. */
  update(zone: Zone): Promise<void>;
  stop(): Promise<void>;
}

/** Start dnsmasq with `zone`; stopped when the test ends. */
export async function dnsFor(t: TestContext, zone: Zone): Promise<DnsServer> {
  if (DNSMASQ === undefined) throw new Error('dnsmasq is not installed: .ci/run installs it (apt-get install dnsmasq-base)');
  const dir = mkdtempSync(join(tmpdir(), 'hw-dns-'));
  const hostsFile = join(dir, 'hosts');
  const port = await freePort({ udp: true });
  let proc: ChildProcess | undefined;
  let srv = zone.srv ?? [];

  const writeHosts = (z: Zone) => {
    const lines = Object.entries(z.hosts).flatMap(([name, ips]) => ips.map((ip) => `${ip} ${name}`));
    writeFileSync(hostsFile, `${lines.join('\n')}\n`);
  };
  const launch = async () => {
    const args = [
      '--no-daemon', `--port=${port}`, '--listen-address=127.0.0.1', '--bind-interfaces', '--no-resolv', '--no-hosts',
      `--addn-hosts=${hostsFile}`, '--local-ttl=1', '--conf-file=/dev/null', '--pid-file=', '--cache-size=0',
      ...srv.map((r) => `--srv-host=${r.name},${r.target},${r.port},${r.priority ?? 0},${r.weight ?? 1}`),
    ];
    if (process.getuid?.() === 0) args.push('--user=root');
    const p = spawn(DNSMASQ, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    proc = p;
    await ready(port, () => (p.exitCode !== null ? `dnsmasq exited (${p.exitCode}): ${err}` : undefined));
  };
  const stopProc = async () => {
    const p = proc;
    proc = undefined;
    if (p === undefined || p.exitCode !== null) return;
    await new Promise<void>((r) => {
      p.once('exit', () => r());
      p.kill('SIGTERM');
    });
  };

  writeHosts(zone);
  await launch();
  const server: DnsServer = {
    port,
    address: `127.0.0.1:${port}`,
    async update(z) {
      writeHosts(z);
      const srvChanged = JSON.stringify(z.srv ?? []) !== JSON.stringify(srv);
      srv = z.srv ?? [];
      if (srvChanged) {
        await stopProc();
        await launch();
      } else {
        proc?.kill('SIGHUP');
      }
    },
    stop: stopProc,
  };
  t.after(async () => {
    await stopProc();
    rmSync(dir, { recursive: true, force: true });
  });
  return server;
}

/** Wait until the server answers queries (any answer, even NXDOMAIN, means it is up). */
async function ready(port: number, died: () => string | undefined): Promise<void> {
  const r = new Resolver({ timeout: 200, tries: 1 });
  r.setServers([`127.0.0.1:${port}`]);
  const end = Date.now() + 5000;
  for (;;) {
    const why = died();
    if (why) throw new Error(why);
    try {
      await r.resolve4('ready.invalid');
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOTFOUND' || code === 'ENODATA' || code === 'EREFUSED') return;
      if (Date.now() > end) throw new Error(`dnsmasq did not answer on port ${port}: ${code}`);
      await new Promise((res) => setTimeout(res, 20));
    }
  }
}
