#!/usr/bin/env bash
# usage: prof-h2.sh JAR TAG [SCEN=h2|h1tls] ; profiles cpu then alloc under load
set -euo pipefail
JAR=$1; TAG=$2; SCEN=${3:-h2}
ROOT=/work/wt/h2perf
OUT=/tmp/prof-$TAG; mkdir -p $OUT
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill $p 2>/dev/null || true; done' EXIT
taskset -c 1 java -Xms256m -Xmx256m -XX:+UseSerialGC -cp "$JAR:$ROOT/loadtest/target/classes" dev.sluice.loadtest.BenchBackend 18080 127.0.0.11 127.0.0.12 127.0.0.13 127.0.0.14 >$OUT/backend.log 2>&1 &
PIDS+=($!)
taskset -c 0 java -Xms512m -Xmx512m -XX:+AlwaysPreTouch -XX:+UseSerialGC -jar $JAR --manifests $ROOT/loadtest/manifests --event-loops 1 --access-log off --http-port 0 --https-port 18447 --healthz-port 0 >$OUT/sluice.out 2>&1 &
PIDS+=($!); SP=$!
for _ in $(seq 100); do curl -sk -o /dev/null https://127.0.0.1:18447/ -H 'Host: bench.example.com' && break; sleep 0.2; done
load() {
  if [[ $SCEN == h2 ]]; then taskset -c 1 h2load -D $1 -c 16 -m 10 -H ':authority: bench.example.com' https://127.0.0.1:18447/ | grep -E 'finished|requests:'
  else taskset -c 1 wrk -t1 -c64 -d${1}s -H 'Host: bench.example.com' https://127.0.0.1:18447/ | grep -E 'Requests/sec|requests in'; fi
}
load ${WARM:-70} >/dev/null
AP=/tmp/ap-h2/linux-x64/libasyncProfiler.so
jcmd $SP JVMTI.agent_load $AP "\"start,event=cpu,interval=1ms\"" >/dev/null
load 15 | tee $OUT/load-cpu.txt
jcmd $SP JVMTI.agent_load $AP "\"stop,file=$OUT/cpu.collapsed,collapsed\"" >/dev/null
jcmd $SP JVMTI.agent_load $AP "\"start,event=alloc\"" >/dev/null
load 10 | tee $OUT/load-alloc.txt
jcmd $SP JVMTI.agent_load $AP "\"stop,file=$OUT/alloc.collapsed,collapsed\"" >/dev/null
ls -la $OUT
