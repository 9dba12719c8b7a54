// NGINX configs for the two roles in the bench, and a starter that runs NGINX in the foreground
// (`daemon off`) under a private prefix, pinned to one CPU with taskset.
//  - origins: one NGINX (1 worker) with two server blocks on two ports, serving fixed files.
//  - proxy:   the NGINX under test (1 worker), round-robin over the two origins, upstream keepalive.
import { writeFileSync, mkdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { spawnTracked, capture } from './procs.mjs';
import { waitForHttp } from './probe.mjs';

/** Hard RLIMIT_NOFILE of this process (a child may raise its soft limit up to it), capped. */
function nofileHardLimit(cap = 65535) {
  try {
    const m = /^Max open files\s+\S+\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (m && m[1] !== 'unlimited') return Math.min(cap, Number(m[1]));
  } catch { /* not Linux? keep the cap */ }
  return cap;
}

function common(dir) {
  // When run as root, workers would drop to `nobody` and could not read our 0700 temp dir.
  const user = process.getuid && process.getuid() === 0 ? 'user root;\n' : '';
  return `${user}worker_processes 1;
worker_rlimit_nofile ${nofileHardLimit()};
pid ${dir}/nginx.pid;
lock_file ${dir}/nginx.lock;
error_log ${dir}/error.log warn;
events { worker_connections 8192; multi_accept on; }
`;
}

function temps(dir) {
  return ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((t) => `  ${t}_temp_path ${dir}/tmp_${t};`).join('\n');
}

/** Origin config: two server blocks (two ports) serving `${www}/<size>` files, keep-alive on. */
export function originConf(dir, www, ports) {
  const servers = ports.map((p) => `  server {
    listen 127.0.0.1:${p} reuseport backlog=4096;
    location / { root ${www}; }
  }`).join('\n');
  return `${common(dir)}http {
  access_log off;
  default_type application/octet-stream;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  etag off;
  keepalive_timeout 75s;
  keepalive_requests 1000000;
  open_file_cache max=64 inactive=60s;
  open_file_cache_valid 60s;
${temps(dir)}
${servers}
}
`;
}

/**
 * Proxy-under-test config: round-robin to the origins, HTTP/1.1 keepalive pool of 64. With `tls`
 * ({ cert, key, tlsPort, h2Port }) the same location is also served over TLS (HTTP/1.1 only) and
 * over TLS with HTTP/2 (ALPN h2).
 */
export function proxyConf(dir, port, originPorts, tls = null) {
  const upstreams = originPorts.map((p) => `    server 127.0.0.1:${p};`).join('\n');
  const server = (listen, extra = '') => `  server {
    listen ${listen};
${extra}    location / {
      proxy_pass http://origins;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      # 64 KiB buffers (Node's read chunk size too); never spill large bodies to temp files.
      proxy_buffer_size 64k;
      proxy_buffers 8 64k;
      proxy_busy_buffers_size 128k;
      proxy_max_temp_file_size 0;
    }
  }`;
  const certs = tls ? `    ssl_certificate ${tls.cert};\n    ssl_certificate_key ${tls.key};\n    ssl_protocols TLSv1.2 TLSv1.3;\n` : '';
  const servers = [server(`127.0.0.1:${port} reuseport backlog=4096`)];
  if (tls) {
    servers.push(server(`127.0.0.1:${tls.tlsPort} ssl reuseport backlog=4096`, certs));
    servers.push(server(`127.0.0.1:${tls.h2Port} ssl http2 reuseport backlog=4096`, certs));
  }
  return `${common(dir)}http {
  access_log ${dir}/access.log combined buffer=64k flush=1s;
  sendfile on;
  tcp_nodelay on;
  keepalive_timeout 75s;
  keepalive_requests 1000000;
${temps(dir)}
  upstream origins {
${upstreams}
    keepalive 64;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
  }
${servers.join('\n')}
}
`;
}

/** Write the origin document root: one file per size, named by its size in bytes. */
export function writeBodies(www, sizes) {
  mkdirSync(www, { recursive: true });
  for (const size of sizes) {
    const buf = Buffer.alloc(size);
    for (let i = 0; i < size; i++) buf[i] = 97 + (i % 26); // a..z repeated
    writeFileSync(path.join(www, String(size)), buf);
  }
}

/**
 * Write `conf` into `dir`, check it with `nginx -t`, start `taskset -c <cpu> nginx ... daemon off`,
 * and wait until `readyUrl` answers 200. Returns the tracked process entry.
 */
export async function startNginx({ nginxBin, tasksetBin, cpu, dir, conf, name, readyUrl }) {
  mkdirSync(dir, { recursive: true });
  const confFile = path.join(dir, 'nginx.conf');
  writeFileSync(confFile, conf);
  const base = ['-p', dir + '/', '-e', path.join(dir, 'error.log'), '-c', confFile];
  const t = await capture(`${name}-test`, nginxBin, [...base, '-t', '-q'], 10000);
  if (t.code !== 0) throw new Error(`${name}: nginx -t failed:\n${t.stderr || t.stdout}`);
  const args = [...base, '-g', 'daemon off;'];
  const [cmd, argv] = tasksetBin ? [tasksetBin, ['-c', String(cpu), nginxBin, ...args]] : [nginxBin, args];
  const entry = spawnTracked(name, cmd, argv, { logFile: path.join(dir, 'stdout.log'), stopSignal: 'SIGQUIT' });
  try {
    await waitForHttp(readyUrl, { timeoutMs: 10000, alive: () => !entry.exited });
  } catch (e) {
    throw new Error(`${name}: ${e.message}\n${tail(path.join(dir, 'error.log'))}`);
  }
  return entry;
}

export function tail(file, lines = 15) {
  if (!existsSync(file)) return `(no ${path.basename(file)})`;
  const all = readFileSync(file, 'utf8').trimEnd().split('\n');
  return all.slice(-lines).map((l) => `    | ${l}`).join('\n');
}

export async function nginxVersion(nginxBin) {
  const r = await capture('nginx-v', nginxBin, ['-v'], 5000);
  return (r.stderr || r.stdout).trim().replace(/^nginx version:\s*nginx\//, '');
}
