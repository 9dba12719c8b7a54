/**
 * Test support for fuzz.test.ts: llhttp verdicts and body framing as Node would act on them,
 * our chunked decoder driven the same way, and small reporting helpers.
 */
import type { TestContext } from 'node:test';
import fc from 'fast-check';
import { ChunkedDecoder } from './chunked.js';
import { runLlhttp, type OracleMessage } from './llhttp-oracle.js';

/** A rule by which we refuse what llhttp accepts: the reasons it yields and a check that it applies. */
export interface Difference<C> {
  id: string;
  why: string;
  reasons: string[];
  applies(c: C): boolean;
}

/** An input llhttp accepted, with the message it made of it. */
export interface Seen {
  raw: string;
  m: OracleMessage;
}

/** The gateway's Host check (src/proxy/handler.ts): IP literal or reg-name, optional port. */
export const HOST_VALUE = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]*)(?::[0-9]*)?$/;

/** Values of the header `name` (lower-case) in llhttp's flat list. */
export const values = (m: OracleMessage, name: string): string[] =>
  m.headers.filter((_, i) => i % 2 === 1 && m.headers[i - 1]!.toLowerCase() === name);

/** The start line as sent, after the empty lines llhttp skips. */
export const firstLine = (raw: string): string => raw.replace(/^[\r\n]+/, '').split('\r\n')[0]!;

/** A decimal length that a JS number cannot count exactly. */
export const tooLong = (v: string): boolean => /^\d+$/.test(v) && BigInt(v) > BigInt(Number.MAX_SAFE_INTEGER);

/** How many times `chunked` appears among the Transfer-Encoding codings. */
export const chunkedCount = (m: OracleMessage): number =>
  values(m, 'transfer-encoding').join(',').split(',').filter((e) => e.trim().toLowerCase() === 'chunked').length;

export type Verdict = { kind: 'accept'; m: OracleMessage } | { kind: 'reject'; why: string } | { kind: 'incomplete' };

/** What Node 20's http server decides about a request head: llhttp, then its missing-Host 400. */
export function llRequest(input: Buffer): Verdict {
  const r = runLlhttp('request', input);
  const m = r.messages[0];
  if (m) {
    if (r.messages.length === 1 && r.error && r.error.reason.startsWith('Request has invalid')) return { kind: 'reject', why: r.error.reason };
    if (m.versionMajor === 1 && m.versionMinor === 1 && values(m, 'host').length === 0) return { kind: 'reject', why: 'Node: missing Host' };
    return { kind: 'accept', m };
  }
  return r.error ? { kind: 'reject', why: r.error.reason } : { kind: 'incomplete' };
}

const PROBE = 'z'.repeat(300);

/**
 * llhttp's framing of an accepted message's body, found by feeding probe bytes after the head and
 * then EOF: 'chunked', 'close', 'length N' or 'length >300'.
 */
export function llFraming(kind: 'request' | 'response', head: string, skip?: (m: OracleMessage) => 0 | 1 | 2): string {
  const r = runLlhttp(kind, Buffer.from(head + PROBE, 'latin1'), { finish: true, ...(skip ? { skipBody: skip } : {}) });
  const m = r.messages[0]!;
  if (!m.complete && r.error?.code === 'HPE_INVALID_CHUNK_SIZE') return 'chunked';
  if (m.complete && m.body.length === PROBE.length && r.messages.length === 1) return 'close';
  return m.complete ? `length ${m.body.length}` : 'length >300';
}

/** Our Content-Length (-1: none) in llFraming's terms. */
export const lengthOf = (n: number): string => (n > PROBE.length ? 'length >300' : `length ${Math.max(0, n)}`);

/** Node's client skips the body of HEAD, 1xx and 304 responses (lib/_http_client.js). */
export const clientSkip = (method: string) => (m: OracleMessage): 0 | 1 =>
  method === 'HEAD' || (m.status >= 100 && m.status < 200) || m.status === 304 ? 1 : 0;

/**
 * keepAlive (and upgrade) are compared except where we deliberately differ: a Connection value
 * with HTAB in it (llhttp reads `close\t` as not close; we trim OWS and close), and an HTTP/1.0
 * message with both close and keep-alive (llhttp keeps alive; we close).
 */
export function keepAliveComparable(raw: string, m: OracleMessage): boolean {
  const conn = [...values(m, 'connection'), ...values(m, 'proxy-connection')].join(',').toLowerCase();
  return !/(^|\n)(proxy-)?connection:[^\r\n]*\t/i.test(raw) &&
    !(m.versionMinor === 0 && /(^|,) *close *(,|$)/.test(conn) && /(^|,) *keep-alive *(,|$)/.test(conn));
}

/** Our decoder over `body` pushed in two pieces cut at `cut`, as a socket reader would. */
export function ourChunked(body: Buffer, cut: number): { data: string; done: boolean; consumed: number; error?: string } {
  const d = new ChunkedDecoder();
  let data = '';
  let consumed = 0;
  for (const [s, e] of [[0, cut], [cut, body.length]] as const) {
    const r = d.push(body, s, e, (b, s0, e0) => {
      data += b.toString('latin1', s0, e0);
    });
    if ('error' in r) return { data, done: false, consumed: 0, error: r.error };
    consumed += r.consumed;
    if (r.done) return { data, done: true, consumed };
  }
  return { data, done: false, consumed };
}

/** fc.assert, with the failing assertion's message in the error (fast-check keeps it as the cause). */
export function check<T>(prop: fc.IProperty<T>, params: fc.Parameters<T>): void {
  try {
    fc.assert(prop, params);
  } catch (e) {
    const cause = (e as Error).cause;
    throw new Error(`${(e as Error).message}\n${cause instanceof Error ? cause.message : ''}`);
  }
}

/** Outcome counts of one fuzz run, reported as a test diagnostic. */
export class Tally {
  readonly counts = new Map<string, number>();
  add(key: string): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }
  get(key: string): number {
    return this.counts.get(key) ?? 0;
  }
  report(t: TestContext): void {
    t.diagnostic([...this.counts].sort().map(([k, v]) => `${k}=${v}`).join(' '));
  }
}
