import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { monotonicMs } from './clock.js';

test('monotonicMs: milliseconds that never go back and move as performance.now() does', () => {
  const m0 = monotonicMs();
  const p0 = performance.now();
  let last = m0;
  while (performance.now() - p0 < 5) {
    const m = monotonicMs();
    assert.ok(m >= last);
    last = m;
  }
  const dm = monotonicMs() - m0;
  const dp = performance.now() - p0;
  assert.ok(Math.abs(dm - dp) < 1, `${dm} ms against performance.now()'s ${dp} ms`);
  assert.ok(m0 >= 0);
});
