import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closest, editDistance } from './suggest.js';

test('editDistance counts a swap of neighbours as one edit', () => {
  assert.equal(editDistance('weigth', 'weight'), 1);
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(editDistance('', 'abc'), 3);
});

test('closest suggests likely typos only', () => {
  const keys = ['address', 'weight', 'max_fails', 'fail_timeout', 'max_conns', 'backup', 'down'];
  assert.equal(closest('weigth', keys), 'weight');
  assert.equal(closest('max-fails', keys), 'max_fails');
  assert.equal(closest('Adress', keys), 'address');
  assert.equal(closest('colour', keys), undefined);
  assert.equal(closest('nmae', ['name', 'address']), 'name');
});
