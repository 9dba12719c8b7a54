import type { AccessRecord } from './events.js';

/**
 * One access record as a JSON line, written by hand: the request path logs every request, and a
 * generic serializer (pino's) cost several times more per line. The shape is pino's (`level` 30
 * first), so pino tooling reads it. Strings go through JSON.stringify only when they need escaping.
 */
export function accessLine(r: AccessRecord): string {
  let s = `{"level":30,"time":"${r.time}","client":${str(r.client)},"method":${str(r.method)},"path":${str(r.path)}`;
  if (r.host !== undefined) s += `,"host":${str(r.host)}`;
  s += `,"status":${r.status},"bytes":${r.bytes},"duration_ms":${ms(r.duration_ms)}`;
  if (r.route !== undefined) s += `,"route":${str(r.route)}`;
  if (r.upstream !== undefined) s += `,"upstream":${str(r.upstream)}`;
  s += ',"tries":[';
  for (let i = 0; i < r.tries.length; i++) {
    const t = r.tries[i]!;
    if (i > 0) s += ',';
    s += `{"server":${str(t.server)},"outcome":"${t.outcome}"`;
    if (t.status !== undefined) s += `,"status":${t.status}`;
    if (t.header_ms !== undefined) s += `,"header_ms":${ms(t.header_ms)}`;
    s += `,"ms":${ms(t.ms)}}`;
  }
  s += ']';
  if (r.code !== undefined) s += `,"code":"${r.code}"`;
  if (r.bytes_in !== undefined) s += `,"bytes_in":${r.bytes_in}`;
  if (r.outcome !== undefined) s += `,"outcome":${str(r.outcome)}`;
  return s + '}\n';
}

// Characters that JSON must escape: quote, backslash, controls; lone surrogates are rare enough
// to leave to JSON.stringify, which the test below the fast path also catches.
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** Milliseconds to 3 decimals through integer formatting (double-to-string is the slow part of a line). */
function ms(v: number): string {
  if (!(v >= 0 && v < 1e12)) return String(v);
  const us = Math.round(v * 1000);
  const frac = us % 1000;
  return `${(us - frac) / 1000}.${frac < 10 ? '00' : frac < 100 ? '0' : ''}${frac}`;
}

function str(v: string): string {
  return NEEDS_ESCAPE.test(v) ? JSON.stringify(v) : `"${v}"`;
}

let lastMs = 0;
let lastIso = '';

/** ISO time of now, formatted at most once per millisecond. */
export function isoNow(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}
