// Pools several bench runs: node bench/pool.mjs bench/out/A.json bench/out/B.json ... (see bench/README.md).
import { readFileSync } from 'node:fs';
import { pool } from './lib/pool.mjs';
import { sizeLabel } from './lib/report.mjs';

const files = process.argv.slice(2);
if (!files.length || files.includes('-h') || files.includes('--help')) {
  console.log(`Usage: node bench/pool.mjs RESULT.json [RESULT.json ...]

Pools the runs of several bench results (bench/out/*.json) per protocol, size and connections:
each target's run against NGINX's run of the same round (pairs with over 5% steal are left
out when the cell has quieter ones). Prints the ratio of the pooled medians, the median of the
paired ratios, their geometric mean with a 95% interval (Student's t on the logarithms), the p99
ratio and the largest RSS.`);
  process.exit(files.length ? 0 : 2);
}
const parsed = [];
for (const f of files) {
  try {
    parsed.push(JSON.parse(readFileSync(f, 'utf8')));
  } catch (e) {
    console.error(`bench/pool: cannot read ${f}: ${e.message}`);
    process.exit(2);
  }
}
const rows = pool(parsed);
if (!rows.length) {
  console.error('bench/pool: no runs paired with nginx in these files (were they run with --targets including nginx?)');
  process.exit(1);
}
const opts = parsed.map((p) => p.options ?? {});
const flags = [...new Set(opts.map((o) => `${o.engine ?? 'lean'}, workers ${o.workers ?? 1}${o.busyPolling ? ', busy polling' : ''}`))];
console.log(`${files.length} result file(s); Headwater as run: ${flags.join(' / ')}`);
console.log('');
const head = ['proto', 'body', 'conns', 'target', 'pairs', 'ratio of medians', 'paired median', 'geo mean [95% CI]', 'p99 vs nginx', 'max RSS'];
const lines = rows.map((r) => [
  r.protocol, sizeLabel(r.size), `c${r.conns}`, r.target, `${r.pairs} (${r.files} file${r.files === 1 ? '' : 's'}${r.stolen ? `, ${r.stolen} stolen left out` : ''})`,
  `${r.ratioOfMedians.toFixed(3)}x`, `${r.pairedMedian.toFixed(3)}x`,
  `${r.geo.toFixed(3)}x ${r.low == null ? '' : `[${r.low.toFixed(3)}-${r.high.toFixed(3)}]`}`.trim(), `${r.p99Ratio.toFixed(2)}x`,
  r.maxRssKiB != null ? `${(r.maxRssKiB / 1024).toFixed(1)} MiB` : '-',
]);
const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
const fmt = (l) => l.map((c, i) => (i < 4 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
console.log(fmt(head));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const l of lines) console.log(fmt(l));
