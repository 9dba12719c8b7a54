import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request } from 'undici';
import { originFor, deadAddress, type OriginHandler } from './helpers/origin.js';
import { gatewayFor, simpleConfig, fetchText, client } from './helpers/gateway.js';
import { answerStatus, hang, recordRequests, reset, until } from './helpers/behaviour.js';

const origin = originFor;
const gateway = gatewayFor;

const FAST = { timeouts: { response_header: '300ms' } };

test('a dead server (connection refused) is skipped and the next one answers', async (t) => {
  const b = await origin(t, 'b');
  const url = await gateway(t, simpleConfig([await deadAddress(), b.address]));
  for (let i = 0; i < 4; i++) {
    const r = await fetchText(`${url}/x${i}`);
    assert.equal(r.status, 200);
    assert.equal(r.body, 'b');
  }
  assert.equal(b.seen.length, 4);
});

test('a hanging server times out after response_header and the GET is retried on the next', async (t) => {
  const h = await origin(t, 'h', hang);
  const b = await origin(t, 'b');
  const url = await gateway(t, simpleConfig([h.address, b.address], FAST));
  const t0 = Date.now();
  const r = await fetchText(`${url}/`);
  const ms = Date.now() - t0;
  assert.equal(r.status, 200);
  assert.equal(r.body, 'b');
  assert.equal(h.seen.length, 1);
  assert.ok(ms >= 280 && ms < 800, `took ${ms}ms`);
});

test('a single hanging server gives 504 after response_header', async (t) => {
  const h = await origin(t, 'h', hang);
  const url = await gateway(t, simpleConfig([h.address], FAST));
  const t0 = Date.now();
  const r = await fetchText(`${url}/`);
  const ms = Date.now() - t0;
  assert.equal(r.status, 504);
  assert.match(r.body, /HW_ERR_UPSTREAM_TIMEOUT/);
  assert.ok(ms >= 280 && ms < 800, `took ${ms}ms`);
});

test('connection refused on the only server gives 502', async (t) => {
  const url = await gateway(t, simpleConfig([await deadAddress()]));
  const r = await fetchText(`${url}/`);
  assert.equal(r.status, 502);
  assert.match(r.body, /HW_ERR_UPSTREAM_CONNECT/);
});

test('no server available (all down: true) gives 503', async (t) => {
  const a = await origin(t, 'a');
  const b = await origin(t, 'b');
  const url = await gateway(t, simpleConfig([{ address: a.address, down: true }, { address: b.address, down: true }]));
  const r = await fetchText(`${url}/`);
  assert.equal(r.status, 503);
  assert.match(r.body, /HW_ERR_NO_HEALTHY_UPSTREAM/);
  assert.equal(a.seen.length + b.seen.length, 0);
});

test('a POST the server read and then reset is not replayed: 502, the next server sees nothing', async (t) => {
  const a = await origin(t, 'a', reset);
  const b = await origin(t, 'b');
  const url = await gateway(t, simpleConfig([a.address, b.address]));
  const r = await fetchText(`${url}/pay`, { method: 'POST', body: 'amount=10' });
  assert.equal(r.status, 502);
  assert.match(r.body, /HW_ERR_UPSTREAM_RESET/);
  assert.equal(a.seen.length, 1);
  assert.equal(a.seen[0]!.body.toString(), 'amount=10');
  assert.equal(b.seen.length, 0);
});

test('retry.non_idempotent: the POST is replayed on the next server with the identical body', async (t) => {
  const a = await origin(t, 'a', reset);
  const b = await origin(t, 'b');
  const url = await gateway(t, simpleConfig([a.address, b.address], { retry: { non_idempotent: true } }));
  const body = `amount=10&note=${'x'.repeat(5000)}`;
  const r = await fetchText(`${url}/pay`, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  assert.equal(r.status, 200);
  assert.equal(r.body, 'b');
  assert.equal(a.seen.length, 1);
  assert.equal(b.seen.length, 1);
  assert.equal(b.seen[0]!.method, 'POST');
  assert.equal(b.seen[0]!.body.toString(), body);
  assert.equal(b.seen[0]!.headers['content-type'], 'application/x-www-form-urlencoded');
});

test('a POST to a dead (connection refused) first server is retried: nothing was sent', async (t) => {
  const b = await origin(t, 'b');
  const url = await gateway(t, simpleConfig([await deadAddress(), b.address]));
  const r = await fetchText(`${url}/pay`, { method: 'POST', body: 'amount=10' });
  assert.equal(r.status, 200);
  assert.equal(r.body, 'b');
  assert.equal(b.seen.length, 1);
  assert.equal(b.seen[0]!.body.toString(), 'amount=10');
});

test('an upstream 503 is passed through as-is with the default retry.on', async (t) => {
  const a = await origin(t, 'a', answerStatus('a', 503));
  const b = await origin(t, 'b');
  const url = await gateway(t, simpleConfig([a.address, b.address]));
  const r = await fetchText(`${url}/`);
  assert.equal(r.status, 503);
  assert.equal(r.body, 'a-503');
  assert.equal(r.headers['x-origin'], 'a');
  assert.equal(b.seen.length, 0);
});

test('retry.on http_503 moves the request to the next server', async (t) => {
  const a = await origin(t, 'a', answerStatus('a', 503));
  const b = await origin(t, 'b');
  const url = await gateway(t, simpleConfig([a.address, b.address], { retry: { on: ['error', 'timeout', 'http_503'] } }));
  const r = await fetchText(`${url}/`);
  assert.equal(r.status, 200);
  assert.equal(r.body, 'b');
  assert.equal(a.seen.length, 1);
  assert.equal(b.seen.length, 1);
});

test('retry.on http_503 with every server answering 503: the client gets the last upstream 503', async (t) => {
  const a = await origin(t, 'a', answerStatus('a', 503));
  const b = await origin(t, 'b', answerStatus('b', 503));
  const c = await origin(t, 'c', answerStatus('c', 503));
  const url = await gateway(t, simpleConfig([a.address, b.address, c.address], { retry: { on: ['error', 'timeout', 'http_503'] } }));
  const r = await fetchText(`${url}/`);
  assert.equal(r.status, 503);
  // The upstream's own response (round robin tries a, b, then c), not a gateway-made error.
  assert.equal(r.headers['x-origin'], 'c');
  assert.equal(r.body, 'c-503');
  assert.deepEqual([a.seen.length, b.seen.length, c.seen.length], [1, 1, 1]);
});

test('retry.on without timeout: a timed-out GET is not retried (504), the next server sees nothing', async (t) => {
  const h = await origin(t, 'h', hang);
  const b = await origin(t, 'b');
  const url = await gateway(t, simpleConfig([h.address, b.address], { ...FAST, retry: { on: ['error'] } }));
  const r = await fetchText(`${url}/`);
  assert.equal(r.status, 504);
  assert.equal(h.seen.length, 1);
  assert.equal(b.seen.length, 0);
});

test('retry.on without error: connection refused is not retried (502)', async (t) => {
  const b = await origin(t, 'b');
  const url = await gateway(t, simpleConfig([await deadAddress(), b.address], { retry: { on: ['timeout'] } }));
  const r = await fetchText(`${url}/`);
  assert.equal(r.status, 502);
  assert.match(r.body, /HW_ERR_UPSTREAM_CONNECT/);
  assert.equal(b.seen.length, 0);
});

test('retry.tries 2 stops after two attempts over three dead servers', async (t) => {
  const url = await gateway(t, simpleConfig([await deadAddress(), await deadAddress(), await deadAddress()], { retry: { tries: 2 } }));
  const log = recordRequests();
  t.after(() => log.stop());
  const r = await fetchText(`${url}/`);
  assert.equal(r.status, 502);
  await until(() => log.records.length === 1, 1000, 'the access record');
  assert.equal(log.records[0]!.tries.length, 2);
  assert.ok(log.records[0]!.tries.every((x) => x.outcome === 'error'));
});

test('retry.tries 2 stops after two attempts over three resetting servers', async (t) => {
  const os = [await origin(t, 'a', reset), await origin(t, 'b', reset), await origin(t, 'c', reset)];
  const url = await gateway(t, simpleConfig(os.map((o) => o.address), { retry: { tries: 2 } }));
  const r = await fetchText(`${url}/`);
  assert.equal(r.status, 502);
  assert.equal(os.reduce((n, o) => n + o.seen.length, 0), 2);
});

test('retry.timeout bounds the total time spent across hanging servers', async (t) => {
  const hs = [await origin(t, 'h1', hang), await origin(t, 'h2', hang), await origin(t, 'h3', hang), await origin(t, 'h4', hang)];
  const url = await gateway(t, simpleConfig(hs.map((h) => h.address), { ...FAST, retry: { timeout: '500ms' } }));
  const t0 = Date.now();
  const r = await fetchText(`${url}/`);
  const ms = Date.now() - t0;
  assert.equal(r.status, 504);
  // 300ms (try 1, under 500ms: retry) + 300ms (try 2, over: stop). Without the limit: 4 x 300ms.
  assert.equal(hs.reduce((n, h) => n + h.seen.length, 0), 2);
  assert.ok(ms >= 550 && ms < 1100, `took ${ms}ms`);
});

for (const framing of ['content-length', 'chunked'] as const) {
  test(`no retry once bytes reached the client (${framing}): the response is cut short, the next server gets nothing`, async (t) => {
    const partial: OriginHandler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'x-origin': 'a', ...(framing === 'content-length' ? { 'content-length': '100000' } : {}) });
      res.write('x'.repeat(1000));
      setTimeout(() => res.socket?.destroy(), 50);
    };
    const a = await origin(t, 'a', partial);
    const b = await origin(t, 'b');
    const url = await gateway(t, simpleConfig([a.address, b.address]));
    const r = await request(`${url}/`, { dispatcher: client });
    assert.equal(r.statusCode, 200);
    assert.equal(r.headers['x-origin'], 'a');
    // The client must be able to tell the body is incomplete: no clean end of a short body.
    await assert.rejects(r.body.text());
    assert.equal(b.seen.length, 0);
  });
}

const BIG = { client_max_body_size: '8MiB' };

test('a 1 MiB body (over the retry buffer) is not retried once the server has read part of it', async (t) => {
  let read = 0;
  const partialReader: OriginHandler = (req) => {
    req.on('data', (c: Buffer) => {
      read += c.length;
      if (read >= 128 * 1024) req.socket.destroy();
    });
  };
  const a = await origin(t, 'a', partialReader, { streaming: true });
  const b = await origin(t, 'b');
  const url = await gateway(t, { ...simpleConfig([a.address, b.address]), ...BIG });
  const body = randomBytes(1024 * 1024);
  // PUT is idempotent: only the body's size stands in the way of a retry.
  const r = await fetchText(`${url}/upload`, { method: 'PUT', body });
  assert.equal(r.status, 502);
  assert.match(r.body, /HW_ERR_UPSTREAM_RESET/);
  assert.equal(a.seen.length, 1);
  assert.ok(read >= 128 * 1024 && read < body.length);
  assert.equal(b.seen.length, 0);
  // The gateway is still fine for the next request (the rest of the upload was drained).
  assert.equal((await fetchText(`${url}/`)).body, 'b');
});

test('a 1 MiB body to a dead first server is retried in full: nothing had been pulled', async (t) => {
  const b = await origin(t, 'b');
  const url = await gateway(t, { ...simpleConfig([await deadAddress(), b.address]), ...BIG });
  const body = randomBytes(1024 * 1024);
  const r = await fetchText(`${url}/upload`, { method: 'PUT', body });
  assert.equal(r.status, 200);
  assert.equal(r.body, 'b');
  assert.equal(b.seen.length, 1);
  assert.equal(b.seen[0]!.body.length, body.length);
  assert.ok(b.seen[0]!.body.equals(body));
});
