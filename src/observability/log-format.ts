import type { AccessRecord } from './events.js';
import { closest } from '../config/suggest.js';
import { msOfIso } from './access-line.js';
import { own } from '../util/own.js';

/**
 * NGINX-style access-log formats: `combined`, `common`, or a template of `$variables` as in
 * NGINX's `log_format` (with NGINX's default escaping: `"`, `\`, controls and non-ASCII bytes
 * as `\xHH`; a value that is not there prints as `-`). A template is compiled once into one
 * function of literal text and value getters, so a line is a few string concatenations.
 */
const PRESETS: Readonly<Record<string, string>> = {
  combined: '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"',
  common: '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent',
};

/** Status codes as text, made once: String() on every line was a builtin call and a cache probe. */
const STATUS_TEXT: string[] = Array.from({ length: 1000 }, (_, i) => String(i));

function statusText(status: number): string {
  return status >= 0 && status < 1000 && status === (status | 0) ? STATUS_TEXT[status]! : String(status);
}

/** A value for the line, already escaped; undefined prints as '-'. */
type Getter = (r: AccessRecord) => string | undefined;

/** The variables a template may use (besides `$http_<name>`), with NGINX's meaning. */
const VARIABLES: Readonly<Record<string, Getter>> = {
  remote_addr: (r) => escape(r.client),
  time_local: (r) => clock(timeMs(r)).local,
  time_iso8601: (r) => clock(timeMs(r)).iso8601,
  msec: (r) => {
    const ms = timeMs(r);
    return Number.isFinite(ms) ? (ms / 1000).toFixed(3) : undefined;
  },
  request: (r) => `${escape(r.method)} ${escape(r.path)} ${r.protocol ?? 'HTTP/1.1'}`,
  request_method: (r) => escape(r.method),
  request_uri: (r) => escape(r.path),
  uri: (r) => {
    const q = r.path.indexOf('?');
    return escape(q < 0 ? r.path : r.path.slice(0, q));
  },
  args: query,
  query_string: query,
  server_protocol: (r) => r.protocol ?? 'HTTP/1.1',
  host: (r) => hostName(r.host),
  status: (r) => statusText(r.status),
  body_bytes_sent: (r) => String(r.bytes),
  request_time: (r) => seconds(r.duration_ms),
  upstream_addr: (r) => tries(r, (t) => escape(t.server)),
  upstream_status: (r) => tries(r, (t) => (t.status === undefined ? undefined : String(t.status))),
  upstream_response_time: (r) => tries(r, (t) => seconds(t.ms)),
  upstream_header_time: (r) => tries(r, (t) => (t.header_ms === undefined ? undefined : seconds(t.header_ms))),
  route: (r) => (r.route === undefined ? undefined : escape(r.route)),
  upstream_name: (r) => (r.upstream === undefined ? undefined : escape(r.upstream)),
  error_code: (r) => r.code,
};

/**
 * The common variables as source text for the line function (see {@link generate}), the same
 * values as their getters without a call each: `E` escape, `C` clock, `T` timeMs, `S` statusText
 * (and `B` basicUser, for `$remote_user`).
 */
const INLINE: Readonly<Record<string, string>> = {
  remote_addr: 'E(r.client)',
  time_local: 'C(T(r)).local',
  request: 'E(r.method) + " " + E(r.path) + " " + (r.protocol ?? "HTTP/1.1")',
  request_method: 'E(r.method)',
  request_uri: 'E(r.path)',
  status: 'S(r.status)',
  body_bytes_sent: 'String(r.bytes)',
};

/** What a compiled format needs and does. */
export interface LogFormat {
  /** One line, ending in '\n'. */
  line(r: AccessRecord): string;
  /** Every line is ASCII (values are escaped to it; the template's own text is). */
  ascii: boolean;
  /** Lower-case request field names its variables read (`$http_*`, and Authorization for `$remote_user`), in AccessRecord.fields order. */
  fields: string[];
}

/**
 * Compile a preset name or a template. Returns an error message for an unknown variable or an empty
 * template. `generateCode` false makes the line function a loop over the getters, as when code
 * generation is disallowed (tests compare the two).
 */
export function compileFormat(spec: string, generateCode = true): LogFormat | string {
  const template = own(PRESETS, spec) ?? spec;
  if (template.trim() === '') return 'an empty format';
  const literals: string[] = [];
  const getters: Getter[] = [];
  /** Source text for each variable's value ('-' when absent) in the line function, where there is one. */
  const inline: Array<string | undefined> = [];
  const fields: string[] = [];
  /** The index of a request field in AccessRecord.fields. */
  const slot = (name: string): number => {
    const i = fields.indexOf(name);
    return i >= 0 ? i : fields.push(name) - 1;
  };
  const re = /\$(?:\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))/g;
  let last = 0;
  for (let m = re.exec(template); m !== null; m = re.exec(template)) {
    const name = (m[1] ?? m[2])!;
    let get: Getter | undefined;
    let src = own(INLINE, name);
    if (name.startsWith('http_') && name.length > 5) {
      const i = slot(name.slice(5).toLowerCase().replace(/_/g, '-'));
      get = (r) => {
        const v = r.fields?.[i];
        return v === undefined ? undefined : escape(v);
      };
      src = `((v = r.fields?.[${i}]) === undefined ? "-" : E(v))`;
    } else if (name === 'remote_user') {
      const i = slot('authorization');
      get = (r) => basicUser(r.fields?.[i]);
      src = `(B(r.fields?.[${i}]) ?? "-")`;
    } else get = own(VARIABLES, name);
    if (get === undefined) {
      const near = closest(name, [...VARIABLE_NAMES, 'http_<name>']);
      return `unknown variable $${name}${near ? ` (did you mean $${near}?)` : ''}`;
    }
    literals.push(template.slice(last, m.index));
    getters.push(get);
    inline.push(src);
    last = m.index + m[0].length;
  }
  literals.push(template.slice(last) + '\n');
  return { fields, ascii: /^[\x00-\x7f]*$/.test(template), line: generate(literals, getters, generateCode ? inline : undefined) };
}

/**
 * The line function as one expression, `lit0 + E(r.client) + lit1 + (g1(r) ?? '-') + ...`, made
 * with `new Function`: the common variables as their source text (`inline`), the others through
 * their getters, each with its own call site, so V8 inlines them all (a loop over the getters cost
 * a megamorphic call per variable). Only JSON-quoted literals, the sources above, slot numbers and
 * parameter names go into the source.
 */
function generate(literals: string[], getters: Getter[], inline: Array<string | undefined> | undefined): (r: AccessRecord) => string {
  if (inline === undefined) return loop(literals, getters);
  let expr = JSON.stringify(literals[0]);
  for (let i = 0; i < getters.length; i++) expr += ` + ${inline[i] ?? `(g${i}(r) ?? '-')`} + ${JSON.stringify(literals[i + 1])}`;
  const params = [...getters.map((_, i) => `g${i}`), 'E', 'C', 'T', 'S', 'B'];
  try {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    return new Function(...params, `return (r) => { let v; return ${expr}; };`)(...getters, escape, clock, timeMs, statusText, basicUser) as (r: AccessRecord) => string;
  } catch {
    // Code generation from strings is disallowed (--disallow-code-generation-from-strings).
    return loop(literals, getters);
  }
}

/** The line function as a loop over the getters. */
function loop(literals: string[], getters: Getter[]): (r: AccessRecord) => string {
  return (r) => {
    let s = literals[0]!;
    for (let i = 0; i < getters.length; i++) s += (getters[i]!(r) ?? '-') + literals[i + 1]!;
    return s;
  };
}

/** The variable names a template may use, for the suggestion on a misspelt one. */
const VARIABLE_NAMES: readonly string[] = [...Object.keys(VARIABLES), 'remote_user'];

function query(r: AccessRecord): string | undefined {
  const q = r.path.indexOf('?');
  return q < 0 || q === r.path.length - 1 ? undefined : escape(r.path.slice(q + 1));
}

/** NGINX's $host: the Host field without its port, lower-cased. */
function hostName(h: string | undefined): string | undefined {
  if (h === undefined || h === '') return undefined;
  const end = h.charCodeAt(0) === 0x5b ? h.indexOf(']') + 1 : h.indexOf(':');
  return escape((end > 0 ? h.slice(0, end) : h).toLowerCase());
}

/** One value per attempt, joined with ", " as NGINX does; '-' for an attempt without one. */
function tries(r: AccessRecord, pick: (t: AccessRecord['tries'][number]) => string | undefined): string | undefined {
  const t = r.tries;
  if (t.length === 0) return undefined;
  let s = pick(t[0]!) ?? '-';
  for (let i = 1; i < t.length; i++) s += ', ' + (pick(t[i]!) ?? '-');
  return s;
}

/** Milliseconds as NGINX prints times: seconds with three decimals. */
function seconds(ms: number): string {
  if (!(ms >= 0 && ms < 1e15)) return '0.000';
  const whole = Math.round(ms);
  const frac = whole % 1000;
  return `${(whole - frac) / 1000}.${frac < 10 ? '00' : frac < 100 ? '0' : ''}${frac}`;
}

/** The user name of `Authorization: Basic ...`, as NGINX's $remote_user. */
function basicUser(auth: string | undefined): string | undefined {
  if (auth === undefined || auth.length < 6 || auth.slice(0, 6).toLowerCase() !== 'basic ') return undefined;
  const b64 = auth.slice(6).trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return undefined;
  const plain = Buffer.from(b64, 'base64').toString('latin1');
  const colon = plain.indexOf(':');
  return colon < 0 ? undefined : escape(plain.slice(0, colon));
}

/**
 * NGINX's escaping: '"', '\', controls and bytes above 0x7E as \xHH (characters above 0xFF by
 * their UTF-8 bytes). Clean strings are returned as they are.
 */
export function escape(v: string): string {
  // Longer values (User-Agent, Referer) are usually slices of a request head, where charCodeAt
  // costs twice what it does on a flat string; the regular expression scans either at one speed.
  if (v.length > 16) return NEEDS_ESCAPE.test(v) ? escapeFrom(v, 0) : v;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return escapeFrom(v, i);
  }
  return v;
}

/** A character {@link escape} replaces. */
const NEEDS_ESCAPE = /[^\x20\x21\x23-\x5b\x5d-\x7e]/;

function escapeFrom(v: string, from: number): string {
  let s = v.slice(0, from);
  for (let i = from; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c >= 0x20 && c <= 0x7e && c !== 0x22 && c !== 0x5c) s += v[i];
    else if (c <= 0xff) s += hex(c);
    else {
      const cp = v.codePointAt(i)!;
      if (cp > 0xffff) i++;
      for (const b of Buffer.from(String.fromCodePoint(cp), 'utf8')) s += hex(b);
    }
  }
  return s;
}

function hex(b: number): string {
  return `\\x${b < 16 ? '0' : ''}${b.toString(16).toUpperCase()}`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

interface Clock {
  /** `21/Nov/2026:18:13:50 +0000` (local time, as $time_local). */
  local: string;
  /** `2026-11-21T18:13:50+00:00` (local time, as $time_iso8601). */
  iso8601: string;
}

/** The last second formatted (epoch seconds), and its texts. */
let lastSecond = NaN;
let lastClock: Clock = { local: '', iso8601: '' };

/** The record's time in epoch ms: carried by records the proxy makes, else read from `time`. */
function timeMs(r: AccessRecord): number {
  return r.time_ms ?? msOfIso(r.time);
}

/** The local-time texts of a time (epoch ms), formatted once per second. */
function clock(ms: number): Clock {
  const sec = Math.floor(ms / 1000);
  if (sec === lastSecond) return lastClock;
  if (!Number.isFinite(sec)) return { local: '-', iso8601: '-' };
  const d = new Date(sec * 1000);
  const off = -d.getTimezoneOffset();
  const sign = off < 0 ? '-' : '+';
  const oh = two(Math.floor(Math.abs(off) / 60));
  const om = two(Math.abs(off) % 60);
  const y = String(d.getFullYear()).padStart(4, '0');
  const hms = `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
  lastSecond = sec;
  // Flat strings: every line copies them.
  lastClock = {
    local: flat(`${two(d.getDate())}/${MONTHS[d.getMonth()]}/${y}:${hms} ${sign}${oh}${om}`),
    iso8601: flat(`${y}-${two(d.getMonth() + 1)}-${two(d.getDate())}T${hms}${sign}${oh}:${om}`),
  };
  return lastClock;
}

/** The same text as one flat string (not a tree of concatenations). */
function flat(s: string): string {
  return Buffer.from(s, 'latin1').toString('latin1');
}

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}
