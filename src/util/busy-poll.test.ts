import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BusyPoller } from './busy-poll.js';

/** A poller on a hand-driven clock; `turn()` runs what it scheduled, as the loop's next turn would. */
function rig(windowMs = 1) {
  let now = 0;
  const queue: Array<() => void> = [];
  const p = new BusyPoller({ now: () => now, schedule: (fn) => queue.push(fn) }, windowMs);
  return {
    p,
    queued: () => queue.length,
    advance(ms: number) {
      now += ms;
    },
    turn() {
      const fns = queue.splice(0);
      for (const fn of fns) fn();
      return fns.length;
    },
  };
}

test('off (the default): traffic schedules nothing, so the loop sleeps as usual', () => {
  const r = rig();
  assert.equal(r.p.enabled, false);
  r.p.activity();
  assert.equal(r.queued(), 0);
  assert.equal(r.p.spinning, false);
});

test('on: polls turn after turn while traffic keeps coming, then sleeps one window after the last', () => {
  const r = rig(1);
  r.p.enabled = true;
  assert.equal(r.p.spinning, true, 'turning it on starts polling');
  for (let i = 0; i < 10; i++) {
    r.advance(0.3);
    r.p.activity();
    assert.equal(r.turn(), 1, 'one turn scheduled per turn');
  }
  // No more traffic: keeps polling until 1 ms has passed since the last activity seen by a turn.
  r.advance(0.6);
  assert.equal(r.turn(), 1);
  assert.equal(r.p.spinning, true);
  r.advance(0.6);
  assert.equal(r.turn(), 1);
  assert.equal(r.p.spinning, false, 'window over: stops scheduling');
  assert.equal(r.queued(), 0);
  assert.equal(r.turn(), 0, 'nothing left: the loop may block in epoll_wait');
});

test('traffic after it went back to sleeping starts it again, once', () => {
  const r = rig(1);
  r.p.enabled = true;
  r.turn(); // sees the activity of being turned on
  r.advance(2);
  r.turn();
  assert.equal(r.p.spinning, false);
  r.p.activity();
  r.p.activity();
  assert.equal(r.queued(), 1, 'a second activity does not schedule a second chain');
  assert.equal(r.p.spinning, true);
  r.advance(0.5);
  assert.equal(r.turn(), 1);
  assert.equal(r.p.spinning, true);
});

test('turning it off stops polling at the next turn, and traffic no longer restarts it', () => {
  const r = rig(1);
  r.p.enabled = true;
  r.p.enabled = false;
  r.p.activity();
  assert.equal(r.turn(), 1, 'the turn already scheduled runs');
  assert.equal(r.p.spinning, false);
  assert.equal(r.queued(), 0);
  r.p.activity();
  assert.equal(r.queued(), 0);
});
