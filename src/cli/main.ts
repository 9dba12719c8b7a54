#!/usr/bin/env node
// The CLI's entry. It holds V8's young generation at its starting size before the rest of the CLI
// loads: parsing and linking the module graph alone doubled it twice (see holdNewSpace).
import { holdNewSpace } from './gc-tuning.js';

holdNewSpace();
await import('./program.js');
