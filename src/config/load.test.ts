import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfigFile, parseConfig, validateConfig, type LoadResult } from './load.js';
import type { Config } from './types.js';

const CONTRACT_EXAMPLE = `listeners:
  - name: public
    address: 127.0.0.1:8080        # host:port; [::1]:8080 for IPv6; port 0 allowed (tests)
routes:                            # first match wins, in order
  - name: api
    match: { host: api.example.com, path_prefix: /api/, methods: [GET, POST], headers: { x-canary: "1" } }
    upstream: api
    strip_prefix: true             # /api/users -> /users
  - name: default
    match: { path_prefix: / }
    upstream: web
upstreams:
  web:
    balance: round_robin           # round_robin | least_conn | ip_hash | hash | random_two | least_time
    servers:
      - address: 127.0.0.1:9001
        weight: 3
      - address: 127.0.0.1:9002
      - address: 127.0.0.1:9003
        backup: true               # used only when no primary is available
  api:
    balance: hash
    hash: { key: "header:x-user-id", consistent: true }   # also cookie:NAME, query:NAME, uri, client_ip
    pass_host: pass                # pass (client Host) | node (server address) | rewrite (+ host: NAME)
    keepalive: { max_idle: 64, idle_timeout: 30s }
    timeouts: { connect: 2s, response_header: 30s, idle: 60s }
    retry: { tries: 3, timeout: 10s, on: [error, timeout, http_502, http_503, http_504], non_idempotent: false }
    servers:
      - { address: 127.0.0.1:9101, max_fails: 3, fail_timeout: 10s, max_conns: 100 }
      - { address: 127.0.0.1:9102, down: true }
`;

function ok(r: LoadResult): Config {
  if (!r.ok) assert.fail(`expected a valid config, got:\n${r.issues.map((i) => `${i.line}:${i.col} ${i.path} ${i.message}`).join('\n')}`);
  return r.config;
}

test('the contract example normalizes as expected', () => {
  const c = ok(parseConfig(CONTRACT_EXAMPLE, 'headwater.yaml'));
  assert.deepEqual(c.listeners, [{ name: 'public', address: '127.0.0.1:8080', host: '127.0.0.1', port: 8080, protocol: 'http', idle_timeout: 0 }]);
  assert.deepEqual(c.routes[0], {
    name: 'api',
    match: { host: 'api.example.com', path_prefix: '/api/', methods: ['GET', 'POST'], headers: { 'x-canary': '1' } },
    upstream: 'api',
    strip_prefix: true,
    client_max_body_size: 1_048_576,
  });
  assert.deepEqual(c.routes[1], { name: 'default', match: { path_prefix: '/' }, upstream: 'web', strip_prefix: false, client_max_body_size: 1_048_576 });
  const web = c.upstreams['web']!;
  assert.equal(web.name, 'web');
  assert.equal(web.balance, 'round_robin');
  assert.equal(web.pass_host, 'pass');
  assert.equal(web.hash, undefined);
  assert.deepEqual(web.keepalive, { max_idle: 64, idle_timeout: 60_000 });
  assert.deepEqual(web.timeouts, { connect: 5_000, response_header: 60_000, idle: 60_000, tunnel: 3_600_000 });
  assert.deepEqual(web.retry, { tries: 0, timeout: 0, on: ['error', 'timeout'], non_idempotent: false, buffer: 65_536 });
  assert.deepEqual(web.servers[0], {
    address: '127.0.0.1:9001', host: '127.0.0.1', port: 9001, weight: 3,
    backup: false, down: false, max_fails: 1, fail_timeout: 10_000, max_conns: 0, slow_start: 0, drain: false, resolve: false,
  });
  assert.equal(web.servers[1]!.weight, 1);
  assert.equal(web.servers[2]!.backup, true);
  const api = c.upstreams['api']!;
  assert.deepEqual(api.hash, { key: 'header:x-user-id', consistent: true });
  assert.deepEqual(api.keepalive, { max_idle: 64, idle_timeout: 30_000 });
  assert.deepEqual(api.timeouts, { connect: 2_000, response_header: 30_000, idle: 60_000, tunnel: 3_600_000 });
  assert.deepEqual(api.retry, { tries: 3, timeout: 10_000, on: ['error', 'timeout', 'http_502', 'http_503', 'http_504'], non_idempotent: false, buffer: 65_536 });
  assert.deepEqual(api.servers[0], {
    address: '127.0.0.1:9101', host: '127.0.0.1', port: 9101, weight: 1,
    backup: false, down: false, max_fails: 3, fail_timeout: 10_000, max_conns: 100, slow_start: 0, drain: false, resolve: false,
  });
  assert.equal(api.servers[1]!.down, true);
  assert.equal(c.shutdown_timeout, 30_000);
  assert.equal(c.forwarded, 'x-forwarded');
  assert.deepEqual(c.access_log, { enabled: true, path: '-', format: 'json' });
});

test('minimal config: defaults for names, match, routes, upstreams', () => {
  const c = ok(parseConfig('listeners:\n  - address: "[::1]:0"\n  - address: 127.0.0.1:0\n', 'h.yaml'));
  assert.deepEqual(c.listeners, [
    { name: 'listener-0', address: '[::1]:0', host: '::1', port: 0, protocol: 'http', idle_timeout: 0 },
    { name: 'listener-1', address: '127.0.0.1:0', host: '127.0.0.1', port: 0, protocol: 'http', idle_timeout: 0 },
  ]);
  assert.deepEqual(c.routes, []);
  assert.deepEqual(c.upstreams, {});
  const c2 = ok(
    parseConfig(
      [
        'client_max_body_size: 10m',
        'shutdown_timeout: 1m30s',
        'forwarded: rfc7239',
        'access_log: { enabled: false, path: /var/log/hw.log }',
        'listeners: [{ address: "localhost:8080" }]',
        'routes:',
        '  - { upstream: u, match: { methods: [get], headers: { X-Canary: 1 }, host: "*.Example.com" } }',
        '  - { upstream: u, client_max_body_size: 0 }',
        'upstreams:',
        '  u:',
        '    pass_host: rewrite',
        '    host: internal.example',
        '    servers: [{ address: "[2001:db8::1]:443" }, { address: backend_1:80 }]',
      ].join('\n'),
      'h.yaml',
    ),
  );
  assert.equal(c2.shutdown_timeout, 90_000);
  assert.equal(c2.forwarded, 'rfc7239');
  assert.deepEqual(c2.access_log, { enabled: false, path: '/var/log/hw.log', format: 'json' });
  assert.deepEqual(c2.routes[0], {
    name: 'route-0',
    match: { methods: ['GET'], headers: { 'x-canary': '1' }, host: '*.example.com' },
    upstream: 'u',
    strip_prefix: false,
    client_max_body_size: 10 * 1024 * 1024,
  });
  assert.equal(c2.routes[1]!.name, 'route-1');
  assert.deepEqual(c2.routes[1]!.match, {});
  assert.equal(c2.routes[1]!.client_max_body_size, 0);
  const u = c2.upstreams['u']!;
  assert.equal(u.host, 'internal.example');
  assert.deepEqual(u.servers.map((s) => [s.host, s.port]), [['2001:db8::1', 443], ['backend_1', 80]]);
});

test('JSON files parse the same way', () => {
  const json = JSON.stringify({
    listeners: [{ name: 'public', address: '127.0.0.1:8080' }],
    routes: [{ match: { path_prefix: '/' }, upstream: 'web' }],
    upstreams: { web: { balance: 'least_conn', servers: [{ address: '127.0.0.1:9001', weight: 2, fail_timeout: '5s' }] } },
  }, null, 2);
  const c = ok(parseConfig(json, 'headwater.json'));
  assert.equal(c.upstreams['web']!.balance, 'least_conn');
  assert.equal(c.upstreams['web']!.servers[0]!.fail_timeout, 5_000);
  assert.equal(c.routes[0]!.name, 'route-0');
});

test('validateConfig accepts plain objects with the same rules', () => {
  const c = ok(validateConfig({ listeners: [{ address: '0.0.0.0:80' }], upstreams: { a: { servers: [{ address: 'a.internal:80', max_fails: 0 }] } } }));
  assert.equal(c.upstreams['a']!.servers[0]!.max_fails, 0);
  const r = validateConfig({ listeners: [{ address: '0.0.0.0:80', nmae: 'x' }] }, 'inline');
  assert.equal(r.ok, false);
  if (!r.ok) {
    assert.deepEqual(r.issues, [{ file: 'inline', line: 0, col: 0, path: 'listeners[0].nmae', message: 'unknown key "nmae", did you mean "name"?' }]);
  }
});

test('loadConfigFile reads a file, and reports a missing one as an issue', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hw-config-'));
  try {
    const file = join(dir, 'headwater.yaml');
    writeFileSync(file, CONTRACT_EXAMPLE);
    assert.equal(ok(await loadConfigFile(file)).listeners[0]!.port, 8080);
    // A file read (start, reload) lets the YAML parser go: none of its modules stay in require's cache.
    const yamlModules = Object.keys(createRequire(import.meta.url).cache).filter((k) => k.includes('/node_modules/yaml/'));
    assert.deepEqual(yamlModules, []);
    const missing = await loadConfigFile(join(dir, 'nope.yaml'));
    assert.equal(missing.ok, false);
    if (!missing.ok) {
      assert.equal(missing.issues.length, 1);
      assert.equal(missing.issues[0]!.file, join(dir, 'nope.yaml'));
      assert.match(missing.issues[0]!.message, /cannot read the configuration file: the file does not exist/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('YAML anchors, aliases and merge keys work', () => {
  const text = [
    'listeners: [{ address: "127.0.0.1:0" }]',
    'upstreams:',
    '  a:',
    '    timeouts: &fast { connect: 1s, response_header: 2s }',
    '    servers:',
    '      - &srv { address: "127.0.0.1:9001", weight: 5, max_fails: 2 }',
    '  b:',
    '    timeouts: *fast',
    '    servers:',
    '      - <<: *srv',
    '        weight: 1',
  ].join('\n');
  const c = ok(parseConfig(text, 'h.yaml'));
  assert.deepEqual(c.upstreams['b']!.timeouts, { connect: 1_000, response_header: 2_000, idle: 60_000, tunnel: 3_600_000 });
  const s = c.upstreams['b']!.servers[0]!;
  assert.deepEqual([s.address, s.weight, s.max_fails], ['127.0.0.1:9001', 1, 2]);
});
