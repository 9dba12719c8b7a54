#!/usr/bin/env node
// Headwater vs NGINX vs direct-to-origin, side by side, with wrk on 127.0.0.1.
// See bench/README.md. Usage: npm run bench -- [--conns 10,50,500] [--duration 5] [--runs 3] ...
import os from 'node:os';
import path from 'node:path';
import { mkdtempSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs, USAGE } from './lib/args.mjs';
import { which, installCleanupHandlers, registerTempDir, stopAll, stop, capture, isShuttingDown } from './lib/procs.mjs';
import { freePorts, verifyBody, startSampler, startLoadProbe, cpusAllowed } from './lib/probe.mjs';
import { originConf, proxyConf, writeBodies, startNginx, nginxVersion } from './lib/nginx.mjs';
import { startHeadwater } from './lib/headwater.mjs';
import { runWrk, wrkVersion } from './lib/wrk.mjs';
import { runH2load, h2loadVersion } from './lib/h2load.mjs';
import { execFileSync } from 'node:child_process';
import { summarize, formatTable, sizeLabel, writeJson, STEAL_WARN } from './lib/report.mjs';

/** Pause before measuring again a run during which the host took the CPU (steal above STEAL_WARN). */
const STEAL_PAUSE_S = 10;

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(benchDir, '..');
const log = (...a) => console.log(...a);

let opts;
try {
  opts = parseArgs(process.argv.slice(2));
} catch (e) {
  console.error(`bench: ${e.message} (see --help)`);
  process.exit(2);
}
if (opts.help) { log(USAGE); process.exit(0); }

// ---- prerequisites: never install anything, just say what is missing ----
const bins = { nginx: which('nginx'), wrk: which('wrk'), taskset: which('taskset') };
const secure = opts.protocols.some((p) => p !== 'h1');
if (secure) bins.openssl = which('openssl');
if (opts.protocols.includes('h2')) bins.h2load = which('h2load');
const missing = Object.entries(bins).filter(([, p]) => !p).map(([n]) => n);
if (missing.length) {
  const pkgFor = { nginx: 'nginx', wrk: 'wrk', taskset: 'util-linux', openssl: 'openssl', h2load: 'nghttp2-client' };
  const pkgs = missing.map((n) => pkgFor[n]);
  console.error(`bench: missing ${missing.join(', ')}. Install the Debian packages first (as root):\n` +
    `    apt-get install -y ${pkgs.join(' ')}`);
  process.exit(1);
}
const ncpu = os.cpus().length;
// Proxy under test on core 0; wrk and the origins on core 1. With one CPU, pinning is pointless.
const PROXY_CPU = 0;
const LOAD_CPU = 1;
const taskset = ncpu >= 2 ? bins.taskset : null;
if (!taskset) log('bench: warning: fewer than 2 CPUs, running without taskset pinning');

installCleanupHandlers();
await main();

async function main() {
  const startedAt = new Date().toISOString();
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'headwater-bench-'));
  if (!opts.keepTmp) registerTempDir(tmp);
  const [origin1, origin2, nginxPort, hwPort, ngTls, ngH2, hwTls, hwH2] = await freePorts(8);
  const originPorts = [origin1, origin2];
  const clk = await capture('getconf', 'getconf', ['CLK_TCK'], 5000);
  const clkTck = Number(clk.stdout.trim()) || 100;
  const sizes = opts.sizes;
  const probe = `/${Math.min(...sizes)}`;
  // TLS legs: one self-signed certificate for both proxies (clients do not verify it).
  let cert = null;
  if (secure) {
    cert = { cert: path.join(tmp, 'bench-cert.pem'), key: path.join(tmp, 'bench-key.pem') };
    execFileSync(bins.openssl, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', cert.key,
      '-out', cert.cert, '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
  }

  // ---- origins ----
  writeBodies(path.join(tmp, 'www'), sizes);
  const origins = await startNginx({
    nginxBin: bins.nginx, tasksetBin: taskset, cpu: LOAD_CPU, name: 'origins',
    dir: path.join(tmp, 'origins'), conf: originConf(path.join(tmp, 'origins'), path.join(tmp, 'www'), originPorts),
    readyUrl: `http://127.0.0.1:${origin1}${probe}`,
  });

  // ---- targets ----
  const targets = {}; // name -> { port, tlsPort?, h2Port?, entry? }
  const skipped = {}; // name -> reason
  if (opts.targets.includes('direct')) targets.direct = { port: origin1, entry: null };
  if (opts.targets.includes('nginx')) {
    const dir = path.join(tmp, 'nginx-proxy');
    const entry = await startNginx({
      nginxBin: bins.nginx, tasksetBin: taskset, cpu: PROXY_CPU, name: 'nginx-proxy', dir,
      conf: proxyConf(dir, nginxPort, originPorts, cert && { ...cert, tlsPort: ngTls, h2Port: ngH2 }), readyUrl: `http://127.0.0.1:${nginxPort}${probe}`,
    });
    targets.nginx = { port: nginxPort, tlsPort: ngTls, h2Port: ngH2, entry };
  }
  if (opts.targets.includes('headwater')) {
    const hw = await startHeadwater({
      repoRoot, tasksetBin: taskset, cpu: (opts.workers ?? 1) > 1 ? '0,1' : PROXY_CPU, dir: path.join(tmp, 'headwater'),
      port: hwPort, originPorts, readyUrl: `http://127.0.0.1:${hwPort}${probe}`, timeoutMs: 10000,
      engine: opts.engine ?? 'lean', workers: opts.workers ?? 1, logFormat: opts.logFormat ?? 'combined', busyPolling: opts.busyPolling ?? false, tls: cert && { ...cert, tlsPort: hwTls, h2Port: hwH2 },
    });
    if (hw.skip) {
      skipped.headwater = hw.skip;
      log(`bench: SKIPPING headwater: ${hw.skip}`);
    } else {
      // With workers it shares the load core, whose busy share would then count it too.
      targets.headwater = { port: hwPort, tlsPort: hwTls, h2Port: hwH2, entry: hw.entry, onLoadCore: (opts.workers ?? 1) > 1 };
    }
  }
  // Every target must serve every body exactly, or its numbers mean nothing.
  for (const [name, t] of Object.entries(targets)) {
    const urls = opts.protocols.map((p) => urlFor(t, p, name)).filter(Boolean);
    for (const size of sizes) {
      let err = name === 'direct' ? await verifyBody(`http://127.0.0.1:${origin2}/${size}`, size) : null;
      for (const base of urls) err ||= await verifyBody(`${base}/${size}`, size);
      if (err) {
        skipped[name] = `GET /${size} check failed: ${err}`;
        log(`bench: SKIPPING ${name}: ${skipped[name]}`);
        if (t.entry) await stop(t.entry);
        delete targets[name];
        break;
      }
    }
  }
  const active = opts.targets.filter((t) => targets[t]);
  if (!active.length) {
    console.error('bench: nothing to benchmark: every requested target was skipped');
    await stopAll();
    process.exit(1);
  }

  // ---- header ----
  const env = {
    node: process.version, nginx: await nginxVersion(bins.nginx), wrk: await wrkVersion(bins.wrk),
    h2load: bins.h2load ? await h2loadVersion(bins.h2load) : null,
    cpu: os.cpus()[0]?.model, cpus: ncpu, kernel: os.release(), loadavg: os.loadavg(),
    pinning: taskset ? { proxy: PROXY_CPU, wrk: LOAD_CPU, origins: LOAD_CPU } : null,
  };
  const pins = [['origins', origins], ...active.filter((t) => targets[t].entry).map((t) => [t, targets[t].entry])]
    .map(([n, e]) => `${n} pid ${e.child.pid} cpus ${cpusAllowed(e.child.pid)}`).join('; ');
  const perRun = opts.duration + opts.warmup + 0.5;
  const estimate = Math.ceil(opts.protocols.length * sizes.length * opts.conns.length * opts.runs * active.length * perRun);
  log(`Headwater bench  ${startedAt}`);
  log(`  node ${env.node}, nginx ${env.nginx}, ${env.wrk}${env.h2load ? `, ${env.h2load}` : ''}`);
  log(`  ${ncpu} x ${env.cpu}, kernel ${env.kernel}`);
  log(`  pinned: ${pins}; wrk on cpu ${taskset ? LOAD_CPU : 'any'}; access logs: NGINX combined, Headwater ${opts.logFormat ?? 'combined'}; Headwater engine ${opts.engine ?? 'lean'}, workers ${opts.workers ?? 1}${opts.busyPolling ? ', busy_polling' : ''}`);
  log(`  protocols ${opts.protocols.join(',')}; sizes ${sizes.map(sizeLabel).join(', ')}; conns ${opts.conns.join(',')}; ${opts.duration} s x ${opts.runs} run(s)` +
    ` + ${opts.warmup} s warm-up; targets ${active.join(', ')}; about ${estimate} s`);
  if (env.loadavg[0] > 0.5) {
    log(`  warning: load average ${env.loadavg.map((x) => x.toFixed(2)).join(' ')}: other work on this machine will skew the numbers`);
  }
  if (opts.keepTmp) log(`  temp dir (kept): ${tmp}`);
  log('');

  // ---- matrix: per protocol, size and conns, runs interleaved across targets ----
  const results = [];
  const tables = [];
  for (const protocol of opts.protocols) {
    for (const size of sizes) {
      for (const conns of opts.conns) {
        const names = opts.targets.filter((n) => protocol === 'h1' || n !== 'direct');
        const cells = Object.fromEntries(names.map((t) => [t, { runs: [], skip: skipped[t] }]));
        for (let run = 1; run <= opts.runs; run++) {
          // Even runs go in the reverse order (A B, B A, ...), so that neither target always
          // follows the other: a drift within the cell or one target's after-effects (a GC, the
          // access log's flush) then falls on both alike.
          const order = run % 2 ? active : [...active].reverse();
          for (const name of order) {
            const t = targets[name];
            if (!t || !cells[name] || cells[name].skip) continue;
            if (t.entry && t.entry.exited) {
              cells[name].skip = skipped[name] = `${name} exited (code ${t.entry.code}, signal ${t.entry.signal})`;
              log(`bench: ${skipped[name]}; no more runs for it`);
              continue;
            }
            const label = `  ${protocol.padEnd(3)} ${sizeLabel(size).padStart(8)} c${conns} run ${run}/${opts.runs} ${name.padEnd(9)}`;
            try {
              const url = `${urlFor(t, protocol, name)}/${size}`;
              let r = await measure(url, protocol, conns, t, clkTck, tmp);
              // The host took the CPU (steal): pause, so it may calm down, and measure again.
              for (let retry = 1; retry <= opts.stealRetries && r.stealPct != null && r.stealPct > STEAL_WARN; retry++) {
                log(`${label} steal ${Math.round(r.stealPct)}% (${Math.round(r.rps)} req/s): pausing ${STEAL_PAUSE_S} s and measuring again (${retry}/${opts.stealRetries})`);
                await new Promise((res) => setTimeout(res, STEAL_PAUSE_S * 1000));
                const again = { ...(await measure(url, protocol, conns, t, clkTck, tmp)), stealRetries: retry };
                // Keep the try with the least steal (a retry can land in a busier moment).
                if (again.stealPct == null || again.stealPct <= r.stealPct) r = again;
                else r = { ...r, stealRetries: retry };
              }
              cells[name].runs.push(r);
              log(`${label} ${Math.round(r.rps).toString().padStart(8)} req/s  p50 ${r.p50.toFixed(3)} ms  p99 ${r.p99.toFixed(3)} ms` +
                (r.maxRssKiB ? `  rss ${(r.maxRssKiB / 1024).toFixed(1)} MiB (anon ${((r.maxAnonKiB ?? 0) / 1024).toFixed(1)})  cpu ${Math.round(r.cpuPct)}%` : '') +
                (r.loadCpuPct != null ? `  load cpu ${Math.round(r.loadCpuPct)}% (${(r.loadUsPerReq ?? 0).toFixed(1)} us/req)` : '') +
                (r.stealPct != null ? `  steal ${Math.round(r.stealPct)}%` : '') +
                (r.errors ? `  errors ${r.errors}` : ''));
            } catch (e) {
              if (isShuttingDown()) await new Promise((r) => setTimeout(r, 60000)); // the signal handler exits
              cells[name].runs.push({ error: e.message });
              log(`${label} FAILED: ${e.message.split('\n')[0]}`);
            }
          }
        }
        for (const [name, cell] of Object.entries(cells)) {
          cell.summary = summarize(cell.runs);
          results.push({ protocol, size, conns, target: name, summary: cell.summary, skipped: cell.summary ? null : cell.skip || 'all runs failed', runs: cell.runs });
        }
        const table = formatTable({ protocol, size, conns, duration: opts.duration, runs: opts.runs, cells });
        tables.push(table);
        log(`\n${table}\n`);
      }
    }
  }

  // ---- output ----
  const file = writeJson(opts.out ? path.resolve(opts.out) : path.join(benchDir, 'out'), {
    tool: 'headwater-bench', startedAt, finishedAt: new Date().toISOString(),
    options: { protocols: opts.protocols, sizes, conns: opts.conns, streams: opts.streams, duration: opts.duration, runs: opts.runs, warmup: opts.warmup, targets: opts.targets, engine: opts.engine ?? 'lean', workers: opts.workers ?? 1, busyPolling: opts.busyPolling ?? false, stealRetries: opts.stealRetries },
    env, skipped, results,
  });
  if (tables.length > 1) log(`==== summary ====\n\n${tables.join('\n\n')}\n`);
  log(`JSON result: ${path.relative(process.cwd(), file) || file}`);
  await stopAll();
  process.exit(0);
}

/** Base URL of a target for a protocol (null: the target does not speak it). */
function urlFor(t, protocol, name) {
  if (protocol === 'h1') return `http://127.0.0.1:${t.port}`;
  if (name === 'direct') return null;
  return `https://127.0.0.1:${protocol === 'tls' ? t.tlsPort : t.h2Port}`;
}

/**
 * One measured run (after an optional warm-up) of target `t`, with its CPU and RSS sampled
 * meanwhile, and the load core's busy share when the target is not on that core.
 */
async function measure(url, protocol, conns, t, clkTck, tmp) {
  const { entry } = t;
  const base = { tasksetBin: taskset, cpu: LOAD_CPU, url, conns };
  const once = (seconds, warmup = false) => (protocol === 'h2'
    ? runH2load({
      ...base, h2loadBin: bins.h2load, streams: opts.streams, seconds, logFile: path.join(tmp, 'h2load.log'),
      // A warm-up by request count (40 per stream, or 5k per second of warm-up), not by duration.
      requests: warmup ? Math.max(conns * opts.streams * 40, Math.round(seconds * 5000)) : undefined,
    })
    : runWrk({ ...base, wrkBin: bins.wrk, seconds }));
  if (opts.warmup > 0) await once(opts.warmup, true);
  const sampler = entry ? startSampler(entry.child.pid, { clkTck }) : null;
  const load = taskset && !t.onLoadCore ? startLoadProbe(LOAD_CPU, { clkTck }) : null;
  let r;
  try {
    r = await once(opts.duration);
  } finally {
    const s = sampler ? sampler.stop() : null;
    if (r && s) Object.assign(r, s);
  }
  Object.assign(r, load ? load.stop(r.requests ?? r.rps * opts.duration) : { loadCpuPct: null, loadUsPerReq: null });
  delete r.raw;
  return r;
}
