import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32c, encodeProxyV1, encodeProxyV2, parseProxyHeader, V2_MAX } from './proxy-protocol.js';

const SIG = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');

function v2(verCmd: number, fam: number, body: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(body.length);
  return Buffer.concat([SIG, Buffer.from([verCmd, fam]), len, body]);
}

test('v1 TCP4 and the bytes after it', () => {
  const buf = Buffer.from('PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\nGET / HTTP/1.1\r\n');
  const r = parseProxyHeader(buf);
  assert.equal(r.kind, 'ok');
  if (r.kind !== 'ok') return;
  assert.deepEqual(r.header.source, { address: '192.0.2.1', port: 56324 });
  assert.deepEqual(r.header.destination, { address: '198.51.100.2', port: 443 });
  assert.equal(buf.subarray(r.length).toString(), 'GET / HTTP/1.1\r\n');
});

test('v1 TCP6 and UNKNOWN', () => {
  const r = parseProxyHeader(Buffer.from('PROXY TCP6 2001:db8::1 ::1 1 65535\r\n'));
  assert.ok(r.kind === 'ok' && r.header.source?.address === '2001:db8::1' && r.header.destination?.port === 65535 && !r.header.local);
  const u = parseProxyHeader(Buffer.from('PROXY UNKNOWN ffff:f...f:ffff 1.2.3.4 1 2\r\nrest'));
  assert.ok(u.kind === 'ok' && u.header.local && u.length === 'PROXY UNKNOWN ffff:f...f:ffff 1.2.3.4 1 2\r\n'.length);
});

test('v1 malformed headers are errors', () => {
  for (const s of [
    'PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n',
    'PROXY TCP4 1.2.3.4 ::1 1 2\r\n',
    'PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n',
    'PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n',
    'PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n',
    'PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n',
    'PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n',
    'PROXY TCP4 1.2.3.4 5.6.7.8 1 2\t\r\n',
    'GET / HTTP/1.1\r\n',
    'PROXX TCP4',
  ]) assert.equal(parseProxyHeader(Buffer.from(s)).kind, 'error', s);
});

test('v1 longer than 107 bytes without CRLF is refused; shorter waits', () => {
  assert.equal(parseProxyHeader(Buffer.from('PROXY TCP6 ' + 'a'.repeat(90))).kind, 'incomplete');
  assert.equal(parseProxyHeader(Buffer.from('PROXY TCP6 ' + 'a'.repeat(96) + '\r\n')).kind, 'error');
});

test('fragmented across reads: every prefix is incomplete, the whole is ok', () => {
  for (const whole of [
    Buffer.from('PROXY TCP4 10.1.2.3 10.0.0.1 1000 80\r\n'),
    encodeProxyV2({ source: { address: '2001:db8::7', port: 5 }, destination: { address: '::1', port: 6 } }),
  ]) {
    for (let i = 1; i < whole.length; i++) assert.equal(parseProxyHeader(whole.subarray(0, i)).kind, 'incomplete', `prefix ${i}`);
    const r = parseProxyHeader(whole);
    assert.ok(r.kind === 'ok' && r.length === whole.length);
  }
});

test('v2 INET with TLVs', () => {
  const addr = Buffer.from([10, 0, 0, 9, 10, 0, 0, 1, 0x1f, 0x90, 0x00, 0x50]);
  const tlv = Buffer.concat([Buffer.from([0x02, 0x00, 0x0b]), Buffer.from('example.com'), Buffer.from([0x04, 0x00, 0x00])]);
  const r = parseProxyHeader(Buffer.concat([v2(0x21, 0x11, Buffer.concat([addr, tlv])), Buffer.from('xyz')]));
  assert.equal(r.kind, 'ok');
  if (r.kind !== 'ok') return;
  assert.deepEqual(r.header.source, { address: '10.0.0.9', port: 8080 });
  assert.deepEqual(r.header.destination, { address: '10.0.0.1', port: 80 });
  assert.deepEqual(r.header.tlvs.map((t) => [t.type, t.value.toString()]), [[2, 'example.com'], [4, '']]);
  assert.equal(r.length, 16 + 12 + 17);
});

test('v2 LOCAL and UNSPEC keep the socket address; INET6 is decoded', () => {
  const local = parseProxyHeader(v2(0x20, 0x00, Buffer.alloc(0)));
  assert.ok(local.kind === 'ok' && local.header.local && local.length === 16);
  const e = { source: { address: '2001:db8::1:0:0:1', port: 443 }, destination: { address: 'fe80::1', port: 8443 } };
  const r = parseProxyHeader(encodeProxyV2(e));
  assert.ok(r.kind === 'ok' && !r.header.local);
  if (r.kind === 'ok') assert.deepEqual({ source: r.header.source, destination: r.header.destination }, e);
});

test('v2 malformed: version, command, family, short address, TLV overrun, oversized', () => {
  const addr = Buffer.alloc(12);
  assert.equal(parseProxyHeader(v2(0x11, 0x11, addr)).kind, 'error');
  assert.equal(parseProxyHeader(v2(0x22, 0x11, addr)).kind, 'error');
  assert.equal(parseProxyHeader(v2(0x21, 0x41, addr)).kind, 'error');
  assert.equal(parseProxyHeader(v2(0x21, 0x12, addr)).kind, 'error', 'datagram');
  assert.equal(parseProxyHeader(v2(0x21, 0x21, addr)).kind, 'error', 'INET6 needs 36 bytes');
  assert.equal(parseProxyHeader(v2(0x21, 0x11, Buffer.concat([addr, Buffer.from([1, 0, 5, 1])]))).kind, 'error');
  assert.equal(parseProxyHeader(v2(0x21, 0x11, Buffer.concat([addr, Buffer.from([1, 0])]))).kind, 'error');
  const big = Buffer.concat([SIG, Buffer.from([0x21, 0x11, (V2_MAX >> 8) & 0xff, 0])]);
  assert.equal(parseProxyHeader(big).kind, 'error', 'over the limit before the bytes arrive');
});

test('encoders: v1 and v2 round-trip, mixed families become IPv6, non-IP becomes UNKNOWN/LOCAL', () => {
  const e4 = { source: { address: '192.0.2.5', port: 1234 }, destination: { address: '127.0.0.1', port: 80 } };
  assert.equal(encodeProxyV1(e4).toString(), 'PROXY TCP4 192.0.2.5 127.0.0.1 1234 80\r\n');
  const mixed = { source: { address: '192.0.2.5', port: 1 }, destination: { address: '::1', port: 2 } };
  assert.equal(encodeProxyV1(mixed).toString(), 'PROXY TCP6 ::ffff:192.0.2.5 ::1 1 2\r\n');
  const r = parseProxyHeader(encodeProxyV2(mixed));
  assert.ok(r.kind === 'ok' && r.header.source?.address === '::ffff:192.0.2.5');
  const r4 = parseProxyHeader(encodeProxyV2(e4));
  assert.ok(r4.kind === 'ok' && r4.header.source?.address === '192.0.2.5' && r4.header.destination?.port === 80);
  const none = { source: { address: 'x', port: 0 }, destination: { address: '::1', port: 0 } };
  assert.equal(encodeProxyV1(none).toString(), 'PROXY UNKNOWN\r\n');
  const l = parseProxyHeader(encodeProxyV2(none));
  assert.ok(l.kind === 'ok' && l.header.local);
});

test('property: arbitrary bytes never throw; encoded headers round-trip from any split', async () => {
  const fc = (await import('fast-check')).default;
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (bytes, v2sig) => {
      const buf = Buffer.concat([v2sig ? SIG : Buffer.from('PROXY '), Buffer.from(bytes)]);
      const r = parseProxyHeader(buf);
      assert.ok(['ok', 'error', 'incomplete'].includes(r.kind));
      if (r.kind === 'ok') assert.ok(r.length <= buf.length);
    }),
    { numRuns: 500, seed: 7 },
  );
  const ip4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((o) => o.join('.'));
  const end = fc.record({ address: ip4, port: fc.nat(65535) });
  fc.assert(
    fc.property(end, end, fc.boolean(), fc.nat(), (source, destination, v1, cut) => {
      const whole = (v1 ? encodeProxyV1 : encodeProxyV2)({ source, destination });
      const at = cut % whole.length;
      if (at > 0) assert.equal(parseProxyHeader(whole.subarray(0, at)).kind, 'incomplete');
      const r = parseProxyHeader(whole);
      assert.ok(r.kind === 'ok' && r.length === whole.length);
      if (r.kind === 'ok') assert.deepEqual([r.header.source, r.header.destination], [{ ...source }, { ...destination }]);
    }),
    { numRuns: 300, seed: 7 },
  );
});

test('v2 CRC32C TLV: a matching checksum passes, a wrong one is refused', () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283, 'the standard check value');
  const addr = Buffer.from([10, 0, 0, 9, 10, 0, 0, 1, 0x1f, 0x90, 0x00, 0x50]);
  const hdr = v2(0x21, 0x11, Buffer.concat([addr, Buffer.from([0x03, 0x00, 0x04, 0, 0, 0, 0])]));
  const good = Buffer.from(hdr);
  good.writeUInt32BE(crc32c(hdr), hdr.length - 4);
  assert.equal(parseProxyHeader(good).kind, 'ok');
  const bad = Buffer.from(good);
  bad[16] = 11; // a different source address
  assert.deepEqual(parseProxyHeader(bad), { kind: 'error', reason: 'v2 CRC32C checksum does not match' });
});
