#!/usr/bin/env bash
# Instructions per proxied request, Headwater and NGINX, counted by valgrind (callgrind): a measure
# that does not drift with this VM's speed, for judging a change to the request path.
#
#   bench/instructions.sh [requests] [warm-up requests]      (defaults 20000 and 200000)
#   LOG_FORMAT=json bench/instructions.sh                   (Headwater's access_log.format; default combined)
#   CACHE=1 bench/instructions.sh                           (also simulate the caches: see below)
#
# With CACHE=1, callgrind also simulates this machine's caches (L1i 32 KiB, L1d 48 KiB, L2 2 MiB
# as the last level; CACHE_GEOMETRY="--I1=... --D1=... --LL=..." for another machine) and prints
# the misses per request and a cycle estimate: instructions/3 + 10 per L1 miss + 60 per L2 miss,
# weights that reproduce the user time per request both proxies show under load on this VM.
#
# Each proxy runs alone under callgrind with instrumentation off; h2load (--h1, 50 connections)
# sends the warm-up requests, then instrumentation goes on for the measured requests. User-space
# instructions only (the kernel's share is not counted), all threads. 13-byte responses from an
# NGINX origin on two ports, round robin over both; Headwater with its default engine and the
# access log on (combined, like NGINX's, unless LOG_FORMAT says otherwise), NGINX with a buffered
# combined access log. Needs valgrind, h2load and nginx; run
# `npm run build` first. Takes about two minutes.
set -euo pipefail
# The long warm-up lets V8 finish tiering up: after 10,000 requests its optimizing compiler still
# ran in the measured window (~8% of the counted instructions, all threads), after 60,000 ~7%, after
# 200,000 not at all (13 B c50: 48,600, 46,040 and 42,940 instructions per request).
N=${1:-20000}
W=${2:-200000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
for bin in valgrind callgrind_control h2load nginx curl; do
  command -v "$bin" > /dev/null || { echo "instructions: $bin is missing (Debian: valgrind, nghttp2-client, nginx, curl)" >&2; exit 2; }
done
[ -f "$ROOT/dist/src/cli/main.js" ] || { echo "instructions: run npm run build first" >&2; exit 2; }
TMP=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -TERM "$p" 2> /dev/null || true; done; wait 2> /dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT
USER_LINE=$([ "$(id -u)" = 0 ] && echo 'user root;' || true)
P1=19411 P2=19412 HW=19413 NG=19414
printf 'hello world!\n' > "$TMP/index.html"
cat > "$TMP/origin.conf" <<EOF
$USER_LINE
worker_processes 1; daemon off; pid $TMP/origin.pid; error_log $TMP/origin.err;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  server { listen 127.0.0.1:$P1; root $TMP; }
  server { listen 127.0.0.1:$P2; root $TMP; } }
EOF
cat > "$TMP/proxy.conf" <<EOF
$USER_LINE
worker_processes 1; daemon off; master_process off; pid $TMP/proxy.pid; error_log $TMP/proxy.err;
events { worker_connections 4096; }
http { access_log $TMP/nginx-access.log combined buffer=64k flush=1s;
  upstream o { server 127.0.0.1:$P1; server 127.0.0.1:$P2; keepalive 64; }
  server { listen 127.0.0.1:$NG; location / { proxy_pass http://o; proxy_http_version 1.1; proxy_set_header Connection "";
    proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for; } } }
EOF
cat > "$TMP/headwater.yaml" <<EOF
listeners:
  - address: 127.0.0.1:$HW
routes:
  - upstream: o
upstreams:
  o:
    servers:
      - address: 127.0.0.1:$P1
      - address: 127.0.0.1:$P2
access_log: { enabled: true, path: $TMP/headwater-access.log, format: ${LOG_FORMAT:-combined} }
EOF
nginx -c "$TMP/origin.conf" -p "$TMP" > /dev/null 2>&1 &
PIDS+=($!)

SIM=(--cache-sim=no)
[ -n "${CACHE:-}" ] && SIM=(--cache-sim=yes ${CACHE_GEOMETRY:---I1=32768,8,64 --D1=49152,12,64 --LL=2097152,16,64})

# count NAME PORT CMD...: prints instructions per request (with CACHE, also the cache model's line)
count() {
  local name=$1 port=$2; shift 2
  valgrind --tool=callgrind --instr-atstart=no "${SIM[@]}" --smc-check=all-non-file \
    --callgrind-out-file="$TMP/$name.cg" "$@" > "$TMP/$name.log" 2>&1 &
  local vp=$!
  PIDS+=($vp)
  for _ in $(seq 240); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.5; done
  h2load --h1 -n "$W" -c 50 -t 1 "http://127.0.0.1:$port/" > /dev/null
  callgrind_control -i on "$vp" > /dev/null 2>&1
  local out
  out=$(h2load --h1 -n "$N" -c 50 -t 1 "http://127.0.0.1:$port/" | grep -E '^requests:')
  callgrind_control -i off "$vp" > /dev/null 2>&1
  kill -TERM "$vp"; wait "$vp" 2> /dev/null || true
  grep -q " $N succeeded" <<< "$out" || { echo "instructions: $name: $out" >&2; exit 1; }
  if [ -n "${CACHE:-}" ]; then
    callgrind_annotate --show=Ir,I1mr,D1mr,D1mw,ILmr,DLmr,DLmw "$TMP/$name.cg" 2> /dev/null | grep 'PROGRAM TOTALS' | tr -d , |
      awk -v n="$N" '{ ir = $1 / n; i1 = $3 / n; d1 = ($5 + $7) / n; ll = ($9 + $11 + $13) / n;
        printf "%.0f   (L1i misses %.0f, L1d misses %.0f, L2 misses %.0f, estimated cycles %.0f)\n", ir, i1, d1, ll, ir / 3 + 10 * (i1 + d1) + 60 * ll }'
    return
  fi
  local total
  total=$(grep -oP 'Collected : \K\d+' "$TMP/$name.log")
  echo $(( total / N ))
}

hw=$(count headwater $HW node "$ROOT/dist/src/cli/main.js" run -c "$TMP/headwater.yaml")
ng=$(count nginx $NG nginx -c "$TMP/proxy.conf" -p "$TMP")
echo "instructions per request ($N requests after $W, 13 B, c50, user space):"
echo "  nginx      $ng"
echo "  headwater  $hw   ($(awk "BEGIN { printf \"%.2f\", ${hw%% *} / ${ng%% *} }")x nginx)"
if [ -n "${CACHE:-}" ]; then
  est() { grep -oP 'estimated cycles \K\d+' <<< "$1"; }
  echo "  estimated cycles: headwater $(awk "BEGIN { printf \"%.2f\", $(est "$hw") / $(est "$ng") }")x nginx"
fi
