import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseResponseHead, type ResponseHead, type ResponseHeadResult } from './response-head.js';

const LIMITS = { maxHeadSize: 16384, maxHeaders: 100 };

function parse(s: string, method = 'GET', limits = LIMITS): ResponseHeadResult {
  const b = Buffer.from(s, 'latin1');
  return parseResponseHead(b, 0, b.length, limits, method);
}

function head(s: string, method = 'GET'): ResponseHead {
  const r = parse(s, method);
  if (r.kind !== 'head') assert.fail(`expected a head for ${JSON.stringify(s)}, got ${JSON.stringify(r)}`);
  return r.head;
}

type Framing = 'none' | 'length' | 'chunked' | 'close';
function framing(h: ResponseHead): Framing {
  return h.noBody ? 'none' : h.chunked ? 'chunked' : h.closeDelimited ? 'close' : 'length';
}

test('200 with Content-Length', () => {
  const s = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello';
  const r = parse(s);
  assert.equal(r.kind === 'head' && r.next, s.length - 5);
  const h = head(s);
  assert.deepEqual({ ...h, reason: h.reason, headers: h.headers }, {
    status: 200, reason: 'OK', versionMinor: 1, headers: ['Content-Type', 'text/plain', 'Content-Length', '5'],
    contentLength: 5, chunked: false, closeDelimited: false, noBody: false, keepAlive: true, connectionTokens: [],
    passLines: 'Content-Type: text/plain\r\nContent-Length: 5\r\n', keepAliveValue: undefined,
  });
});

test('passLines: the field lines as received, less the hop-by-hop ones', () => {
  const lines = (fields: string) => head(`HTTP/1.1 200 OK\r\n${fields}\r\n`).passLines;
  assert.equal(lines(''), '');
  assert.equal(lines('A:  1 \r\n'), 'A:  1 \r\n');
  assert.equal(lines('Connection: keep-alive\r\nA: 1\r\n'), 'A: 1\r\n');
  assert.equal(lines('A: 1\r\nKeep-Alive: timeout=5\r\nB: 2\r\nTE: x\r\nTrailer: y\r\nC: 3\r\nUpgrade: z\r\n'), 'A: 1\r\nB: 2\r\nC: 3\r\n');
  assert.equal(lines('Proxy-Authenticate: a\r\nPROXY-AUTHORIZATION: b\r\nProxy-Connection: c\r\nTransfer-Encoding: chunked\r\nD: 4\r\n'), 'D: 4\r\n');
  assert.equal(lines('Connection: close, Upgrade\r\nE: 5\r\n'), 'E: 5\r\n');
  // Connection naming another field: the caller must filter the decoded headers instead.
  assert.equal(lines('Connection: x-hop\r\nX-Hop: 1\r\nF: 6\r\n'), undefined);
  const h = head('HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5, max=100\r\n\r\n');
  assert.equal(h.keepAliveValue, 'timeout=5, max=100');
});

test('body framing by status, method and fields (RFC 9112 6.3)', () => {
  const cases: Array<[string, string, Framing, boolean]> = [
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', 'GET', 'chunked', true],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n', 'GET', 'chunked', true],
    ['HTTP/1.1 200 OK\r\n\r\n', 'GET', 'close', false],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n', 'GET', 'close', false],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n', 'GET', 'close', false],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked,\r\n\r\n', 'GET', 'close', false],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n', 'GET', 'close', false],
    ['HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', 'GET', 'length', true],
    ['HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n', 'HEAD', 'none', true],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', 'HEAD', 'none', true],
    ['HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n', 'GET', 'none', true],
    ['HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n', 'GET', 'none', true],
    ['HTTP/1.1 304 Not Modified\r\n\r\n', 'GET', 'none', true],
    ['HTTP/1.1 100 Continue\r\n\r\n', 'POST', 'none', true],
    ['HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n', 'GET', 'none', true],
    ['HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n', 'GET', 'none', true],
    ['HTTP/1.1 200 Connection established\r\n\r\n', 'CONNECT', 'none', false],
    ['HTTP/1.1 200 OK\r\n\r\n', 'HEAD', 'none', false],
    ['HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n', 'HEAD', 'none', true],
    ['HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 3\r\n\r\n', 'CONNECT', 'length', true],
    ['HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\n', 'GET', 'length', false],
    ['HTTP/1.0 200 OK\r\nContent-Length: 3\r\nConnection: keep-alive\r\n\r\n', 'GET', 'length', true],
    ['HTTP/1.0 200 OK\r\n\r\n', 'GET', 'close', false],
    ['HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\n', 'GET', 'length', false],
  ];
  for (const [s, method, want, keepAlive] of cases) {
    const h = head(s, method);
    assert.equal(framing(h), want, `${method} ${JSON.stringify(s)}`);
    assert.equal(h.keepAlive, keepAlive, `keepAlive of ${method} ${JSON.stringify(s)}`);
  }
});

test('a 1xx head, then the final head from next', () => {
  const s = 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok';
  const b = Buffer.from(s, 'latin1');
  const first = parseResponseHead(b, 0, b.length, LIMITS, 'POST');
  assert.ok(first.kind === 'head' && first.head.status === 100 && first.head.noBody);
  if (first.kind !== 'head') return;
  const second = parseResponseHead(b, first.next, b.length, LIMITS, 'POST');
  assert.ok(second.kind === 'head' && second.head.status === 201 && second.head.contentLength === 2);
  assert.equal(second.kind === 'head' && b.toString('latin1', second.next), 'ok');
});

test('status line variants', () => {
  assert.equal(head('HTTP/1.1 200\r\n\r\n').reason, '');
  assert.equal(head('HTTP/1.1 200 \r\n\r\n').reason, '');
  assert.equal(head('HTTP/1.1 200  Very\tOK \xe9\r\n\r\n').reason, ' Very\tOK \xe9');
  assert.equal(head('HTTP/1.1 999 Whatever\r\n\r\n').status, 999);
  assert.equal(head('\r\nHTTP/1.1 200 OK\r\n\r\n').status, 200);
  const h = head('HTTP/1.1 200 OK\r\nConnection: Keep-Alive, X-Hop\r\nX: a\tb \r\n\r\n');
  assert.deepEqual(h.connectionTokens, ['keep-alive', 'x-hop']);
  assert.deepEqual(h.headers, ['Connection', 'Keep-Alive, X-Hop', 'X', 'a\tb']);
});

test('heads split at every byte offset: incomplete, then the same head', () => {
  for (const s of ['HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX: y\r\n\r\n', 'HTTP/1.0 404\r\n\r\n', '\nHTTP/1.1 204 No Content\r\n\r\n']) {
    const b = Buffer.from(s, 'latin1');
    const full = parseResponseHead(b, 0, b.length, LIMITS, 'GET');
    assert.equal(full.kind, 'head');
    for (let k = 0; k < b.length; k++) assert.equal(parseResponseHead(b, 0, k, LIMITS, 'GET').kind, 'incomplete', `prefix ${k}`);
  }
});

test('refusals', () => {
  const bad: Array<[string, string]> = [
    ['HTTP/1.1 20 OK\r\n\r\n', 'two-digit status'],
    ['HTTP/1.1 2000 OK\r\n\r\n', 'four-digit status'],
    ['HTTP/1.1 2x0 OK\r\n\r\n', 'letter in status'],
    ['HTTP/1.1 099 X\r\n\r\n', 'status below 100'],
    ['HTTP/1.1  200 OK\r\n\r\n', 'two spaces before status'],
    ['HTTP/1.1 200OK\r\n\r\n', 'no space before reason'],
    ['HTTP/2.0 200 OK\r\n\r\n', 'HTTP/2.0'],
    ['HTTP/0.9 200 OK\r\n\r\n', 'HTTP/0.9'],
    ['HTTP/1.2 200 OK\r\n\r\n', 'HTTP/1.2'],
    ['http/1.1 200 OK\r\n\r\n', 'lower-case protocol'],
    ['RTSP/1.0 200 OK\r\n\r\n', 'RTSP'],
    ['HTTP/1.1 200 O\x01K\r\n\r\n', 'CTL in reason'],
    ['HTTP/1.1 200 O\x7fK\r\n\r\n', 'DEL in reason'],
    ['HTTP/1.1 200 OK\n\r\n', 'bare LF after status line'],
    ['HTTP/1.1 200 OK\rX: y\r\n\r\n', 'bare CR after status line'],
    ['HTTP/1.1 200 OK\r\nX: y\n\r\n', 'bare LF after field'],
    ['HTTP/1.1 200 OK\r\nX: y\r\n z\r\n\r\n', 'obs-fold'],
    ['HTTP/1.1 200 OK\r\n X: y\r\n\r\n', 'space before first field'],
    ['HTTP/1.1 200 OK\r\nX : y\r\n\r\n', 'space before colon'],
    ['HTTP/1.1 200 OK\r\nX: \x00\r\n\r\n', 'NUL in value'],
    ['HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n', 'duplicate Content-Length'],
    ['HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n', 'invalid Content-Length'],
    ['HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n', 'empty Content-Length'],
    ['HTTP/1.1 200 OK\r\nContent-Length: 9007199254740992\r\n\r\n', 'Content-Length above 2^53-1'],
    ['HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n', 'CL + TE'],
    ['HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n', 'TE + CL even without body'],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n', 'chunked twice'],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n', 'chunked twice over two lines'],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding:\r\n\r\n', 'empty TE'],
    ['HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', 'TE in HTTP/1.0'],
  ];
  for (const [s, what] of bad) {
    const r = parse(s);
    assert.equal(r.kind, 'error', what);
    assert.ok(r.kind === 'error' && r.reason.length > 0);
  }
});

test('limits: too many fields, head too large', () => {
  const s = 'HTTP/1.1 200 OK\r\n' + 'X: y\r\n'.repeat(5) + '\r\n';
  assert.equal(parse(s, 'GET', { maxHeadSize: 1000, maxHeaders: 5 }).kind, 'head');
  assert.equal(parse(s, 'GET', { maxHeadSize: 1000, maxHeaders: 4 }).kind, 'error');
  assert.equal(parse(s, 'GET', { maxHeadSize: s.length, maxHeaders: 5 }).kind, 'head');
  assert.equal(parse(s, 'GET', { maxHeadSize: s.length - 1, maxHeaders: 5 }).kind, 'error');
});
