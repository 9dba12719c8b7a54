import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatIssue, parseConfig, validateConfig, type ConfigIssue } from './load.js';

/** The formatted issues for a YAML text (file name h.yaml). */
function issues(text: string, file = 'h.yaml'): string[] {
  const r = parseConfig(text, file);
  assert.equal(r.ok, false, 'expected the config to be rejected');
  return r.ok ? [] : r.issues.map(formatIssue);
}

const L = 'listeners: [{ address: "127.0.0.1:8080" }]\n';

test('formatIssue: FILE:LINE:COL  path  message', () => {
  const i: ConfigIssue = { file: 'h.yaml', line: 3, col: 7, path: 'upstreams.api.servers[0].max_fails', message: 'expected an integer >= 0, found "three"' };
  assert.equal(formatIssue(i), 'h.yaml:3:7  upstreams.api.servers[0].max_fails  expected an integer >= 0, found "three"');
  assert.equal(formatIssue({ ...i, line: 0, col: 0 }), 'h.yaml  upstreams.api.servers[0].max_fails  expected an integer >= 0, found "three"');
  assert.equal(formatIssue({ ...i, path: '', message: 'invalid YAML: Map keys must be unique' }), 'h.yaml:3:7  -  invalid YAML: Map keys must be unique');
});

test('unknown key points at the key, with a hint', () => {
  const text = `${L}upstreams:\n  api:\n    servers:\n      - address: 127.0.0.1:9101\n        weigth: 2\n    colour: blue\n`;
  assert.deepEqual(issues(text), [
    'h.yaml:6:9  upstreams.api.servers[0].weigth  unknown key "weigth", did you mean "weight"?',
    'h.yaml:7:5  upstreams.api.colour  unknown key "colour", expected one of: balance, hash, pass_host, host, keepalive, timeouts, retry, send_proxy_protocol, health_check, outlier_detection, panic_threshold, queue, sticky, resolver, valid, tls, protocol, servers',
  ]);
});

test('wrong type, bad duration, bad size, bad enum point at the value', () => {
  const text = [
    L.trimEnd(),
    'shutdown_timeout: 10',
    'client_max_body_size: lots',
    'forwarded: X-Forwarded',
    'upstreams:',
    '  api:',
    '    servers:',
    '      - { address: 127.0.0.1:9101, max_fails: three, fail_timeout: 10 sec, backup: yes }',
  ].join('\n');
  assert.deepEqual(issues(text), [
    'h.yaml:2:19  shutdown_timeout  expected a duration such as 500ms, 10s, 2m, 1h or 1m30s (units ms, s, m, h, d), found 10 (a number needs a unit, e.g. "10s")',
    'h.yaml:3:23  client_max_body_size  expected a size such as 512, 64KiB, 1MiB, 1GiB, 64k, 1m, 1g (1024-based) or 100KB, 1MB (1000-based), found "lots"',
    'h.yaml:4:12  forwarded  expected one of x-forwarded, rfc7239, found "X-Forwarded"; did you mean "x-forwarded"?',
    'h.yaml:8:47  upstreams.api.servers[0].max_fails  expected an integer >= 0, found "three"',
    'h.yaml:8:68  upstreams.api.servers[0].fail_timeout  expected a duration such as 500ms, 10s, 2m, 1h or 1m30s (units ms, s, m, h, d), found "10 sec"',
    'h.yaml:8:84  upstreams.api.servers[0].backup  expected true or false, found "yes"',
  ]);
});

test('bad addresses', () => {
  const text = [
    'listeners:',
    '  - address: localhost',
    '  - address: "::1:8080"',
    '  - address: 127.0.0.1:99999',
    'upstreams:',
    '  a:',
    '    servers: [{ address: "127.0.0.1:0" }, { address: "[zz]:80" }, { address: 8080 }]',
  ].join('\n');
  const out = issues(text);
  assert.equal(out.length, 6);
  assert.match(out[0]!, /^h\.yaml:2:14  listeners\[0\]\.address  expected an address host:port .*, found "localhost" \(the port is missing\)$/);
  assert.match(out[1]!, /^h\.yaml:3:14  listeners\[1\]\.address  .*found "::1:8080" \(write IPv6 addresses in brackets, e\.g\. \[::1\]:8080\)$/);
  assert.match(out[2]!, /^h\.yaml:4:14  listeners\[2\]\.address  .*found "127\.0\.0\.1:99999" \(the port must be 0-65535\)$/);
  assert.match(out[3]!, /^h\.yaml:7:26  upstreams\.a\.servers\[0\]\.address  expected an address host:port with port 1-65535 .*\(the port must be 1-65535\)$/);
  assert.match(out[4]!, /^h\.yaml:7:54  upstreams\.a\.servers\[1\]\.address  .*found "\[zz\]:80" \(not a valid IPv6 address in the brackets\)$/);
  assert.match(out[5]!, /^h\.yaml:7:78  upstreams\.a\.servers\[2\]\.address  .*found 8080$/);
});

test('missing required keys point at the parent mapping', () => {
  assert.deepEqual(issues('upstreams:\n  web:\n    balance: least_conn\n'), [
    'h.yaml:1:1  listeners  missing required key "listeners" (expected a list of listeners with at least 1 item)',
    'h.yaml:3:5  upstreams.web.servers  missing required key "servers" (expected a list of servers with at least 1 item)',
  ]);
  assert.deepEqual(issues(`${L}upstreams:\n  web:\n    servers: []\n`), [
    'h.yaml:4:14  upstreams.web.servers  expected a list of servers with at least 1 item, found an empty list',
  ]);
  assert.deepEqual(issues('listeners: []\n'), ['h.yaml:1:12  listeners  expected a list of listeners with at least 1 item, found an empty list']);
});

test('a route naming an unknown upstream points at the upstream value', () => {
  const text = `${L}routes:\n  - match: { path_prefix: / }\n    upstream: wbe\nupstreams:\n  web:\n    servers: [{ address: "127.0.0.1:9001" }]\n`;
  assert.deepEqual(issues(text), [
    'h.yaml:4:15  routes[0].upstream  expected the name of an upstream (one of: web), found "wbe"; did you mean "web"?',
  ]);
});

test('hash iff balance hash; host iff pass_host rewrite', () => {
  const text = [
    L.trimEnd(),
    'upstreams:',
    '  a:',
    '    balance: hash',
    '    servers: [{ address: "127.0.0.1:9001" }]',
    '  b:',
    '    hash: { key: uri }',
    '    servers: [{ address: "127.0.0.1:9001" }]',
    '  c:',
    '    balance: hash',
    '    hash: { consistent: true }',
    '    pass_host: rewrite',
    '    servers: [{ address: "127.0.0.1:9001" }]',
    '  d:',
    '    host: example.com',
    '    hash: { key: "header:" }',
    '    servers: [{ address: "127.0.0.1:9001" }]',
  ].join('\n');
  assert.deepEqual(issues(text), [
    'h.yaml:4:5  upstreams.a.hash  missing required key "hash" (required when balance is hash)',
    'h.yaml:7:5  upstreams.b.hash  expected no "hash" unless balance is hash, found balance "round_robin"',
    'h.yaml:10:5  upstreams.c.host  missing required key "host" (required when pass_host is rewrite)',
    'h.yaml:11:11  upstreams.c.hash.key  missing required key "key" (expected a hash key: header:NAME, cookie:NAME, query:NAME, uri or client_ip)',
    'h.yaml:15:5  upstreams.d.host  expected no "host" unless pass_host is rewrite, found pass_host "pass"',
    'h.yaml:16:5  upstreams.d.hash  expected no "hash" unless balance is hash, found balance "round_robin"',
    'h.yaml:16:18  upstreams.d.hash.key  expected a hash key: header:NAME, cookie:NAME, query:NAME, uri or client_ip, found "header:"',
  ]);
});

test('unique listener names and addresses, unique route names', () => {
  const text = [
    'listeners:',
    '  - { name: a, address: "127.0.0.1:8080" }',
    '  - { name: a, address: "127.0.0.1:8080" }',
    '  - { address: "127.0.0.1:0" }',
    '  - { address: "127.0.0.1:0" }',
    'routes:',
    '  - { name: r, upstream: u }',
    '  - { name: r, upstream: u }',
    'upstreams: { u: { servers: [{ address: "127.0.0.1:9001" }] } }',
  ].join('\n');
  assert.deepEqual(issues(text), [
    'h.yaml:3:13  listeners[1].name  expected a unique listener name, found "a" again (already used by listeners[0])',
    'h.yaml:3:25  listeners[1].address  expected a unique listener address, found "127.0.0.1:8080" again (already used by listeners[0])',
    'h.yaml:8:13  routes[1].name  expected a unique route name, found "r" again (already used by routes[0])',
  ]);
});

test('several errors at once are all reported, sorted by line', () => {
  const text = [
    'listeners:',
    '  - address: 127.0.0.1',
    'routes:',
    '  - match: { path_prefix: api/, methods: [] }',
    '    upstream: nope',
    'upstreams:',
    '  web:',
    '    balance: fastest',
    '    retry: { on: [error, http_418], tries: -1 }',
    '    servers:',
    '      - address: 127.0.0.1:9001',
    '        weight: 0',
    'acces_log: { enabled: true }',
  ].join('\n');
  const out = parseConfig(text, 'h.yaml');
  assert.equal(out.ok, false);
  if (out.ok) return;
  assert.deepEqual(out.issues.map((i) => [i.line, i.path]), [
    [2, 'listeners[0].address'],
    [4, 'routes[0].match.path_prefix'],
    [4, 'routes[0].match.methods'],
    [5, 'routes[0].upstream'],
    [8, 'upstreams.web.balance'],
    [9, 'upstreams.web.retry.on[1]'],
    [9, 'upstreams.web.retry.tries'],
    [12, 'upstreams.web.servers[0].weight'],
    [13, 'acces_log'],
  ]);
  assert.match(out.issues[8]!.message, /^unknown key "acces_log", did you mean "access_log"\?$/);
  assert.match(out.issues[6]!.message, /^expected an integer >= 0, found -1$/);
});

test('YAML and JSON syntax errors are issues with their position', () => {
  assert.deepEqual(issues('listeners:\n  - address: a:1\n  - address: [\n'), [
    'h.yaml:4:1  -  invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]',
  ]);
  assert.deepEqual(issues('a: 1\na: 2\n'), ['h.yaml:2:1  -  invalid YAML: Map keys must be unique']);
  const json = issues('{\n  "listeners": [\n    { "address": "127.0.0.1:80", }\n  ]\n}\n', 'h.json');
  assert.equal(json.length, 1);
  assert.match(json[0]!, /^h\.json:3:34  -  invalid JSON: Expected double-quoted property name$/);
  assert.deepEqual(issues('# nothing here\n'), ['h.yaml:1:1  -  expected a mapping with at least "listeners", found an empty document']);
  assert.deepEqual(issues('- a\n'), ['h.yaml:1:1  -  expected a configuration, found a list']);
});

test('validateConfig reports issues without positions', () => {
  const r = validateConfig({ listeners: [{ address: 'x' }], upstreams: { a: { servers: [{ address: 'h:1', weight: '2' }] } } });
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.deepEqual(r.issues.map((i) => [i.file, i.line, i.col, i.path]), [
    ['<config>', 0, 0, 'listeners[0].address'],
    ['<config>', 0, 0, 'upstreams.a.servers[0].weight'],
  ]);
  assert.deepEqual(validateConfig(null).ok, false);
});

test('bad values in the new keys are reported at their place', () => {
  const text = [
    L.trimEnd(),
    'upstreams:',
    '  web:',
    '    health_check: { type: udp, rise: 0, jitter: 150%, expect: { status: ["399-200", 7], body: "/(/" } }',
    '    panic_threshold: half',
    '    queue: { size: 0 }',
    '    resolver: dns.example:53',
    '    servers:',
    '      - { address: 10.0.0.1:80, resolve: true }',
    '      - { address: web.internal }',
    '      - { service: http }',
  ].join('\n');
  const out = issues(text);
  const has = (re: RegExp) => assert.ok(out.some((l) => re.test(l)), `no issue matching ${re}:\n${out.join('\n')}`);
  has(/upstreams\.web\.health_check\.type  expected one of http, tcp, found "udp"/);
  has(/upstreams\.web\.health_check\.rise  expected an integer >= 1, found 0/);
  has(/upstreams\.web\.health_check\.jitter  expected a percentage from 0% to 100%/);
  has(/health_check\.expect\.status\[0\]  .*found "399-200" \(the first status must not exceed the second\)/);
  has(/health_check\.expect\.status\[1\]  expected a status range such as 200, 200-399 or 2xx, found "7"/);
  has(/health_check\.expect\.body  .*not a valid regular expression/);
  has(/upstreams\.web\.panic_threshold  expected a percentage/);
  has(/upstreams\.web\.queue\.size  expected an integer >= 1, found 0/);
  has(/upstreams\.web\.resolver  .*\(the DNS server must be an IP address\)/);
  has(/servers\[0\]\.address  expected a host name to resolve, found the IP address "10\.0\.0\.1"/);
  has(/servers\[1\]\.address  .*found "web\.internal" \(the port is missing; only a `service` server may leave it out\)/);
  has(/servers\[2\]\.address  missing required key "address" \(service "http" is not a full SRV name/);
});

test('names that would reach Object.prototype are refused or kept as names', () => {
  // '__proto__' would set the map's prototype: the upstream vanished and every request got a 500.
  const text = `${L}routes: [{ upstream: web }]\nupstreams:\n  web: { servers: [{ address: 127.0.0.1:9101 }] }\n  __proto__: { servers: [{ address: 127.0.0.1:9102 }] }\n`;
  assert.deepEqual(issues(text), ['h.yaml:5:3  upstreams.__proto__  the name "__proto__" cannot be used']);
  // An ordinary own name, even one Object.prototype also has.
  const ok = parseConfig(`${L}routes: [{ upstream: constructor }]\nupstreams:\n  constructor: { servers: [{ address: 127.0.0.1:9101 }] }\n`, 'h.yaml');
  assert.equal(ok.ok, true);
  assert.deepEqual(ok.ok ? Object.keys(ok.config.upstreams) : [], ['constructor']);
  // Access-log formats and sizes: no variable, preset or unit of that name.
  assert.deepEqual(issues(`${L}access_log: { format: '$__proto__' }\n`), [
    'h.yaml:2:23  access_log.format  expected `json`, `combined`, `common` or a template of NGINX `$variables`, found "$__proto__" (unknown variable $__proto__)',
  ]);
});
