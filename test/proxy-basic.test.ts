import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startOrigin, type Origin } from './helpers/origin.js';
import { startGateway, simpleConfig, fetchText } from './helpers/gateway.js';
import type { Gateway } from '../src/gateway.js';

const open: Array<Origin | Gateway> = [];
after(async () => {
  for (const x of open) await x.close();
});

test('forwards a GET and returns the upstream response', async () => {
  const o = await startOrigin('a');
  const { gw, url } = await startGateway(simpleConfig([o.address]));
  open.push(o, gw);
  const r = await fetchText(`${url}/hello?x=1`);
  assert.equal(r.status, 200);
  assert.equal(r.body, 'a');
  assert.equal(r.headers['x-origin'], 'a');
  assert.equal(o.seen[0]!.url, '/hello?x=1');
  assert.equal(o.seen[0]!.headers['x-forwarded-for'], '127.0.0.1');
  assert.equal(o.seen[0]!.headers['x-forwarded-proto'], 'http');
});
