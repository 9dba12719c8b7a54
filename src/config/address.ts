/** host:port addresses and host names, as accepted in listeners, servers and route matches. */
import { isIPv4, isIPv6 } from 'node:net';

export interface HostPort {
  /** As written, e.g. 127.0.0.1:8080 or [::1]:8080. */
  address: string;
  /** Without brackets. */
  host: string;
  port: number;
}

const LABEL = '[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?';
const HOSTNAME = new RegExp(`^${LABEL}(?:\\.${LABEL})*\\.?$`);

/** Why `host` is not a usable host name or IPv4 address, or undefined when it is. */
export function hostProblem(host: string): string | undefined {
  if (host === '') return 'the host is empty';
  if (host.includes(':')) return 'write IPv6 addresses in brackets, e.g. [::1]:8080';
  if (isIPv4(host)) return undefined;
  if (/^[\d.]+$/.test(host)) return 'not a valid IPv4 address';
  if (host.length > 253 || !HOSTNAME.test(host)) return 'not a valid host name';
  return undefined;
}

/**
 * Parses `host:port` or `[v6]:port`. Returns the parts, or a short reason why it is not an address.
 * `minPort` is 0 for listeners (port 0 picks a free port) and 1 for servers.
 */
export function parseAddress(address: string, minPort: number): HostPort | string {
  let host: string;
  let portText: string;
  const v6 = /^\[([^\]]*)\]:(.*)$/.exec(address);
  if (v6) {
    host = v6[1]!;
    portText = v6[2]!;
    if (!isIPv6(host)) return 'not a valid IPv6 address in the brackets';
  } else {
    if (address.startsWith('[')) return 'expected [IPv6]:port';
    const i = address.lastIndexOf(':');
    if (i < 0) return 'the port is missing';
    host = address.slice(0, i);
    portText = address.slice(i + 1);
    if (isIPv6(address)) return 'write IPv6 addresses in brackets, e.g. [::1]:8080';
    const bad = hostProblem(host);
    if (bad) return bad;
  }
  if (!/^\d{1,5}$/.test(portText)) return 'the port must be a number';
  const port = Number(portText);
  if (port < minPort || port > 65535) return `the port must be ${minPort}-65535`;
  return { address, host, port };
}

/** Why `host` cannot be matched against the Host header (name, *.wildcard, IPv4 or [IPv6]). */
export function matchHostProblem(host: string): string | undefined {
  if (/^\[.*\]$/.test(host)) return isIPv6(host.slice(1, -1)) ? undefined : 'not a valid IPv6 address';
  if (/:\d+$/.test(host)) return 'leave the port out; hosts are compared without it';
  return hostProblem(host.startsWith('*.') ? host.slice(2) : host);
}
