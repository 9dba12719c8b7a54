import { test } from 'node:test';
import assert from 'node:assert/strict';
import { STATUS_CODES } from 'node:http';
import { REASONS } from './reasons.js';

test('the reason phrases are node:http\'s, so both engines write the same status lines', () => {
  assert.deepEqual({ ...REASONS }, { ...STATUS_CODES });
});
