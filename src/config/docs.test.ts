import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_EXAMPLE, renderConfigDocs } from './docs.js';
import { parseConfig } from './load.js';

test('docs/config-reference.md is up to date with the schema', () => {
  const file = join(process.cwd(), 'docs', 'config-reference.md');
  let committed = '';
  try {
    committed = readFileSync(file, 'utf8');
  } catch {
    assert.fail(`${file} is missing: run \`npm run docs\` to generate it`);
  }
  assert.ok(
    committed === renderConfigDocs(),
    'docs/config-reference.md is out of date with src/config/schema*.ts: run `npm run docs` and commit the result',
  );
});

test('the reference documents every key with its type and default', () => {
  const md = renderConfigDocs();
  for (const path of [
    'listeners[].address',
    'routes[].match.headers',
    'routes[].client_max_body_size',
    'upstreams.<name>.hash.key',
    'upstreams.<name>.retry.on',
    'upstreams.<name>.servers[].max_fails',
    'access_log.path',
    'access_log.format',
  ]) {
    assert.ok(md.includes(`### \`${path}\``), `no section for ${path}`);
  }
  assert.match(md, /### `upstreams.<name>.servers\[\].fail_timeout`\n\n- Type: duration\n- Default: `10s`\n/);
  assert.match(md, /- Allowed values: `round_robin`, `least_conn`, `ip_hash`, `hash`, `random_two`, `least_time`/);
});

test('the example at the top of the reference is a valid config', () => {
  const r = parseConfig(CONFIG_EXAMPLE, 'example.yaml');
  assert.ok(r.ok, r.ok ? '' : JSON.stringify(r.issues));
});
