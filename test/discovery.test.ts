import { test } from 'node:test';
import assert from 'node:assert/strict';
import { originFor, type Origin } from './helpers/origin.js';
import { gatewayFor, simpleConfig, fetchText, type Reply } from './helpers/gateway.js';
import { burst, recordChannel, tally, until } from './helpers/behaviour.js';
import { dnsFor, noDnsmasq } from './helpers/dnsmasq.js';
import type { UpstreamEvent } from '../src/observability/events.js';

/** Origins on 127.0.0.2 and 127.0.0.3 sharing one port, as the addresses of one DNS name would. */
async function twins(t: Parameters<typeof originFor>[0]): Promise<[Origin, Origin]> {
  const a = await originFor(t, 'a', undefined, { host: '127.0.0.2' });
  const b = await originFor(t, 'b', undefined, { host: '127.0.0.3', port: a.port });
  return [a, b];
}

test('resolve: a host name follows its DNS answer; a failing resolver keeps the last good set', { skip: noDnsmasq }, async (t) => {
  const events = recordChannel<UpstreamEvent>('headwater:upstream');
  t.after(() => events.stop());
  const [a] = await twins(t); // b listens on 127.0.0.3 with a's port
  const dns = await dnsFor(t, { hosts: { 'web.test': ['127.0.0.2'] } });
  const url = await gatewayFor(t, simpleConfig([{ address: `web.test:${a.port}`, resolve: true, weight: 2 }], { resolver: dns.address, valid: '100ms' }));
  assert.deepEqual(tally(await burst(url, 3)), { a: 3 }, 'resolved at start');
  await dns.update({ hosts: { 'web.test': ['127.0.0.2', '127.0.0.3'] } });
  await until(() => events.events.some((e) => e.kind === 'discovery' && /127\.0\.0\.3/.test(e.reason)), 3000, 'the new address');
  assert.deepEqual(tally(await burst(url, 4)), { a: 2, b: 2 }, 'every address is a server with the same parameters');
  await dns.update({ hosts: { 'web.test': ['127.0.0.3'] } });
  await until(() => events.events.some((e) => e.kind === 'discovery' && /^web\.test: 127\.0\.0\.3:\d+ weight=2 \(was/.test(e.reason)), 3000, 'the address to go');
  assert.deepEqual(tally(await burst(url, 3)), { b: 3 });
  await dns.stop();
  await until(() => events.events.some((e) => e.kind === 'resolve_failed'), 5000, 'a resolver failure');
  const failed = events.events.find((e) => e.kind === 'resolve_failed')!;
  assert.match(failed.reason, /^web\.test: .*keeping the last good set \(1 address\(es\)\)$/);
  assert.deepEqual(tally(await burst(url, 3)), { b: 3 }, 'the last good set keeps serving');
});

test('service: SRV records give servers with their ports and weights; a higher priority value is a backup', { skip: noDnsmasq }, async (t) => {
  const a = await originFor(t, 'a');
  const b = await originFor(t, 'b', undefined, { host: '127.0.0.2' });
  const c = await originFor(t, 'c', undefined, { host: '127.0.0.3' });
  const dns = await dnsFor(t, {
    hosts: { 'a.test': ['127.0.0.1'], 'b.test': ['127.0.0.2'], 'c.test': ['127.0.0.3'] },
    srv: [
      { name: '_http._tcp.api.test', target: 'a.test', port: a.port, weight: 3 },
      { name: '_http._tcp.api.test', target: 'b.test', port: b.port, weight: 1 },
      { name: '_http._tcp.api.test', target: 'c.test', port: c.port, priority: 10, weight: 5 },
    ],
  });
  const config = {
    routes: [
      { name: 'full', match: { path_prefix: '/full/' }, upstream: 'full' },
      { name: 'nginx', match: { path_prefix: '/' }, upstream: 'nginx' },
    ],
    upstreams: {
      full: { resolver: dns.address, valid: '100ms', servers: [{ service: '_http._tcp.api.test' }] },
      nginx: { resolver: dns.address, servers: [{ address: 'api.test', service: 'http' }] },
    },
  };
  const url = await gatewayFor(t, config);
  const full: Reply[] = [];
  for (let i = 0; i < 8; i++) full.push(await fetchText(`${url}/full/${i}`));
  assert.deepEqual(tally(full), { a: 6, b: 2 }, 'weights 3:1 from SRV; the priority-10 record is a backup');
  assert.deepEqual(tally(await burst(url, 4)), { a: 3, b: 1 }, 'NGINX form: service http on api.test');
  // Change the records: the backup becomes the only server, at the next refresh (valid: 100ms).
  await dns.update({ hosts: { 'c.test': ['127.0.0.3'] }, srv: [{ name: '_http._tcp.api.test', target: 'c.test', port: c.port, weight: 1 }] });
  const end = Date.now() + 3000;
  while ((await fetchText(`${url}/full/poll`)).body !== 'c') assert.ok(Date.now() < end, 'the new SRV answer was not picked up');
  const after: Reply[] = [];
  for (let i = 0; i < 3; i++) after.push(await fetchText(`${url}/full/after${i}`));
  assert.deepEqual(tally(after), { c: 3 });
});
