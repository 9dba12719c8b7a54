import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startOrigin } from './helpers/origin.js';
import { startGateway, simpleConfig, fetchText, portOf } from './helpers/gateway.js';
import { closer, RawConn, parseResponses, rawValues } from './helpers/raw.js';
import { rawGateway } from './helpers/raw-gateway.js';

const HOP_REQ = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade', 'proxy-authorization', 'x-foo'];

test('hop-by-hop request headers and headers named in Connection do not reach the origin', async (t) => {
  // Raw socket so that no client library filters the headers first.
  const { o, c } = await rawGateway(t);
  await c.write(
    'GET /hop HTTP/1.1\r\nHost: example.test\r\n' +
      'Connection: keep-alive, X-Foo\r\nKeep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\n' +
      'TE: trailers\r\nTrailer: x-checksum\r\nUpgrade: h2c\r\nProxy-Authorization: Basic Zm9vOmJhcg==\r\n' +
      'X-Foo: secret\r\nX-Keep: yes\r\n\r\n',
  );
  const text = await c.waitFor((s) => parseResponses(s).length > 0);
  assert.equal(parseResponses(text)[0]!.status, 200);
  assert.equal(o.seen.length, 1);
  const h = o.seen[0]!.headers;
  for (const name of HOP_REQ) {
    // The origin's Node server always sees a connection header from undici's own framing
    // (keep-alive), but never the client's value or anything it names.
    if (name === 'connection') assert.ok(!/x-foo/i.test(String(h.connection ?? '')), `connection: ${h.connection}`);
    else assert.equal(h[name], undefined, `${name} leaked: ${String(h[name])}`);
  }
  assert.equal(h['x-keep'], 'yes');
});

test('hop-by-hop response headers and headers named in Connection do not reach the client', async (t) => {
  const track = closer(t);
  const o = track(
    await startOrigin('a', (_req, res) => {
      res.writeHead(200, [
        ['Connection', 'x-secret'],
        ['X-Secret', '1'],
        ['Keep-Alive', 'timeout=5'],
        ['Proxy-Authenticate', 'Basic realm="x"'],
        ['Trailer', 'x-sum'],
        ['Upgrade', 'h2c'],
        ['X-Visible', 'ok'],
      ].flat());
      // Chunked (Node only allows a Trailer header then); the trailer itself is not asserted.
      res.end('ok');
    }),
  );
  const { gw, url } = await startGateway(simpleConfig([o.address]));
  track(gw);
  const c = await RawConn.open(portOf(url));
  t.after(() => c.close());
  await c.write('GET / HTTP/1.1\r\nHost: example.test\r\n\r\n');
  const r = parseResponses(await c.waitFor((s) => parseResponses(s).length > 0))[0]!;
  assert.equal(r.status, 200);
  assert.equal(r.body.toString(), 'ok');
  assert.equal(r.headers['x-visible'], 'ok');
  for (const name of ['x-secret', 'proxy-authenticate', 'trailer', 'upgrade']) {
    assert.equal(r.headers[name], undefined, `${name} leaked`);
  }
  // The gateway's own server may send its own Connection/Keep-Alive, but never the origin's values.
  assert.notEqual(r.headers['keep-alive'], 'timeout=5');
  assert.ok(!/x-secret/i.test(String(r.headers.connection ?? '')));
});

test('X-Forwarded-For is appended to; X-Forwarded-Proto and -Host are set', async (t) => {
  const track = closer(t);
  const o = track(await startOrigin('a'));
  const { gw, url } = await startGateway(simpleConfig([o.address]));
  track(gw);
  const r = await fetchText(`${url}/xff`, {
    headers: { host: 'shop.example.com:8443', 'x-forwarded-for': '1.2.3.4', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.test' },
  });
  assert.equal(r.status, 200);
  const h = o.seen[0]!.headers;
  assert.equal(h['x-forwarded-for'], '1.2.3.4, 127.0.0.1');
  assert.equal(h['x-forwarded-proto'], 'http', 'the client cannot choose the proto');
  assert.equal(h['x-forwarded-host'], 'shop.example.com:8443');
  assert.equal(h.forwarded, undefined, 'no Forwarded header unless forwarded: rfc7239');
});

test('two incoming X-Forwarded-For headers are merged into one list', async (t) => {
  const { o, c } = await rawGateway(t);
  await c.write('GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 1.1.1.1\r\nX-Forwarded-For: 2.2.2.2\r\n\r\n');
  await c.waitFor((s) => parseResponses(s).length > 0);
  assert.deepEqual(rawValues(o.seen[0]!.rawHeaders, 'x-forwarded-for'), ['1.1.1.1, 2.2.2.2, 127.0.0.1']);
});

test('forwarded: rfc7239 appends a Forwarded element to an incoming one', async (t) => {
  const track = closer(t);
  const o = track(await startOrigin('a'));
  const { gw, url } = await startGateway({ ...simpleConfig([o.address]), forwarded: 'rfc7239' });
  track(gw);
  await fetchText(`${url}/`, { headers: { host: 'shop.example.com', forwarded: 'for=192.0.2.60;proto=https' } });
  await fetchText(`${url}/`, { headers: { host: 'plain.example.com' } });
  assert.equal(o.seen[0]!.headers.forwarded, 'for=192.0.2.60;proto=https, for=127.0.0.1;proto=http;host=shop.example.com');
  assert.equal(o.seen[1]!.headers.forwarded, 'for=127.0.0.1;proto=http;host=plain.example.com');
  // X-Forwarded-* are still sent.
  assert.equal(o.seen[1]!.headers['x-forwarded-for'], '127.0.0.1');
});

test('a Host with a port is quoted in Forwarded (RFC 7239 token rules)', async (t) => {
  const track = closer(t);
  const o = track(await startOrigin('a'));
  const { gw, url } = await startGateway({ ...simpleConfig([o.address]), forwarded: 'rfc7239' });
  track(gw);
  await fetchText(`${url}/`, { headers: { host: 'shop.example.com:8080' } });
  assert.equal(o.seen[0]!.headers.forwarded, 'for=127.0.0.1;proto=http;host="shop.example.com:8080"');
});

test('repeated response headers (two Set-Cookie) both reach the client', async (t) => {
  const track = closer(t);
  const o = track(
    await startOrigin('a', (_req, res) => {
      res.setHeader('Set-Cookie', ['a=1; Path=/', 'b=2; Path=/']);
      res.setHeader('X-Multi', ['one', 'two']);
      res.end('ok');
    }),
  );
  const { gw, url } = await startGateway(simpleConfig([o.address]));
  track(gw);
  const r = await fetchText(`${url}/`);
  assert.deepEqual(r.headers['set-cookie'], ['a=1; Path=/', 'b=2; Path=/']);
  const x = r.headers['x-multi'];
  assert.ok(Array.isArray(x) ? x.join(', ') === 'one, two' : x === 'one, two', String(x));
});

test('repeated request headers reach the origin as separate lines', async (t) => {
  const { o, c } = await rawGateway(t);
  await c.write('GET / HTTP/1.1\r\nHost: h\r\nCookie: a=1\r\nX-Tag: one\r\nX-Tag: two\r\n\r\n');
  await c.waitFor((s) => parseResponses(s).length > 0);
  assert.deepEqual(rawValues(o.seen[0]!.rawHeaders, 'x-tag'), ['one', 'two']);
  assert.deepEqual(rawValues(o.seen[0]!.rawHeaders, 'cookie'), ['a=1']);
});

test('header name case is preserved toward the origin', async (t) => {
  const { o, c } = await rawGateway(t);
  await c.write('GET / HTTP/1.1\r\nHost: h\r\nX-CamelCase-Header: v1\r\nx-lower: v2\r\nACCEPT: */*\r\n\r\n');
  await c.waitFor((s) => parseResponses(s).length > 0);
  const names = o.seen[0]!.rawHeaders.filter((_, i) => i % 2 === 0);
  assert.ok(names.includes('X-CamelCase-Header'), names.join(','));
  assert.ok(names.includes('x-lower'), names.join(','));
  assert.ok(names.includes('ACCEPT'), names.join(','));
});

test('pass_host: pass sends the client Host to the origin', async (t) => {
  const track = closer(t);
  const o = track(await startOrigin('a'));
  const { gw, url } = await startGateway(simpleConfig([o.address], { pass_host: 'pass' }));
  track(gw);
  await fetchText(`${url}/`, { headers: { host: 'client.example.com:81' } });
  assert.equal(o.seen[0]!.headers.host, 'client.example.com:81');
  assert.equal(rawValues(o.seen[0]!.rawHeaders, 'host').length, 1, 'exactly one Host header');
});

test('pass_host: node sends the server address as Host', async (t) => {
  const track = closer(t);
  const o = track(await startOrigin('a'));
  const { gw, url } = await startGateway(simpleConfig([o.address], { pass_host: 'node' }));
  track(gw);
  await fetchText(`${url}/`, { headers: { host: 'client.example.com' } });
  assert.equal(o.seen[0]!.headers.host, `127.0.0.1:${o.port}`);
  assert.equal(o.seen[0]!.headers['x-forwarded-host'], 'client.example.com');
});

test('pass_host: rewrite sends the configured host', async (t) => {
  const track = closer(t);
  const o = track(await startOrigin('a'));
  const { gw, url } = await startGateway(simpleConfig([o.address], { pass_host: 'rewrite', host: 'internal.svc' }));
  track(gw);
  await fetchText(`${url}/`, { headers: { host: 'client.example.com' } });
  assert.equal(o.seen[0]!.headers.host, 'internal.svc');
  assert.equal(rawValues(o.seen[0]!.rawHeaders, 'host').length, 1);
  assert.equal(o.seen[0]!.headers['x-forwarded-host'], 'client.example.com');
});
