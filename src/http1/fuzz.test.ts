/**
 * Differential fuzzing against llhttp (Node 20's http parser, via llhttp-oracle.ts): for
 * generated, mostly-valid and then mutated inputs, our verdict (accept / refuse / need more bytes)
 * must equal llhttp's (plus Node's own missing-Host check), and for accepted messages so must
 * method, target, version, every header, body framing (Content-Length / chunked / close /
 * none) and keep-alive. Fixed seeds and run counts keep CI deterministic and fast.
 *
 * We may only be stricter than llhttp, and only in the ways listed in REQUEST_DIFFERENCES,
 * RESPONSE_DIFFERENCES and CHUNKED_DIFFERENCES below (the list of known differences): each names
 * the rule, why we keep it, the refusal reasons it may produce, and a check on llhttp's reading of
 * the input that it really falls under the rule. Other deliberate differences, not refusals:
 * - keep-alive: OWS around Connection tokens is trimmed (`close\t` closes; llhttp keeps alive), and
 *   an HTTP/1.0 message with both close and keep-alive closes (llhttp keeps alive).
 * - upgrade: our flag means Connection: upgrade + Upgrade only; llhttp also sets it for CONNECT.
 * - 204 responses and 2xx answers to CONNECT never have a body; a CONNECT tunnel is not keep-alive.
 * - Bounds llhttp does not have (not reached by the generators): more than maxHeaders field lines is
 *   431 (Node truncates the list), chunk extensions over 4 KiB on one line, a trailer section over
 *   16 KiB or 64 fields (all configurable).
 * - Refusals may come earlier than llhttp's: a rule of ours can fire before llhttp has seen enough
 *   bytes to refuse (early), and llhttp can refuse a field line before its CRLF arrives, where we
 *   wait for the line end (late: the head is refused once completed).
 */
import { splitFields } from './field-text.js';
import { downstreamResponseHeaders, upstreamLines, upstreamRequestHeaders } from '../proxy/headers.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseRequestHead } from './request-head.js';
import { parseResponseHead } from './response-head.js';
import { runLlhttp } from './llhttp-oracle.js';
import { chunkedBody, requestHead, responseHead } from './fuzz-gen.js';
import {
  HOST_VALUE, Tally, check, chunkedCount, clientSkip, firstLine, keepAliveComparable, lengthOf, llFraming, llRequest,
  ourChunked, tooLong, values, type Difference, type Seen,
} from './fuzz-support.js';

const LIMITS = { maxHeadSize: 1 << 20, maxHeaders: 1000 };
/** HW_FUZZ_RUNS scales the run counts and HW_FUZZ_SEED replaces the fixed seeds, for deeper local runs. */
const SCALE = Number(process.env['HW_FUZZ_RUNS'] ?? 1);
const RUNS = { request: 4000 * SCALE, response: 3000 * SCALE, chunked: 3000 * SCALE };
const seed = (fixed: number): number => (process.env['HW_FUZZ_SEED'] ? Number(process.env['HW_FUZZ_SEED']) : fixed);

/** Where we refuse requests llhttp (Node 20, non-lenient) accepts. */
export const REQUEST_DIFFERENCES: Difference<Seen>[] = [
  {
    id: 'request-line', why: 'RFC 9112 3: exactly `method SP target SP HTTP/1.x`; llhttp also takes runs of spaces, HTTP/0.9 lines, HTTP/0.9 and 2.0 versions, RTSP/ICE protocols (with their methods)',
    reasons: ['more than one space after method', 'request line without HTTP version or invalid target', 'invalid request-target', 'invalid HTTP version', 'HTTP version not supported', 'unknown method'],
    applies: ({ raw, m }) => firstLine(raw) !== `${m.method} ${m.url} HTTP/${m.versionMajor}.${m.versionMinor}` || m.versionMajor !== 1 || m.versionMinor > 1,
  },
  {
    id: 'target-form', why: 'RFC 9112 3.2: asterisk-form is `OPTIONS *` only, CONNECT takes authority-form host:port only, and userinfo or an empty authority in absolute-form is refused (RFC 9110 4.2.4)',
    reasons: ['asterisk-form is only "*" with OPTIONS', 'CONNECT target is not host:port', 'userinfo in request-target', 'empty authority in request-target'],
    applies: ({ m }) => (m.url.startsWith('*') && !(m.url === '*' && m.method === 'OPTIONS')) ||
      (m.method === 'CONNECT' && !/^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]+):[0-9]+$/.test(m.url)) ||
      /^[A-Za-z]+:\/\/(?:[^/?]*@|[/?]|$)/.test(m.url),
  },
  {
    id: 'host', why: 'RFC 9112 3.2: 400 for more than one Host or an invalid Host value (Node only checks presence); the gateway routes on it',
    reasons: ['more than one Host', 'invalid Host'],
    applies: ({ m }) => values(m, 'host').length > 1 || values(m, 'host').some((v) => !HOST_VALUE.test(v)),
  },
  {
    id: 'chunked-twice', why: 'RFC 9112 6.1: chunked at most once; llhttp misses it when the first one is followed by HTAB (`chunked\\t`)',
    reasons: ['chunked is not the final coding, or repeated'],
    applies: ({ m }) => chunkedCount(m) > 1,
  },
  {
    id: 'upgrade-transfer-encoding', why: 'RFC 9112 6.3: 400 when chunked is not the final coding; Node skips that check for Upgrade and CONNECT requests, whose bytes it hands over unframed',
    reasons: ['Transfer-Encoding without chunked as final coding', 'chunked is not the final coding, or repeated'], applies: ({ m }) => m.upgrade,
  },
  {
    id: 'empty-transfer-encoding', why: 'llhttp ignores an empty Transfer-Encoding line; another hop may not (smuggling)',
    reasons: ['empty Transfer-Encoding'], applies: ({ m }) => values(m, 'transfer-encoding').includes(''),
  },
  {
    id: 'transfer-encoding-http10', why: 'RFC 9112 6.1: Transfer-Encoding in an HTTP/1.0 message means faulty framing',
    reasons: ['Transfer-Encoding in an HTTP/1.0 request'], applies: ({ m }) => m.versionMinor === 0 && values(m, 'transfer-encoding').length > 0,
  },
  {
    id: 'content-length-range', why: 'lengths above 2^53-1 cannot be counted exactly in a JS number (llhttp takes up to 2^64-1)',
    reasons: ['invalid Content-Length'], applies: ({ m }) => values(m, 'content-length').some(tooLong),
  },
];

/** Where we refuse responses llhttp's response mode accepts. */
export const RESPONSE_DIFFERENCES: Difference<Seen>[] = [
  {
    id: 'status-line-version', why: 'only HTTP/1.0 and HTTP/1.1 upstreams (llhttp also takes 0.9, 2.0, RTSP, ICE)',
    reasons: ['invalid HTTP version', 'HTTP version not supported'], applies: ({ raw }) => !/^HTTP\/1\.[01] /.test(firstLine(raw)),
  },
  {
    id: 'status-line-bare-cr', why: 'RFC 9112 2.2: a bare CR ends no line (llhttp takes CR without LF after the status line)',
    reasons: ['status line not ended by CRLF'], applies: ({ raw }) => /^[\r\n]*[^\r\n]*\r[^\n]/.test(raw),
  },
  { id: 'status-below-100', why: 'RFC 9110 15: status codes are 100-599 (we allow to 999)', reasons: ['status code below 100'], applies: ({ m }) => m.status < 100 },
  {
    id: 'reason-ctl', why: 'RFC 9112 4: reason-phrase is HTAB / SP / VCHAR / obs-text; llhttp takes any byte but CR and LF, and we may relay it',
    reasons: ['invalid character in status line'], applies: ({ m }) => /[\x00-\x08\x0a-\x1f\x7f]/.test(m.reason),
  },
  {
    id: 'chunked-twice', why: 'RFC 9112 6.1: chunked must not be applied more than once (llhttp reads it as chunked)',
    reasons: ['chunked applied more than once'],
    applies: ({ m }) => chunkedCount(m) > 1,
  },
  { id: 'empty-transfer-encoding', why: 'as for requests', reasons: ['empty Transfer-Encoding'], applies: ({ m }) => values(m, 'transfer-encoding').includes('') },
  {
    id: 'transfer-encoding-http10', why: 'RFC 9112 6.1', reasons: ['Transfer-Encoding in an HTTP/1.0 response'],
    applies: ({ m }) => m.versionMinor === 0 && values(m, 'transfer-encoding').length > 0,
  },
  { id: 'content-length-range', why: 'as for requests', reasons: ['invalid Content-Length'], applies: ({ m }) => values(m, 'content-length').some(tooLong) },
];

/** Where we refuse chunked bodies llhttp accepts. */
export const CHUNKED_DIFFERENCES: Difference<string>[] = [
  { id: 'size-digits', why: 'at most 16 hex digits in a chunk size (llhttp takes any number of leading zeros)', reasons: ['chunk size has more than 16 hex digits'], applies: (b) => /(^|\n)[0-9a-fA-F]{17,}/.test(b) },
  { id: 'size-range', why: 'chunk sizes above 2^53-1 (llhttp: 2^64-1)', reasons: ['chunk size too large'], applies: (b) => /(^|\n)0*[0-9a-fA-F]{14,}/.test(b) },
  {
    id: 'extension-syntax', why: 'RFC 9112 7.1.1: chunk-ext-name and a chunk-ext-val token are non-empty, and a value is a token or a quoted-string (llhttp takes `;=v`, `;;`, `;a=`, `;a=b"c"`)',
    reasons: ['invalid chunk extension'], applies: (b) => /;[=;\r]|=[;\r]|=[-!#$%&'*+.^_`|~0-9A-Za-z]+"/.test(b),
  },
];

const EARLY_REQUEST = new Set(REQUEST_DIFFERENCES.flatMap((d) => d.reasons));
const EARLY_RESPONSE = new Set(RESPONSE_DIFFERENCES.flatMap((d) => d.reasons));
const refusesOnceComplete = (raw: string, parse: (b: Buffer) => { kind: string }): boolean =>
  parse(Buffer.from(raw + '\r\n\r\n', 'latin1')).kind === 'error';

test('request heads agree with llhttp', (t) => {
  const tally = new Tally();
  const parse = (b: Buffer) => parseRequestHead(b, 0, b.length, LIMITS);
  check(
    fc.property(requestHead, (raw) => {
      const buf = Buffer.from(raw, 'latin1');
      const ours = parse(buf);
      const ll = llRequest(buf);
      const ctx = `${JSON.stringify(raw)} ours=${JSON.stringify(ours)} llhttp=${JSON.stringify(ll)}`;
      if (ours.kind === 'head' && ll.kind === 'accept') {
        const h = ours.head, m = ll.m;
        assert.deepEqual([h.method, h.target, h.versionMinor, h.headers], [m.method, m.url, m.versionMinor, m.headers], ctx);
        if (keepAliveComparable(raw, m)) {
          assert.equal(h.keepAlive, m.keepAlive, `keepAlive ${ctx}`);
          if (m.method !== 'CONNECT') assert.equal(h.upgrade, m.upgrade, `upgrade ${ctx}`);
        }
        // Node frames no body for Upgrade or CONNECT requests: it hands the socket over.
        if (!m.upgrade) assert.equal(h.chunked ? 'chunked' : lengthOf(h.contentLength), llFraming('request', raw.slice(0, ours.next)), `framing ${ctx}`);
        // Lines passed on as received say what the upstream header rewrite makes of the fields.
        if (h.passLines !== undefined) {
          const info = { clientIp: '10.0.0.1', proto: 'http' as const, host: h.host, upstreamHost: 'up:1', rfc7239: false };
          assert.deepEqual(splitFields(`${upstreamLines(h.passLines, h.forwardedFor, info)}\r\n`, 0), upstreamRequestHeaders(h.headers, info), `passLines ${ctx}`);
          tally.add('relay');
        }
        tally.add('accept');
      } else if (ours.kind === 'error' && ll.kind === 'accept') {
        const d = REQUEST_DIFFERENCES.find((x) => x.reasons.includes(ours.reason) && x.applies({ raw, m: ll.m }));
        assert.ok(d, `we refuse what llhttp accepts, not a listed difference: ${ctx}`);
        tally.add(`stricter:${d.id}`);
      } else if (ours.kind === 'error' && ll.kind === 'incomplete') {
        assert.ok(EARLY_REQUEST.has(ours.reason), `early refusal ${ctx}`);
        tally.add('early-reject');
      } else if (ours.kind === 'incomplete' && ll.kind === 'reject') {
        assert.ok(refusesOnceComplete(raw, parse), `late refusal ${ctx}`);
        tally.add('late-reject');
      } else {
        assert.equal(ours.kind === 'head' ? 'accept' : ours.kind === 'error' ? 'reject' : 'incomplete', ll.kind, ctx);
        tally.add(ll.kind);
      }
    }),
    { seed: seed(0x48e4d), numRuns: RUNS.request },
  );
  tally.report(t);
  assert.ok(tally.get('accept') > RUNS.request / 5, 'the generator should produce plenty of valid heads');
});

test('response heads agree with llhttp', (t) => {
  const tally = new Tally();
  check(
    fc.property(responseHead, ({ text: raw, method }) => {
      const parse = (b: Buffer) => parseResponseHead(b, 0, b.length, LIMITS, method);
      const buf = Buffer.from(raw, 'latin1');
      const ours = parse(buf);
      const r = runLlhttp('response', buf, { skipBody: clientSkip(method) });
      const m = r.messages[0];
      const ctx = `${method} ${JSON.stringify(raw)} ours=${JSON.stringify(ours)} llhttp=${JSON.stringify(r)}`;
      if (ours.kind === 'head' && m) {
        const h = ours.head;
        assert.deepEqual([h.status, h.reason, h.versionMinor, h.headers], [m.status, m.reason, m.versionMinor, m.headers], ctx);
        if (keepAliveComparable(raw, m)) assert.equal(h.keepAlive, m.keepAlive, `keepAlive ${ctx}`);
        // The relayed lines say what the header filter keeps.
        if (h.passLines !== undefined) assert.deepEqual(splitFields(`${h.passLines}\r\n`, 0), downstreamResponseHeaders(h.headers), `passLines ${ctx}`);
        else assert.ok(h.connectionTokens.some((x) => x !== 'close' && x !== 'keep-alive' && x !== 'upgrade'), `no passLines ${ctx}`);
        const want = h.noBody ? 'length 0' : h.chunked ? 'chunked' : h.closeDelimited ? 'close' : lengthOf(h.contentLength);
        assert.equal(want, llFraming('response', raw.slice(0, ours.next), clientSkip(method)), `framing ${ctx}`);
        tally.add('accept');
      } else if (ours.kind === 'error' && m) {
        const d = RESPONSE_DIFFERENCES.find((x) => x.reasons.includes(ours.reason) && x.applies({ raw, m }));
        assert.ok(d, `we refuse what llhttp accepts, not a listed difference: ${ctx}`);
        tally.add(`stricter:${d.id}`);
      } else if (ours.kind === 'error' && !r.error) {
        assert.ok(EARLY_RESPONSE.has(ours.reason), `early refusal ${ctx}`);
        tally.add('early-reject');
      } else if (ours.kind === 'incomplete' && r.error) {
        assert.ok(refusesOnceComplete(raw, parse), `late refusal ${ctx}`);
        tally.add('late-reject');
      } else {
        assert.equal(ours.kind === 'head' ? 'accept' : ours.kind === 'error' ? 'reject' : 'incomplete', m ? 'accept' : r.error ? 'reject' : 'incomplete', ctx);
        tally.add(ours.kind === 'error' ? 'reject' : ours.kind);
      }
    }),
    { seed: seed(0x7e5b), numRuns: RUNS.response },
  );
  tally.report(t);
  assert.ok(tally.get('accept') > RUNS.response / 5);
});

const CHUNKED_HEAD = 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n';

test('chunked bodies agree with llhttp', (t) => {
  const tally = new Tally();
  check(
    fc.property(chunkedBody, fc.nat(), (raw, cutAt) => {
      const body = Buffer.from(raw, 'latin1');
      const ours = ourChunked(body, cutAt % (body.length + 1));
      assert.deepEqual(ourChunked(body, body.length), ours, 'a split must not change the outcome');
      const r = runLlhttp('request', Buffer.from(CHUNKED_HEAD + raw, 'latin1'));
      const m = r.messages[0]!;
      const ctx = `${JSON.stringify(raw)} ours=${JSON.stringify(ours)} llhttp=${JSON.stringify(r)}`;
      if (ours.error !== undefined && (m.complete || !r.error)) {
        const d = CHUNKED_DIFFERENCES.find((x) => x.reasons.includes(ours.error!) && x.applies(raw));
        assert.ok(d, `we refuse what llhttp accepts, not a listed difference: ${ctx}`);
        tally.add(`stricter:${d.id}`);
      } else if (m.complete) {
        assert.ok(ours.done, `llhttp completes the body: ${ctx}`);
        assert.equal(ours.data, m.body, ctx);
        const upTo = runLlhttp('request', Buffer.from(CHUNKED_HEAD + raw.slice(0, ours.consumed), 'latin1'));
        assert.ok(upTo.messages[0]!.complete && !upTo.error, `consumed ${ctx}`);
        tally.add('complete');
      } else if (ours.error === undefined && r.error) {
        assert.ok(ourChunked(Buffer.from(raw + '\r\n\r\n', 'latin1'), 0).error !== undefined, `late refusal ${ctx}`);
        tally.add('late-reject');
      } else {
        assert.equal(ours.done, false, ctx);
        assert.equal(ours.error !== undefined, r.error !== undefined, ctx);
        assert.ok(m.body.startsWith(ours.data) || ours.data.startsWith(m.body), ctx);
        tally.add(r.error ? 'reject' : 'incomplete');
      }
    }),
    { seed: seed(0xc4c), numRuns: RUNS.chunked },
  );
  tally.report(t);
  assert.ok(tally.get('complete') > RUNS.chunked / 5);
});
