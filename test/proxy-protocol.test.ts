import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { startGateway, simpleConfig, fetchText } from './helpers/gateway.js';
import { closer, eventually, parseResponses, RawConn, recordAccess } from './helpers/raw.js';
import { startOrigin } from './helpers/origin.js';
import { startTcpOrigin } from './helpers/tcp.js';
import { encodeProxyV2, parseProxyHeader } from '../src/server/proxy-protocol.js';

const GET = 'GET /x HTTP/1.1\r\nhost: a.test\r\n\r\n';

function withListener(cfg: Record<string, unknown>, trusted: string[]): Record<string, unknown> {
  return { ...cfg, listeners: [{ name: 'pp', address: '127.0.0.1:0', proxy_protocol: { trusted } }] };
}

test('PROXY v1 and v2 from a trusted peer: the header\'s client reaches X-Forwarded-For and the log', async (t) => {
  const add = closer(t);
  const recs = recordAccess(t);
  const o = add(await startOrigin('o'));
  const { gw } = await startGateway(withListener(simpleConfig([o.address]), ['127.0.0.1/32', '::1']));
  add(gw);
  const port = gw.addresses()[0]!.port;
  const c1 = add(await RawConn.open(port));
  await c1.write(`PROXY TCP4 192.0.2.7 10.0.0.1 40000 80\r\n${GET}`);
  assert.match(await c1.waitFor((s) => s.endsWith('\r\n0\r\n\r\n')), /^HTTP\/1.1 200/);
  assert.equal(o.seen[0]!.headers['x-forwarded-for'], '192.0.2.7');
  // v2, split across writes: header in pieces, then the request.
  const c2 = add(await RawConn.open(port));
  const v2 = encodeProxyV2({ source: { address: '2001:db8::5', port: 1 }, destination: { address: '::1', port: 80 } });
  await c2.write(v2.subarray(0, 10));
  await new Promise((r) => setTimeout(r, 20));
  await c2.write(Buffer.concat([v2.subarray(10), Buffer.from(GET)]));
  assert.match(await c2.waitFor((s) => s.endsWith('\r\n0\r\n\r\n')), /^HTTP\/1.1 200/);
  assert.equal(o.seen[1]!.headers['x-forwarded-for'], '2001:db8::5');
  assert.ok(await eventually(() => recs.length === 2));
  assert.deepEqual(recs.map((r) => r.client), ['192.0.2.7', '2001:db8::5']);
});

test('PROXY: a trusted peer without a header, a malformed header, and an untrusted peer are refused', async (t) => {
  const add = closer(t);
  const o = add(await startOrigin('o'));
  const { gw } = await startGateway(withListener(simpleConfig([o.address]), ['127.0.0.1']));
  add(gw);
  const port = gw.addresses()[0]!.port;
  for (const bytes of [GET, `PROXY TCP4 192.0.2.7 10.0.0.1 40000\r\n${GET}`]) {
    const c = add(await RawConn.open(port));
    await c.write(bytes);
    assert.equal(await c.untilClosed(), '');
  }
  const { gw: gw2 } = await startGateway(withListener(simpleConfig([o.address]), ['10.0.0.0/8']));
  add(gw2);
  const c = add(await RawConn.open(gw2.addresses()[0]!.port));
  await c.write(`PROXY TCP4 192.0.2.7 10.0.0.1 40000 80\r\n${GET}`);
  assert.equal(await c.untilClosed(), '');
  assert.equal(o.seen.length, 0);
  // A plain client of a listener without proxy_protocol is unaffected.
  const { gw: plain } = await startGateway(simpleConfig([o.address]));
  add(plain);
  assert.equal((await fetchText(plain.addresses()[0]!.url + '/')).status, 200);
});

test('PROXY: hashing on the client address uses the proxied address', async (t) => {
  const add = closer(t);
  const a = add(await startOrigin('a'));
  const b = add(await startOrigin('b'));
  const { gw } = await startGateway(withListener(simpleConfig([a.address, b.address], { balance: 'hash', hash: { key: 'client_ip' } }), ['127.0.0.1']));
  add(gw);
  const port = gw.addresses()[0]!.port;
  const byClient = new Map<string, Set<string>>();
  for (let i = 0; i < 16; i++) {
    const ip = `198.51.100.${i % 8}`;
    const c = add(await RawConn.open(port));
    await c.write(`PROXY TCP4 ${ip} 10.0.0.1 ${1000 + i} 80\r\n${GET}`);
    const text = await c.waitFor((s) => s.endsWith('\r\n0\r\n\r\n'));
    c.destroy();
    const set = byClient.get(ip) ?? new Set();
    set.add(String(parseResponses(text)[0]!.headers['x-origin']));
    byClient.set(ip, set);
  }
  for (const s of byClient.values()) assert.equal(s.size, 1, 'one client, one server');
  const used = new Set([...byClient.values()].flatMap((s) => [...s]));
  assert.equal(used.size, 2, 'different proxied clients spread over both servers');
});

/** A raw HTTP upstream that reads a PROXY header per connection and answers each GET with the source it named. */
async function proxyAwareOrigin(t: import('node:test').TestContext): Promise<{ address: string; headers: string[] }> {
  const headers: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    let buf = Buffer.alloc(0);
    let source: string | undefined;
    s.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      if (source === undefined) {
        const r = parseProxyHeader(buf);
        if (r.kind === 'incomplete') return;
        if (r.kind === 'error') return void s.destroy();
        source = r.header.source?.address ?? 'local';
        headers.push(`v${r.header.version} ${source}`);
        buf = buf.subarray(r.length);
      }
      let end: number;
      while ((end = buf.indexOf('\r\n\r\n')) !== -1) {
        buf = buf.subarray(end + 4);
        s.write(`HTTP/1.1 200 OK\r\ncontent-length: ${source.length}\r\n\r\n${source}`);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return { address: `127.0.0.1:${(server.address() as AddressInfo).port}`, headers };
}

test('send_proxy_protocol: each upstream connection starts with a header; keep-alive never mixes clients', async (t) => {
  const add = closer(t);
  const up = await proxyAwareOrigin(t);
  const { gw } = await startGateway(withListener(simpleConfig([up.address], { send_proxy_protocol: 'v1' }), ['127.0.0.1']));
  add(gw);
  const port = gw.addresses()[0]!.port;
  const ask = async (ip: string) => {
    const c = add(await RawConn.open(port));
    await c.write(`PROXY TCP4 ${ip} 10.0.0.1 5555 80\r\n${GET}`);
    const text = await c.waitFor((s) => s.endsWith(ip));
    c.destroy();
    return parseResponses(text)[0]!.body.toString();
  };
  assert.equal(await ask('192.0.2.1'), '192.0.2.1');
  assert.equal(await ask('192.0.2.2'), '192.0.2.2', 'a second client never rides the first one\'s connection');
  assert.equal(await ask('192.0.2.1'), '192.0.2.1');
  assert.deepEqual(up.headers, ['v1 192.0.2.1', 'v1 192.0.2.2'], 'the first client\'s idle connection was reused for it');
});

test('tcp listener: PROXY in, PROXY v2 out to the server', async (t) => {
  const add = closer(t);
  const o = add(await startTcpOrigin('o'));
  const { gw } = await startGateway({
    listeners: [{ name: 'db', address: '127.0.0.1:0', protocol: 'tcp', upstream: 'pg', proxy_protocol: { trusted: ['127.0.0.1'] } }],
    upstreams: { pg: { send_proxy_protocol: 'v2', servers: [{ address: o.address }] } },
  });
  add(gw);
  const c = add(await RawConn.open(gw.addresses()[0]!.port));
  await c.write('PROXY TCP4 203.0.113.9 10.0.0.1 4242 5432\r\nping');
  await c.waitFor((s) => s.endsWith('ping'));
  const first = Buffer.concat(o.firstBytes);
  const r = parseProxyHeader(first);
  assert.ok(r.kind === 'ok', 'the server got a v2 header first');
  if (r.kind !== 'ok') return;
  assert.equal(r.header.version, 2);
  assert.deepEqual(r.header.source, { address: '203.0.113.9', port: 4242 });
  assert.deepEqual(r.header.destination, { address: '10.0.0.1', port: 5432 });
});

test('send_proxy_protocol on a WebSocket tunnel: the server learns the proxied client', async (t) => {
  const add = closer(t);
  const { WebSocketServer } = await import('ws');
  const http = await import('node:http');
  const { ProxyGate, gateServer } = await import('../src/server/proxy-gate.js');
  // A WebSocket server that itself accepts the PROXY protocol from the gateway.
  const server = http.createServer();
  const gate = new ProxyGate('origin', ['127.0.0.1']);
  gateServer(server, () => gate);
  const wss = new WebSocketServer({ server });
  const peers: string[] = [];
  wss.on('connection', (ws, req) => {
    peers.push(String(req.socket.remoteAddress));
    ws.on('message', (d) => ws.send(`echo:${String(d)}`));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.after(() => {
    for (const c of wss.clients) c.terminate();
    server.close();
  });
  const origin = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { gw } = await startGateway(withListener(simpleConfig([origin], { send_proxy_protocol: 'v2' }), ['127.0.0.1']));
  add(gw);
  const c = add(await RawConn.open(gw.addresses()[0]!.port));
  await c.write(
    'PROXY TCP4 192.0.2.44 10.0.0.1 3333 80\r\nGET /ws HTTP/1.1\r\nhost: x\r\nconnection: Upgrade\r\nupgrade: websocket\r\n' +
      'sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n',
  );
  const text = await c.waitFor((s) => s.includes('\r\n\r\n'));
  assert.match(text, /^HTTP\/1.1 101 /);
  assert.match(text, /sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=/i);
  assert.deepEqual(peers, ['192.0.2.44']);
});

test('PROXY: shutdown does not wait for a trusted peer that never sends its header', async (t) => {
  const add = closer(t);
  const o = add(await startOrigin('o'));
  const { gw } = await startGateway(withListener(simpleConfig([o.address]), ['127.0.0.1']));
  const c = add(await RawConn.open(gw.addresses()[0]!.port));
  await c.write('PROXY TCP4 192.0.2.7');
  const started = Date.now();
  await gw.close(5000);
  assert.ok(Date.now() - started < 1000, `closed in ${Date.now() - started}ms`);
  await c.ended;
});

test('PROXY: a reload turns proxy_protocol on for new connections of a kept listener', async (t) => {
  const add = closer(t);
  const o = add(await startOrigin('o'));
  const cfg = simpleConfig([o.address]);
  const { gw, url } = await startGateway(cfg);
  add(gw);
  assert.equal((await fetchText(url + '/')).status, 200);
  await gw.reload({ ...withListener(cfg, ['127.0.0.1']), listeners: [{ name: 'test', address: '127.0.0.1:0', proxy_protocol: { trusted: ['127.0.0.1'] } }], engine: gw.config.engine });
  const port = gw.addresses()[0]!.port;
  const plain = add(await RawConn.open(port));
  await plain.write(GET);
  assert.equal(await plain.untilClosed(), '', 'a connection without a header is now refused');
  const c = add(await RawConn.open(port));
  await c.write(`PROXY TCP4 192.0.2.9 10.0.0.1 1 80\r\n${GET}`);
  assert.match(await c.waitFor((s) => s.endsWith('\r\n0\r\n\r\n')), /^HTTP\/1.1 200/);
  assert.equal(o.seen.at(-1)!.headers['x-forwarded-for'], '192.0.2.9');
});
