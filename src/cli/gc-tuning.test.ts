import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tuneGc } from './gc-tuning.js';

test('parallel scavenge is turned off only when a single core is available', () => {
  const set: string[] = [];
  assert.equal(tuneGc(1, (f) => set.push(f)), true);
  assert.deepEqual(set, ['--no-parallel-scavenge']);
  assert.equal(tuneGc(2, (f) => set.push(f)), false);
  assert.equal(tuneGc(64, (f) => set.push(f)), false);
  assert.equal(set.length, 1);
});
