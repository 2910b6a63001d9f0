#!/usr/bin/env bash
# New-connection bursts: a freshly started Sluice (CPU 0), then N consecutive wrk runs ("windows")
# of DURATION s at CONNS connections (each opens its connections anew, as every bench.sh point
# does), printing per window req/s and latency percentiles up to p99.9, plus how many connections
# waited in the listening socket's accept queue, sampled every 100 ms over the first 3 s.
#
#   mvn -q -DskipTests package
#   JAR=controller/target/sluice.jar CONNS=256 WINDOWS=3 loadtest/windows.sh
#
# The backends (BenchBackend on 127.0.0.11-14:18080, CPU 1) are started and warmed first, so
# that only Sluice is cold. Every process it starts is killed on exit.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
JAR=${JAR:-$ROOT/controller/target/sluice.jar}
CLASSES=$ROOT/loadtest/target/classes
CONNS=${CONNS:-256}; WINDOWS=${WINDOWS:-3}; DURATION=${DURATION:-10}; PORT=${PORT:-18003}
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done' EXIT
if ss -Htln "( sport = :$PORT or sport = :18080 )" | grep -q .; then
    echo "port $PORT or 18080 is in use: stop what listens there first" >&2; exit 1
fi
taskset -c 1 java -Xms256m -Xmx256m -XX:+UseSerialGC -Dio.netty.leakDetection.level=disabled -cp "$JAR:$CLASSES" \
    dev.sluice.loadtest.BenchBackend 18080 127.0.0.11 127.0.0.12 127.0.0.13 127.0.0.14 >/dev/null 2>&1 &
PIDS+=($!)
until curl -s -o /dev/null http://127.0.0.11:18080/; do sleep 0.2; done
taskset -c 1 wrk -t1 -c"$CONNS" -d10s http://127.0.0.11:18080/ >/dev/null   # warm the backend only
taskset -c 0 java -Xms512m -Xmx512m -XX:+AlwaysPreTouch -XX:+UseSerialGC -jar "$JAR" \
    --manifests "$ROOT/loadtest/manifests" --event-loops 1 --access-log off --http-port "$PORT" \
    --https-port 0 --healthz-port 0 >/dev/null 2>&1 &
SLUICE=$!; PIDS+=($SLUICE)
until curl -s -o /dev/null -H 'Host: bench.example.com' "http://127.0.0.1:$PORT/"; do sleep 0.2; done
kill -0 "$SLUICE" || { echo "Sluice did not start" >&2; exit 1; }
for i in $(seq 1 "$WINDOWS"); do
    ( sleep 0.05; q=""; for _ in $(seq 1 30); do
        q+="$(ss -Htln "( sport = :$PORT )" | awk '{print $2}') "; sleep 0.1; done; echo "$q" >"/tmp/accept-queue.$$" ) &
    sampler=$!
    out=$(taskset -c 1 wrk -t1 -c"$CONNS" -d"${DURATION}s" -s "$ROOT/loadtest/peers/percentiles.lua" \
        -H 'Host: bench.example.com' "http://127.0.0.1:$PORT/")
    wait "$sampler"
    echo "window $i: $(awk '/Requests\/sec/{print $2}' <<<"$out") req/s $(tail -1 <<<"$out")"
    echo "  accept queue every 100 ms: $(cat "/tmp/accept-queue.$$")"
done
rm -f "/tmp/accept-queue.$$"
