// Command-line options for bench/run.mjs.
export const TARGETS = ['direct', 'nginx', 'headwater'];
export const PROTOCOLS = ['h1', 'tls', 'h2'];

export const USAGE = `Usage: node bench/run.mjs [options]      (or: npm run bench -- [options])

Benchmarks Headwater vs NGINX (as a proxy) vs direct-to-origin with wrk on 127.0.0.1.

Options:
  --sizes LIST      body sizes in bytes              (default 13,65536,1048576)
  --conns LIST      wrk connections, one block each  (default 50; e.g. 10,50,500)
  --duration SECS   length of each measured run      (default 10)
  --runs N          measured runs per target; the median is reported (default 3)
  --engine NAME     Headwater's HTTP/1.1 engine: lean (default) or node
  --workers N       Headwater worker processes (default 1; the cpu pin then spans both cores)
  --log-format F    Headwater's access_log.format: combined (default; NGINX logs combined too) or json
  --busy-polling    run Headwater with busy_polling: true (polls instead of sleeping while traffic
                    flows, like HAProxy busy-polling; its core then shows ~100% CPU under load)
  --warmup SECS     warm-up run before every measured run, 0 = none (default 2)
  --targets LIST    subset of direct,nginx,headwater (default all three)
  --protocols LIST  subset of h1,tls,h2 (default h1): h1 = cleartext HTTP/1.1 (wrk), tls = HTTP/1.1
                    over TLS (wrk), h2 = HTTP/2 over TLS with ALPN (h2load); direct is h1 only
  --streams N       concurrent streams per connection for h2 (default 10)
  --steal-retries N a run during which the hypervisor took over 5% of the CPU time (steal) is
                    repeated after a 10 s pause, up to N times (default 2; 0 = never)
  --out DIR         where the JSON result goes       (default bench/out)
  --keep-tmp        keep the temp dir (configs, logs) and print its path
  -h, --help        this text

Needs: nginx, wrk, taskset (Debian: apt-get install -y nginx wrk); for tls/h2 also openssl, and
h2load for h2 (apt-get install -y openssl nghttp2-client).`;

function intList(name, text) {
  const out = String(text).split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (!out.length || out.some((n) => !Number.isInteger(n) || n <= 0)) {
    throw new Error(`--${name} expects a comma-separated list of positive integers, got "${text}"`);
  }
  return out;
}

function posInt(name, text, { allowZero = false } = {}) {
  const n = Number(text);
  if (!Number.isInteger(n) || n < (allowZero ? 0 : 1)) {
    throw new Error(`--${name} expects a ${allowZero ? 'non-negative' : 'positive'} integer, got "${text}"`);
  }
  return n;
}

/** Parse argv (without node and script). Throws Error with a user-facing message on bad input. */
export function parseArgs(argv) {
  const opts = {
    sizes: [13, 65536, 1048576],
    conns: [50],
    duration: 10,
    runs: 3,
    warmup: 2,
    targets: [...TARGETS],
    protocols: ['h1'],
    streams: 10,
    stealRetries: 2,
    out: null,
    keepTmp: false,
    help: false,
  };
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let val;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) { val = arg.slice(eq + 1); arg = arg.slice(0, eq); }
    const next = () => {
      if (val !== undefined) return val;
      if (i + 1 >= argv.length) throw new Error(`${arg} needs a value`);
      return argv[++i];
    };
    switch (arg) {
      case '-h': case '--help': opts.help = true; break;
      case '--sizes': opts.sizes = [...new Set(intList('sizes', next()))]; break;
      case '--conns': opts.conns = [...new Set(intList('conns', next()))]; break;
      case '--duration': opts.duration = posInt('duration', next()); break;
      case '--runs': opts.runs = posInt('runs', next()); break;
      case '--warmup': opts.warmup = posInt('warmup', next(), { allowZero: true }); break;
      case '--out': opts.out = next(); break;
      case '--keep-tmp': opts.keepTmp = true; break;
      case '--engine': opts.engine = next(); if (!['lean', 'node'].includes(opts.engine)) throw new Error('--engine: lean or node'); break;
      case '--workers': opts.workers = posInt('workers', next()); break;
      case '--log-format': opts.logFormat = next(); if (!['combined', 'json'].includes(opts.logFormat)) throw new Error('--log-format: combined or json'); break;
      case '--busy-polling': opts.busyPolling = true; break;
      case '--streams': opts.streams = posInt('streams', next()); break;
      case '--steal-retries': opts.stealRetries = posInt('steal-retries', next(), { allowZero: true }); break;
      case '--protocols': {
        const p = next().split(',').map((s) => s.trim()).filter(Boolean);
        const bad = p.filter((x) => !PROTOCOLS.includes(x));
        if (!p.length || bad.length) throw new Error(`--protocols: unknown protocol(s) "${bad.join(',')}"; choose from ${PROTOCOLS.join(',')}`);
        opts.protocols = PROTOCOLS.filter((x) => p.includes(x));
        break;
      }
      case '--targets': {
        const t = next().split(',').map((s) => s.trim()).filter(Boolean);
        const bad = t.filter((x) => !TARGETS.includes(x));
        if (!t.length || bad.length) throw new Error(`--targets: unknown target(s) "${bad.join(',')}"; choose from ${TARGETS.join(',')}`);
        opts.targets = TARGETS.filter((x) => t.includes(x)); // canonical order: direct, nginx, headwater
        break;
      }
      default: throw new Error(`unknown option "${arg}"`);
    }
  }
  if (opts.sizes.some((s) => s > 64 * 1024 * 1024)) throw new Error('--sizes: 64 MiB at most per body');
  if (opts.conns.some((c) => c > 10000)) throw new Error('--conns: 10000 at most');
  if (opts.duration > 600) throw new Error('--duration: 600 s at most');
  if (opts.runs > 50) throw new Error('--runs: 50 at most');
  return opts;
}
