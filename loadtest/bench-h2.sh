#!/usr/bin/env bash
# HTTP/2-over-TLS benchmark: Sluice vs nginx, one core each, h2load on the other core, side by side
# in one run (the baseline for the HTTP/2 performance round; see loadtest/README.md).
#
#   mvn -q -DskipTests package        # once: sluice.jar and the loadtest classes
#   loadtest/bench-h2.sh              # ROUNDS=3 x (Sluice, nginx) x REQUESTS requests
#
# Knobs: ROUNDS (3), REQUESTS per run (200000), CLIENTS (16), STREAMS per client (10), WARMUP
# requests (50000), JAVA. Needs nginx (with http_v2), h2load (nghttp2-client), openssl, taskset.
# Every process it starts is stopped on exit; raw h2load output goes to OUT (a new /tmp dir).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
JAR=$ROOT/controller/target/sluice.jar
CLASSES=$ROOT/loadtest/target/classes
JAVA=${JAVA:-java}
ROUNDS=${ROUNDS:-3}; REQUESTS=${REQUESTS:-200000}; CLIENTS=${CLIENTS:-16}; STREAMS=${STREAMS:-10}
WARMUP=${WARMUP:-50000}
OUT=${OUT:-$(mktemp -d /tmp/sluice-bench-h2.XXXXXX)}
[[ -f $JAR && -d $CLASSES/dev/sluice/loadtest ]] || { echo "build first: mvn -q -DskipTests package" >&2; exit 1; }
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
log() { echo "[bench-h2] $*" >&2; }

mkdir -p "$OUT/nginx/logs" "$OUT/nginx/tmp"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=bench.example.com" \
    -keyout "$OUT/key.pem" -out "$OUT/cert.pem" 2>/dev/null
sed -e "s#CERT#$OUT/cert.pem#" -e "s#KEY#$OUT/key.pem#" "$ROOT/loadtest/peers/nginx-h2.conf" >"$OUT/nginx.conf"

taskset -c 1 "$JAVA" -Xms256m -Xmx256m -XX:+UseSerialGC -cp "$JAR:$CLASSES" dev.sluice.loadtest.BenchBackend \
    18080 127.0.0.11 127.0.0.12 127.0.0.13 127.0.0.14 >"$OUT/backend.log" 2>&1 &
PIDS+=($!)
SLUICE_CMD=(taskset -c 0 "$JAVA" -Xms512m -Xmx512m -XX:+AlwaysPreTouch -XX:+UseSerialGC -jar "$JAR"
    --manifests "$ROOT/loadtest/manifests" --event-loops 1 --access-log off
    --http-port 0 --https-port 18444 --healthz-port 0)
"${SLUICE_CMD[@]}" >"$OUT/sluice.out" 2>&1 &
PIDS+=($!); SLUICE_PID=$!
taskset -c 0 nginx -p "$OUT/nginx/" -c "$OUT/nginx.conf" -g "pid $OUT/nginx/nginx.pid;" >"$OUT/nginx/stdout" 2>&1 &
PIDS+=($!); NGINX_PID=$!

declare -A PORT=([sluice]=18444 [nginx]=18443)
declare -A PID_OF=([sluice]=$SLUICE_PID [nginx]=$NGINX_PID)
for t in sluice nginx; do
    for _ in $(seq 100); do
        curl -sk --http2 -o /dev/null -w '%{http_code}' -H 'Host: bench.example.com' \
            "https://127.0.0.1:${PORT[$t]}/" 2>/dev/null | grep -q 200 && break
        sleep 0.2
    done
done
log "both answer over HTTP/2; raw results in $OUT"

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)
RESULTS=$OUT/results.tsv
printf 'round\ttarget\treq_s\tcpu_us_per_req\tfailed\n' >"$RESULTS"
h2() { taskset -c 1 h2load -n "$1" -c "$CLIENTS" -m "$STREAMS" -H ':authority: bench.example.com' \
    "https://127.0.0.1:$2/"; }
for t in sluice nginx; do h2 "$WARMUP" "${PORT[$t]}" >/dev/null; done
for round in $(seq "$ROUNDS"); do
    order=(sluice nginx); ((round % 2 == 0)) && order=(nginx sluice)
    for t in "${order[@]}"; do
        t0=$(cpu_ticks "${PID_OF[$t]}")
        out=$(h2 "$REQUESTS" "${PORT[$t]}")
        t1=$(cpu_ticks "${PID_OF[$t]}")
        echo "$out" >"$OUT/h2load-$round-$t.txt"
        rps=$(awk '/^finished in/ { gsub(",", ""); print $4 }' <<<"$out")
        ok=$(awk '/^requests:/ { print $8 }' <<<"$out")
        failed=$(awk '/^requests:/ { print $10 }' <<<"$out")
        cpu=$(awk -v d=$((t1 - t0)) -v hz="$HZ" -v n="$ok" 'BEGIN { printf "%.1f", (n > 0 ? d * 1e6 / hz / n : 0) }')
        printf '%s\t%s\t%s\t%s\t%s\n' "$round" "$t" "$rps" "$cpu" "$failed" >>"$RESULTS"
        log "round $round $t: $rps req/s, $cpu us CPU/req, failed $failed"
    done
done
python3 - "$RESULTS" <<'PY' | tee "$OUT/summary.md"
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
med = lambda t, k: statistics.median(float(r[k]) for r in rows if r["target"] == t)
print("| target | req/s (median) | proxy CPU µs/req | failed |")
print("|---|---|---|---|")
for t in ("sluice", "nginx"):
    print(f"| {t} | {med(t, 'req_s'):.0f} | {med(t, 'cpu_us_per_req'):.1f} | "
          f"{sum(int(r['failed'] or 0) for r in rows if r['target'] == t)} |")
print()
print(f"Sluice/nginx: req/s {med('sluice', 'req_s') / med('nginx', 'req_s'):.2f}, "
      f"CPU per request {med('sluice', 'cpu_us_per_req') / med('nginx', 'cpu_us_per_req'):.2f}")
PY
