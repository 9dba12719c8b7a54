/**
 * Writes docs/config-reference.md from the configuration schema (src/config/schema.ts).
 * Run with `npm run docs`; src/config/docs.test.ts fails when the file is out of date.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname } from 'node:path';
import { renderConfigDocs } from '../src/config/docs.js';

// Compiled to dist/scripts/, so the repository root is two levels up.
const target = fileURLToPath(new URL('../../docs/config-reference.md', import.meta.url));
mkdirSync(dirname(target), { recursive: true });
writeFileSync(target, renderConfigDocs());
console.log(`wrote ${target}`);
