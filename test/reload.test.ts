import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startOrigin } from './helpers/origin.js';
import { startGateway, simpleConfig, fetchText } from './helpers/gateway.js';
import { ConfigError } from '../src/gateway.js';
import { channels } from '../src/observability/events.js';
import { record } from './helpers/raw.js';

test('reload swaps routes and upstreams atomically', async (t) => {
  const a = await startOrigin('a');
  const b = await startOrigin('b');
  const { gw, url } = await startGateway(simpleConfig([a.address]));
  t.after(async () => {
    await gw.close(0);
    await a.close();
    await b.close();
  });
  assert.equal((await fetchText(url)).body, 'a');
  const addr = gw.addresses()[0]!;
  await gw.reload({ listeners: [{ name: 'test', address: `127.0.0.1:0` }], access_log: { enabled: false }, ...simpleConfig([b.address]) });
  assert.equal(gw.addresses()[0]!.port, addr.port, 'an unchanged listener keeps its socket');
  assert.equal((await fetchText(url)).body, 'b');
});

test('an invalid config is refused with every issue and the old one keeps serving', async (t) => {
  const a = await startOrigin('a');
  const { gw, url } = await startGateway(simpleConfig([a.address]));
  t.after(async () => {
    await gw.close(0);
    await a.close();
  });
  const seen = record<unknown>(t, channels.reload);
  await assert.rejects(
    gw.reload({
      listeners: [{ address: '127.0.0.1:0' }],
      routes: [{ match: { path_prefix: '/' }, upstream: 'nope' }],
      upstreams: { web: { balance: 'fastest', servers: [{ address: 'x' }] } },
    }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      const paths = err.issues.map((i) => i.path);
      assert.ok(paths.includes('routes[0].upstream'), paths.join());
      assert.ok(paths.includes('upstreams.web.balance'), paths.join());
      assert.ok(paths.some((p) => p.startsWith('upstreams.web.servers[0].address')), paths.join());
      return true;
    },
  );
  assert.equal((seen[0] as { ok: boolean }).ok, false);
  const r = await fetchText(url);
  assert.equal(r.status, 200);
  assert.equal(r.body, 'a');
});

test('in-flight requests finish on the old config; unchanged servers keep their state', async (t) => {
  let release: (() => void) | undefined;
  const slow = await startOrigin('slow', (req, res) => {
    if (req.url !== '/slow') {
      res.end('slow');
      return;
    }
    release = () => {
      res.writeHead(200);
      res.end('old');
    };
  });
  const fresh = await startOrigin('fresh');
  const { gw, url } = await startGateway(simpleConfig([slow.address, { address: fresh.address, max_fails: 5 }]));
  t.after(async () => {
    await gw.close(0);
    await slow.close();
    await fresh.close();
  });
  const pending = fetchText(`${url}/slow`);
  while (!release) await new Promise((r) => setTimeout(r, 5));
  // The in-flight request counts on the slow server; the reload keeps that host (same params).
  await gw.reload({ listeners: [{ name: 'test', address: '127.0.0.1:0' }], access_log: { enabled: false }, ...simpleConfig([slow.address, fresh.address]) });
  release();
  const r = await pending;
  assert.equal(r.status, 200);
  assert.equal(r.body, 'old');
  // After the reload, requests still balance across both servers.
  const bodies = new Set<string>();
  for (let i = 0; i < 4; i++) bodies.add((await fetchText(`${url}/x`)).body);
  assert.ok(bodies.has('fresh'));
});
