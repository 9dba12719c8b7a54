import net from 'node:net';

/**
 * Why a CIDR (`10.0.0.0/8`, `::1/128`) or a single address (`127.0.0.1`) is not valid; undefined
 * when it is. Used by the schema, so a typo in a trusted-source list is a config error.
 */
export function cidrProblem(s: string): string | undefined {
  const slash = s.indexOf('/');
  const addr = slash === -1 ? s : s.slice(0, slash);
  const family = net.isIP(addr);
  if (family === 0) return `"${addr}" is not an IP address`;
  if (slash === -1) return undefined;
  const bits = s.slice(slash + 1);
  const max = family === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) return `prefix length must be 0-${max}`;
  return undefined;
}

/**
 * A set of address ranges, checked per connection. IPv4-mapped IPv6 peers (`::ffff:10.0.0.1`, what
 * a dual-stack socket reports) match IPv4 ranges.
 */
export class CidrSet {
  readonly #list = new net.BlockList();

  constructor(cidrs: readonly string[]) {
    for (const c of cidrs) {
      const [addr, bits] = c.split('/') as [string, string | undefined];
      const type = net.isIP(addr) === 6 ? 'ipv6' : 'ipv4';
      if (bits === undefined) this.#list.addAddress(addr, type);
      else this.#list.addSubnet(addr, Number(bits), type);
    }
  }

  has(address: string | undefined): boolean {
    if (!address) return false;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return this.#list.check(mapped[1]!, 'ipv4');
    return this.#list.check(address, net.isIP(address) === 6 ? 'ipv6' : 'ipv4');
  }
}
