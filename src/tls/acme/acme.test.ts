import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Http01Challenges } from './challenges.js';
import { safeName } from './storage.js';
import { coveredUntil } from './manager.js';

test('http-01 challenges: only exact pending tokens under the well-known prefix', () => {
  const c = new Http01Challenges();
  assert.equal(c.answer('/.well-known/acme-challenge/abc'), undefined);
  c.set('abc', 'abc.key');
  assert.equal(c.answer('/.well-known/acme-challenge/abc'), 'abc.key');
  assert.equal(c.answer('/.well-known/acme-challenge/abcd'), undefined);
  assert.equal(c.answer('/other/.well-known/acme-challenge/abc'), undefined);
  assert.equal(c.answer('/.well-known/acme-challenge/abc?x=1'), undefined);
  c.delete('abc');
  assert.equal(c.pending, 0);
});

test('storage names: a domain can never escape the storage folder', () => {
  assert.equal(safeName('WWW.Example.com'), 'www.example.com');
  assert.equal(safeName('../etc'), '.._etc');
  assert.equal(safeName('..'), '_');
  assert.equal(safeName('a/b\\c'), 'a_b_c');
});

test('coveredUntil: 0 for garbage', () => {
  assert.equal(coveredUntil('not a certificate', ['a.test']), 0);
});
