// Run wrk (pinned with taskset, bounded in time) and parse its --latency output.
import { capture } from './procs.mjs';

const TIME_UNITS = { us: 0.001, ms: 1, s: 1000, m: 60000, h: 3600000 };
const SIZE_UNITS = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };

/** "245.12us" | "1.23ms" | "1.02s" | "2.00m" -> milliseconds. */
export function toMs(text) {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  if (!m) return NaN;
  return Number(m[1]) * TIME_UNITS[m[2]];
}

function toBytes(text) {
  const m = /^([\d.]+)(B|KB|MB|GB|TB)$/.exec(text.trim());
  return m ? Number(m[1]) * SIZE_UNITS[m[2]] : NaN;
}

/** Parse wrk stdout. Throws when the essential numbers are missing. */
export function parseWrk(out) {
  const num = (re) => { const m = re.exec(out); return m ? Number(m[1]) : null; };
  const rps = num(/^Requests\/sec:\s+([\d.]+)/m);
  if (rps === null) throw new Error(`could not find Requests/sec in wrk output:\n${out}`);
  const pct = {};
  const dist = /Latency Distribution\s*\n([\s\S]*?)(?:\n\s*\d+ requests in|$)/.exec(out);
  if (dist) {
    for (const m of dist[1].matchAll(/^\s*([\d.]+)%\s+(\S+)/gm)) pct[m[1]] = toMs(m[2]);
  }
  if (pct['50'] === undefined || pct['99'] === undefined) {
    throw new Error(`could not find the latency distribution (p50/p99) in wrk output:\n${out}`);
  }
  const lat = /^\s*Latency\s+(\S+)\s+(\S+)\s+(\S+)/m.exec(out);
  const reqs = /^\s*(\d+) requests in ([\d.]+\w+), ([\d.]+\w+) read/m.exec(out);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const transfer = /^Transfer\/sec:\s+(\S+)/m.exec(out);
  const socketErrors = sock ? { connect: +sock[1], read: +sock[2], write: +sock[3], timeout: +sock[4] } : null;
  const non2xx = num(/Non-2xx or 3xx responses:\s+(\d+)/) || 0;
  return {
    rps,
    p50: pct['50'],
    p75: pct['75'] ?? null,
    p90: pct['90'] ?? null,
    p99: pct['99'],
    avgMs: lat ? toMs(lat[1]) : null,
    maxMs: lat ? toMs(lat[3]) : null,
    requests: reqs ? Number(reqs[1]) : null,
    transferBytesPerSec: transfer ? toBytes(transfer[1]) : null,
    socketErrors,
    non2xx,
    errors: non2xx + (socketErrors ? socketErrors.connect + socketErrors.read + socketErrors.write + socketErrors.timeout : 0),
  };
}

/**
 * `taskset -c <cpu> wrk -t1 -c<conns> -d<secs>s --latency <url>`, killed if it overruns by 20 s.
 * Resolves the parsed result (plus the raw output) or throws.
 */
export async function runWrk({ wrkBin, tasksetBin, cpu, url, conns, seconds, timeoutSecs = 10 }) {
  const wrkArgs = ['-t1', `-c${conns}`, `-d${seconds}s`, `--timeout`, `${timeoutSecs}s`, '--latency', url];
  const [cmd, argv] = tasksetBin ? [tasksetBin, ['-c', String(cpu), wrkBin, ...wrkArgs]] : [wrkBin, wrkArgs];
  const r = await capture('wrk', cmd, argv, (seconds + timeoutSecs + 20) * 1000);
  if (r.error) throw new Error(`wrk failed to start: ${r.error.message}`);
  if (r.timedOut) throw new Error(`wrk overran its time limit and was killed`);
  if (r.code !== 0) throw new Error(`wrk exited with code ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
  return { ...parseWrk(r.stdout), raw: r.stdout };
}

export async function wrkVersion(wrkBin) {
  const r = await capture('wrk-v', wrkBin, ['-v'], 5000);
  return ((r.stdout || '') + (r.stderr || '')).split('\n')[0].replace(/\s*\[.*$|\s*Copyright.*$/, '').trim();
}
