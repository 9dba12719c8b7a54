import { test } from 'node:test';
import assert from 'node:assert/strict';
import { originFor, deadAddress } from './helpers/origin.js';
import { gatewayFor, simpleConfig, fetchText } from './helpers/gateway.js';
import diagnostics from 'node:diagnostics_channel';
import { answerStatus, tally, until } from './helpers/behaviour.js';
import type { HostEvent } from '../src/observability/events.js';

/** Outlier transitions, each with the time it was published. */
function outlierEvents(t: { after(fn: () => void): void }): Array<HostEvent & { at: number }> {
  const out: Array<HostEvent & { at: number }> = [];
  const fn = (m: unknown) => {
    if ((m as HostEvent).signal === 'outlier') out.push({ ...(m as HostEvent), at: Date.now() });
  };
  diagnostics.subscribe('headwater:host', fn);
  t.after(() => diagnostics.unsubscribe('headwater:host', fn));
  return out;
}

test('consecutive 5xx eject a server; each ejection in a row lasts longer', async (t) => {
  const events = outlierEvents(t);
  const a = await originFor(t, 'a', answerStatus('a', 500));
  const b = await originFor(t, 'b');
  const od = { consecutive_5xx: 2, interval: '50ms', base_ejection_time: '200ms', max_ejection_time: '1s', max_ejection_percent: 50 };
  const url = await gatewayFor(t, simpleConfig([a.address, b.address], { outlier_detection: od }));
  const ejected = () => events.filter((e) => e.status === 'ejected');
  const back = () => events.filter((e) => e.previous === 'ejected');
  for (let round = 1; round <= 2; round++) {
    for (let i = 0; i < 10 && ejected().length < round; i++) await fetchText(`${url}/e${round}-${i}`);
    const e = ejected()[round - 1];
    assert.ok(e, `ejection ${round}`);
    assert.equal(e.state, 'down');
    assert.match(e.reason, new RegExp(`2 consecutive 5xx: ejected for ${200 * round}ms \\(ejection ${round} in a row\\)`));
    // While ejected, b takes everything.
    assert.deepEqual(tally(await Promise.all([1, 2, 3, 4].map((i) => fetchText(`${url}/w${round}-${i}`)))), { b: 4 });
    await until(() => back().length >= round, 2000, `return ${round}`);
    const ms = back()[round - 1]!.at - e.at;
    // It returns at the first sweep after its time (timers may run late on a busy machine).
    assert.ok(ms >= 200 * round - 5 && ms < 200 * round + 500, `ejection ${round} lasted ${ms}ms`);
    assert.match(back()[round - 1]!.reason, new RegExp(`ejection time \\(${200 * round}ms\\) is over`));
  }
});

test('max_ejection_percent caps ejections, but one server may always be ejected', async (t) => {
  const events = outlierEvents(t);
  const origins = await Promise.all(['a', 'b', 'c'].map((n) => originFor(t, n, answerStatus(n, 503))));
  const od = { consecutive_5xx: 1, interval: '1s', base_ejection_time: '5s', max_ejection_percent: 10 };
  const url = await gatewayFor(t, simpleConfig(origins.map((o) => o.address), { outlier_detection: od }));
  for (let i = 0; i < 9; i++) assert.equal((await fetchText(`${url}/x${i}`)).status, 503);
  assert.equal(events.filter((e) => e.status === 'ejected').length, 1);
});

test('consecutive gateway failures (connection refused) eject a server', async (t) => {
  const events = outlierEvents(t);
  const dead = await deadAddress();
  const b = await originFor(t, 'b');
  const od = { consecutive_gateway_failure: 2, consecutive_5xx: 0, interval: '1s', base_ejection_time: '5s', max_ejection_percent: 50 };
  const url = await gatewayFor(t, simpleConfig([{ address: dead, max_fails: 0 }, b.address], { outlier_detection: od }));
  for (let i = 0; i < 8; i++) assert.equal((await fetchText(`${url}/x${i}`)).body, 'b');
  const e = events.filter((x) => x.status === 'ejected');
  assert.equal(e.length, 1);
  assert.equal(e[0]!.server, dead);
  assert.match(e[0]!.reason, /^2 consecutive gateway failures/);
});
