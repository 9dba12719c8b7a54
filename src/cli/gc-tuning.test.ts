import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { capNewSpace, HEAP_GROWING_PERCENT, NEW_SPACE_CAP, tuneGc } from './gc-tuning.js';

test('pretenuring is always off; parallel scavenge only when a single core is available', () => {
  const set: string[] = [];
  const hgp = `--heap-growing-percent=${HEAP_GROWING_PERCENT}`;
  assert.deepEqual(tuneGc(1, (f) => set.push(f), []), ['--no-allocation-site-pretenuring', '--no-parallel-scavenge', hgp]);
  assert.deepEqual(set, ['--no-allocation-site-pretenuring', '--no-parallel-scavenge', hgp]);
  set.length = 0;
  assert.deepEqual(tuneGc(2, (f) => set.push(f), []), ['--no-allocation-site-pretenuring', hgp]);
  assert.deepEqual(tuneGc(64, (f) => set.push(f), []), ['--no-allocation-site-pretenuring', hgp]);
  assert.deepEqual(set, ['--no-allocation-site-pretenuring', hgp, '--no-allocation-site-pretenuring', hgp]);
  // The user's own growing factor, given at startup, is kept.
  assert.deepEqual(tuneGc(2, () => {}, ['--heap-growing-percent=50']), ['--no-allocation-site-pretenuring']);
  assert.deepEqual(tuneGc(2, () => {}, ['--heap_growing_percent=50']), ['--no-allocation-site-pretenuring']);
});

test('the flags are ones this V8 knows (an unknown one would be ignored with a warning)', () => {
  const known = execFileSync(process.execPath, ['--v8-options'], { encoding: 'utf8' });
  for (const f of tuneGc(1, () => {}, [])) {
    const name = f.replace(/^--no-/, '--').replace(/=.*$/, '');
    assert.ok(known.includes(`${name} `) || known.includes(`${name}\n`), f);
  }
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

test('with the growth of the old generation capped, promoted garbage is collected sooner (a real V8)', () => {
  // Objects that live through two scavenges (promoted to the old space), then die: ~1 KiB each,
  // 40,000 alive at a time, 400,000 in all. A full GC first, as Headwater's startup has had one.
  const script = `import v8 from 'node:v8';
    import { PerformanceObserver, constants } from 'node:perf_hooks';
    if (process.argv[1]) v8.setFlagsFromString(process.argv[1]);
    globalThis.gc();
    let majors = 0;
    new PerformanceObserver((l) => { for (const e of l.getEntries()) if (e.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majors++; }).observe({ entryTypes: ['gc'] });
    const ring = new Array(40000).fill(null);
    for (let i = 0; i < 400000; i++) ring[i % 40000] = { a: new Array(100).fill(i), i };
    setTimeout(() => process.stdout.write(String(majors)), 50);`;
  const run = (flag: string): number => Number(execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script, flag], { encoding: 'utf8' }));
  // Measured: 3 full GCs by default, 11-14 capped (the heap size at the end depends on when the last one ran).
  const defaultMajors = run('');
  const cappedMajors = run(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  assert.ok(cappedMajors >= 2 * defaultMajors && cappedMajors > defaultMajors, `full GCs: ${cappedMajors} capped, ${defaultMajors} by default`);
});
