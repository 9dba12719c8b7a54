import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogFile } from './log-file.js';

test('LogFile: makes the folder, appends to what is there, writes in order, counts every byte, closes on end', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hw-logfile-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'a', 'b', 'access.log');
  let counted = 0;
  const first = new LogFile(file, (n) => (counted += n));
  first.write(Buffer.from('one\n'));
  await first.end();
  assert.equal(counted, 4);
  const log = new LogFile(file, (n) => (counted += n));
  // Written while the file is still opening, and while earlier writes are in flight.
  let want = 'one\n';
  for (let i = 0; i < 2000; i++) {
    const line = `line ${i} ${'x'.repeat(i % 300)}\n`;
    want += line;
    log.write(Buffer.from(line));
    if (i % 100 === 0) await new Promise((r) => setImmediate(r));
  }
  await log.end();
  assert.equal(await readFile(file, 'utf8'), want);
  assert.equal(counted, Buffer.byteLength(want));
  // After the end, writes are let go (and counted), not written.
  log.write(Buffer.from('late\n'));
  assert.equal(counted, Buffer.byteLength(want) + 5);
  assert.equal(await readFile(file, 'utf8'), want);
});

test('LogFile: a file that cannot be opened drops its lines (counted) and still ends', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hw-logfile-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  // A regular file where the log's folder should be: the open fails (ENOTDIR).
  await writeFile(join(dir, 'plain'), 'x');
  let counted = 0;
  const log = new LogFile(join(dir, 'plain', 'access.log'), (n) => (counted += n));
  log.write(Buffer.from('lost\n'));
  await log.end();
  assert.equal(counted, 5);
  log.write(Buffer.from('also lost\n'));
  assert.equal(counted, 15);
});
