import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accessLine, isoAt, isoNow } from './access-line.js';
import type { AccessRecord } from './events.js';

const base: AccessRecord = {
  time: '2026-11-21T10:00:00.000Z', client: '127.0.0.1', method: 'GET', path: '/x?a=1', host: 'h:80', status: 200, bytes: 5,
  duration_ms: 1.25, route: 'r', upstream: 'u',
  tries: [{ server: '127.0.0.1:1', outcome: 'error', ms: 0.5 }, { server: '127.0.0.1:2', outcome: 'ok', status: 200, header_ms: 0.7, ms: 0.9 }],
};

test('an access line is the JSON of the record with pino level 30', () => {
  const line = accessLine({ ...base, code: 'HW_ERR_UPSTREAM_CONNECT' });
  assert.ok(line.endsWith('}\n'));
  assert.deepEqual(JSON.parse(line), { level: 30, ...base, code: 'HW_ERR_UPSTREAM_CONNECT' });
});

test('strings that need escaping are escaped; absent fields are left out', () => {
  const nasty = { ...base, path: '/"quoted"\\back\nline\u0001\ud800', host: undefined, route: undefined, upstream: undefined, tries: [] };
  const parsed = JSON.parse(accessLine(nasty));
  assert.equal(parsed.path, nasty.path);
  assert.equal('host' in parsed, false);
  assert.equal('route' in parsed, false);
  assert.deepEqual(parsed.tries, []);
});

test('isoNow is a valid ISO time', () => {
  assert.ok(Math.abs(Date.parse(isoNow()) - Date.now()) < 1000);
});

test('durations keep three decimals and parse back to the same numbers', () => {
  for (const v of [0, 0.001, 0.01, 0.5, 1.25, 12.345, 999.999, 1234567.891]) {
    const parsed = JSON.parse(accessLine({ ...base, duration_ms: v }));
    assert.equal(parsed.duration_ms, v);
  }
});

test('a tunnel line carries bytes_in and the outcome', () => {
  const rec = { ...base, status: 101, bytes_in: 42, outcome: 'idle_timeout' };
  assert.deepEqual(JSON.parse(accessLine(rec)), { level: 30, ...rec });
});

test('isoAt matches Date#toISOString across seconds, days, years and back in time', () => {
  const starts = [0, 999, 1000, 1_763_700_000_000, 1_763_700_000_999, 1_767_225_599_998, 253_402_300_799_000, -1, -62_198_755_200_000];
  for (const s of starts) {
    for (const d of [0, 1, 2, 9, 10, 99, 100, 998, 999, 1000, 1001, 61_000, -1, -1000, -1001]) {
      const ms = s + d;
      assert.equal(isoAt(ms), new Date(ms).toISOString(), `at ${ms}`);
    }
  }
});
