/**
 * Request-head parser for the raw-socket HTTP/1.1 path. It replaces llhttp as the guard in front
 * of the proxy, so it refuses everything Node 20's http server refuses (llhttp 9, non-lenient,
 * plus Node's missing-Host check) and, where RFC 9112 is stricter in ways that matter for request
 * smuggling or routing, it is stricter (see fuzz.test.ts for the list of deliberate differences).
 * It works on Buffer offsets with table lookups and decodes the head to latin1 once.
 */
import {
  AUTHORITY, C_CLOSE, C_KEEP_ALIVE, C_UPGRADE, F_CONNECTION, F_CONTENT_LENGTH, F_EXPECT, F_FORWARDED, F_HOST,
  F_PROXY_CONNECTION, F_TRANSFER_ENCODING, F_UPGRADE, F_X_FORWARDED_FOR, F_X_FORWARDED_HOST, F_X_FORWARDED_PROTO,
  F_USER_AGENT, F_REFERER, F_AUTHORIZATION,
  HOP_BY_HOP_KINDS, INCOMPLETE, IP_LITERAL, REG_NAME, SCAN_BAD, SCAN_INCOMPLETE, TE_CHUNKED_LAST, TE_CHUNKED_NOT_LAST,
  TE_CHUNKED_TWICE, TOKEN, VCHAR, connectionFlags, contentLength, fieldKind, kindMask, lowerMatcher,
  namesOtherFields, scan, scanFields, transferCodings, type HeadResult,
} from './fields.js';
import { fieldValues, keptLines, latin1, splitFields } from './field-text.js';

/** Fields a proxy drops or writes itself on the way upstream: hop-by-hop, Host, Expect, X-Forwarded-*. */
const REWRITTEN = HOP_BY_HOP_KINDS | kindMask(F_HOST, F_EXPECT, F_X_FORWARDED_FOR, F_X_FORWARDED_HOST, F_X_FORWARDED_PROTO);

/** Bounds on one head: bytes from the first byte offered up to the blank line, and field lines. */
export interface HeadLimits {
  maxHeadSize: number;
  maxHeaders: number;
}

/** A parsed request head: what forwarding needs, without a second pass over the headers. */
export interface RequestHead {
  method: string;
  target: string;
  versionMinor: 0 | 1;
  /** Flat [name, value, ...]: names as received, values with OWS trimmed. Decoded on first use. */
  readonly headers: string[];
  /** -1 when absent. */
  contentLength: number;
  chunked: boolean;
  /** There is an Expect field (whatever its value). */
  expect: boolean;
  /** Whether the client connection may carry another request (HTTP version and Connection tokens). */
  keepAlive: boolean;
  expectContinue: boolean;
  /** `Connection: upgrade` plus a non-empty Upgrade header (CONNECT is told by the method). */
  upgrade: boolean;
  host: string | undefined;
  /** Lower-cased elements of Connection, for hop-by-hop stripping. */
  connectionTokens: string[];
  /**
   * For a request without a body: the field lines a proxy passes on as received (CRLF-ended),
   * less the hop-by-hop ones, Host, Expect and X-Forwarded-For/-Host/-Proto, which it writes
   * itself. Undefined when there is a body, a Forwarded field, or Connection names another field.
   */
  passLines: string | undefined;
  /** The X-Forwarded-For values, joined with ", " (undefined when there are none). */
  forwardedFor: string | undefined;
  /** For each of `names` (lower-case), the value of the field of that name, without decoding `headers`; null when one repeats. */
  fieldValues(names: readonly string[]): Array<string | undefined> | null;
}

/** Expect: 100-continue. */
const CONTINUE_100 = lowerMatcher('100-continue');
/** The fields whose place the parser notes (for access logs), in the order of ParsedRequestHead.note's arguments. */
const NOTED_NAMES = ['user-agent', 'referer', 'authorization'];
/** A noted field's place: its value's start and end in the head's text, as start * 2^21 + end (heads are far below 2 MiB). */
const PLACE = 0x200000;
/** Noted: the field is absent, or occurs more than once. */
const ABSENT = -1;
const REPEATED = -2;

let indexesFor: readonly string[] = [];
let indexes: number[] = [];
/** Each name's index in NOTED_NAMES (-1: not noted), kept for the list last asked about (the log format's). */
function notedIndexes(names: readonly string[]): number[] {
  if (names !== indexesFor) {
    indexes = names.map((n) => NOTED_NAMES.indexOf(n));
    indexesFor = names;
  }
  return indexes;
}

/** A request head whose header array is sliced from its text only when asked for. */
class ParsedRequestHead implements RequestHead {
  #headers: string[] | undefined = undefined;
  /** Places of User-Agent, Referer and Authorization (see PLACE): three numbers, no array per request. */
  #ua = ABSENT;
  #referer = ABSENT;
  #auth = ABSENT;
  readonly #text: string;
  /** Offset of the first field line in #text. */
  readonly #fs: number;
  constructor(
    text: string, fs: number, readonly method: string, readonly target: string, readonly versionMinor: 0 | 1,
    readonly contentLength: number, readonly chunked: boolean, readonly expect: boolean, readonly keepAlive: boolean,
    readonly expectContinue: boolean, readonly upgrade: boolean, readonly host: string | undefined,
    readonly connectionTokens: string[], readonly passLines: string | undefined, readonly forwardedFor: string | undefined,
  ) {
    this.#text = text;
    this.#fs = fs;
  }

  get headers(): string[] {
    return (this.#headers ??= splitFields(this.#text, this.#fs));
  }

  /** The parser's note of where User-Agent, Referer and Authorization are (see PLACE). */
  note(ua: number, referer: number, auth: number): void {
    this.#ua = ua;
    this.#referer = referer;
    this.#auth = auth;
  }

  fieldValues(names: readonly string[]): Array<string | undefined> | null {
    // From the noted places when they answer for every name; else (a name not noted, or a
    // repeated field) one pass over the lines.
    const ks = notedIndexes(names);
    // Sized once: push grew a fresh array's backing store per request.
    const out = new Array<string | undefined>(ks.length);
    for (let i = 0; i < ks.length; i++) {
      const k = ks[i]!;
      const at = k === 0 ? this.#ua : k === 1 ? this.#referer : k === 2 ? this.#auth : REPEATED;
      if (at === REPEATED) return fieldValues(this.#text, this.#fs, names);
      out[i] = at === ABSENT ? undefined : this.#text.slice(Math.floor(at / PLACE), at % PLACE);
    }
    return out;
  }
}

/** Request refusal: the status to answer with before closing the connection. */
export interface RequestHeadError {
  kind: 'error';
  status: 400 | 431 | 501 | 505;
  reason: string;
}

export type RequestHeadResult = HeadResult<RequestHead, RequestHeadError>;

function fail(status: 400 | 431 | 501 | 505, reason: string): RequestHeadError {
  return { kind: 'error', status, reason };
}

/** Methods llhttp accepts with an HTTP/1.x version (Node 20's http.METHODS), as interned strings. */
export const KNOWN_METHODS: readonly string[] = [
  'ACL', 'BIND', 'CHECKOUT', 'CONNECT', 'COPY', 'DELETE', 'GET', 'HEAD', 'LINK', 'LOCK', 'M-SEARCH', 'MERGE',
  'MKACTIVITY', 'MKCALENDAR', 'MKCOL', 'MOVE', 'NOTIFY', 'OPTIONS', 'PATCH', 'POST', 'PROPFIND', 'PROPPATCH', 'PURGE',
  'PUT', 'QUERY', 'REBIND', 'REPORT', 'SEARCH', 'SOURCE', 'SUBSCRIBE', 'TRACE', 'UNBIND', 'UNLINK', 'UNLOCK',
  'UNSUBSCRIBE',
];
const BY_FIRST: string[][] = Array.from({ length: 256 }, () => []);
for (const m of KNOWN_METHODS) BY_FIRST[m.charCodeAt(0)]!.push(m);

function knownMethod(buf: Uint8Array, s: number, e: number): string | undefined {
  const list = BY_FIRST[buf[s]!]!;
  outer: for (let k = 0; k < list.length; k++) {
    const m = list[k]!;
    if (m.length !== e - s) continue;
    for (let i = 1; i < m.length; i++) if (buf[s + i] !== m.charCodeAt(i)) continue outer;
    return m;
  }
  return undefined;
}

/** RFC 3986 host [ ":" port ], as the gateway's Host check: IP literal or (possibly empty) reg-name. */
function validHost(buf: Uint8Array, s: number, e: number, connect: boolean): boolean {
  const ipChar = IP_LITERAL, regChar = REG_NAME;
  let i = s;
  if (i < e && buf[i] === 0x5b) {
    const h = ++i;
    while (i < e && ipChar[buf[i]!] === 1) i++;
    if (i === h || i >= e || buf[i] !== 0x5d) return false;
    i++;
  } else {
    while (i < e && regChar[buf[i]!] === 1) i++;
    if (connect && i === s) return false;
  }
  if (i < e && buf[i] === 58) {
    const ps = ++i;
    while (i < e && buf[i]! >= 48 && buf[i]! <= 57) i++;
    if (connect && i === ps) return false;
  } else if (connect) return false;
  return i === e;
}

/** Request-target form checks beyond "VCHAR only": returns why it is refused, or undefined. */
function targetProblem(buf: Uint8Array, s: number, e: number, method: string): string | undefined {
  const c = buf[s]!;
  if (method === 'CONNECT') return validHost(buf, s, e, true) ? undefined : 'CONNECT target is not host:port';
  if (c === 0x2f) return undefined;
  if (c === 0x2a) return e - s === 1 && method === 'OPTIONS' ? undefined : 'asterisk-form is only "*" with OPTIONS';
  let i = s;
  while (i < e && ((buf[i]! | 0x20) >= 0x61 && (buf[i]! | 0x20) <= 0x7a)) i++;
  if (i === s || e - i < 3 || buf[i] !== 58 || buf[i + 1] !== 0x2f || buf[i + 2] !== 0x2f) return 'invalid request-target';
  i += 3;
  const as = i;
  const authChar = AUTHORITY;
  while (i < e && authChar[buf[i]!] === 1) i++;
  if (i === as) return 'empty authority in request-target';
  if (i < e && buf[i] !== 0x2f && buf[i] !== 0x3f) return buf[i] === 0x40 ? 'userinfo in request-target' : 'invalid authority in request-target';
  return undefined;
}

/**
 * Parses one request head from buf[start, end). Returns 'incomplete' until the blank line has
 * arrived (call again from the same start with more bytes), an error with the status to answer,
 * or the head and the offset of the first byte after it. Empty lines before the request line are
 * skipped, as llhttp does. Once more than `maxHeadSize` bytes are offered without a complete head
 * the answer is 431, so a slow or endless head costs bounded work.
 */
export function parseRequestHead(buf: Buffer, start: number, end: number, limits: HeadLimits): RequestHeadResult {
  const limit = Math.min(end, start + limits.maxHeadSize);
  const r = parse(buf, start, limit, limits.maxHeaders);
  if (r === INCOMPLETE && end > limit) return fail(431, 'request head larger than maxHeadSize');
  return r;
}

function parse(buf: Buffer, start: number, end: number, maxHeaders: number): RequestHeadResult {
  const tchar = TOKEN, vchar = VCHAR;
  let p = start;
  while (p < end && (buf[p] === 13 || buf[p] === 10)) p++;
  const ls = p;
  while (p < end && tchar[buf[p]!] === 1) p++;
  if (p >= end) return INCOMPLETE;
  if (buf[p] !== 32 || p === ls) return fail(400, 'invalid method');
  const method = knownMethod(buf, ls, p);
  if (method === undefined) return fail(501, 'unknown method');
  const ts = ++p;
  while (p < end && vchar[buf[p]!] === 1) p++;
  if (p >= end) return INCOMPLETE;
  if (buf[p] !== 32) return fail(400, p === ts ? 'invalid request-target' : 'request line without HTTP version or invalid target');
  const te = p++;
  if (te === ts) return fail(400, 'more than one space after method');
  const problem = targetProblem(buf, ts, te, method);
  if (problem !== undefined) return fail(400, problem);
  // "HTTP/1.1" or "HTTP/1.0" and CRLF; else byte by byte, so garbage is refused before it completes.
  const minor = buf[p + 7]! - 48;
  if (!(p + 10 <= end && buf[p] === 72 && buf[p + 1] === 84 && buf[p + 2] === 84 && buf[p + 3] === 80 && buf[p + 4] === 47 &&
    buf[p + 5] === 49 && buf[p + 6] === 46 && (minor === 0 || minor === 1) && buf[p + 8] === 13 && buf[p + 9] === 10)) {
    const r = version(buf, p, end);
    if (r !== undefined) return r;
  }
  const q = scanFields(buf, p + 10, end, maxHeaders);
  if (q >= 0) return build(buf, ls, q, method, ts, te, minor as 0 | 1, p + 10);
  // Otherwise the complete field lines so far get the checks llhttp makes per line (Content-Length,
  // Transfer-Encoding): a head is refused without waiting for its end, and for the first fault in
  // byte order however its bytes were split.
  const early = build(buf, ls, -1, method, ts, te, minor as 0 | 1, p + 10);
  if (early.kind === 'error' || q === SCAN_INCOMPLETE) return early;
  return q === SCAN_BAD ? fail(400, scan.reason) : fail(431, 'too many header fields');
}

/** The version and CRLF ending a request line, when not plainly HTTP/1.x: why not, or undefined. */
function version(buf: Buffer, p: number, end: number): RequestHeadResult | undefined {
  for (let i = 0; i < 10; i++) {
    if (p + i >= end) return INCOMPLETE;
    const c = buf[p + i]!;
    const ok = i < 5 ? c === 'HTTP/'.charCodeAt(i) : i === 6 ? c === 46 : i === 8 ? c === 13 : i === 9 ? c === 10 : c >= 48 && c <= 57;
    if (!ok) return fail(400, i === 9 || (i === 8 && c === 10) ? 'request line not ended by CRLF' : 'invalid HTTP version');
  }
  return buf[p + 5] !== 49 || buf[p + 7]! > 49 ? fail(505, 'HTTP version not supported') : undefined;
}

/** Checks the scanned fields and makes the head; with next = -1, only the per-line checks. */
function build(buf: Buffer, ls: number, next: number, method: string, ts: number, te: number, minor: 0 | 1, fs: number): RequestHeadResult {
  const partial = next < 0;
  const text = partial ? '' : latin1(buf, ls, next);
  const n = scan.count;
  const offs = scan.offs;
  let cl = -1;
  let teLine = -1;
  let chunkedSeen = false;
  let hosts = 0;
  let host: string | undefined;
  let conn = 0;
  let upgradeField = false;
  let expectContinue = false;
  let expect = false;
  let forwarded = false;
  let forwardedFor: string | undefined;
  let ua = ABSENT, referer = ABSENT, auth = ABSENT;
  const tokens: string[] = [];
  const kinds = scan.kinds;
  for (let i = 0, k = 0; i < n; i++, k += 5) {
    const ns = offs[k]!, ne = offs[k + 1]!, vs = offs[k + 2]!, ve = offs[k + 3]!;
    const kind = (kinds[i] = fieldKind(buf, ns, ne));
    switch (kind) {
      case F_HOST:
        if (++hosts > 1) return fail(400, 'more than one Host');
        if (!validHost(buf, vs, ve, false)) return fail(400, 'invalid Host');
        if (!partial) host = text.slice(vs - ls, ve - ls);
        break;
      case F_X_FORWARDED_FOR:
        if (!partial) {
          const v = text.slice(vs - ls, ve - ls);
          forwardedFor = forwardedFor === undefined ? v : `${forwardedFor}, ${v}`;
        }
        break;
      case F_FORWARDED:
        forwarded = true;
        break;
      case F_CONTENT_LENGTH:
        if (cl >= 0) return fail(400, 'duplicate Content-Length');
        cl = contentLength(buf, vs, ve, offs[k + 4]!);
        if (cl < 0) return fail(400, 'invalid Content-Length');
        break;
      case F_TRANSFER_ENCODING:
        if (vs === ve) return fail(400, 'empty Transfer-Encoding');
        teLine = transferCodings(buf, vs, ve, offs[k + 4]!, chunkedSeen);
        if ((teLine & (TE_CHUNKED_NOT_LAST | TE_CHUNKED_TWICE)) !== 0) return fail(400, 'chunked is not the final coding, or repeated');
        chunkedSeen = chunkedSeen || teLine !== 0;
        break;
      case F_CONNECTION:
        conn |= connectionFlags(buf, vs, ve, partial ? undefined : tokens, text, ls);
        break;
      case F_PROXY_CONNECTION:
        conn |= connectionFlags(buf, vs, ve);
        break;
      case F_UPGRADE:
        if (ve > vs) upgradeField = true;
        break;
      case F_EXPECT:
        expect = true;
        if (ve - vs === 12 && CONTINUE_100(buf, vs)) expectContinue = true;
        break;
      case F_USER_AGENT:
        ua = ua === ABSENT ? (vs - ls) * PLACE + (ve - ls) : REPEATED;
        break;
      case F_REFERER:
        referer = referer === ABSENT ? (vs - ls) * PLACE + (ve - ls) : REPEATED;
        break;
      case F_AUTHORIZATION:
        auth = auth === ABSENT ? (vs - ls) * PLACE + (ve - ls) : REPEATED;
        break;
    }
  }
  if (teLine >= 0) {
    if (cl >= 0) return fail(400, 'both Content-Length and Transfer-Encoding');
    if (minor === 0) return fail(400, 'Transfer-Encoding in an HTTP/1.0 request');
    if (partial) return INCOMPLETE;
    if ((teLine & TE_CHUNKED_LAST) === 0) return fail(400, 'Transfer-Encoding without chunked as final coding');
  }
  if (partial) return INCOMPLETE;
  if (hosts === 0 && minor === 1) return fail(400, 'missing Host');
  const relay = cl < 0 && teLine < 0 && !forwarded && !namesOtherFields(tokens);
  const head = new ParsedRequestHead(
    text, fs - ls, method, text.slice(ts - ls, te - ls), minor, cl, teLine >= 0, expect,
    minor === 1 ? (conn & C_CLOSE) === 0 : (conn & (C_KEEP_ALIVE | C_CLOSE)) === C_KEEP_ALIVE,
    expectContinue, upgradeField && (conn & C_UPGRADE) !== 0, host, tokens, relay ? keptLines(text, ls, next - 2, REWRITTEN) : undefined, forwardedFor,
  );
  if (ua !== ABSENT || referer !== ABSENT || auth !== ABSENT) head.note(ua, referer, auth);
  return { kind: 'head', head, next };
}
