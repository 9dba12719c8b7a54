import { HeadwaterError } from '../errors.js';
import type { Host } from '../upstream/host.js';
import type { PickContext } from './types.js';
import { normalizeClientIp } from '../util/ip.js';

/** Extracts the string to hash from a request; compiled once per balancer so pick does no parsing of the spec. */
export type HashKeyFn = (ctx: PickContext) => string;

/**
 * Fast 32-bit string hash shared by the hash policies (one implementation, so ip_hash, hash and
 * the ketama ring agree): FNV-1a over the UTF-16 code units, finished with murmur3's fmix32 so
 * that nearby inputs ("a-1", "a-2") spread over the whole ring. `seed` gives independent rehashes.
 */
export function hash32(s: string, seed: number = 0): number {
  let h = (0x811c9dc5 ^ Math.imul(seed, 0x9e3779b1)) | 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) {
      h ^= c >>> 8;
      h = Math.imul(h, 0x01000193);
    }
    h ^= c & 0xff;
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Compiles a key spec (`header:NAME`, `cookie:NAME`, `query:NAME`, `uri`, `client_ip`) into an
 * extractor. A missing value yields '' (NGINX hashes the empty string too). `uri` is the path with
 * its query, as received (NGINX $request_uri). Throws HW_ERR_CONFIG for an unknown spec so a bad
 * config fails at load, not per request.
 */
export function compileHashKey(spec: string): HashKeyFn {
  const s = spec.trim();
  if (s === 'uri') return (ctx) => ctx.path;
  if (s === 'client_ip') return (ctx) => normalizeClientIp(ctx.clientIp);
  const colon = s.indexOf(':');
  const kind = colon > 0 ? s.slice(0, colon) : '';
  const name = colon > 0 ? s.slice(colon + 1).trim() : '';
  if (name !== '') {
    if (kind === 'header') {
      const lower = name.toLowerCase();
      return (ctx) => ctx.header(lower) ?? '';
    }
    if (kind === 'cookie') return (ctx) => cookieValue(ctx.header('cookie'), name) ?? '';
    if (kind === 'query') return (ctx) => queryValue(ctx.path, name) ?? '';
  }
  throw new HeadwaterError('HW_ERR_CONFIG', `invalid hash key "${spec}": expected header:NAME, cookie:NAME, query:NAME, uri or client_ip`);
}

/** Value of cookie `name` in a Cookie header (first match, surrounding quotes removed), or undefined. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  const len = header.length;
  let i = 0;
  while (i < len) {
    let end = header.indexOf(';', i);
    if (end < 0) end = len;
    const eq = header.indexOf('=', i);
    if (eq >= 0 && eq < end && header.slice(i, eq).trim() === name) {
      const v = header.slice(eq + 1, end).trim();
      return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
    }
    i = end + 1;
  }
  return undefined;
}

/** Value of query parameter `name` in a request path (first match, form-decoded), or undefined. */
export function queryValue(path: string, name: string): string | undefined {
  const q = path.indexOf('?');
  if (q < 0) return undefined;
  let end = path.indexOf('#', q);
  if (end < 0) end = path.length;
  let i = q + 1;
  while (i < end) {
    let amp = path.indexOf('&', i);
    if (amp < 0 || amp > end) amp = end;
    let eq = path.indexOf('=', i);
    if (eq < 0 || eq > amp) eq = amp;
    if (formDecode(path.slice(i, eq)) === name) return eq < amp ? formDecode(path.slice(eq + 1, amp)) : '';
    i = amp + 1;
  }
  return undefined;
}

function formDecode(s: string): string {
  if (!s.includes('%') && !s.includes('+')) return s;
  const plus = s.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(plus);
  } catch {
    return plus;
  }
}

/**
 * The host owning slot `w` (0 <= w < total weight) when hosts are laid end to end by weight, as
 * NGINX's hash and ip_hash do over all servers (available or not, so a server going down moves
 * only its own keys).
 */
export function hostAtWeight(hosts: readonly Host[], w: number): Host | undefined {
  for (let i = 0; i < hosts.length; i++) {
    const h = hosts[i];
    if (w < h.weight) return h;
    w -= h.weight;
  }
  return undefined;
}

/** Sum of all hosts' weights: the modulus for hash-mod-weight selection. */
export function totalWeight(hosts: readonly Host[]): number {
  let t = 0;
  for (let i = 0; i < hosts.length; i++) t += hosts[i].weight;
  return t;
}
