import http from 'node:http';
import diagnostics from 'node:diagnostics_channel';
import { Agent, request } from 'undici';
import type { OriginHandler } from './origin.js';
import { fetchText, type Reply } from './gateway.js';
import type { AccessRecord } from '../../src/observability/events.js';

/** Origin behaviours and small utilities for the balancing / failover / passive-health tests. */

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Poll `cond` every 5 ms until it holds; throws after `ms` so a test never waits forever. */
export async function until(cond: () => boolean, ms = 2000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/**
 * Mark a promise the test awaits later as handled now, so an early assertion failure (and the
 * teardown that then rejects it) shows as that failure rather than an unhandled rejection.
 */
export function later<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

/** Accepts the request and never answers (the origin's close() cuts the socket). */
export const hang: OriginHandler = () => {};

/** Answers 200 with `name` after `ms`. */
export const delayed =
  (name: string, ms: number): OriginHandler =>
  (_req, res) => {
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'text/plain', 'x-origin': name });
      res.end(name);
    }, ms);
  };

/** Answers `status` with body `${name}-${status}` and an x-origin header. */
export const answerStatus =
  (name: string, status: number): OriginHandler =>
  (_req, res) => {
    res.writeHead(status, { 'content-type': 'text/plain', 'x-origin': name });
    res.end(`${name}-${status}`);
  };

/** Resets the connection once the request (and its body) has been read: no response at all. */
export const reset: OriginHandler = (req) => {
  req.socket.destroy();
};

/**
 * Holds requests whose path starts with /slow until release() (or the client goes); others get
 * 200 with the name. `closed` counts held requests whose connection closed before an answer.
 */
export function holdSlow(name: string): { handler: OriginHandler; held: http.ServerResponse[]; closed: () => number; release(): void } {
  const held: http.ServerResponse[] = [];
  let closed = 0;
  return {
    held,
    closed: () => closed,
    handler: (req, res) => {
      if (req.url?.startsWith('/slow')) {
        held.push(res);
        res.on('close', () => {
          if (!res.writableFinished) closed++;
        });
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain', 'x-origin': name });
      res.end(name);
    },
    release() {
      for (const res of held.splice(0)) {
        if (res.destroyed) continue;
        res.writeHead(200, { 'content-type': 'text/plain', 'x-origin': name });
        res.end(`${name}-slow`);
      }
    },
  };
}

/** Deterministic uniform [0,1) source (mulberry32) for GatewayOptions.random. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A client whose connections leave from `localAddress` (any 127.x.y.z works on Linux). Note: it
 * must be the top-level undici option; `connect: { localAddress }` is overridden by it (null).
 */
export function agentFrom(localAddress: string): Agent {
  return new Agent({ keepAliveTimeout: 1000, localAddress });
}

/** Like fetchText, through a chosen dispatcher. */
export async function fetchVia(dispatcher: Agent, url: string, headers: Record<string, string> = {}): Promise<Reply> {
  const r = await request(url, { dispatcher, headers });
  return { status: r.statusCode, headers: r.headers, body: await r.body.text() };
}

/** `n` GETs one after another (paths /r0, /r1, ...), with the given headers. */
export async function burst(url: string, n: number, headers: Record<string, string> = {}): Promise<Reply[]> {
  const out: Reply[] = [];
  for (let i = 0; i < n; i++) out.push(await fetchText(`${url}/r${i}`, { headers }));
  return out;
}

/** How many replies came from each origin (by x-origin). */
export function tally(replies: Reply[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of replies) {
    const o = String(r.headers['x-origin'] ?? `status-${r.status}`);
    out[o] = (out[o] ?? 0) + 1;
  }
  return out;
}

/** Collects access records published by every gateway in this process until stop(). */
export function recordRequests(): { records: AccessRecord[]; stop(): void } {
  const records: AccessRecord[] = [];
  const fn = (m: unknown) => records.push(m as AccessRecord);
  diagnostics.subscribe('headwater:request', fn);
  return { records, stop: () => diagnostics.unsubscribe('headwater:request', fn) };
}

/** Collects every message published on a diagnostics channel (e.g. headwater:host) until stop(). */
export function recordChannel<T>(name: string): { events: T[]; stop(): void } {
  const events: T[] = [];
  const fn = (m: unknown) => events.push(m as T);
  diagnostics.subscribe(name, fn);
  return { events, stop: () => diagnostics.unsubscribe(name, fn) };
}

/**
 * An origin behaviour with a health endpoint: `path` answers `status`/`body` as currently set
 * (and counts probes), any other path answers 200 with the name.
 */
export function withHealth(name: string, path = '/healthz'): { handler: OriginHandler; probes: number; status: number; body: string } {
  const h = {
    probes: 0,
    status: 200,
    body: 'ok',
    handler: ((req, res) => {
      if (req.url === path) {
        h.probes++;
        res.writeHead(h.status, { 'content-type': 'text/plain' });
        res.end(h.body);
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain', 'x-origin': name });
      res.end(name);
    }) as OriginHandler,
  };
  return h;
}
