import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ChunkedDecoder, CRLF, LAST_CHUNK, chunkHeader, type ChunkedLimits } from './chunked.js';

interface Outcome {
  data: string;
  done: boolean;
  consumed: number;
  error: string | undefined;
  trailers: string[];
}

/** Pushes `s` in pieces cut at `cuts`, stopping at done or error, like a socket reader would. */
function decode(s: string, cuts: number[] = [], limits?: ChunkedLimits): Outcome {
  const b = Buffer.from(s, 'latin1');
  const d = new ChunkedDecoder(limits);
  let data = '';
  let consumed = 0;
  const bounds = [...cuts.filter((c) => c > 0 && c < b.length).sort((x, y) => x - y), b.length];
  let p = 0;
  for (const e of bounds) {
    const r = d.push(b, p, e, (buf, s0, e0) => {
      assert.ok(s0 >= p && e0 <= e && s0 <= e0);
      data += buf.toString('latin1', s0, e0);
    });
    if ('error' in r) return { data, done: false, consumed, error: r.error, trailers: d.trailers };
    consumed += r.consumed;
    if (r.done) return { data, done: true, consumed, error: undefined, trailers: d.trailers };
    assert.equal(r.consumed, e - p);
    p = e;
  }
  return { data, done: false, consumed, error: undefined, trailers: d.trailers };
}

function ok(s: string, data: string, trailers: string[] = []): void {
  const r = decode(s);
  assert.equal(r.error, undefined, `${JSON.stringify(s)}: ${r.error}`);
  assert.equal(r.done, true, JSON.stringify(s));
  assert.equal(r.data, data);
  assert.deepEqual(r.trailers, trailers);
}

function bad(s: string, what: string, limits?: ChunkedLimits): void {
  const r = decode(s, [], limits);
  assert.notEqual(r.error, undefined, `${what}: ${JSON.stringify(s)} was accepted`);
}

test('bodies', () => {
  ok('0\r\n\r\n', '');
  ok('3\r\nabc\r\n0\r\n\r\n', 'abc');
  ok('3\r\nabc\r\nA\r\n0123456789\r\n1\r\n\n\r\n0\r\n\r\n', 'abc0123456789\n');
  ok('a\r\n0123456789\r\nF\r\n0123456789abcde\r\n0\r\n\r\n', '01234567890123456789abcde');
  ok('0000000000000003\r\nabc\r\n0000\r\n\r\n', 'abc');
  ok('3\r\n\r\n\r\r\n0\r\n\r\n', '\r\n\r');
});

test('chunk extensions: token and quoted values, several per line', () => {
  ok('3;a\r\nabc\r\n0\r\n\r\n', 'abc');
  ok('3;a=b\r\nabc\r\n0;last=1\r\n\r\n', 'abc');
  ok('3;a=b;c;d="x y"\r\nabc\r\n0\r\n\r\n', 'abc');
  ok('3;a="q\\"uote\\\\d\t\xe9"\r\nabc\r\n0\r\n\r\n', 'abc');
  ok('3;a="";b=!#$%&\'*+-.^_`|~\r\nabc\r\n0\r\n\r\n', 'abc');
});

test('trailer section', () => {
  ok('3\r\nabc\r\n0\r\nX-Checksum: abc \r\nX-Other:\t1\r\n\r\n', 'abc', ['X-Checksum', 'abc', 'X-Other', '1']);
  ok('0\r\nExpires: never\r\n\r\n', '', ['Expires', 'never']);
});

test('consumed stops at the end of the body; pipelined bytes stay', () => {
  const body = '3\r\nabc\r\n0\r\nX: y\r\n\r\n';
  for (const rest of ['', 'GET / HTTP/1.1\r\n\r\n', '\r\n', 'x']) {
    const r = decode(body + rest);
    assert.equal(r.done, true);
    assert.equal(r.consumed, body.length, JSON.stringify(rest));
  }
  const r = decode('0\r\n\r\nNEXT');
  assert.equal(r.consumed, 5);
});

test('every split offset, two pieces and three, gives the same result', () => {
  const bodies = [
    '3;a="b;c"\r\nabc\r\n10\r\n0123456789abcdef\r\n0;z\r\nX-T: 1\r\nY:2\r\n\r\nNEXT',
    '1\r\nx\r\n0\r\n\r\nNEXT',
    '3\r\nabc\r\n0\r\n\r\n',
  ];
  for (const s of bodies) {
    const whole = decode(s);
    assert.equal(whole.done, true);
    for (let i = 1; i < s.length; i++) {
      assert.deepEqual(decode(s, [i]), whole, `cut at ${i}`);
      for (let j = i + 1; j < s.length; j += 3) assert.deepEqual(decode(s, [i, j]), whole, `cut at ${i}, ${j}`);
    }
    assert.deepEqual(decode(s, Array.from({ length: s.length }, (_, k) => k)), whole, 'byte by byte');
  }
});

test('every split offset of a bad body gives the same error', () => {
  for (const s of ['3\r\nabcd\r\n0\r\n\r\n', '3;a =b\r\nabc\r\n0\r\n\r\n', '3\r\nabc\r\n0\r\nX: y\r\n z\r\n\r\n']) {
    const whole = decode(s);
    assert.notEqual(whole.error, undefined);
    for (let i = 1; i < s.length; i++) assert.equal(decode(s, [i]).error, whole.error, `cut at ${i}`);
  }
});

test('bad chunk sizes', () => {
  bad('\r\nabc\r\n0\r\n\r\n', 'empty size');
  bad('g\r\n', 'non-hex');
  bad(' 3\r\nabc\r\n0\r\n\r\n', 'leading space');
  bad('3 \r\nabc\r\n0\r\n\r\n', 'trailing space');
  bad('3\t\r\nabc\r\n0\r\n\r\n', 'trailing HTAB');
  bad('+3\r\nabc\r\n0\r\n\r\n', 'sign');
  bad('-3\r\nabc\r\n0\r\n\r\n', 'negative');
  bad('0x3\r\nabc\r\n0\r\n\r\n', '0x prefix');
  bad('3x\r\nabc\r\n0\r\n\r\n', 'trailing garbage');
  bad('00000000000000003\r\nabc\r\n0\r\n\r\n', '17 hex digits');
  bad('20000000000000\r\n', '2^53');
  bad('ffffffffffffffff\r\n', '2^64-1');
  assert.equal(decode('1fffffffffffff\r\n').error, undefined, '2^53-1 is a valid size');
  bad('3\nabc\r\n0\r\n\r\n', 'bare LF after size');
  bad('3\rabc\r\n0\r\n\r\n', 'CR without LF after size');
});

test('bad chunk data endings', () => {
  bad('3\r\nabcd\r\n0\r\n\r\n', 'data longer than size');
  bad('3\r\nab\r\n0\r\n\r\n', 'data shorter than size');
  bad('3\r\nabc\n0\r\n\r\n', 'bare LF after data');
  bad('3\r\nabc\r0\r\n\r\n', 'CR without LF after data');
  bad('3\r\nabc0\r\n\r\n', 'no CRLF after data');
  bad('3\r\nabc\r\n0\r\n\n', 'bare LF at the end');
  bad('3\r\nabc\r\n0\r\n\rX', 'CR without LF at the end');
});

test('bad chunk extensions', () => {
  bad('3;\r\nabc\r\n0\r\n\r\n', 'empty extension');
  bad('3;=b\r\nabc\r\n0\r\n\r\n', 'empty name');
  bad('3;;a\r\nabc\r\n0\r\n\r\n', 'empty element');
  bad('3;a=\r\nabc\r\n0\r\n\r\n', 'empty value');
  bad('3; a\r\nabc\r\n0\r\n\r\n', 'space before name');
  bad('3 ;a\r\nabc\r\n0\r\n\r\n', 'space before semicolon');
  bad('3;a =b\r\nabc\r\n0\r\n\r\n', 'space before =');
  bad('3;a= b\r\nabc\r\n0\r\n\r\n', 'space after =');
  bad('3;a=b c\r\nabc\r\n0\r\n\r\n', 'space in token value');
  bad('3;a\x7f\r\nabc\r\n0\r\n\r\n', 'DEL in name');
  bad('3;a="\x01"\r\nabc\r\n0\r\n\r\n', 'CTL in quoted value');
  bad('3;a="\\\x01"\r\nabc\r\n0\r\n\r\n', 'CTL in quoted-pair');
  bad('3;a="b"c\r\nabc\r\n0\r\n\r\n', 'text after quoted value');
  bad('3;a="b\r\nabc\r\n0\r\n\r\n', 'unterminated quoted value');
  bad('3;a\nabc\r\n0\r\n\r\n', 'bare LF after extension');
  bad('3;a\r\rabc\r\n0\r\n\r\n', 'CR CR after extension');
  const long = `3;x=${'v'.repeat(100)}\r\nabc\r\n0\r\n\r\n`;
  assert.equal(decode(long, [], { maxExtensionLength: 200 }).done, true);
  bad(long, 'extensions longer than the bound', { maxExtensionLength: 100 });
});

test('bad trailer sections', () => {
  bad('0\r\nX: y\r\n z\r\n\r\n', 'obs-fold');
  bad('0\r\n X: y\r\n\r\n', 'leading whitespace');
  bad('0\r\nX : y\r\n\r\n', 'space before colon');
  bad('0\r\n: y\r\n\r\n', 'empty name');
  bad('0\r\nX y\r\n\r\n', 'no colon');
  bad('0\r\nX: \x00\r\n\r\n', 'NUL in value');
  bad('0\r\nX: y\n\r\n', 'bare LF');
  bad('0\r\nContent-Length: 3\r\n\r\n', 'Content-Length trailer');
  bad('0\r\nTransfer-Encoding: chunked\r\n\r\n', 'Transfer-Encoding trailer');
  const big = `0\r\nX: ${'y'.repeat(100)}\r\n\r\n`;
  assert.equal(decode(big, [], { maxTrailerSize: 200 }).done, true);
  bad(big, 'trailers above the bound', { maxTrailerSize: 100 });
  for (let i = 1; i < big.length; i++) assert.notEqual(decode(big, [i], { maxTrailerSize: 100 }).error, undefined, `cut ${i}`);
  assert.equal(decode('0\r\nA: 1\r\nB: 2\r\n\r\n', [], { maxTrailers: 2 }).done, true);
  bad('0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n', 'too many trailers', { maxTrailers: 2 });
});

test('errors are sticky; done stays done; reset() reuses the decoder', () => {
  const d = new ChunkedDecoder();
  const sink = (): void => {};
  const b = Buffer.from('x\r\n');
  const e1 = d.push(b, 0, b.length, sink);
  assert.ok('error' in e1);
  assert.deepEqual(d.push(Buffer.from('0\r\n\r\n'), 0, 5, sink), e1);
  d.reset();
  const good = Buffer.from('0\r\nA: b\r\n\r\n');
  assert.deepEqual(d.push(good, 0, good.length, sink), { done: true, consumed: good.length });
  assert.equal(d.done, true);
  assert.deepEqual(d.trailers, ['A', 'b']);
  assert.deepEqual(d.push(good, 0, good.length, sink), { done: true, consumed: 0 });
  d.reset();
  assert.deepEqual(d.trailers, []);
  assert.deepEqual(d.push(good, 0, 3, sink), { done: false, consumed: 3 });
  assert.deepEqual(d.push(good, 3, 3, sink), { done: false, consumed: 0 });
});

test('encoder helpers', () => {
  assert.equal(chunkHeader(1).toString(), '1\r\n');
  assert.equal(chunkHeader(255).toString(), 'ff\r\n');
  assert.equal(chunkHeader(2 ** 32).toString(), '100000000\r\n');
  assert.equal(CRLF.toString(), '\r\n');
  assert.equal(LAST_CHUNK.toString(), '0\r\n\r\n');
});

test('property: re-framed data decodes to itself, however the bytes arrive', () => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ minLength: 1, maxLength: 40 }), { maxLength: 6 }),
      fc.array(fc.nat(400), { maxLength: 8 }),
      (chunks, cuts) => {
        const parts: Buffer[] = [];
        for (const c of chunks) parts.push(chunkHeader(c.length), Buffer.from(c), CRLF);
        parts.push(LAST_CHUNK);
        const r = decode(Buffer.concat(parts).toString('latin1'), cuts);
        assert.equal(r.done, true);
        assert.equal(r.data, Buffer.concat(chunks.map((c) => Buffer.from(c))).toString('latin1'));
      },
    ),
    { seed: 20240601, numRuns: 300 },
  );
});
