import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startOrigin } from './helpers/origin.js';
import { startGateway, simpleConfig, fetchText, portOf } from './helpers/gateway.js';
import { closer, RawConn, parseResponses, recordAccess, eventually } from './helpers/raw.js';
import { rawGateway } from './helpers/raw-gateway.js';

const chunk = (b: Buffer) => Buffer.concat([Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from('\r\n')]);

test('Content-Length above the default client_max_body_size (1MiB) gets 413; the origin is untouched', async (t) => {
  const { o, c, url } = await rawGateway(t);
  // Only the headers: the gateway must answer from Content-Length alone.
  await c.write(`POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: ${1024 * 1024 + 1}\r\n\r\n`);
  const text = await c.waitFor((s) => parseResponses(s).length > 0);
  const r = parseResponses(text)[0]!;
  assert.equal(r.status, 413, text.slice(0, 200));
  assert.match(r.body.toString(), /HW_ERR_BODY_TOO_LARGE/);
  assert.equal(r.headers.connection, 'close');
  assert.equal(o.seen.length, 0);
  assert.equal(o.connections(), 0);
  // Exactly at the limit is fine.
  const ok = await fetchText(`${url}/up`, { method: 'POST', body: Buffer.alloc(1024 * 1024) });
  assert.equal(ok.status, 200);
  assert.equal(o.seen[0]!.body.length, 1024 * 1024);
});

for (const bufferSize of ['64KiB', '1KiB']) {
  test(`a chunked body exceeding the limit mid-stream gets 413 and never reaches the origin whole (retry.buffer ${bufferSize})`, async (t) => {
    const track = closer(t);
    const access = recordAccess(t);
    const o = track(await startOrigin('a'));
    const cfg = simpleConfig([o.address], { retry: { buffer: bufferSize } });
    (cfg.routes as Array<Record<string, unknown>>)[0]!.client_max_body_size = '10KiB';
    const { gw, url } = await startGateway(cfg);
    track(gw);
    const c = await RawConn.open(portOf(url));
    t.after(() => c.close());
    await c.write('POST /chunked-limit HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n');
    for (let i = 0; i < 8; i++) {
      if (c.closed) break;
      await c.write(chunk(Buffer.alloc(2048, 0x61 + i)));
      await new Promise((r) => setTimeout(r, 10));
    }
    if (!c.closed) await c.write('0\r\n\r\n');
    const text = await c.untilClosed(2000);
    assert.ok(c.closed, 'the gateway closes the connection');
    const rs = parseResponses(text);
    // Either a 413, or (had the response already started) a cut connection; here nothing had started.
    assert.equal(rs[0]?.status, 413, text.slice(0, 200));
    assert.match(rs[0]!.body.toString(), /HW_ERR_BODY_TOO_LARGE/);
    assert.equal(o.seen.length, 0, 'the origin never got a complete request');
    assert.ok(await eventually(() => access.some((a) => a.path === '/chunked-limit')));
    const rec = access.find((a) => a.path === '/chunked-limit')!;
    assert.equal(rec.status, 413);
    assert.equal(rec.code, 'HW_ERR_BODY_TOO_LARGE');
  });
}

test('a body exceeding the limit after the response has started: the connection is cut', async (t) => {
  const track = closer(t);
  const access = recordAccess(t);
  let originGotAll = false;
  let originAborted = false;
  const o = track(
    await startOrigin(
      'early',
      (req, res) => {
        // Answers at once, before reading the body (like a server that streams while uploading).
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('started ');
        req.on('end', () => (originGotAll = true));
        res.on('close', () => (originAborted = !res.writableFinished));
        req.resume();
      },
      { streaming: true },
    ),
  );
  const cfg = simpleConfig([o.address], { retry: { buffer: '1KiB' } });
  (cfg.routes as Array<Record<string, unknown>>)[0]!.client_max_body_size = '10KiB';
  const { gw, url } = await startGateway(cfg);
  track(gw);
  const c = await RawConn.open(portOf(url));
  t.after(() => c.close());
  await c.write('POST /late-limit HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n');
  await c.write(chunk(Buffer.alloc(2048, 0x61)));
  await c.waitFor((s) => s.includes('started'));
  for (let i = 0; i < 8 && !c.closed; i++) {
    await c.write(chunk(Buffer.alloc(2048, 0x62)));
    await new Promise((r) => setTimeout(r, 10));
  }
  const text = await c.untilClosed(2000);
  assert.match(text, /^HTTP\/1\.1 200 /);
  assert.ok(c.closed, 'the gateway cuts the connection: the client must not take the response as complete');
  assert.ok(!text.endsWith('0\r\n\r\n'), 'no terminating chunk');
  assert.equal(originGotAll, false, 'the origin never got a complete request');
  assert.ok(await eventually(() => originAborted), 'the origin exchange is aborted');
  assert.ok(await eventually(() => access.some((a) => a.path === '/late-limit')));
  assert.equal(access.find((a) => a.path === '/late-limit')!.code, 'HW_ERR_BODY_TOO_LARGE');
});

test('an oversized chunked upload is the client\'s fault: the server is not marked failed', async (t) => {
  const track = closer(t);
  const a = track(await startOrigin('a'));
  const b = track(await startOrigin('b'));
  const cfg = simpleConfig([a.address, b.address], { retry: { buffer: '1KiB' } });
  (cfg.routes as Array<Record<string, unknown>>)[0]!.client_max_body_size = '10KiB';
  const { gw, url } = await startGateway(cfg);
  track(gw);
  for (let n = 0; n < 2; n++) {
    // Streamed (body > retry.buffer), so the attempt at one server is cut by the limit.
    const c = await RawConn.open(portOf(url));
    await c.write('POST /big HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n');
    for (let i = 0; i < 8 && !c.closed; i++) await c.write(chunk(Buffer.alloc(2048, 0x61)));
    const text = await c.untilClosed(2000);
    assert.equal(parseResponses(text)[0]?.status, 413);
    await c.close();
  }
  // Both servers must still take their share of normal traffic.
  const answers = new Set<string>();
  for (let i = 0; i < 6; i++) answers.add((await fetchText(`${url}/after`)).body);
  assert.deepEqual([...answers].sort(), ['a', 'b']);
});

test('per-route limits: 10KiB on one route, 0 (unlimited) on another', async (t) => {
  const track = closer(t);
  const o = track(await startOrigin('a', (_req, res, body) => res.end(String(body.length))));
  const { gw, url } = await startGateway({
    routes: [
      { name: 'small', match: { path_prefix: '/small' }, upstream: 'web', client_max_body_size: '10KiB' },
      { name: 'free', match: { path_prefix: '/free' }, upstream: 'web', client_max_body_size: 0 },
      { name: 'default', match: { path_prefix: '/' }, upstream: 'web' },
    ],
    upstreams: { web: { servers: [{ address: o.address }] } },
  });
  track(gw);
  const post = (path: string, n: number) => fetchText(`${url}${path}`, { method: 'POST', body: Buffer.alloc(n, 1) });
  assert.equal((await post('/small', 10 * 1024)).status, 200);
  const small = await post('/small', 10 * 1024 + 1);
  assert.equal(small.status, 413);
  assert.match(small.body, /HW_ERR_BODY_TOO_LARGE/);
  const free = await post('/free', 3 * 1024 * 1024);
  assert.equal(free.status, 200);
  assert.equal(free.body, String(3 * 1024 * 1024));
  assert.equal((await post('/default', 1024 * 1024 + 1)).status, 413);
  assert.deepEqual(
    o.seen.map((s) => s.url),
    ['/small', '/free'],
  );
});
