import { test } from 'node:test';
import assert from 'node:assert/strict';
import { listen, Client, count, type Handler } from './test-helpers.js';
import { statusLine } from '../../http1/reasons.js';

/** Answers according to the path: /cl, /chunked, /204, /304, /close, /big. */
const framed: Handler = (req, res) => {
  req.resume();
  switch (req.url) {
    case '/cl':
      res.writeHead(200, ['Content-Length', '5', 'x-a', '1']);
      res.write(Buffer.from('hello'));
      res.end();
      return;
    case '/chunked':
      res.writeHead(200, ['x-a', '1']);
      res.write(Buffer.from('hel'));
      res.write(Buffer.alloc(0));
      res.write(Buffer.from('lo'));
      res.end();
      return;
    case '/204':
      res.writeHead(204, ['x-a', '1']);
      res.end();
      return;
    case '/304':
      res.writeHead(304, ['etag', '"v"']);
      res.write(Buffer.from('ignored'));
      res.end();
      return;
    case '/close':
      res.writeHead(200, ['content-length', '2', 'connection', 'close']);
      res.end('ok');
      return;
    case '/big': {
      const big = Buffer.alloc(100_000, 0x61);
      res.writeHead(200, []);
      res.write(big);
      res.end();
      return;
    }
    case '/lines':
      res.writeHeadLines(200, 'Content-Length: 5\r\nx-a:  1 \r\n', 5, 'sid=1');
      res.write(Buffer.from('hello'));
      res.end();
      return;
    case '/lines-chunked':
      res.writeHeadLines(201, 'x-b: 2\r\n', -1);
      res.write(Buffer.from('hi'));
      res.end();
      return;
    case '/lines-plain':
      res.writeHeadLines(203, 'Content-Length: 5\r\nx-a: 1\r\n', 5);
      res.write(Buffer.from('hello'));
      res.end();
      return;
    case '/lines-big': {
      const big = Buffer.alloc(100_000, 0x62);
      res.writeHeadLines(200, 'Content-Length: 100000\r\n', 100_000);
      res.write(big);
      res.end();
      return;
    }
    case '/short':
      res.writeHead(200, ['content-length', '10']);
      res.write(Buffer.from('abc'));
      res.end();
      return;
  }
  res.writeHead(404, ['content-length', '0']);
  res.end();
};

test('status lines use node reason phrases', () => {
  assert.equal(statusLine(200), 'HTTP/1.1 200 OK\r\n');
  assert.equal(statusLine(431), 'HTTP/1.1 431 Request Header Fields Too Large\r\n');
  assert.equal(statusLine(599), 'HTTP/1.1 599 unknown\r\n');
  assert.equal(statusLine(799), 'HTTP/1.1 799 unknown\r\n');
});

test('Content-Length given: kept, no chunking, connection stays open', async (t) => {
  const { port } = await listen(t, framed);
  const c = await Client.open(t, port);
  await c.write('GET /cl HTTP/1.1\r\nHost: h\r\n\r\n');
  const text = await c.until((s) => s.endsWith('hello'));
  assert.equal(text, 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nx-a: 1\r\n\r\nhello');
  await c.write('GET /cl HTTP/1.1\r\nHost: h\r\n\r\n');
  assert.equal(count(await c.until((s) => count(s) === 2 && s.endsWith('hello'))), 2);
  assert.equal(c.closed, false);
});

test('writeHeadLines relays field lines as given, adds Set-Cookie, and frames like writeHead', async (t) => {
  const { port } = await listen(t, framed);
  const c = await Client.open(t, port);
  await c.write('GET /lines HTTP/1.1\r\nHost: h\r\n\r\nGET /lines-chunked HTTP/1.1\r\nHost: h\r\n\r\n');
  const text = await c.until((s) => s.endsWith('0\r\n\r\n'));
  assert.equal(
    text,
    'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nx-a:  1 \r\nset-cookie: sid=1\r\n\r\nhello' +
      'HTTP/1.1 201 Created\r\nx-b: 2\r\ntransfer-encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n',
  );
  await c.write('GET /lines HTTP/1.0\r\n\r\n');
  assert.match(await c.closedText(), /\r\nset-cookie: sid=1\r\nconnection: close\r\n\r\nhello$/);
});

test('writeHeadLines without Set-Cookie: the head goes out whole with the first write, large or small, or at end', async (t) => {
  const { port } = await listen(t, framed);
  const c = await Client.open(t, port);
  await c.write('GET /lines-plain HTTP/1.1\r\nHost: h\r\n\r\nHEAD /lines-plain HTTP/1.1\r\nHost: h\r\n\r\n');
  const text = await c.until((s) => count(s) === 2 && s.endsWith('\r\n\r\n'));
  assert.equal(
    text,
    'HTTP/1.1 203 Non-Authoritative Information\r\nContent-Length: 5\r\nx-a: 1\r\n\r\nhello' +
      'HTTP/1.1 203 Non-Authoritative Information\r\nContent-Length: 5\r\nx-a: 1\r\n\r\n',
  );
  const big = await Client.open(t, port);
  await big.write('GET /lines-big HTTP/1.1\r\nHost: h\r\n\r\n');
  const head = 'HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n';
  assert.equal(await big.until((s) => s.length >= head.length + 100_000), head + 'b'.repeat(100_000));
  const old = await Client.open(t, port);
  await old.write('GET /lines-plain HTTP/1.0\r\n\r\n');
  assert.equal(await old.closedText(), 'HTTP/1.1 203 Non-Authoritative Information\r\nContent-Length: 5\r\nx-a: 1\r\nconnection: close\r\n\r\nhello');
});

test('no length on HTTP/1.1: chunked, empty writes skipped, last-chunk at end', async (t) => {
  const { port } = await listen(t, framed);
  const c = await Client.open(t, port);
  await c.write('GET /chunked HTTP/1.1\r\nHost: h\r\n\r\n');
  const text = await c.until((s) => s.endsWith('0\r\n\r\n'));
  assert.equal(text, 'HTTP/1.1 200 OK\r\nx-a: 1\r\ntransfer-encoding: chunked\r\n\r\n3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n');
});

test('a large chunked write is framed correctly (corked writev path)', async (t) => {
  const { port } = await listen(t, framed);
  const c = await Client.open(t, port);
  await c.write('GET /big HTTP/1.1\r\nHost: h\r\n\r\n');
  const text = await c.until((s) => s.endsWith('0\r\n\r\n'));
  const body = text.slice(text.indexOf('\r\n\r\n') + 4);
  assert.equal(body, `${(100_000).toString(16)}\r\n${'a'.repeat(100_000)}\r\n0\r\n\r\n`);
});

test('no length on HTTP/1.0: close-delimited with connection: close', async (t) => {
  const { port } = await listen(t, framed);
  const c = await Client.open(t, port);
  await c.write('GET /chunked HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
  const text = await c.closedText();
  assert.equal(text, 'HTTP/1.1 200 OK\r\nx-a: 1\r\nconnection: close\r\n\r\nhello');
  assert.ok(c.closed);
});

test('HTTP/1.0 keep-alive: connection: keep-alive, the connection serves another request', async (t) => {
  const { port } = await listen(t, framed);
  const c = await Client.open(t, port);
  await c.write('GET /cl HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
  assert.match(await c.until((s) => s.endsWith('hello')), /\r\nconnection: keep-alive\r\n\r\nhello$/);
  await c.write('GET /cl HTTP/1.0\r\n\r\n');
  const text = await c.closedText();
  assert.equal(count(text), 2);
  assert.match(text, /\r\nconnection: close\r\n\r\nhello$/);
  assert.ok(c.closed, 'HTTP/1.0 without keep-alive is closed after the response');
});

test('HEAD, 204 and 304 carry no body; HEAD keeps Content-Length; the connection stays usable', async (t) => {
  const { port } = await listen(t, framed);
  const c = await Client.open(t, port);
  await c.write('HEAD /cl HTTP/1.1\r\nHost: h\r\n\r\nGET /204 HTTP/1.1\r\nHost: h\r\n\r\nGET /304 HTTP/1.1\r\nHost: h\r\n\r\nGET /cl HTTP/1.1\r\nHost: h\r\n\r\n');
  const text = await c.until((s) => count(s) === 4 && s.endsWith('hello'));
  assert.equal(
    text,
    'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nx-a: 1\r\n\r\n' +
      'HTTP/1.1 204 No Content\r\nx-a: 1\r\n\r\n' +
      'HTTP/1.1 304 Not Modified\r\netag: "v"\r\n\r\n' +
      'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nx-a: 1\r\n\r\nhello',
  );
});

test('connection: close from the handler, or from the client, closes after the response', async (t) => {
  const { port } = await listen(t, framed);
  const a = await Client.open(t, port);
  await a.write('GET /close HTTP/1.1\r\nHost: h\r\n\r\nGET /cl HTTP/1.1\r\nHost: h\r\n\r\n');
  assert.equal(await a.closedText(), 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok');
  const b = await Client.open(t, port);
  await b.write('GET /cl HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n');
  assert.equal(await b.closedText(), 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nx-a: 1\r\nconnection: close\r\n\r\nhello');
});

test('a body shorter than its Content-Length closes the connection (the client is out of step)', async (t) => {
  const { port } = await listen(t, framed);
  const c = await Client.open(t, port);
  await c.write('GET /short HTTP/1.1\r\nHost: h\r\n\r\n');
  assert.equal(await c.closedText(), 'HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc');
  assert.ok(c.closed);
});

test('the client going away mid-response emits close with writableFinished false', async (t) => {
  let seen: { finished: boolean; destroyed: boolean } | undefined;
  const { port } = await listen(t, (req, res) => {
    req.resume();
    res.writeHead(200, []);
    res.write(Buffer.from('partial'));
    res.on('close', () => (seen = { finished: res.writableFinished, destroyed: res.destroyed }));
  });
  const c = await Client.open(t, port);
  await c.write('GET / HTTP/1.1\r\nHost: h\r\n\r\n');
  await c.until((s) => s.includes('partial'));
  c.socket.destroy();
  const deadline = Date.now() + 2000;
  while (!seen && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(seen, { finished: false, destroyed: true });
});

test('end() emits close with writableFinished true; destroy() after end leaves the connection alone', async (t) => {
  const events: string[] = [];
  const { port } = await listen(t, (req, res) => {
    req.resume();
    res.on('close', () => events.push(`close ${res.writableFinished}`));
    res.writeHead(200, ['content-length', '1']);
    res.end('x');
    res.destroy();
  });
  const c = await Client.open(t, port);
  await c.write('GET / HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n');
  assert.equal(count(await c.until((s) => count(s) === 2 && s.endsWith('x'))), 2);
  assert.deepEqual(events, ['close true', 'close true']);
  assert.equal(c.closed, false);
});

for (const framing of ['content-length', 'chunked'] as const) {
  test(`large writes from one reused buffer (${framing}): what the kernel did not take is copied (holdsChunk false), and the client gets every byte as written`, async (t) => {
    const CHUNK = 128 * 1024;
    const CHUNKS = 64; // 8 MiB: more than the socket buffers take while the client is paused
    const seen: boolean[] = [];
    const { port } = await listen(t, (req, res) => {
      req.resume();
      res.writeHead(200, framing === 'chunked' ? [] : ['content-length', String(CHUNK * CHUNKS)]);
      const buf = Buffer.alloc(CHUNK);
      let i = 0;
      const next = (): void => {
        while (i < CHUNKS) {
          buf.fill(97 + (i % 26)); // the next "read" lands in the same buffer
          const ok = res.write(buf);
          i++;
          if (!ok) {
            seen.push(res.holdsChunk);
            buf.fill(0x21); // reused at once: a kept view would send these bytes
            res.on('drain', function go() {
              res.off('drain', go);
              next();
            });
            return;
          }
        }
        res.end();
      };
      next();
    });
    const c = await Client.open(t, port);
    c.socket.pause();
    await c.write('GET / HTTP/1.1\r\nHost: h\r\n\r\n');
    await new Promise((r) => setTimeout(r, 50));
    c.socket.resume();
    const done = framing === 'chunked' ? (s: string) => s.endsWith('\r\n0\r\n\r\n') : (s: string) => s.length - s.indexOf('\r\n\r\n') - 4 >= CHUNK * CHUNKS;
    const text = await c.until(done, 10000);
    let body = text.slice(text.indexOf('\r\n\r\n') + 4);
    if (framing === 'chunked') {
      // Each write is one chunk: "20000\r\n" + bytes + "\r\n", then the last chunk.
      const size = CHUNK.toString(16) + '\r\n';
      let plain = '';
      for (let at = 0; at < body.length - 5; at += size.length + CHUNK + 2) {
        assert.equal(body.slice(at, at + size.length), size);
        assert.equal(body.slice(at + size.length + CHUNK, at + size.length + CHUNK + 2), '\r\n');
        plain += body.slice(at + size.length, at + size.length + CHUNK);
      }
      body = plain;
    }
    assert.equal(body.length, CHUNK * CHUNKS);
    for (let i = 0; i < CHUNKS; i++) assert.equal(body.slice(i * CHUNK, (i + 1) * CHUNK), String.fromCharCode(97 + (i % 26)).repeat(CHUNK), `chunk ${i}`);
    assert.ok(seen.length > 0, 'some writes waited for the client');
    assert.ok(seen.every((h) => h === false), "the response never kept the caller's buffer");
  });
}
