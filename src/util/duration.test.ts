import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, parseDuration, parseSize, UnitParseError } from './duration.js';

test('parseDuration: single units', () => {
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('10s'), 10_000);
  assert.equal(parseDuration('2m'), 120_000);
  assert.equal(parseDuration('1h'), 3_600_000);
  assert.equal(parseDuration('1d'), 86_400_000);
  assert.equal(parseDuration('1.5s'), 1_500);
  assert.equal(parseDuration(' 30s '), 30_000);
});

test('parseDuration: compound and zero', () => {
  assert.equal(parseDuration('1m30s'), 90_000);
  assert.equal(parseDuration('1h2m3s4ms'), 3_723_004);
  assert.equal(parseDuration(0), 0);
  assert.equal(parseDuration('0'), 0);
  assert.equal(parseDuration('0s'), 0);
});

test('parseDuration: rejects bad input with a clear message', () => {
  for (const bad of ['', '10', '10 seconds', '-1s', 's', '1x', '30s1m', '1m1m', '1S', 'ms']) {
    assert.throws(() => parseDuration(bad), (e: unknown) => {
      assert.ok(e instanceof UnitParseError, `not a UnitParseError for ${bad}`);
      assert.match(e.message, /^expected a duration such as .*, found "/);
      return true;
    });
  }
  assert.throws(() => parseDuration(30), /found 30 \(a number needs a unit, e\.g\. "30s"\)/);
  assert.throws(() => parseDuration('30s1m'), /largest first/);
});

test('parseSize: units', () => {
  assert.equal(parseSize(0), 0);
  assert.equal(parseSize(1234), 1234);
  assert.equal(parseSize('1234'), 1234);
  assert.equal(parseSize('512B'), 512);
  assert.equal(parseSize('64KiB'), 65_536);
  assert.equal(parseSize('1MiB'), 1_048_576);
  assert.equal(parseSize('1GiB'), 1_073_741_824);
  assert.equal(parseSize('64k'), 65_536);
  assert.equal(parseSize('64K'), 65_536);
  assert.equal(parseSize('1m'), 1_048_576);
  assert.equal(parseSize('1g'), 1_073_741_824);
  assert.equal(parseSize('100KB'), 100_000);
  assert.equal(parseSize('1MB'), 1_000_000);
  assert.equal(parseSize('1.5MiB'), 1_572_864);
});

test('parseSize: rejects bad input', () => {
  for (const bad of ['', '-1', '1.5', 'ten', '10 parsecs', '1TB', 'KiB']) {
    assert.throws(() => parseSize(bad), /^UnitParseError: expected a size such as .*, found "/);
  }
  assert.throws(() => parseSize(-1), /found -1$/);
  assert.throws(() => parseSize(1.5), /found 1\.5$/);
  // A unit named like a property of Object.prototype is no unit (it read as "too large").
  assert.throws(() => parseSize('1constructor'), /found "1constructor"$/);
});

test('formatDuration round-trips', () => {
  for (const s of ['500ms', '10s', '1m30s', '1h', '1d2h']) assert.equal(formatDuration(parseDuration(s)), s);
  assert.equal(formatDuration(0), '0');
});
