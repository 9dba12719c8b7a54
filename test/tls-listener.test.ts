import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { makePki, type TestPki } from './helpers/certs.js';
import { originFor } from './helpers/origin.js';
import { gatewayFor, simpleConfig, portOf, startGateway, fetchText } from './helpers/gateway.js';
import { h2Request, h2Session, servedCertCN } from './helpers/h2.js';
import { ConfigError, createGateway } from '../src/gateway.js';
import { channels } from '../src/observability/events.js';
import { record, recordAccess, eventually } from './helpers/raw.js';

let pki: TestPki;
let a: { cert: string; key: string };
let b: { cert: string; key: string };
before(() => {
  pki = makePki();
  a = pki.leaf('a', ['DNS:localhost', 'DNS:a.example', 'IP:127.0.0.1']);
  b = pki.leaf('b', ['DNS:*.b.example']);
});
after(() => pki.remove());

const tlsListener = (extra: Record<string, unknown> = {}) => ({
  listeners: [{ name: 'secure', address: '127.0.0.1:0', tls: { certificates: [a, b] }, ...extra }],
});

test('TLS listener: certificate chosen by SNI, the first one by default; requests proxied as https', async (t) => {
  const o = await originFor(t, 'o');
  const url = await gatewayFor(t, { ...simpleConfig([o.address]), ...tlsListener() });
  assert.match(url, /^https:/);
  const port = portOf(url);
  assert.equal(await servedCertCN(port, pki.ca, 'x.b.example'), 'b');
  assert.equal(await servedCertCN(port, pki.ca, 'a.example'), 'a');
  assert.equal(await servedCertCN(port, pki.ca, 'other.example'), 'a', 'no match: the default');
  assert.equal(await servedCertCN(port, pki.ca, undefined), 'a', 'no SNI: the default');
  assert.equal(await servedCertCN(port, pki.ca, 'y.x.b.example'), 'a', 'a wildcard covers one label only');
  const agent = new Agent({ connect: { ca: pki.ca } });
  t.after(() => agent.close());
  const r = await request(`https://localhost:${port}/hi`, { dispatcher: agent });
  assert.equal(r.statusCode, 200);
  assert.equal(await r.body.text(), 'o');
  assert.equal(o.seen[0]!.headers['x-forwarded-proto'], 'https');
  // A large body both ways over the same kept-alive TLS connection.
  const big = Buffer.alloc(1 << 20, 'q');
  const p = await request(`https://localhost:${port}/up`, { dispatcher: agent, method: 'POST', body: big });
  assert.equal(p.statusCode, 200);
  await p.body.text();
  assert.equal(o.seen[1]!.body.length, big.length);
});

test('http2: true: h2 clients by ALPN, HTTP/1.1 clients too; HTTP/1.1 upstreams see no pseudo-headers', async (t) => {
  const o = await originFor(t, 'o', (req, res, body) => {
    if (req.url === '/big') return void res.end(Buffer.alloc(3 << 20, 'd'));
    res.writeHead(200, { 'content-type': 'text/plain', connection: 'keep-alive', 'keep-alive': 'timeout=5', 'set-cookie': ['a=1', 'b=2'] });
    res.end(`${req.method} ${req.url} ${body.length}`);
  });
  const url = await gatewayFor(t, { ...simpleConfig([o.address]), ...tlsListener({ http2: true }) });
  const port = portOf(url);
  const s = await h2Session(t, `https://localhost:${port}`, { ca: pki.ca });
  assert.equal(s.alpnProtocol, 'h2');
  const r = await h2Request(s, { ':path': '/x?y=1', 'x-test': 'v', cookie: ['a=1', 'b=2'] });
  assert.equal(r.status, 200);
  assert.equal(r.body, 'GET /x?y=1 0');
  assert.equal(r.headers['connection'], undefined);
  assert.equal(r.headers['keep-alive'], undefined);
  assert.deepEqual(r.headers['set-cookie'], ['a=1', 'b=2']);
  const seen = o.seen[0]!;
  assert.equal(seen.headers.host, `localhost:${port}`);
  assert.equal(seen.headers['x-test'], 'v');
  assert.deepEqual(seen.rawHeaders.filter((_, i) => i % 2 === 0 && seen.rawHeaders[i]!.toLowerCase() === 'cookie').length, 1);
  assert.equal(seen.headers.cookie, 'a=1; b=2', 'split cookies joined for HTTP/1.1');
  assert.ok(seen.rawHeaders.every((h) => !h.startsWith(':')), seen.rawHeaders.join());
  // A streamed body without Content-Length arrives whole (chunked on HTTP/1.1).
  const big = 'z'.repeat(200_000);
  const p = await h2Request(s, { ':path': '/up', ':method': 'POST' }, big);
  assert.equal(p.body, `POST /up ${big.length}`);
  assert.equal(o.seen[1]!.body.length, big.length);
  // A large response through HTTP/2 flow control.
  assert.equal((await h2Request(s, { ':path': '/big' })).body.length, 3 << 20);
  // An HTTP/1.1 client on the same listener.
  const h1 = new Agent({ connect: { ca: pki.ca } });
  t.after(() => h1.close());
  const r1 = await request(`https://localhost:${port}/one`, { dispatcher: h1 });
  assert.equal(await r1.body.text(), 'GET /one 0');
  // undici with allowH2.
  const u2 = new Agent({ allowH2: true, connect: { ca: pki.ca } });
  t.after(() => u2.close());
  const r2 = await request(`https://localhost:${port}/two`, { dispatcher: u2 });
  assert.equal(await r2.body.text(), 'GET /two 0');
});

test('h2c: cleartext HTTP/2 with prior knowledge; the access record says HTTP/2.0', async (t) => {
  const o = await originFor(t, 'o');
  const access = recordAccess(t);
  const url = await gatewayFor(t, { ...simpleConfig([o.address]), listeners: [{ address: '127.0.0.1:0', h2c: true }] });
  const s = await h2Session(t, url);
  const r = await h2Request(s, { ':path': '/h2c-proto' });
  assert.equal(r.status, 200);
  assert.equal(r.body, 'o');
  assert.equal(o.seen[0]!.headers['x-forwarded-proto'], 'http');
  assert.ok(await eventually(() => access.some((a) => a.path === '/h2c-proto')));
  assert.equal(access.find((a) => a.path === '/h2c-proto')!.protocol, 'HTTP/2.0');
});

test('h2: concurrent responses of different sizes arrive intact (the stream never keeps a view of a reused read buffer)', async (t) => {
  const bodies: Record<string, Buffer> = {
    '/a': Buffer.from(Array.from({ length: 70_000 }, (_, i) => 65 + (i % 23))),
    '/b': Buffer.from(Array.from({ length: 5_000 }, (_, i) => 97 + (i % 7))),
  };
  const o = await originFor(t, 'o', (req, res) => void res.end(bodies[req.url!] ?? 'none'));
  const url = await gatewayFor(t, { ...simpleConfig([o.address]), listeners: [{ address: '127.0.0.1:0', h2c: true }] });
  const s = await h2Session(t, url);
  const paths = Array.from({ length: 600 }, (_, i) => (i % 3 === 0 ? '/b' : '/a'));
  let bad = 0;
  let next = 0;
  await Promise.all(Array.from({ length: 50 }, async () => {
    while (next < paths.length) {
      const path = paths[next++]!;
      const r = await h2Request(s, { ':path': path });
      if (r.body !== bodies[path]!.toString()) bad++;
    }
  }));
  assert.equal(bad, 0, `${bad} of ${paths.length} bodies differ`);
});

test('h2 clients get upstream trailers only when they sent TE: trailers; the others get the body and the end', async (t) => {
  const o = await originFor(t, 'o', (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', trailer: 'x-checksum' });
    res.write('part one, ');
    res.addTrailers({ 'x-checksum': 'abc' });
    res.end('part two');
  });
  const url = await gatewayFor(t, { ...simpleConfig([o.address]), listeners: [{ address: '127.0.0.1:0', h2c: true }] });
  const s = await h2Session(t, url);
  const withTe = await h2Request(s, { ':path': '/', te: 'trailers' });
  assert.equal(withTe.body, 'part one, part two');
  assert.equal(withTe.trailers?.['x-checksum'], 'abc');
  const plain = await h2Request(s, { ':path': '/' });
  assert.equal(plain.status, 200);
  assert.equal(plain.body, 'part one, part two');
  assert.equal(plain.trailers?.['x-checksum'], undefined);
});

test('h2: Expect: 100-continue gets 100 then the answer; other expectations get 417, CONNECT 405; a reset stream leaves the session usable', async (t) => {
  const o = await originFor(t, 'o', (req, res, body) => res.end(`${req.method} ${body.length}`));
  const url = await gatewayFor(t, { ...simpleConfig([o.address]), listeners: [{ address: '127.0.0.1:0', h2c: true }] });
  const s = await h2Session(t, url);
  const cont = await new Promise<{ interim: number[]; status: number; body: string }>((resolve, reject) => {
    const st = s.request({ ':path': '/c', ':method': 'POST', expect: '100-continue', 'content-length': '5' }, { endStream: false });
    const interim: number[] = [];
    let status = 0;
    const chunks: Buffer[] = [];
    st.on('continue', () => {
      interim.push(100);
      st.end('hello');
    });
    st.on('response', (h) => (status = Number(h[':status'])));
    st.on('data', (c: Buffer) => chunks.push(c));
    st.on('end', () => resolve({ interim, status, body: Buffer.concat(chunks).toString() }));
    st.on('error', reject);
  });
  assert.deepEqual(cont, { interim: [100], status: 200, body: 'POST 5' });
  assert.equal((await h2Request(s, { ':path': '/e', expect: 'something-else' })).status, 417);
  assert.equal((await h2Request(s, { ':method': 'CONNECT', ':authority': 'example.com:443' })).status, 405);
  const reset = s.request({ ':path': '/r', ':method': 'POST' }, { endStream: false });
  reset.on('error', () => {});
  reset.write('partial');
  reset.close(0x8 /* CANCEL */);
  const after = await h2Request(s, { ':path': '/after' });
  assert.equal(after.status, 200);
  assert.equal(after.body, 'GET 0');
});

test('a certificate file that changes on disk is served without a restart; a bad one keeps the old', async (t) => {
  const dir = pki.dir;
  const live = { cert: join(dir, 'live.pem'), key: join(dir, 'live.key') };
  copyFileSync(a.cert, live.cert);
  copyFileSync(a.key, live.key);
  const o = await originFor(t, 'o');
  const url = await gatewayFor(t, { ...simpleConfig([o.address]), listeners: [{ address: '127.0.0.1:0', tls: { certificates: [live] } }] }, { certPollMs: 20 });
  const port = portOf(url);
  assert.equal(await servedCertCN(port, pki.ca, 'a.example'), 'a');
  const events = record<{ msg: string }>(t, channels.lifecycle);
  writeFileSync(live.key, 'not a key');
  await waitFor(() => events.some((e) => e.msg.startsWith('certificate reload failed')));
  assert.equal(await servedCertCN(port, pki.ca, 'a.example'), 'a', 'the old certificate stays');
  const c = pki.leaf('c', ['DNS:a.example']);
  copyFileSync(c.cert, live.cert);
  copyFileSync(c.key, live.key);
  await waitFor(async () => (await servedCertCN(port, pki.ca, 'a.example')) === 'c');
});

test('bad certificate files are config errors naming the key path; a reload with them is refused', async (t) => {
  const o = await originFor(t, 'o');
  const wrongKey = { cert: a.cert, key: b.key };
  const notPem = join(pki.dir, 'junk.pem');
  writeFileSync(notPem, 'hello');
  const bad = { ...simpleConfig([o.address]), access_log: { enabled: false }, listeners: [{ address: '127.0.0.1:0', tls: { certificates: [a, wrongKey, { cert: notPem, key: a.key }, { cert: join(pki.dir, 'missing.pem'), key: a.key }] } }] };
  await assert.rejects(createGateway(bad), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    const by = new Map(err.issues.map((i) => [i.path, i.message]));
    assert.match(by.get('listeners[0].tls.certificates[1].key') ?? '', /is not the private key of/);
    assert.match(by.get('listeners[0].tls.certificates[2].cert') ?? '', /not a PEM file/);
    assert.match(by.get('listeners[0].tls.certificates[3].cert') ?? '', /does not exist/);
    return true;
  });
  const good = { ...simpleConfig([o.address]), listeners: [{ address: '127.0.0.1:0', tls: { certificates: [a] } }] };
  const gw = await createGateway({ ...good, access_log: { enabled: false } });
  t.after(() => gw.close(0));
  await assert.rejects(gw.reload({ ...bad, listeners: [{ address: '127.0.0.1:0', tls: { certificates: [wrongKey] } }] }), ConfigError);
  await assert.rejects(createGateway({ ...good, listeners: [{ address: '127.0.0.1:0', http2: true }] }), /http2 only on a listener with tls/);
});

test('reload: new certificates on the same socket; certificates added at run time (ACME); plain to TLS', async (t) => {
  const o = await originFor(t, 'o');
  const { gw, url } = await startGateway({ ...simpleConfig([o.address]), ...tlsListener() });
  t.after(() => gw.close(0));
  const port = portOf(url);
  const c = pki.leaf('c2', ['DNS:a.example']);
  await gw.reload({ ...simpleConfig([o.address]), access_log: { enabled: false }, listeners: [{ name: 'secure', address: '127.0.0.1:0', tls: { certificates: [c, b] } }] });
  assert.equal(gw.addresses()[0]!.port, port, 'same listener');
  assert.equal(await servedCertCN(port, pki.ca, 'a.example'), 'c2');
  const acme = pki.leaf('acme', ['DNS:new.example']);
  gw.certificates('secure')!.set(['new.example'], readFileSync(acme.cert, 'utf8'), readFileSync(acme.key, 'utf8'));
  assert.equal(await servedCertCN(port, pki.ca, 'new.example'), 'acme');
  await gw.reload({ ...simpleConfig([o.address]), access_log: { enabled: false }, listeners: [{ name: 'secure', address: '127.0.0.1:0' }] });
  const plain = gw.addresses()[0]!.url;
  assert.match(plain, /^http:/);
  assert.equal((await fetchText(plain)).body, 'o');
  assert.equal(gw.certificates('secure'), undefined);
});

async function waitFor(cond: () => boolean | Promise<boolean>, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
