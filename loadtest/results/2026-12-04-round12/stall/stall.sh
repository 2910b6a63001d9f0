#!/bin/bash
# repeated fixed-rate runs against one Sluice, idle gaps between, mpstat per second recorded
cd /work/main
OUT=${OUT:-/tmp/r12/stall}; rm -rf $OUT; mkdir -p $OUT
JAR=controller/target/sluice.jar; CLASSES=loadtest/target/classes
taskset -c 1 java -Xms256m -Xmx256m -XX:+UseSerialGC -XX:+AlwaysPreTouch -Dio.netty.leakDetection.level=disabled \
  -cp "$JAR:$CLASSES" dev.sluice.loadtest.BenchBackend 18080 127.0.0.11 127.0.0.12 127.0.0.13 127.0.0.14 >$OUT/backend.log 2>&1 &
B=$!
taskset -c 0 java -Xms512m -Xmx512m -XX:+AlwaysPreTouch -XX:+UseSerialGC -Xlog:gc,safepoint:file=$OUT/jvm.log:time,uptime \
  -jar $JAR --manifests loadtest/manifests --event-loops 1 --access-log off --http-port 18003 --https-port 0 --healthz-port 0 >$OUT/sluice.out 2>&1 &
S=$!
mpstat -P ALL 1 > $OUT/mpstat.txt &
M=$!
trap "kill $B $S $M 2>/dev/null" EXIT
for i in $(seq 100); do curl -s -o /dev/null -H 'Host: bench.example.com' http://127.0.0.1:18003/ && break; sleep 0.2; done
taskset -c 1 wrk -t1 -c64 -d15s -H 'Host: bench.example.com' http://127.0.0.1:18003/ > /dev/null
for r in $(seq 1 ${RUNS:-8}); do
  sleep ${GAP:-40}
  echo "$(date +%T) run $r start" >> $OUT/runs.txt
  taskset -c 1 java -Xms128m -Xmx128m -XX:+UseSerialGC -Xlog:gc:file=$OUT/load-$r-gc.log:time -cp "$JAR:$CLASSES" dev.sluice.loadtest.FixedRateLoad \
      http://127.0.0.1:18003/ bench.example.com 18000 15 64 5 >> $OUT/runs.txt
done
