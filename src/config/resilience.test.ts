import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatIssue, parseConfig } from './load.js';

const L = 'listeners: [{ address: "127.0.0.1:8080" }]\n';

/** The issue's vocabulary, verbatim: every key in the place the contract puts it. */
const ISSUE_EXAMPLE = `${L}resolver: 127.0.0.1:5353
upstreams:
  web:
    balance: round_robin
    health_check:
      type: http
      path: /healthz
      method: GET
      host: web.internal
      headers: { x-probe: headwater }
      interval: 5s
      unhealthy_interval: 1s
      timeout: 2s
      rise: 2
      fall: 3
      jitter: 10%
      expect: { status: ["200-399"], body: "ok" }
      initially: healthy
    outlier_detection: { consecutive_5xx: 5, consecutive_gateway_failure: 5, interval: 10s,
      base_ejection_time: 30s, max_ejection_time: 300s, max_ejection_percent: 10, success_rate: { stdev_factor: 1900 } }
    panic_threshold: 50%
    queue: { size: 100, timeout: 5s }
    sticky: { cookie: hw_srv, ttl: 1h }
    retry: { budget: { percent: 20, min_concurrency: 3 } }
    valid: 30s
    servers:
      - { address: 127.0.0.1:9001, slow_start: 30s, drain: true }
      - { address: api.internal:80, resolve: true }
      - { service: _http._tcp.api.internal }
      - { address: backend.internal, service: http }
`;

function ok(text: string) {
  const r = parseConfig(text, 'h.yaml');
  assert.ok(r.ok, r.ok ? '' : r.issues.map(formatIssue).join('\n'));
  return r.config;
}

test('the issue example loads and normalizes: units, ranges, defaults, SRV names', () => {
  const web = ok(ISSUE_EXAMPLE).upstreams['web']!;
  assert.deepEqual(web.health_check, {
    type: 'http', path: '/healthz', method: 'GET', host: 'web.internal', headers: { 'x-probe': 'headwater' },
    interval: 5000, unhealthy_interval: 1000, timeout: 2000, rise: 2, fall: 3, jitter: 10,
    expect: { status: [[200, 399]], body: 'ok' }, initially: 'healthy',
  });
  assert.deepEqual(web.outlier_detection, {
    consecutive_5xx: 5, consecutive_gateway_failure: 5, enforcing_consecutive_5xx: 100, enforcing_consecutive_gateway_failure: 100,
    interval: 10000, base_ejection_time: 30000, max_ejection_time: 300000, max_ejection_percent: 10,
    success_rate: { minimum_hosts: 5, request_volume: 100, stdev_factor: 1900, enforcing: 100 },
  });
  assert.equal(web.panic_threshold, 50);
  assert.deepEqual(web.queue, { size: 100, timeout: 5000 });
  assert.deepEqual(web.sticky, { cookie: 'hw_srv', ttl: 3_600_000, path: '/', secure: false });
  assert.deepEqual(web.retry.budget, { percent: 20, min_concurrency: 3 });
  assert.equal(web.resolver, '127.0.0.1:5353', 'the top-level resolver is the default');
  assert.equal(web.valid, 30000);
  const [a, b, c, d] = web.servers;
  assert.deepEqual([a!.slow_start, a!.drain, a!.resolve], [30000, true, false]);
  assert.deepEqual([b!.host, b!.port, b!.resolve, b!.service], ['api.internal', 80, true, undefined]);
  assert.deepEqual([c!.service, c!.resolve], ['_http._tcp.api.internal', true]);
  assert.deepEqual([d!.service, d!.port], ['_http._tcp.backend.internal', 0]);
});

test('defaults: unhealthy_interval follows interval, expect 200-399, 2xx classes', () => {
  const text = `${L}upstreams:\n  web:\n    health_check: { interval: 300ms, expect: { status: [2xx, 404] } }\n    servers: [{ address: 127.0.0.1:9001 }]\n`;
  const web = ok(text).upstreams['web']!;
  assert.equal(web.health_check!.unhealthy_interval, 300);
  assert.deepEqual(web.health_check!.expect.status, [[200, 299], [404, 404]]);
  assert.equal(web.panic_threshold, 0);
  assert.equal(web.queue, undefined);
  assert.equal(web.retry.budget, undefined);
  const plain = ok(`${L}upstreams:\n  web:\n    health_check: {}\n    servers: [{ address: 127.0.0.1:9001 }]\n`).upstreams['web']!;
  assert.deepEqual(plain.health_check!.expect.status, [[200, 399]]);
  assert.equal(plain.health_check!.initially, 'healthy');
});
