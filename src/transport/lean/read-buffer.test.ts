import { test } from 'node:test';
import assert from 'node:assert/strict';
import { giveBack, leave, readBufferSizes, sharedReadBuffer, takeShared } from './read-buffer.js';

const { full, whileTaken, largeTakenMax } = readBufferSizes;

test('a taken buffer is replaced by a full-size one while few are out, by a smaller one past that, and full size returns when they come back', () => {
  assert.equal(sharedReadBuffer().length, full);
  assert.equal(takeShared(Buffer.alloc(8)), false, 'only the shared buffer can be taken');
  const out: Buffer[] = [];
  for (let i = 0; i < largeTakenMax; i++) {
    const b = sharedReadBuffer();
    assert.equal(takeShared(b), true);
    assert.notEqual(sharedReadBuffer(), b, 'reads moved to another buffer');
    out.push(b);
    assert.equal(sharedReadBuffer().length, full, `take ${i + 1} of ${largeTakenMax}: still full size`);
  }
  const last = sharedReadBuffer();
  assert.equal(takeShared(last), true);
  out.push(last);
  assert.equal(sharedReadBuffer().length, whileTaken, 'past the limit, replacements are the smaller size');
  // One left to its handler (not given back) still counts as no longer out.
  leave();
  // A full-size one given back while reads go to a small buffer becomes the shared one again.
  const back = out.shift()!;
  giveBack(back);
  assert.equal(sharedReadBuffer(), back, 'reads moved back to the full-size buffer');
  // Given back while the shared buffer is full size: kept as a spare for the next take.
  const spare = out.shift()!;
  giveBack(spare);
  assert.equal(takeShared(sharedReadBuffer()), true);
  assert.equal(sharedReadBuffer(), spare, 'the next take reuses the spare');
});
