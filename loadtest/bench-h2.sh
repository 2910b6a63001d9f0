#!/usr/bin/env bash
# TLS benchmark: HTTP/1.1 over TLS (wrk) and HTTP/2 over TLS (h2load), Sluice vs nginx vs haproxy,
# one core each, the load generator and the backends on the other core, side by side in one run.
#
#   mvn -q -DskipTests package        # once: sluice.jar and the loadtest classes
#   loadtest/bench-h2.sh              # ~9 min: 3 rotated rounds x {h1tls at 16 and 64 conns, h2} x 15 s
#   BASELINE_JAR=/tmp/before.jar loadtest/bench-h2.sh    # adds that build as target sluice-baseline
#
# Layout as bench.sh (see the benchmarking guide): every proxy on CPU 0 with one worker / thread /
# event loop; wrk or h2load and the four backends (BenchBackend, 128-byte bodies) on CPU 1. All
# proxies stay up; each round measures them in a rotated order (S N H B, N H B S, ...). Per run it
# records req/s, latency (wrk: p50/p99; h2load: mean), failures, the proxy's CPU time per request
# (utime+stime from /proc/PID/stat over the run / requests served), its system calls per request
# (perf's raw_syscalls:sys_enter, where perf works) and mpstat's busy % of both CPUs.
#
# Scenarios (SCENARIOS, default "h1tls h2"): h1tls = wrk over https (TLS 1.3, no ALPN: HTTP/1.1),
# keep-alive, at each of CONNS; h2 = h2load over TLS (ALPN h2), CLIENTS connections x STREAMS
# concurrent streams each, for DURATION seconds.
# Knobs: ROUNDS (3), DURATION (s per run, 15), WARMUP (s per target and scenario, 30), CONNS ("16 64"),
# CLIENTS (16), STREAMS (10), BASELINE_JAR (another sluice.jar measured in the same run, port 18445),
# HAPROXY (1; 0 leaves it out), QUIET_BUSY (max % busy per CPU before a point, else wait; 15),
# JAVA, OUT (raw results; default a new /tmp/sluice-bench-h2.* directory). On a loaded machine the JIT
# needs more: Sluice reached its HTTP/2 rate only after ~60 s of h2load at load average 8 (WARMUP=60).
# Needs nginx (http_v2), haproxy, wrk, h2load (nghttp2-client), openssl, mpstat, taskset.
# Installs and builds nothing; every process it starts is stopped by PID on exit.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
JAR=$ROOT/controller/target/sluice.jar
CLASSES=$ROOT/loadtest/target/classes
JAVA=${JAVA:-java}
ROUNDS=${ROUNDS:-3}; DURATION=${DURATION:-15}; WARMUP=${WARMUP:-30}
CONNS=${CONNS:-"16 64"}; CLIENTS=${CLIENTS:-16}; STREAMS=${STREAMS:-10}
SCENARIOS=${SCENARIOS:-"h1tls h2"}
HAPROXY=${HAPROXY:-1}
QUIET_BUSY=${QUIET_BUSY:-15}
HOST=bench.example.com
OUT=${OUT:-$(mktemp -d /tmp/sluice-bench-h2.XXXXXX)}
export PATH=$PATH:/usr/sbin
missing=()
for tool in nginx wrk h2load openssl mpstat taskset curl python3 "$JAVA"; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
((HAPROXY)) && { command -v haproxy >/dev/null 2>&1 || missing+=(haproxy); }
((${#missing[@]})) && { echo "missing: ${missing[*]} (apt-get install nginx haproxy wrk nghttp2-client sysstat)" >&2; exit 1; }
[[ -f $JAR && -d $CLASSES/dev/sluice/loadtest ]] || { echo "build first: mvn -q -DskipTests package" >&2; exit 1; }

PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM
log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }

mkdir -p "$OUT/nginx/logs" "$OUT/nginx/tmp"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=$HOST" \
    -keyout "$OUT/key.pem" -out "$OUT/cert.pem" 2>/dev/null
cat "$OUT/cert.pem" "$OUT/key.pem" >"$OUT/haproxy.pem"
sed -e "s#CERT#$OUT/cert.pem#" -e "s#KEY#$OUT/key.pem#" "$ROOT/loadtest/peers/nginx-h2.conf" >"$OUT/nginx.conf"
sed -e "s#PEM#$OUT/haproxy.pem#" "$ROOT/loadtest/peers/haproxy-tls.cfg" >"$OUT/haproxy.cfg"
log "raw results in $OUT"

taskset -c 1 "$JAVA" -Xms256m -Xmx256m -XX:+UseSerialGC -XX:+AlwaysPreTouch -Dio.netty.leakDetection.level=disabled \
    -cp "$JAR:$CLASSES" dev.sluice.loadtest.BenchBackend 18080 127.0.0.11 127.0.0.12 127.0.0.13 127.0.0.14 \
    >"$OUT/backend.log" 2>&1 &
PIDS+=($!)

# Sluice as in bench.sh (one event loop, SerialGC, fixed pre-touched heap, access log off); the
# TLS listener serves the generated default certificate (EC P-256, like the peers' certificate).
sluice_cmd() {
    echo taskset -c 0 "$JAVA" -Xms512m -Xmx512m -XX:+AlwaysPreTouch -XX:+UseSerialGC ${SLUICE_JVM_OPTS:-} -jar "$1" \
        --manifests "$ROOT/loadtest/manifests" --event-loops 1 --access-log off \
        --http-port 0 --https-port "$2" --healthz-port 0
}
SLUICE_CMD=$(sluice_cmd "$JAR" 18444)
$SLUICE_CMD >"$OUT/sluice.out" 2>&1 &
PIDS+=($!); SLUICE_PID=$!
declare -A PORT=([sluice]=18444 [nginx]=18443 [haproxy]=18446 [sluice-baseline]=18445)
declare -A PID_OF=([sluice]=$SLUICE_PID)
TARGETS=(sluice nginx)
if [[ -n ${BASELINE_JAR:-} ]]; then
    BASELINE_CMD=$(sluice_cmd "$BASELINE_JAR" 18445)
    $BASELINE_CMD >"$OUT/sluice-baseline.out" 2>&1 &
    PIDS+=($!); PID_OF[sluice-baseline]=$!
    TARGETS+=(sluice-baseline)
fi
taskset -c 0 nginx -p "$OUT/nginx/" -c "$OUT/nginx.conf" -g "pid $OUT/nginx/nginx.pid;" >"$OUT/nginx/stdout" 2>&1 &
PIDS+=($!); PID_OF[nginx]=$!
if ((HAPROXY)); then
    taskset -c 0 haproxy -db -f "$OUT/haproxy.cfg" >"$OUT/haproxy.log" 2>&1 &
    PIDS+=($!); PID_OF[haproxy]=$!
    TARGETS+=(haproxy)
fi

for t in "${TARGETS[@]}"; do
    for proto in --http1.1 --http2; do
        got=
        for _ in $(seq 300); do
            got=$(curl -sk $proto -o /dev/null -w '%{http_code} %{size_download} %{http_version}' -H "Host: $HOST" \
                "https://127.0.0.1:${PORT[$t]}/" 2>/dev/null || true)
            [[ $got == "200 128 "* ]] && break
            sleep 0.2
        done
        want="200 128 $([[ $proto == --http2 ]] && echo 2 || echo 1.1)"
        [[ $got == "$want" ]] || { echo "$t answered '$got' with $proto (want '$want'); logs in $OUT" >&2; exit 1; }
    done
done
log "all targets answer 200 with 128 bytes over HTTP/1.1 and HTTP/2 on TLS: ${TARGETS[*]}"

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)
busy() { LC_ALL=C mpstat -P 0,1 "$1" 1 | awk '/^Average:/ && ($2 == "0" || $2 == "1") { printf "%.0f ", 100 - $NF - $6 }'; }
await_quiet() {
    local b
    for _ in 1 2 3 4 5 6; do
        b=$(busy 1)
        # shellcheck disable=SC2086
        set -- $b
        if (($1 <= QUIET_BUSY && $2 <= QUIET_BUSY)); then echo "$1/$2"; return 0; fi
        log "machine busy (cpu0 $1%, cpu1 $2%) before a point; waiting"
        sleep 5
    done
    echo "$1/$2!"
}
to_ms() {
    awk -v v="$1" 'BEGIN { n = v + 0; u = v; sub(/^[0-9.]+/, "", u);
        if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000;
        printf "%.3f", n }'
}
load() { # SCENARIO TARGET CONNS SECS
    case $1 in
        h1tls) taskset -c 1 wrk -t1 -c"$3" -d"$4s" --latency -H "Host: $HOST" "https://127.0.0.1:${PORT[$2]}/" ;;
        h2) taskset -c 1 h2load -D "$4" -c "$CLIENTS" -m "$STREAMS" -H ":authority: $HOST" "https://127.0.0.1:${PORT[$2]}/" ;;
    esac
}

RESULTS=$OUT/results.tsv
printf 'round\tscenario\ttarget\tconns\treq_s\tp50_ms\tp99_ms\tmean_ms\tcpu_us_per_req\tfailed\tcpu0_busy\tcpu1_busy\tbusy_before\tsyscalls_per_req\n' >"$RESULTS"
# system calls per request (perf's raw_syscalls tracepoint on the proxy's process): unlike CPU time,
# hardly moved by other work on the machine; left empty where perf cannot trace
PERF=0
perf stat -e raw_syscalls:sys_enter -o /dev/null -- true >/dev/null 2>&1 && PERF=1
run() { # ROUND SCENARIO TARGET CONNS SECS [record]
    local round=$1 scenario=$2 target=$3 conns=$4 secs=$5 record=${6:-yes}
    local pid=${PID_OF[$target]} quiet t0 t1 out mp n rps p50= p99= mean= failed cpu
    quiet=$(await_quiet)
    busy "$secs" >"$OUT/busy.tmp" &
    mp=$!
    local perf_pid= sys= sys_per_req=
    if ((PERF)); then
        perf stat -x, -e raw_syscalls:sys_enter -p "$pid" -o "$OUT/perf.tmp" >/dev/null 2>&1 &
        perf_pid=$!
    fi
    t0=$(cpu_ticks "$pid")
    out=$(load "$scenario" "$target" "$conns" "$secs")
    t1=$(cpu_ticks "$pid")
    if [[ -n $perf_pid ]]; then
        kill -INT "$perf_pid" 2>/dev/null || true
        wait "$perf_pid" || true
        sys=$(awk -F, '/raw_syscalls/ { print $1 }' "$OUT/perf.tmp")
    fi
    wait $mp || true
    [[ $record == yes ]] || return 0
    echo "$out" >"$OUT/$scenario-$round-$target-$conns.txt"
    if [[ $scenario == h2 ]]; then
        n=$(awk '/^requests:/ { print $8 }' <<<"$out")
        failed=$(awk '/^requests:/ { print $10 + $12 + $14 }' <<<"$out")
        rps=$(awk '/^finished in/ { gsub(",", ""); printf "%.0f", $4 }' <<<"$out")
        mean=$(to_ms "$(awk '/^time for request:/ { print $6 }' <<<"$out")")
    else
        n=$(awk '/requests in/ { print $1 }' <<<"$out")
        rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<<"$out")
        p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' <<<"$out")")
        p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' <<<"$out")")
        failed=$(awk '/Socket errors:/ { gsub(",", ""); s = $4 + $6 + $8 + $10 } /Non-2xx/ { s += $5 } END { print s + 0 }' <<<"$out")
    fi
    cpu=$(awk -v d=$((t1 - t0)) -v hz="$HZ" -v n="$n" 'BEGIN { printf "%.1f", (n > 0 ? d * 1e6 / hz / n : 0) }')
    [[ -n $sys ]] && sys_per_req=$(awk -v s="$sys" -v n="$n" 'BEGIN { printf "%.2f", (n > 0 ? s / n : 0) }')
    # shellcheck disable=SC2046
    set -- $(cat "$OUT/busy.tmp")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$scenario" "$target" "$conns" "$rps" \
        "$p50" "$p99" "$mean" "$cpu" "$failed" "${1:-?}" "${2:-?}" "$quiet" "$sys_per_req" >>"$RESULTS"
    log "round $round $scenario $target c=$conns: $rps req/s, $cpu us CPU/req, ${sys_per_req:-?} syscalls/req, p50 ${p50:-–} p99 ${p99:-–} mean ${mean:-–} ms, failed $failed, cpu0 ${1:-?}% cpu1 ${2:-?}% (before $quiet)"
}

has() { [[ " $SCENARIOS " == *" $1 "* ]]; }
log "warm-up: $WARMUP s per target and scenario"
for t in "${TARGETS[@]}"; do
    has h1tls && run 0 h1tls "$t" 64 "$WARMUP" no
    has h2 && run 0 h2 "$t" "$CLIENTS" "$WARMUP" no
done
for round in $(seq "$ROUNDS"); do
    k=$(((round - 1) % ${#TARGETS[@]}))
    order=("${TARGETS[@]:k}" "${TARGETS[@]:0:k}")
    if has h1tls; then
        for conns in $CONNS; do
            for t in "${order[@]}"; do run "$round" h1tls "$t" "$conns" "$DURATION"; done
        done
    fi
    if has h2; then
        for t in "${order[@]}"; do run "$round" h2 "$t" "$CLIENTS" "$DURATION"; done
    fi
done

{
    echo
    echo "Machine: $(nproc) CPUs, $(LC_ALL=C lscpu | awk -F': *' '/^Model name/ { print $2 }'), $(uname -r); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "Versions: $(nginx -v 2>&1);$( ((HAPROXY)) && echo " $(haproxy -v 2>&1 | head -1);") $(h2load --version | head -1); $("$JAVA" -version 2>&1 | head -1);" \
        "Sluice $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD 2>/dev/null || echo ' (modified)')"
    echo "Command: ${0##*/} with ROUNDS=$ROUNDS DURATION=$DURATION WARMUP=$WARMUP CONNS=\"$CONNS\" CLIENTS=$CLIENTS STREAMS=$STREAMS SCENARIOS=\"$SCENARIOS\" BASELINE_JAR=${BASELINE_JAR:-}"
    echo "Sluice: $SLUICE_CMD"
    [[ -n ${BASELINE_CMD:-} ]] && echo "Baseline: $BASELINE_CMD"
    echo
    echo "## Results ($(date -u +%FT%TZ), $ROUNDS rounds x $DURATION s, warm-up $WARMUP s per target and scenario)"
    echo
    python3 - "$RESULTS" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
def vals(s, t, c, k):
    return [float(r[k]) for r in rows if r["scenario"] == s and r["target"] == t and r["conns"] == c and r[k] not in ("", "?")]
def med(s, t, c, k):
    v = vals(s, t, c, k)
    return statistics.median(v) if v else float("nan")
def rng(s, t, c, k, f="{:.0f}"):
    v = vals(s, t, c, k)
    return (f + "–" + f).format(min(v), max(v)) if v else "?"
TARGETS = ["sluice", "sluice-baseline", "nginx", "haproxy"]
present = [t for t in TARGETS if any(r["target"] == t for r in rows)]
for s, title in (("h1tls", "HTTP/1.1 over TLS (wrk, keep-alive)"), ("h2", "HTTP/2 over TLS (h2load)")):
    conns = sorted({r["conns"] for r in rows if r["scenario"] == s}, key=int)
    if not conns:
        continue
    print(f"### {title}")
    print()
    lat = "p50 / p99 ms" if s == "h1tls" else "mean ms"
    print(f"| target | conns | req/s (median) | req/s range | {lat} | proxy CPU µs/req (median) | CPU µs/req range | syscalls/req | CPU0 / CPU1 busy % | failed |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for c in conns:
        for t in present:
            if not vals(s, t, c, "req_s"):
                continue
            failed = sum(int(float(r["failed"] or 0)) for r in rows if r["scenario"] == s and r["target"] == t and r["conns"] == c)
            l = f"{med(s, t, c, 'p50_ms'):.2f} / {med(s, t, c, 'p99_ms'):.2f}" if s == "h1tls" else f"{med(s, t, c, 'mean_ms'):.2f}"
            print(f"| {t} | {c} | {med(s, t, c, 'req_s'):.0f} | {rng(s, t, c, 'req_s')} | {l} | "
                  f"{med(s, t, c, 'cpu_us_per_req'):.1f} | {rng(s, t, c, 'cpu_us_per_req', '{:.1f}')} | "
                  f"{med(s, t, c, 'syscalls_per_req'):.2f} | "
                  f"{med(s, t, c, 'cpu0_busy'):.0f} / {med(s, t, c, 'cpu1_busy'):.0f} | {failed} |")
    print()
    others = [t for t in present if t != "sluice"]
    print("| conns | " + " | ".join(f"Sluice/{t} req/s | Sluice/{t} CPU per req" for t in others) + " |")
    print("|---|" + "---|---|" * len(others))
    for c in conns:
        cells = []
        for t in others:
            cells.append(f"{med(s, 'sluice', c, 'req_s') / med(s, t, c, 'req_s'):.2f}")
            cells.append(f"{med(s, 'sluice', c, 'cpu_us_per_req') / med(s, t, c, 'cpu_us_per_req'):.2f}")
        print(f"| {c} | " + " | ".join(cells) + " |")
    print()
print("(req/s: higher is better; latency and CPU per request: lower is better. conns for h2 = h2load clients,")
print(" each with the STREAMS concurrent streams given in the command.)")
PY
} | tee "$OUT/summary.md"
log "raw results: $RESULTS"
