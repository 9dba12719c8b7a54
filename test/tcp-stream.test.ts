import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startGateway } from './helpers/gateway.js';
import { closer, eventually, record } from './helpers/raw.js';
import { startTcpOrigin, talk } from './helpers/tcp.js';
import { freePort } from './helpers/ports.js';
import { deadAddress } from './helpers/origin.js';
import { channels, type StreamRecord } from '../src/observability/events.js';
import { validateConfig } from '../src/config/load.js';
import type { TestContext } from 'node:test';

function recordStreams(t: TestContext): StreamRecord[] {
  return record<StreamRecord>(t, channels.stream);
}

function tcpConfig(servers: string[], upstream: Record<string, unknown> = {}, listener: Record<string, unknown> = {}) {
  return {
    listeners: [{ name: 'db', address: '127.0.0.1:0', protocol: 'tcp', upstream: 'pg', ...listener }],
    upstreams: { pg: { ...upstream, servers: servers.map((address) => ({ address })) } },
  };
}

test('tcp listener: bytes pass both ways, half-close, round robin, byte counts in the log', async (t) => {
  const add = closer(t);
  const recs = recordStreams(t);
  const a = add(await startTcpOrigin('a'));
  const b = add(await startTcpOrigin('b'));
  const { gw } = await startGateway(tcpConfig([a.address, b.address]));
  add(gw);
  const port = gw.addresses()[0]!.port;
  assert.match(gw.addresses()[0]!.url, /^tcp:\/\//);
  const replies = [await talk(port, 'hello', { end: true }), await talk(port, 'hello', { end: true })];
  assert.deepEqual(replies.sort(), ['a:helloa:bye', 'b:hellob:bye']);
  assert.ok(await eventually(() => recs.length === 2));
  const r = recs[0]!;
  assert.equal(r.listener, 'db');
  assert.equal(r.client, '127.0.0.1');
  assert.equal(r.bytes_in, 5);
  assert.equal(r.bytes_out, 12);
  assert.equal(r.outcome, 'closed');
  assert.equal(r.tries.length, 1);
});

test('tcp listener: a refused connect fails over to the next server and counts against the first', async (t) => {
  const add = closer(t);
  const recs = recordStreams(t);
  const dead = await deadAddress();
  const b = add(await startTcpOrigin('b'));
  const { gw } = await startGateway(tcpConfig([dead, b.address], {}, {}));
  add(gw);
  const port = gw.addresses()[0]!.port;
  assert.equal(await talk(port, 'x', { end: true }), 'b:xb:bye');
  assert.ok(await eventually(() => recs.length === 1));
  assert.deepEqual(recs[0]!.tries.map((x) => x.outcome), ['error', 'ok']);
  // max_fails 1: the dead server is now skipped without a connect attempt.
  assert.equal(await talk(port, 'y', { end: true }), 'b:yb:bye');
  assert.ok(await eventually(() => recs.length === 2));
  assert.deepEqual(recs[1]!.tries.map((x) => x.outcome), ['ok']);
});

test('tcp listener: no server reachable closes the client and logs the code', async (t) => {
  const add = closer(t);
  const recs = recordStreams(t);
  const dead = await deadAddress();
  const { gw } = await startGateway(tcpConfig([dead]));
  add(gw);
  assert.equal(await talk(gw.addresses()[0]!.port, 'x'), '');
  assert.ok(await eventually(() => recs.length === 1));
  assert.equal(recs[0]!.outcome, 'HW_ERR_UPSTREAM_CONNECT');
  assert.equal(recs[0]!.server, undefined);
});

test('tcp listener: idle_timeout closes both sides', async (t) => {
  const add = closer(t);
  const recs = recordStreams(t);
  let upstreamClosed = false;
  const a = add(await startTcpOrigin('a', (s) => s.on('end', () => (upstreamClosed = true))));
  const { gw } = await startGateway(tcpConfig([a.address], {}, { idle_timeout: '200ms' }));
  add(gw);
  const started = Date.now();
  assert.equal(await talk(gw.addresses()[0]!.port, 'quiet', { ms: 3000 }), '');
  const took = Date.now() - started;
  assert.ok(took >= 150 && took < 2000, `closed after ${took}ms`);
  assert.ok(await eventually(() => upstreamClosed && recs.length === 1), `closed ${upstreamClosed} recs ${JSON.stringify(recs)}`);
  assert.equal(recs[0]!.outcome, 'idle_timeout');
});

test('tcp listener: ip_hash keeps a client on one server; least_conn counts open streams', async (t) => {
  const add = closer(t);
  const a = add(await startTcpOrigin('a'));
  const b = add(await startTcpOrigin('b'));
  const { gw } = await startGateway(tcpConfig([a.address, b.address], { balance: 'ip_hash' }));
  add(gw);
  const port = gw.addresses()[0]!.port;
  const seen = new Set<string>();
  for (let i = 0; i < 4; i++) seen.add((await talk(port, 'k', { end: true })).slice(0, 1));
  assert.equal(seen.size, 1);

  await gw.reload(tcpConfig([a.address, b.address], { balance: 'least_conn' }));
  // Hold one stream open: the next connection must go to the other server.
  const held = net.connect(port, '127.0.0.1');
  t.after(() => held.destroy());
  const first = await new Promise<string>((r) => {
    held.once('data', (c: Buffer) => r(c.toString().slice(0, 1)));
    held.write('hold');
  });
  for (let i = 0; i < 3; i++) assert.notEqual((await talk(port, 'n', { end: true })).slice(0, 1), first);
});

test('tcp listener: established streams survive a reload; reload adds and removes tcp listeners', async (t) => {
  const add = closer(t);
  const a = add(await startTcpOrigin('a'));
  const port = await freePort();
  const { gw } = await startGateway(tcpConfig([a.address], {}, { address: `127.0.0.1:${port}` }));
  add(gw);
  const s = net.connect(port, '127.0.0.1');
  t.after(() => s.destroy());
  const got: string[] = [];
  s.on('data', (c: Buffer) => got.push(c.toString()));
  s.write('1');
  assert.ok(await eventually(() => got.join('') === 'a:1'));
  const port2 = await freePort();
  await gw.reload({
    listeners: [
      { name: 'db', address: `127.0.0.1:${port}`, protocol: 'tcp', upstream: 'pg' },
      { name: 'db2', address: `127.0.0.1:${port2}`, protocol: 'tcp', upstream: 'pg' },
    ],
    upstreams: { pg: { servers: [{ address: a.address }] } },
  });
  s.write('2');
  assert.ok(await eventually(() => got.join('') === 'a:1a:2'));
  assert.equal(await talk(port2, 'z', { end: true }), 'a:za:bye');
  await gw.reload({ listeners: [{ name: 'db2', address: `127.0.0.1:${port2}`, protocol: 'tcp', upstream: 'pg' }], upstreams: { pg: { servers: [{ address: a.address }] } } });
  s.write('3');
  assert.ok(await eventually(() => got.join('') === 'a:1a:2a:3'), 'the stream outlives its removed listener until shutdown');
});

test('config: tcp listeners need an upstream that exists; http listeners take none; routes may be empty', () => {
  const bad = (c: unknown) => {
    const r = validateConfig(c);
    return r.ok ? [] : r.issues.map((i) => `${i.path}: ${i.message}`);
  };
  assert.deepEqual(bad(tcpConfig(['127.0.0.1:1'])), []);
  assert.match(bad({ listeners: [{ address: '127.0.0.1:0', protocol: 'tcp' }], upstreams: {} }).join(), /listeners\[0\]\.upstream: missing required key/);
  assert.match(bad({ listeners: [{ address: '127.0.0.1:0', protocol: 'tcp', upstream: 'pq' }], upstreams: { pg: { servers: [{ address: '127.0.0.1:1' }] } } }).join(), /did you mean "pg"/);
  assert.match(bad({ listeners: [{ address: '127.0.0.1:0', upstream: 'pg', idle_timeout: '1s' }], upstreams: { pg: { servers: [{ address: '127.0.0.1:1' }] } } }).join(), /upstream: expected no "upstream" unless protocol is tcp.*idle_timeout/);
  assert.match(bad({ listeners: [{ address: '127.0.0.1:0', protocol: 'udp' }] }).join(), /protocol/);
  assert.match(bad({ listeners: [{ address: '127.0.0.1:0', proxy_protocol: { trusted: ['10.0.0.0/33'] } }] }).join(), /prefix length must be 0-32/);
  assert.match(bad({ listeners: [{ address: '127.0.0.1:0' }], upstreams: { u: { send_proxy_protocol: 'v3', servers: [{ address: '127.0.0.1:1' }] } } }).join(), /send_proxy_protocol/);
});

test('tcp listener: max_conns caps open streams per server', async (t) => {
  const add = closer(t);
  const all = recordStreams(t);
  // Only this test's listener: a stream of an earlier test may still be logged while this one runs.
  const mine = () => all.filter((r) => r.listener === 'capped');
  const a = add(await startTcpOrigin('a'));
  const { gw } = await startGateway({
    listeners: [{ name: 'capped', address: '127.0.0.1:0', protocol: 'tcp', upstream: 'pg' }],
    upstreams: { pg: { servers: [{ address: a.address, max_conns: 1 }] } },
  });
  add(gw);
  const port = gw.addresses()[0]!.port;
  const held = net.connect(port, '127.0.0.1');
  t.after(() => held.destroy());
  await new Promise<void>((r) => {
    held.once('data', () => r());
    held.write('hold');
  });
  assert.equal(await talk(port, 'x'), '', 'the second stream finds no server');
  assert.ok(await eventually(() => mine().some((r) => r.outcome === 'HW_ERR_NO_HEALTHY_UPSTREAM')));
  held.destroy();
  assert.ok(await eventually(() => mine().length === 2), 'the held stream is logged when it ends');
  assert.equal(await talk(port, 'y', { end: true }), 'a:ya:bye', 'its slot is free again');
});
