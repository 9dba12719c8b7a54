import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startOrigin, type Origin } from './helpers/origin.js';
import { gatewayFor, simpleConfig, fetchText } from './helpers/gateway.js';
import { until } from './helpers/behaviour.js';

test('failover under load: a server killed and restarted costs no client request, and gets traffic back', async (t) => {
  const origins: Origin[] = [];
  for (const n of ['a', 'b', 'c']) origins.push(await startOrigin(n));
  let b = origins[1]!;
  t.after(async () => {
    for (const o of [...origins, b]) await o.close();
  });
  // The killed server refuses connections, so no probe waits for its timeout. The timeout is long
  // because the gateway, the origins and the clients share this process: on a loaded machine its
  // event loop stalls for hundreds of ms (compiling, GC, other test files), and a 200 ms timeout
  // with fall 1 took every server out at once (503s) in ~1 of 6 runs, 8 files in parallel.
  const hc = { path: '/', interval: '50ms', unhealthy_interval: '50ms', timeout: '2s', rise: 1, fall: 1 };
  const url = await gatewayFor(t, simpleConfig(origins.map((o) => ({ address: o.address, max_fails: 1, fail_timeout: '300ms' })), { health_check: hc }));

  // Four clients send GETs one after another until told to stop; the phases go by request counts,
  // so a slow machine stretches the test instead of starving a phase.
  const results: Array<{ status: number; origin: string }> = [];
  let running = true;
  const client = async (id: number) => {
    for (let i = 0; running; i++) {
      const r = await fetchText(`${url}/c${id}/${i}`);
      results.push({ status: r.status, origin: String(r.headers['x-origin']) });
    }
  };
  const clients = [0, 1, 2, 3].map(client);
  try {
    await until(() => results.length >= 40, 10_000, 'traffic before the kill');
    await b.close();
    const killed = results.length;
    await until(() => results.length >= killed + 40, 10_000, 'traffic while b is dead');
    b = await startOrigin('b', undefined, { port: b.port });
    const restarted = results.length;
    await until(() => results.slice(restarted).filter((r) => r.origin === 'b').length >= 10, 10_000, 'traffic back on b');
    const failed = results.filter((r) => r.status !== 200);
    assert.deepEqual(failed, [], 'no client request failed');
    assert.ok(results.slice(0, killed).some((r) => r.origin === 'b'), 'b served before it was killed');
  } finally {
    running = false;
    await Promise.all(clients);
  }
  assert.deepEqual(results.filter((r) => r.status !== 200), [], 'no client request failed, to the end');
});
