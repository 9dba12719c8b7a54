/**
 * Header rewriting in one pass over Node's flat raw-header arrays, both directions. Hop-by-hop
 * headers (RFC 9110 7.6.1) and any header named in `Connection` never cross the proxy.
 */
import { HOP_BY_HOP_NAMES as HOP_BY_HOP } from '../http1/fields.js';

/**
 * Name lengths (index) of the headers a direction may drop or rewrite: hop-by-hop ones, and
 * host, expect, forwarded and x-forwarded-* upstream. Any other name is passed on without being
 * lower-cased (unless Connection names extra headers).
 */
const DOWN_LENGTHS = lengths([...HOP_BY_HOP]);
const UP_LENGTHS = lengths([...HOP_BY_HOP, 'host', 'expect', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-for', 'forwarded']);

function lengths(names: readonly string[]): readonly boolean[] {
  const out: boolean[] = new Array(32).fill(false);
  for (const n of names) out[n.length] = true;
  return out;
}

/** Headers named by `Connection` tokens, lower-cased; undefined when there are none (the common case). */
function connectionTokens(raw: readonly string[]): Set<string> | undefined {
  let tokens: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length === 10 && raw[i]!.toLowerCase() === 'connection') {
      // The usual values name no header: skip the split.
      const v = raw[i + 1]!.toLowerCase();
      if (v === 'keep-alive' || v === 'close') continue;
      for (const t of v.split(',')) {
        const n = t.trim();
        if (n && n !== 'close' && n !== 'keep-alive') (tokens ??= new Set()).add(n);
      }
    }
  }
  return tokens;
}

/** What the gateway adds on the way to the upstream. */
export interface ForwardInfo {
  clientIp: string;
  proto: 'http' | 'https';
  /** The client's Host header, for X-Forwarded-Host and pass_host: pass. */
  host: string | undefined;
  /** Host header to send upstream (after pass_host). */
  upstreamHost: string;
  /** Also emit RFC 7239 Forwarded. */
  rfc7239: boolean;
}

/**
 * Build the upstream request's raw headers: drop hop-by-hop, Host, Expect and our X-Forwarded-*
 * (rewritten here); append the client to X-Forwarded-For (and Forwarded); set Host per pass_host.
 */
export function upstreamRequestHeaders(raw: readonly string[], info: ForwardInfo): string[] {
  const named = connectionTokens(raw);
  const out: string[] = ['host', info.upstreamHost];
  let xff: string | undefined;
  let fwd: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (named === undefined && UP_LENGTHS[name.length] !== true) {
      out.push(name, raw[i + 1]!);
      continue;
    }
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || (named !== undefined && named.has(lower))) continue;
    switch (lower) {
      case 'host':
      case 'expect':
      case 'x-forwarded-proto':
      case 'x-forwarded-host':
        continue;
      case 'x-forwarded-for':
        xff = xff === undefined ? raw[i + 1]! : `${xff}, ${raw[i + 1]!}`;
        continue;
      case 'forwarded':
        if (info.rfc7239) {
          fwd = fwd === undefined ? raw[i + 1]! : `${fwd}, ${raw[i + 1]!}`;
          continue;
        }
    }
    out.push(name, raw[i + 1]!);
  }
  out.push('x-forwarded-for', xff === undefined ? info.clientIp : `${xff}, ${info.clientIp}`);
  out.push('x-forwarded-proto', info.proto);
  if (info.host !== undefined) out.push('x-forwarded-host', info.host);
  if (info.rfc7239) {
    const el = forwardedElement(info);
    out.push('forwarded', fwd === undefined ? el : `${fwd}, ${el}`);
  }
  return out;
}

/**
 * upstreamRequestHeaders as CRLF-ended lines, for a request whose client lines the parser has
 * already filtered (`passLines`, with its X-Forwarded-For values joined in `forwardedFor`).
 * Without rfc7239 only: such a request has no Forwarded field to merge.
 */
export function upstreamLines(passLines: string, forwardedFor: string | undefined, info: ForwardInfo): string {
  let s = 'host: ' + info.upstreamHost + '\r\n' + passLines + 'x-forwarded-for: ';
  s += (forwardedFor === undefined ? info.clientIp : forwardedFor + ', ' + info.clientIp) + '\r\nx-forwarded-proto: ' + info.proto + '\r\n';
  if (info.host !== undefined) s += 'x-forwarded-host: ' + info.host + '\r\n';
  return s;
}

/** One RFC 7239 element: for=...;proto=...;host=... with IPv6 and unusual hosts quoted. */
export function forwardedElement(info: Pick<ForwardInfo, 'clientIp' | 'proto' | 'host'>): string {
  const forVal = info.clientIp.includes(':') ? `"[${info.clientIp}]"` : info.clientIp;
  let el = `for=${forVal};proto=${info.proto}`;
  if (info.host !== undefined) el += `;host=${/^[A-Za-z0-9.\-]+$/.test(info.host) ? info.host : JSON.stringify(info.host)}`;
  return el;
}

/**
 * Response headers (undici's raw Buffer pairs, or strings) to a flat string array for res.writeHead,
 * dropping hop-by-hop headers and those named in Connection.
 */
export function downstreamResponseHeaders(raw: readonly Buffer[] | readonly string[]): string[] {
  let flat: readonly string[];
  if (raw.length > 0 && typeof raw[0] !== 'string') {
    const s: string[] = new Array(raw.length);
    for (let i = 0; i < raw.length; i++) s[i] = (raw[i] as Buffer).toString('latin1');
    flat = s;
  } else flat = raw as readonly string[];
  const named = connectionTokens(flat);
  const out: string[] = [];
  for (let i = 0; i < flat.length; i += 2) {
    if (named === undefined && DOWN_LENGTHS[flat[i]!.length] !== true) {
      out.push(flat[i]!, flat[i + 1]!);
      continue;
    }
    const lower = flat[i]!.toLowerCase();
    if (HOP_BY_HOP.has(lower) || (named !== undefined && named.has(lower))) continue;
    out.push(flat[i]!, flat[i + 1]!);
  }
  return out;
}
