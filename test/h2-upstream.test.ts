import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { filePki } from './helpers/certs.js';
import { gatewayFor, simpleConfig, fetchText, client } from './helpers/gateway.js';

const certs = filePki({ h2: ['DNS:localhost', 'IP:127.0.0.1'] });

interface Seen {
  headers: http2.IncomingHttpHeaders;
  body: string;
  session: http2.Http2Session;
}

/** A node:http2 origin (TLS when `secure`): echoes method, path and body size, with a trailer. */
async function h2Origin(t: TestContext, secure: boolean, seen: Seen[]): Promise<string> {
  const server = secure ? http2.createSecureServer({ cert: readFileSync(certs.pairs['h2']!.cert), key: readFileSync(certs.pairs['h2']!.key) }) : http2.createServer();
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      seen.push({ headers, body, session: stream.session! });
      stream.respond({ ':status': 200, 'content-type': 'text/plain' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'x-checksum': String(body.length) }));
      stream.end(`${headers[':method']} ${headers[':path']} ${body.length}`);
    });
  });
  const sessions = new Set<http2.Http2Session>();
  server.on('session', (s) => sessions.add(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.after(() => {
    for (const s of sessions) s.destroy();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

for (const protocol of ['h2c', 'h2'] as const) {
  test(`protocol: ${protocol}: HTTP/1.1 clients to an HTTP/2 server, one multiplexed connection`, async (t) => {
    const seen: Seen[] = [];
    const addr = await h2Origin(t, protocol === 'h2', seen);
    const up = protocol === 'h2' ? { protocol, tls: { ca: certs.pki.caPath } } : { protocol };
    const url = await gatewayFor(t, simpleConfig([addr], up));
    const replies = await Promise.all([1, 2, 3, 4].map((i) => fetchText(`${url}/r${i}`, i === 4 ? { method: 'POST', body: 'x'.repeat(100_000) } : {})));
    assert.deepEqual(replies.map((r) => r.body), ['GET /r1 0', 'GET /r2 0', 'GET /r3 0', 'POST /r4 100000']);
    assert.equal(new Set(seen.map((s) => s.session)).size, 1, 'every request on one session');
    const h = seen[0]!.headers;
    assert.equal(h[':scheme'], protocol === 'h2' ? 'https' : 'http');
    assert.match(String(h[':authority']), /^127\.0\.0\.1:\d+$/);
    assert.equal(h['connection'], undefined);
    assert.equal(h['x-forwarded-proto'], 'http');
  });
}

test('upstream trailers reach an HTTP/1.1 client that asked for them (TE: trailers) on a chunked response', async (t) => {
  const seen: Seen[] = [];
  const addr = await h2Origin(t, false, seen);
  const url = await gatewayFor(t, simpleConfig([addr], { protocol: 'h2c' }));
  const r = await request(`${url}/t`, { dispatcher: client, headers: { te: 'trailers' } });
  assert.equal(await r.body.text(), 'GET /t 0');
  assert.equal(r.trailers['x-checksum'], '0');
});

test('a server that sends GOAWAY: later requests go on a new connection', async (t) => {
  const sessions = new Set<http2.Http2Session>();
  const server = http2.createServer();
  let n = 0;
  server.on('session', (s) => sessions.add(s));
  server.on('stream', (stream) => {
    stream.respond({ ':status': 200 });
    stream.end(`r${++n}`);
    // Every session serves one request, then asks the client to go away.
    stream.session!.goaway();
    stream.session!.close();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.after(() => {
    for (const s of sessions) s.destroy();
    return new Promise<void>((r) => server.close(() => r()));
  });
  const url = await gatewayFor(t, simpleConfig([`127.0.0.1:${(server.address() as AddressInfo).port}`], { protocol: 'h2c' }));
  for (let i = 1; i <= 3; i++) assert.equal((await fetchText(url)).body, `r${i}`);
  assert.equal(sessions.size, 3);
});

/** An h2c server whose streams never answer; resolves each stream's abort. */
async function silentOrigin(t: TestContext, onStream: (s: http2.ServerHttp2Stream) => void): Promise<string> {
  const sessions = new Set<http2.Http2Session>();
  const server = http2.createServer();
  server.on('session', (s) => sessions.add(s));
  server.on('stream', onStream);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.after(() => {
    for (const s of sessions) s.destroy();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

test('HTTP/2 upstream: no response headers within timeouts.response_header is a 504', async (t) => {
  const addr = await silentOrigin(t, () => {});
  const url = await gatewayFor(t, simpleConfig([addr], { protocol: 'h2c', timeouts: { response_header: '200ms' } }));
  const started = Date.now();
  const r = await fetchText(url);
  assert.equal(r.status, 504);
  assert.ok(Date.now() - started < 2000);
});

test('HTTP/2 upstream: a client that goes away cancels the upstream stream', async (t) => {
  let cancelled: () => void;
  const done = new Promise<void>((r) => (cancelled = r));
  const addr = await silentOrigin(t, (s) => {
    s.respond({ ':status': 200 });
    s.write('first');
    s.on('close', () => cancelled());
  });
  const url = await gatewayFor(t, simpleConfig([addr], { protocol: 'h2c' }));
  const r = await request(url, { dispatcher: client });
  await new Promise<void>((res) => r.body.once('data', () => res()));
  r.body.destroy();
  await done;
});
