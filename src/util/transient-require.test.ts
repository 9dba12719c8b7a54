import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { TransientPackage } from './transient-require.js';

const req = createRequire(import.meta.url);
const cached = (name: string): string[] => Object.keys(req.cache).filter((k) => k.includes(`/node_modules/${name}/`));

test('get() loads once; release() takes the package out of require\'s cache, and the next get() loads it anew', () => {
  const yaml = new TransientPackage<typeof import('yaml')>('yaml');
  const a = yaml.get();
  assert.equal(yaml.get(), a);
  assert.equal(typeof a.parseDocument, 'function');
  assert.ok(cached('yaml').length > 10, 'its modules are in require\'s cache while in use');
  yaml.release();
  assert.deepEqual(cached('yaml'), []);
  const b = yaml.get();
  assert.notEqual(b, a, 'loaded anew');
  assert.equal(b.parse('a: 1').a, 1);
  yaml.release();
  yaml.release(); // twice: nothing to do
});

test('a released package is garbage once its users let go of it', async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const commander = new TransientPackage<typeof import('commander')>('commander');
  let cmd: import('commander').Command | undefined = new (commander.get().Command)('x');
  const lib = new WeakRef(commander.get());
  const proto = new WeakRef(Object.getPrototypeOf(cmd) as object);
  cmd = undefined;
  // Control: still in require's cache, so still alive after a full GC.
  await new Promise((r) => setImmediate(r));
  gc();
  assert.notEqual(lib.deref(), undefined);
  commander.release();
  await new Promise((r) => setImmediate(r));
  gc();
  assert.equal(lib.deref(), undefined, 'the package\'s exports are collected');
  assert.equal(proto.deref(), undefined, 'and its classes');
});
