import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IdleWait } from './idle-wait.js';

test('IdleWait: resolves at idle() before the time is up, or when the time is up', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const w = new IdleWait();
  let woke = false;
  const early = w.wait(10_000).then(() => (woke = true));
  await Promise.resolve();
  assert.equal(woke, false);
  w.idle();
  await early;
  assert.equal(woke, true);

  let late = false;
  const timed = w.wait(500).then(() => (late = true));
  t.mock.timers.tick(499);
  await Promise.resolve();
  assert.equal(late, false);
  t.mock.timers.tick(1);
  await timed;
  assert.equal(late, true);
  // A waiter that timed out is gone: a later idle() finds nobody.
  w.idle();
});
