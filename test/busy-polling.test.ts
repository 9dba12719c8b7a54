import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startOrigin, answerName } from './helpers/origin.js';
import { startGateway, simpleConfig, fetchText } from './helpers/gateway.js';
import { busyPoller } from '../src/util/busy-poll.js';

test('busy_polling: polls while requests flow, sleeps when they stop, follows reloads and close', async (t) => {
  // The origin runs in this process: it sees whether the gateway polls while a request is in flight.
  let seenPolling = 0;
  const answer = answerName('a');
  const o = await startOrigin('a', (req, res, body) => {
    if (busyPoller.spinning) seenPolling++;
    answer(req, res, body);
  });
  t.after(() => o.close());
  const listeners = [{ name: 'test', address: '127.0.0.1:0' }];
  const config = { ...simpleConfig([o.address]), listeners, busy_polling: true };
  const { gw, url } = await startGateway(config);
  let closed = false;
  t.after(() => (closed ? undefined : gw.close(0)));
  assert.equal(busyPoller.enabled, true);

  for (let i = 0; i < 20; i++) {
    const r = await fetchText(`${url}/x${i}`);
    assert.equal(r.status, 200);
    assert.equal(r.body, 'a');
  }
  assert.ok(seenPolling > 0, 'polling while requests were in flight');

  // 1 ms after the last request it stops; timers (this sleep) still fire while it polls.
  await sleep(50);
  assert.equal(busyPoller.spinning, false, 'back to sleeping in epoll_wait once traffic stopped');

  await gw.reload({ ...config, busy_polling: false });
  assert.equal(busyPoller.enabled, false, 'a reload turns it off');
  await sleep(20);
  seenPolling = 0;
  for (let i = 0; i < 5; i++) assert.equal((await fetchText(`${url}/off${i}`)).status, 200);
  assert.equal(seenPolling, 0, 'off: requests do not start it');

  await gw.reload(config);
  assert.equal(busyPoller.enabled, true, 'and back on');
  closed = true;
  await gw.close(0);
  assert.equal(busyPoller.enabled, false, 'closing the gateway turns it off');
});
