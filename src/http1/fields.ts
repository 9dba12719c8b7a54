/**
 * Shared byte-level pieces of the HTTP/1.1 parsers: character tables, the field-line scanner used
 * for request heads, response heads and chunked trailer sections, and the framing-header readers
 * (Content-Length, Transfer-Encoding, Connection). Everything works on Buffer offsets with table
 * lookups; strings are made by the callers, once per head, from one latin1 decode (field-text.ts).
 *
 * Strictness follows llhttp 9 in its default (non-lenient) mode as used by Node 20's http server,
 * and RFC 9112 where that is stricter on a point that matters for request smuggling.
 */

function table(chars: string, ranges: Array<[number, number]> = []): Uint8Array {
  const t = new Uint8Array(256);
  for (let i = 0; i < chars.length; i++) t[chars.charCodeAt(i)] = 1;
  for (const [a, b] of ranges) for (let c = a; c <= b; c++) t[c] = 1;
  return t;
}

const ALNUM: Array<[number, number]> = [[0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a]];

/** RFC 9110 5.6.2 tchar: field names, methods, chunk-extension names and token values. */
export const TOKEN = table("!#$%&'*+-.^_`|~", ALNUM);
/** Field-value bytes (RFC 9110 5.5 plus obs-text, as llhttp): HTAB, SP, VCHAR, 0x80-0xFF. */
export const FIELD_VALUE = table('\t', [[0x20, 0x7e], [0x80, 0xff]]);
/** Request-target bytes as llhttp's URL parser (strict mode) takes them: VCHAR only. */
export const VCHAR = table('', [[0x21, 0x7e]]);
/** Authority bytes of an absolute-form target: llhttp's server chars less '@' (userinfo). */
export const AUTHORITY = table("-._~!$&'()*+,;=%:[]", ALNUM);
/** RFC 3986 reg-name bytes (unreserved, sub-delims, pct-encoding). */
export const REG_NAME = table("-._~!$&'()*+,;=%", ALNUM);
/** Bytes inside an IP-literal, as the gateway's Host check accepts them. */
export const IP_LITERAL = table(':.', [[0x30, 0x39], [0x41, 0x46], [0x61, 0x66]]);

/** Largest Content-Length or chunk size we frame: a JS number must count it exactly. */
export const MAX_LENGTH = Number.MAX_SAFE_INTEGER;

/** Where the last {@link scanFields} call stopped and why. Reused: read before the next call. */
export const scan = {
  /** Number of (complete) field lines found. */
  count: 0,
  /** Per field: name start, name end, value start, value end (OWS trimmed), raw value end. */
  offs: new Int32Array(5 * 128),
  /** Per field: its {@link fieldKind}, recorded by the head parsers for {@link keptLines}. */
  kinds: new Uint8Array(128),
  /** Why the scan failed, when it returned {@link SCAN_BAD}. */
  reason: '',
};

/** {@link scanFields}: more bytes are needed. */
export const SCAN_INCOMPLETE = -1;

/** What a head parser returns: not yet a whole head, a refusal, or the head and the offset after it. */
export type HeadResult<H, E> = { kind: 'incomplete' } | E | { kind: 'head'; head: H; /** Offset after the blank line: the body or the next message. */ next: number };

/** The one 'incomplete' value both head parsers return (compared by identity). */
export const INCOMPLETE: { kind: 'incomplete' } = Object.freeze({ kind: 'incomplete' as const });
/** {@link scanFields}: malformed field section ({@link scan}.reason says how). */
export const SCAN_BAD = -2;
/** {@link scanFields}: more field lines than allowed. */
export const SCAN_TOO_MANY = -3;

function bad(reason: string): number {
  scan.reason = reason;
  return SCAN_BAD;
}

/**
 * Scans field lines from `p` (the first byte after the start line's CRLF, or after a last-chunk
 * line) up to and including the empty line that ends the section. Returns the offset after that
 * CRLF, or one of the negative SCAN_* codes. Rejects what llhttp rejects: bare CR or LF, a
 * field line starting with whitespace (obs-fold, or whitespace before the first field), empty or
 * non-token names, whitespace before the colon, and CTLs other than HTAB in values.
 */
export function scanFields(buf: Uint8Array, p: number, end: number, maxFields: number): number {
  // Locals, not module bindings, in the byte loops: V8 re-checks a module `const` for TDZ each time.
  const tchar = TOKEN;
  let offs = scan.offs;
  let n = 0;
  scan.count = 0;
  for (;;) {
    // On SCAN_INCOMPLETE, scan.count still tells the complete lines so far, for early checks.
    scan.count = n;
    if (p >= end) return SCAN_INCOMPLETE;
    let c = buf[p]!;
    if (c === 13) {
      if (p + 1 >= end) return SCAN_INCOMPLETE;
      if (buf[p + 1] !== 10) return bad('CR without LF after the field section');
      return p + 2;
    }
    const ns = p;
    while (p < end && tchar[buf[p]!] === 1) p++;
    if (p >= end) return SCAN_INCOMPLETE;
    c = buf[p]!;
    if (c !== 58) {
      if (p === ns) return bad(c === 32 || c === 9 ? 'whitespace at the start of a field line' : c === 10 ? 'bare LF' : 'invalid field name');
      return bad(c === 32 || c === 9 ? 'whitespace between field name and colon' : 'invalid character in field name');
    }
    if (p === ns) return bad('empty field name');
    const ne = p++;
    while (p < end && (buf[p] === 32 || buf[p] === 9)) p++;
    const vs = p;
    // FIELD_VALUE by arithmetic (HTAB, SP-'~', obs-text): one typed-array load per byte, not two.
    while (p < end) {
      const v = buf[p]!;
      if (v >= 0x20 ? v === 0x7f : v !== 9) break;
      p++;
    }
    if (p >= end) return SCAN_INCOMPLETE;
    if (buf[p] !== 13) return bad(buf[p] === 10 ? 'bare LF after field value' : 'invalid character in field value');
    const raw = p;
    let ve = p;
    while (ve > vs && (buf[ve - 1] === 32 || buf[ve - 1] === 9)) ve--;
    if (p + 2 >= end) return SCAN_INCOMPLETE;
    if (buf[p + 1] !== 10) return bad('CR without LF after field value');
    p += 2;
    c = buf[p]!;
    if (c === 32 || c === 9) return bad('obsolete line folding');
    if (n === maxFields) return SCAN_TOO_MANY;
    const k = 5 * n++;
    if (k + 5 > offs.length) {
      const grown = new Int32Array(offs.length * 2);
      grown.set(offs);
      scan.offs = offs = grown;
      scan.kinds = new Uint8Array(grown.length / 5);
    }
    offs[k] = ns;
    offs[k + 1] = ne;
    offs[k + 2] = vs;
    offs[k + 3] = ve;
    offs[k + 4] = raw;
  }
}

/** Field names the parsers act on, from {@link fieldKind}. */
export const F_OTHER = 0;
export const F_HOST = 1;
export const F_CONTENT_LENGTH = 2;
export const F_TRANSFER_ENCODING = 3;
export const F_CONNECTION = 4;
export const F_PROXY_CONNECTION = 5;
export const F_UPGRADE = 6;
export const F_EXPECT = 7;
export const F_KEEP_ALIVE = 8;
export const F_TE = 9;
export const F_TRAILER = 10;
export const F_PROXY_AUTHENTICATE = 11;
export const F_PROXY_AUTHORIZATION = 12;
export const F_FORWARDED = 13;
export const F_X_FORWARDED_FOR = 14;
export const F_X_FORWARDED_HOST = 15;
export const F_X_FORWARDED_PROTO = 16;
/** Fields access logs print (combined): the request parser notes where they are. */
export const F_USER_AGENT = 17;
export const F_REFERER = 18;
export const F_AUTHORIZATION = 19;

/** Tells whether buf[s, s + n) is one lower-case name or token, ignoring ASCII case (see {@link lowerMatcher}). */
export type LowerMatcher = (buf: Uint8Array, s: number) => boolean;

/**
 * A matcher for `lower` (a lower-case token): straight-line code, one comparison per byte,
 * `(buf[s + i] | 0x20) === code`. A loop over the name's bytes kept a stack check and every
 * load's map and bounds checks per byte (~20 instructions): about 5x slower on these names.
 * `| 0x20` folds case safely on what the scanner accepted (no CTL but HTAB): only letters fold
 * onto letters, and '-' and digits map to themselves. The caller checks the length first.
 */
export function lowerMatcher(lower: string): LowerMatcher {
  if (!/^[a-z0-9-]+$/.test(lower)) throw new Error(`lowerMatcher: not a lower-case token: ${lower}`);
  const terms: string[] = [];
  for (let i = 0; i < lower.length; i++) terms.push(`(buf[s + ${i}] | 32) === ${lower.charCodeAt(i)}`);
  return new Function('buf', 's', `return ${terms.join(' && ')};`) as LowerMatcher;
}

const TE = lowerMatcher('te');
const HOST = lowerMatcher('host');
const EXPECT = lowerMatcher('expect');
const UPGRADE = lowerMatcher('upgrade');
const TRAILER = lowerMatcher('trailer');
const REFERER = lowerMatcher('referer');
const FORWARDED = lowerMatcher('forwarded');
const CONNECTION = lowerMatcher('connection');
const KEEP_ALIVE = lowerMatcher('keep-alive');
const USER_AGENT = lowerMatcher('user-agent');
const AUTHORIZATION = lowerMatcher('authorization');
const CONTENT_LENGTH = lowerMatcher('content-length');
const X_FORWARDED_FOR = lowerMatcher('x-forwarded-for');
const PROXY_CONNECTION = lowerMatcher('proxy-connection');
const X_FORWARDED_HOST = lowerMatcher('x-forwarded-host');
const TRANSFER_ENCODING = lowerMatcher('transfer-encoding');
const X_FORWARDED_PROTO = lowerMatcher('x-forwarded-proto');
const PROXY_AUTHENTICATE = lowerMatcher('proxy-authenticate');
const PROXY_AUTHORIZATION = lowerMatcher('proxy-authorization');
const CHUNKED = lowerMatcher('chunked');
const CLOSE = lowerMatcher('close');

/**
 * Classifies a (token) field name without making a string. `| 0x20` folds case safely here:
 * among tchars only the letters themselves fold onto letters, and '-' maps to itself.
 */
export function fieldKind(buf: Uint8Array, s: number, e: number): number {
  // The first letter rules out most names before a full comparison.
  const c = buf[s]! | 0x20;
  switch (e - s) {
    case 2: return c === 0x74 && TE(buf, s) ? F_TE : F_OTHER;
    case 4: return c === 0x68 && HOST(buf, s) ? F_HOST : F_OTHER;
    case 6: return c === 0x65 && EXPECT(buf, s) ? F_EXPECT : F_OTHER;
    case 7:
      if (c === 0x75) return UPGRADE(buf, s) ? F_UPGRADE : F_OTHER;
      if (c === 0x74) return TRAILER(buf, s) ? F_TRAILER : F_OTHER;
      return c === 0x72 && REFERER(buf, s) ? F_REFERER : F_OTHER;
    case 9: return c === 0x66 && FORWARDED(buf, s) ? F_FORWARDED : F_OTHER;
    case 10:
      if (c === 0x63) return CONNECTION(buf, s) ? F_CONNECTION : F_OTHER;
      if (c === 0x6b) return KEEP_ALIVE(buf, s) ? F_KEEP_ALIVE : F_OTHER;
      return c === 0x75 && USER_AGENT(buf, s) ? F_USER_AGENT : F_OTHER;
    case 13: return c === 0x61 && AUTHORIZATION(buf, s) ? F_AUTHORIZATION : F_OTHER;
    case 14: return c === 0x63 && CONTENT_LENGTH(buf, s) ? F_CONTENT_LENGTH : F_OTHER;
    case 15: return c === 0x78 && X_FORWARDED_FOR(buf, s) ? F_X_FORWARDED_FOR : F_OTHER;
    case 16: return c === 0x70 ? (PROXY_CONNECTION(buf, s) ? F_PROXY_CONNECTION : F_OTHER) : c === 0x78 && X_FORWARDED_HOST(buf, s) ? F_X_FORWARDED_HOST : F_OTHER;
    case 17: return c === 0x74 ? (TRANSFER_ENCODING(buf, s) ? F_TRANSFER_ENCODING : F_OTHER) : c === 0x78 && X_FORWARDED_PROTO(buf, s) ? F_X_FORWARDED_PROTO : F_OTHER;
    case 18: return c === 0x70 && PROXY_AUTHENTICATE(buf, s) ? F_PROXY_AUTHENTICATE : F_OTHER;
    case 19: return c === 0x70 && PROXY_AUTHORIZATION(buf, s) ? F_PROXY_AUTHORIZATION : F_OTHER;
    default: return F_OTHER;
  }
}

/**
 * Content-Length value: 1*DIGIT, leading OWS, trailing SP only (llhttp rejects a trailing HTAB).
 * Returns the length, or -1 when invalid (empty, non-digit, a list, or above 2^53-1).
 */
export function contentLength(buf: Uint8Array, vs: number, ve: number, raw: number): number {
  if (vs === ve) return -1;
  for (let i = ve; i < raw; i++) if (buf[i] === 9) return -1;
  let n = 0;
  for (let i = vs; i < ve; i++) {
    const d = buf[i]! - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
    if (n > MAX_LENGTH) return -1;
  }
  return n;
}

/** {@link transferCodings} result bits: the final coding is chunked. */
export const TE_CHUNKED_LAST = 1;
/** `chunked` appears, but not as the final coding. */
export const TE_CHUNKED_NOT_LAST = 2;
/** `chunked` appears more than once (counting earlier Transfer-Encoding lines). */
export const TE_CHUNKED_TWICE = 4;

/**
 * Reads one Transfer-Encoding field value as a list of codings (OWS trimmed, case-insensitive;
 * empty elements are skipped except a trailing one, which llhttp counts as the final coding). `chunkedBefore` says an earlier Transfer-Encoding line already
 * ended in chunked. A final `chunked` followed by trailing HTAB does not count as chunked,
 * like llhttp, so such a request is refused rather than read differently than Node would.
 */
export function transferCodings(buf: Uint8Array, vs: number, ve: number, raw: number, chunkedBefore: boolean): number {
  let seen = chunkedBefore ? 1 : 0;
  let last = false;
  let i = vs;
  while (i < ve) {
    let s = i;
    while (i < ve && buf[i] !== 44) i++;
    let e = i;
    i++;
    while (s < e && (buf[s] === 32 || buf[s] === 9)) s++;
    while (e > s && (buf[e - 1] === 32 || buf[e - 1] === 9)) e--;
    last = e - s === 7 && CHUNKED(buf, s);
    if (last) seen++;
  }
  // A trailing comma leaves an empty final element: like llhttp, chunked is then not final.
  if (ve > vs && buf[ve - 1] === 44) last = false;
  if (last) for (let j = ve; j < raw; j++) if (buf[j] === 9) last = false;
  let r = last ? TE_CHUNKED_LAST : 0;
  if (seen > 1) r |= TE_CHUNKED_TWICE;
  if (seen > 0 && !last) r |= TE_CHUNKED_NOT_LAST;
  return r;
}

/** {@link connectionFlags} bits. */
export const C_CLOSE = 1;
export const C_KEEP_ALIVE = 2;
export const C_UPGRADE = 4;

/**
 * Close / keep-alive / upgrade tokens of a Connection (or Proxy-Connection) value. When `out` is
 * given, also pushes every non-empty element lower-cased, sliced from `text` (the head decoded
 * from buffer offset `base`), for hop-by-hop stripping.
 */
export function connectionFlags(buf: Uint8Array, vs: number, ve: number, out?: string[], text?: string, base?: number): number {
  let f = 0;
  let i = vs;
  while (i < ve) {
    let s = i;
    while (i < ve && buf[i] !== 44) i++;
    let e = i;
    i++;
    while (s < e && (buf[s] === 32 || buf[s] === 9)) s++;
    while (e > s && (buf[e - 1] === 32 || buf[e - 1] === 9)) e--;
    const len = e - s;
    if (len === 0) continue;
    // The three tokens llhttp acts on are pushed as constants: no slice, no toLowerCase.
    let known: string | undefined;
    if (len === 5 && CLOSE(buf, s)) {
      f |= C_CLOSE;
      known = 'close';
    } else if (len === 10 && KEEP_ALIVE(buf, s)) {
      f |= C_KEEP_ALIVE;
      known = 'keep-alive';
    } else if (len === 7 && UPGRADE(buf, s)) {
      f |= C_UPGRADE;
      known = 'upgrade';
    }
    if (out !== undefined) out.push(known ?? text!.slice(s - base!, e - base!).toLowerCase());
  }
  return f;
}

/** A mask of field kinds: bit k set for kind k. */
export function kindMask(...kinds: number[]): number {
  let m = 0;
  for (const k of kinds) m |= 1 << k;
  return m;
}

/** Hop-by-hop fields (RFC 9110 7.6.1, and Proxy-Connection), by {@link fieldKind}: never relayed. */
export const HOP_BY_HOP_KINDS = kindMask(
  F_CONNECTION, F_KEEP_ALIVE, F_PROXY_CONNECTION, F_TE, F_TRAILER, F_TRANSFER_ENCODING, F_UPGRADE, F_PROXY_AUTHENTICATE, F_PROXY_AUTHORIZATION,
);

/** The same fields by (lower-case) name. */
export const HOP_BY_HOP_NAMES: ReadonlySet<string> = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade',
]);

/** Do Connection's tokens name a field other than the hop-by-hop ones (which are dropped anyway)? */
export function namesOtherFields(tokens: readonly string[]): boolean {
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    // The tokens connectionFlags pushes as constants first: no Set lookup for the usual heads.
    if (t !== 'close' && t !== 'keep-alive' && t !== 'upgrade' && !HOP_BY_HOP_NAMES.has(t)) return true;
  }
  return false;
}
