/**
 * Response-head parser for the raw-socket HTTP/1.1 path: reads an upstream's status line and
 * fields and decides how the body is framed (RFC 9112 6.3), so the proxy never relays a response
 * it would frame differently than the next hop. As strict as llhttp's response mode in Node 20,
 * and stricter where a lenient read could split or smuggle responses (see fuzz.test.ts).
 */
import {
  C_CLOSE, C_KEEP_ALIVE, F_CONNECTION, F_CONTENT_LENGTH, F_KEEP_ALIVE, F_PROXY_CONNECTION, F_TRANSFER_ENCODING, FIELD_VALUE,
  SCAN_BAD, INCOMPLETE, SCAN_INCOMPLETE, TE_CHUNKED_LAST, TE_CHUNKED_TWICE, HOP_BY_HOP_KINDS, connectionFlags, contentLength,
  fieldKind, namesOtherFields, scan, scanFields, transferCodings, type HeadResult,
} from './fields.js';
import { keptLines, latin1, splitFields } from './field-text.js';
import type { HeadLimits } from './request-head.js';

/** A parsed response head and its body framing. */
export interface ResponseHead {
  status: number;
  /** Decoded on first use. */
  readonly reason: string;
  versionMinor: 0 | 1;
  /** Flat [name, value, ...]: names as received, values with OWS trimmed. Decoded on first use. */
  readonly headers: string[];
  /** -1 when absent. */
  contentLength: number;
  /** The body is chunked (only when not {@link noBody}). */
  chunked: boolean;
  /** The body ends at connection close (no length, or a final coding other than chunked). */
  closeDelimited: boolean;
  /** No body follows: HEAD request, 1xx, 204, 304, or 2xx to CONNECT (a tunnel). */
  noBody: boolean;
  /**
   * Whether the upstream connection may carry another request after this response: HTTP version
   * and Connection tokens, false for close-delimited framing (also when only a HEAD request spared
   * the body, as llhttp) and for a CONNECT tunnel.
   */
  keepAlive: boolean;
  /** Lower-cased elements of Connection, for hop-by-hop stripping. */
  connectionTokens: string[];
  /**
   * The field lines a proxy relays, as received with their CRLFs: the head less its hop-by-hop
   * fields. Undefined when Connection names other fields (the caller filters the headers then).
   */
  passLines: string | undefined;
  /** The value of the first Keep-Alive field, if any. */
  keepAliveValue: string | undefined;
}

/** A head whose headers and reason phrase are sliced from its text only when asked for. */
class ParsedResponseHead implements ResponseHead {
  #headers: string[] | undefined = undefined;
  readonly #text: string;
  /** Offsets in #text: reason phrase start and end, first field line. */
  readonly #rs: number;
  readonly #re: number;
  readonly #fs: number;
  constructor(
    text: string, rs: number, re: number, fs: number,
    readonly status: number, readonly versionMinor: 0 | 1, readonly contentLength: number, readonly chunked: boolean,
    readonly closeDelimited: boolean, readonly noBody: boolean, readonly keepAlive: boolean, readonly connectionTokens: string[],
    readonly passLines: string | undefined, readonly keepAliveValue: string | undefined,
  ) {
    this.#text = text;
    this.#rs = rs;
    this.#re = re;
    this.#fs = fs;
  }

  get reason(): string {
    return this.#text.slice(this.#rs, this.#re);
  }

  get headers(): string[] {
    return (this.#headers ??= splitFields(this.#text, this.#fs));
  }
}

/** A response the proxy must not relay (answer 502 and drop the upstream connection). */
export interface ResponseHeadError {
  kind: 'error';
  reason: string;
}

export type ResponseHeadResult = HeadResult<ResponseHead, ResponseHeadError>;

function fail(reason: string): ResponseHeadError {
  return { kind: 'error', reason };
}

/**
 * Parses one response head from buf[start, end), for a request made with `requestMethod`.
 * Returns 'incomplete' until the blank line has arrived (call again from the same start), an
 * error, or the head and the offset after it. A 1xx head is returned like any other (noBody):
 * the caller relays it and parses the next head. Past `maxHeadSize` bytes without a complete
 * head, or more than `maxHeaders` fields, it is an error.
 */
export function parseResponseHead(buf: Buffer, start: number, end: number, limits: HeadLimits, requestMethod: string): ResponseHeadResult {
  const limit = Math.min(end, start + limits.maxHeadSize);
  const r = parse(buf, start, limit, limits.maxHeaders, requestMethod);
  if (r === INCOMPLETE && end > limit) return fail('response head larger than maxHeadSize');
  return r;
}

function parse(buf: Buffer, start: number, end: number, maxHeaders: number, requestMethod: string): ResponseHeadResult {
  let p = start;
  while (p < end && (buf[p] === 13 || buf[p] === 10)) p++;
  const ls = p;
  // "HTTP/" DIGIT "." DIGIT SP 3DIGIT, byte by byte so garbage is refused early.
  for (let i = 0; i < 12; i++) {
    if (p + i >= end) return INCOMPLETE;
    const c = buf[p + i]!;
    const ok = i < 5 ? c === 'HTTP/'.charCodeAt(i) : i === 6 ? c === 46 : i === 8 ? c === 32 : c >= 48 && c <= 57;
    if (!ok) return fail(i < 8 ? 'invalid HTTP version' : 'invalid status code');
  }
  if (buf[p + 5] !== 49 || buf[p + 7]! > 49) return fail('HTTP version not supported');
  const minor = (buf[p + 7]! - 48) as 0 | 1;
  const status = (buf[p + 9]! - 48) * 100 + (buf[p + 10]! - 48) * 10 + (buf[p + 11]! - 48);
  if (status < 100) return fail('status code below 100');
  p += 12;
  if (p >= end) return INCOMPLETE;
  let rs = p;
  if (buf[p] === 32) {
    rs = ++p;
    const vchar = FIELD_VALUE;
    while (p < end && vchar[buf[p]!] === 1) p++;
    if (p >= end) return INCOMPLETE;
  }
  if (buf[p] !== 13) return fail(buf[p] === 10 ? 'status line not ended by CRLF' : 'invalid character in status line');
  const re = p;
  if (p + 1 >= end) return INCOMPLETE;
  if (buf[p + 1] !== 10) return fail('status line not ended by CRLF');
  const q = scanFields(buf, p + 2, end, maxHeaders);
  if (q >= 0) return build(buf, ls, q, minor, status, rs, re, requestMethod);
  // Otherwise the complete field lines so far get llhttp's per-line checks (Content-Length etc.),
  // so the first fault in byte order is reported however the bytes were split.
  const early = build(buf, ls, -1, minor, status, rs, re, requestMethod);
  if (early.kind === 'error' || q === SCAN_INCOMPLETE) return early;
  return fail(q === SCAN_BAD ? scan.reason : 'too many header fields');
}

/** Checks the scanned fields and makes the head; with next < 0, only the per-line checks. */
function build(buf: Buffer, ls: number, next: number, minor: 0 | 1, status: number, rs: number, re: number, requestMethod: string): ResponseHeadResult {
  const partial = next < 0;
  const text = partial ? '' : latin1(buf, ls, next);
  const n = scan.count;
  const offs = scan.offs;
  let cl = -1;
  let teLine = -1;
  let chunkedSeen = false;
  let conn = 0;
  const tokens: string[] = [];
  const kinds = scan.kinds;
  let keepAliveValue: string | undefined;
  for (let i = 0, k = 0; i < n; i++, k += 5) {
    const ns = offs[k]!, ne = offs[k + 1]!, vs = offs[k + 2]!, ve = offs[k + 3]!;
    const kind = (kinds[i] = fieldKind(buf, ns, ne));
    switch (kind) {
      case F_KEEP_ALIVE:
        if (!partial && keepAliveValue === undefined) keepAliveValue = text.slice(vs - ls, ve - ls);
        break;
      case F_CONTENT_LENGTH:
        if (cl >= 0) return fail('duplicate Content-Length');
        cl = contentLength(buf, vs, ve, offs[k + 4]!);
        if (cl < 0) return fail('invalid Content-Length');
        break;
      case F_TRANSFER_ENCODING:
        if (vs === ve) return fail('empty Transfer-Encoding');
        teLine = transferCodings(buf, vs, ve, offs[k + 4]!, chunkedSeen);
        if ((teLine & TE_CHUNKED_TWICE) !== 0) return fail('chunked applied more than once');
        chunkedSeen = chunkedSeen || teLine !== 0;
        break;
      case F_CONNECTION:
        conn |= connectionFlags(buf, vs, ve, partial ? undefined : tokens, text, ls);
        break;
      case F_PROXY_CONNECTION:
        conn |= connectionFlags(buf, vs, ve);
        break;
    }
  }
  if (teLine >= 0) {
    if (cl >= 0) return fail('both Content-Length and Transfer-Encoding');
    if (minor === 0) return fail('Transfer-Encoding in an HTTP/1.0 response');
  }
  if (partial) return INCOMPLETE;
  const tunnel = requestMethod === 'CONNECT' && status >= 200 && status < 300;
  const noBody = requestMethod === 'HEAD' || status < 200 || status === 204 || status === 304 || tunnel;
  // Like llhttp, a response that would be close-delimited but for the request method (HEAD) ends
  // keep-alive: should the upstream send a body anyway, it cannot be mistaken for the next response.
  const lengthless = teLine !== TE_CHUNKED_LAST && cl < 0 && status >= 200 && status !== 204 && status !== 304;
  const chunked = !noBody && teLine === TE_CHUNKED_LAST;
  const closeDelimited = !noBody && !chunked && (teLine >= 0 || cl < 0);
  const keepAlive = !lengthless && !tunnel && (minor === 1 ? (conn & C_CLOSE) === 0 : (conn & (C_KEEP_ALIVE | C_CLOSE)) === C_KEEP_ALIVE);
  const head = new ParsedResponseHead(
    text, rs - ls, re - ls, re + 2 - ls, status, minor, cl, chunked, closeDelimited, noBody, keepAlive, tokens,
    namesOtherFields(tokens) ? undefined : keptLines(text, ls, next - 2, HOP_BY_HOP_KINDS), keepAliveValue,
  );
  return { kind: 'head', head, next };
}
