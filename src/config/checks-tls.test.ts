import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makePki, type TestPki } from '../../test/helpers/certs.js';
import { loadConfigFile, formatIssue } from './load.js';

let pki: TestPki;
before(() => pki = makePki());
after(() => pki.remove());

test('certificate paths are relative to the config file; bad files are reported like any other issue', async () => {
  pki.leaf('site', ['DNS:site.example']);
  pki.leaf('other', ['DNS:other.example']);
  const file = join(pki.dir, 'headwater.yaml');
  const yaml = (key: string) => `listeners:
  - address: 127.0.0.1:8443
    tls:
      certificates:
        - { cert: site.pem, key: ${key} }
    http2: true
`;
  writeFileSync(file, yaml('site.key'));
  const ok = await loadConfigFile(file);
  assert.ok(ok.ok);
  assert.deepEqual(ok.config.listeners[0]!.tls!.certificates, [{ cert: join(pki.dir, 'site.pem'), key: join(pki.dir, 'site.key') }]);
  assert.equal(ok.config.listeners[0]!.tls!.min_version, 'TLSv1.2');
  assert.equal(ok.config.listeners[0]!.http2_limits!.max_concurrent_streams, 128);
  writeFileSync(file, yaml('other.key'));
  const bad = await loadConfigFile(file);
  assert.ok(!bad.ok);
  assert.equal(bad.issues.length, 1);
  assert.match(formatIssue(bad.issues[0]!), /headwater\.yaml:5:34 {2}listeners\[0\]\.tls\.certificates\[0\]\.key {2}".*other\.key" is not the private key of ".*site\.pem"/);
});

test('TLS and HTTP/2 keys that cannot work together are config errors', async () => {
  const { validateConfig } = await import('./load.js');
  const site = pki.leaf('combo', ['DNS:combo.example']);
  const r = validateConfig({
    listeners: [
      { address: '127.0.0.1:1', tls: { certificates: [site] }, protocol: 'tcp', upstream: 'web' },
      { address: '127.0.0.1:2', http2: true },
      { address: '127.0.0.1:3', h2c: true, tls: { certificates: [site] } },
      { address: '127.0.0.1:4', http2_limits: { max_concurrent_streams: 10 } },
      { address: '127.0.0.1:5', protocol: 'tcp', upstream: 'web', h2c: true },
      { address: '127.0.0.1:6', tls: { certificates: [site], alpn: ['h2'] } },
    ],
    upstreams: {
      web: { protocol: 'h2', servers: [{ address: '127.0.0.1:9' }] },
      px: { send_proxy_protocol: 'v1', tls: { verify: false }, servers: [{ address: '127.0.0.1:9' }] },
    },
  });
  assert.ok(!r.ok);
  assert.deepEqual(r.issues.map((i) => i.path).sort(), [
    'listeners[0].tls',
    'listeners[1].http2',
    'listeners[2].h2c',
    'listeners[3].http2_limits',
    'listeners[4].h2c',
    'listeners[5].tls.alpn',
    'upstreams.px.send_proxy_protocol',
    'upstreams.web.protocol',
  ]);
});
