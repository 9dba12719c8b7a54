import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ErrorCode } from '../errors.js';
import { RequestQueue, type Waiter } from './queue.js';

/** A waiter that takes a slot while `slots` has any, and records what happened to it. */
function waiter(name: string, log: string[], slots: { free: number }): Waiter {
  return {
    serve: () => {
      if (slots.free === 0) return false;
      slots.free--;
      log.push(`${name} served`);
      return true;
    },
    expire: (code: ErrorCode) => log.push(`${name} ${code}`),
  };
}

test('FIFO within size; wake serves in order while slots last; remove leaves; timeout expires', async () => {
  const log: string[] = [];
  const slots = { free: 0 };
  const q = new RequestQueue(2, 50);
  const a = waiter('a', log, slots);
  assert.ok(q.enqueue(a));
  assert.ok(q.enqueue(waiter('b', log, slots)));
  assert.equal(q.enqueue(waiter('c', log, slots)), false, 'full');
  q.wake();
  assert.deepEqual(log, [], 'no slot: nobody served, nobody dropped');
  slots.free = 1;
  q.wake();
  assert.deepEqual(log, ['a served']);
  assert.equal(q.length, 1);
  const d = waiter('d', log, slots);
  assert.ok(q.enqueue(d));
  assert.ok(q.remove(d));
  assert.equal(q.remove(d), false);
  await new Promise((r) => setTimeout(r, 80));
  assert.deepEqual(log, ['a served', 'b HW_ERR_QUEUE_TIMEOUT']);
  assert.equal(q.length, 0);
  assert.ok(q.enqueue(waiter('e', log, slots)));
  q.clear('HW_ERR_SHUTTING_DOWN');
  assert.deepEqual(log.at(-1), 'e HW_ERR_SHUTTING_DOWN');
});
