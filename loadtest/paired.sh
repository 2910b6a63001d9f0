#!/usr/bin/env bash
# Paired before/after: two Sluice builds run at the same time, both pinned to CPU 0, each under its own
# wrk on CPU 1 (with the backend), and each window compares their CPU time per request over the same
# seconds. On a VM whose speed drifts between runs (this one: up to 35 % between two runs of the same
# build) this shows differences of a few percent that side-by-side runs cannot.
#
#   A_JAR=before.jar B_JAR=after.jar loadtest/paired.sh
#   A_JAR=controller/target/sluice.jar B_NGINX=1 loadtest/paired.sh   # B is nginx (peers/nginx.conf)
#
# With B_NGINX=1 the B side is nginx with the configuration bench.sh uses (one process, so its
# /proc/PID/stat is the worker's CPU time), listening on 18001: the CPU-per-request comparison with
# nginx under the same moment-to-moment machine speed, which side-by-side runs cannot give here.
#
# Knobs (environment): A_EXTRA / B_EXTRA (JVM flags of each, e.g. "-XX:-UseSerialGC -XX:+UseZGC"),
# A_JAVA / B_JAVA (java binary of each, default java: the same jar on two JDKs), A_ARGS / B_ARGS
# (Sluice flags of each, e.g. "--transport io_uring"), C (wrk connections each, default 32),
# WINDOWS (default 8), DUR (s per window, default 10), WRK_ARGS (e.g. "-s loadtest/peers/post-64k.lua"
# for uploads). Prints one line per window: req/s and CPU µs per request (user, system) of each, B/A,
# and with SYSCALLS=1, where perf can trace (its raw_syscalls:sys_enter tracepoint on each process),
# system calls per request of each; then the median of the windows after the first (JIT warm-up) with
# their range. SYSCALLS is off by default: counting costs each traced call a little CPU, so it
# charges the side that makes more system calls (nginx: ~6 per request, Sluice ~1) with more.
# Stops what it started.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CLASSES=$ROOT/loadtest/target/classes
C=${C:-32}; WINDOWS=${WINDOWS:-8}; DUR=${DUR:-10}
: "${A_JAR:?A_JAR=path/to/sluice.jar}"
[[ ${B_NGINX:-0} == 1 ]] || : "${B_JAR:?B_JAR=path/to/sluice.jar (or B_NGINX=1)}"
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null; wait 2>/dev/null' EXIT
LOGS=$(mktemp -d)
taskset -c 1 java -Xms256m -Xmx256m -XX:+UseSerialGC -Dio.netty.leakDetection.level=disabled \
    -cp "$A_JAR:$CLASSES" dev.sluice.loadtest.BenchBackend 18080 127.0.0.11 127.0.0.12 127.0.0.13 127.0.0.14 \
    >"$LOGS/backend.log" 2>&1 &
PIDS+=($!)
start() { # jar port jvm-flags sluice-flags java
    taskset -c 0 "$5" -Xms512m -Xmx512m -XX:+AlwaysPreTouch -XX:+UseSerialGC $3 -jar "$1" \
        --manifests "$ROOT/loadtest/manifests" --event-loops 1 --access-log off --http-port "$2" \
        --https-port 0 --healthz-port 0 $4 >"$LOGS/sluice-$2.log" 2>&1 &
    PIDS+=($!)
}
start "$A_JAR" 18003 "${A_EXTRA:-}" "${A_ARGS:-}" "${A_JAVA:-java}"; A_PID=${PIDS[-1]}
if [[ ${B_NGINX:-0} == 1 ]]; then
    B_PORT=18001
    mkdir -p "$LOGS/nginx/logs" "$LOGS/nginx/tmp"
    taskset -c 0 nginx -p "$LOGS/nginx/" -c "$ROOT/loadtest/peers/nginx.conf" -e "$LOGS/nginx/logs/error.log" \
        -g "pid $LOGS/nginx/nginx.pid;" >"$LOGS/nginx/stdout" 2>&1 &
    PIDS+=($!)
else
    B_PORT=18005
    start "$B_JAR" $B_PORT "${B_EXTRA:-}" "${B_ARGS:-}" "${B_JAVA:-java}"
fi
B_PID=${PIDS[-1]}
for port in 18003 $B_PORT; do
    for _ in $(seq 1 150); do
        [[ $(curl -s -o /dev/null -w '%{http_code}' -H 'Host: bench.example.com' "http://127.0.0.1:$port/") == 200 ]] && break
        sleep 0.2
    done
done
kill -0 "$A_PID" && kill -0 "$B_PID" || { echo "A or B did not start: $LOGS" >&2; exit 1; }
load() { taskset -c 1 wrk -t1 -c"$C" -d"$1"s ${WRK_ARGS:-} -H 'Host: bench.example.com' "http://127.0.0.1:$2/"; }
cpu() { awk '{print $14, $15}' "/proc/$1/stat"; }
load 15 18003 >/dev/null & w=$!; load 15 $B_PORT >/dev/null; wait $w
PERF=0
[[ ${SYSCALLS:-0} == 1 ]] && perf stat -e raw_syscalls:sys_enter -o /dev/null -- true >/dev/null 2>&1 && PERF=1
PERFS=()
syscalls() { # pid file: count the process's system calls into file until stopped with INT
    ((PERF)) || return 0
    perf stat -x, -e raw_syscalls:sys_enter -p "$1" -o "$2" >/dev/null 2>&1 &
    PERFS+=($!)
}
stopped() { # file: the count perf wrote, or - without perf
    awk -F, '/raw_syscalls/ { n = $1 } END { print (n == "" ? "-" : n) }' "$1" 2>/dev/null || echo -
}
for n in $(seq 1 "$WINDOWS"); do
    rm -f "$LOGS/sa" "$LOGS/sb"; syscalls "$A_PID" "$LOGS/sa"; syscalls "$B_PID" "$LOGS/sb"
    a0=$(cpu "$A_PID"); b0=$(cpu "$B_PID")
    load "$DUR" 18003 >"$LOGS/wa" & w=$!; load "$DUR" $B_PORT >"$LOGS/wb"; wait $w
    a1=$(cpu "$A_PID"); b1=$(cpu "$B_PID")
    if ((${#PERFS[@]})); then kill -INT "${PERFS[@]}" 2>/dev/null; wait "${PERFS[@]}" 2>/dev/null; PERFS=(); fi
    ra=$(awk '/requests in/{print $1}' "$LOGS/wa"); rb=$(awk '/requests in/{print $1}' "$LOGS/wb")
    python3 - "$n" "$a0" "$a1" "$b0" "$b1" "$ra" "$rb" "$DUR" "$(stopped "$LOGS/sa")" "$(stopped "$LOGS/sb")" <<'PY' | tee -a "$LOGS/windows"
import os, sys
n, a0, a1, b0, b1, ra, rb, dur, sa_, sb_ = sys.argv[1:]
hz = os.sysconf('SC_CLK_TCK')
def per(t0, t1, r):
    u0, s0 = map(int, t0.split()); u1, s1 = map(int, t1.split())
    return (u1 - u0) / hz * 1e6 / int(r), (s1 - s0) / hz * 1e6 / int(r)
ua, sa = per(a0, a1, ra); ub, sb = per(b0, b1, rb)
calls = '' if '-' in (sa_, sb_) else ' | syscalls/req A %.2f B %.2f' % (int(sa_) / int(ra), int(sb_) / int(rb))
print('w%s A %6.0f req/s %5.2f us/req (u %5.2f s %5.2f) | B %6.0f req/s %5.2f us/req (u %5.2f s %5.2f) | B/A cpu %.3f user %.3f%s'
      % (n, int(ra) / int(dur), ua + sa, ua, sa, int(rb) / int(dur), ub + sb, ub, sb, (ub + sb) / (ua + sa), ub / ua, calls))
PY
done
python3 - "$LOGS/windows" <<'PY'
import re, statistics, sys
rows = [l for l in open(sys.argv[1]) if l.startswith('w')][1:]  # the first window is still JIT warm-up
if not rows:
    sys.exit()
def col(pattern):
    return [float(m.group(1)) for m in (re.search(pattern, l) for l in rows) if m]
def show(name, v):
    return '%s %.3f (%.3f-%.3f)' % (name, statistics.median(v), min(v), max(v)) if v else ''
calls = col(r'syscalls/req A ([\d.]+)')
print('median of windows 2-%d: %s, %s%s' % (len(rows) + 1,
      show('B/A cpu', col(r'B/A cpu ([\d.]+)')), show('user', col(r'user ([\d.]+)(?: \||$)')),
      '; %s, %s' % (show('syscalls/req A', calls), show('B', col(r'syscalls/req A [\d.]+ B ([\d.]+)'))) if calls else ''))
PY
