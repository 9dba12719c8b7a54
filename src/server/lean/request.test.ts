import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { nodeHeaders } from './request.js';
import { listen, Client } from './test-helpers.js';

/** What node:http makes of a raw head: its rawHeaders and headers. */
async function nodeSees(head: string): Promise<{ raw: string[]; headers: http.IncomingHttpHeaders }> {
  const server = http.createServer({ joinDuplicateHeaders: false, requireHostHeader: false });
  const seen = new Promise<{ raw: string[]; headers: http.IncomingHttpHeaders }>((resolve) =>
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      resolve({ raw: req.rawHeaders, headers: req.headers });
      res.end();
    }),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const s = net.connect((server.address() as AddressInfo).port, '127.0.0.1');
  s.on('error', () => {});
  s.write(head);
  const r = await seen;
  s.destroy();
  server.close();
  return r;
}

test('headers are built from raw headers exactly as node:http builds them', async () => {
  const head =
    'GET / HTTP/1.1\r\nHost: a\r\nHOST2: x\r\nContent-Type: text/a\r\ncontent-type: text/b\r\nAccept: a\r\naccept: b\r\n' +
    'Cookie: c=1\r\ncookie: d=2\r\nSet-Cookie: s=1\r\nset-cookie: s=2\r\nUser-Agent: u1\r\nUser-Agent: u2\r\nX-Multi: 1\r\nx-multi: 2\r\n' +
    'Authorization: one\r\nAuthorization: two\r\nReferer: r1\r\nReferer: r2\r\nIf-None-Match: "a"\r\nIf-None-Match: "b"\r\n' +
    'Max-Forwards: 1\r\nMax-Forwards: 2\r\nX-Forwarded-For: 1.1.1.1\r\nX-Forwarded-For: 2.2.2.2\r\nExpires: e1\r\nExpires: e2\r\n' +
    'constructor: c\r\nX-Empty:\r\nx-empty: v\r\n\r\n';
  const { raw, headers } = await nodeSees(head);
  assert.deepEqual(nodeHeaders(raw), headers);
});

test('the request seen by the handler: fields, version, remote address, node-style headers', async (t) => {
  let seen: Record<string, unknown> | undefined;
  const { port } = await listen(t, (req, res) => {
    seen = {
      method: req.method,
      url: req.url,
      major: req.httpVersionMajor,
      minor: req.httpVersionMinor,
      addr: req.socket.remoteAddress,
      raw: req.rawHeaders,
      cookie: req.headers.cookie,
      host: req.headers.host,
    };
    req.resume();
    res.writeHead(204, []);
    res.end();
  });
  const c = await Client.open(t, port);
  await c.write('OPTIONS http://x.example/p?q HTTP/1.1\r\nHost: x.example\r\nCookie: a=1\r\nCookie: b=2\r\n\r\n');
  await c.until((s) => s.includes('204'));
  assert.deepEqual(seen, {
    method: 'OPTIONS',
    url: 'http://x.example/p?q',
    major: 1,
    minor: 1,
    addr: '127.0.0.1',
    raw: ['Host', 'x.example', 'Cookie', 'a=1', 'Cookie', 'b=2'],
    cookie: 'a=1; b=2',
    host: 'x.example',
  });
});

test('the body iterator throws when the client goes away mid-body', async (t) => {
  let outcome: string | undefined;
  const { port } = await listen(t, (req) => {
    (async () => {
      let n = 0;
      for await (const c of req) n += c.length;
      return n;
    })().then(
      (n) => (outcome = `done ${n}`),
      (err: Error) => (outcome = `error ${err.message}`),
    );
  });
  const c = await Client.open(t, port);
  await c.write('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1000\r\n\r\n' + 'x'.repeat(100));
  await new Promise((r) => setTimeout(r, 20));
  c.socket.destroy();
  const deadline = Date.now() + 2000;
  while (outcome === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  assert.match(outcome ?? '', /^error /);
});

test('resume() discards the rest; the connection serves the next request', async (t) => {
  const { port } = await listen(t, (req, res) => {
    req.resume();
    if (req.url === '/wait') {
      // Answer only after the body has been received (and dropped).
      setTimeout(() => res.writeHead(200, ['content-length', '1']).end('w'), 50);
      return;
    }
    res.writeHead(200, ['content-length', '1']).end('n');
  });
  const c = await Client.open(t, port);
  await c.write('POST /wait HTTP/1.1\r\nHost: h\r\nContent-Length: 200000\r\n\r\n');
  await c.write(Buffer.alloc(200000, 1));
  await c.write('GET /n HTTP/1.1\r\nHost: h\r\n\r\n');
  const text = await c.until((s) => s.endsWith('n'));
  assert.match(text, /\r\n\r\nw[^]*\r\n\r\nn$/);
  assert.equal(c.closed, false);
});
