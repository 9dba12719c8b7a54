import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startOrigin } from './helpers/origin.js';
import { startGateway, simpleConfig, fetchText, rawRequest, portOf } from './helpers/gateway.js';
import { closer, RawConn, parseResponses, recordAccess, eventually } from './helpers/raw.js';

/** Malformed requests that must be refused with 400 and never reach the origin. */
const MALFORMED: Array<[string, string]> = [
  ['garbage request line', 'HELLO THERE\r\n\r\n'],
  ['HTTP/0.9 request line (no version)', 'GET /\r\nHost: h\r\n\r\n'],
  ['unknown HTTP version', 'GET / HTTP/9.9\r\nHost: h\r\n\r\n'],
  ['space inside the target', 'GET /a b HTTP/1.1\r\nHost: h\r\n\r\n'],
  ['both Content-Length and Transfer-Encoding', 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n'],
  ['two different Content-Length values', 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!'],
  ['Content-Length list with different values', 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 6\r\n\r\nhello!'],
  ['non-numeric Content-Length', 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: abc\r\n\r\n'],
  ['negative Content-Length', 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n'],
  ['Transfer-Encoding not ending in chunked', 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\nxxxx'],
  ['invalid chunk size', 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n'],
  ['space in a header name', 'GET / HTTP/1.1\r\nHost: h\r\nBad Header: x\r\n\r\n'],
  ['space before the colon', 'GET / HTTP/1.1\r\nHost: h\r\nX-Foo : x\r\n\r\n'],
  ['invalid character in a header name', 'GET / HTTP/1.1\r\nHost: h\r\nX(foo): x\r\n\r\n'],
  ['NUL in a header value', 'GET / HTTP/1.1\r\nHost: h\r\nX-Foo: a\x00b\r\n\r\n'],
  ['obs-fold (header line starting with a space)', 'GET / HTTP/1.1\r\nHost: h\r\nX-Foo: a\r\n  folded\r\n\r\n'],
  ['bare LF line endings', 'GET / HTTP/1.1\nHost: h\n\n'],
  ['missing Host on HTTP/1.1', 'GET / HTTP/1.1\r\nAccept: */*\r\n\r\n'],
  ['two Host headers', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n'],
  ['two Host headers on HTTP/1.0', 'GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n'],
  ['Host with a space', 'GET / HTTP/1.1\r\nHost: a b\r\n\r\n'],
  ['Host with a path', 'GET / HTTP/1.1\r\nHost: a.example/evil\r\n\r\n'],
  ['Host with userinfo', 'GET / HTTP/1.1\r\nHost: user@a.example\r\n\r\n'],
  ['absolute-form target with userinfo', 'GET http://u@h/x HTTP/1.1\r\nHost: h\r\n\r\n'],
  ['asterisk-form target on GET', 'GET * HTTP/1.1\r\nHost: h\r\n\r\n'],
  ['authority-form target on GET', 'GET h:80 HTTP/1.1\r\nHost: h\r\n\r\n'],
  ['fragment in the target', 'GET /a#frag HTTP/1.1\r\nHost: h\r\n\r\n'],
];

test('505 for an HTTP/2.0 request line on an HTTP/1 listener', async (t) => {
  const track = closer(t);
  const o = track(await startOrigin('a'));
  const { gw, url } = await startGateway(simpleConfig([o.address]));
  track(gw);
  const rs = parseResponses(await rawRequest(portOf(url), 'GET / HTTP/2.0\r\nHost: h\r\n\r\n', 1500));
  assert.equal(rs[0]!.status, 505);
  assert.deepEqual(o.seen, []);
});

test('an absolute-form target is accepted and its host replaces Host (RFC 9112 3.2.2)', async (t) => {
  const track = closer(t);
  const o = track(await startOrigin('a'));
  const { gw, url } = await startGateway({
    routes: [
      { name: 'api', match: { host: 'api.example', path_prefix: '/x' }, upstream: 'web' },
    ],
    upstreams: { web: { servers: [{ address: o.address }] } },
  });
  track(gw);
  const rs = parseResponses(await rawRequest(portOf(url), 'GET http://API.example/x?q=1 HTTP/1.1\r\nHost: other\r\nConnection: close\r\n\r\n', 1500));
  assert.equal(rs[0]!.status, 200);
  assert.equal(o.seen[0]!.url, '/x?q=1');
  assert.equal(o.seen[0]!.headers.host, 'API.example');
  assert.equal(o.seen[0]!.headers['x-forwarded-host'], 'API.example');
});

for (const [name, raw] of MALFORMED) {
  test(`400 for a malformed request: ${name}`, async (t) => {
    const track = closer(t);
    const o = track(await startOrigin('a'));
    const { gw, url } = await startGateway(simpleConfig([o.address]));
    track(gw);
    const text = await rawRequest(portOf(url), raw, 1500);
    const rs = parseResponses(text);
    assert.equal(rs.length, 1, `exactly one response: ${JSON.stringify(text.slice(0, 300))}`);
    assert.equal(rs[0]!.status, 400, JSON.stringify(text.slice(0, 300)));
    assert.match(rs[0]!.body.toString(), /HW_ERR_BAD_REQUEST/);
    assert.deepEqual(o.seen, [], 'nothing reached the origin');
    assert.equal(o.connections(), 0);
  });
}

test(
  'a missing Host gets the gateway 400 body naming HW_ERR_BAD_REQUEST',
  async (t) => {
    const track = closer(t);
    const o = track(await startOrigin('a'));
    const { gw, url } = await startGateway(simpleConfig([o.address]));
    track(gw);
    const rs = parseResponses(await rawRequest(portOf(url), 'GET / HTTP/1.1\r\n\r\n', 1500));
    assert.equal(rs[0]?.status, 400);
    assert.match(rs[0]!.body.toString(), /HW_ERR_BAD_REQUEST/);
  },
);

test('431 for request headers larger than the parser limit; the origin sees nothing', async (t) => {
  const track = closer(t);
  const o = track(await startOrigin('a'));
  const { gw, url } = await startGateway(simpleConfig([o.address]));
  track(gw);
  const text = await rawRequest(portOf(url), `GET / HTTP/1.1\r\nHost: h\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`, 1500);
  assert.equal(parseResponses(text)[0]?.status, 431, text.slice(0, 200));
  assert.equal(o.seen.length, 0);
});

test('HTTP/1.0 without Host is accepted (Host is only required from HTTP/1.1 on)', async (t) => {
  const track = closer(t);
  const o = track(await startOrigin('a'));
  const { gw, url } = await startGateway(simpleConfig([o.address]));
  track(gw);
  const rs = parseResponses(await rawRequest(portOf(url), 'GET /old HTTP/1.0\r\n\r\n', 1500));
  assert.equal(rs[0]?.status, 200);
  assert.equal(o.seen[0]!.url, '/old');
});

test('a repeated identical Content-Length is accepted and forwarded once', async (t) => {
  const track = closer(t);
  const o = track(await startOrigin('a', (_req, res, body) => res.end(body)));
  const { gw, url } = await startGateway(simpleConfig([o.address]));
  track(gw);
  const text = await rawRequest(portOf(url), 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello', 1500);
  const rs = parseResponses(text);
  // RFC 9110 8.6 allows either refusing or collapsing identical values; never two headers upstream.
  assert.ok(rs[0]!.status === 200 || rs[0]!.status === 400, text.slice(0, 200));
  if (rs[0]!.status === 200) {
    assert.equal(rs[0]!.body.toString(), 'hello');
    const cls = o.seen[0]!.rawHeaders.filter((_, i) => i % 2 === 0 && o.seen[0]!.rawHeaders[i]!.toLowerCase() === 'content-length');
    assert.equal(cls.length, 1, 'one content-length upstream');
  } else assert.equal(o.seen.length, 0);
});

test('499: the client disconnects while the origin is slow; the origin request is aborted', async (t) => {
  const track = closer(t);
  const access = recordAccess(t);
  let originAborted = false;
  const o = track(
    await startOrigin(
      'slow',
      (_req, res) => {
        // Never answers; res 'close' before the response finished means the connection was cut.
        res.on('close', () => (originAborted = !res.writableFinished));
      },
      { streaming: true },
    ),
  );
  const { gw, url } = await startGateway(simpleConfig([o.address]));
  track(gw);
  const c = await RawConn.open(portOf(url));
  await c.write('GET /slow-499 HTTP/1.1\r\nHost: h\r\n\r\n');
  assert.ok(await eventually(() => o.seen.length === 1), 'the origin got the request');
  c.destroy();
  assert.ok(await eventually(() => access.some((a) => a.path === '/slow-499')), 'an access record');
  const rec = access.find((a) => a.path === '/slow-499')!;
  assert.equal(rec.status, 499);
  assert.equal(rec.code, 'HW_ERR_CLIENT_ABORT');
  assert.equal(rec.tries.length, 1);
  assert.equal(rec.tries[0]!.outcome, 'client_abort');
  assert.equal(rec.tries[0]!.server, o.address);
  assert.ok(await eventually(() => originAborted), 'the origin request was aborted');
});

test('a client that disconnects mid-response makes the gateway abort the origin response', async (t) => {
  const track = closer(t);
  const access = recordAccess(t);
  let resClosed = false;
  const o = track(
    await startOrigin(
      'trickle',
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('first ');
        const timer = setInterval(() => res.write('more '), 20);
        res.on('close', () => {
          clearInterval(timer);
          resClosed = true;
        });
      },
      { streaming: true },
    ),
  );
  const { gw, url } = await startGateway(simpleConfig([o.address]));
  track(gw);
  const c = await RawConn.open(portOf(url));
  await c.write('GET /trickle HTTP/1.1\r\nHost: h\r\n\r\n');
  await c.waitFor((s) => s.includes('first'));
  c.destroy();
  assert.ok(await eventually(() => resClosed), 'the origin response was closed');
  assert.ok(await eventually(() => access.some((a) => a.path === '/trickle')));
  assert.equal(access.find((a) => a.path === '/trickle')!.code, 'HW_ERR_CLIENT_ABORT');
});

test('a client that disconnects mid-upload does not mark the server failed', async (t) => {
  const track = closer(t);
  const a = track(await startOrigin('a'));
  const b = track(await startOrigin('b'));
  const { gw, url } = await startGateway(simpleConfig([a.address, b.address], { retry: { buffer: '1KiB' } }));
  track(gw);
  for (let n = 0; n < 2; n++) {
    const c = await RawConn.open(portOf(url));
    await c.write('POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 100000\r\n\r\n');
    await c.write(Buffer.alloc(20000, 1));
    await new Promise((r) => setTimeout(r, 50));
    await c.close();
    await new Promise((r) => setTimeout(r, 50));
  }
  const answers = new Set<string>();
  for (let i = 0; i < 6; i++) answers.add((await fetchText(`${url}/after`)).body);
  assert.deepEqual([...answers].sort(), ['a', 'b']);
});
