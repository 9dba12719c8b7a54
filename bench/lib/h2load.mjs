// Run h2load (nghttp2-client; HTTP/2 over TLS with ALPN h2), pinned and bounded in time, and turn its
// per-request log into the same numbers wrk gives: req/s, p50, p99, errors.
import { readFileSync, rmSync } from 'node:fs';
import { capture } from './procs.mjs';
import { median } from './report.mjs';

function percentile(sorted, p) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/**
 * Parse h2load's summary and its --log-file (one line per finished request: start time, status,
 * duration in microseconds). Requests still in flight when -D ends are not counted either way.
 */
export function parseH2load(out, log, seconds) {
  const fin = /^finished in ([\d.]+)(m?s), ([\d.]+) req\/s/m.exec(out);
  if (!fin) throw new Error(`could not find "finished in" in h2load output:\n${out}`);
  const lines = log.split('\n').filter(Boolean).map((l) => l.split('\t'));
  const ok = [];
  let errors = 0;
  for (const [, status, us] of lines) {
    if (/^2\d\d$/.test(status)) ok.push(Number(us) / 1000);
    else errors++;
  }
  ok.sort((a, b) => a - b);
  return {
    rps: ok.length / seconds,
    p50: percentile(ok, 50),
    p99: percentile(ok, 99),
    avgMs: median(ok),
    maxMs: ok.length ? ok[ok.length - 1] : null,
    requests: ok.length + errors,
    errors,
  };
}

/**
 * `taskset -c <cpu> h2load -c<conns> -m<streams> -D<secs> --log-file=... <url>`, or with `requests`,
 * `-n<requests>` instead of `-D` (the warm-up: h2load's duration mode never ends when some of its
 * clients finish their TLS handshake late, as against a gateway that has not run yet).
 */
export async function runH2load({ h2loadBin, tasksetBin, cpu, url, conns, streams, seconds, logFile, requests }) {
  const amount = requests ? `-n${requests}` : `-D${seconds}`;
  const args = [`-c${conns}`, `-m${streams}`, amount, `--log-file=${logFile}`, url];
  const [cmd, argv] = tasksetBin ? [tasksetBin, ['-c', String(cpu), h2loadBin, ...args]] : [h2loadBin, args];
  const r = await capture('h2load', cmd, argv, (seconds + 30) * 1000);
  if (r.error) throw new Error(`h2load failed to start: ${r.error.message}`);
  if (r.timedOut) throw new Error('h2load overran its time limit and was killed');
  if (r.code !== 0) throw new Error(`h2load exited with code ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
  let log = '';
  try {
    log = readFileSync(logFile, 'utf8');
  } finally {
    rmSync(logFile, { force: true });
  }
  // A run by request count is measured over the time it took (h2load prints ms below 1 s).
  const fin = requests ? /^finished in ([\d.]+)(m?s)/m.exec(r.stdout) : null;
  const secs = fin ? Number(fin[1]) / (fin[2] === 'ms' ? 1000 : 1) : seconds;
  return { ...parseH2load(r.stdout, log, secs), raw: r.stdout };
}

export async function h2loadVersion(h2loadBin) {
  const r = await capture('h2load-v', h2loadBin, ['--version'], 5000);
  return (r.stdout || r.stderr).trim().split('\n')[0];
}
