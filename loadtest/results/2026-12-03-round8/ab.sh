#!/usr/bin/env bash
# Paired A/B: two Sluice processes on CPU 0 under two simultaneous wrk loads; CPU per request of each over the same windows.
# env: A_JAR B_JAR A_EXTRA B_EXTRA C(conns each) WINDOWS DUR
set -u

ROOT=/work/main; CLASSES=$ROOT/loadtest/target/classes
C=${C:-32}; WINDOWS=${WINDOWS:-5}; DUR=${DUR:-10}
taskset -c 1 java -Xms256m -Xmx256m -XX:+UseSerialGC -Dio.netty.leakDetection.level=disabled -cp "$A_JAR:$CLASSES" dev.sluice.loadtest.BenchBackend 18080 127.0.0.11 127.0.0.12 127.0.0.13 127.0.0.14 >/tmp/p8/backend.log 2>&1 &
BP=$!
start() { # jar port extra
  taskset -c 0 java -Xms512m -Xmx512m -XX:+AlwaysPreTouch -XX:+UseSerialGC $3 -jar "$1" --manifests $ROOT/loadtest/manifests --event-loops 1 --access-log off --http-port $2 --https-port 0 --healthz-port 0 >/tmp/p8/sluice-$2.out 2>&1 &
  echo $!
}
AP=$(start "$A_JAR" 18003 "${A_EXTRA:-}"); BPID=$(start "$B_JAR" 18005 "${B_EXTRA:-}")
for port in 18003 18005; do for i in $(seq 1 150); do
  [[ $(curl -s -o /dev/null -w '%{http_code}' -H 'Host: bench.example.com' http://127.0.0.1:$port/) == 200 ]] && break; sleep 0.2; done; done
kill -0 $AP && kill -0 $BPID || { echo died; exit 1; }
load() { taskset -c 1 wrk -t1 -c$C -d${1}s -H 'Host: bench.example.com' http://127.0.0.1:$2/; }
load 15 18003 >/dev/null & lp=$!; load 15 18005 >/dev/null; wait $lp
cpu() { awk '{print $14, $15}' /proc/$1/stat; }
for w in $(seq 1 $WINDOWS); do
  a0=$(cpu $AP); b0=$(cpu $BPID)
  load $DUR 18003 >/tmp/p8/wa & lp=$!; load $DUR 18005 >/tmp/p8/wb; wait $lp; sleep 0.2
  a1=$(cpu $AP); b1=$(cpu $BPID)
  ra=$(awk '/requests in/{print $1}' /tmp/p8/wa); rb=$(awk '/requests in/{print $1}' /tmp/p8/wb)
  python3 -c "
import os;hz=os.sysconf('SC_CLK_TCK')
a0=list(map(int,'$a0'.split()));a1=list(map(int,'$a1'.split()));b0=list(map(int,'$b0'.split()));b1=list(map(int,'$b1'.split()))
ra=$ra;rb=$rb
ua=(a1[0]-a0[0])/hz*1e6/ra; sa=(a1[1]-a0[1])/hz*1e6/ra; ub=(b1[0]-b0[0])/hz*1e6/rb; sb=(b1[1]-b0[1])/hz*1e6/rb
print('w$w A %6.0f req/s %5.2f us/req (u %5.2f s %5.2f) | B %6.0f req/s %5.2f us/req (u %5.2f s %5.2f) | B/A cpu %.3f user %.3f' % (ra/$DUR, ua+sa, ua, sa, rb/$DUR, ub+sb, ub, sb, (ub+sb)/(ua+sa), ub/ua))
"
done
kill -TERM $AP $BPID; wait $AP $BPID 2>/dev/null; kill $BP; wait $BP 2>/dev/null
