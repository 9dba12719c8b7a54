import type { AccessRecord } from './events.js';

/**
 * One access record as a JSON line, written by hand: the request path logs every request, and a
 * generic serializer (pino's) cost several times more per line. The shape is pino's (`level` 30
 * first), so pino tooling reads it. Strings go through JSON.stringify only when they need escaping.
 */
export function accessLine(r: AccessRecord): string {
  // Quotes sit in the template and esc() returns clean strings as they are: fewer, larger pieces.
  let s = `{"level":30,"time":"${r.time}","client":"${esc(r.client)}","method":"${esc(r.method)}","path":"${esc(r.path)}"`;
  if (r.host !== undefined) s += `,"host":"${esc(r.host)}"`;
  s += `,"status":${r.status},"bytes":${r.bytes},"duration_ms":${ms(r.duration_ms)}`;
  if (r.route !== undefined) s += `,"route":"${esc(r.route)}"`;
  if (r.upstream !== undefined) s += `,"upstream":"${esc(r.upstream)}"`;
  s += ',"tries":[';
  for (let i = 0; i < r.tries.length; i++) {
    const t = r.tries[i]!;
    s += `${i > 0 ? ',' : ''}{"server":"${esc(t.server)}","outcome":"${t.outcome}"`;
    if (t.status !== undefined) s += `,"status":${t.status}`;
    if (t.header_ms !== undefined) s += `,"header_ms":${ms(t.header_ms)}`;
    s += `,"ms":${ms(t.ms)}}`;
  }
  s += ']';
  if (r.code !== undefined) s += `,"code":"${r.code}"`;
  if (r.bytes_in !== undefined) s += `,"bytes_in":${r.bytes_in}`;
  if (r.outcome !== undefined) s += `,"outcome":"${esc(r.outcome)}"`;
  return s + '}\n';
}

/** '.000' to '.999': the fraction of a millisecond value, without formatting it each time. */
const FRACTIONS = Array.from({ length: 1000 }, (_, i) => `.${String(i).padStart(3, '0')}`);

/** Milliseconds to 3 decimals through integer formatting (double-to-string is the slow part of a line). */
function ms(v: number): string {
  if (!(v >= 0 && v < 1e12)) return String(v);
  const us = Math.round(v * 1000);
  const frac = us % 1000;
  return (us - frac) / 1000 + FRACTIONS[frac]!;
}

/**
 * The inside of a JSON string. Most values need no escaping: a char loop finds out (cheaper than
 * a regex on short strings) and returns the string itself; quote, backslash, controls and any
 * surrogate go through JSON.stringify.
 */
function esc(v: string): string {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(v).slice(1, -1);
  }
  return v;
}

let lastMs = -1;
let lastIso = '';
/** The start of the second `prefix` belongs to, and its ISO text up to the '.'. */
let secondStart = -1;
let prefix = '';

/**
 * ISO time of `ms` (as Date#toISOString). Formatting a date is slow: the text up to the seconds is
 * made once per second, the milliseconds are appended, and the result is kept for the next call
 * within the same millisecond.
 */
export function isoAt(ms: number): string {
  if (ms === lastMs) return lastIso;
  lastMs = ms;
  const frac = ms - secondStart;
  if (!(frac >= 0 && frac < 1000)) {
    secondStart = ms - (((ms % 1000) + 1000) % 1000);
    const iso = new Date(secondStart).toISOString();
    // Years outside 0000-9999 have a longer form: keep those whole.
    prefix = iso.length === 24 ? iso.slice(0, 20) : '';
    if (prefix === '') return (lastIso = new Date(ms).toISOString());
  } else if (prefix === '') return (lastIso = new Date(ms).toISOString());
  const f = ms - secondStart;
  return (lastIso = `${prefix}${f < 10 ? '00' : f < 100 ? '0' : ''}${f}Z`);
}

/**
 * The epoch milliseconds of an ISO time: without parsing when it is the text isoAt made last
 * (the access record's time, formatted a moment ago).
 */
export function msOfIso(iso: string): number {
  return iso === lastIso ? lastMs : Date.parse(iso);
}

/** ISO time of now. */
export function isoNow(): string {
  return isoAt(Date.now());
}
