import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startOrigin, type Origin } from './helpers/origin.js';
import { startGateway, fetchText, rawRequest, portOf } from './helpers/gateway.js';
import { closer, parseResponses } from './helpers/raw.js';
import type { TestContext } from 'node:test';

/** Start one origin per upstream name and a gateway with these routes; upstream `u` -> origin `u`. */
async function setup(t: TestContext, routes: Array<Record<string, unknown>>, names: string[]) {
  const track = closer(t);
  const origins: Record<string, Origin> = {};
  const upstreams: Record<string, unknown> = {};
  for (const n of names) {
    origins[n] = track(await startOrigin(n));
    upstreams[n] = { servers: [{ address: origins[n].address }] };
  }
  const { gw, url } = await startGateway({ routes, upstreams });
  track(gw);
  /** Which origin answered (body is the origin name), or the status when the gateway answered. */
  const who = async (path: string, init: { method?: string; headers?: Record<string, string> } = {}) => {
    const r = await fetchText(`${url}${path}`, init);
    return r.headers['x-origin'] === undefined ? r.status : r.body;
  };
  return { origins, url, who };
}

test('first matching route wins, in configuration order', async (t) => {
  const { who } = await setup(
    t,
    [
      { name: 'api-v2', match: { path_prefix: '/api/v2/' }, upstream: 'v2' },
      { name: 'api', match: { path_prefix: '/api/' }, upstream: 'api' },
      { name: 'shadowed', match: { path_prefix: '/api/v2/x' }, upstream: 'never' },
      { name: 'rest', match: { path_prefix: '/' }, upstream: 'web' },
    ],
    ['v2', 'api', 'never', 'web'],
  );
  assert.equal(await who('/api/v2/x'), 'v2');
  assert.equal(await who('/api/v1/x'), 'api');
  assert.equal(await who('/api'), 'web', '/api does not match the /api/ prefix');
  assert.equal(await who('/other'), 'web');
});

test('host: exact and *.wildcard match case-insensitively and ignore the port', async (t) => {
  const { who } = await setup(
    t,
    [
      { match: { host: 'api.example.com' }, upstream: 'exact' },
      { match: { host: '*.example.com' }, upstream: 'wild' },
      { match: { path_prefix: '/' }, upstream: 'web' },
    ],
    ['exact', 'wild', 'web'],
  );
  assert.equal(await who('/', { headers: { host: 'api.example.com' } }), 'exact');
  assert.equal(await who('/', { headers: { host: 'API.Example.COM:8080' } }), 'exact');
  assert.equal(await who('/', { headers: { host: 'shop.example.com' } }), 'wild');
  assert.equal(await who('/', { headers: { host: 'a.b.EXAMPLE.com:1' } }), 'wild');
  assert.equal(await who('/', { headers: { host: 'example.com' } }), 'web', 'the bare domain is not a subdomain');
  assert.equal(await who('/', { headers: { host: 'evilexample.com' } }), 'web');
  assert.equal(await who('/', { headers: { host: 'api.example.com.evil.test' } }), 'web');
});

test('exact path, methods and header matches', async (t) => {
  const { who } = await setup(
    t,
    [
      { match: { path: '/healthz' }, upstream: 'health' },
      { match: { path_prefix: '/', headers: { 'X-Canary': '1' } }, upstream: 'canary' },
      { match: { path_prefix: '/', methods: ['post', 'PUT'] }, upstream: 'writer' },
      { match: { path_prefix: '/' }, upstream: 'reader' },
    ],
    ['health', 'canary', 'writer', 'reader'],
  );
  assert.equal(await who('/healthz'), 'health');
  assert.equal(await who('/healthz?verbose=1'), 'health', 'the query is not part of the path');
  assert.equal(await who('/healthz/'), 'reader');
  assert.equal(await who('/healthzz'), 'reader');
  assert.equal(await who('/x', { headers: { 'x-canary': '1' } }), 'canary');
  assert.equal(await who('/x', { headers: { 'x-canary': '0' } }), 'reader');
  assert.equal(await who('/x', { method: 'POST' }), 'writer');
  assert.equal(await who('/x', { method: 'PUT' }), 'writer');
  assert.equal(await who('/x', { method: 'DELETE' }), 'reader');
});

test('strip_prefix removes the matched prefix; the query string is preserved', async (t) => {
  const { who, origins } = await setup(
    t,
    [
      { match: { path_prefix: '/api' }, upstream: 'api', strip_prefix: true },
      { match: { path_prefix: '/keep/' }, upstream: 'keep' },
    ],
    ['api', 'keep'],
  );
  assert.equal(await who('/api/users?id=7&x=%20y'), 'api');
  assert.equal(await who('/api'), 'api');
  assert.equal(await who('/api?q=1'), 'api');
  assert.equal(await who('/keep/a/b?z'), 'keep');
  assert.deepEqual(
    origins.api!.seen.map((s) => s.url),
    ['/users?id=7&x=%20y', '/', '/?q=1'],
  );
  assert.equal(origins.keep!.seen[0]!.url, '/keep/a/b?z');
});

test('no matching route: 404 with the gateway short body', async (t) => {
  const { origins, url } = await setup(t, [{ match: { path_prefix: '/api/' }, upstream: 'api' }], ['api']);
  const r = await fetchText(`${url}/nothing/here`);
  assert.equal(r.status, 404);
  assert.match(r.body, /HW_ERR_NO_ROUTE/);
  assert.ok(r.body.length < 200);
  assert.equal(origins.api!.seen.length, 0);
});

test('dot segments are resolved before routing: /api/../admin does not use the /api/ route', async (t) => {
  const { origins, url } = await setup(
    t,
    [
      { match: { path_prefix: '/api/' }, upstream: 'api' },
      { match: { path_prefix: '/admin' }, upstream: 'admin' },
    ],
    ['api', 'admin'],
  );
  const port = portOf(url);
  for (const target of ['/api/../admin', '/api/%2e%2e/admin', '/api/./../admin?x=1']) {
    const r = parseResponses(await rawRequest(port, `GET ${target} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n`))[0]!;
    assert.equal(r.status, 200, target);
    assert.equal(r.body.toString(), 'admin', target);
  }
  assert.equal(origins.api!.seen.length, 0);
  assert.deepEqual(
    origins.admin!.seen.map((s) => s.url),
    ['/admin', '/admin', '/admin?x=1'],
  );
  // Resolved inside the prefix: still the api route, and the origin sees the clean path.
  const r = parseResponses(await rawRequest(port, 'GET /api/a/../b/./c HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n'))[0]!;
  assert.equal(r.body.toString(), 'api');
  assert.equal(origins.api!.seen[0]!.url, '/api/b/c');
});

test('a path climbing above the root is refused with 400', async (t) => {
  const { origins, url } = await setup(t, [{ match: { path_prefix: '/' }, upstream: 'web' }], ['web']);
  const port = portOf(url);
  for (const target of ['/../etc/passwd', '/a/../../etc/passwd', '/%2e%2e/x']) {
    const raw = await rawRequest(port, `GET ${target} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n`);
    const r = parseResponses(raw)[0]!;
    assert.equal(r.status, 400, `${target}: ${raw.split('\r\n')[0]}`);
    assert.match(r.body.toString(), /HW_ERR_BAD_REQUEST/);
  }
  assert.equal(origins.web!.seen.length, 0);
});

test('encoded characters and the query string pass through unchanged', async (t) => {
  const { origins, url } = await setup(t, [{ match: { path_prefix: '/' }, upstream: 'web' }], ['web']);
  const port = portOf(url);
  const target = '/files/a%20b/%C3%A9?q=a+b&empty=&arr[]=1&arr[]=2&enc=%2F%3F';
  const r = parseResponses(await rawRequest(port, `GET ${target} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n`))[0]!;
  assert.equal(r.status, 200);
  assert.equal(origins.web!.seen[0]!.url, target);
});

test('a header named like an Object.prototype member routes by its value, over HTTP/2 too (it read as a function)', async (t) => {
  const track = closer(t);
  const origins = { canary: track(await startOrigin('canary')), web: track(await startOrigin('web')) };
  const { gw, url } = await startGateway({
    listeners: [{ name: 'h2c', address: '127.0.0.1:0', h2c: true }],
    routes: [
      { name: 'canary', match: { headers: { constructor: 'yes' } }, upstream: 'canary' },
      { name: 'rest', match: { path_prefix: '/' }, upstream: 'web' },
    ],
    upstreams: { canary: { servers: [{ address: origins.canary.address }] }, web: { servers: [{ address: origins.web.address }] } },
  });
  track(gw);
  const http2 = await import('node:http2');
  const s = http2.connect(url);
  t.after(() => s.destroy());
  const get = (headers: Record<string, string>) => new Promise<string>((resolve, reject) => {
    const st = s.request({ ':path': '/', ...headers });
    let body = '';
    st.setEncoding('utf8');
    st.on('data', (c: string) => (body += c));
    st.on('end', () => resolve(body));
    st.on('error', reject);
  });
  assert.equal(await get({ constructor: 'yes' }), 'canary');
  assert.equal(await get({}), 'web');
  assert.equal(await get({ constructor: 'no' }), 'web');
});
