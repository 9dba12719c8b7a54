import assert from 'node:assert/strict';
import { test } from 'node:test';
import { F_CONNECTION, F_CONTENT_LENGTH, F_OTHER, F_X_FORWARDED_PROTO, fieldKind, lowerMatcher } from './fields.js';

test('lowerMatcher: the token in any ASCII case, at an offset; anything else is no match', () => {
  const keepAlive = lowerMatcher('keep-alive');
  const buf = Buffer.from('xxKeep-Alive KEEP-ALIVE keep_alive keep-alivf', 'latin1');
  assert.equal(keepAlive(buf, 2), true);
  assert.equal(keepAlive(buf, 13), true);
  assert.equal(keepAlive(buf, 24), false, "'_' is not '-'");
  assert.equal(keepAlive(buf, 35), false, 'last byte differs');
  assert.equal(keepAlive(buf, 40), false, 'past the end of the buffer');
  // Scanned names and values hold no CTL but HTAB, and '|0x20' folds none of their other bytes onto a token's.
  for (const c of ['\t', ' ', '@', '[', '_', '.', '\xad', '\xcb']) assert.equal(keepAlive(Buffer.from(`keep${c}alive`, 'latin1'), 0), false, JSON.stringify(c));
  assert.throws(() => lowerMatcher('Host'), /not a lower-case token/);
  assert.throws(() => lowerMatcher('a b'), /not a lower-case token/);
});

test('fieldKind: known names in any case, look-alikes of the same length are other fields', () => {
  const kind = (name: string) => fieldKind(Buffer.from(name, 'latin1'), 0, name.length);
  assert.equal(kind('Content-Length'), F_CONTENT_LENGTH);
  assert.equal(kind('CONNECTION'), F_CONNECTION);
  assert.equal(kind('x-forwarded-proto'), F_X_FORWARDED_PROTO);
  assert.equal(kind('Content-Lengtx'), F_OTHER);
  assert.equal(kind('Connectiom'), F_OTHER);
  assert.equal(kind('Content-Type'), F_OTHER);
});
