import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startOrigin, deadAddress } from './helpers/origin.js';
import { startGateway, simpleConfig, fetchText, rawRequest, portOf } from './helpers/gateway.js';
import { closer, recordAccess, eventually } from './helpers/raw.js';
import * as lib from '../src/index.js';
import type { AccessRecord } from '../src/observability/events.js';

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

test('one access record per request with every field', async (t) => {
  const track = closer(t);
  const access = recordAccess(t);
  const o = track(await startOrigin('a', (_req, res) => res.writeHead(201, { 'content-length': '5' }).end('hello')));
  const { gw, url } = await startGateway({
    routes: [
      { name: 'api', match: { path_prefix: '/api/' }, upstream: 'web' },
      { name: 'other', match: { path: '/nope' }, upstream: 'web' },
    ],
    upstreams: { web: { servers: [{ address: o.address }] } },
  });
  track(gw);
  const r = await fetchText(`${url}/api/log-one?x=1`, { method: 'POST', body: 'abc', headers: { host: 'logs.example' } });
  assert.equal(r.status, 201);
  const miss = await fetchText(`${url}/log-missing`);
  assert.equal(miss.status, 404);

  assert.ok(await eventually(() => access.filter((a) => a.path.includes('log-')).length === 2));
  await new Promise((r) => setTimeout(r, 50));
  const mine = access.filter((a) => a.path.includes('log-'));
  assert.equal(mine.length, 2, 'exactly one record per request');

  const rec = mine.find((a) => a.path === '/api/log-one?x=1')!;
  assert.match(rec.time, ISO);
  assert.ok(Math.abs(Date.parse(rec.time) - Date.now()) < 10_000);
  assert.equal(rec.client, '127.0.0.1');
  assert.equal(rec.method, 'POST');
  assert.equal(rec.host, 'logs.example');
  assert.equal(rec.status, 201);
  assert.equal(rec.bytes, 5);
  assert.equal(typeof rec.duration_ms, 'number');
  assert.ok(rec.duration_ms >= 0 && rec.duration_ms < 5000);
  assert.equal(rec.route, 'api');
  assert.equal(rec.upstream, 'web');
  assert.equal(rec.code, undefined);
  assert.equal(rec.tries.length, 1);
  const tr = rec.tries[0]!;
  assert.equal(tr.server, o.address);
  assert.equal(tr.outcome, 'ok');
  assert.equal(tr.status, 201);
  assert.equal(typeof tr.header_ms, 'number');
  assert.ok(tr.header_ms! >= 0 && tr.header_ms! <= tr.ms + 0.01, `${tr.header_ms} <= ${tr.ms}`);
  assert.ok(tr.ms <= rec.duration_ms + 0.01);

  const nr = mine.find((a) => a.path === '/log-missing')!;
  assert.equal(nr.status, 404);
  assert.equal(nr.code, 'HW_ERR_NO_ROUTE');
  assert.equal(nr.route, undefined);
  assert.deepEqual(nr.tries, []);
});

test('failed attempts are listed in tries, in order, with the final status', async (t) => {
  const track = closer(t);
  const access = recordAccess(t);
  const dead = await deadAddress();
  const o = track(await startOrigin('b'));
  const { gw, url } = await startGateway(simpleConfig([dead, o.address]));
  track(gw);
  // round_robin alternates, so one of two requests starts at the dead server.
  for (let i = 0; i < 2; i++) assert.equal((await fetchText(`${url}/log-retry`)).status, 200);
  assert.ok(await eventually(() => access.filter((a) => a.path === '/log-retry').length === 2));
  const rec = access.find((a) => a.path === '/log-retry' && a.tries.length > 1)!;
  assert.ok(rec, JSON.stringify(access));
  assert.equal(rec.status, 200);
  assert.deepEqual(
    rec.tries.map((x) => [x.server, x.outcome, x.status]),
    [
      [dead, 'error', undefined],
      [o.address, 'ok', 200],
    ],
  );
  assert.equal(rec.tries[0]!.header_ms, undefined, 'no headers from a refused connection');
});

test('every failed server: 502 with the code in the record', async (t) => {
  const track = closer(t);
  const access = recordAccess(t);
  const dead = await deadAddress();
  const { gw, url } = await startGateway(simpleConfig([dead]));
  track(gw);
  const r = await fetchText(`${url}/log-502`);
  assert.equal(r.status, 502);
  assert.match(r.body, /HW_ERR_UPSTREAM_CONNECT/);
  assert.ok(await eventually(() => access.some((a) => a.path === '/log-502')));
  const rec = access.find((a) => a.path === '/log-502')!;
  assert.equal(rec.status, 502);
  assert.equal(rec.code, 'HW_ERR_UPSTREAM_CONNECT');
  assert.equal(rec.bytes, 0);
  assert.equal(rec.tries.length, 1);
});

test(
  'an Expect: 100-continue request refused with 413 is logged too',
  async (t) => {
    const track = closer(t);
    const access = recordAccess(t);
    const o = track(await startOrigin('a'));
    const { gw, url } = await startGateway(simpleConfig([o.address]));
    track(gw);
    const text = await rawRequest(portOf(url), 'POST /log-expect HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999\r\nExpect: 100-continue\r\n\r\n', 1000);
    assert.match(text, /^HTTP\/1\.1 413 /);
    assert.ok(await eventually(() => access.some((a) => a.path === '/log-expect'), 500), 'no access record');
    assert.equal(access.find((a) => a.path === '/log-expect')!.code, 'HW_ERR_BODY_TOO_LARGE');
  },
);

test('access_log to a file: one JSON line per request', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hw-access-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'sub', 'access.log');
  const track = closer(t);
  const o = track(await startOrigin('a'));
  const { gw, url } = await startGateway({ ...simpleConfig([o.address]), access_log: { enabled: true, path: file } }, { accessLog: true });
  const paths = ['/file-1', '/file-2?q=1', '/file-3'];
  for (const p of paths) assert.equal((await fetchText(`${url}${p}`)).status, 200);
  await gw.close(100);
  // pino writes asynchronously; close() flushes, give the stream a moment to finish.
  let lines: string[] = [];
  await eventually(() => false, 100);
  for (let i = 0; i < 50; i++) {
    lines = (await readFile(file, 'utf8').catch(() => '')).split('\n').filter(Boolean);
    if (lines.filter((l) => l.includes('"/file-')).length >= paths.length) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const recs = lines.map((l) => JSON.parse(l) as AccessRecord & { event?: string }).filter((r) => r.event === undefined);
  assert.deepEqual(
    recs.map((r) => r.path),
    paths,
    lines.join('\n'),
  );
  for (const r of recs) {
    assert.equal(r.status, 200);
    assert.equal(r.method, 'GET');
    assert.match(r.time, ISO);
    assert.equal(r.route, 'all');
    assert.equal(r.tries[0]!.server, o.address);
  }
});

test('access_log disabled in GatewayOptions: nothing is written', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hw-access-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'access.log');
  const track = closer(t);
  const o = track(await startOrigin('a'));
  const { gw, url } = await startGateway({ ...simpleConfig([o.address]), access_log: { enabled: true, path: file } }, { accessLog: false });
  await fetchText(`${url}/x`);
  await gw.close(100);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(await readFile(file, 'utf8').catch(() => 'absent'), 'absent');
});

test('library entry point: createGateway from src/index.js starts a working gateway', async (t) => {
  assert.equal(typeof lib.createGateway, 'function', 'src/index.ts exports createGateway');
  assert.equal(typeof lib.channels.request.subscribe, 'function');
  const track = closer(t);
  const o = track(await startOrigin('lib'));
  const gw = track(
    await lib.createGateway({
      listeners: [{ name: 'lib', address: '127.0.0.1:0' }],
      access_log: { enabled: false },
      routes: [{ match: { path_prefix: '/' }, upstream: 'web' }],
      upstreams: { web: { servers: [{ address: o.address }] } },
    }),
  );
  assert.ok(gw instanceof lib.Gateway);
  const r = await fetchText(`${gw.addresses()[0]!.url}/via-lib`);
  assert.equal(r.status, 200);
  assert.equal(r.body, 'lib');
  await assert.rejects(lib.createGateway({ listeners: [], routes: 'nope' }), lib.ConfigError);
});

test('access_log to a file: a quiet gateway still writes its lines within about a second', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hw-access-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'access.log');
  const track = closer(t);
  const o = track(await startOrigin('a'));
  const { gw, url } = await startGateway({ ...simpleConfig([o.address]), access_log: { enabled: true, path: file } }, { accessLog: true });
  track(gw);
  assert.equal((await fetchText(`${url}/quiet`)).status, 200);
  let found = false;
  for (let i = 0; i < 40 && !found; i++) {
    await new Promise((r) => setTimeout(r, 50));
    found = (await readFile(file, 'utf8').catch(() => '')).includes('"/quiet"');
  }
  assert.ok(found, 'the line reached the file while the gateway kept running');
});

test('access_log format combined: NGINX combined lines, request fields from either engine', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hw-access-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'access.log');
  const track = closer(t);
  const o = track(await startOrigin('a', (_req, res) => res.writeHead(200, { 'content-length': '2' }).end('ok')));
  const format = '$remote_addr - $remote_user "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $upstream_addr [$http_x_tag]';
  const { gw, url } = await startGateway({ ...simpleConfig([o.address]), access_log: { enabled: true, path: file, format } }, { accessLog: true });
  const port = portOf(url);
  const auth = Buffer.from('bob:pw').toString('base64');
  await rawRequest(port, `GET /c-1?a=1 HTTP/1.1\r\nHost: x\r\nUser-Agent: tool "1"\r\nReferer: http://r/\r\nAuthorization: Basic ${auth}\r\nX-Tag: a\r\nX-Tag: b\r\nConnection: close\r\n\r\n`);
  await rawRequest(port, 'GET /c-2 HTTP/1.0\r\n\r\n');
  await gw.close(100);
  let text = '';
  for (let i = 0; i < 50 && (text.match(/\/c-/g) ?? []).length < 2; i++) {
    await new Promise((r) => setTimeout(r, 20));
    text = await readFile(file, 'utf8').catch(() => '');
  }
  assert.deepEqual(text.split('\n').filter(Boolean), [
    `127.0.0.1 - bob "GET /c-1?a=1 HTTP/1.1" 200 2 "http://r/" "tool \\x221\\x22" ${o.address} [a, b]`,
    `127.0.0.1 - - "GET /c-2 HTTP/1.0" 200 2 "-" "-" ${o.address} [-]`,
  ]);
});

test('access_log format: an unknown variable is a config error; presets and json are accepted', () => {
  const config = (access_log: object) => ({ listeners: [{ address: '127.0.0.1:0' }], ...simpleConfig(['127.0.0.1:1']), access_log });
  const r = lib.validateConfig(config({ format: '$remote_addr $remote_usr' }));
  assert.ok(!r.ok);
  assert.deepEqual(r.issues.map((i) => `${i.path}: ${i.message}`), [
    'access_log.format: expected `json`, `combined`, `common` or a template of NGINX `$variables`, found "$remote_addr $remote_usr" (unknown variable $remote_usr (did you mean $remote_user?))',
  ]);
  for (const format of ['json', 'combined', 'common', '$status']) {
    const ok = lib.validateConfig(config({ format }));
    assert.ok(ok.ok && ok.config.access_log.format === format, format);
  }
  const dflt = lib.validateConfig(config({}));
  assert.ok(dflt.ok && dflt.config.access_log.format === 'json');
});
