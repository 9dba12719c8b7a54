import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGateway } from '../src/gateway.js';
import { eventually } from './helpers/raw.js';
import { channels } from '../src/observability/events.js';
import { startTcpOrigin, talk } from './helpers/tcp.js';

test('access log file: one stream line per TCP connection, with byte counts', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hw-stream-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'access.log');
  const o = await startTcpOrigin('o');
  t.after(() => o.close());
  const gw = await createGateway({
    listeners: [{ name: 'db', address: '127.0.0.1:0', protocol: 'tcp', upstream: 'pg' }],
    upstreams: { pg: { servers: [{ address: o.address }] } },
    access_log: { path },
  });
  let published = 0;
  const count = () => published++;
  channels.stream.subscribe(count);
  t.after(() => channels.stream.unsubscribe(count));
  assert.equal(await talk(gw.addresses()[0]!.port, 'abc', { end: true }), 'o:abco:bye');
  const lines = () => {
    try {
      return readFileSync(path, 'utf8').split('\n').filter((l) => l.includes('"event":"stream"'));
    } catch {
      return [];
    }
  };
  // The record is published when both sockets have closed; then close the gateway (flushes the log).
  assert.ok(await eventually(() => published > 0));
  await gw.close(0);
  assert.ok(await eventually(() => lines().length === 1));
  const rec = JSON.parse(lines()[0]!);
  assert.equal(rec.level, 30);
  assert.equal(rec.listener, 'db');
  assert.equal(rec.server, o.address);
  assert.equal(rec.bytes_in, 3);
  assert.equal(rec.bytes_out, 10);
  assert.equal(rec.outcome, 'closed');
});
