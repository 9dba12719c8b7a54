import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { originFor, deadAddress, type Origin, type OriginHandler } from './helpers/origin.js';
import { gatewayFor, simpleConfig, fetchText, type Reply } from './helpers/gateway.js';
import { agentFrom, delayed, fetchVia, holdSlow, later, seeded, tally, until } from './helpers/behaviour.js';

/** Start origins named by the keys (default handler answers its name) and close them after the test. */
async function origins(t: TestContext, spec: Record<string, OriginHandler | undefined>): Promise<Record<string, Origin>> {
  const out: Record<string, Origin> = {};
  for (const [name, h] of Object.entries(spec)) {
    out[name] = await originFor(t, name, h);
  }
  return out;
}

const gateway = gatewayFor;

async function sequence(url: string, n: number, path = '/'): Promise<Reply[]> {
  const out: Reply[] = [];
  for (let i = 0; i < n; i++) out.push(await fetchText(`${url}${path}`));
  return out;
}

const names = (rs: Reply[]) => rs.map((r) => String(r.headers['x-origin'])).join(' ');

test('round_robin weights 5,1,1 give the NGINX sequence a a b a c a a', async (t) => {
  const o = await origins(t, { a: undefined, b: undefined, c: undefined });
  const url = await gateway(t, simpleConfig([{ address: o.a!.address, weight: 5 }, o.b!.address, o.c!.address]));
  const rs = await sequence(url, 14);
  assert.ok(rs.every((r) => r.status === 200));
  assert.equal(names(rs), 'a a b a c a a a a b a c a a');
});

test('round_robin weights 3:1 split traffic 3:1, smoothly', async (t) => {
  const o = await origins(t, { a: undefined, b: undefined });
  const url = await gateway(t, simpleConfig([{ address: o.a!.address, weight: 3 }, { address: o.b!.address, weight: 1 }]));
  const rs = await sequence(url, 40);
  assert.deepEqual(tally(rs), { a: 30, b: 10 });
  assert.equal(o.a!.seen.length, 30);
  assert.equal(o.b!.seen.length, 10);
  // Smooth: every window of four consecutive requests has exactly one b.
  for (let i = 0; i + 4 <= rs.length; i++) {
    assert.equal(rs.slice(i, i + 4).filter((r) => r.headers['x-origin'] === 'b').length, 1, `window at ${i}: ${names(rs)}`);
  }
});

test('least_conn sends new requests away from a server holding a slow request', async (t) => {
  const ha = holdSlow('a');
  const hb = holdSlow('b');
  const o = await origins(t, { a: ha.handler, b: hb.handler });
  const url = await gateway(t, simpleConfig([o.a!.address, o.b!.address], { balance: 'least_conn' }));
  const slow = later(fetchText(`${url}/slow`));
  await until(() => ha.held.length + hb.held.length === 1, 2000, 'the slow request to arrive');
  const busy = ha.held.length === 1 ? 'a' : 'b';
  const idle = busy === 'a' ? 'b' : 'a';
  const rs = await sequence(url, 6);
  // round_robin would have sent three of these to the busy server.
  assert.deepEqual(tally(rs), { [idle]: 6 });
  ha.release();
  hb.release();
  assert.equal((await slow).body, `${busy}-slow`);
  // With nothing in flight the tie is broken in turn again.
  const after = tally(await sequence(url, 4));
  assert.deepEqual(after, { a: 2, b: 2 });
});

test('ip_hash: a client keeps its server, a /24 shares one, and networks spread', async (t) => {
  const o = await origins(t, { a: undefined, b: undefined, c: undefined });
  const url = await gateway(t, simpleConfig([o.a!.address, o.b!.address, o.c!.address], { balance: 'ip_hash' }));
  const addrs = Array.from({ length: 24 }, (_, i) => `127.0.${i + 1}.1`);
  addrs.push('127.0.1.2', '127.0.1.3'); // same /24 as 127.0.1.1
  const agents = addrs.map((a) => agentFrom(a));
  t.after(() => Promise.all(agents.map((a) => a.close())));
  const got = new Map<string, Set<string>>();
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < addrs.length; i++) {
      const r = await fetchVia(agents[i]!, `${url}/r${round}`);
      assert.equal(r.status, 200);
      const set = got.get(addrs[i]!) ?? new Set();
      set.add(String(r.headers['x-origin']));
      got.set(addrs[i]!, set);
    }
  }
  for (const [addr, set] of got) assert.equal(set.size, 1, `${addr} moved between ${[...set].join(',')}`);
  const server = (a: string) => [...got.get(a)!][0];
  assert.equal(server('127.0.1.2'), server('127.0.1.1'));
  assert.equal(server('127.0.1.3'), server('127.0.1.1'));
  const perServer = tally(addrs.slice(0, 24).map((a) => ({ status: 200, headers: { 'x-origin': server(a) }, body: '' })));
  assert.equal(Object.keys(perServer).length, 3, `24 networks should reach all 3 servers: ${JSON.stringify(perServer)}`);
  for (const n of Object.values(perServer)) assert.ok(n >= 3, JSON.stringify(perServer));
  // The clients really came from their own addresses (what the gateway hashed).
  const xff = new Set([o.a!, o.b!, o.c!].flatMap((x) => x.seen.map((s) => s.headers['x-forwarded-for'])));
  assert.equal(xff.size, addrs.length);
});

/** Requests that carry key `k` in the position a hash key spec reads, with everything else varying. */
const KEYED: Array<{ key: string; send: (url: string, k: string, i: number) => Promise<Reply> }> = [
  { key: 'header:x-user-id', send: (url, k, i) => fetchText(`${url}/p${i}`, { headers: { 'x-user-id': k } }) },
  { key: 'cookie:sid', send: (url, k, i) => fetchText(`${url}/p${i}`, { headers: { cookie: `theme=t${i}; sid=${k}; lang=en` } }) },
  { key: 'query:sid', send: (url, k, i) => fetchText(`${url}/p${i}?x=${i}&sid=${k}`) },
  { key: 'uri', send: (url, k, i) => fetchText(`${url}/item/${k}?v=1`, { headers: { 'x-user-id': `u${i}` } }) },
];

for (const { key, send } of KEYED) {
  for (const consistent of [false, true]) {
    test(`hash on ${key} (consistent ${consistent}) is sticky per key and spreads across keys`, async (t) => {
      const o = await origins(t, { a: undefined, b: undefined, c: undefined });
      const url = await gateway(t, simpleConfig([o.a!.address, o.b!.address, o.c!.address], { balance: 'hash', hash: { key, consistent } }));
      // Origins listen on random ports, so the ring differs per run: enough keys that every
      // server gets some whatever the ports (a server missing all 60 is ~(2/3)^60 unlikely).
      const keys = Array.from({ length: 60 }, (_, i) => `user-${i}`);
      const got = new Map<string, Set<string>>();
      let i = 0;
      for (let round = 0; round < 2; round++) {
        for (const k of keys) {
          const r = await send(url, k, i++);
          assert.equal(r.status, 200);
          const set = got.get(k) ?? new Set();
          set.add(String(r.headers['x-origin']));
          got.set(k, set);
        }
      }
      for (const [k, set] of got) assert.equal(set.size, 1, `${k} moved between ${[...set].join(',')}`);
      const used = new Set([...got.values()].map((s) => [...s][0]));
      assert.equal(used.size, 3, `60 keys should reach all 3 servers, got ${[...used].join(',')}`);
    });
  }
}

test('random_two spreads sequential requests over all servers', async (t) => {
  const o = await origins(t, { a: undefined, b: undefined, c: undefined });
  const url = await gateway(t, simpleConfig([o.a!.address, o.b!.address, o.c!.address], { balance: 'random_two' }), { random: seeded(7) });
  const counts = tally(await sequence(url, 90));
  for (const n of ['a', 'b', 'c']) assert.ok((counts[n] ?? 0) >= 15, `uneven spread ${JSON.stringify(counts)}`);
});

test('random_two prefers an idle server over a busy one', async (t) => {
  const h = { a: holdSlow('a'), b: holdSlow('b'), c: holdSlow('c') };
  const o = await origins(t, { a: h.a.handler, b: h.b.handler, c: h.c.handler });
  const url = await gateway(t, simpleConfig([o.a!.address, o.b!.address, o.c!.address], { balance: 'random_two' }), { random: seeded(11) });
  const slow = later(fetchText(`${url}/slow`));
  await until(() => h.a.held.length + h.b.held.length + h.c.held.length === 1, 2000, 'the slow request to arrive');
  const busy = (['a', 'b', 'c'] as const).find((n) => h[n].held.length === 1)!;
  const counts = tally(await sequence(url, 30));
  // Any pair of candidates that includes the busy server has an idle one that wins.
  assert.equal(counts[busy] ?? 0, 0, `busy server ${busy} got traffic: ${JSON.stringify(counts)}`);
  for (const n of ['a', 'b', 'c'].filter((x) => x !== busy)) assert.ok((counts[n] ?? 0) >= 5, JSON.stringify(counts));
  for (const x of Object.values(h)) x.release();
  await slow;
});

test('least_time prefers the fast server over one that answers after 100ms', async (t) => {
  const o = await origins(t, { fast: undefined, slow: delayed('slow', 100) });
  // The slow server is listed first so it is probed first.
  const url = await gateway(t, simpleConfig([o.slow!.address, o.fast!.address], { balance: 'least_time' }));
  const rs = await sequence(url, 20);
  assert.ok(rs.every((r) => r.status === 200));
  assert.ok(o.slow!.seen.length >= 1, 'the slow server is probed');
  assert.ok(o.slow!.seen.length <= 2, `slow server got ${o.slow!.seen.length} of 20`);
  assert.ok(o.fast!.seen.length >= 18);
});

test('a backup server gets nothing while a primary is available', async (t) => {
  const o = await origins(t, { a: undefined, b: undefined, bk: undefined });
  const url = await gateway(t, simpleConfig([o.a!.address, o.b!.address, { address: o.bk!.address, backup: true }]));
  const counts = tally(await sequence(url, 12));
  assert.deepEqual(counts, { a: 6, b: 6 });
  assert.equal(o.bk!.seen.length, 0);
});

test('the backup takes traffic when every primary is unreachable', async (t) => {
  const o = await origins(t, { bk: undefined });
  const url = await gateway(t, simpleConfig([await deadAddress(), await deadAddress(), { address: o.bk!.address, backup: true }]));
  const rs = await sequence(url, 5);
  assert.deepEqual(tally(rs), { bk: 5 });
});

test('the backup takes traffic when every primary is down: true; down servers never get any', async (t) => {
  const o = await origins(t, { a: undefined, b: undefined, bk: undefined });
  const url = await gateway(t, simpleConfig([{ address: o.a!.address, down: true }, { address: o.b!.address, down: true }, { address: o.bk!.address, backup: true }]));
  assert.deepEqual(tally(await sequence(url, 6)), { bk: 6 });
  assert.equal(o.a!.seen.length + o.b!.seen.length, 0);
});

test('a server marked down: true never gets traffic', async (t) => {
  const o = await origins(t, { a: undefined, b: undefined, c: undefined });
  const url = await gateway(t, simpleConfig([{ address: o.a!.address, down: true, weight: 5 }, o.b!.address, o.c!.address]));
  assert.deepEqual(tally(await sequence(url, 10)), { b: 5, c: 5 });
  assert.equal(o.a!.seen.length, 0);
});

test('max_conns: a server at its limit is skipped', async (t) => {
  const ha = holdSlow('a');
  const o = await origins(t, { a: ha.handler, b: undefined });
  // a is heavily weighted: without max_conns most of the next requests would go to it.
  const url = await gateway(t, simpleConfig([{ address: o.a!.address, weight: 5, max_conns: 1 }, o.b!.address]));
  const slow = later(fetchText(`${url}/slow`));
  await until(() => ha.held.length === 1, 2000, 'the slow request to reach a');
  assert.deepEqual(tally(await sequence(url, 4)), { b: 4 });
  ha.release();
  assert.equal((await slow).status, 200);
  // Once the slot is free, a gets its share again.
  assert.ok((tally(await sequence(url, 6)).a ?? 0) >= 4);
});

test('max_conns: with every server full the client gets 503', async (t) => {
  const ha = holdSlow('a');
  const o = await origins(t, { a: ha.handler });
  const url = await gateway(t, simpleConfig([{ address: o.a!.address, max_conns: 1 }]));
  const slow = later(fetchText(`${url}/slow`));
  await until(() => ha.held.length === 1, 2000, 'the slow request to reach a');
  const r = await fetchText(`${url}/`);
  assert.equal(r.status, 503);
  assert.match(r.body, /HW_ERR_NO_HEALTHY_UPSTREAM/);
  assert.equal(o.a!.seen.length, 1);
  ha.release();
  assert.equal((await slow).status, 200);
  assert.equal((await fetchText(`${url}/`)).status, 200);
});

test('hash on a header named like an Object.prototype member: requests without it are served, with it they stick', async (t) => {
  const o = await origins(t, { a: undefined, b: undefined });
  // header('constructor') used to return Object.prototype.constructor: every pick threw (500).
  const url = await gateway(t, simpleConfig([o.a!.address, o.b!.address], { balance: 'hash', hash: { key: 'header:constructor' } }));
  const without = await sequence(url, 4);
  assert.deepEqual(without.map((r) => r.status), [200, 200, 200, 200]);
  const withIt = await Promise.all([1, 2, 3, 4].map((i) => fetchText(`${url}/p${i}`, { headers: { constructor: 'user-7' } })));
  assert.ok(withIt.every((r) => r.status === 200));
  assert.equal(new Set(withIt.map((r) => r.headers['x-origin'])).size, 1);
});
