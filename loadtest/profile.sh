#!/usr/bin/env bash
# Where one Sluice's CPU goes under small GETs: the bench layout (Sluice on CPU 0 with one event loop,
# Serial GC and a fixed 512 MiB heap; the four backends and wrk on CPU 1), a warm-up, then one measured
# window with the collector's log on and, if ASYNC_PROFILER is set, async-profiler's cpu mode attached
# for exactly that window (jcmd JVMTI.agent_load, so the warm-up is not in the profile).
#
#   mvn -q -DskipTests package
#   CONNS=16 ASYNC_PROFILER=/path/to/libasyncProfiler.so loadtest/profile.sh
#
# Prints req/s; the process's CPU per request (user, system, from /proc); young collections in the
# window (count, total and longest pause, their share of the process's CPU, bytes reclaimed per
# request); and with a profile, the event loop's CPU per request split into kernel frames and the rest
# (Java, JIT-compiled Netty, the JVM), plus the heaviest self-time frames outside the kernel.
# Knobs: CONNS (wrk connections, 16), WARMUP (s, 20), DUR (s, 15), JAR (sluice.jar to run),
# SLUICE_ARGS (extra Sluice flags, e.g. "--transport epoll"), OUT (raw files; default a new
# /tmp/sluice-profile.* directory: gc.log, wrk output, cpu.collapsed). Stops what it started.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
JAR=${JAR:-$ROOT/controller/target/sluice.jar}
CLASSES=$ROOT/loadtest/target/classes
CONNS=${CONNS:-16}; WARMUP=${WARMUP:-20}; DUR=${DUR:-15}
OUT=${OUT:-$(mktemp -d /tmp/sluice-profile.XXXXXX)}; mkdir -p "$OUT"
PORT=18013
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null; wait 2>/dev/null' EXIT
for port in $PORT 18080; do # a previous run may still be stopping
    for _ in $(seq 1 60); do ss -ltn | grep -q ":$port " || break; sleep 0.5; done
done
taskset -c 1 java -Xms256m -Xmx256m -XX:+UseSerialGC -XX:+AlwaysPreTouch -Dio.netty.leakDetection.level=disabled \
    -cp "$JAR:$CLASSES" dev.sluice.loadtest.BenchBackend 18080 127.0.0.11 127.0.0.12 127.0.0.13 127.0.0.14 \
    >"$OUT/backend.log" 2>&1 &
PIDS+=($!)
taskset -c 0 java -Xms512m -Xmx512m -XX:+AlwaysPreTouch -XX:+UseSerialGC "-Xlog:gc:file=$OUT/gc.log:uptime" \
    -jar "$JAR" --manifests "$ROOT/loadtest/manifests" --event-loops 1 --access-log off --http-port $PORT \
    --https-port 0 --healthz-port 0 ${SLUICE_ARGS:-} >"$OUT/sluice.log" 2>&1 &
PIDS+=($!); S=$!
for _ in $(seq 1 150); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' -H 'Host: bench.example.com' "http://127.0.0.1:$PORT/") == 200 ]] && break
    sleep 0.2
done
load() { taskset -c 1 wrk -t1 -c"$CONNS" -d"$1"s -H 'Host: bench.example.com' "http://127.0.0.1:$PORT/"; }
load "$WARMUP" >"$OUT/wrk-warmup.txt"
agent() { jcmd "$S" JVMTI.agent_load "$ASYNC_PROFILER" "\"$1\"" >>"$OUT/jcmd.log"; } # quoted: jcmd splits at '='
[[ -n ${ASYNC_PROFILER:-} ]] && agent "start,event=cpu,interval=200us,threads"
gc0=$(wc -l <"$OUT/gc.log"); cpu0=$(awk '{print $14, $15}' "/proc/$S/stat")
load "$DUR" >"$OUT/wrk.txt"
cpu1=$(awk '{print $14, $15}' "/proc/$S/stat"); tail -n +$((gc0 + 1)) "$OUT/gc.log" >"$OUT/gc-measured.log"
[[ -n ${ASYNC_PROFILER:-} ]] && agent "stop,collapsed,file=$OUT/cpu.collapsed"
python3 - "$OUT" "$cpu0" "$cpu1" "$CONNS" <<'PY'
import collections, os, re, sys
out, c0, c1, conns = sys.argv[1:]
wrk = open(f'{out}/wrk.txt').read()
reqs = int(re.search(r'(\d+) requests in ([\d.]+)s', wrk).group(1))
secs = float(re.search(r'requests in ([\d.]+)s', wrk).group(1))
hz = os.sysconf('SC_CLK_TCK')
(u0, s0), (u1, s1) = map(int, c0.split()), map(int, c1.split())
user, sys_ = (u1 - u0) / hz, (s1 - s0) / hz
print(f'{conns} connections: {reqs / secs:.0f} req/s; CPU {1e6 * (user + sys_) / reqs:.1f} us/request '
      f'(user {1e6 * user / reqs:.1f}, system {1e6 * sys_ / reqs:.1f})')
pauses, freed = [], 0
for line in open(f'{out}/gc-measured.log'):
    m = re.search(r'Pause Young.* (\d+)M->(\d+)M\(\d+M\) ([\d.]+)ms', line)
    if m:
        freed += (int(m.group(1)) - int(m.group(2))) << 20
        pauses.append(float(m.group(3)))
if pauses:
    print(f'young collections: {len(pauses)}, {sum(pauses):.1f} ms in all (longest {max(pauses):.2f} ms) = '
          f'{100 * sum(pauses) / 1000 / (user + sys_):.2f} % of the CPU time; {freed / reqs:.0f} B reclaimed per request')
else:
    print('young collections: none in the window')
prof = f'{out}/cpu.collapsed'
if os.path.exists(prof):
    kernel = other = 0; self_time = collections.Counter()
    for line in open(prof):
        stack, n = line.rstrip().rsplit(' ', 1); frames = stack.split(';')
        if not frames[0].startswith('[sluice-loop'):
            continue
        n = int(n)
        if any(f.endswith('_[k]') for f in frames):
            kernel += n
        else:
            other += n; self_time[frames[-1]] += n
    per = lambda n: n * 200 / reqs  # 200 us samples -> us per request
    print(f'event loop (profile): {per(kernel + other):.2f} us/request = kernel {per(kernel):.2f} + '
          f'Java, Netty and JVM {per(other):.2f}')
    for frame, n in self_time.most_common(12):
        print(f'  {per(n):.3f} us  {frame}')
PY
echo "raw files: $OUT"
