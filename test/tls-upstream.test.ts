import { test, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { makePki, type TestPki } from './helpers/certs.js';
import { gatewayFor, simpleConfig, fetchText } from './helpers/gateway.js';
import { channels } from '../src/observability/events.js';
import { record, recordAccess } from './helpers/raw.js';
import { dnsFor, noDnsmasq } from './helpers/dnsmasq.js';

let pki: TestPki;
let ip: { cert: string; key: string };
let named: { cert: string; key: string };
let client: { cert: string; key: string };
let self: { cert: string; key: string };
before(() => {
  pki = makePki();
  ip = pki.leaf('ip', ['IP:127.0.0.1']);
  named = pki.leaf('named', ['DNS:api.internal']);
  client = pki.leaf('gateway-client', []);
  self = pki.selfSigned('self', ['IP:127.0.0.1']);
});
after(() => pki.remove());

/** An HTTPS origin answering with the SNI name it got and the client certificate's CN. */
async function httpsOrigin(t: TestContext, pair: { cert: string; key: string }, mtls = false): Promise<string> {
  const server = https.createServer(
    { cert: readFileSync(pair.cert), key: readFileSync(pair.key), ...(mtls ? { requestCert: true, rejectUnauthorized: true, ca: pki.ca } : {}) },
    (req, res) => {
      const sock = req.socket as TLSSocket;
      const cn = sock.getPeerCertificate()?.subject?.CN;
      res.end(`sni=${sock.servername || '-'} client=${cn ?? '-'}`);
    },
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

test('HTTPS upstream with a private CA; an IP address is verified against the IP SAN, no SNI', async (t) => {
  const addr = await httpsOrigin(t, ip);
  const url = await gatewayFor(t, simpleConfig([addr], { tls: { ca: pki.caPath } }));
  const r = await fetchText(url);
  assert.equal(r.status, 200);
  assert.equal(r.body, 'sni=- client=-');
  const again = await fetchText(url);
  assert.equal(again.status, 200, 'a reused connection');
});

test('server_name is sent as SNI and is the name verified', async (t) => {
  const addr = await httpsOrigin(t, named);
  const good = await gatewayFor(t, simpleConfig([addr], { tls: { ca: pki.caPath, server_name: 'api.internal' } }));
  assert.equal((await fetchText(good)).body, 'sni=api.internal client=-');
  const wrong = await gatewayFor(t, simpleConfig([addr], { tls: { ca: pki.caPath, server_name: 'other.internal' } }));
  const r = await fetchText(wrong);
  assert.equal(r.status, 502);
  assert.match(r.body, /HW_ERR_UPSTREAM_TLS/);
});

test('verification is on by default: an untrusted certificate is a 502 with its own code, logged and counted', async (t) => {
  const addr = await httpsOrigin(t, self);
  const seen = recordAccess(t);
  const warnings = record<Record<string, unknown>>(t, channels.lifecycle);
  const url = await gatewayFor(t, simpleConfig([addr, { address: addr.replace('127.0.0.1', 'localhost') }], { tls: {} }));
  const r = await fetchText(url);
  assert.equal(r.status, 502);
  assert.match(r.body, /HW_ERR_UPSTREAM_TLS/);
  const rec = seen.find((x) => x.status === 502)!;
  assert.equal(rec.code, 'HW_ERR_UPSTREAM_TLS');
  assert.deepEqual(rec.tries.map((x) => x.outcome), ['error', 'error'], 'a TLS failure is an error: retried and counted');
  const w = warnings.find((x) => x.msg === 'TLS with upstream server failed')!;
  assert.match(String(w.reason), /self[- ]signed/i);
  const off = await gatewayFor(t, simpleConfig([addr], { tls: { verify: false } }));
  assert.equal((await fetchText(off)).status, 200, 'verify: false accepts it');
});

test('mutual TLS: the client certificate is presented; without it the server refuses', async (t) => {
  const addr = await httpsOrigin(t, ip, true);
  const url = await gatewayFor(t, simpleConfig([addr], { tls: { ca: pki.caPath, cert: client.cert, key: client.key } }));
  assert.equal((await fetchText(url)).body, 'sni=- client=gateway-client');
  const without = await gatewayFor(t, simpleConfig([addr], { tls: { ca: pki.caPath } }));
  assert.equal((await fetchText(without)).status, 502);
});

test('upstream TLS files are checked at load', async (t) => {
  const { createGateway, ConfigError } = await import('../src/gateway.js');
  await assert.rejects(
    createGateway({ listeners: [{ address: '127.0.0.1:0' }], ...simpleConfig(['127.0.0.1:1'], { tls: { ca: client.key, cert: client.cert, key: ip.key }, protocol: 'h2c' }) }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      const paths = err.issues.map((i) => i.path).sort();
      assert.deepEqual(paths, ['upstreams.web.protocol', 'upstreams.web.tls.ca', 'upstreams.web.tls.key']);
      return true;
    },
  );
  t.diagnostic('ok');
});

test('a server found through DNS (resolve) is verified, and named by SNI, with the host name it was found by', { skip: noDnsmasq }, async (t) => {
  const pair = pki.leaf('web-test', ['DNS:web.test']);
  const server = https.createServer({ cert: readFileSync(pair.cert), key: readFileSync(pair.key) }, (req, res) => res.end(`sni=${(req.socket as TLSSocket).servername}`));
  await new Promise<void>((r) => server.listen(0, '127.0.0.2', () => r()));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const dns = await dnsFor(t, { hosts: { 'web.test': ['127.0.0.2'] } });
  const port = (server.address() as AddressInfo).port;
  const url = await gatewayFor(t, simpleConfig([{ address: `web.test:${port}`, resolve: true }], { resolver: dns.address, tls: { ca: pki.caPath } }));
  const r = await fetchText(url);
  assert.equal(r.status, 200, r.body);
  assert.equal(r.body, 'sni=web.test');
});
