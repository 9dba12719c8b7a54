import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import http2 from 'node:http2';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { filePki } from './helpers/certs.js';
import { gatewayFor, simpleConfig } from './helpers/gateway.js';
import { recordChannel, until } from './helpers/behaviour.js';
import type { HostEvent } from '../src/observability/events.js';

const certs = filePki({ health: ['IP:127.0.0.1'] });
const FAST = { interval: '50ms', unhealthy_interval: '50ms', timeout: '500ms', path: '/healthz' };

function hostEvents(t: TestContext): HostEvent[] {
  const rec = recordChannel<HostEvent>('headwater:host');
  t.after(() => rec.stop());
  return rec.events;
}

/** An origin counting /healthz probes: HTTPS, or cleartext HTTP/2 (h2c). */
async function origin(t: TestContext, kind: 'https' | 'h2c', seen: string[]): Promise<string> {
  const pair = certs.pairs['health']!;
  const handler = (req: { url?: string; httpVersion: string }, res: { end(s: string): void }) => {
    seen.push(`${req.httpVersion} ${req.url}`);
    res.end('ok');
  };
  const server = kind === 'https' ? https.createServer({ cert: readFileSync(pair.cert), key: readFileSync(pair.key) }, handler) : http2.createServer(handler);
  const sessions = new Set<http2.Http2Session>();
  server.on('session', (s: http2.Http2Session) => sessions.add(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.after(() => {
    for (const s of sessions) s.destroy();
    if ('closeAllConnections' in server) server.closeAllConnections();
    server.close();
  });
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

test('health probes use the upstream\'s TLS settings: verified with its CA, refused without', async (t) => {
  const events = hostEvents(t);
  const seen: string[] = [];
  const addr = await origin(t, 'https', seen);
  await gatewayFor(t, simpleConfig([addr], { tls: { ca: certs.pki.caPath }, health_check: { ...FAST, initially: 'unhealthy', rise: 1 } }));
  await until(() => events.some((e) => e.server === addr && e.status === 'healthy'), 3000, 'healthy over https');
  assert.ok(seen.includes('1.1 /healthz'));
  const events2 = hostEvents(t);
  const untrusted = await origin(t, 'https', []);
  await gatewayFor(t, simpleConfig([untrusted], { tls: {}, health_check: { ...FAST, fall: 1 } }));
  await until(() => events2.some((e) => e.server === untrusted && e.status === 'unhealthy'), 3000, 'unhealthy: untrusted certificate');
  assert.match(events2.find((e) => e.server === untrusted && e.status === 'unhealthy')!.reason, /certificate/i);
});

test('health probes of an h2c upstream speak HTTP/2; tcp probes of a TLS upstream complete the handshake', async (t) => {
  const events = hostEvents(t);
  const seen: string[] = [];
  const addr = await origin(t, 'h2c', seen);
  await gatewayFor(t, simpleConfig([addr], { protocol: 'h2c', health_check: { ...FAST, initially: 'unhealthy', rise: 1 } }));
  await until(() => events.some((e) => e.server === addr && e.status === 'healthy'), 3000, 'healthy over h2c');
  assert.ok(seen.includes('2.0 /healthz'), seen.join());
  const tlsAddr = await origin(t, 'https', []);
  await gatewayFor(t, simpleConfig([tlsAddr], { tls: {}, health_check: { type: 'tcp', ...FAST, fall: 1 } }));
  await until(() => events.some((e) => e.server === tlsAddr && e.status === 'unhealthy'), 3000, 'tcp probe fails on an untrusted certificate');
});
