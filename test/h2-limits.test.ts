import { test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { originFor } from './helpers/origin.js';
import { gatewayFor, simpleConfig } from './helpers/gateway.js';
import { channels } from '../src/observability/events.js';
import { record } from './helpers/raw.js';

/** An h2c gateway in front of an origin that answers after `delayMs`. */
async function setup(t: import('node:test').TestContext, limits: Record<string, unknown>, delayMs = 0): Promise<{ url: string; open: () => number; max: () => number }> {
  let open = 0;
  let max = 0;
  const o = await originFor(
    t,
    'o',
    (_req, res) => {
      max = Math.max(max, ++open);
      setTimeout(() => {
        open--;
        res.end('ok');
      }, delayMs);
    },
  );
  const url = await gatewayFor(t, { ...simpleConfig([o.address]), listeners: [{ address: '127.0.0.1:0', h2c: true, http2_limits: limits }] });
  return { url, open: () => open, max: () => max };
}

function stream(s: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders = { ':path': '/' }): Promise<{ status: number; rst: number }> {
  return new Promise((resolve) => {
    const st = s.request(headers);
    let status = 0;
    st.on('response', (h) => (status = Number(h[':status'])));
    st.on('error', () => {});
    st.resume();
    st.on('close', () => resolve({ status, rst: st.rstCode ?? 0 }));
  });
}

test('max_concurrent_streams: streams beyond it are refused (REFUSED_STREAM); the upstream never sees more', async (t) => {
  const g = await setup(t, { max_concurrent_streams: 2 }, 100);
  const s = http2.connect(g.url);
  t.after(() => s.destroy());
  // Sent at once, before the client has read the server's SETTINGS: the server itself must refuse.
  const results = await Promise.all([1, 2, 3, 4, 5].map(() => stream(s)));
  assert.equal(results.filter((r) => r.status === 200).length, 2, JSON.stringify(results));
  assert.equal(results.filter((r) => r.rst === http2.constants.NGHTTP2_REFUSED_STREAM).length, 3);
  assert.equal(s.remoteSettings.maxConcurrentStreams, 2);
  assert.ok(g.max() <= 2);
});

test('max_header_list_size: a request with a larger header list fails; a normal one on the same connection works', async (t) => {
  const g = await setup(t, { max_header_list_size: '4KiB' });
  const s = http2.connect(g.url);
  t.after(() => s.destroy());
  // The limit holds once the client has acknowledged the server's SETTINGS (a ping round trip later).
  await new Promise<void>((r) => s.once('remoteSettings', () => r()));
  await new Promise<void>((r) => s.ping(() => r()));
  const big = await stream(s, { ':path': '/', 'x-big': 'a'.repeat(8000) });
  assert.equal(big.status, 0);
  assert.notEqual(big.rst, 0);
  const ok = await stream(s);
  assert.equal(ok.status, 200);
});

test('rapid reset: a client that cancels streams faster than max_resets_per_second gets GOAWAY ENHANCE_YOUR_CALM', async (t) => {
  const g = await setup(t, { max_resets_per_second: 20 }, 50);
  const events = record<{ msg: string }>(t, channels.lifecycle);
  const s = http2.connect(g.url);
  t.after(() => s.destroy());
  s.on('error', () => {});
  const goaway = new Promise<number>((resolve) => s.on('goaway', (code) => resolve(code)));
  await new Promise<void>((r) => s.once('remoteSettings', () => r()));
  for (let i = 0; i < 60 && !s.destroyed && !s.closed; i++) {
    const st = s.request({ ':path': '/' });
    st.on('error', () => {});
    // Let the HEADERS frame go out, then cancel.
    await new Promise((r) => setImmediate(r));
    st.close(http2.constants.NGHTTP2_CANCEL);
  }
  assert.equal(await goaway, http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
  assert.ok(events.some((e) => e.msg.startsWith('HTTP/2 client reset too many streams')));
});

test('an HTTP/2 client that cancels its stream aborts the upstream request (499)', async (t) => {
  let upstreamClosed: () => void;
  const closed = new Promise<void>((r) => (upstreamClosed = r));
  const o = await originFor(
    t,
    'o',
    (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const timer = setInterval(() => res.write('tick\n'), 20);
      res.on('close', () => {
        clearInterval(timer);
        upstreamClosed();
      });
    },
    { streaming: true },
  );
  const records = record<{ status: number; code?: string }>(t, channels.request);
  const url = await gatewayFor(t, { ...simpleConfig([o.address]), listeners: [{ address: '127.0.0.1:0', h2c: true }] });
  const s = http2.connect(url);
  t.after(() => s.destroy());
  const st = s.request({ ':path': '/' });
  st.on('error', () => {});
  await new Promise<void>((r) => st.once('data', () => r()));
  st.close(http2.constants.NGHTTP2_CANCEL);
  await closed;
  await new Promise<void>((r) => setTimeout(r, 20));
  assert.equal(records.at(-1)?.code, 'HW_ERR_CLIENT_ABORT');
});
