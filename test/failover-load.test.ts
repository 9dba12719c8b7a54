import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startOrigin, type Origin } from './helpers/origin.js';
import { gatewayFor, simpleConfig, fetchText } from './helpers/gateway.js';
import { sleep } from './helpers/behaviour.js';

test('failover under load: a server killed and restarted costs no client request, and gets traffic back', async (t) => {
  const origins: Origin[] = [];
  for (const n of ['a', 'b', 'c']) origins.push(await startOrigin(n));
  let b = origins[1]!;
  t.after(async () => {
    for (const o of [...origins, b]) await o.close();
  });
  const hc = { path: '/', interval: '50ms', unhealthy_interval: '50ms', timeout: '200ms', rise: 1, fall: 1 };
  const url = await gatewayFor(t, simpleConfig(origins.map((o) => ({ address: o.address, max_fails: 1, fail_timeout: '300ms' })), { health_check: hc }));

  const results: Array<{ at: number; status: number; origin: string }> = [];
  const start = Date.now();
  let running = true;
  const client = async (id: number) => {
    for (let i = 0; running; i++) {
      const r = await fetchText(`${url}/c${id}/${i}`);
      results.push({ at: Date.now() - start, status: r.status, origin: String(r.headers['x-origin']) });
    }
  };
  const clients = [0, 1, 2, 3].map(client);
  await sleep(400);
  await b.close();
  const killedAt = Date.now() - start;
  await sleep(400);
  b = await startOrigin('b', undefined, { port: b.port });
  const restartedAt = Date.now() - start;
  await sleep(700);
  running = false;
  await Promise.all(clients);

  const failed = results.filter((r) => r.status !== 200);
  assert.deepEqual(failed, [], 'no client request failed');
  const during = results.filter((r) => r.at > killedAt && r.at < restartedAt).length;
  assert.ok(during >= 5, `traffic went on while b was dead: ${during} requests`);
  const before = results.filter((r) => r.at < killedAt && r.origin === 'b').length;
  const after = results.filter((r) => r.at > restartedAt + 200 && r.origin === 'b').length;
  const late = results.filter((r) => r.at > restartedAt + 200).length;
  assert.ok(before > 0, 'b served before it was killed');
  assert.ok(after > late / 6, `traffic returned to b after it recovered: ${after} of ${late}`);
});
