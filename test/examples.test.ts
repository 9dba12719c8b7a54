import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfigFile, formatIssue } from '../src/config/load.js';
import { Gateway } from '../src/gateway.js';

// Every config under examples/ must load, and build a runtime, so the examples never rot.
for (const name of readdirSync('examples')) {
  test(`examples/${name} is a valid config`, async () => {
    const r = await loadConfigFile(join('examples', name));
    assert.ok(r.ok, r.ok ? '' : r.issues.map(formatIssue).join('\n'));
    const gw = new Gateway(r.config, { accessLog: false });
    assert.ok(gw.config.listeners.length > 0);
    await gw.close(0);
  });
}
