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
