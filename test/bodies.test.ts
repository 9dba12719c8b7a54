import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { Agent, request } from 'undici';
import { filePki } from './helpers/certs.js';
import { startOrigin } from './helpers/origin.js';
import { startGateway, simpleConfig, fetchText, client, portOf, rawRequest } from './helpers/gateway.js';
import { closer, RawConn, parseResponses } from './helpers/raw.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

for (const size of [1 << 20, 8 << 20]) {
  test(`a ${size >> 20} MiB response is streamed intact`, async (t) => {
    const track = closer(t);
    const payload = randomBytes(size);
    const o = track(
      await startOrigin('big', (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(size) });
        // Several writes so the gateway sees many chunks and has to respect backpressure.
        for (let off = 0; off < size; off += 256 * 1024) res.write(payload.subarray(off, off + 256 * 1024));
        res.end();
      }),
    );
    const { gw, url } = await startGateway(simpleConfig([o.address]));
    track(gw);
    const r = await request(`${url}/big`, { dispatcher: client });
    assert.equal(r.statusCode, 200);
    assert.equal(r.headers['content-length'], String(size));
    const got = Buffer.from(await r.body.arrayBuffer());
    assert.equal(got.length, size);
    assert.equal(sha(got), sha(payload));
  });
}

for (const framing of ['content-length', 'chunked'] as const) {
  test(`a slow client and fast ones at once (${framing}): every body intact while the paused response keeps its bytes`, async (t) => {
    const track = closer(t);
    // Larger than what the kernel buffers between the gateway and a client that does not read.
    const big = randomBytes(24 << 20);
    const small = [randomBytes(90_000), Buffer.alloc(40_000, 'x')];
    const o = track(
      await startOrigin('mix', (req, res) => {
        const b = req.url === '/big' ? big : small[Number(req.url!.slice(1))]!;
        if (framing === 'chunked' && b === big) {
          res.writeHead(200);
          for (let off = 0; off < b.length; off += 1 << 20) res.write(b.subarray(off, off + (1 << 20)));
          res.end();
          return;
        }
        res.writeHead(200, { 'content-length': String(b.length) });
        res.end(b);
      }),
    );
    const { gw, url } = await startGateway(simpleConfig([o.address]));
    track(gw);
    const agent = new Agent({ connections: 16 });
    t.after(() => agent.close());
    const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
    // The slow client stops reading for a while: the gateway's writes to it fill up, and its upstream
    // connection pauses with bytes in flight while the fast clients' responses keep being read.
    const slow = (async () => {
      const r = await request(`${url}/big`, { dispatcher: agent, highWaterMark: 16 * 1024 });
      await wait(400);
      return Buffer.from(await r.body.arrayBuffer()).equals(big);
    })();
    let bad = 0;
    let n = 0;
    const until = Date.now() + 400;
    await Promise.all(
      Array.from({ length: 8 }, async (_, c) => {
        while (Date.now() < until) {
          const which = (c + n++) % 2;
          const r = await request(`${url}/${which}`, { dispatcher: agent });
          if (!Buffer.from(await r.body.arrayBuffer()).equals(small[which]!)) bad++;
        }
      }),
    );
    assert.equal(bad, 0, `${bad} of ${n} small bodies differ`);
    assert.ok(await slow, 'the large body differs');
  });
}

test('a chunked (unknown length) response is streamed intact', async (t) => {
  const track = closer(t);
  const payload = randomBytes(3 * 1024 * 1024 + 17);
  const o = track(
    await startOrigin('chunky', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      for (let off = 0; off < payload.length; off += 100_000) res.write(payload.subarray(off, off + 100_000));
      res.end();
    }),
  );
  const { gw, url } = await startGateway(simpleConfig([o.address]));
  track(gw);
  const r = await request(`${url}/`, { dispatcher: client });
  const got = Buffer.from(await r.body.arrayBuffer());
  assert.equal(sha(got), sha(payload));
});

test('a 4 MiB upload is streamed to the origin intact', async (t) => {
  const track = closer(t);
  const o = track(
    await startOrigin('sink', (req, res, body) => {
      res.end(JSON.stringify({ len: body.length, sha: sha(body), cl: req.headers['content-length'] ?? null }));
    }),
  );
  const cfg = simpleConfig([o.address]);
  (cfg.routes as Array<Record<string, unknown>>)[0]!.client_max_body_size = '8MiB';
  const { gw, url } = await startGateway(cfg);
  track(gw);
  const payload = randomBytes(4 << 20);
  const r = await fetchText(`${url}/upload`, { method: 'POST', body: payload });
  assert.equal(r.status, 200, r.body);
  const got = JSON.parse(r.body) as { len: number; sha: string; cl: string | null };
  assert.equal(got.len, payload.length);
  assert.equal(got.sha, sha(payload));
  assert.equal(o.seen[0]!.body.length, payload.length);
  assert.equal(got.cl, String(payload.length), 'the declared length is kept');
});

const certs = filePki({ a: ['DNS:localhost', 'IP:127.0.0.1'] });

for (const mode of ['plain', 'tls'] as const) {
  test(`concurrent uploads on several connections arrive intact (client reads share one buffer; ${mode})`, async (t) => {
    const track = closer(t);
    const o = track(await startOrigin('sink', (_req, res, body) => res.end(sha(body))));
    const cfg = simpleConfig([o.address]);
    (cfg.routes as Array<Record<string, unknown>>)[0]!.client_max_body_size = '8MiB';
    if (mode === 'tls') cfg.listeners = [{ address: '127.0.0.1:0', tls: { certificates: [certs.pairs['a']!] } }];
    const { gw, url } = await startGateway(cfg);
    track(gw);
    const agent = mode === 'tls' ? new Agent({ connect: { ca: certs.pki.ca }, connections: 64 }) : client;
    if (mode === 'tls') t.after(() => agent.close());
    const base = mode === 'tls' ? `https://localhost:${portOf(url)}` : url;
    const payloads = Array.from({ length: 6 }, () => randomBytes((2 << 20) + 4093));
    const sent = payloads.map(async (p, i) => {
      // Half with Content-Length, half chunked (a stream body has no declared length).
      const body = i % 2 === 0 ? p : Readable.from((function* () { for (let off = 0; off < p.length; off += 50_000) yield p.subarray(off, off + 50_000); })());
      const r = await request(`${base}/up/${i}`, { method: 'POST', body, dispatcher: agent });
      return r.body.text();
    });
    const got = await Promise.all(sent);
    assert.deepEqual(got, payloads.map(sha));
  });
}

test('an upload larger than retry.buffer starts reaching the origin before the client has sent it all', async (t) => {
  const track = closer(t);
  let firstBytes: (n: number) => void = () => {};
  const arrived = new Promise<number>((r) => (firstBytes = r));
  const o = track(
    await startOrigin(
      'stream',
      (req, res) => {
        let n = 0;
        req.on('data', (c: Buffer) => {
          if (n === 0) firstBytes(c.length);
          n += c.length;
        });
        req.on('end', () => res.end(`got ${n}`));
      },
      { streaming: true },
    ),
  );
  const { gw, url } = await startGateway(simpleConfig([o.address], { retry: { buffer: '16KiB' } }));
  track(gw);
  const c = await RawConn.open(portOf(url));
  t.after(() => c.close());
  const total = 256 * 1024;
  await c.write(`POST /s HTTP/1.1\r\nHost: h\r\nContent-Length: ${total}\r\n\r\n`);
  await c.write(Buffer.alloc(total / 2, 1));
  const timeout = new Promise<string>((r) => setTimeout(() => r('timeout'), 2000));
  assert.notEqual(await Promise.race([arrived, timeout]), 'timeout', 'the origin got nothing while the client was mid-body');
  await c.write(Buffer.alloc(total / 2, 2));
  const rs = parseResponses(await c.waitFor((s) => parseResponses(s).length > 0));
  assert.equal(rs[0]!.status, 200);
  assert.equal(rs[0]!.body.toString(), `got ${total}`);
});

for (const bufferKiB of [64, 1]) {
  test(`a chunked request reaches the origin intact, never as content-length: 0 (retry.buffer ${bufferKiB}KiB)`, async (t) => {
    const track = closer(t);
    const o = track(await startOrigin('sink', (_req, res, body) => res.end(`got ${body.length}`)));
    const { gw, url } = await startGateway(simpleConfig([o.address], { retry: { buffer: `${bufferKiB}KiB` } }));
    track(gw);
    const c = await RawConn.open(portOf(url));
    t.after(() => c.close());
    const parts = [Buffer.from('hello '), randomBytes(3000), Buffer.from(' world')];
    await c.write('POST /chunked HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Type: application/octet-stream\r\n\r\n');
    for (const p of parts) {
      await c.write(Buffer.concat([Buffer.from(`${p.length.toString(16)}\r\n`), p, Buffer.from('\r\n')]));
      await new Promise((r) => setTimeout(r, 20));
    }
    await c.write('0\r\n\r\n');
    const res = parseResponses(await c.waitFor((s) => parseResponses(s).length > 0))[0]!;
    const whole = Buffer.concat(parts);
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), `got ${whole.length}`);
    const seen = o.seen[0]!;
    assert.notEqual(seen.headers['content-length'], '0');
    assert.ok(seen.headers['content-length'] === String(whole.length) || seen.headers['transfer-encoding'] === 'chunked');
    assert.equal(sha(seen.body), sha(whole));
  });
}

test('an empty-body GET carries no content-length or transfer-encoding to the origin', async (t) => {
  const track = closer(t);
  const o = track(await startOrigin('a'));
  const { gw, url } = await startGateway(simpleConfig([o.address]));
  track(gw);
  const r = parseResponses(await rawRequest(portOf(url), 'GET /e HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n'))[0]!;
  assert.equal(r.status, 200);
  assert.equal(o.seen[0]!.headers['content-length'], undefined);
  assert.equal(o.seen[0]!.headers['transfer-encoding'], undefined);
  assert.equal(o.seen[0]!.body.length, 0);
});

test('HEAD keeps the content-length and sends no body', async (t) => {
  const track = closer(t);
  const o = track(
    await startOrigin('a', (req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '1234' });
      res.end(req.method === 'HEAD' ? undefined : 'x'.repeat(1234));
    }),
  );
  const { gw, url } = await startGateway(simpleConfig([o.address]));
  track(gw);
  const c = await RawConn.open(portOf(url));
  t.after(() => c.close());
  // Two HEADs then a GET on one connection: any stray body bytes would corrupt the next response.
  await c.write('HEAD /h HTTP/1.1\r\nHost: h\r\n\r\nHEAD /h HTTP/1.1\r\nHost: h\r\n\r\nGET /h HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n');
  const text = await c.untilClosed();
  const heads = text.split('HTTP/1.1 ').filter(Boolean);
  assert.equal(heads.length, 3, text.slice(0, 500));
  for (const h of heads.slice(0, 2)) {
    assert.match(h, /^200 /);
    assert.match(h, /content-length: 1234\r\n/i);
    assert.ok(h.endsWith('\r\n\r\n'), 'no body after a HEAD response');
  }
  assert.ok(heads[2]!.endsWith('\r\n\r\n' + 'x'.repeat(1234)));
  assert.deepEqual(
    o.seen.map((s) => s.method),
    ['HEAD', 'HEAD', 'GET'],
  );
});

test('204 and 304 responses pass through without a body and keep the connection usable', async (t) => {
  const track = closer(t);
  const o = track(
    await startOrigin('a', (req, res) => {
      if (req.url === '/204') res.writeHead(204, { 'x-kind': 'nc' }).end();
      else if (req.url === '/304') res.writeHead(304, { etag: '"v1"' }).end();
      else res.end('after');
    }),
  );
  const { gw, url } = await startGateway(simpleConfig([o.address]));
  track(gw);
  const c = await RawConn.open(portOf(url));
  t.after(() => c.close());
  await c.write(
    'GET /204 HTTP/1.1\r\nHost: h\r\n\r\n' +
      'GET /304 HTTP/1.1\r\nHost: h\r\nIf-None-Match: "v1"\r\n\r\n' +
      'GET /after HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n',
  );
  const rs = parseResponses(await c.untilClosed());
  assert.deepEqual(
    rs.map((r) => r.status),
    [204, 304, 200],
  );
  assert.equal(rs[0]!.headers['x-kind'], 'nc');
  assert.equal(rs[0]!.headers['content-length'], undefined);
  assert.equal(rs[0]!.headers['transfer-encoding'], undefined);
  assert.equal(rs[1]!.headers.etag, '"v1"');
  assert.equal(rs[1]!.headers['transfer-encoding'], undefined);
  assert.equal(rs[2]!.body.toString(), 'after');
  assert.equal(o.seen[1]!.headers['if-none-match'], '"v1"');
});

test('Expect: 100-continue gets 100 Continue, then the final response; the origin never sees Expect', async (t) => {
  const track = closer(t);
  const o = track(await startOrigin('sink', (_req, res, body) => res.end(`got ${body.toString()}`)));
  const { gw, url } = await startGateway(simpleConfig([o.address]));
  track(gw);
  const c = await RawConn.open(portOf(url));
  t.after(() => c.close());
  await c.write('POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n');
  const interim = await c.waitFor((s) => s.includes('\r\n\r\n'));
  assert.match(interim, /^HTTP\/1\.1 100 Continue\r\n/);
  assert.equal(o.seen.length, 0, 'nothing is forwarded before the body');
  await c.write('hello');
  const rs = parseResponses(await c.waitFor((s) => parseResponses(s).length >= 2));
  assert.deepEqual(
    rs.map((r) => r.status),
    [100, 200],
  );
  assert.equal(rs[1]!.body.toString(), 'got hello');
  assert.equal(o.seen[0]!.headers.expect, undefined);
  assert.equal(o.seen[0]!.body.toString(), 'hello');
});

test('Expect: 100-continue with a too-large Content-Length gets 413 without 100 Continue', async (t) => {
  const track = closer(t);
  const o = track(await startOrigin('sink'));
  const cfg = simpleConfig([o.address]);
  (cfg.routes as Array<Record<string, unknown>>)[0]!.client_max_body_size = '10KiB';
  const { gw, url } = await startGateway(cfg);
  track(gw);
  const c = await RawConn.open(portOf(url));
  t.after(() => c.close());
  await c.write('PUT /up HTTP/1.1\r\nHost: h\r\nContent-Length: 20000\r\nExpect: 100-continue\r\n\r\n');
  const text = await c.waitFor((s) => parseResponses(s).some((r) => r.status >= 200));
  const rs = parseResponses(text);
  assert.deepEqual(
    rs.map((r) => r.status),
    [413],
    text,
  );
  assert.match(rs[0]!.body.toString(), /HW_ERR_BODY_TOO_LARGE/);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(o.seen.length, 0);
  assert.equal(o.connections(), 0, 'the origin is not even connected to');
});

test('a pipelined request waiting behind a slow one stays intact while other connections are read', async (t) => {
  const track = closer(t);
  const o = track(
    await startOrigin('slow', (req, res) => {
      if (req.url === '/slow') setTimeout(() => res.end('slow'), 150);
      else res.end(`got ${req.url}`);
    }),
  );
  const { gw, url } = await startGateway(simpleConfig([o.address]));
  track(gw);
  const a = await RawConn.open(portOf(url));
  const b = await RawConn.open(portOf(url));
  t.after(() => a.close());
  t.after(() => b.close());
  // Both requests in one write: the second waits in the gateway until the first is answered.
  await a.write('GET /slow HTTP/1.1\r\nHost: h\r\n\r\nGET /second-request HTTP/1.1\r\nHost: h\r\n\r\n');
  await new Promise((r) => setTimeout(r, 30));
  // Meanwhile another connection's bytes are read (same lengths, other contents).
  for (let i = 0; i < 3; i++) await b.write('GET /XXXXXXXXXXXXXXXXX HTTP/1.1\r\nHost: h\r\n\r\nGET /YYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYY HTTP/1.1\r\nHost: h\r\n\r\n');
  const rs = parseResponses(await a.waitFor((s) => parseResponses(s).length >= 2));
  assert.deepEqual(
    rs.map((r) => r.body.toString()),
    ['slow', 'got /second-request'],
  );
});
