import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { LeanPool } from './pool.js';
import { requestHead } from './wire.js';
import { sharedReadBuffer } from './read-buffer.js';
import type { UpstreamHandler } from '../../proxy/exchange.js';

/**
 * A raw upstream: answers each request head it sees with `reply(n)` (n counts requests): a string
 * written at once, null to close, or pieces written after their delays (ms, each from the previous).
 */
async function rawServer(reply: (n: number, head: string) => string | null | Array<[number, string]>) {
  let n = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString('latin1');
      let i: number;
      while ((i = buf.indexOf('\r\n\r\n')) !== -1) {
        const head = buf.slice(0, i);
        buf = buf.slice(i + 4);
        const out = reply(++n, head);
        if (out === null) s.destroy();
        else if (typeof out === 'string') s.write(out);
        else {
          const next = (k: number): void => {
            if (k < out.length) setTimeout(() => s.destroyed || (s.write(out[k]![1]), next(k + 1)), out[k]![0]);
          };
          next(0);
        }
      }
    });
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    connections: () => sockets.size,
    close: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
  };
}

function pool(port: number, over: Partial<ConstructorParameters<typeof LeanPool>[0]> = {}) {
  return new LeanPool({
    host: '127.0.0.1', port, connectTimeout: 1000, headersTimeout: 1000, bodyTimeout: 1000, keepAliveTimeout: 5000, maxIdle: 8,
    headLimits: { maxHeadSize: 16384, maxHeaders: 100 }, ...over,
  });
}

interface Outcome { status?: number; headers?: string[]; body: string; error?: NodeJS.ErrnoException }

function send(p: LeanPool, method = 'GET', body: Buffer | null = null): Promise<Outcome> {
  return new Promise((resolve) => {
    const out: Outcome = { body: '' };
    const h: UpstreamHandler = {
      onConnect() {},
      onHeaders(status, _raw, _resume, _text, head) { out.status = status; out.headers = head!.headers; return true; },
      onData(c) { out.body += c.toString('latin1'); return true; },
      onComplete() { resolve(out); },
      onError(err) { out.error = err as NodeJS.ErrnoException; resolve(out); },
    };
    p.dispatch({ method, path: '/x', headers: ['host', 'h'], body, reset: false }, h);
  });
}

test('reuses one keep-alive connection for sequential requests', async (t) => {
  const s = await rawServer(() => 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
  const p = pool(s.port);
  t.after(async () => { await p.destroy(); await s.close(); });
  for (let i = 0; i < 3; i++) assert.equal((await send(p)).body, 'ok');
  assert.equal(s.connections(), 1);
});

test('chunked and close-delimited responses are read by their framing', async (t) => {
  const s = await rawServer((n) =>
    n === 1 ? 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n' : 'HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nuntil-close');
  const p = pool(s.port);
  t.after(async () => { await p.destroy(); await s.close(); });
  assert.equal((await send(p)).body, 'abcde');
  const closeRead = send(p);
  setTimeout(() => void s.close(), 50);
  assert.equal((await closeRead).body, 'until-close');
});

test('a malformed response is an HPE error; refused and timed-out connects have undici codes', async (t) => {
  const bad = await rawServer(() => 'HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\nx');
  const hang = await rawServer(() => '');
  t.after(async () => { await bad.close(); await hang.close(); });
  const p1 = pool(bad.port);
  assert.match((await send(p1)).error!.code!, /^HPE_/);
  const p2 = pool(hang.port, { headersTimeout: 50 });
  assert.equal((await send(p2)).error!.code, 'UND_ERR_HEADERS_TIMEOUT');
  const dead = await rawServer(() => '');
  const port = dead.port;
  await dead.close();
  assert.equal((await send(pool(port))).error!.code, 'ECONNREFUSED');
  await p1.destroy();
  await p2.destroy();
});

test('max_idle: idle connections left by a burst are reused, then trimmed to max_idle; 0 closes each one', async (t) => {
  const s = await rawServer(() => 'HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n');
  const p = pool(s.port, { maxIdle: 1, purgeMs: 150 });
  const p0 = pool(s.port, { maxIdle: 0 });
  t.after(async () => { await p.destroy(); await p0.destroy(); await s.close(); });
  await Promise.all([send(p), send(p), send(p), send(p), send(p)]);
  assert.equal(s.connections(), 5);
  // A second burst right away reuses them all: no connection is opened or closed.
  await Promise.all([send(p), send(p), send(p), send(p), send(p)]);
  assert.equal(s.connections(), 5);
  // Half the surplus (2 of 4) goes per purge, oldest first: 5 -> 3 -> 2 -> 1.
  await new Promise((r) => setTimeout(r, 220));
  assert.equal(s.connections(), 3);
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(s.connections(), 1);
  await send(p0);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(s.connections(), 1, 'the max_idle 0 connection was closed');
});

test('extra bytes after a response, or Connection: close, stop reuse', async (t) => {
  const s = await rawServer((n) => (n === 1 ? 'HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\nxEXTRA' : 'HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\ny'));
  const p = pool(s.port);
  t.after(async () => { await p.destroy(); await s.close(); });
  assert.equal((await send(p)).body, 'x');
  assert.equal((await send(p)).body, 'y');
});

test('request heads: content-length for buffered bodies, none for GET, chunked for streams', () => {
  assert.equal(requestHead({ method: 'GET', path: '/', headers: ['host', 'h'], body: null, reset: false }, -1, false), 'GET / HTTP/1.1\r\nhost: h\r\n\r\n');
  assert.match(requestHead({ method: 'POST', path: '/', headers: ['host', 'h'], body: Buffer.from('abc'), reset: false }, 3, false), /content-length: 3\r\n\r\n$/);
  assert.match(requestHead({ method: 'POST', path: '/', headers: ['host', 'h', 'Content-Length', '9'], body: null, reset: true }, -1, true), /^POST \/ HTTP\/1.1\r\nhost: h\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n$/);
});

test('timeouts: body idle counts from the last bytes; headers from the request, not from when the connection went idle; idle connections close', async (t) => {
  const head = 'HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\n';
  // 1: the body trickles in (a byte every 60 ms, under the 150 ms idle limit, 240 ms in all).
  // 2: the head comes 100 ms after the request (under 200 ms), on a connection idle for 300 ms.
  // 3: two body bytes, then nothing. 4: at once.
  const s = await rawServer((n): Array<[number, string]> => (n === 1 ? [[0, head + 'a'], [60, 'b'], [60, 'c'], [60, 'd']] : n === 2 ? [[100, head + 'wxyz']] : n === 3 ? [[0, head + 'pq']] : [[0, head + 'done']]));
  t.after(() => s.close());
  const p = pool(s.port, { bodyTimeout: 150, headersTimeout: 200, keepAliveTimeout: 5000 });
  t.after(() => p.destroy());
  assert.deepEqual(await send(p), { status: 200, headers: ['content-length', '4'], body: 'abcd' });
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(await send(p), { status: 200, headers: ['content-length', '4'], body: 'wxyz' });
  const started = performance.now();
  const cut = await send(p);
  const took = performance.now() - started;
  assert.equal(cut.error?.code, 'UND_ERR_BODY_TIMEOUT');
  assert.equal(cut.body, 'pq');
  assert.ok(took >= 140 && took < 1000, `cut after the idle limit (${Math.round(took)} ms)`);

  // An idle connection is closed after keepAliveTimeout.
  const q = pool(s.port, { keepAliveTimeout: 100 });
  t.after(() => q.destroy());
  assert.equal((await send(q)).body, 'done');
  await new Promise((r) => setTimeout(r, 30));
  const before = s.connections();
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(s.connections(), before - 1, 'the idle connection was closed');
});

test('a handler that pauses while keeping its view takes the shared read buffer; one that only pauses (holdsChunk false) leaves it to later reads', async (t) => {
  const s = await rawServer(() => 'HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nbody');
  const p = pool(s.port);
  t.after(async () => { await p.destroy(); await s.close(); });
  /** One exchange whose onData pauses and resumes on the next turn; the shared buffer before and after. */
  const paused = (holdsChunk: boolean | undefined) =>
    new Promise<{ before: Buffer; after: Buffer; body: string }>((resolve) => {
      const before = sharedReadBuffer();
      let resume = (): void => {};
      let body = '';
      const h: UpstreamHandler = {
        holdsChunk,
        onConnect() {},
        onHeaders(_s, _r, r) { resume = r; return true; },
        onData(c) { body += c.toString('latin1'); setImmediate(resume); return false; },
        onComplete() { resolve({ before, after: sharedReadBuffer(), body }); },
        onError(err) { throw err; },
      };
      p.dispatch({ method: 'GET', path: '/x', headers: ['host', 'h'], body: null, reset: false }, h);
    });
  const kept = await paused(undefined);
  assert.equal(kept.body, 'body');
  assert.notEqual(kept.after, kept.before, 'the kept buffer is the handler\'s: reads moved to another one');
  const released = await paused(false);
  assert.equal(released.body, 'body');
  assert.equal(released.after, released.before, 'nothing kept: reads stay in the same buffer');
});

test('large bodies, with and without a length, arrive whole across the move to the large read buffer and back, on one connection', async (t) => {
  // A patterned ASCII body (each 8-byte group its offset in hex), so bytes from another read would show.
  const body = (n: number) => {
    let out = '';
    for (let i = 0; out.length < n; i += 8) out += i.toString(16).padStart(8, '0');
    return out.slice(0, n);
  };
  const big = body(3 * 1024 * 1024 + 5);
  const chunk = body(700 * 1024);
  const s = await rawServer((n) => {
    if (n === 1) return `HTTP/1.1 200 OK\r\ncontent-length: ${big.length}\r\n\r\n${big}`;
    if (n === 2) return `HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n${chunk.length.toString(16)}\r\n${chunk}\r\n${chunk.length.toString(16)}\r\n${chunk}\r\n0\r\n\r\n`;
    return 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nsmall';
  });
  const p = pool(s.port);
  t.after(async () => { await p.destroy(); await s.close(); });
  const before = sharedReadBuffer();
  const a = await send(p);
  assert.equal(a.body.length, big.length);
  assert.ok(a.body === big, 'the length-framed body is intact');
  const b = await send(p);
  assert.ok(b.body === chunk + chunk, 'the chunked body is intact');
  assert.equal((await send(p)).body, 'small');
  assert.equal(s.connections(), 1, 'one connection served all three');
  assert.equal(sharedReadBuffer(), before, 'nothing was taken');
});
