#!/usr/bin/env node
// Headwater vs NGINX vs direct-to-origin, side by side, with wrk on 127.0.0.1.
// See bench/README.md. Usage: npm run bench -- [--conns 10,50,500] [--duration 5] [--runs 3] ...
import os from 'node:os';
import path from 'node:path';
import { mkdtempSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs, USAGE } from './lib/args.mjs';
import { which, installCleanupHandlers, registerTempDir, stopAll, stop, capture, isShuttingDown } from './lib/procs.mjs';
import { freePorts, verifyBody, startSampler, cpusAllowed } from './lib/probe.mjs';
import { originConf, proxyConf, writeBodies, startNginx, nginxVersion } from './lib/nginx.mjs';
import { startHeadwater } from './lib/headwater.mjs';
import { runWrk, wrkVersion } from './lib/wrk.mjs';
import { summarize, formatTable, sizeLabel, writeJson } from './lib/report.mjs';

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
const missing = Object.entries(bins).filter(([, p]) => !p).map(([n]) => n);
if (missing.length) {
  const pkgs = ['nginx', 'wrk', ...(bins.taskset ? [] : ['util-linux'])];
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
  const [origin1, origin2, nginxPort, hwPort] = await freePorts(4);
  const originPorts = [origin1, origin2];
  const clk = await capture('getconf', 'getconf', ['CLK_TCK'], 5000);
  const clkTck = Number(clk.stdout.trim()) || 100;
  const sizes = opts.sizes;
  const probe = `/${Math.min(...sizes)}`;

  // ---- origins ----
  writeBodies(path.join(tmp, 'www'), sizes);
  const origins = await startNginx({
    nginxBin: bins.nginx, tasksetBin: taskset, cpu: LOAD_CPU, name: 'origins',
    dir: path.join(tmp, 'origins'), conf: originConf(path.join(tmp, 'origins'), path.join(tmp, 'www'), originPorts),
    readyUrl: `http://127.0.0.1:${origin1}${probe}`,
  });

  // ---- targets ----
  const targets = {}; // name -> { port, entry? }
  const skipped = {}; // name -> reason
  if (opts.targets.includes('direct')) targets.direct = { port: origin1, entry: null };
  if (opts.targets.includes('nginx')) {
    const dir = path.join(tmp, 'nginx-proxy');
    const entry = await startNginx({
      nginxBin: bins.nginx, tasksetBin: taskset, cpu: PROXY_CPU, name: 'nginx-proxy', dir,
      conf: proxyConf(dir, nginxPort, originPorts), readyUrl: `http://127.0.0.1:${nginxPort}${probe}`,
    });
    targets.nginx = { port: nginxPort, entry };
  }
  if (opts.targets.includes('headwater')) {
    const hw = await startHeadwater({
      repoRoot, tasksetBin: taskset, cpu: (opts.workers ?? 1) > 1 ? '0,1' : PROXY_CPU, dir: path.join(tmp, 'headwater'),
      port: hwPort, originPorts, readyUrl: `http://127.0.0.1:${hwPort}${probe}`, timeoutMs: 10000,
      engine: opts.engine ?? 'lean', workers: opts.workers ?? 1,
    });
    if (hw.skip) {
      skipped.headwater = hw.skip;
      log(`bench: SKIPPING headwater: ${hw.skip}`);
    } else {
      targets.headwater = { port: hwPort, entry: hw.entry };
    }
  }
  // Every target must serve every body exactly, or its numbers mean nothing.
  for (const [name, t] of Object.entries(targets)) {
    for (const size of sizes) {
      const err = (await verifyBody(`http://127.0.0.1:${t.port}/${size}`, size))
        || (name === 'direct' ? await verifyBody(`http://127.0.0.1:${origin2}/${size}`, size) : null);
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
    cpu: os.cpus()[0]?.model, cpus: ncpu, kernel: os.release(), loadavg: os.loadavg(),
    pinning: taskset ? { proxy: PROXY_CPU, wrk: LOAD_CPU, origins: LOAD_CPU } : null,
  };
  const pins = [['origins', origins], ...active.filter((t) => targets[t].entry).map((t) => [t, targets[t].entry])]
    .map(([n, e]) => `${n} pid ${e.child.pid} cpus ${cpusAllowed(e.child.pid)}`).join('; ');
  const perRun = opts.duration + opts.warmup + 0.5;
  const estimate = Math.ceil(sizes.length * opts.conns.length * opts.runs * active.length * perRun);
  log(`Headwater bench  ${startedAt}`);
  log(`  node ${env.node}, nginx ${env.nginx}, ${env.wrk}`);
  log(`  ${ncpu} x ${env.cpu}, kernel ${env.kernel}`);
  log(`  pinned: ${pins}; wrk on cpu ${taskset ? LOAD_CPU : 'any'}`);
  log(`  sizes ${sizes.map(sizeLabel).join(', ')}; conns ${opts.conns.join(',')}; ${opts.duration} s x ${opts.runs} run(s)` +
    ` + ${opts.warmup} s warm-up; targets ${active.join(', ')}; about ${estimate} s`);
  if (env.loadavg[0] > 0.5) {
    log(`  warning: load average ${env.loadavg.map((x) => x.toFixed(2)).join(' ')}: other work on this machine will skew the numbers`);
  }
  if (opts.keepTmp) log(`  temp dir (kept): ${tmp}`);
  log('');

  // ---- matrix: per size and conns, runs interleaved across targets ----
  const results = [];
  const tables = [];
  for (const size of sizes) {
    for (const conns of opts.conns) {
      const cells = Object.fromEntries(opts.targets.map((t) => [t, { runs: [], skip: skipped[t] }]));
      for (let run = 1; run <= opts.runs; run++) {
        for (const name of active) {
          const t = targets[name];
          if (!t || cells[name].skip) continue;
          if (t.entry && t.entry.exited) {
            cells[name].skip = skipped[name] = `${name} exited (code ${t.entry.code}, signal ${t.entry.signal})`;
            log(`bench: ${skipped[name]}; no more runs for it`);
            continue;
          }
          const url = `http://127.0.0.1:${t.port}/${size}`;
          const wrkOpts = { wrkBin: bins.wrk, tasksetBin: taskset, cpu: LOAD_CPU, url, conns };
          const label = `  ${sizeLabel(size).padStart(8)} c${conns} run ${run}/${opts.runs} ${name.padEnd(9)}`;
          try {
            if (opts.warmup > 0) await runWrk({ ...wrkOpts, seconds: opts.warmup });
            const sampler = t.entry ? startSampler(t.entry.child.pid, { clkTck }) : null;
            let r;
            try { r = await runWrk({ ...wrkOpts, seconds: opts.duration }); } finally {
              const s = sampler ? sampler.stop() : null;
              if (r && s) Object.assign(r, s);
            }
            delete r.raw;
            cells[name].runs.push(r);
            log(`${label} ${Math.round(r.rps).toString().padStart(8)} req/s  p50 ${r.p50.toFixed(3)} ms  p99 ${r.p99.toFixed(3)} ms` +
              (r.maxRssKiB ? `  rss ${(r.maxRssKiB / 1024).toFixed(1)} MiB  cpu ${Math.round(r.cpuPct)}%` : '') +
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
        results.push({ size, conns, target: name, summary: cell.summary, skipped: cell.summary ? null : cell.skip || 'all runs failed', runs: cell.runs });
      }
      const table = formatTable({ size, conns, duration: opts.duration, runs: opts.runs, cells });
      tables.push(table);
      log(`\n${table}\n`);
    }
  }

  // ---- output ----
  const file = writeJson(opts.out ? path.resolve(opts.out) : path.join(benchDir, 'out'), {
    tool: 'headwater-bench', startedAt, finishedAt: new Date().toISOString(),
    options: { sizes, conns: opts.conns, duration: opts.duration, runs: opts.runs, warmup: opts.warmup, targets: opts.targets },
    env, skipped, results,
  });
  if (tables.length > 1) log(`==== summary ====\n\n${tables.join('\n\n')}\n`);
  log(`JSON result: ${path.relative(process.cwd(), file) || file}`);
  await stopAll();
  process.exit(0);
}
