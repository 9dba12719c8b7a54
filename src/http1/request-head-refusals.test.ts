import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRequestHead } from './request-head.js';

/** Each request head Node 20's http server (llhttp + its Host check) or RFC 9112 refuses, with our status. */
const H = 'Host: a\r\n';
const REFUSALS: Array<[string, number, string]> = [
  // request line
  ['G(T / HTTP/1.1\r\n' + H + '\r\n', 400, 'non-token method'],
  [' GET / HTTP/1.1\r\n' + H + '\r\n', 400, 'leading space'],
  ['GET\t/ HTTP/1.1\r\n' + H + '\r\n', 400, 'HTAB after method'],
  ['FOO / HTTP/1.1\r\n' + H + '\r\n', 501, 'unknown method'],
  ['get / HTTP/1.1\r\n' + H + '\r\n', 501, 'lower-case method'],
  ['DESCRIBE / HTTP/1.1\r\n' + H + '\r\n', 501, 'RTSP method'],
  ['PRI * HTTP/1.1\r\n' + H + '\r\n', 501, 'PRI'],
  ['GET  / HTTP/1.1\r\n' + H + '\r\n', 400, 'two spaces after method'],
  ['GET /  HTTP/1.1\r\n' + H + '\r\n', 400, 'two spaces after target'],
  ['GET /a b HTTP/1.1\r\n' + H + '\r\n', 400, 'space in target'],
  ['GET /\x01 HTTP/1.1\r\n' + H + '\r\n', 400, 'CTL in target'],
  ['GET /\t HTTP/1.1\r\n' + H + '\r\n', 400, 'HTAB in target'],
  ['GET /\x7f HTTP/1.1\r\n' + H + '\r\n', 400, 'DEL in target'],
  ['GET /\xe9 HTTP/1.1\r\n' + H + '\r\n', 400, 'non-ASCII in target'],
  ['GET foo HTTP/1.1\r\n' + H + '\r\n', 400, 'relative target'],
  ['GET * HTTP/1.1\r\n' + H + '\r\n', 400, 'asterisk with GET'],
  ['OPTIONS *a HTTP/1.1\r\n' + H + '\r\n', 400, 'asterisk plus more'],
  ['GET h1://a/ HTTP/1.1\r\n' + H + '\r\n', 400, 'digit in scheme'],
  ['GET http:/a HTTP/1.1\r\n' + H + '\r\n', 400, 'scheme without //'],
  ['GET http:///a HTTP/1.1\r\n' + H + '\r\n', 400, 'empty authority'],
  ['GET http://u@a/ HTTP/1.1\r\n' + H + '\r\n', 400, 'userinfo'],
  ['GET http://a#f HTTP/1.1\r\n' + H + '\r\n', 400, 'fragment right after authority'],
  ['CONNECT / HTTP/1.1\r\n' + H + '\r\n', 400, 'CONNECT origin-form'],
  ['CONNECT a HTTP/1.1\r\n' + H + '\r\n', 400, 'CONNECT without port'],
  ['CONNECT http://a:1 HTTP/1.1\r\n' + H + '\r\n', 400, 'CONNECT absolute-form'],
  ['GET /\r\n' + H + '\r\n', 400, 'HTTP/0.9 request line'],
  ['GET / HTTP/1.2\r\n' + H + '\r\n', 505, 'HTTP/1.2'],
  ['GET / HTTP/2.0\r\n' + H + '\r\n', 505, 'HTTP/2.0'],
  ['GET / HTTP/0.9\r\n' + H + '\r\n', 505, 'HTTP/0.9'],
  ['GET / HTTP/1\r\n' + H + '\r\n', 400, 'no minor'],
  ['GET / HTTP/1.10\r\n' + H + '\r\n', 400, 'two-digit minor'],
  ['GET / http/1.1\r\n' + H + '\r\n', 400, 'lower-case protocol'],
  ['GET / RTSP/1.0\r\n' + H + '\r\n', 400, 'RTSP'],
  ['GET / HTTP/1.1 \r\n' + H + '\r\n', 400, 'space after version'],
  // line endings
  ['GET / HTTP/1.1\n' + H + '\r\n', 400, 'bare LF after request line'],
  ['GET / HTTP/1.1\r' + H + '\r\n', 400, 'bare CR after request line'],
  ['GET / HTTP/1.1\r\r\n' + H + '\r\n', 400, 'CR CR LF'],
  ['GET / HTTP/1.1\r\nHost: a\n\r\n', 400, 'bare LF after field'],
  ['GET / HTTP/1.1\r\nHost: a\r\nX: b\rc\r\n\r\n', 400, 'bare CR in value'],
  ['GET / HTTP/1.1\r\nHost: a\r\n\n', 400, 'bare LF ending the head'],
  ['GET / HTTP/1.1\r\nHost: a\r\n\r\r\n', 400, 'CR CR LF ending the head'],
  // field lines
  ['GET / HTTP/1.1\r\n Host: a\r\n\r\n', 400, 'space before first field'],
  ['GET / HTTP/1.1\r\n\tHost: a\r\n\r\n', 400, 'HTAB before first field'],
  ['GET / HTTP/1.1\r\nHost : a\r\n\r\n', 400, 'space before colon'],
  ['GET / HTTP/1.1\r\nHost\t: a\r\n\r\n', 400, 'HTAB before colon'],
  ['GET / HTTP/1.1\r\n' + H + ': b\r\n\r\n', 400, 'empty field name'],
  ['GET / HTTP/1.1\r\n' + H + 'Ab\r\n\r\n', 400, 'no colon'],
  ['GET / HTTP/1.1\r\n' + H + 'A(b: c\r\n\r\n', 400, 'separator in name'],
  ['GET / HTTP/1.1\r\n' + H + 'A\x00: c\r\n\r\n', 400, 'NUL in name'],
  ['GET / HTTP/1.1\r\n' + H + 'A\xe9: c\r\n\r\n', 400, 'non-ASCII in name'],
  ['GET / HTTP/1.1\r\n' + H + 'A: b\x00\r\n\r\n', 400, 'NUL in value'],
  ['GET / HTTP/1.1\r\n' + H + 'A: b\x01\r\n\r\n', 400, 'CTL in value'],
  ['GET / HTTP/1.1\r\n' + H + 'A: b\x1f\r\n\r\n', 400, 'US in value'],
  ['GET / HTTP/1.1\r\n' + H + 'A: b\x7f\r\n\r\n', 400, 'DEL in value'],
  ['GET / HTTP/1.1\r\n' + H + 'A: b\r\n c\r\n\r\n', 400, 'obs-fold with SP'],
  ['GET / HTTP/1.1\r\n' + H + 'A: b\r\n\tc\r\n\r\n', 400, 'obs-fold with HTAB'],
  // Content-Length
  ['POST / HTTP/1.1\r\n' + H + 'Content-Length: 1\r\nContent-Length: 1\r\n\r\n', 400, 'duplicate equal Content-Length'],
  ['POST / HTTP/1.1\r\n' + H + 'Content-Length: 1\r\ncontent-length: 2\r\n\r\n', 400, 'conflicting Content-Length'],
  ['POST / HTTP/1.1\r\n' + H + 'Content-Length: 1, 1\r\n\r\n', 400, 'Content-Length list'],
  ['POST / HTTP/1.1\r\n' + H + 'Content-Length: +1\r\n\r\n', 400, 'signed Content-Length'],
  ['POST / HTTP/1.1\r\n' + H + 'Content-Length: -1\r\n\r\n', 400, 'negative Content-Length'],
  ['POST / HTTP/1.1\r\n' + H + 'Content-Length: 1 1\r\n\r\n', 400, 'Content-Length with inner space'],
  ['POST / HTTP/1.1\r\n' + H + 'Content-Length: 0x10\r\n\r\n', 400, 'hex Content-Length'],
  ['POST / HTTP/1.1\r\n' + H + 'Content-Length:\r\n\r\n', 400, 'empty Content-Length'],
  ['POST / HTTP/1.1\r\n' + H + 'Content-Length: 1\t\r\n\r\n', 400, 'Content-Length with trailing HTAB (llhttp)'],
  ['POST / HTTP/1.1\r\n' + H + 'Content-Length: 9007199254740992\r\n\r\n', 400, 'Content-Length above 2^53-1'],
  ['POST / HTTP/1.1\r\n' + H + 'Content-Length: 99999999999999999999999\r\n\r\n', 400, 'huge Content-Length'],
  // Transfer-Encoding
  ['POST / HTTP/1.1\r\n' + H + 'Transfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n', 400, 'TE then CL'],
  ['POST / HTTP/1.1\r\n' + H + 'Content-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n', 400, 'CL then TE'],
  ['POST / HTTP/1.1\r\n' + H + 'Transfer-Encoding: gzip\r\n\r\n', 400, 'TE not ending in chunked'],
  ['POST / HTTP/1.1\r\n' + H + 'Transfer-Encoding: identity\r\n\r\n', 400, 'TE identity'],
  ['POST / HTTP/1.1\r\n' + H + 'Transfer-Encoding: chunked, gzip\r\n\r\n', 400, 'chunked not final'],
  ['POST / HTTP/1.1\r\n' + H + 'Transfer-Encoding: chunked, chunked\r\n\r\n', 400, 'chunked twice'],
  ['POST / HTTP/1.1\r\n' + H + 'Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n', 400, 'chunked twice over two lines'],
  ['POST / HTTP/1.1\r\n' + H + 'Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n', 400, 'coding after chunked on a second line'],
  ['POST / HTTP/1.1\r\n' + H + 'Transfer-Encoding: chunked,\r\n\r\n', 400, 'comma after chunked'],
  ['POST / HTTP/1.1\r\n' + H + 'Transfer-Encoding: chunked\t\r\n\r\n', 400, 'chunked + trailing HTAB (llhttp)'],
  ['POST / HTTP/1.1\r\n' + H + 'Transfer-Encoding: xchunked\r\n\r\n', 400, 'xchunked'],
  ['POST / HTTP/1.1\r\n' + H + 'Transfer-Encoding:\r\n\r\n', 400, 'empty TE'],
  ['POST / HTTP/1.1\r\n' + H + 'Transfer-Encoding: \t\r\n\r\n', 400, 'blank TE'],
  ['POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n', 400, 'TE in HTTP/1.0'],
  // Host
  ['GET / HTTP/1.1\r\n\r\n', 400, 'missing Host'],
  ['GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n', 400, 'two Host lines'],
  ['GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n', 400, 'two Host lines in HTTP/1.0'],
  ['GET / HTTP/1.1\r\nHost: a b\r\n\r\n', 400, 'space in Host'],
  ['GET / HTTP/1.1\r\nHost: a/b\r\n\r\n', 400, 'slash in Host'],
  ['GET / HTTP/1.1\r\nHost: u@a\r\n\r\n', 400, 'userinfo in Host'],
  ['GET / HTTP/1.1\r\nHost: a:b\r\n\r\n', 400, 'non-digit port'],
  ['GET / HTTP/1.1\r\nHost: [::1\r\n\r\n', 400, 'unclosed IP literal'],
  ['GET / HTTP/1.1\r\nHost: a, b\r\n\r\n', 400, 'Host list'],
];

test('refusals', () => {
  for (const [s, status, what] of REFUSALS) {
    const b = Buffer.from(s, 'latin1');
    const r = parseRequestHead(b, 0, b.length, { maxHeadSize: 16384, maxHeaders: 100 });
    assert.equal(r.kind, 'error', what);
    if (r.kind === 'error') {
      assert.equal(r.status, status, `${what}: ${r.reason}`);
      assert.ok(r.reason.length > 0);
    }
  }
});

