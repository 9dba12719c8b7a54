import { test } from 'node:test';
import assert from 'node:assert/strict';
import { listen, Client, count, echo } from './test-helpers.js';

const GET = (path: string) => `GET ${path} HTTP/1.1\r\nHost: h\r\n\r\n`;

test('pipelined requests piling up behind a slow response are all answered, in order', async (t) => {
  const { port } = await listen(t, (req, res) => {
    req.resume();
    const answer = () => res.writeHead(200, ['content-length', String(req.url!.length)]).end(req.url);
    if (req.url === '/slow') setTimeout(answer, 50);
    else answer();
  });
  const c = await Client.open(t, port);
  const n = 2000; // ~60 KB of pipelined heads: more than the 16 KiB the connection buffers unread
  let raw = GET('/slow');
  for (let i = 0; i < n; i++) raw += GET(`/${i}`);
  await c.write(raw);
  const text = await c.until((s) => count(s) === n + 1, 5000);
  const bodies = text.split('HTTP/1.1 ').slice(1).map((r) => r.slice(r.indexOf('\r\n\r\n') + 4));
  assert.deepEqual(bodies, ['/slow', ...Array.from({ length: n }, (_, i) => `/${i}`)]);
});

/** A deterministic PRNG so a failure can be replayed. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
}

test('the same pipelined stream split at random points gets the same answers', async (t) => {
  const { port } = await listen(t, echo);
  const requests = [
    GET('/a'),
    'POST /cl HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world',
    'POST /ch HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n1;x=y\r\n!\r\n0\r\nT: 1\r\n\r\n',
    '\r\nGET /after-blank-line HTTP/1.1\r\nHost: h\r\n\r\n',
    'PUT /big HTTP/1.1\r\nHost: h\r\nContent-Length: 70000\r\n\r\n' + 'z'.repeat(70000),
    'GET /last HTTP/1.0\r\n\r\n',
  ];
  const stream = Buffer.from(requests.join(''), 'latin1');
  const expected = ['GET /a 0', 'POST /cl 11', 'POST /ch 6', 'GET /after-blank-line 0', 'PUT /big 70000', 'GET /last 0'];
  for (let seed = 1; seed <= 12; seed++) {
    const rand = rng(seed);
    const c = await Client.open(t, port);
    c.socket.setNoDelay(true);
    let off = 0;
    while (off < stream.length) {
      const n = 1 + Math.floor(rand() * (rand() < 0.5 ? 8 : 4000));
      await c.write(stream.subarray(off, off + n));
      off += n;
      if (rand() < 0.3) await new Promise((r) => setImmediate(r));
    }
    const text = await c.closedText(3000);
    const bodies = text.split('HTTP/1.1 ').slice(1).map((r) => r.slice(r.indexOf('\r\n\r\n') + 4));
    assert.deepEqual(bodies, expected, `seed ${seed}`);
  }
});
