#!/usr/bin/env bash
# Start-up time of Sluice in manifest mode: process start -> first 200 on /readyz.
#
#   mvn -q -o package -pl controller -am -DskipTests   # once: builds controller/target/sluice.jar
#   loadtest/startup.sh                                # 7 runs, prints each and median/min/max
#   RUNS=11 JAVA_OPTS='-XX:SharedArchiveFile=/tmp/sluice.jsa' loadtest/startup.sh
#   CASES='before /tmp/old.jar
#   after controller/target/sluice.jar -XX:+UseSerialGC' loadtest/startup.sh   # A/B, runs interleaved
#
# Each run starts `java $JAVA_OPTS -jar sluice.jar --manifests $MANIFESTS` on free ports, polls
# http://127.0.0.1:<admin port>/readyz every 5 ms with one small request on a fresh connection
# (a Python loop, not a curl per poll, so the poller costs little of the 2 cores), and at the first
# 200 reads the process's CPU time (utime+stime of all its threads from /proc/PID/stat), then
# kills it (SIGKILL, by PID). Reported per run: wall time to ready and CPU time to ready. CPU time
# is less sensitive to other load on the machine than wall time; say which machine state you
# measured on (load average is printed).
# With CASES (one per line: label, jar, JVM flags) the cases take turns run by run, so a change of
# load on the machine hits all of them alike; a summary per case follows.
# Knobs (environment): RUNS (default 7, per case), JAVA (java binary), JAVA_OPTS (JVM flags), JAR,
# MANIFESTS (default deploy/examples), ARGS (extra Sluice flags), TIMEOUT (s per run, default 60),
# LOGDIR (each run's output; default a new /tmp/sluice-startup.*).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
JAR=${JAR:-$ROOT/controller/target/sluice.jar}
JAVA=${JAVA:-java}
RUNS=${RUNS:-7}
MANIFESTS=${MANIFESTS:-$ROOT/deploy/examples}
TIMEOUT=${TIMEOUT:-60}
LOGDIR=${LOGDIR:-$(mktemp -d /tmp/sluice-startup.XXXXXX)}

[[ -f $JAR ]] || { echo "no $JAR: build it with mvn -q -o package -pl controller -am -DskipTests" >&2; exit 1; }

echo "jvm:     $("$JAVA" -version 2>&1 | sed -n 2p)"
CASES=${CASES:-"run $JAR ${JAVA_OPTS:-}"}
while read -r label jar opts; do
    [[ -n $label ]] || continue
    [[ -f $jar ]] || { echo "no $jar" >&2; exit 1; }
    echo "$label: $JAVA $opts -jar $jar --manifests $MANIFESTS ${ARGS:-} --http-port P --https-port P --healthz-port P"
done <<< "$CASES"
echo "machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg); logs in $LOGDIR"

exec python3 - "$JAVA" "$CASES" "$MANIFESTS" "${ARGS:-}" "$RUNS" "$TIMEOUT" "$LOGDIR" <<'EOF'
import os, shlex, signal, socket, statistics, subprocess, sys, time

java, cases_text, manifests, args, runs, timeout, logdir = sys.argv[1:]
runs, timeout = int(runs), float(timeout)
tick = os.sysconf("SC_CLK_TCK")
cases = []
for line in cases_text.splitlines():
    parts = line.split(None, 2)
    if parts:
        cases.append((parts[0], parts[1], shlex.split(parts[2]) if len(parts) > 2 else []))

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

def ready(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            return s.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False

def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / tick   # utime, stime (fields 14, 15)

def start_once(label, jar, opts, i):
    http, https, admin = free_port(), free_port(), free_port()
    cmd = [java, *opts, "-jar", jar, "--manifests", manifests, *shlex.split(args),
           "--http-port", str(http), "--https-port", str(https), "--healthz-port", str(admin)]
    with open(os.path.join(logdir, f"{label}-{i}.log"), "w") as log:
        t0 = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        try:
            while True:
                if ready(admin):
                    return time.monotonic() - t0, cpu_seconds(proc.pid)
                if proc.poll() is not None:
                    sys.exit(f"{label} run {i}: exited with {proc.returncode} before ready; see {log.name}")
                if time.monotonic() - t0 > timeout:
                    sys.exit(f"{label} run {i}: not ready after {timeout} s; see {log.name}")
                time.sleep(0.005)
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
            proc.wait()

results = {label: ([], []) for label, _, _ in cases}
for i in range(1, runs + 1):
    for label, jar, opts in cases:
        wall, cpu = start_once(label, jar, opts, i)
        results[label][0].append(wall)
        results[label][1].append(cpu)
        print(f"{label} run {i}: ready after {wall:.3f} s, cpu (user+sys) {cpu:.2f} s", flush=True)
        time.sleep(0.5)   # let the killed JVM's memory go before the next start

def summary(xs):
    return f"median {statistics.median(xs):.3f} s (min {min(xs):.3f}, max {max(xs):.3f})"
print(f"load average at the end: {open('/proc/loadavg').read().split()[:3]}")
for label, (walls, cpus) in results.items():
    print(f"{label}: wall to ready {summary(walls)}; cpu to ready {summary(cpus)}")
EOF
