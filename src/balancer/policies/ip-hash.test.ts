import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Host } from '../../upstream/host.js';
import { makeCtx, makeHosts, mulberry32, tally, testDeps } from '../test-helpers.js';
import { ipHash, ipv4Prefix24 } from './ip-hash.js';

const pickFor = (b: ReturnType<typeof ipHash>, hosts: readonly Host[], ip: string, excluded: Host[] = []) =>
  b.pick(makeCtx({ clientIp: ip, excluded }), hosts);

describe('ip_hash', () => {
  test('parses the /24 of an IPv4 address without allocating', () => {
    assert.equal(ipv4Prefix24('10.1.2.3', 0), (10 << 16) | (1 << 8) | 2);
    assert.equal(ipv4Prefix24('::ffff:192.168.7.9', 7), (192 << 16) | (168 << 8) | 7);
    for (const bad of ['10.1.2', '10.1.2.3.4', '256.1.1.1', '10..2.3', '::1', 'a.b.c.d', '']) assert.equal(ipv4Prefix24(bad, 0), -1, bad);
  });

  test('every address of a /24 sticks to one server', () => {
    const hosts = makeHosts(1, 1, 1, 1);
    const b = ipHash(testDeps(), {});
    for (const net of ['10.1.2', '192.168.0', '172.16.40']) {
      const first = pickFor(b, hosts, `${net}.1`);
      for (let x = 0; x < 256; x++) assert.equal(pickFor(b, hosts, `${net}.${x}`), first);
      assert.equal(pickFor(b, hosts, `::ffff:${net}.77`), first, 'IPv4-mapped form maps like IPv4');
    }
  });

  test('an IPv6 client sticks to one server', () => {
    const hosts = makeHosts(1, 1, 1);
    const b = ipHash(testDeps(), {});
    const first = pickFor(b, hosts, '2001:db8::42');
    for (let i = 0; i < 10; i++) assert.equal(pickFor(b, hosts, '2001:db8::42'), first);
    const seen = new Set(Array.from({ length: 200 }, (_, i) => pickFor(b, hosts, `2001:db8::${i.toString(16)}`)));
    assert.equal(seen.size, 3);
  });

  test('follows weights 3,1,1 across many networks', () => {
    const hosts = makeHosts(3, 1, 1);
    const b = ipHash(testDeps(), {});
    const rnd = mulberry32(11);
    const { counts } = tally(hosts, 5000, () => {
      const n = Math.floor(rnd() * 2 ** 24);
      return pickFor(b, hosts, `${n >>> 16}.${(n >>> 8) & 255}.${n & 255}.1`);
    });
    assert.ok(Math.abs(counts[0] / 5000 - 0.6) < 0.04, `counts ${counts}`);
    assert.ok(Math.abs(counts[1] / 5000 - 0.2) < 0.04, `counts ${counts}`);
    assert.ok(Math.abs(counts[2] / 5000 - 0.2) < 0.04, `counts ${counts}`);
  });

  test('a down server moves only its own clients; others keep theirs', () => {
    const hosts = makeHosts(1, 1, 1, 1);
    const b = ipHash(testDeps(), {});
    const ips = Array.from({ length: 1000 }, (_, i) => `10.${i >> 8}.${i & 255}.9`);
    const before = ips.map((ip) => pickFor(b, hosts, ip));
    hosts[2].state.failedUntil = 2_000_000;
    ips.forEach((ip, i) => {
      const now = pickFor(b, hosts, ip);
      assert.notEqual(now, hosts[2]);
      if (before[i] !== hosts[2]) assert.equal(now, before[i]);
    });
  });

  test('a retry (excluded server) goes elsewhere, then falls back to round robin when rehashing fails', () => {
    const hosts = makeHosts(1, 1);
    const b = ipHash(testDeps(), {});
    const first = pickFor(b, hosts, '10.9.9.9')!;
    const second = pickFor(b, hosts, '10.9.9.9', [first]);
    assert.ok(second !== undefined && second !== first);
  });
});
