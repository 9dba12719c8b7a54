import assert from 'node:assert/strict';
import { test } from 'node:test';
import { monotonicMs } from './clock.js';
import { everyFewReads, ioBegin, ioEnd, ioNow, READS_PER_HOOK } from './io-clock.js';

/** Waits until monotonicMs() has moved past `t`. */
function after(t: number): void {
  while (monotonicMs() <= t);
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

test('everyFewReads: a hook called every READS_PER_HOOK read callbacks, until cleared', () => {
  let calls = 0;
  everyFewReads(() => calls++);
  const read = () => {
    ioBegin();
    ioEnd();
  };
  for (let i = 0; i < READS_PER_HOOK - 1; i++) read();
  assert.equal(calls, 0);
  read();
  assert.equal(calls, 1);
  for (let i = 0; i < 2 * READS_PER_HOOK; i++) read();
  assert.equal(calls, 3);
  everyFewReads(undefined);
  for (let i = 0; i < 2 * READS_PER_HOOK; i++) read();
  assert.equal(calls, 3);
});
