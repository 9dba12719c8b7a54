import { test } from 'node:test';
import assert from 'node:assert/strict';
import { own } from './own.js';
import { requestLogFields } from '../proxy/log-fields.js';
import { logFields } from '../observability/events.js';
import type { ProxyRequest } from '../proxy/exchange.js';

test("own: a plain object's own keys only, never Object.prototype's members", () => {
  const headers: Record<string, string> = { host: 'a', constructor: 'sent' };
  assert.equal(own(headers, 'host'), 'a');
  assert.equal(own(headers, 'constructor'), 'sent');
  assert.equal(own({}, 'constructor'), undefined);
  assert.equal(own({}, 'toString'), undefined);
  assert.equal(own({}, '__proto__'), undefined);
});

test('log fields read from node-style headers: a field named like an Object.prototype member is absent, not a function', () => {
  const saved = logFields.names;
  logFields.names = ['constructor', 'user-agent'];
  try {
    const req = { headers: { 'user-agent': 'ua/1' } } as unknown as ProxyRequest;
    assert.deepEqual(requestLogFields(req), [undefined, 'ua/1']);
  } finally {
    logFields.names = saved;
  }
});
