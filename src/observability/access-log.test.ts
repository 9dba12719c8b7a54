import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as tick, setTimeout as sleep } from 'node:timers/promises';
import { AccessLog } from './access-log.js';
import { channels, logFields, type AccessRecord } from './events.js';

const record = (i: number): AccessRecord => ({
  time: '2026-11-21T10:00:05.042Z', client: '10.0.0.7', method: 'GET', path: `/item/${i}?pad=${'x'.repeat(i % 97)}`, host: 'example.com',
  status: 200, bytes: i, duration_ms: 1.5, route: 'r', upstream: 'u', protocol: 'HTTP/1.1', tries: [],
});

for (const format of ['json', 'combined']) {
  test(`${format}: many batches, written while more lines come, arrive whole and in order (batch buffers are reused)`, async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'hw-access-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'access.log');
    const log = new AccessLog({ path: file, format });
    const total = 12_000; // ~2 MB of lines: about 30 batches of 64 KiB
    for (let i = 0; i < total; i++) {
      channels.request.publish(record(i));
      // Let the writer finish batches (and hand their buffers back) while lines keep coming.
      if (i % 400 === 0) await tick();
    }
    await log.close();
    let lines: string[] = [];
    for (let waited = 0; waited < 5000 && lines.length < total; waited += 20) {
      await sleep(20);
      lines = (await readFile(file, 'latin1')).split('\n').filter(Boolean);
    }
    assert.equal(lines.length, total);
    for (let i = 0; i < total; i++) {
      const want = `/item/${i}?pad=${'x'.repeat(i % 97)}`;
      if (!lines[i]!.includes(format === 'json' ? `"path":"${want}"` : `"GET ${want} HTTP/1.1" 200 ${i} `)) assert.fail(`line ${i}: ${lines[i]}`);
    }
  });
}

test('closing one of two access logs leaves the request fields the other prints', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hw-access-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const a = new AccessLog({ path: join(dir, 'a.log'), format: 'combined' });
  const b = new AccessLog({ path: join(dir, 'b.log'), format: '$http_x_id' });
  assert.deepEqual(logFields.names, ['x-id']);
  await a.close();
  assert.deepEqual(logFields.names, ['x-id']);
  await b.close();
  assert.deepEqual(logFields.names, []);
});

test('json: event lines keep their place among access lines made in batches', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hw-access-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'access.log');
  const log = new AccessLog({ path: file });
  for (let i = 0; i < 5; i++) channels.request.publish(record(i));
  channels.retry.publish({ upstream: 'u', from: '10.0.0.1:80', reason: 'connect_error', attempt: 1 });
  for (let i = 5; i < 45; i++) channels.request.publish(record(i));
  channels.reload.publish({ ok: true });
  await log.close();
  const lines = (await readFile(file, 'latin1')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as { event?: string; bytes?: number });
  assert.equal(lines.length, 47);
  assert.deepEqual(lines.map((l) => l.event ?? l.bytes), [0, 1, 2, 3, 4, 'retry', ...Array.from({ length: 40 }, (_, i) => i + 5), 'reload']);
});

test('combined: a few access lines are written within the batch timer, without close', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hw-access-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'access.log');
  const log = new AccessLog({ path: file, format: 'combined' });
  t.after(() => log.close());
  for (let i = 0; i < 3; i++) channels.request.publish(record(i));
  let lines: string[] = [];
  for (let waited = 0; waited < 3000 && lines.length < 3; waited += 50) {
    await sleep(50);
    lines = (await readFile(file, 'latin1').catch(() => '')).split('\n').filter(Boolean);
  }
  assert.equal(lines.length, 3);
  assert.match(lines[2]!, /^10\.0\.0\.7 - - \[21\/Nov\/2026:\d\d:\d\d:05 [+-]\d{4}\] "GET \/item\/2\?pad=xx HTTP\/1\.1" 200 2 "-" "-"$/);
});
