// Aggregation (median of runs) and presentation (text table, JSON file).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export function median(xs) {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return null;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

export function sizeLabel(bytes) {
  if (bytes >= 1048576 && bytes % 1048576 === 0) return `${bytes / 1048576} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} B`;
}

/**
 * Collapse the runs of one (size, conns, target) cell into medians. The speed and latency medians
 * come from the runs at or below STEAL_WARN steal when there are any (a run during which the
 * hypervisor took the CPU measures the host's load, whichever proxy ran); `stolenRuns` counts the
 * runs left out (when every run was stolen, all are used, and `stealPct` is above STEAL_WARN). The
 * RSS maxima and the error count take every run.
 */
export function summarize(runs) {
  const ok = runs.filter((r) => !r.error);
  if (!ok.length) return null;
  const quiet = ok.filter((r) => r.stealPct == null || r.stealPct <= STEAL_WARN);
  const used = quiet.length > 0 ? quiet : ok;
  const rpsList = used.map((r) => r.rps);
  const med = median(rpsList);
  const max = (k) => (ok.some((r) => r[k] != null) ? Math.max(...ok.map((r) => r[k] ?? 0)) : null);
  return {
    runs: used.length,
    failedRuns: runs.length - ok.length,
    stolenRuns: ok.length - used.length,
    rps: med,
    p50: median(used.map((r) => r.p50)),
    p99: median(used.map((r) => r.p99)),
    spreadPct: med ? ((Math.max(...rpsList) - Math.min(...rpsList)) / med) * 100 : 0,
    cpuPct: median(used.map((r) => r.cpuPct)),
    loadCpuPct: median(used.map((r) => r.loadCpuPct)),
    loadUsPerReq: median(used.map((r) => r.loadUsPerReq)),
    stealPct: used.some((r) => r.stealPct != null) ? median(used.map((r) => r.stealPct ?? 0)) : null,
    maxRssKiB: max('maxRssKiB'),
    maxAnonKiB: max('maxAnonKiB'),
    errors: ok.reduce((a, r) => a + (r.errors || 0), 0),
  };
}

/**
 * A target's runs paired with NGINX's runs of the same round (runs interleave the targets, so each
 * pair ran within seconds of each other). Pairs where either run failed are left out; `stolen`
 * holds those with a run over STEAL_WARN steal, `quiet` the others.
 */
export function pairRuns(runs, nginxRuns) {
  const quiet = [];
  const stolen = [];
  for (let i = 0; i < Math.min(runs.length, nginxRuns.length); i++) {
    const a = runs[i], b = nginxRuns[i];
    if (a.error || b.error || !(a.rps > 0 && b.rps > 0)) continue;
    ((a.stealPct ?? 0) <= STEAL_WARN && (b.stealPct ?? 0) <= STEAL_WARN ? quiet : stolen).push([a, b]);
  }
  return { quiet, stolen };
}

/**
 * The median over runs of this target's req/s over NGINX's in the same run: the VM's speed drifts
 * by ±10% over minutes, which a ratio of medians takes in and a median of paired ratios mostly
 * cancels. Stolen pairs count only when every pair is stolen (as in summarize).
 */
export function pairedRatio(runs, nginxRuns) {
  const { quiet, stolen } = pairRuns(runs, nginxRuns);
  return median((quiet.length ? quiet : stolen).map(([a, b]) => a.rps / b.rps));
}

/** Steal (% of all CPU time) above which a run is repeated (run.mjs) and a table says its figures are unreliable. */
export const STEAL_WARN = 5;

const fmtInt = (n) => Math.round(n).toLocaleString('en-US');
function fmtMs(ms) {
  if (ms == null) return '-';
  if (ms < 1) return ms.toFixed(3);
  if (ms < 100) return ms.toFixed(2);
  return ms.toFixed(1);
}
const fmtRatio = (r) => (r == null || !Number.isFinite(r) ? '-' : `${r.toFixed(2)}x`);
const fmtMiB = (kib) => (kib == null ? '-' : `${(kib / 1024).toFixed(1)} MiB`);

/**
 * One table for a (size, conns) block. `cells` is { target: { summary, skip } } in target order.
 * Ratios are against the NGINX proxy row (req/s: higher is better; p99: lower is better).
 */
export function formatTable({ protocol = 'h1', size, conns, duration, runs, cells }) {
  const ng = cells.nginx && cells.nginx.summary;
  const head = ['target', 'req/s', 'p50 ms', 'p99 ms', 'req/s vs nginx', 'paired', 'p99 vs nginx', 'spread', 'proxy CPU', 'load CPU', 'steal', 'max RSS', 'anon RSS', 'errors'];
  const rows = [];
  const notes = [];
  for (const [target, cell] of Object.entries(cells)) {
    const s = cell.summary;
    if (!s) {
      rows.push([target, 'skipped', '', '', '', '', '', '', '', '', '', '', '', '']);
      if (cell.skip) notes.push(`${target}: ${cell.skip.split('\n')[0]}`);
      continue;
    }
    const isProxy = target !== 'direct';
    rows.push([
      target,
      fmtInt(s.rps),
      fmtMs(s.p50),
      fmtMs(s.p99),
      fmtRatio(ng ? s.rps / ng.rps : null),
      fmtRatio(ng && cell.runs && cells.nginx.runs ? pairedRatio(cell.runs, cells.nginx.runs) : null),
      fmtRatio(ng && ng.p99 ? s.p99 / ng.p99 : null),
      s.runs > 1 ? `±${(s.spreadPct / 2).toFixed(1)}%` : '-',
      isProxy && s.cpuPct != null ? `${Math.round(s.cpuPct)}%` : '-',
      s.loadCpuPct != null ? `${Math.round(s.loadCpuPct)}%` : '-',
      s.stealPct != null ? `${Math.round(s.stealPct)}%` : '-',
      isProxy ? fmtMiB(s.maxRssKiB) : '-',
      isProxy ? fmtMiB(s.maxAnonKiB) : '-',
      String(s.errors) + (s.failedRuns ? ` (${s.failedRuns} run(s) failed)` : ''),
    ]);
    if (s.stolenRuns > 0) notes.push(`${target}: median of ${s.runs} run(s); ${s.stolenRuns} run(s) with over ${STEAL_WARN}% steal left out`);
  }
  const stolen = Math.max(...Object.values(cells).map((c) => c.summary?.stealPct ?? 0));
  if (stolen > STEAL_WARN) notes.push(`the hypervisor took ${Math.round(stolen)}% of the CPU time (steal): these figures measure the host's load too`);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cols) => cols.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  const proto = { h1: 'HTTP/1.1', tls: 'HTTP/1.1 over TLS', h2: 'HTTP/2 over TLS' }[protocol] ?? protocol;
  const title = `== ${proto}, ${sizeLabel(size)} body, ${conns} connections, ${duration} s x ${runs} run(s), median ==`;
  return [title, line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line), ...notes.map((n) => `   note: ${n}`)].join('\n');
}

/** Write the full result as JSON to `<dir>/<timestamp>.json`; returns the path. */
export function writeJson(dir, result) {
  mkdirSync(dir, { recursive: true });
  const stamp = new Date(result.startedAt).toISOString().replace(/[:]/g, '-').replace(/\.\d+Z$/, 'Z');
  const file = path.join(dir, `${stamp}.json`);
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  return file;
}
