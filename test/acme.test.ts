import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtempSync, statSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { startGateway, simpleConfig, fetchText } from './helpers/gateway.js';
import { originFor } from './helpers/origin.js';
import https from 'node:https';
import { startPebble, pebbleMissing } from './helpers/pebble.js';
import { fixedPort } from './helpers/ports.js';
import { validateConfig } from '../src/config/load.js';
import { AcmeManager, type AcmeSettings } from '../src/tls/acme/manager.js';
import { AcmeStorage } from '../src/tls/acme/storage.js';
import { Http01Challenges } from '../src/tls/acme/challenges.js';
import { channels, type LifecycleEvent } from '../src/observability/events.js';
import { record } from './helpers/raw.js';

/** What a listener's certificate store receives. */
class Sink {
  got: Array<{ names: string[]; cert: string; key: string }> = [];
  set(names: string[], cert: string, key: string): void {
    this.got.push({ names, cert, key });
  }
}

/** An origin, a port for the gateway's plain listener, pebble validating on it, and a storage folder. */
async function acmeEnv(t: TestContext, validitySeconds?: number) {
  const origin = await originFor(t, 'app');
  const httpPort = await fixedPort();
  const pebble = await startPebble(t, httpPort, { validitySeconds });
  const storage = mkdtempSync(path.join(tmpdir(), 'hw-acme-'));
  t.after(() => rmSync(storage, { recursive: true, force: true }));
  return { origin, httpPort, pebble, storage };
}

/** acmeEnv plus a gateway on that port, for driving AcmeManager directly. */
async function setup(t: TestContext, validitySeconds?: number) {
  const { origin, httpPort, pebble, storage } = await acmeEnv(t, validitySeconds);
  const { gw, url } = await startGateway({ ...simpleConfig([origin.address]), listeners: [{ name: 'plain', address: `127.0.0.1:${httpPort}` }] });
  t.after(() => gw.close(0));
  const settings: AcmeSettings = { email: 'ops@a.test', directory: pebble.directory, domains: ['a.test', 'www.a.test'], storage, ca: pebble.caFile, renew_before: 30 * 86400_000 };
  return { gw, url, pebble, settings };
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms)))]).finally(() => clearTimeout(timer));
}

test('acme: obtains a certificate from pebble through the gateway listener (http-01), stores it, reuses it', async (t) => {
  if (pebbleMissing(t)) return;
  const { gw, pebble, settings } = await setup(t);
  const sink = new Sink();
  const m = new AcmeManager(settings, sink, gw.challenges);
  t.after(() => m.close());
  await m.start();
  await within(m.ready(), 20_000, 'certificate from pebble');
  assert.equal(sink.got.length, 1);
  const { names, cert, key } = sink.got[0]!;
  assert.deepEqual(names, ['a.test', 'www.a.test']);
  assert.equal(gw.challenges.pending, 0, 'challenges are removed once the order is done');
  const chain = cert.split(/(?<=-----END CERTIFICATE-----)\s*/).filter((s) => s.includes('BEGIN'));
  const leaf = new X509Certificate(chain[0]!);
  assert.match(leaf.subjectAltName ?? '', /DNS:a\.test/);
  assert.match(leaf.subjectAltName ?? '', /DNS:www\.a\.test/);
  assert.ok(leaf.checkPrivateKey(createPrivateKey(key)), 'the key belongs to the certificate');
  const intermediate = new X509Certificate(chain[1]!);
  assert.ok(leaf.verify(intermediate.publicKey), 'signed by the chain sent along');
  const root = new X509Certificate(await pebble.root());
  assert.ok(intermediate.verify(root.publicKey), "the chain ends at pebble's root");
  // Stored with private modes.
  assert.equal(statSync(path.join(settings.storage, 'a.test', 'key.pem')).mode & 0o077, 0);
  assert.equal(statSync(path.join(settings.storage, 'account.key')).mode & 0o077, 0);

  // A restart with the same storage uses the stored certificate without asking the CA.
  await pebble.stop();
  const again = new Sink();
  const m2 = new AcmeManager(settings, again, gw.challenges);
  t.after(() => m2.close());
  await m2.start();
  await within(m2.ready(), 2000, 'stored certificate');
  assert.equal(again.got[0]!.cert, cert);
  assert.equal(m2.due(), false);
});

test('acme: renews when the certificate comes within renew_before of expiry', async (t) => {
  if (pebbleMissing(t)) return;
  const { gw, settings } = await setup(t, 3600);
  let clock = Date.now();
  const sink = new Sink();
  const m = new AcmeManager({ ...settings, renew_before: 30 * 60_000 }, sink, gw.challenges, { now: () => clock });
  t.after(() => m.close());
  await m.start();
  await within(m.ready(), 20_000, 'first certificate');
  await m.check();
  assert.equal(sink.got.length, 1, 'not due: no second order');
  clock += 40 * 60_000; // 20 minutes left, renew_before is 30
  assert.equal(m.due(), true);
  await within(m.check(), 20_000, 'renewal');
  assert.equal(sink.got.length, 2);
  const first = new X509Certificate(sink.got[0]!.cert);
  const second = new X509Certificate(sink.got[1]!.cert);
  assert.notEqual(first.serialNumber, second.serialNumber);
});

test('acme: an unreachable CA is logged and retried; a stored certificate stays in use', async (t) => {
  if (pebbleMissing(t)) return;
  const { gw, pebble, settings } = await setup(t);
  const first = new AcmeManager(settings, new Sink(), gw.challenges);
  t.after(() => first.close());
  await first.start();
  await within(first.ready(), 20_000, 'first certificate');
  first.close();
  await pebble.stop();

  const events = record<LifecycleEvent>(t, channels.lifecycle);
  // The stored certificate is due for renewal (renew_before longer than its life) and the CA is down:
  // it stays in use and the failure is logged with the retry delay.
  const sink = new Sink();
  const m = new AcmeManager({ ...settings, renew_before: 20 * 365 * 86400_000 }, sink, gw.challenges, { retryMinMs: 60_000 });
  t.after(() => m.close());
  await m.start();
  await within(m.check(), 20_000, 'failed renewal');
  assert.equal(sink.got.length, 1, 'the stored certificate was installed');
  const err = events.find((e) => e.level === 'error' && e.msg.startsWith('acme:'));
  assert.ok(err, 'the failure is logged');
  assert.equal(err.retry_in_ms, 60_000);
  assert.equal(err.keeping, 'the current certificate');

  // Domains changed: the stored certificate no longer covers them, so nothing is installed.
  const other = new Sink();
  const m2 = new AcmeManager({ ...settings, domains: ['a.test', 'new.a.test'] }, other, gw.challenges, { retryMinMs: 60_000 });
  t.after(() => m2.close());
  await m2.start();
  await within(m2.check(), 20_000, 'failed order');
  assert.equal(other.got.length, 0);
  assert.equal(events.filter((e) => e.keeping === 'no certificate yet').length, 1);
});

test('acme: only pending tokens are answered; other challenge paths are routed as usual', async (t) => {
  const origin = await originFor(t, 'app');
  const { gw, url } = await startGateway(simpleConfig([origin.address]));
  t.after(() => gw.close(0));
  gw.challenges.set('tok123', 'tok123.thumbprint');
  const hit = await fetchText(`${url}/.well-known/acme-challenge/tok123`);
  assert.equal(hit.status, 200);
  assert.equal(hit.body, 'tok123.thumbprint');
  const miss = await fetchText(`${url}/.well-known/acme-challenge/other`);
  assert.equal(miss.status, 200);
  assert.notEqual(miss.body, 'tok123.thumbprint', 'an unknown token goes to the upstream');
  const post = await fetchText(`${url}/.well-known/acme-challenge/tok123`, { method: 'POST', body: 'x' });
  assert.notEqual(post.body, 'tok123.thumbprint');
  gw.challenges.delete('tok123');
  assert.notEqual((await fetchText(`${url}/.well-known/acme-challenge/tok123`)).body, 'tok123.thumbprint');
});

test('acme on a TLS listener: the certificate is ordered through the plain listener and served by SNI', async (t) => {
  if (pebbleMissing(t)) return;
  const { origin, httpPort, pebble, storage } = await acmeEnv(t);
  const { gw } = await startGateway({
    ...simpleConfig([origin.address]),
    listeners: [
      { name: 'plain', address: `127.0.0.1:${httpPort}` },
      { name: 'secure', address: '127.0.0.1:0', tls: { acme: { email: 'ops@shop.test', directory: pebble.directory, domains: ['shop.test'], storage, ca: pebble.caFile } } },
    ],
  });
  t.after(() => gw.close(0));
  await within(gw.acme.manager('secure')!.ready(), 20_000, 'certificate for the listener');
  const port = gw.addresses().find((a) => a.name === 'secure')!.port;
  const root = await pebble.root();
  const reply = await new Promise<{ status: number; body: string; san: string }>((resolve, reject) => {
    https.get({ host: '127.0.0.1', port, path: '/hello', servername: 'shop.test', ca: root, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, san: (res.socket as import('node:tls').TLSSocket).getPeerCertificate().subjectaltname ?? '' }));
    }).on('error', reject);
  });
  assert.equal(reply.status, 200);
  assert.match(reply.san, /DNS:shop\.test/);
  // A reload that keeps the listener and its ACME settings does not order again.
  const manager = gw.acme.manager('secure');
  await gw.reload({ ...gw.config, routes: gw.config.routes }, true);
  assert.equal(gw.acme.manager('secure'), manager);
});

test('acme config: certificates or acme is required; domains must be DNS names', () => {
  const r = validateConfig({
    listeners: [
      { address: '127.0.0.1:1', tls: {} },
      { address: '127.0.0.1:2', tls: { acme: { email: 'a@b.test', domains: ['*.b.test', '10.0.0.1', 'ok.b.test'], storage: '/tmp/x' } } },
    ],
    routes: [{ upstream: 'web' }],
    upstreams: { web: { servers: [{ address: '127.0.0.1:9' }] } },
  });
  assert.ok(!r.ok);
  const msgs = r.issues.map((i) => `${i.path}: ${i.message}`);
  assert.equal(msgs.length, 3, msgs.join('\n'));
  assert.match(msgs[0]!, /^listeners\[0\]\.tls\.certificates: missing required key "certificates" \(or "acme"/);
  assert.match(msgs[1]!, /^listeners\[1\]\.tls\.acme\.domains: .*"\*\.b\.test".*wildcard/);
  assert.match(msgs[2]!, /^listeners\[1\]\.tls\.acme\.domains: .*"10\.0\.0\.1".*IP address/);
  const ok = validateConfig({
    listeners: [{ address: '127.0.0.1:2', tls: { acme: { email: 'a@b.test', domains: ['ok.b.test'], storage: 'acme' } } }],
    routes: [{ upstream: 'web' }],
    upstreams: { web: { servers: [{ address: '127.0.0.1:9' }] } },
  }, '/etc/headwater/headwater.yaml');
  assert.ok(ok.ok);
  const acme = ok.config.listeners[0]!.tls!.acme!;
  assert.equal(acme.directory, 'https://acme-v02.api.letsencrypt.org/directory');
  assert.equal(acme.storage, '/etc/headwater/acme');
  assert.equal(acme.renew_before, 30 * 86400_000);
  assert.deepEqual(ok.config.listeners[0]!.tls!.certificates, []);
});

test('acme with shared storage (workers): one process orders, another answers its challenge and picks the certificate up', async (t) => {
  if (pebbleMissing(t)) return;
  const { origin, httpPort, pebble, storage } = await acmeEnv(t);
  const acme = { email: 'ops@w.test', directory: pebble.directory, domains: ['w.test'], storage, ca: pebble.caFile };
  // Worker B: the CA reaches only its plain listener. Another process holds the order lock at first.
  const held = await new AcmeStorage(storage).lock('w.test');
  assert.ok(held);
  const { gw: b } = await startGateway({
    ...simpleConfig([origin.address]),
    listeners: [
      { name: 'plain', address: `127.0.0.1:${httpPort}` },
      { name: 'secure', address: '127.0.0.1:0', tls: { acme } },
    ],
  }, { acme: { followMs: 1500 } });
  t.after(() => b.close(0));
  // B has looked once and found the lock held: it now waits 1.5 s before looking again.
  await new Promise((r) => setTimeout(r, 200));
  await held();
  // Worker A orders; its own answers are served nowhere but through the shared storage.
  const sinkA = new Sink();
  const a = new AcmeManager({ ...acme, renew_before: 30 * 86400_000 }, sinkA, new Http01Challenges());
  t.after(() => a.close());
  await a.start();
  await within(a.ready(), 20_000, "worker A's certificate");
  await within(b.acme.manager('secure')!.ready(), 5000, 'worker B picking it up from storage');
  const port = b.addresses().find((x) => x.name === 'secure')!.port;
  const root = await pebble.root();
  const served = await new Promise<string>((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port, path: '/', servername: 'w.test', ca: root, agent: false }, (res) => {
      res.resume();
      resolve((res.socket as import('node:tls').TLSSocket).getPeerCertificate().fingerprint256);
    });
    req.on('error', reject);
  });
  assert.equal(served, new X509Certificate(sinkA.got[0]!.cert).fingerprint256, 'B serves the certificate A obtained');
});
