import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { capNewSpace, NEW_SPACE_CAP, tuneGc } from './gc-tuning.js';

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

test('capNewSpace lets the young generation grow while under the cap and stops it there', () => {
  let size = 2;
  const calls: boolean[] = [];
  let afterGc: (() => void) | undefined;
  let stopped = false;
  const ctl = { size: () => size, grow: (g: boolean) => calls.push(g), afterGc: (fn: () => void) => ((afterGc = fn), () => void (stopped = true)) };
  const stop = capNewSpace(8, ctl, []);
  assert.deepEqual(calls, [true]);
  for (const s of [2, 4, 4, 8, 8, 8]) {
    size = s;
    afterGc!();
  }
  assert.deepEqual(calls, [true, false]);
  size = 2; // V8 shrank it (an idle period): growth is allowed again
  afterGc!();
  assert.deepEqual(calls, [true, false, true]);
  stop!();
  assert.equal(stopped, true);
});

test('capNewSpace leaves a --max-semi-space-size given at startup alone', () => {
  const ctl = { size: () => 0, grow: () => assert.fail('changed a startup choice'), afterGc: () => () => {} };
  assert.equal(capNewSpace(8, ctl, ['--max-semi-space-size=16']), undefined);
  assert.equal(capNewSpace(8, ctl, ['--inspect', '--max_semi_space_size=2']), undefined);
});

/** The young generation's largest size in a child allocating 300 MB with a live window of ~256 KB. */
function peakNewSpace(cap: boolean): number {
  const mod = new URL('./gc-tuning.js', import.meta.url).href;
  const script = `
    import v8 from 'node:v8';
    import { capNewSpace } from ${JSON.stringify(mod)};
    ${cap ? 'capNewSpace();' : ''}
    const ring = new Array(4096);
    let peak = 0;
    for (let round = 0; round < 300; round++) {
      for (let i = 0; i < 16384; i++) ring[(round * 16384 + i) % 4096] = { a: i, b: [i, i + 1], s: 'x' + i };
      peak = Math.max(peak, v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size);
      await new Promise((r) => setImmediate(r));
    }
    console.log(peak);`;
  return Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }).trim());
}

test('with capNewSpace a busy process keeps an 8 MiB young generation; without, V8 grows it past that', () => {
  const MiB = 1024 * 1024;
  assert.ok(peakNewSpace(false) > NEW_SPACE_CAP, 'V8 did not grow the young generation: the test proves nothing');
  const capped = peakNewSpace(true);
  assert.ok(capped <= NEW_SPACE_CAP, `young generation reached ${capped / MiB} MiB`);
});
