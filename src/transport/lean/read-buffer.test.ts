import { test } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import vm from 'node:vm';
import { giveBack, OUT_MAX, SMALL_BUF, sharedReadBuffer, takeShared } from './read-buffer.js';

test('the shared read buffer turns small while many taken ones are out, and full-size once they are back', () => {
  const full = sharedReadBuffer().length;
  assert.ok(full > SMALL_BUF);
  assert.equal(takeShared(Buffer.alloc(16)), false, 'only the shared buffer can be taken');
  const taken: Buffer[] = [];
  for (let i = 0; i < OUT_MAX; i++) {
    const b = sharedReadBuffer();
    assert.equal(takeShared(b), true);
    assert.notEqual(sharedReadBuffer(), b, 'a taken buffer is never read into again');
    taken.push(b);
  }
  assert.equal(sharedReadBuffer().length, SMALL_BUF);
  // A small one taken is counted out too, and replaced by another small one.
  const small = sharedReadBuffer();
  assert.equal(takeShared(small), true);
  assert.equal(sharedReadBuffer().length, SMALL_BUF);
  giveBack(small);
  assert.equal(sharedReadBuffer().length, SMALL_BUF, `${OUT_MAX} still out`);
  giveBack(taken.pop()!);
  assert.equal(sharedReadBuffer().length, full);
  assert.ok(!taken.includes(sharedReadBuffer()) && sharedReadBuffer() !== small);
  // Giving one back twice counts it once.
  giveBack(taken[0]!);
  giveBack(taken[0]!);
  for (const b of taken.slice(1)) giveBack(b);
  const again: Buffer[] = [];
  for (let i = 0; i < OUT_MAX - 1; i++) {
    again.push(sharedReadBuffer());
    assert.equal(takeShared(again[i]!), true);
  }
  assert.equal(sharedReadBuffer().length, full, `only ${OUT_MAX - 1} out`);
  for (const b of again) giveBack(b);
});

test('a taken buffer that is never given back counts as back once it is collected (a real GC)', async () => {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const full = sharedReadBuffer().length;
  // Taken by handlers that finished writing and dropped them (LeanConnection's #complete).
  for (let i = 0; i < OUT_MAX; i++) assert.equal(takeShared(sharedReadBuffer()), true);
  assert.equal(sharedReadBuffer().length, SMALL_BUF);
  for (let i = 0; i < 50 && sharedReadBuffer().length !== full; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(sharedReadBuffer().length, full);
});
