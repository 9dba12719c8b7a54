import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, simpleConfig, fetchText } from './helpers/gateway.js';
import { originFor } from './helpers/origin.js';
import { closer, eventually, record } from './helpers/raw.js';
import { startTcpOrigin, talk } from './helpers/tcp.js';
import { blackhole } from './helpers/blackhole.js';
import { channels, type AccessRecord, type StreamRecord } from '../src/observability/events.js';

test('timeouts.connect: a server that never accepts times out and the request goes to the next one', async (t) => {
  const hole = await blackhole(t);
  const b = await originFor(t, 'b');
  const recs = record<AccessRecord>(t, channels.request);
  const { gw, url } = await startGateway(simpleConfig([hole, b.address], { timeouts: { connect: '200ms' } }));
  t.after(() => gw.close(0));
  const started = performance.now();
  const r = await fetchText(`${url}/x`);
  const took = performance.now() - started;
  assert.equal(r.status, 200);
  assert.equal(b.seen.length, 1);
  assert.ok(took >= 180 && took < 2000, `waited about the connect timeout (${Math.round(took)} ms)`);
  assert.ok(await eventually(() => recs.length === 1));
  assert.deepEqual(recs[0]!.tries.map((x) => [x.server, x.outcome]), [[hole, 'timeout'], [b.address, 'ok']]);
});

test('tcp listener: a connect timeout fails over to the next server', async (t) => {
  const add = closer(t);
  const hole = await blackhole(t);
  const b = add(await startTcpOrigin('b'));
  const recs = record<StreamRecord>(t, channels.stream);
  const { gw } = await startGateway({
    listeners: [{ name: 'db', address: '127.0.0.1:0', protocol: 'tcp', upstream: 'pg' }],
    upstreams: { pg: { timeouts: { connect: '200ms' }, servers: [{ address: hole }, { address: b.address }] } },
  });
  add(gw);
  assert.equal(await talk(gw.addresses()[0]!.port, 'x', { end: true }), 'b:xb:bye');
  assert.ok(await eventually(() => recs.length === 1));
  assert.deepEqual(recs[0]!.tries.map((x) => x.outcome), ['timeout', 'ok']);
});
