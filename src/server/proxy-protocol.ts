/**
 * The PROXY protocol (HAProxy's spec, versions 1 and 2): a header a trusted proxy puts in front of
 * a connection to tell the real client address. The parser is strict and incremental: feed it the
 * bytes read so far; it answers incomplete, an error, or the header and its length (what follows
 * belongs to the application protocol). The encoders write the header for upstream connections.
 */
import net from 'node:net';

/** What a header says. `local` (v2 LOCAL, v1 UNKNOWN, unspecified or unix addresses): use the socket's own addresses. */
export interface ProxyHeader {
  version: 1 | 2;
  local: boolean;
  source?: { address: string; port: number };
  destination?: { address: string; port: number };
  /** v2 type-length-value extensions, in order (ALPN, authority, SSL, unique id, ...). */
  tlvs: Array<{ type: number; value: Buffer }>;
}

export type ProxyParse =
  | { kind: 'incomplete' }
  | { kind: 'error'; reason: string }
  | { kind: 'ok'; header: ProxyHeader; length: number };

const INCOMPLETE: ProxyParse = { kind: 'incomplete' };
const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
const V2_SIG = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
/** v1: at most 107 bytes including CRLF (spec 2.1). */
const V1_MAX = 107;
/** v2: a bound on address block plus TLVs; larger headers are refused rather than buffered. */
export const V2_MAX = 4096;

function error(reason: string): ProxyParse {
  return { kind: 'error', reason };
}

/** Is `buf` (shorter than `sig`) a prefix of it? */
function prefixOf(buf: Buffer, sig: Buffer): boolean {
  const n = Math.min(buf.length, sig.length);
  return buf.subarray(0, n).equals(sig.subarray(0, n));
}

/** Parse a PROXY header at the start of `buf` (the bytes received so far). */
export function parseProxyHeader(buf: Buffer): ProxyParse {
  if (buf.length === 0) return INCOMPLETE;
  if (prefixOf(buf, V2_SIG)) return buf.length < 16 ? INCOMPLETE : parseV2(buf);
  if (prefixOf(buf, V1_PREFIX)) return buf.length < V1_PREFIX.length ? INCOMPLETE : parseV1(buf);
  return error('the connection does not start with a PROXY protocol header');
}

const PORT = /^(0|[1-9][0-9]{0,4})$/;

function parseV1(buf: Buffer): ProxyParse {
  const end = buf.subarray(0, V1_MAX).indexOf('\r\n', 0, 'latin1');
  if (end === -1) return buf.length >= V1_MAX ? error('v1 header longer than 107 bytes') : INCOMPLETE;
  const line = buf.subarray(0, end).toString('latin1');
  if (!/^[\x20-\x7e]*$/.test(line)) return error('v1 header has control or non-ASCII characters');
  const parts = line.split(' ');
  const length = end + 2;
  if (parts[1] === 'UNKNOWN') return { kind: 'ok', header: { version: 1, local: true, tlvs: [] }, length };
  if (parts.length !== 6) return error('v1 header must be "PROXY TCP4|TCP6 src dst sport dport"');
  const [, proto, src, dst, sport, dport] = parts as [string, string, string, string, string, string];
  const family = proto === 'TCP4' ? 4 : proto === 'TCP6' ? 6 : 0;
  if (family === 0) return error(`v1 protocol must be TCP4, TCP6 or UNKNOWN, found ${JSON.stringify(proto.slice(0, 16))}`);
  if (net.isIP(src) !== family || net.isIP(dst) !== family) return error(`v1 addresses are not ${proto} addresses`);
  if (!PORT.test(sport) || !PORT.test(dport) || Number(sport) > 65535 || Number(dport) > 65535) return error('v1 ports must be 0-65535');
  return {
    kind: 'ok',
    header: { version: 1, local: false, source: { address: src, port: Number(sport) }, destination: { address: dst, port: Number(dport) }, tlvs: [] },
    length,
  };
}

function parseV2(buf: Buffer): ProxyParse {
  const verCmd = buf[12]!;
  if (verCmd >> 4 !== 2) return error(`v2 version must be 2, found ${verCmd >> 4}`);
  const cmd = verCmd & 0x0f;
  if (cmd > 1) return error(`v2 command must be LOCAL or PROXY, found ${cmd}`);
  const fam = buf[13]!;
  const len = buf.readUInt16BE(14);
  const length = 16 + len;
  if (length > V2_MAX) return error(`v2 header of ${length} bytes is over the ${V2_MAX}-byte limit`);
  if (buf.length < length) return INCOMPLETE;
  const af = fam >> 4;
  const transport = fam & 0x0f;
  if (af > 3 || transport > 2) return error(`v2 unknown address family or transport 0x${fam.toString(16)}`);
  if (cmd === 1 && transport === 2) return error('v2 datagram transport on a stream connection');
  const addrLen = af === 1 ? 12 : af === 2 ? 36 : af === 3 ? 216 : 0;
  if (len < addrLen) return error(`v2 address block needs ${addrLen} bytes, the header has ${len}`);
  const tlvs = parseTlvs(buf, 16 + addrLen, length);
  if (typeof tlvs === 'string') return error(tlvs);
  const crcProblem = checkCrc(buf, 16 + addrLen, length);
  if (crcProblem) return error(crcProblem);
  const header: ProxyHeader = { version: 2, local: true, tlvs };
  // LOCAL (health checks from the proxy itself), unspecified and unix: keep the socket's addresses.
  if (cmd === 1 && (af === 1 || af === 2)) {
    const a = 16;
    header.local = false;
    if (af === 1) {
      header.source = { address: ipv4(buf, a), port: buf.readUInt16BE(a + 8) };
      header.destination = { address: ipv4(buf, a + 4), port: buf.readUInt16BE(a + 10) };
    } else {
      header.source = { address: ipv6(buf, a), port: buf.readUInt16BE(a + 32) };
      header.destination = { address: ipv6(buf, a + 16), port: buf.readUInt16BE(a + 34) };
    }
  }
  return { kind: 'ok', header, length };
}

function parseTlvs(buf: Buffer, from: number, to: number): ProxyHeader['tlvs'] | string {
  const out: ProxyHeader['tlvs'] = [];
  let p = from;
  while (p < to) {
    if (to - p < 3) return 'v2 truncated TLV header';
    const type = buf[p]!;
    const n = buf.readUInt16BE(p + 1);
    if (p + 3 + n > to) return `v2 TLV 0x${type.toString(16)} runs past the header`;
    out.push({ type, value: Buffer.from(buf.subarray(p + 3, p + 3 + n)) });
    p += 3 + n;
  }
  return out;
}

const PP2_TYPE_CRC32C = 0x03;

/** A PP2_TYPE_CRC32C TLV must hold the CRC32c of the whole header with its own value zeroed. */
function checkCrc(buf: Buffer, from: number, to: number): string | undefined {
  for (let p = from; p < to; p += 3 + buf.readUInt16BE(p + 1)) {
    if (buf[p] !== PP2_TYPE_CRC32C) continue;
    if (buf.readUInt16BE(p + 1) !== 4) return 'v2 CRC32C TLV must be 4 bytes';
    const copy = Buffer.from(buf.subarray(0, to));
    copy.writeUInt32BE(0, p + 3);
    return crc32c(copy) === buf.readUInt32BE(p + 3) ? undefined : 'v2 CRC32C checksum does not match';
  }
  return undefined;
}

let CRC_TABLE: Uint32Array | undefined;

/** CRC-32C (Castagnoli), as the PROXY protocol's checksum TLV uses. */
export function crc32c(b: Uint8Array): number {
  const t = (CRC_TABLE ??= (() => {
    const tab = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
      tab[n] = c >>> 0;
    }
    return tab;
  })());
  let crc = 0xffffffff;
  for (let i = 0; i < b.length; i++) crc = t[(crc ^ b[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function ipv4(b: Buffer, at: number): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

function ipv6(b: Buffer, at: number): string {
  // IPv4-mapped: dotted, so the gateway's client-address normalization turns it into plain IPv4.
  if (b.readUInt32BE(at) === 0 && b.readUInt32BE(at + 4) === 0 && b.readUInt32BE(at + 8) === 0xffff) return `::ffff:${ipv4(b, at + 12)}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(at + i).toString(16));
  // Canonical short form through the URL parser's IPv6 serializer.
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}

/** The two ends a PROXY header describes. */
export interface ProxyEnds {
  source: { address: string; port: number };
  destination: { address: string; port: number };
}

/** The ends of a client connection as a PROXY header tells them (after any PROXY header it came with). */
export function proxyEnds(s: { remoteAddress?: string | undefined; remotePort?: number | undefined; localAddress?: string | undefined; localPort?: number | undefined }): ProxyEnds {
  return {
    source: { address: s.remoteAddress ?? '', port: s.remotePort ?? 0 },
    destination: { address: s.localAddress ?? '', port: s.localPort ?? 0 },
  };
}

/** The header for `send_proxy_protocol`. */
export function encodeProxy(version: 'v1' | 'v2', e: ProxyEnds): Buffer {
  return version === 'v1' ? encodeProxyV1(e) : encodeProxyV2(e);
}

/** Both ends in one family: IPv4 when both are, else IPv6 with IPv4-mapped addresses. */
function sameFamily(e: ProxyEnds): { v6: boolean; src: string; dst: string } | undefined {
  const fs = net.isIP(e.source.address);
  const fd = net.isIP(e.destination.address);
  if (fs === 0 || fd === 0) return undefined;
  if (fs === 4 && fd === 4) return { v6: false, src: e.source.address, dst: e.destination.address };
  const map = (a: string, f: number) => (f === 4 ? `::ffff:${a}` : a);
  return { v6: true, src: map(e.source.address, fs), dst: map(e.destination.address, fd) };
}

/** A v1 header line; `PROXY UNKNOWN` when the addresses are not both IP addresses. */
export function encodeProxyV1(e: ProxyEnds): Buffer {
  const f = sameFamily(e);
  if (!f) return Buffer.from('PROXY UNKNOWN\r\n', 'latin1');
  return Buffer.from(`PROXY ${f.v6 ? 'TCP6' : 'TCP4'} ${f.src} ${f.dst} ${e.source.port} ${e.destination.port}\r\n`, 'latin1');
}

/** A v2 binary header (PROXY command, TCP); LOCAL when the addresses are not both IP addresses. */
export function encodeProxyV2(e: ProxyEnds): Buffer {
  const f = sameFamily(e);
  const addrLen = !f ? 0 : f.v6 ? 36 : 12;
  const out = Buffer.alloc(16 + addrLen);
  V2_SIG.copy(out, 0);
  out[12] = f ? 0x21 : 0x20;
  out[13] = !f ? 0x00 : f.v6 ? 0x21 : 0x11;
  out.writeUInt16BE(addrLen, 14);
  if (!f) return out;
  const n = f.v6 ? 16 : 4;
  writeIp(out, 16, f.src, f.v6);
  writeIp(out, 16 + n, f.dst, f.v6);
  out.writeUInt16BE(e.source.port, 16 + 2 * n);
  out.writeUInt16BE(e.destination.port, 18 + 2 * n);
  return out;
}

function writeIp(out: Buffer, at: number, ip: string, v6: boolean): void {
  if (!v6) {
    ip.split('.').forEach((o, i) => (out[at + i] = Number(o)));
    return;
  }
  const sock = new net.SocketAddress({ address: ip, family: 'ipv6' });
  const full = expandV6(sock.address);
  for (let i = 0; i < 8; i++) out.writeUInt16BE(full[i]!, at + 2 * i);
}

/** Eight 16-bit groups of an IPv6 address (with `::` and an embedded IPv4 tail expanded). */
function expandV6(ip: string): number[] {
  let s = ip;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const o = v4[1]!.split('.').map(Number);
    s = s.slice(0, -v4[1]!.length) + `${((o[0]! << 8) | o[1]!).toString(16)}:${((o[2]! << 8) | o[3]!).toString(16)}`;
  }
  const [head, tail] = s.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : new Array<string>(8 - h.length - t.length).fill('0');
  return [...h, ...zeros, ...t].map((g) => parseInt(g, 16));
}
