// Pooling of several bench runs (bench/pool.mjs): per cell, every run of a target paired with
// NGINX's run of the same round, across JSON files.
import { median, STEAL_WARN } from './report.mjs';

/** A small seeded generator (mulberry32), so that a pooled report is the same every time. */
export function seededRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The geometric mean of ratios with a 95% percentile-bootstrap interval: resample the ratios
 * with replacement `rounds` times and take the 2.5th and 97.5th percentiles of the means.
 */
export function geoMeanCi(ratios, { rounds = 4000, random = seededRandom(1) } = {}) {
  const logs = ratios.map(Math.log);
  const mean = (xs) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const means = [];
  for (let i = 0; i < rounds; i++) {
    let s = 0;
    for (let j = 0; j < logs.length; j++) s += logs[Math.floor(random() * logs.length)];
    means.push(s / logs.length);
  }
  means.sort((a, b) => a - b);
  const at = (q) => Math.exp(means[Math.min(means.length - 1, Math.floor(q * means.length))]);
  return { geo: Math.exp(mean(logs)), low: at(0.025), high: at(0.975) };
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
