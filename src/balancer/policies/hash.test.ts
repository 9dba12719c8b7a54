import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Host } from '../../upstream/host.js';
import { compileHashKey, cookieValue, hash32, queryValue } from '../hash-key.js';
import { makeCtx, makeHost, makeHosts, tally, testDeps } from '../test-helpers.js';
import type { Balancer } from '../types.js';
import { hashBalancer } from './hash.js';

const byUser = (consistent: boolean): Balancer => hashBalancer(testDeps(), { hash: { key: 'header:x-user', consistent } });
const userCtx = (i: number, excluded: Host[] = []) => makeCtx({ headers: { 'x-user': `user-${i}` }, excluded });

describe('hash key extraction', () => {
  const ctx = makeCtx({
    clientIp: '::ffff:10.0.0.7',
    path: '/a/b?x=1&name=J%C3%BCrgen+K&empty&x=2#frag',
    headers: { 'x-tenant': 'acme', cookie: 'theme=dark; sid="abc 1"; other=2' },
  });

  test('each spec reads its part of the request', () => {
    assert.equal(compileHashKey('header:X-Tenant')(ctx), 'acme');
    assert.equal(compileHashKey('cookie:sid')(ctx), 'abc 1');
    assert.equal(compileHashKey('query:name')(ctx), 'Jürgen K');
    assert.equal(compileHashKey('query:x')(ctx), '1');
    assert.equal(compileHashKey('query:empty')(ctx), '');
    assert.equal(compileHashKey('uri')(ctx), ctx.path);
    assert.equal(compileHashKey('client_ip')(ctx), '10.0.0.7');
  });

  test('a missing value is the empty string', () => {
    for (const spec of ['header:x-none', 'cookie:none', 'query:none']) assert.equal(compileHashKey(spec)(makeCtx()), '', spec);
  });

  test('cookie and query parsing edge cases', () => {
    assert.equal(cookieValue('a=1;b=2', 'b'), '2');
    assert.equal(cookieValue('ab=1; b=2', 'b'), '2');
    assert.equal(cookieValue('a=1', 'b'), undefined);
    assert.equal(cookieValue(undefined, 'b'), undefined);
    assert.equal(queryValue('/p', 'a'), undefined);
    assert.equal(queryValue('/p?a=%zz', 'a'), '%zz');
    assert.equal(queryValue('/p?aa=1&a=2', 'a'), '2');
    assert.equal(queryValue('/p?b=1#a=2', 'a'), undefined);
  });

  test('bad specs are rejected', () => {
    for (const bad of ['', 'header:', 'body:x', 'cookie', 'URI']) assert.throws(() => compileHashKey(bad), /invalid hash key/, bad);
  });

  test('hash32 is stable, seeded and spreads nearby inputs', () => {
    assert.equal(hash32('abc'), hash32('abc'));
    assert.notEqual(hash32('abc', 0), hash32('abc', 1));
    assert.notEqual(hash32('ü'), hash32('ü'.normalize('NFD')));
    const buckets = new Array<number>(16).fill(0);
    for (let i = 0; i < 16000; i++) buckets[hash32(`k-${i}`) >>> 28]++;
    for (const c of buckets) assert.ok(c > 850 && c < 1150, `bucket ${c}`);
  });
});

for (const consistent of [true, false]) {
  describe(`hash ${consistent ? 'consistent' : 'modulo'}`, () => {
    test('the same key always gets the same server', () => {
      const hosts = makeHosts(1, 1, 1, 1);
      const b = byUser(consistent);
      b.rebuild?.(hosts);
      for (let i = 0; i < 200; i++) assert.equal(b.pick(userCtx(i), hosts), b.pick(userCtx(i), hosts));
    });

    test('spreads keys evenly over equal servers', () => {
      const hosts = makeHosts(1, 1, 1, 1);
      const b = byUser(consistent);
      b.rebuild?.(hosts);
      const { counts } = tally(hosts, 10_000, (i) => b.pick(userCtx(i), hosts));
      const tol = consistent ? 0.25 : 0.06;
      for (const c of counts) assert.ok(Math.abs(c - 2500) < 2500 * tol, `counts ${counts}`);
    });

    test('follows weights 3,1,1', () => {
      const hosts = makeHosts(3, 1, 1);
      const b = byUser(consistent);
      const { counts } = tally(hosts, 5000, (i) => b.pick(userCtx(i), hosts));
      const tol = consistent ? 0.06 : 0.03;
      [0.6, 0.2, 0.2].forEach((share, k) => assert.ok(Math.abs(counts[k] / 5000 - share) < tol, `counts ${counts}`));
    });

    test('an unavailable server moves only its own keys', () => {
      const hosts = makeHosts(1, 1, 1, 1);
      const b = byUser(consistent);
      const before = Array.from({ length: 2000 }, (_, i) => b.pick(userCtx(i), hosts));
      hosts[1].state.failedUntil = 2_000_000;
      before.forEach((h, i) => {
        const now = b.pick(userCtx(i), hosts);
        assert.notEqual(now, hosts[1]);
        if (h !== hosts[1]) assert.equal(now, h);
      });
    });
  });
}

describe('hash consistent ring', () => {
  test('removing one of 4 servers moves only its keys (10,000 keys)', () => {
    const hosts = makeHosts(1, 1, 1, 1);
    const b = byUser(true);
    b.rebuild?.(hosts);
    const before = Array.from({ length: 10_000 }, (_, i) => b.pick(userCtx(i), hosts));
    const removed = hosts[2];
    const rest = hosts.filter((h) => h !== removed);
    b.rebuild?.(rest);
    let moved = 0;
    const gained = new Map<Host | undefined, number>();
    before.forEach((h, i) => {
      const now = b.pick(userCtx(i), rest);
      if (h !== removed) assert.equal(now, h, `key ${i} moved`);
      else {
        moved++;
        gained.set(now, (gained.get(now) ?? 0) + 1);
      }
    });
    assert.ok(moved > 1500 && moved < 3500, `moved ${moved}`);
    assert.equal(gained.size, 3, 'the removed server’s keys spread over all survivors');
  });

  test('adding a server takes keys only onto the new server', () => {
    const hosts = makeHosts(1, 1, 1);
    const b = byUser(true);
    const before = Array.from({ length: 5000 }, (_, i) => b.pick(userCtx(i), hosts));
    const grown = [...hosts, makeHost(9010)];
    before.forEach((h, i) => {
      const now = b.pick(userCtx(i), grown); // no rebuild: the ring is rebuilt lazily
      assert.ok(now === h || now === grown[3], `key ${i}`);
    });
  });

  test('a retry walks on to a different server', () => {
    const hosts = makeHosts(1, 1, 1);
    const b = byUser(true);
    for (let i = 0; i < 100; i++) {
      const first = b.pick(userCtx(i), hosts)!;
      const second = b.pick(userCtx(i, [first]), hosts);
      assert.ok(second !== undefined && second !== first);
    }
  });
});
