import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage } from 'node:http';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { startGateway, simpleConfig } from './helpers/gateway.js';
import { closer, eventually, parseResponses, RawConn, recordAccess } from './helpers/raw.js';

interface WsOrigin {
  name: string;
  address: string;
  /** Handshakes seen (request heads). */
  handshakes: IncomingMessage[];
  /** Close codes received from clients. */
  closeCodes: number[];
  close(): Promise<void>;
}

/** A ws echo server: text comes back as `name:text`, binary as is; `close:NNNN` makes it close with that code. */
async function wsOrigin(name: string, opts: { reject?: number } = {}): Promise<WsOrigin> {
  const o: WsOrigin = { name, address: '', handshakes: [], closeCodes: [], close: async () => {} };
  const wss = new WebSocketServer({
    port: 0,
    host: '127.0.0.1',
    verifyClient: opts.reject ? (_i, cb) => cb(false, opts.reject, 'nope') : undefined,
  });
  wss.on('connection', (ws, req) => {
    o.handshakes.push(req);
    ws.on('message', (data: RawData, binary: boolean) => {
      const text = data.toString();
      if (!binary && text.startsWith('close:')) return ws.close(Number(text.slice(6)), 'server says bye');
      ws.send(binary ? data : `${name}:${text}`, { binary });
    });
    ws.on('close', (code) => o.closeCodes.push(code));
  });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  o.address = `127.0.0.1:${(wss.address() as AddressInfo).port}`;
  o.close = () =>
    new Promise<void>((r) => {
      for (const c of wss.clients) c.terminate();
      wss.close(() => r());
    });
  return o;
}

function open(url: string, path = '/ws'): Promise<WebSocket> {
  const ws = new WebSocket(url.replace('http:', 'ws:') + path);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`status ${res.statusCode}`)));
  });
}

function next(ws: WebSocket): Promise<{ data: Buffer; binary: boolean }> {
  return new Promise((resolve) => ws.once('message', (data: RawData, binary: boolean) => resolve({ data: data as Buffer, binary })));
}

function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
}

test('websocket: text, binary and large messages pass both ways; close codes propagate; one 101 log line', async (t) => {
  const add = closer(t);
  const recs = recordAccess(t);
  const o = add(await wsOrigin('a'));
  const { gw, url } = await startGateway(simpleConfig([o.address]));
  add(gw);
  const ws = await open(url);
  let m = next(ws);
  ws.send('hello');
  assert.deepEqual(await m.then((x) => [x.data.toString(), x.binary]), ['a:hello', false]);
  const big = Buffer.alloc(3 * 1024 * 1024 + 7);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
  m = next(ws);
  ws.send(big, { binary: true });
  const got = await m;
  assert.ok(got.binary && got.data.equals(big), 'large binary message intact');
  const hs = o.handshakes[0]!;
  assert.equal(hs.headers['x-forwarded-for'], '127.0.0.1');
  assert.match(String(hs.headers.upgrade), /websocket/i);
  const c = closed(ws);
  ws.close(4001, 'client says bye');
  await c;
  assert.ok(await eventually(() => o.closeCodes[0] === 4001), 'the server saw the client\'s close code');
  assert.ok(await eventually(() => recs.length === 1));
  const r = recs[0]!;
  assert.equal(r.status, 101);
  assert.equal(r.outcome, 'closed');
  assert.ok(r.bytes > big.length && r.bytes_in! > big.length, `bytes ${r.bytes} in ${r.bytes_in}`);

  const ws2 = await open(url);
  const c2 = closed(ws2);
  ws2.send('close:4002');
  assert.deepEqual(await c2, { code: 4002, reason: 'server says bye' });
});

test('websocket: a handshake without Sec-WebSocket-Key is 400 and never reaches the server', async (t) => {
  const add = closer(t);
  const o = add(await wsOrigin('a'));
  const { gw } = await startGateway(simpleConfig([o.address]));
  add(gw);
  const c = add(await RawConn.open(gw.addresses()[0]!.port));
  await c.write('GET /ws HTTP/1.1\r\nhost: x\r\nconnection: Upgrade\r\nupgrade: websocket\r\nsec-websocket-version: 13\r\n\r\n');
  const res = parseResponses(await c.untilClosed());
  assert.equal(res[0]!.status, 400);
  assert.equal(o.handshakes.length, 0);
});

test('websocket: an upstream 101 without Sec-WebSocket-Accept is a 502', async (t) => {
  const add = closer(t);
  const sockets: net.Socket[] = [];
  const fake = net.createServer((s) => {
    sockets.push(s);
    s.on('error', () => {});
    s.once('data', () => s.write('HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n\r\n'));
  });
  await new Promise<void>((r) => fake.listen(0, '127.0.0.1', () => r()));
  t.after(() => {
    for (const s of sockets) s.destroy();
    fake.close();
  });
  const { gw, url } = await startGateway(simpleConfig([`127.0.0.1:${(fake.address() as AddressInfo).port}`]));
  add(gw);
  await assert.rejects(open(url), /status 502/);
});

test('websocket: a non-101 answer is relayed as a normal response', async (t) => {
  const add = closer(t);
  const o = add(await wsOrigin('a', { reject: 401 }));
  const { gw, url } = await startGateway(simpleConfig([o.address]));
  add(gw);
  await assert.rejects(open(url), /status 401/);
});

test('websocket: upgrades are spread by the balancer; a refused server fails over', async (t) => {
  const add = closer(t);
  const a = add(await wsOrigin('a'));
  const b = add(await wsOrigin('b'));
  const dead = net.createServer();
  await new Promise<void>((r) => dead.listen(0, '127.0.0.1', () => r()));
  const deadAddr = `127.0.0.1:${(dead.address() as AddressInfo).port}`;
  await new Promise<void>((r) => dead.close(() => r()));
  const { gw, url } = await startGateway(simpleConfig([a.address, deadAddr, b.address]));
  add(gw);
  const names: string[] = [];
  for (let i = 0; i < 4; i++) {
    const ws = await open(url);
    const m = next(ws);
    ws.send('who');
    names.push((await m).data.toString());
    ws.close();
  }
  assert.deepEqual(names.sort(), ['a:who', 'a:who', 'b:who', 'b:who']);
});

test('websocket: a reload keeps an open tunnel working; tunnel idle timeout closes an idle one', async (t) => {
  const add = closer(t);
  const o = add(await wsOrigin('a'));
  const cfg = simpleConfig([o.address]);
  const { gw, url } = await startGateway(cfg);
  add(gw);
  const base = { listeners: [{ name: 'test', address: '127.0.0.1:0' }], engine: gw.config.engine, access_log: { enabled: false } };
  const ws = await open(url);
  await gw.reload({
    ...base,
    ...cfg,
    routes: [{ name: 'new', match: { path_prefix: '/other' }, upstream: 'web' }, ...(cfg.routes as unknown[])],
  });
  let m = next(ws);
  ws.send('after reload');
  assert.equal((await m).data.toString(), 'a:after reload');
  m = next(ws);
  ws.send('again');
  assert.equal((await m).data.toString(), 'a:again');
  ws.close();

  await gw.reload({ ...base, ...simpleConfig([o.address], { timeouts: { tunnel: '300ms' } }) });
  const idle = await open(url);
  const started = Date.now();
  const c = await closed(idle);
  const took = Date.now() - started;
  assert.ok(took >= 250 && took < 2500, `closed after ${took}ms (code ${c.code})`);
});

test('websocket: shutdown gives open tunnels the grace time, then closes them', async (t) => {
  const add = closer(t);
  const o = add(await wsOrigin('a'));
  const { gw, url } = await startGateway(simpleConfig([o.address]));
  const ws = await open(url);
  const started = Date.now();
  const c = closed(ws);
  const stopping = gw.close(400);
  const m = next(ws);
  ws.send('still there');
  assert.equal((await m).data.toString(), 'a:still there');
  await c;
  await stopping;
  const took = Date.now() - started;
  assert.ok(took >= 350 && took < 2000, `closed after ${took}ms`);
});

test('upgrade: non-101 bodies are relayed with their framing; no route is 404; a POST handshake is 400', async (t) => {
  const add = closer(t);
  const answers = [
    'HTTP/1.1 403 Forbidden\r\ncontent-length: 5\r\nconnection: keep-alive\r\n\r\nnope!',
    'HTTP/1.1 503 Service Unavailable\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n',
  ];
  const sockets: net.Socket[] = [];
  const fake = net.createServer((s) => {
    sockets.push(s);
    s.on('error', () => {});
    s.once('data', () => s.write(answers.shift()!)); // and keeps the connection open
  });
  await new Promise<void>((r) => fake.listen(0, '127.0.0.1', () => r()));
  t.after(() => {
    for (const s of sockets) s.destroy();
    fake.close();
  });
  const cfg = simpleConfig([`127.0.0.1:${(fake.address() as AddressInfo).port}`]);
  (cfg.routes as Array<{ match: unknown }>)[0]!.match = { path_prefix: '/ws' };
  const { gw } = await startGateway(cfg);
  add(gw);
  const port = gw.addresses()[0]!.port;
  const hs = (path: string, method = 'GET') =>
    `${method} ${path} HTTP/1.1\r\nhost: x\r\nconnection: Upgrade\r\nupgrade: websocket\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n`;
  const ask = async (data: string) => {
    const c = add(await RawConn.open(port));
    await c.write(data);
    return parseResponses(await c.untilClosed())[0]!;
  };
  const r1 = await ask(hs('/ws'));
  assert.deepEqual([r1.status, r1.body.toString(), r1.headers.connection], [403, 'nope!', 'close']);
  const r2 = await ask(hs('/ws'));
  assert.deepEqual([r2.status, r2.body.toString()], [503, 'abcde']);
  assert.equal((await ask(hs('/elsewhere'))).status, 404);
  assert.equal((await ask(hs('/ws', 'POST'))).status, 400);
});

test('upgrade: an upstream that never answers the handshake is a 504 after response_header', async (t) => {
  const add = closer(t);
  const recs = recordAccess(t);
  const sockets: net.Socket[] = [];
  const silent = net.createServer((s) => {
    sockets.push(s);
    s.on('error', () => {});
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
  t.after(() => {
    for (const s of sockets) s.destroy();
    silent.close();
  });
  const { gw, url } = await startGateway(simpleConfig([`127.0.0.1:${(silent.address() as AddressInfo).port}`], { timeouts: { response_header: '200ms' } }));
  add(gw);
  await assert.rejects(open(url), /status 504/);
  assert.ok(await eventually(() => recs.length === 1));
  assert.equal(recs[0]!.code, 'HW_ERR_UPSTREAM_TIMEOUT');
  assert.deepEqual(recs[0]!.tries.map((x) => x.outcome), ['timeout']);
});
