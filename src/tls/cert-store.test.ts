import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { makePki, type TestPki } from '../../test/helpers/certs.js';
import { CertStore } from './cert-store.js';
import { CertificateError, loadCertificate, nameMatches } from './certificate.js';

let pki: TestPki;
before(() => (pki = makePki()));
after(() => pki.remove());

const settings = { minVersion: 'TLSv1.2' as const, alpn: ['http/1.1'] };

test('nameMatches: exact names, and a wildcard covers exactly one label', () => {
  assert.ok(nameMatches('a.example', 'a.example'));
  assert.ok(nameMatches('*.example', 'a.example'));
  assert.ok(!nameMatches('*.example', 'example'));
  assert.ok(!nameMatches('*.example', 'b.a.example'));
  assert.ok(!nameMatches('*.example', '.example'));
});

test('loadCertificate: names from subjectAltName DNS entries, else the CN; a foreign key is refused', () => {
  const san = pki.leaf('san', ['DNS:One.example', 'DNS:*.two.example', 'IP:127.0.0.1'], { cn: 'ignored.example' });
  const cn = pki.leaf('cn-only', [], { cn: 'cn.example' });
  assert.deepEqual(loadCertificate(san.cert, san.key).names, ['one.example', '*.two.example']);
  assert.deepEqual(loadCertificate(cn.cert, cn.key).names, ['cn.example']);
  assert.throws(() => loadCertificate(san.cert, cn.key), (e: unknown) => e instanceof CertificateError && e.field === 'key');
  assert.throws(() => loadCertificate(san.key, san.key), (e: unknown) => e instanceof CertificateError && e.field === 'cert');
});

test('CertStore: SNI picks exact before wildcard, the first file certificate is the default; set() adds one at run time', () => {
  const first = pki.leaf('first', ['DNS:first.example']);
  const wild = pki.leaf('wild', ['DNS:*.w.example']);
  const exact = pki.leaf('exact', ['DNS:x.w.example']);
  const store = new CertStore(settings);
  store.configure(settings, [first, wild, exact]);
  const ctx = (name: string | undefined) => store.contextFor(name);
  assert.ok(ctx('x.w.example') !== undefined);
  assert.equal(ctx('X.W.example'), ctx('x.w.example'), 'names compare case-insensitively');
  assert.notEqual(ctx('x.w.example'), ctx('y.w.example'), 'the exact name wins over the wildcard');
  assert.equal(ctx('y.w.example'), ctx('z.w.example'));
  assert.notEqual(ctx('y.w.example'), ctx(undefined));
  assert.equal(ctx('nothing.example'), ctx(undefined), 'no match: the default');
  assert.equal(ctx(undefined), ctx('first.example'), 'the default is the first certificate');
  assert.equal(store.defaultPair()!.cert, readFileSync(first.cert, 'utf8'));
  // Run time (ACME): served for its names, ahead of a file certificate for the same name.
  const acme = pki.leaf('acme', ['DNS:first.example', 'DNS:new.example']);
  let defaults = 0;
  store.onDefaultChange = () => defaults++;
  store.set(['new.example', 'first.example'], readFileSync(acme.cert, 'utf8'), readFileSync(acme.key, 'utf8'));
  assert.notEqual(ctx('new.example'), ctx(undefined));
  assert.equal(ctx('new.example'), ctx('first.example'));
  assert.equal(defaults, 0, 'the default stays the first file certificate');
  store.close();
});
