// Small probes: free ports, bounded HTTP GETs, readiness polling, and /proc sampling
// (RSS and CPU time of a process and its descendants, e.g. an NGINX master and its worker).
import net from 'node:net';
import http from 'node:http';
import https from 'node:https';
import { readFileSync, readdirSync } from 'node:fs';

/** Ask the kernel for `n` distinct free TCP ports on 127.0.0.1. */
export async function freePorts(n) {
  const servers = [];
  const ports = [];
  for (let i = 0; i < n; i++) {
    const srv = net.createServer();
    await new Promise((res, rej) => { srv.once('error', rej); srv.listen(0, '127.0.0.1', res); });
    servers.push(srv);
    ports.push(srv.address().port);
  }
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** One GET with a time limit; resolves { status, bytes, headers } or rejects. */
export function httpGet(url, timeoutMs = 2000) {
  return new Promise((resolve, reject) => {
    // The bench's TLS certificate is self-signed: the check is the body, not the chain.
    const get = url.startsWith('https:') ? (u, o, cb) => https.get(u, { ...o, rejectUnauthorized: false }, cb) : http.get;
    const req = get(url, { agent: false, timeout: timeoutMs }, (res) => {
      let bytes = 0;
      res.on('data', (c) => { bytes += c.length; });
      res.on('end', () => resolve({ status: res.statusCode, bytes, headers: res.headers }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/**
 * Poll `url` until it answers 200 or `timeoutMs` passes. `alive()` (optional) lets the caller
 * abort early when the server process has already exited.
 */
export async function waitForHttp(url, { timeoutMs = 10000, alive } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (alive && !alive()) throw new Error('process exited before it answered');
    try {
      const r = await httpGet(url, 1000);
      if (r.status === 200) return r;
      last = `HTTP ${r.status}`;
    } catch (e) { last = e.message; }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms (last: ${last})`);
}

/** Check that `url` returns 200 with exactly `size` body bytes. Returns an error string or null. */
export async function verifyBody(url, size) {
  try {
    const r = await httpGet(url, 5000);
    if (r.status !== 200) return `HTTP ${r.status}`;
    if (r.bytes !== size) return `body is ${r.bytes} bytes, expected ${size}`;
    return null;
  } catch (e) { return e.message; }
}

function readStat(pid) {
  // /proc/<pid>/stat: "pid (comm) S ppid ...": split after the last ')' since comm may hold spaces.
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return { ppid: Number(f[1]), utime: Number(f[11]), stime: Number(f[12]) };
}

/** pid plus all its descendants (scans /proc once). */
export function processTree(rootPid) {
  const children = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const { ppid } = readStat(name);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(name));
    } catch { /* raced with exit */ }
  }
  const out = [];
  const stack = [rootPid];
  while (stack.length) {
    const p = stack.pop();
    out.push(p);
    for (const c of children.get(p) || []) stack.push(c);
  }
  return out;
}

/** The /proc/<pid>/status lines treeMemKiB reads. */
const RSS_FIELDS = /^(RssAnon|RssFile|RssShmem):\s+(\d+)\s+kB/gm;

/**
 * Memory of a process tree (KiB): `rss` is each process's own pages (RssAnon, RssShmem) summed,
 * plus the mapped files' pages (RssFile) of the process that has the most. For one process that
 * is its VmRSS. The processes of a tree map the same executable (an NGINX master and its worker;
 * Headwater and the helper process its accept boost runs for a moment at the first burst of
 * connections), so summing their VmRSS would count those pages once per process: ~35 MiB of node's
 * for the helper. `anon` is the sum of RssAnon, the processes' own memory (heap, buffers).
 */
export function treeMemKiB(pids) {
  let own = 0;
  let file = 0;
  let anon = 0;
  for (const p of pids) {
    try {
      const status = readFileSync(`/proc/${p}/status`, 'utf8');
      const kib = { RssAnon: 0, RssFile: 0, RssShmem: 0 };
      for (const m of status.matchAll(RSS_FIELDS)) kib[m[1]] = Number(m[2]);
      anon += kib.RssAnon;
      own += kib.RssAnon + kib.RssShmem;
      file = Math.max(file, kib.RssFile);
    } catch { /* gone */ }
  }
  return { rss: own + file, anon };
}

/** Sum of utime+stime (clock ticks) over a process tree. */
export function treeCpuTicks(pids) {
  let t = 0;
  for (const p of pids) {
    try { const s = readStat(p); t += s.utime + s.stime; } catch { /* gone */ }
  }
  return t;
}

/** CPUs a process may run on, as the kernel reports it (e.g. "0"), for the pinning check. */
export function cpusAllowed(pid) {
  try {
    const m = /Cpus_allowed_list:\s+(\S+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? m[1] : '?';
  } catch { return '?'; }
}

/** The numbers of /proc/stat's line `name` ('cpu' for all CPUs together, 'cpu1' for one), or null. */
function statLine(name) {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n').find((l) => l.startsWith(`${name} `));
    return line ? line.trim().split(/\s+/).slice(1).map(Number) : null;
  } catch { return null; }
}

/**
 * Steal and total clock ticks of all CPUs together, from /proc/stat (null where there is none).
 * Steal is time the hypervisor gave this VM's vCPUs to someone else: a run with much of it
 * measured the host's load as much as the proxy.
 */
export function cpuTicks() {
  const v = statLine('cpu')?.slice(0, 8);
  return v ? { steal: v[7] ?? 0, total: v.reduce((a, b) => a + b, 0) } : null;
}

/**
 * Busy clock ticks of one CPU (user, nice, system, irq and softirq of its `cpuN` line in
 * /proc/stat; idle, iowait and steal left out), or null where there is no such line.
 */
function cpuBusyTicks(cpu) {
  const v = statLine(`cpu${cpu}`);
  return v ? v[0] + v[1] + v[2] + v[5] + v[6] : null;
}

/**
 * Watch how busy CPU `cpu` (the load core: wrk and the origins) is while a run is in progress.
 * Returns { stop(requests) } whose stop() yields { loadCpuPct, loadUsPerReq }: the core's busy share
 * of the window, and its busy time per request (where the core is saturated, that is just the
 * inverse of the throughput), each null where /proc/stat has no such CPU.
 */
export function startLoadProbe(cpu, { clkTck = 100 } = {}) {
  const t0 = process.hrtime.bigint();
  const busy0 = cpuBusyTicks(cpu);
  return {
    stop(requests) {
      const busy1 = cpuBusyTicks(cpu);
      if (busy0 == null || busy1 == null) return { loadCpuPct: null, loadUsPerReq: null };
      const secs = Number(process.hrtime.bigint() - t0) / 1e9;
      const busySec = (busy1 - busy0) / clkTck;
      return {
        loadCpuPct: secs > 0 ? Math.min(100, (busySec / secs) * 100) : null,
        loadUsPerReq: requests > 0 ? (busySec * 1e6) / requests : null,
      };
    },
  };
}

/**
 * Sample a process tree every `intervalMs` while a run is in progress. Returns { stop() } whose
 * stop() yields { maxRssKiB, maxAnonKiB, cpuPct, stealPct } (CPU% of one core over the sampled
 * window; steal as a share of all CPUs' time in it, null without /proc/stat).
 */
export function startSampler(rootPid, { intervalMs = 200, clkTck = 100 } = {}) {
  let pids = processTree(rootPid);
  const t0 = process.hrtime.bigint();
  const cpu0 = treeCpuTicks(pids);
  const stat0 = cpuTicks();
  let maxRssKiB = 0;
  let maxAnonKiB = 0;
  const sample = () => {
    const m = treeMemKiB(pids);
    maxRssKiB = Math.max(maxRssKiB, m.rss);
    maxAnonKiB = Math.max(maxAnonKiB, m.anon);
  };
  sample();
  let n = 0;
  const timer = setInterval(() => {
    if (++n % 10 === 0) pids = processTree(rootPid);
    sample();
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      const secs = Number(process.hrtime.bigint() - t0) / 1e9;
      const cpuPct = secs > 0 ? ((treeCpuTicks(pids) - cpu0) / clkTck / secs) * 100 : 0;
      const stat1 = cpuTicks();
      const stealPct = stat0 && stat1 && stat1.total > stat0.total ? ((stat1.steal - stat0.steal) / (stat1.total - stat0.total)) * 100 : null;
      return { maxRssKiB, maxAnonKiB, cpuPct, stealPct };
    },
  };
}
