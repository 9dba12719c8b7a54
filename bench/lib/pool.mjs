// Pooling of several bench runs (bench/pool.mjs): per cell, every run of a target paired with
// NGINX's run of the same round, across JSON files.
import { median, pairRuns } from './report.mjs';

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
 * than nginx, its runs paired with NGINX's (report.mjs pairRuns) across the files. Stolen pairs
 * are left out (counted in `stolen`) unless no pair is quiet, as in the bench's own tables. Each
 * row has the ratio of the pooled medians, the median and geometric mean of the paired ratios
 * (with its interval), the p99 ratio of pooled medians and the largest RSS.
 */
export function pool(results) {
  const cells = new Map();
  for (const file of results) {
    const byCell = new Map();
    for (const r of file.results ?? []) {
      const key = `${r.protocol ?? 'h1'} ${r.size} ${r.conns}`;
      if (!byCell.has(key)) byCell.set(key, { protocol: r.protocol ?? 'h1', size: r.size, conns: r.conns, runs: {} });
      byCell.get(key).runs[r.target] = r.runs ?? [];
    }
    for (const [key, c] of byCell) {
      if (!c.runs.nginx) continue;
      for (const [target, runs] of Object.entries(c.runs)) {
        if (target === 'nginx') continue;
        const { quiet, stolen } = pairRuns(runs, c.runs.nginx);
        const id = `${key} ${target}`;
        if (!cells.has(id)) cells.set(id, { protocol: c.protocol, size: c.size, conns: c.conns, target, files: 0, quiet: [], stolen: [] });
        const cell = cells.get(id);
        cell.files++;
        cell.quiet.push(...quiet);
        cell.stolen.push(...stolen);
      }
    }
  }
  const rows = [];
  for (const { quiet, stolen, ...cell } of cells.values()) {
    const pairs = quiet.length ? quiet : stolen;
    if (!pairs.length) continue;
    const ratios = pairs.map(([a, b]) => a.rps / b.rps);
    const rss = pairs.map(([a]) => a.maxRssKiB).filter((x) => x != null);
    rows.push({
      ...cell, pairs: pairs.length, stolen: quiet.length ? stolen.length : 0,
      ratioOfMedians: median(pairs.map(([a]) => a.rps)) / median(pairs.map(([, b]) => b.rps)),
      pairedMedian: median(ratios),
      ...geoMeanCi(ratios),
      p99Ratio: median(pairs.map(([a]) => a.p99)) / median(pairs.map(([, b]) => b.p99)),
      maxRssKiB: rss.length ? Math.max(...rss) : null,
    });
  }
  return rows;
}
