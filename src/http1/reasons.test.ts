import { test } from 'node:test';
import assert from 'node:assert/strict';
import { STATUS_CODES } from 'node:http';
import { REASONS, closingResponse, statusLine } from './reasons.js';

test('the reason phrases are node:http\'s, so both engines write the same status lines', () => {
  assert.deepEqual({ ...REASONS }, { ...STATUS_CODES });
});

test('status lines carry the reason phrase, "unknown" for a code without one', () => {
  assert.equal(statusLine(200), 'HTTP/1.1 200 OK\r\n');
  assert.equal(statusLine(499), 'HTTP/1.1 499 unknown\r\n');
  assert.equal(statusLine(999), 'HTTP/1.1 999 unknown\r\n');
});

test('a closing response: status line, plain-text type, byte length of the body, connection: close', () => {
  assert.equal(
    closingResponse(502, 'bad gateway \u2014 x\n'),
    'HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: 18\r\nconnection: close\r\n\r\nbad gateway \u2014 x\n',
  );
});
