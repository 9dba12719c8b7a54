#!/usr/bin/env node
// Runs every compiled *.test.js under dist/ with node:test: the integration tests once per engine. Node 20's runner takes no globs,
// and a bare directory would also run helper files under test/, so we list the files ourselves.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}
const filter = process.argv.slice(2);
const pick = (files) => (filter.length ? files.filter((f) => filter.some((x) => f.includes(x))) : files);
const unit = pick(walk('dist/src', []).sort());
const integration = pick(walk('dist/test', []).sort());
const args = ['--test', '--test-concurrency=2', '--test-timeout=60000'];
if (process.env.CI) args.push('--test-reporter=spec');

// The integration tests run once per HTTP/1.1 engine (test/helpers/gateway.ts reads HEADWATER_ENGINE);
// unit tests under src/ once.
const runs = [
  { label: 'lean engine (the default): unit + integration', files: [...unit, ...integration], engine: 'lean' },
  { label: 'node engine: integration', files: integration, engine: 'node' },
];
let status = 0;
for (const run of runs) {
  if (run.files.length === 0) continue;
  const env = { ...process.env };
  delete env.HEADWATER_ENGINE;
  if (run.engine) env.HEADWATER_ENGINE = run.engine;
  console.log(`# ${run.label}`);
  const r = spawnSync(process.execPath, [...args, ...run.files], { stdio: 'inherit', env });
  if ((r.status ?? 1) !== 0) status = r.status ?? 1;
}
process.exit(status);
