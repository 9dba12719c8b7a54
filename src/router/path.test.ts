import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseTarget, resolveDotSegments } from './path.js';

/** The target split by searches (what parseTarget did before its one-pass scan of short targets). */
function reference(url: string): { path: string; query: string } | undefined {
  if (url.length === 0) return undefined;
  const q = url.indexOf('?');
  let path = q === -1 ? url : url.slice(0, q);
  const query = q === -1 ? '' : url.slice(q);
  if (path.includes('#')) return undefined;
  if (/(^|\/)(\.|%2e){1,2}(\/|$)/i.test(path)) {
    const resolved = resolveDotSegments(path);
    if (resolved === undefined) return undefined;
    path = resolved;
  }
  return { path, query };
}

test('origin-form targets: query split, dot segments resolved, a fragment refused', () => {
  assert.deepEqual(parseTarget('/'), { path: '/', query: '' });
  assert.deepEqual(parseTarget('/a/b?x=1#y'), { path: '/a/b', query: '?x=1#y' });
  assert.deepEqual(parseTarget('/api/../admin'), { path: '/admin', query: '' });
  assert.deepEqual(parseTarget('/api/%2E%2e/admin?q'), { path: '/admin', query: '?q' });
  assert.equal(parseTarget('/a#b'), undefined);
  assert.equal(parseTarget('/../x'), undefined);
  assert.equal(parseTarget(''), undefined);
  assert.deepEqual(parseTarget('http://example.com:8080/a/./b?z'), { path: '/a/b', query: '?z', authority: 'example.com:8080' });
});

test('short and long targets (scanned, or searched) split as the searches do', () => {
  const piece = fc.constantFrom('/', '.', '..', '%2e', '%2E', '?', '#', 'a', 'b=1', '%', 'x'.repeat(40));
  const target = fc.array(piece, { maxLength: 12 }).map((ps) => '/' + ps.join(''));
  fc.assert(fc.property(target, (url) => {
    assert.deepEqual(parseTarget(url), reference(url), url);
  }), { numRuns: 2000 });
});
