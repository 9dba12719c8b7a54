import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KNOWN_METHODS, parseRequestHead, type RequestHead, type RequestHeadResult } from './request-head.js';

const LIMITS = { maxHeadSize: 16384, maxHeaders: 100 };

function parse(s: string, limits = LIMITS): RequestHeadResult {
  const b = Buffer.from(s, 'latin1');
  return parseRequestHead(b, 0, b.length, limits);
}

function head(s: string): RequestHead {
  const r = parse(s);
  if (r.kind !== 'head') assert.fail(`expected a head for ${JSON.stringify(s)}, got ${JSON.stringify(r)}`);
  return r.head;
}

const CURL = 'GET /api/v1/items?id=1 HTTP/1.1\r\nHost: example.com:8080\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n';

test('a curl-like GET', () => {
  const r = parse(CURL);
  assert.equal(r.kind, 'head');
  if (r.kind !== 'head') return;
  assert.equal(r.next, CURL.length);
  assert.deepEqual({ ...r.head, headers: r.head.headers }, {
    method: 'GET', target: '/api/v1/items?id=1', versionMinor: 1,
    headers: ['Host', 'example.com:8080', 'User-Agent', 'curl/8.5.0', 'Accept', '*/*'],
    contentLength: -1, chunked: false, expect: false, keepAlive: true, expectContinue: false, upgrade: false,
    host: 'example.com:8080', connectionTokens: [], passLines: 'User-Agent: curl/8.5.0\r\nAccept: */*\r\n', forwardedFor: undefined,
  });
});

test('passLines: the lines passed on as received; none for a body, Forwarded or a Connection-named field', () => {
  const lines = (fields: string) => head(`GET / HTTP/1.1\r\nHost: a\r\n${fields}\r\n`).passLines;
  assert.equal(lines(''), '');
  assert.equal(lines('A:  1 \r\nExpect: x\r\nB: 2\r\n'), 'A:  1 \r\nB: 2\r\n');
  assert.equal(lines('X-Forwarded-For: 1.1.1.1\r\nX-Forwarded-Host: h\r\nX-Forwarded-Proto: https\r\nC: 3\r\n'), 'C: 3\r\n');
  assert.equal(lines('Connection: keep-alive, TE\r\nTE: trailers\r\nKeep-Alive: 5\r\nD: 4\r\n'), 'D: 4\r\n');
  assert.equal(lines('Content-Length: 0\r\n'), undefined);
  assert.equal(lines('Content-Length: 2\r\n'), undefined);
  assert.equal(lines('Transfer-Encoding: chunked\r\n'), undefined);
  assert.equal(lines('Forwarded: for=1.1.1.1\r\n'), undefined);
  assert.equal(lines('Connection: x-hop\r\nX-Hop: 1\r\n'), undefined);
  const h = head('GET / HTTP/1.1\r\nX-Forwarded-For: 1.1.1.1\r\nHost: a\r\nx-forwarded-for:  2.2.2.2 \r\nExpect: 100-continue\r\n\r\n');
  assert.equal(h.forwardedFor, '1.1.1.1, 2.2.2.2');
  assert.equal(h.expect, true);
  assert.equal(h.expectContinue, true);
});

test('names as received, values OWS-trimmed, inner HTAB and obs-text kept, empty values', () => {
  const h = head('GET / HTTP/1.1\r\nhOsT: a\r\nX-A:\t b\tc \t\r\nX-Empty:\r\nX-Sp:   \r\nX-Obs: caf\xe9\x80\r\nX-Punct: !#$%&\'*+-.^_`|~:;"()<>\r\n\r\n');
  assert.deepEqual(h.headers, ['hOsT', 'a', 'X-A', 'b\tc', 'X-Empty', '', 'X-Sp', '', 'X-Obs', 'caf\xe9\x80', 'X-Punct', '!#$%&\'*+-.^_`|~:;"()<>']);
  assert.equal(h.host, 'a');
});

test('HTTP/1.0: no Host needed, keep-alive only when asked', () => {
  const h = head('GET / HTTP/1.0\r\n\r\n');
  assert.equal(h.versionMinor, 0);
  assert.equal(h.keepAlive, false);
  assert.equal(h.host, undefined);
  assert.equal(head('GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n').keepAlive, true);
  assert.equal(head('GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n').keepAlive, false);
  assert.equal(head('GET / HTTP/1.0\r\nProxy-Connection: keep-alive\r\n\r\n').keepAlive, true);
});

test('Connection tokens: lower-cased, trimmed, empty elements dropped; close ends keep-alive', () => {
  const h = head('GET / HTTP/1.1\r\nHost: a\r\nConnection: Keep-Alive, X-Foo ,, \t,CLOSE\r\nConnection: te\r\n\r\n');
  assert.deepEqual(h.connectionTokens, ['keep-alive', 'x-foo', 'close', 'te']);
  assert.equal(h.keepAlive, false);
  assert.equal(head('GET / HTTP/1.1\r\nHost: a\r\nConnection: closed\r\n\r\n').keepAlive, true);
  assert.equal(head('GET / HTTP/1.1\r\nHost: a\r\nProxy-Connection: close\r\n\r\n').keepAlive, false);
});

test('upgrade needs both Connection: upgrade and a non-empty Upgrade', () => {
  assert.equal(head('GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n').upgrade, true);
  assert.equal(head('GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n').upgrade, false);
  assert.equal(head('GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n\r\n').upgrade, false);
  assert.equal(head('GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade:\r\n\r\n').upgrade, false);
});

test('Expect: 100-continue, case-insensitive', () => {
  assert.equal(head('POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n').expectContinue, true);
  assert.equal(head('POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continuex\r\n\r\n').expectContinue, false);
});

test('Content-Length values', () => {
  assert.equal(head('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n').contentLength, 0);
  assert.equal(head('POST / HTTP/1.1\r\nHost: a\r\ncontent-length:\t 0042  \r\n\r\n').contentLength, 42);
  assert.equal(head('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9007199254740991\r\n\r\n').contentLength, 2 ** 53 - 1);
});

test('Transfer-Encoding whose final coding is chunked', () => {
  for (const te of ['chunked', 'Chunked', 'CHUNKED ', 'gzip, chunked', ',chunked', 'gzip,,chunked', 'gzip ,\tchunked', 'x;q=1, chunked']) {
    const h = head(`POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ${te}\r\n\r\n`);
    assert.equal(h.chunked, true, te);
    assert.equal(h.contentLength, -1);
  }
  assert.equal(head('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n').chunked, true);
});

test('request-target forms', () => {
  assert.equal(head('GET /a/b?c=d&e=%20#frag HTTP/1.1\r\nHost: a\r\n\r\n').target, '/a/b?c=d&e=%20#frag');
  assert.equal(head('GET /\\"<>{}|^` HTTP/1.1\r\nHost: a\r\n\r\n').target, '/\\"<>{}|^`');
  assert.equal(head('GET http://example.com:80/x?y HTTP/1.1\r\nHost: example.com\r\n\r\n').target, 'http://example.com:80/x?y');
  assert.equal(head('GET HTTPS://[::1]?q HTTP/1.1\r\nHost: a\r\n\r\n').target, 'HTTPS://[::1]?q');
  assert.equal(head('OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n').target, '*');
  assert.equal(head('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n').target, 'example.com:443');
  assert.equal(head('CONNECT [2001:db8::1]:443 HTTP/1.1\r\nHost: a\r\n\r\n').target, '[2001:db8::1]:443');
});

test('every method llhttp knows for HTTP/1.x, interned', () => {
  for (const m of KNOWN_METHODS) {
    const h = head(`${m} ${m === 'CONNECT' ? 'a:1' : '/'} HTTP/1.1\r\nHost: a\r\n\r\n`);
    assert.equal(h.method, m);
  }
});

test('Host forms the gateway accepts', () => {
  for (const v of ['', 'a', 'a:', 'a:80', '[::1]', '[::1]:8080', 'xn--d1acufc.xn--p1ai', "a-b_c.d~!$&'()*+,;=%20"]) {
    assert.equal(head(`GET / HTTP/1.1\r\nHost: ${v}\r\n\r\n`).host, v);
  }
});

test('empty lines before the request line are skipped', () => {
  const s = '\r\n\r\n\nGET / HTTP/1.1\r\nHost: a\r\n\r\n';
  const r = parse(s);
  assert.equal(r.kind === 'head' && r.next, s.length);
});

test('pipelined requests in one buffer, bodies by Content-Length', () => {
  const s = 'POST /1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhelloGET /2 HTTP/1.1\r\nHost: a\r\n\r\nGET /3 HTTP/1.0\r\n\r\nGET /4 HT';
  const b = Buffer.from(s, 'latin1');
  const targets: string[] = [];
  let p = 0;
  for (;;) {
    const r = parseRequestHead(b, p, b.length, LIMITS);
    if (r.kind !== 'head') {
      assert.equal(r.kind, 'incomplete');
      break;
    }
    targets.push(r.head.target);
    p = r.next + Math.max(0, r.head.contentLength);
  }
  assert.deepEqual(targets, ['/1', '/2', '/3']);
  assert.equal(b.toString('latin1', p), 'GET /4 HT');
});

test('a head in the middle of a larger buffer with stale bytes after end', () => {
  const b = Buffer.from('xxxxGET / HTTP/1.1\r\nHost: a\r\n\r\nzzzz', 'latin1');
  const r = parseRequestHead(b, 4, b.length - 4, LIMITS);
  assert.equal(r.kind === 'head' && r.next, b.length - 4);
  const partial = Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r', 'latin1');
  const bigger = Buffer.concat([partial, Buffer.from('\n')]);
  assert.equal(parseRequestHead(bigger, 0, partial.length, LIMITS).kind, 'incomplete');
});

test('heads split at every byte offset: incomplete, then the same head', () => {
  const heads = [
    CURL,
    'POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\nConnection: keep-alive, Upgrade\r\nUpgrade: h2c\r\nExpect: 100-continue\r\n\r\n',
    '\r\nGET http://a/ HTTP/1.0\r\nContent-Length: 3\r\nX: \t\r\n\r\n',
  ];
  for (const s of heads) {
    const full = parse(s);
    assert.equal(full.kind, 'head');
    const b = Buffer.from(s, 'latin1');
    for (let k = 0; k < b.length; k++) {
      assert.equal(parseRequestHead(b, 0, k, LIMITS).kind, 'incomplete', `prefix ${k} of ${JSON.stringify(s)}`);
    }
    assert.deepEqual(parseRequestHead(b, 0, b.length, LIMITS), full);
  }
});

test('every prefix of a bad head is incomplete or the same refusal', () => {
  const bad = ['GET / HTTP/1.1\r\nHost: a\r\nA: b\nC: d\r\n\r\n', 'GET / HTTP/1.1\r\nHost: a\r\n b: c\r\n\r\n', 'GET /\x01 HTTP/1.1\r\n\r\n'];
  for (const s of bad) {
    const full = parse(s);
    assert.equal(full.kind, 'error');
    const b = Buffer.from(s, 'latin1');
    for (let k = 0; k < b.length; k++) {
      const r = parseRequestHead(b, 0, k, LIMITS);
      if (r.kind !== 'incomplete') assert.deepEqual(r, full);
    }
  }
});

test('431: too many fields, or more than maxHeadSize bytes without a complete head', () => {
  const many = 'GET / HTTP/1.1\r\nHost: a\r\n' + 'X: y\r\n'.repeat(10) + '\r\n';
  assert.equal(parse(many, { maxHeadSize: 16384, maxHeaders: 11 }).kind, 'head');
  const r = parse(many, { maxHeadSize: 16384, maxHeaders: 10 });
  assert.equal(r.kind === 'error' && r.status, 431);
  const big = 'GET / HTTP/1.1\r\nHost: a\r\nX: ' + 'y'.repeat(200) + '\r\n\r\n';
  assert.equal(parse(big, { maxHeadSize: big.length, maxHeaders: 10 }).kind, 'head');
  const over = parse(big, { maxHeadSize: big.length - 1, maxHeaders: 10 });
  assert.equal(over.kind === 'error' && over.status, 431);
  // Slow drip: incomplete while within the bound, 431 once past it.
  const b = Buffer.from(big, 'latin1');
  assert.equal(parseRequestHead(b, 0, 100, { maxHeadSize: 150, maxHeaders: 10 }).kind, 'incomplete');
  const drip = parseRequestHead(b, 0, 151, { maxHeadSize: 150, maxHeaders: 10 });
  assert.equal(drip.kind === 'error' && drip.status, 431);
  // Syntax errors inside the bound still win.
  const bad = parseRequestHead(Buffer.from('GET / HTTP/1.1\r\nA\x00' + 'x'.repeat(300), 'latin1'), 0, 300, { maxHeadSize: 150, maxHeaders: 10 });
  assert.equal(bad.kind === 'error' && bad.status, 400);
});

test('hundreds of fields (scratch offsets grow)', () => {
  const lines = Array.from({ length: 300 }, (_, i) => `X-${i}: v${i}\r\n`).join('');
  const r = parse(`GET / HTTP/1.1\r\nHost: a\r\n${lines}\r\n`, { maxHeadSize: 1 << 16, maxHeaders: 1000 });
  assert.ok(r.kind === 'head');
  if (r.kind !== 'head') return;
  assert.equal(r.head.headers.length, 602);
  assert.deepEqual(r.head.headers.slice(-2), ['X-299', 'v299']);
  assert.equal(head(CURL).headers.length, 6, 'a later small head is unaffected');
});

test('fieldValues: the fields an access log prints, from the parser\'s notes or one pass over the lines', () => {
  const h = head('GET / HTTP/1.1\r\nHost: a\r\nuser-AGENT:  tool/1 \r\nX-Id: 7\r\nAuthorization: Basic eDp5\r\n\r\n');
  assert.deepEqual(h.fieldValues(['user-agent', 'referer', 'authorization']), ['tool/1', undefined, 'Basic eDp5']);
  // A name the parser does not note: the lines are read.
  assert.deepEqual(h.fieldValues(['x-id', 'user-agent', 'cookie']), ['7', 'tool/1', undefined]);
  assert.deepEqual(head('GET / HTTP/1.1\r\nHost: a\r\n\r\n').fieldValues(['user-agent', 'x-id']), [undefined, undefined]);
  // Repeats: null, the caller joins them its own way.
  assert.equal(head('GET / HTTP/1.1\r\nHost: a\r\nReferer: x\r\nreferer: y\r\n\r\n').fieldValues(['referer']), null);
  assert.equal(head('GET / HTTP/1.1\r\nHost: a\r\nX-Id: 1\r\nX-Id: 2\r\n\r\n').fieldValues(['x-id']), null);
});
