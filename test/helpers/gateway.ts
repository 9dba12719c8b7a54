import { Agent, request } from 'undici';
import net from 'node:net';
import type { TestContext } from 'node:test';
import { createGateway, type Gateway, type GatewayOptions } from '../../src/gateway.js';

/** A gateway on 127.0.0.1:0 from a config object (listeners filled in when absent). */
export async function startGateway(config: Record<string, unknown>, opts: GatewayOptions = {}): Promise<{ gw: Gateway; url: string }> {
  // HEADWATER_ENGINE runs the same integration tests on each HTTP/1.1 engine (scripts/test.mjs).
  const engine = process.env.HEADWATER_ENGINE;
  const full = { listeners: [{ name: 'test', address: '127.0.0.1:0' }], access_log: { enabled: false }, ...(engine ? { engine } : {}), ...config };
  const gw = await createGateway(full, { accessLog: false, ...opts });
  return { gw, url: gw.addresses()[0]!.url };
}

/** One route sending everything to upstream `web` with these servers and upstream options. */
export function simpleConfig(servers: Array<string | Record<string, unknown>>, upstream: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    routes: [{ name: 'all', match: { path_prefix: '/' }, upstream: 'web' }],
    upstreams: { web: { ...upstream, servers: servers.map((s) => (typeof s === 'string' ? { address: s } : s)) } },
  };
}

/** A client with its own connection pool so tests do not share sockets. */
export const client = new Agent({ keepAliveTimeout: 1000, connections: 64 });

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** GET (or any method) and read the whole body. */
export async function fetchText(url: string, init: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<Reply> {
  const r = await request(url, { dispatcher: client, method: (init.method ?? 'GET') as 'GET', headers: init.headers, body: init.body });
  return { status: r.statusCode, headers: r.headers, body: await r.body.text() };
}

/** Send raw bytes on a new connection and collect everything until the server closes or `ms` pass. */
export function rawRequest(port: number, data: string | Buffer, ms = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const t = setTimeout(() => s.destroy(), ms);
    s.on('data', (c) => chunks.push(c));
    s.on('error', reject);
    s.on('close', () => {
      clearTimeout(t);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
    s.write(data);
  });
}

export function portOf(url: string): number {
  return Number(new URL(url).port);
}

/** A gateway for one test, closed when the test ends; resolves with its URL. */
export async function gatewayFor(t: TestContext, config: Record<string, unknown>, opts: GatewayOptions = {}): Promise<string> {
  const { gw, url } = await startGateway(config, opts);
  t.after(() => gw.close(0));
  return url;
}
