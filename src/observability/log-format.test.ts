import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compileFormat, escape, type LogFormat } from './log-format.js';
import type { AccessRecord } from './events.js';

// $time_local and $time_iso8601 are local time; this file runs in its own process.
process.env.TZ = 'UTC';

const base: AccessRecord = {
  time: '2026-11-21T10:00:05.042Z', client: '10.0.0.7', method: 'GET', path: '/search?q=1', host: 'Example.COM:8080', status: 200, bytes: 512,
  duration_ms: 12.3456, route: 'api', upstream: 'app', protocol: 'HTTP/1.1',
  tries: [{ server: '127.0.0.1:9001', outcome: 'error', ms: 1.5 }, { server: '127.0.0.1:9002', outcome: 'ok', status: 200, header_ms: 3.25, ms: 10 }],
};

function compile(spec: string): LogFormat {
  const f = compileFormat(spec);
  if (typeof f === 'string') throw new Error(f);
  return f;
}

/** The record with its fields as the request path fills them (in the format's order). */
function withFields(f: LogFormat, r: AccessRecord, headers: Record<string, string>): AccessRecord {
  return { ...r, fields: f.fields.map((n) => headers[n]) };
}

test('combined is NGINX combined: user from Basic auth, referer and user agent, "-" for what is absent', () => {
  const f = compile('combined');
  assert.deepEqual([...f.fields].sort(), ['authorization', 'referer', 'user-agent']);
  const auth = `Basic ${Buffer.from('alice:secret').toString('base64')}`;
  assert.equal(
    f.line(withFields(f, base, { authorization: auth, referer: 'http://a/', 'user-agent': 'curl/8.5' })),
    '10.0.0.7 - alice [21/Nov/2026:10:00:05 +0000] "GET /search?q=1 HTTP/1.1" 200 512 "http://a/" "curl/8.5"\n',
  );
  assert.equal(f.line(withFields(f, base, {})), '10.0.0.7 - - [21/Nov/2026:10:00:05 +0000] "GET /search?q=1 HTTP/1.1" 200 512 "-" "-"\n');
  // Not Basic, or not decodable to user:password: no user.
  assert.match(f.line(withFields(f, base, { authorization: 'Bearer abc' })), /^10\.0\.0\.7 - - \[/);
  assert.match(f.line(withFields(f, base, { authorization: `Basic ${Buffer.from('nocolon').toString('base64')}` })), /^10\.0\.0\.7 - - \[/);
  assert.equal(f.ascii, true);
});

test('common is combined without referer and user agent', () => {
  const f = compile('common');
  assert.equal(f.line(withFields(f, base, {})), '10.0.0.7 - - [21/Nov/2026:10:00:05 +0000] "GET /search?q=1 HTTP/1.1" 200 512\n');
});

test('a template: request, timing and upstream variables as NGINX prints them', () => {
  const f = compile('$request_method $uri $args $server_protocol $host $request_time $msec $time_iso8601 ' +
    '$upstream_addr|$upstream_status|$upstream_response_time|$upstream_header_time ${route}/$upstream_name $error_code $http_x_request_id');
  assert.deepEqual(f.fields, ['x-request-id']);
  assert.equal(
    f.line(withFields(f, base, { 'x-request-id': 'r-1' })),
    'GET /search q=1 HTTP/1.1 example.com 0.012 1795255205.042 2026-11-21T10:00:05+00:00 ' +
      '127.0.0.1:9001, 127.0.0.1:9002|-, 200|0.002, 0.010|-, 0.003 api/app - r-1\n',
  );
  const bare = { ...base, path: '/', host: undefined, tries: [], route: undefined, upstream: undefined, code: 'HW_ERR_NO_ROUTE' };
  assert.equal(f.line(withFields(f, bare, {})), 'GET / - HTTP/1.1 - 0.012 1795255205.042 2026-11-21T10:00:05+00:00 -|-|-|- -/- HW_ERR_NO_ROUTE -\n');
  assert.equal(compile('$host').line({ ...base, host: '[::1]:443' }), '[::1]\n');
});

test('values are escaped as NGINX escapes them; the template text is not', () => {
  assert.equal(escape('plain text/1.0'), 'plain text/1.0');
  assert.equal(escape('a"b\\c\td\u007f\u00e9'), 'a\\x22b\\x5Cc\\x09d\\x7F\\xE9');
  assert.equal(escape('\u20ac'), '\\xE2\\x82\\xAC');
  assert.equal(escape('\u{1f600}'), '\\xF0\\x9F\\x98\\x80');
  // Long values take another path: the same result, at either end and in the middle.
  const long = 'Mozilla/5.0 (X11; Linux x86_64)';
  assert.equal(escape(long), long);
  assert.equal(escape(`${long}"`), `${long}\\x22`);
  assert.equal(escape(`\u00e9${long}`), `\\xE9${long}`);
  assert.equal(escape(`${long}\\${long}\u007f`), `${long}\\x5C${long}\\x7F`);
  for (const c of ['\u0000', '\t', '\u001f', '~', ' ', '!', '#', '[', ']']) {
    assert.equal(escape(long + c), c >= ' ' && c <= '~' ? long + c : `${long}\\x${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
  }
  const f = compile('"$request" "$http_user_agent"');
  assert.equal(f.line(withFields(f, { ...base, path: '/a"b' }, { 'user-agent': 'x\ny' })), '"GET /a\\x22b HTTP/1.1" "x\\x0Ay"\n');
  assert.equal(compile('é $status').ascii, false);
});

test('$time_local follows the local time zone', () => {
  process.env.TZ = 'Asia/Kolkata';
  try {
    // Another second than the tests above: the formatted second is cached.
    assert.equal(compile('$time_local|$time_iso8601').line({ ...base, time: '2026-11-21T23:59:59.999Z' }), '22/Nov/2026:05:29:59 +0530|2026-11-22T05:29:59+05:30\n');
  } finally {
    process.env.TZ = 'UTC';
  }
});

test('unknown variables and empty formats are refused, with a suggestion', () => {
  assert.equal(compileFormat('$remote_adr $status'), 'unknown variable $remote_adr (did you mean $remote_addr?)');
  assert.equal(compileFormat('$bytes_sent'), 'unknown variable $bytes_sent');
  assert.equal(compileFormat('  '), 'an empty format');
  // '$' not followed by a name is text.
  assert.equal(compile('cost: 5$ $status').line(base), 'cost: 5$ 200\n');
  // Names of Object.prototype's properties are neither variables nor presets (they were: `check`
  // passed '$__proto__', and the first access line then threw; 'constructor' threw in `check`).
  for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
    assert.match(String(compileFormat(`$${name}`)), new RegExp(`^unknown variable \\$${name}`));
    assert.equal(compile(name).line(base), `${name}\n`);
  }
});

test('without code generation from strings, formats still compile (to a loop) and write the same lines', async () => {
  const { execFileSync } = await import('node:child_process');
  const script = `import { compileFormat } from ${JSON.stringify(new URL('./log-format.js', import.meta.url).href)};
    const f = compileFormat('$remote_addr "$request" $status "$http_user_agent"');
    process.stdout.write(f.line({ time: '2026-11-21T10:00:05.042Z', client: '10.0.0.7', method: 'GET', path: '/', host: undefined, status: 204, bytes: 0,
      duration_ms: 1, route: undefined, upstream: undefined, tries: [], fields: ['ua/1'] }));`;
  const out = execFileSync(process.execPath, ['--disallow-code-generation-from-strings', '--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(out, '10.0.0.7 "GET / HTTP/1.1" 204 "ua/1"\n');
});

test('the generated line function writes what the getters make, for any record', () => {
  const text = fc.oneof(fc.string({ maxLength: 30 }), fc.string({ unit: 'binary', maxLength: 30 }), fc.constantFrom('/', 'GET', '10.0.0.7', 'a"b\\c'));
  const maybe = fc.option(text, { nil: undefined });
  const record: fc.Arbitrary<AccessRecord> = fc.record({
    time: fc.constant(base.time),
    time_ms: fc.integer({ min: 0, max: 4102444800000 }),
    client: text, method: text, path: text, host: maybe,
    status: fc.oneof(fc.integer({ min: 0, max: 999 }), fc.integer(), fc.double()),
    bytes: fc.oneof(fc.nat(), fc.double()),
    duration_ms: fc.double({ min: 0, max: 1e7, noNaN: true }),
    route: maybe, upstream: maybe,
    tries: fc.array(fc.record({ server: text, outcome: fc.constant('ok'), ms: fc.double({ min: 0, max: 1e6, noNaN: true }) }), { maxLength: 2 }),
    protocol: fc.option(fc.constantFrom('HTTP/1.0', 'HTTP/1.1', 'HTTP/2.0'), { nil: undefined }),
    fields: fc.option(fc.array(fc.oneof(maybe, fc.constant(`Basic ${Buffer.from('u"1:pw').toString('base64')}`)), { minLength: 3, maxLength: 3 }), { nil: undefined }),
  }, { requiredKeys: ['time', 'client', 'method', 'path', 'host', 'status', 'bytes', 'duration_ms', 'route', 'upstream', 'tries'] });
  for (const spec of ['combined', 'common', '$request_method $request_uri $status $body_bytes_sent $http_x_a $remote_user $time_local $host $route']) {
    const generated = compile(spec);
    const looped = compileFormat(spec, false);
    if (typeof looped === 'string') throw new Error(looped);
    fc.assert(fc.property(record, (r) => generated.line(r) === looped.line(r)), { numRuns: 1000 });
  }
});
