/**
 * Test support for fuzz.test.ts: fast-check generators of mostly-valid HTTP/1.1 request heads,
 * response heads and chunked bodies, plus targeted byte mutations (CR, LF, NUL, SP, HTAB, DEL,
 * obs-text, separators; deletions, duplicated lines, obs-fold), all as latin1 strings.
 */
import fc from 'fast-check';

/** Bytes the mutations insert or substitute: the ones parsers disagree about. */
const MUTATION_BYTES = ['\r', '\n', '\x00', ' ', '\t', '\x7f', '\xff', '\x80', ':', ',', ';', '=', '"', '\\', 'a', '0', '@', '/', '\r\n', '\r\n\r\n'];

export interface Mutation {
  kind: 'insert' | 'replace' | 'delete' | 'dupLine' | 'fold';
  pos: number;
  text: string;
}

const mutation: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom<Mutation['kind']>('insert', 'insert', 'replace', 'replace', 'delete', 'dupLine', 'fold'),
  pos: fc.nat(1 << 20),
  text: fc.constantFrom(...MUTATION_BYTES),
});

/** None most of the time, so valid inputs stay common; otherwise one to three. */
export const mutations: fc.Arbitrary<Mutation[]> = fc.oneof(
  { arbitrary: fc.constant<Mutation[]>([]), weight: 6 },
  { arbitrary: fc.array(mutation, { minLength: 1, maxLength: 3 }), weight: 4 },
);

/** Applies the mutations to s in order, each at its position modulo the current length. */
export function mutate(s: string, ms: Mutation[]): string {
  for (const m of ms) {
    if (s.length === 0) break;
    const at = m.pos % s.length;
    if (m.kind === 'insert') s = s.slice(0, at) + m.text + s.slice(at);
    else if (m.kind === 'replace') s = s.slice(0, at) + m.text + s.slice(at + 1);
    else if (m.kind === 'delete') s = s.slice(0, at) + s.slice(at + 1);
    else {
      const ls = s.lastIndexOf('\r\n', at) + 2;
      const le = s.indexOf('\r\n', at);
      if (ls < 2 || le < 0) continue;
      const line = m.kind === 'dupLine' ? s.slice(ls, le + 2) : (m.text === '\t' ? '\t' : ' ') + 'folded\r\n';
      s = s.slice(0, le + 2) + line + s.slice(le + 2);
    }
  }
  return s;
}

const tokenChars = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&\'*+-.^_`|~'.split(''));
const valueChars = fc.oneof(
  { arbitrary: fc.constantFrom(...'abcxyzABC0123456789 ;=/,.-_"()'.split('')), weight: 200 },
  { arbitrary: fc.constantFrom('\t', '\xe9', '\x80', '\xff'), weight: 4 },
  { arbitrary: fc.constantFrom('\x7f', '\x01', '\x00'), weight: 1 },
);
const token = fc.string({ unit: tokenChars, minLength: 1, maxLength: 12 });
const fieldValue = fc.string({ unit: valueChars, maxLength: 24 });

/** Values for the fields that decide framing and routing, good and bad. */
const SPECIAL_VALUES: Record<string, string[]> = {
  'Content-Length': ['0', '5', '42', '005', '', ' 7 ', '1\t', '+1', '-1', '1,1', '1 1', '0x10', '9007199254740991', '9007199254740992', '99999999999999999999999'],
  'Transfer-Encoding': ['chunked', 'Chunked', 'gzip, chunked', 'chunked, gzip', 'chunked,', ',chunked', 'gzip,,chunked', 'chunked, chunked', 'identity', '', ' ', 'chunked\t', 'chunked ', 'xchunked', 'gzip'],
  Connection: ['close', 'keep-alive', 'Keep-Alive', 'upgrade', 'Upgrade, HTTP2-Settings', 'close, keep-alive', 'x, close', 'closed', 'close\t', 'te', '', 'TE, keep-alive', 'x-other', 'x-forwarded-for'],
  'Proxy-Connection': ['close', 'keep-alive'],
  Upgrade: ['websocket', 'h2c', ''],
  Expect: ['100-continue', '100-Continue', 'nope'],
  Host: ['example.com', 'a:8080', '[::1]:443', '', 'a b', 'u@h', 'a/b', 'h:x', '[::1'],
  // Fields a proxy drops or rewrites (hop-by-hop, forwarding).
  'Keep-Alive': ['timeout=5', 'timeout=5, max=100', ''],
  TE: ['trailers', 'gzip'],
  Trailer: ['x-t'],
  'Proxy-Authorization': ['Basic eA=='],
  'Proxy-Authenticate': ['Basic'],
  'X-Forwarded-For': ['1.1.1.1', ' 2.2.2.2 ', '1.1.1.1, 3.3.3.3', ''],
  'X-Forwarded-Host': ['a.example', ''],
  'X-Forwarded-Proto': ['https', 'http'],
  Forwarded: ['for=1.1.1.1', 'for="[::1]";proto=https'],
  'X-Other': ['x'],
};
const specialName = fc.constantFrom(
  'Content-Length', 'Transfer-Encoding', 'Connection', 'Proxy-Connection', 'Upgrade', 'Expect', 'Host', 'Keep-Alive', 'TE', 'Trailer',
  'Proxy-Authorization', 'Proxy-Authenticate', 'X-Forwarded-For', 'X-Forwarded-Host', 'X-Forwarded-Proto', 'Forwarded', 'X-Other',
);
const nameCase = (n: string, mode: number): string => (mode === 1 ? n.toLowerCase() : mode === 2 ? n.toUpperCase() : n);

const field: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.tuple(token, fieldValue), weight: 5 },
  {
    arbitrary: fc.tuple(specialName, fc.nat(2), fc.nat(100)).map(([n, mode, k]) => {
      const vals = SPECIAL_VALUES[n]!;
      return [nameCase(n, mode), vals[k % vals.length]!] as [string, string];
    }),
    weight: 3,
  },
).map(([n, v]) => n + ':' + (v.length > 0 && v[0] !== ' ' ? ' ' : '') + v + '\r\n');

const fields = fc.array(field, { maxLength: 8 });

const methods = fc.oneof(
  { arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'HEAD', 'DELETE', 'OPTIONS', 'PATCH', 'CONNECT', 'QUERY', 'M-SEARCH'), weight: 12 },
  { arbitrary: fc.constantFrom('get', 'FOO', 'PRI', 'DESCRIBE', 'SOURCE', 'G(T', ''), weight: 1 },
);
const pathChar = fc.constantFrom(...'abcXYZ019-._~!$&\'()*+,;=:@/?%#[]"<>\\^`{|}'.split(''));
const targets = fc.oneof(
  { arbitrary: fc.string({ unit: pathChar, maxLength: 20 }).map((p) => '/' + p), weight: 10 },
  { arbitrary: fc.constantFrom('http://example.com/x', 'HTTP://a:80?q', 'http://[::1]/', 'http://u@h/', 'http:///x', 'h1://a/', 'http:/a', 'foo'), weight: 2 },
  { arbitrary: fc.constantFrom('*', '*x', 'example.com:443', '[::1]:443', 'a', 'a:', '/x'), weight: 2 },
);
const versions = fc.oneof(
  { arbitrary: fc.constantFrom('HTTP/1.1', 'HTTP/1.0'), weight: 12 },
  { arbitrary: fc.constantFrom('HTTP/2.0', 'HTTP/0.9', 'HTTP/1.2', 'HTTP/1', 'http/1.1', 'RTSP/1.0', 'ICE/1.0', 'HTTP/1.10'), weight: 1 },
);

/** A request head (maybe mutated), ending in CRLFCRLF unless a mutation broke that. */
export const requestHead: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom('', '', '', '\r\n'), methods, targets, versions, fc.nat(9), fields, mutations)
  .map(([pre, m, t, v, withHost, fs, ms]) => mutate(pre + `${m} ${t} ${v}\r\n` + (withHost > 0 ? 'Host: a\r\n' : '') + fs.join('') + '\r\n', ms));

const reasonChars = fc.oneof(
  { arbitrary: fc.constantFrom(...'OK Not Found\t\xe9'.split('')), weight: 100 },
  { arbitrary: fc.constantFrom('\x01', '\x7f'), weight: 1 },
);
const statuses = fc.oneof(
  { arbitrary: fc.constantFrom('200', '201', '204', '206', '301', '304', '404', '500', '100', '101', '103'), weight: 12 },
  { arbitrary: fc.constantFrom('000', '099', '999', '20', '2000', '2x0'), weight: 1 },
);

/** A response head (maybe mutated) and the method of the request it answers. */
export const responseHead: fc.Arbitrary<{ text: string; method: string }> = fc
  .tuple(versions, statuses, fc.string({ unit: reasonChars, maxLength: 12 }), fc.boolean(), fields, mutations, fc.constantFrom('GET', 'GET', 'POST', 'HEAD'))
  .map(([v, st, reason, sp, fs, ms, method]) => ({
    text: mutate(`${v} ${st}${sp || reason.length > 0 ? ' ' : ''}${reason}\r\n` + fs.join('') + '\r\n', ms),
    method,
  }));

const dataChars = fc.constantFrom(...'abcdefgh0123456789\r\n'.split(''));
const extension = fc.oneof(
  { arbitrary: fc.tuple(token, fc.constantFrom('', '=v', '=tok', '="q s"', '="a\\"b"', '=""')).map(([n, v]) => `;${n}${v}`), weight: 6 },
  { arbitrary: fc.constantFrom(';', ';=v', ';a=', ' ;a', ';a =b', ';a="x', ';a="\x01"'), weight: 1 },
);
const chunk = fc
  .tuple(fc.string({ unit: dataChars, minLength: 1, maxLength: 20 }), fc.nat(3), fc.boolean(), fc.array(extension, { maxLength: 2 }))
  .map(([data, zeros, upper, exts]) => {
    const hex = data.length.toString(16);
    return '0'.repeat(zeros) + (upper ? hex.toUpperCase() : hex) + exts.join('') + '\r\n' + data + '\r\n';
  });
const trailerFields = fc.array(
  fc.oneof({ arbitrary: fc.tuple(token, fieldValue).map(([n, v]) => `${n}: ${v}\r\n`), weight: 5 }, { arbitrary: fc.constantFrom('Content-Length: 1\r\n', 'Host: x\r\n'), weight: 1 }),
  { maxLength: 3 },
);

/** A chunked body (maybe mutated), sometimes followed by bytes of a next message. */
export const chunkedBody: fc.Arbitrary<string> = fc
  .tuple(fc.array(chunk, { maxLength: 4 }), fc.constantFrom('0', '0', '0', '000', '0;x=y', '00000000000000000'), trailerFields, mutations, fc.constantFrom('', '', 'GET / HTTP/1.1\r\nHost: a\r\n\r\n'))
  .map(([chunks, last, trailers, ms, after]) => {
    const body = chunks.join('') + last + '\r\n' + trailers.join('') + '\r\n';
    return mutate(body, ms) + after;
  });
