import { test } from 'node:test';
import assert from 'node:assert/strict';
import { listen, Client, count, echo, readAll } from './test-helpers.js';

const GET = (path: string) => `GET ${path} HTTP/1.1\r\nHost: h\r\n\r\n`;
const bodyOf = (text: string) => text.split('HTTP/1.1 ').slice(1).map((r) => r.slice(r.indexOf('\r\n\r\n') + 4));

test('pipelining: several requests in one write are answered in order, one at a time', async (t) => {
  let active = 0;
  let peak = 0;
  const { port } = await listen(t, (req, res) => {
    active++;
    peak = Math.max(peak, active);
    // Later requests answer faster: only strict sequencing keeps the order.
    const delay = req.url === '/1' ? 30 : req.url === '/2' ? 10 : 0;
    setTimeout(() => {
      active--;
      res.writeHead(200, ['content-length', String(req.url!.length)]);
      res.end(req.url);
    }, delay);
  });
  const c = await Client.open(t, port);
  await c.write(GET('/1') + GET('/2') + 'POST /3 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc' + GET('/4'));
  const text = await c.until((s) => count(s) === 4 && s.endsWith('/4'));
  assert.deepEqual(bodyOf(text), ['/1', '/2', '/3', '/4']);
  assert.equal(peak, 1);
});

test('many pipelined requests answered synchronously do not recurse', async (t) => {
  const { port } = await listen(t, (req, res) => {
    req.resume();
    res.writeHead(200, ['content-length', '1']);
    res.end('k');
  });
  const c = await Client.open(t, port);
  await c.write(GET('/').repeat(5000));
  assert.equal(count(await c.until((s) => count(s) === 5000, 5000)), 5000);
});

test('a head split into single bytes, then a body, is parsed as one request', async (t) => {
  const { port } = await listen(t, echo);
  const c = await Client.open(t, port);
  const raw = 'POST /split HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello';
  c.socket.setNoDelay(true);
  for (const ch of raw) {
    await c.write(ch);
    await new Promise((r) => setImmediate(r));
  }
  assert.match(await c.until((s) => s.endsWith('5')), /\r\n\r\nPOST \/split 5$/);
});

test('a chunked request body arriving in pieces reaches the reader intact', async (t) => {
  let got = '';
  const { port } = await listen(t, (req, res) => {
    void readAll(req).then((b) => {
      if (req.method === 'POST') got = b.toString();
      res.writeHead(200, ['content-length', '2']);
      res.end('ok');
    });
  });
  const c = await Client.open(t, port);
  await c.write('POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel');
  await new Promise((r) => setTimeout(r, 10));
  await c.write('lo\r\n6;ext=1\r\n world\r\n0\r\nx-trailer: 1\r\n\r\n' + GET('/next'));
  const text = await c.until((s) => count(s) === 2);
  assert.equal(got, 'hello world');
  assert.equal(count(text), 2, 'the pipelined request after the trailers is served');
});

test('malformed chunked framing: 400, the reader gets an error, the connection closes', async (t) => {
  let readError: unknown;
  const { port } = await listen(t, (req) => {
    readAll(req).catch((err) => (readError = err));
  });
  const c = await Client.open(t, port);
  await c.write('POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel');
  await new Promise((r) => setTimeout(r, 20));
  await c.write('lo\r\nzz\r\n');
  const text = await c.closedText();
  assert.match(text, /^HTTP\/1\.1 400 Bad Request\r\n[^]*HW_ERR_BAD_REQUEST/);
  assert.ok(readError instanceof Error);
  // Malformed framing already in the first packet never reaches the handler.
  let called = false;
  const b = await listen(t, () => (called = true));
  const d = await Client.open(t, b.port);
  await d.write('POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n');
  assert.match(await d.closedText(), /^HTTP\/1\.1 400 /);
  assert.equal(called, false);
});

test('malformed heads are refused with the status node:http gives, then closed', async (t) => {
  let called = 0;
  const { port } = await listen(t, () => called++);
  const cases: Array<[string, number]> = [
    ['HELLO / HTTP/1.1\r\nHost: h\r\n\r\n', 400],
    ['GET / HTTP/9.9\r\nHost: h\r\n\r\n', 400],
    ['GET / HTTP/2.0\r\nHost: h\r\n\r\n', 505],
    ['GET / HTTP/1.1\r\n\r\n', 400],
    [`GET / HTTP/1.1\r\nHost: h\r\nX: ${'a'.repeat(20000)}\r\n\r\n`, 431],
  ];
  for (const [raw, status] of cases) {
    const c = await Client.open(t, port);
    await c.write(raw);
    const text = await c.closedText();
    assert.match(text, new RegExp(`^HTTP/1\\.1 ${status} `), raw.slice(0, 40));
    assert.match(text, /\r\nconnection: close\r\n/);
    assert.ok(c.closed);
  }
  assert.equal(called, 0);
});

test('keep-alive idle timeout closes silently; a stalled head gets 408', async (t) => {
  const { port } = await listen(t, echo, { timeouts: { idleMs: 80, headMs: 80, tickMs: 5 } });
  const c = await Client.open(t, port);
  await c.write(GET('/a'));
  await c.until((s) => s.endsWith('0'));
  const started = Date.now();
  const text = await c.closedText(2000);
  assert.ok(c.closed);
  assert.ok(Date.now() - started >= 60, 'not before the idle time');
  assert.equal(count(text), 1, 'nothing more was sent');
  const d = await Client.open(t, port);
  await d.write('GET / HTTP/1.1\r\nHo');
  assert.match(await d.closedText(2000), /^HTTP\/1\.1 408 Request Timeout\r\n/);
  // A trickling head does not extend its deadline.
  const e = await Client.open(t, port);
  const trickle = setInterval(() => e.socket.write('X'), 10);
  t.after(() => clearInterval(trickle));
  await e.write('GET / HTTP/1.1\r\nHost: h\r\nX-Slow: ');
  assert.match(await e.closedText(2000), /^HTTP\/1\.1 408 /);
  clearInterval(trickle);
});

test('a request in progress has no client deadline', async (t) => {
  const { port } = await listen(
    t,
    (req, res) => {
      req.resume();
      setTimeout(() => res.writeHead(200, ['content-length', '4']).end('slow'), 150);
    },
    { timeouts: { idleMs: 40, headMs: 40, tickMs: 5 } },
  );
  const c = await Client.open(t, port);
  await c.write(GET('/'));
  assert.match(await c.until((s) => s.endsWith('slow')), /slow$/);
});

test('Expect: 100-continue: 100 only when the body is wanted; other expectations get 417', async (t) => {
  const { port } = await listen(t, echo, { continueOk: (req) => req.url === '/ok' });
  const c = await Client.open(t, port);
  await c.write('POST /ok HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n');
  assert.equal(await c.until((s) => s.includes('\r\n\r\n')), 'HTTP/1.1 100 Continue\r\n\r\n');
  await c.write('hello');
  assert.match(await c.until((s) => s.endsWith('5')), /POST \/ok 5$/);

  let handled = false;
  const refused = await listen(
    t,
    (req, res) => {
      handled = true;
      void req;
      res.writeHead(413, ['content-length', '3']);
      res.end('big');
    },
    { continueOk: () => false },
  );
  const d = await Client.open(t, refused.port);
  await d.write('PUT /no HTTP/1.1\r\nHost: h\r\nContent-Length: 99999\r\nExpect: 100-continue\r\n\r\n');
  const text = await d.closedText();
  assert.ok(handled);
  assert.equal(text, 'HTTP/1.1 413 Payload Too Large\r\ncontent-length: 3\r\nconnection: close\r\n\r\nbig', 'no 100, and closed: the body was never read');

  const e = await Client.open(t, port);
  await e.write('GET / HTTP/1.1\r\nHost: h\r\nExpect: something-else\r\n\r\n' + GET('/after'));
  const t2 = await e.until((s) => count(s) === 2 && s.endsWith('0'));
  assert.match(t2, /^HTTP\/1\.1 417 Expectation Failed\r\ncontent-length: 0\r\n\r\nHTTP\/1\.1 200 /);
});

test('an unread body: connection: close when the response starts before the body is read', async (t) => {
  const { port } = await listen(t, (req, res) => {
    void req;
    res.writeHead(404, ['content-length', '0']);
    res.end();
  });
  const c = await Client.open(t, port);
  await c.write('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 100000\r\n\r\nabc');
  assert.equal(await c.closedText(), 'HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
  // A body already fully received does not stop keep-alive.
  const d = await Client.open(t, port);
  await d.write('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc' + GET('/'));
  assert.equal(count(await d.until((s) => count(s) === 2)), 2);
});

test('a body nobody pulls stops the socket reading (backpressure); pulling resumes it', async (t) => {
  let pull: (() => Promise<number>) | undefined;
  const { port } = await listen(t, (req, res) => {
    const it = req[Symbol.asyncIterator]();
    let n = 0;
    pull = async () => {
      for (;;) {
        const r = await it.next();
        if (r.done) break;
        n += r.value.length;
      }
      res.writeHead(200, ['content-length', String(String(n).length)]);
      res.end(String(n));
      return n;
    };
    queued = () => req.queued;
  });
  let queued: () => number = () => 0;
  const c = await Client.open(t, port);
  const total = 8 << 20;
  c.socket.write(`POST / HTTP/1.1\r\nHost: h\r\nContent-Length: ${total}\r\n\r\n`);
  c.socket.write(Buffer.alloc(total, 1));
  await new Promise((r) => setTimeout(r, 200));
  assert.ok(queued() < 1 << 20, `queued ${queued()} bytes while nobody pulled`);
  assert.equal(await pull!(), total);
  assert.match(await c.until((s) => s.endsWith(String(total))), new RegExp(`${total}$`));
});

test('close(grace): idle connections close at once, a request in progress finishes with connection: close', async (t) => {
  let finish: (() => void) | undefined;
  const { l, port } = await listen(t, (req, res) => {
    req.resume();
    finish = () => res.writeHead(200, ['content-length', '4']).end('done');
  });
  const idle = await Client.open(t, port);
  const busy = await Client.open(t, port);
  await busy.write(GET('/'));
  while (!finish) await new Promise((r) => setTimeout(r, 5));
  const closing = l.close(2000);
  assert.ok((await idle.closedText(500)) === '' && idle.closed, 'the idle connection is closed');
  finish();
  assert.equal(await busy.closedText(), 'HTTP/1.1 200 OK\r\ncontent-length: 4\r\nconnection: close\r\n\r\ndone');
  await closing;
  assert.equal(l.connections, 0);
});

test('close(grace) cuts what is still running after the grace period', async (t) => {
  const { l, port } = await listen(t, (req) => void req);
  const c = await Client.open(t, port);
  await c.write(GET('/'));
  await new Promise((r) => setTimeout(r, 20));
  const started = Date.now();
  await l.close(100);
  assert.ok(Date.now() - started >= 90);
  await c.closedText(500);
  assert.ok(c.closed);
});
