import assert from 'node:assert/strict';
import { test } from 'node:test';
import { performance } from 'node:perf_hooks';
import { ioBegin, ioEnd, ioNow } from './io-clock.js';

/** Waits until performance.now() has moved past `t`. */
function after(t: number): void {
  while (performance.now() <= t);
}

test('ioNow: one reading per read callback, the clock itself outside one', () => {
  const outside = ioNow();
  after(outside);
  assert.ok(ioNow() > outside, 'outside a callback every call reads the clock');

  ioBegin();
  const first = ioNow();
  assert.ok(first > outside);
  after(first);
  assert.equal(ioNow(), first, 'inside, later readings share the first');
  ioEnd();
  assert.ok(ioNow() > first, 'after the callback, the clock again');

  ioBegin();
  const next = ioNow();
  assert.ok(next > first, 'the next callback takes a new reading');
  ioEnd();
});
