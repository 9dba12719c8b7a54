// Pooling of several bench runs (bench/pool.mjs): per cell, every run of a target paired with
// NGINX's run of the same round, across JSON files.
import { median, STEAL_WARN } from './report.mjs';

/** Student's t, two-sided 95%, for 1-30 degrees of freedom; past 30 the normal 1.96 is close enough for this. */
const T95 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131,
  2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];

/**
 * The geometric mean of ratios with a 95% interval: Student's t on the logarithms (a ratio of
 * speeds is symmetric in log space: 0.5x is as far from 1x as 2x). One ratio gives no interval.
 */
export function geoMeanCi(ratios) {
  const logs = ratios.map(Math.log);
  const n = logs.length;
  const mean = logs.reduce((s, x) => s + x, 0) / n;
  if (n < 2) return { geo: Math.exp(mean), low: null, high: null };
  const sd = Math.sqrt(logs.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1));
  const half = (T95[n - 2] ?? 1.96) * sd / Math.sqrt(n);
  return { geo: Math.exp(mean), low: Math.exp(mean - half), high: Math.exp(mean + half) };
}

/**
 * Pool bench results (the parsed JSON files): for each protocol, size, conns and target other
 * than nginx, the runs paired with NGINX's runs of the same round (a failed run on either side
 * drops the pair, and so does one with more than STEAL_WARN % steal, counted in `stolen`), the ratio of the pooled medians, the median and geometric mean of the paired
 * ratios (with its interval), the p99 ratio of pooled medians and the largest RSS.
 */
export function pool(results) {
  const cells = new Map();
  for (const file of results) {
    for (const r of file.results ?? []) {
      const key = `${r.protocol ?? 'h1'} ${r.size} ${r.conns}`;
      if (!cells.has(key)) cells.set(key, { protocol: r.protocol ?? 'h1', size: r.size, conns: r.conns, files: [] });
      const cell = cells.get(key);
      let entry = cell.files.find((f) => f.file === file);
      if (!entry) cell.files.push((entry = { file, targets: {} }));
      entry.targets[r.target] = r.runs ?? [];
    }
  }
  const rows = [];
  for (const cell of cells.values()) {
    const targets = new Set(cell.files.flatMap((f) => Object.keys(f.targets)));
    for (const target of targets) {
      if (target === 'nginx') continue;
      const pairs = [];
      let stolen = 0;
      for (const f of cell.files) {
        const mine = f.targets[target] ?? [];
        const theirs = f.targets.nginx ?? [];
        for (let i = 0; i < Math.min(mine.length, theirs.length); i++) {
          const a = mine[i];
          const b = theirs[i];
          if (a.error || b.error || !(a.rps > 0 && b.rps > 0)) continue;
          if ((a.stealPct ?? 0) > STEAL_WARN || (b.stealPct ?? 0) > STEAL_WARN) stolen++;
          else pairs.push([a, b]);
        }
      }
      if (!pairs.length) continue;
      const ratios = pairs.map(([a, b]) => a.rps / b.rps);
      const rss = pairs.map(([a]) => a.maxRssKiB).filter((x) => x != null);
      rows.push({
        protocol: cell.protocol, size: cell.size, conns: cell.conns, target, pairs: pairs.length, stolen,
        files: cell.files.filter((f) => f.targets[target] && f.targets.nginx).length,
        ratioOfMedians: median(pairs.map(([a]) => a.rps)) / median(pairs.map(([, b]) => b.rps)),
        pairedMedian: median(ratios),
        ...geoMeanCi(ratios),
        p99Ratio: median(pairs.map(([a]) => a.p99)) / median(pairs.map(([, b]) => b.p99)),
        maxRssKiB: rss.length ? Math.max(...rss) : null,
      });
    }
  }
  return rows;
}
