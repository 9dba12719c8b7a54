import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { tuneGc } from './gc-tuning.js';

test('pretenuring is always off; parallel scavenge only when a single core is available', () => {
  const set: string[] = [];
  assert.deepEqual(tuneGc(1, (f) => set.push(f)), ['--no-allocation-site-pretenuring', '--no-parallel-scavenge']);
  assert.deepEqual(set, ['--no-allocation-site-pretenuring', '--no-parallel-scavenge']);
  set.length = 0;
  assert.deepEqual(tuneGc(2, (f) => set.push(f)), ['--no-allocation-site-pretenuring']);
  assert.deepEqual(tuneGc(64, (f) => set.push(f)), ['--no-allocation-site-pretenuring']);
  assert.deepEqual(set, ['--no-allocation-site-pretenuring', '--no-allocation-site-pretenuring']);
});

test('the flags are ones this V8 knows (an unknown one would be ignored with a warning)', () => {
  const known = execFileSync(process.execPath, ['--v8-options'], { encoding: 'utf8' });
  for (const f of tuneGc(1, () => {})) assert.ok(known.includes(`--${f.replace(/^--no-/, '')} `) || known.includes(`--${f.replace(/^--no-/, '')}\n`), f);
});
