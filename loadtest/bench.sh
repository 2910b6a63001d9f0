#!/usr/bin/env bash
# Data-plane benchmark: Sluice vs nginx vs haproxy on this machine, side by side, as ratios.
#
#   mvn -q -DskipTests package      # once: builds controller/target/sluice.jar and loadtest classes
#   loadtest/bench.sh               # ~11 min: 3 interleaved rounds x {16,64} connections x 15 s
#   QUICK=1 loadtest/bench.sh       # smoke run (~1.5 min): numbers mean nothing
#
# Layout (see the benchmarking guide): every proxy runs on CPU 0 with one worker / thread /
# event loop; wrk and the four backends (BenchBackend on 127.0.0.11-14:18080) share CPU 1.
# All three proxies stay up for the whole run (idle ones cost nothing measurable) and are
# measured in turn, rotating the order each round. Per run it records wrk's req/s, p50, p99 and
# errors, the proxy's CPU time per request (utime+stime from /proc/PID/stat over the run divided
# by the requests wrk counted; utime alone too) and mpstat's busy % of CPU 0 and CPU 1. Two baselines each round:
# the backend process itself on CPU 1 (the load side's own ceiling) and a second backend on CPU 0
# (the limit of one keep-alive hop). At the end it prints a Markdown table of medians and ratios.
#
# Scenarios (SCENARIOS, default "small large upload rate"): small = GET of a 128-byte body at each
# of CONNS; large = GET of a 1 MiB body (BenchBackend's /large) at 16 connections, with the proxy's
# RSS before and after; upload = POST of a 64 KiB body (wrk script peers/post-64k.lua) at 16
# connections; rate = FixedRateLoad (loadtest's fixed-rate generator, no coordinated omission) at
# RATE req/s over 64 connections — default half of nginx's median small-GET req/s at 64 connections
# measured earlier in the same run — reporting p50/p99/p99.9 and CPU per request, with the same load
# sent straight to the backend, no proxy, as floors of the tail: on CPU 0 (backend-cpu0: the load
# generator and the VM alone) and on CPU 1 (backend-cpu1: everything a proxied run puts on CPU 1).
# Knobs (environment): BASELINE_JAR=path/to/other/sluice.jar adds that build as a fourth target
# ("sluice-baseline", same flags, port 18005) so a change is measured before/after in one run;
# BASELINE_ARGS adds Sluice flags to that target only (e.g. BASELINE_JAR=controller/target/sluice.jar
# BASELINE_ARGS="--transport epoll": one build, two transports); JVM_LOG=1 writes the collections
# and safepoints of each Sluice and backend, with wall-clock times, to OUT/NAME-jvm.log (sluice,
# sluice-baseline, backend-cpu0, backend-cpu1), and of each fixed-rate generator with its JIT
# compilations to OUT/load-ROUND-TARGET-jvm.log (to tell a stall of one JVM from one of the
# machine); SYS_LOG=1 records the machine once a second for the whole run: OUT/mpstat.txt
# (mpstat -P ALL 1) and OUT/nstat.txt (TCP retransmission, timeout, loss-probe and listen-drop
# counters), to line up with the seconds FixedRateLoad names as slow;
# NGINX_BUFFERED=1 adds nginx with proxy_buffering on (its default; ingress-nginx
# turns it off) as a fourth target, ROUNDS, DURATION (s per run), WARMUP (s per proxy, same for all),
# CONNS ("16 64"), QUIET_BUSY (max % busy per CPU before a point, else wait; default 15),
# JAVA (java binary), OUT (directory for raw results; default a new /tmp/sluice-bench.*).
# Installs and builds nothing; every process it starts is stopped by PID on exit.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
JAR=$ROOT/controller/target/sluice.jar
CLASSES=$ROOT/loadtest/target/classes
JAVA=${JAVA:-java}

if [[ ${QUICK:-0} == 1 ]]; then
    ROUNDS=${ROUNDS:-1}; DURATION=${DURATION:-3}; WARMUP=${WARMUP:-4}; QUIET_BUSY=${QUIET_BUSY:-100}
else
    ROUNDS=${ROUNDS:-3}; DURATION=${DURATION:-15}; WARMUP=${WARMUP:-30}
fi
CONNS=${CONNS:-"16 64 256"}
SCENARIOS=${SCENARIOS:-"small large upload rate"}
QUIET_BUSY=${QUIET_BUSY:-15}
HOST=bench.example.com
BACKEND_PORT=18080
NGINX_PORT=18001
HAPROXY_PORT=18002
SLUICE_PORT=18003
SOLO_ADDR=127.0.0.15          # the baseline backend on CPU 0

export PATH=$PATH:/usr/sbin
missing=()
for tool in nginx haproxy wrk mpstat taskset curl python3 "$JAVA"; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if ((${#missing[@]})); then
    echo "missing: ${missing[*]}" >&2
    echo "install with: sudo apt-get install -y nginx haproxy wrk sysstat curl python3 openjdk-17-jre-headless" >&2
    exit 1
fi
if [[ ! -f $JAR || ! -d $CLASSES/dev/sluice/loadtest ]]; then
    echo "build first: (cd $ROOT && mvn -q -DskipTests package)" >&2
    exit 1
fi
if (($(nproc) < 2)); then
    echo "needs 2 CPUs (proxy on CPU 0, load and backends on CPU 1)" >&2
    exit 1
fi

OUT=${OUT:-$(mktemp -d /tmp/sluice-bench.XXXXXX)}
mkdir -p "$OUT/nginx/logs" "$OUT/nginx/tmp"
RESULTS=$OUT/results.tsv
printf 'round\tscenario\ttarget\tconns\treq_s\tp50_ms\tp99_ms\tcpu_us_per_req\terrors\tnon2xx\tcpu0_busy\tcpu1_busy\tbusy_before\trss_kb\tuser_us_per_req\n' >"$RESULTS"
RATE_RESULTS=$OUT/rate.tsv
printf 'round\ttarget\trate\tsent\tok\terrors\tp50_ms\tp90_ms\tp99_ms\tp999_ms\tmax_ms\tcpu_us_per_req\tlag_max_ms\tdrain_ms\n' >"$RATE_RESULTS"

PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }

# waits until URL answers 200 (with the bench Host header)
await() {
    local url=$1 name=$2
    for _ in $(seq 1 300); do
        if [[ $(curl -s -o /dev/null -w '%{http_code}' -H "Host: $HOST" "$url" || true) == 200 ]]; then
            return 0
        fi
        sleep 0.1
    done
    echo "$name did not answer 200 at $url; logs in $OUT" >&2
    exit 1
}

# checks that URL answers 200 with the backend's 128-byte body
check_body() {
    local url=$1 name=$2 size
    size=$(curl -s -o /dev/null -w '%{http_code} %{size_download}' -H "Host: $HOST" "$url")
    [[ $size == "200 128" ]] || { echo "$name answered '$size' (want '200 128')" >&2; exit 1; }
}

# jvm_log NAME [TAGS]: with JVM_LOG=1, the -Xlog option writing TAGS (default gc,safepoint) with
# wall-clock times to OUT/NAME-jvm.log
jvm_log() { [[ ${JVM_LOG:-0} == 1 ]] && echo "-Xlog:${2:-gc,safepoint}:file=$OUT/$1-jvm.log:time,uptime" || true; }
BACKEND_JVM=(-Xms256m -Xmx256m -XX:+UseSerialGC -XX:+AlwaysPreTouch -Dio.netty.leakDetection.level=disabled
    -cp "$JAR:$CLASSES" dev.sluice.loadtest.BenchBackend)

log "raw results in $OUT"
if [[ ${SYS_LOG:-0} == 1 ]]; then
    command -v nstat >/dev/null || { echo "SYS_LOG=1 needs nstat (iproute2)" >&2; exit 1; }
    mpstat -P ALL 1 >"$OUT/mpstat.txt" &
    PIDS+=($!)
    while sleep 1; do
        echo "$(date +%T) $(nstat -az TcpRetransSegs TcpExtTCPTimeouts TcpExtTCPLossProbes TcpExtTCPSpuriousRTOs \
            TcpExtListenOverflows TcpExtListenDrops TcpExtTCPSynRetrans | awk 'NR > 1 { printf "%s=%s ", $1, $2 }')"
    done >"$OUT/nstat.txt" &
    PIDS+=($!)
fi
taskset -c 1 "$JAVA" $(jvm_log backend-cpu1) "${BACKEND_JVM[@]}" $BACKEND_PORT 127.0.0.11 127.0.0.12 127.0.0.13 127.0.0.14 \
    >"$OUT/backend.log" 2>&1 &
PIDS+=($!); BACKEND_PID=$!
taskset -c 0 "$JAVA" $(jvm_log backend-cpu0) "${BACKEND_JVM[@]}" $BACKEND_PORT $SOLO_ADDR >"$OUT/backend-cpu0.log" 2>&1 &
PIDS+=($!); SOLO_PID=$!

# Sluice: one event loop on one CPU. SerialGC: under taskset -c 0 the JVM sees one CPU, where
# Parallel GC would run one GC thread anyway (plus its coordination); Serial is also what the
# JVM picks by itself for one CPU. Fixed heap, pre-touched, so no resizing or page faults mid-run.
SLUICE_CMD=(taskset -c 0 "$JAVA" -Xms512m -Xmx512m -XX:+AlwaysPreTouch -XX:+UseSerialGC $(jvm_log sluice)
    -jar "$JAR" --manifests "$ROOT/loadtest/manifests" --event-loops 1 --access-log off
    --http-port $SLUICE_PORT --https-port 0 --healthz-port 0)
"${SLUICE_CMD[@]}" >"$OUT/sluice.out" 2>"$OUT/sluice.err" &
PIDS+=($!); SLUICE_PID=$!

BASELINE_PID=
if [[ -n ${BASELINE_JAR:-} ]]; then
    BASELINE_CMD=(taskset -c 0 "$JAVA" -Xms512m -Xmx512m -XX:+AlwaysPreTouch -XX:+UseSerialGC $(jvm_log sluice-baseline)
        -jar "$BASELINE_JAR" --manifests "$ROOT/loadtest/manifests" --event-loops 1 --access-log off
        --http-port 18005 --https-port 0 --healthz-port 0 ${BASELINE_ARGS:-})
    "${BASELINE_CMD[@]}" >"$OUT/sluice-baseline.out" 2>"$OUT/sluice-baseline.err" &
    PIDS+=($!); BASELINE_PID=$!
fi

NGINX_CMD=(taskset -c 0 nginx -p "$OUT/nginx/" -c "$ROOT/loadtest/peers/nginx.conf" -e "$OUT/nginx/logs/error.log"
    -g "pid $OUT/nginx/nginx.pid;")
"${NGINX_CMD[@]}" >"$OUT/nginx/stdout" 2>&1 &
PIDS+=($!); NGINX_PID=$!

HAPROXY_CMD=(taskset -c 0 haproxy -db -f "$ROOT/loadtest/peers/haproxy.cfg")
"${HAPROXY_CMD[@]}" >"$OUT/haproxy.log" 2>&1 &
PIDS+=($!); HAPROXY_PID=$!

declare -A URL=(
    [backend-cpu1]=http://127.0.0.11:$BACKEND_PORT/
    [backend-cpu0]=http://$SOLO_ADDR:$BACKEND_PORT/
    [sluice]=http://127.0.0.1:$SLUICE_PORT/
    [nginx]=http://127.0.0.1:$NGINX_PORT/
    [haproxy]=http://127.0.0.1:$HAPROXY_PORT/
    [nginx-buffered]=http://127.0.0.1:18004/
    [sluice-baseline]=http://127.0.0.1:18005/
)
declare -A PID_OF=(
    [backend-cpu1]=$BACKEND_PID [backend-cpu0]=$SOLO_PID
    [sluice]=$SLUICE_PID [nginx]=$NGINX_PID [haproxy]=$HAPROXY_PID [nginx-buffered]=$NGINX_PID
    [sluice-baseline]=$BASELINE_PID
)
for t in backend-cpu1 backend-cpu0 sluice nginx haproxy nginx-buffered ${BASELINE_PID:+sluice-baseline}; do
    await "${URL[$t]}" "$t"
    check_body "${URL[$t]}" "$t"
done
log "all targets answer 200 with 128 bytes"

# utime+stime of PID in clock ticks
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
user_ticks() { awk '{ print $14 }' "/proc/$1/stat"; }
CLK_TCK=$(getconf CLK_TCK)

# busy % of CPU 0 and CPU 1 over N seconds: "b0 b1". iowait counts as idle: an io_uring event loop waiting
# for completions (Sluice's default transport) shows as iowait on its CPU although that CPU is free
busy() {
    LC_ALL=C mpstat -P 0,1 "$1" 1 | awk '/^Average:/ && ($2 == "0" || $2 == "1") { printf "%.0f ", 100 - $NF - $6 }'
}

# waits (a little) for a quiet machine; prints the busy % seen
await_quiet() {
    local b
    for _ in 1 2 3 4 5 6; do
        b=$(busy 1)
        # shellcheck disable=SC2086
        set -- $b
        if (($1 <= QUIET_BUSY && $2 <= QUIET_BUSY)); then
            echo "$1/$2"; return 0
        fi
        log "machine busy (cpu0 $1%, cpu1 $2%) before a point; waiting"
        sleep 5
    done
    echo "$1/$2!"   # measured anyway, flagged
}

# wrk's latency value (e.g. 812.00us, 1.20ms, 1.01s) in ms
to_ms() {
    awk -v v="$1" 'BEGIN { n = v + 0; u = v; sub(/^[0-9.]+/, "", u);
        if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000;
        printf "%.3f", n }'
}

# the URL suffix and wrk arguments of a scenario
scenario_path() { case $1 in large) echo large ;; *) echo "" ;; esac; }
scenario_args() { case $1 in upload) echo "-s $ROOT/loadtest/peers/post-64k.lua" ;; *) echo "" ;; esac; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# run ROUND SCENARIO TARGET CONNS DURATION [record]
run() {
    local round=$1 scenario=$2 target=$3 conns=$4 secs=$5 record=${6:-yes}
    local pid=${PID_OF[$target]} quiet t0 t1 u0 u1 out busy_during reqs rps p50 p99 errors non2xx cpu_us user_us rss
    quiet=$(await_quiet)
    busy "$secs" >"$OUT/busy.tmp" &
    local mp=$!
    t0=$(cpu_ticks "$pid") u0=$(user_ticks "$pid")
    # shellcheck disable=SC2046
    out=$(taskset -c 1 wrk -t1 -c"$conns" -d"${secs}s" --latency $(scenario_args "$scenario") -H "Host: $HOST" \
        "${URL[$target]}$(scenario_path "$scenario")")
    t1=$(cpu_ticks "$pid") u1=$(user_ticks "$pid")
    rss=$(rss_kb "$pid")
    wait $mp || true
    busy_during=$(cat "$OUT/busy.tmp")
    [[ $record == yes ]] || return 0
    echo "$out" >"$OUT/wrk-$round-$scenario-$target-$conns.txt"
    reqs=$(awk '/requests in/ { print $1 }' <<<"$out")
    rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<<"$out")
    p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' <<<"$out")")
    p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' <<<"$out")")
    errors=$(awk '/Socket errors:/ { gsub(",", ""); print $4 + $6 + $8 + $10 }' <<<"$out")
    non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $5 }' <<<"$out")
    cpu_us=$(awk -v d=$((t1 - t0)) -v hz="$CLK_TCK" -v n="$reqs" 'BEGIN { printf "%.1f", (n > 0 ? d * 1e6 / hz / n : 0) }')
    user_us=$(awk -v d=$((u1 - u0)) -v hz="$CLK_TCK" -v n="$reqs" 'BEGIN { printf "%.1f", (n > 0 ? d * 1e6 / hz / n : 0) }')
    # shellcheck disable=SC2086
    set -- $busy_during
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$scenario" "$target" "$conns" "$rps" \
        "$p50" "$p99" "$cpu_us" "${errors:-0}" "${non2xx:-0}" "${1:-?}" "${2:-?}" "$quiet" "$rss" "$user_us" >>"$RESULTS"
    log "round $round $scenario $target c=$conns: $rps req/s p50 ${p50} ms p99 ${p99} ms ${cpu_us} us/req (user ${user_us}) cpu0 ${1:-?}% cpu1 ${2:-?}% (before: $quiet) errors ${errors:-0} non2xx ${non2xx:-0} rss ${rss} kB"
}

# run_rate ROUND TARGET RATE DURATION: FixedRateLoad on CPU 1, 64 connections, 5 s of its own warm-up
# (unrecorded; the recording starts once the warm-up's requests are all answered, see drain_ms)
run_rate() {
    local round=$1 target=$2 rate=$3 secs=$4
    local pid=${PID_OF[$target]} t0 t1 out cpu_us
    await_quiet >/dev/null
    t0=$(cpu_ticks "$pid")
    out=$(taskset -c 1 "$JAVA" -Xms128m -Xmx128m -XX:+UseSerialGC -XX:+AlwaysPreTouch $(jvm_log "load-$round-$target" gc,safepoint,jit+compilation=debug) \
        -cp "$JAR:$CLASSES" dev.sluice.loadtest.FixedRateLoad \
        "${URL[$target]}" "$HOST" "$rate" "$secs" 64 5)
    t1=$(cpu_ticks "$pid")
    echo "$out" >"$OUT/rate-$round-$target.txt"
    # rate=… sent=… ok=… errors=… p50_ms=… p90_ms=… p99_ms=… p999_ms=… max_ms=… lag_max_ms=… drain_ms=… [slow_conns=…]
    local -A v=()
    local kv
    for kv in $out; do v[${kv%%=*}]=${kv#*=}; done
    cpu_us=$(awk -v d=$((t1 - t0)) -v hz="$CLK_TCK" -v n="${v[ok]}" -v s="$secs" 'BEGIN { printf "%.1f", (n > 0 ? d * 1e6 / hz / (n * (s + 5) / s) : 0) }')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$target" "$rate" "${v[sent]}" "${v[ok]}" \
        "${v[errors]}" "${v[p50_ms]}" "${v[p90_ms]}" "${v[p99_ms]}" "${v[p999_ms]}" "${v[max_ms]}" "$cpu_us" \
        "${v[lag_max_ms]:-}" "${v[drain_ms]:-}" >>"$RATE_RESULTS"
    log "round $round rate $target: $out cpu ${cpu_us} us/req"
}

log "warm-up: ${WARMUP} s of 64 connections per target (same for all)"
for t in sluice ${BASELINE_PID:+sluice-baseline} nginx haproxy backend-cpu0; do
    run 0 small "$t" 64 "$WARMUP" no
done

has() { [[ " $SCENARIOS " == *" $1 "* ]]; }
PROXIES=(sluice nginx haproxy)
[[ ${NGINX_BUFFERED:-0} == 1 ]] && PROXIES+=(nginx-buffered)
[[ -n $BASELINE_PID ]] && PROXIES+=(sluice-baseline)
for round in $(seq 1 "$ROUNDS"); do
    # rotate the proxies' order each round: S N H, N H S, H S N
    k=$(((round - 1) % ${#PROXIES[@]}))
    order=("${PROXIES[@]:k}" "${PROXIES[@]:0:k}")
    if has small; then
        for conns in $CONNS; do
            for t in backend-cpu1 backend-cpu0 "${order[@]}"; do
                run "$round" small "$t" "$conns" "$DURATION"
            done
        done
    fi
    for scenario in large upload; do
        has $scenario || continue
        for t in "${order[@]}"; do
            run "$round" "$scenario" "$t" 16 "$DURATION"
        done
    done
done
if has rate; then
    if [[ -z ${RATE:-} ]]; then
        RATE=$(awk -F'\t' '$2 == "small" && $3 == "nginx" && $4 == 64 { print $5 }' "$RESULTS" | sort -n \
            | awk '{ v[NR] = $1 } END { if (NR) printf "%d", v[int((NR + 1) / 2)] / 2 }')
        RATE=${RATE:-10000}
    fi
    log "fixed rate: $RATE req/s"
    for round in $(seq 1 "$ROUNDS"); do
        k=$(((round - 1) % ${#PROXIES[@]}))
        order=("${PROXIES[@]:k}" "${PROXIES[@]:0:k}")
        # first the same load with no proxy: straight to the backend on CPU 0 (the tail the load
        # generator and the VM give anyway), then to the backend on CPU 1 (the load side's whole
        # CPU 1 work of a proxied run, on the one CPU: the tail CPU 1 gives without a proxy)
        for t in backend-cpu0 backend-cpu1 "${order[@]}"; do
            run_rate "$round" "$t" "$RATE" "$DURATION"
        done
    done
fi

{
    echo
    echo "Machine: $(nproc) CPUs, $(LC_ALL=C lscpu | awk -F': *' '/^Model name/ { print $2 }'), $(uname -r)"
    echo "Versions: $(nginx -v 2>&1); $(haproxy -v 2>&1 | head -1); $("$JAVA" -version 2>&1 | head -1);" \
        "Sluice $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD 2>/dev/null || echo ' (modified)')"
    echo "Command: ${0##*/} with ROUNDS=$ROUNDS DURATION=$DURATION WARMUP=$WARMUP CONNS=\"$CONNS\" SCENARIOS=\"$SCENARIOS\" RATE=${RATE:-} NGINX_BUFFERED=${NGINX_BUFFERED:-0}"
    echo "Sluice: ${SLUICE_CMD[*]}"
    [[ -n $BASELINE_PID ]] && echo "Baseline: ${BASELINE_CMD[*]}"
    echo
    echo "## Results ($(date -u +%FT%TZ), $ROUNDS rounds x ${DURATION} s, warm-up ${WARMUP} s per target)"
    echo
    python3 - "$RESULTS" "$RATE_RESULTS" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
rate_rows = list(csv.DictReader(open(sys.argv[2]), delimiter="\t"))
def vals(s, t, c, k):
    return [float(r[k]) for r in rows if r["scenario"] == s and r["target"] == t and r["conns"] == c and r[k] not in ("", "?")]
def med(s, t, c, k):
    v = vals(s, t, c, k)
    return statistics.median(v) if v else float("nan")
def spread(s, t, c, k):
    v = vals(s, t, c, k)
    return f"{min(v):.0f}–{max(v):.0f}" if v else "?"
TARGETS = ["sluice", "sluice-baseline", "nginx", "haproxy", "nginx-buffered", "backend-cpu0", "backend-cpu1"]
present = [t for t in TARGETS if any(r["target"] == t for r in rows + rate_rows)]
for s in ["small", "large", "upload"]:
    conns = sorted({r["conns"] for r in rows if r["scenario"] == s}, key=int)
    if not conns:
        continue
    print(f"### {s}")
    print()
    print("| target | conns | req/s (median) | req/s range | p50 ms | p99 ms | proxy CPU µs/req (user) | CPU0 / CPU1 busy % | proxy RSS MiB | errors |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for c in conns:
        for t in present:
            if not vals(s, t, c, "req_s"):
                continue
            errs = sum(int(r["errors"]) + int(r["non2xx"]) for r in rows if r["scenario"] == s and r["target"] == t and r["conns"] == c)
            cpu = med(s, t, c, "cpu_us_per_req")
            cpu_s = f"{cpu:.1f} ({med(s, t, c, 'user_us_per_req'):.1f})" if t != "backend-cpu1" else f"({cpu:.1f})"
            print(f"| {t} | {c} | {med(s, t, c, 'req_s'):.0f} | {spread(s, t, c, 'req_s')} | {med(s, t, c, 'p50_ms'):.2f} | "
                  f"{med(s, t, c, 'p99_ms'):.2f} | {cpu_s} | {med(s, t, c, 'cpu0_busy'):.0f} / {med(s, t, c, 'cpu1_busy'):.0f} | "
                  f"{med(s, t, c, 'rss_kb') / 1024:.0f} | {errs} |")
    print()
    print("| conns | Sluice/nginx req/s | Sluice/haproxy req/s | Sluice/nginx p99 | Sluice/haproxy p99 | Sluice/nginx CPU per req | Sluice/haproxy CPU per req | Sluice/nginx user CPU per req |")
    print("|---|---|---|---|---|---|---|---|")
    for c in conns:
        r = lambda k, p: med(s, "sluice", c, k) / med(s, p, c, k)
        print(f"| {c} | {r('req_s', 'nginx'):.2f} | {r('req_s', 'haproxy'):.2f} | {r('p99_ms', 'nginx'):.2f} | "
              f"{r('p99_ms', 'haproxy'):.2f} | {r('cpu_us_per_req', 'nginx'):.2f} | {r('cpu_us_per_req', 'haproxy'):.2f} | "
              f"{r('user_us_per_req', 'nginx'):.2f} |")
    if vals(s, "sluice-baseline", conns[0], "req_s"):
        print()
        print("| conns | Sluice/baseline req/s | Sluice/baseline p99 | Sluice/baseline CPU per req |")
        print("|---|---|---|---|")
        for c in conns:
            b = lambda k: med(s, "sluice", c, k) / med(s, "sluice-baseline", c, k)
            print(f"| {c} | {b('req_s'):.2f} | {b('p99_ms'):.2f} | {b('cpu_us_per_req'):.2f} |")
    print()
if rate_rows:
    def rmed(t, k, of=statistics.median):
        v = [float(r[k]) for r in rate_rows if r["target"] == t and r[k]]
        return of(v) if v else float("nan")
    print(f"### fixed rate ({rate_rows[0]['rate']} req/s, 64 connections, latency from the intended send time)")
    print()
    print("| target | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | generator's lag, max ms | warm-up drain, max ms | proxy CPU µs/req | errors |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for t in present:
        if not any(r["target"] == t for r in rate_rows):
            continue
        errs = sum(int(r["errors"] or 0) for r in rate_rows if r["target"] == t)
        print(f"| {t} | {rmed(t, 'p50_ms'):.3f} | {rmed(t, 'p90_ms'):.3f} | {rmed(t, 'p99_ms'):.3f} | {rmed(t, 'p999_ms'):.3f} | "
              f"{rmed(t, 'max_ms'):.3f} | {rmed(t, 'lag_max_ms'):.3f} | {rmed(t, 'drain_ms', max):.1f} | "
              f"{rmed(t, 'cpu_us_per_req'):.1f} | {errs} |")
    print()
    ratio = lambda k: rmed("sluice", k) / rmed("nginx", k) if rmed("nginx", k) > 0 else float("nan")
    print(f"Sluice/nginx at fixed rate: p99 {ratio('p99_ms'):.2f}, p99.9 {ratio('p999_ms'):.2f}, "
          f"CPU per request {ratio('cpu_us_per_req'):.2f}")
    print()
print("(req/s: higher is better; p99 and CPU per request: lower is better. backend-cpu1's CPU figure is")
print(" the backend shared with wrk, shown in parentheses for reference.)")
PY
} | tee "$OUT/summary.md"
log "raw results: $RESULTS"
